// Contact requests on the Rooms page: who asked whom to open talks, and through whom (the
// record's first question), and the form to ask. Loaded after app.js, whose window.backchannel
// it uses, and to which it adds contactsSection and renderContacts.
"use strict";

(() => {
  const { t, el, api, refusal, fail, refresh, partyName, times, NAMES } = window.backchannel;

  function contactsSection(talks, key) {
    const base = "c-" + key.replace(/[^A-Za-z0-9_-]/g, "_");
    const mine = talks.party;
    const to = el("select", { id: base + "-to", name: "to" });
    for (const p of talks.parties) {
      if (p.id !== mine && p.role !== "mediator") to.append(el("option", { value: p.id, text: p.name }));
    }
    const via = el("select", { id: base + "-via", name: "via" }, el("option", { value: "", text: t("Directly") }));
    for (const p of talks.parties) {
      if (p.id !== mine && p.role === "mediator") via.append(el("option", { value: p.id, text: t("Through {party}", { party: p.name }) }));
    }
    const text = el("textarea", { id: base + "-text", name: "text", rows: 2, dir: "auto" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit", text: t("Ask for talks") });
    const form = el(
      "form",
      { class: "contact-form", novalidate: true },
      el("div", { class: "inline" }, el("label", { for: to.id, text: t("Ask") }), to, el("label", { for: via.id, text: t("How") }), via),
      el("label", { for: text.id, text: t("What the request says") }),
      text,
      error,
      el("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      if (!to.value) return fail(error, t("Choose the party to ask."));
      submit.disabled = true;
      try {
        await api("/api/contact", { talks: talks.alias, to: to.value, via: via.value, text: text.value });
        text.value = "";
        await refresh();
      } catch (problem) {
        fail(error, refusal(problem)); // the typed request stays
      } finally {
        submit.disabled = false;
      }
    });
    const headingId = base + "-heading";
    return el(
      "section",
      { class: "contacts", "aria-labelledby": headingId },
      el("h3", { id: headingId, text: t("Contact requests") }),
      el("ol", { class: "requests" }),
      to.options.length ? form : null,
    );
  }

  function renderContacts(section, talks) {
    const list = section.querySelector("section.contacts ol.requests");
    const items = talks.contacts.map((c) =>
      el(
        "li",
        { class: "contact", "data-request": c.id },
        el(
          "p",
          { class: "meta" },
          el("span", {
            class: "author",
            text: c.via
              ? t("{who} of {party} asked {to} through {via}", { who: c.member ? NAMES.nameOf(talks.members, c.member) : t("the root authority"), party: partyName(talks, c.party), to: partyName(talks, c.to), via: partyName(talks, c.via) })
              : t("{who} of {party} asked {to} directly", { who: c.member ? NAMES.nameOf(talks.members, c.member) : t("the root authority"), party: partyName(talks, c.party), to: partyName(talks, c.to) }),
          }),
          ...times(c),
        ),
        c.text ? el("p", { class: "text", dir: "auto", text: c.text }) : null,
      ),
    );
    if (items.length === 0) items.push(el("li", { class: "empty", text: t("No contact requests yet.") }));
    list.replaceChildren(...items);
  }

  window.backchannel.contactsSection = contactsSection;
  window.backchannel.renderContacts = renderContacts;
})();
