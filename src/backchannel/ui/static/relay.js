// The relay editor (the mediator's): carry a message into another room, word for word or as a
// gist in the mediator's own words, as its carry label allows; the app checks it again. Loaded
// after app.js, whose window.backchannel it uses, and to which it adds openRelay.
"use strict";

(() => {
  const { t, el, api, refusal, fail, refresh, roomTitle, cautioned, banner, editor } = window.backchannel;

  const relay = {
    form: document.getElementById("relay-form"),
    source: document.getElementById("relay-source"),
    words: document.getElementById("relay-words"),
    text: document.getElementById("relay-text"),
    room: document.getElementById("relay-room"),
    error: document.getElementById("relay-error"),
    submit: document.getElementById("relay-submit"),
    pending: null,
  };

  function openRelay(talks, room, m, mode) {
    const gist = mode === "gist";
    relay.pending = { talks: talks.alias, source: m.id, mode };
    document.getElementById("relay-editor-heading").textContent = gist ? t("Carry a gist in your own words") : t("Carry it word for word");
    document.getElementById("relay-source-caption").textContent = gist
      ? t("What {author} said: it stays in this room", { author: m.author })
      : t("What will be carried, with its author's name", { author: m.author });
    relay.source.textContent = m.text;
    relay.source.lang = m.lang || "";
    relay.words.hidden = !gist;
    relay.text.value = ""; // a gist starts empty: the mediator writes it, never edits the original
    document.getElementById("relay-text-label").textContent = t("Your words");
    document.getElementById("relay-room-label").textContent = t("Carry into");
    const targets = talks.rooms.filter((r) => r.id !== room.id);
    relay.room.replaceChildren();
    if (targets.length !== 1) relay.room.append(el("option", { value: "", disabled: true, selected: true, text: t("Choose a room") }));
    for (const r of targets) relay.room.append(el("option", { value: r.id, text: roomTitle(talks, r) }));
    relay.submit.textContent = gist ? t("Carry the gist") : t("Carry it word for word");
    document.getElementById("relay-cancel").textContent = t("Cancel");
    relay.error.hidden = true;
    editor.hidden = false;
    editor.dataset.source = m.id;
    editor.dataset.mode = mode;
    (gist ? relay.text : relay.room).focus();
    editor.scrollIntoView({ block: "nearest" });
  }

  function closeRelay() {
    editor.hidden = true;
    relay.pending = null;
    relay.text.value = "";
  }

  relay.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const pending = relay.pending;
    if (!pending) return;
    relay.error.hidden = true;
    if (!relay.room.value) return fail(relay.error, t("Choose a room"));
    if (pending.mode === "gist" && !relay.text.value.trim()) return fail(relay.error, t("A gist needs your own words, not the original."));
    relay.submit.disabled = true;
    try {
      const carried = await api("/api/relay", { ...pending, room: relay.room.value, text: pending.mode === "gist" ? relay.text.value : "" });
      closeRelay();
      await refresh();
      cautioned(banner, carried); // until the next change re-renders the page
    } catch (problem) {
      fail(relay.error, refusal(problem)); // the words stay in the editor
    } finally {
      relay.submit.disabled = false;
    }
  });
  document.getElementById("relay-cancel").addEventListener("click", closeRelay);


  window.backchannel.openRelay = openRelay;
})();
