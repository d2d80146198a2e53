// Backchannel's page: renders /api/state, sends and relays through /api/send and /api/relay,
// and re-reads the state whenever /api/events says something changed. No framework, no build
// step, nothing from the internet. Every text the page writes itself goes through t(), whose
// catalogue the server embedded in the page; message text is only ever set with textContent.
// The access token arrives once in the address; it is kept in this tab's sessionStorage (which
// no other origin can read), taken out of the address bar, and sent only as a header: no cookie
// carries it, so nothing another site on this machine is sent grants anything (docs/ui.md).
"use strict";

(() => {
  const TOKEN_KEY = "backchannel-token";
  const TOKEN = (() => {
    const url = new URL(window.location.href);
    const given = url.searchParams.get("token");
    if (given) {
      window.sessionStorage.setItem(TOKEN_KEY, given);
      url.searchParams.delete("token");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    return window.sessionStorage.getItem(TOKEN_KEY) || "";
  })();

  /** fetch() on the app's own API with the token in its header; never with cookies. */
  function request(path, init) {
    const headers = { ...((init && init.headers) || {}), authorization: "Bearer " + TOKEN };
    return fetch(path, { cache: "no-store", ...(init || {}), credentials: "omit", headers });
  }

  const STRINGS = JSON.parse(document.getElementById("strings").textContent);
  const LANGUAGES = JSON.parse(document.getElementById("languages").textContent);
  const LANG = document.documentElement.lang || "en";
  const NAMES = window.backchannelNames;

  /** The translation of an English sentence, with {name} placeholders filled in. */
  function t(text, vars) {
    let out = STRINGS[text] || text;
    for (const [name, value] of Object.entries(vars || {})) {
      out = out.split("{" + name + "}").join(String(value));
    }
    return out;
  }

  const LABELS = {
    "mediator-only": "Mediator only",
    "carry-gist": "Carry as a gist",
    "carry-verbatim": "Carry word for word",
  };
  const LABEL_HINTS = {
    "mediator-only": "The mediator may not repeat it to anyone.",
    "carry-gist": "The mediator may carry it in its own words only.",
    "carry-verbatim": "The mediator may carry it word for word or as a gist.",
  };
  const ROOM_KINDS = {
    caucus: "Caucus of {party} with the mediator",
    delegation: "Delegation room of {party}",
    plenary: "Plenary",
  };
  // The engine's refusals, by stable code, in words the catalogue translates.
  const ERRORS = {
    "relay.label_forbids": "The message's carry label forbids this relay.",
    "relay.gist_needs_text": "A gist needs your own words, not the original.",
    "relay.same_room": "A relay carries a message into another room.",
    "relay.not_mediator": "Only the mediator's delegation carries messages.",
    "send.label_forbids": "This carry label is not allowed in this room.",
    "room.not_member": "You are not in this room.",
    "entity.unknown": "This room or message does not exist on this device.",
    "mandate.insufficient": "Your mandate does not allow this.",
    "form.invalid": "Something is missing: check the form.",
    "client.host_unreachable": "The host cannot be reached. Nothing was sent; try again.",
    "network": "The app does not answer. Nothing was sent; try again.",
  };
  // What an allowed act will not do, by the caution's stable code (client/cautions.py).
  const CAUTIONS = {
    "send.no_mediator_in_room": "No mediator is in this room yet: the mediator will never read this message.",
    "relay.no_party_member": "No member of this room's party is in it now: nobody of that party will read this relay.",
  };
  const DRAFTS = window.sessionStorage;
  const dateFormat = new Intl.DateTimeFormat(LANG, { dateStyle: "medium", timeStyle: "short" });

  const main = document.getElementById("page-rooms");
  const banner = document.getElementById("banner");
  const editor = document.getElementById("relay-editor");
  const status = { connectionLost: false, hostDown: false };
  let current = null;

  /** A new element: attributes (text → textContent, on* → listeners) and children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // --- talking to the local app ---------------------------------------------------------------

  async function api(path, body) {
    const init = { headers: { accept: "application/json" } };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await request(path, init);
    } catch (_) {
      status.connectionLost = true;
      showBanner();
      reconnect();
      throw { code: "network", detail: "" };
    }
    const data = await response.json().catch(() => ({}));
    if (response.status === 403 && data.code === "ui.token_missing") noToken();
    if (!response.ok) throw { code: data.code || "backchannel.error", detail: data.detail || "" };
    return data;
  }

  // After a failed request, re-read the state every few seconds until the app answers again
  // (the event stream may not notice: it can look open while requests fail).
  let reconnecting = null;
  function reconnect() {
    if (reconnecting) return;
    reconnecting = window.setInterval(async () => {
      await refresh();
      if (!status.connectionLost) {
        window.clearInterval(reconnecting);
        reconnecting = null;
      }
    }, 2000);
  }

  function refusal(problem) {
    const sentence = ERRORS[problem.code];
    const text = sentence ? t(sentence) : t("Refused: {reason}", { reason: problem.detail || problem.code });
    return text + " [" + problem.code + "]";
  }

  let refreshing = null;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        try {
          render(await api("/api/state"));
        } catch (_) {
          /* the banner says it; the event stream's reconnect refreshes again */
        }
      } while (again);
      refreshing = null;
    })();
    return refreshing;
  }

  // The change notices: a server-sent event stream read with fetch (EventSource cannot send the
  // token header). Only "changed" and "host" notices come; neither carries any text.
  async function listen() {
    let response = null;
    try {
      response = await request("/api/events", { headers: { accept: "text/event-stream" } });
    } catch (_) {
      response = null;
    }
    if (!response || !response.ok || !response.body) {
      status.connectionLost = true;
      showBanner();
      window.setTimeout(listen, 3000);
      return;
    }
    status.connectionLost = false;
    showBanner();
    refresh();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          notice(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch (_) {
      /* the stream broke: reconnect below */
    }
    status.connectionLost = true;
    showBanner();
    window.setTimeout(listen, 3000);
  }

  function notice(block) {
    let kind = "message";
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) kind = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trim();
    }
    if (kind === "changed") refresh();
    else if (kind === "host") {
      status.hostDown = !JSON.parse(data).ok;
      showBanner();
    }
  }

  /** Show what an act that went through will not do (its cautions), where its errors go. */
  function cautioned(where, result) {
    const said = (result.warnings || []).map((w) => t(CAUTIONS[w.code] || w.message));
    if (said.length === 0) return;
    where.textContent = said.join(" ");
    where.classList.add("caution");
    where.hidden = false;
  }

  /** Opened without its access token: say how to open it, in the page's language. */
  function noToken() {
    main.replaceChildren(
      el("p", { class: "no-token", role: "alert", text: t("This page needs its access token. Open the address that 'backchannel ui' (or 'make run') printed: it ends in ?token=…") }),
    );
    document.getElementById("main").removeAttribute("aria-busy");
  }

  function showBanner() {
    const lines = [];
    if (status.connectionLost) lines.push(t("The connection to this device's app is lost. Reconnecting…"));
    if (status.hostDown) lines.push(t("The host cannot be reached; new messages will appear when it is back."));
    banner.textContent = lines.join(" ");
    banner.hidden = lines.length === 0;
  }

  // --- rendering the state --------------------------------------------------------------------

  function render(state) {
    current = state;
    status.hostDown = !state.host.ok;
    status.connectionLost = false;
    showBanner();
    for (const talks of state.talks) NAMES.localise(talks);
    const name = NAMES.deviceName(state);
    const vars = { name, fingerprint: state.profile.fingerprint };
    document.getElementById("whoami").textContent = name ? t("Device of {name} · fingerprint {fingerprint}", vars) : t("This device · fingerprint {fingerprint}", vars);
    const wanted = new Set();
    if (state.talks.length === 0) {
      main.replaceChildren(el("p", { class: "empty", text: t("This device is in no talks yet.") }));
    } else {
      main.querySelector(":scope > p.empty")?.remove();
    }
    for (const talks of state.talks) {
      const key = "talks:" + talks.alias;
      wanted.add(key);
      let section = main.querySelector(`:scope > section[data-key="${CSS.escape(key)}"]`);
      if (!section) {
        section = talksSection(talks, key);
        main.append(section);
      }
      renderTalks(section, talks);
    }
    for (const section of main.querySelectorAll(":scope > section[data-key]")) {
      if (!wanted.has(section.dataset.key)) section.remove();
    }
    document.getElementById("main").setAttribute("aria-busy", "false");
    showPage();
  }

  function talksSection(talks, key) {
    const mediating = talks.role === "mediator";
    const heading = mediating ? t("Mediator console") : t("Delegation view");
    return el(
      "section",
      { class: "talks " + (mediating ? "console" : "delegation"), "data-key": key, "data-view": mediating ? "mediator" : "delegation", "aria-label": heading },
      el("h2", { text: heading + " — " + (talks.title || talks.alias) }),
      el("p", { class: "muted who" }),
      el("p", { class: "warning dropped", role: "status", hidden: true }),
      el("div", { class: "rooms" }),
      window.backchannel.contactsSection(talks, key), // contacts.js
    );
  }

  function renderTalks(section, talks) {
    const me = NAMES.nameOf(talks.members, talks.me);
    section.querySelector("p.who").textContent = t("You are {me}, of {party}.", { me, party: talks.party ? partyName(talks, talks.party) : "—" });
    const dropped = section.querySelector("p.dropped");
    dropped.hidden = talks.dropped === 0;
    dropped.textContent = t("{n} deliveries were refused by this device.", { n: talks.dropped });
    window.backchannel.renderContacts(section, talks);
    const grid = section.querySelector("div.rooms");
    const wanted = new Set();
    for (const room of talks.rooms) {
      const key = "room:" + talks.alias + ":" + room.id;
      wanted.add(key);
      let box = grid.querySelector(`:scope > section[data-key="${CSS.escape(key)}"]`);
      if (!box) {
        box = roomSection(talks, room, key);
        grid.append(box);
      }
      const list = box.querySelector("ol.messages");
      const items = room.messages.map((m) => messageItem(talks, room, m));
      if (items.length === 0) items.push(el("li", { class: "empty", text: t("No messages yet.") }));
      list.replaceChildren(...items);
      window.backchannel.renderDocuments(box, talks, room); // documents.js
    }
    for (const box of grid.querySelectorAll(":scope > section[data-key]")) {
      if (!wanted.has(box.dataset.key)) box.remove();
    }
  }

  function partyName(talks, id) {
    const party = talks.parties.find((p) => p.id === id);
    return party ? party.name : id || "—";
  }

  function roomTitle(talks, room) {
    return t(ROOM_KINDS[room.kind] || "{party}", { party: partyName(talks, room.party) });
  }

  function roomSection(talks, room, key) {
    const headingId = "h-" + key.replace(/[^A-Za-z0-9_-]/g, "_");
    return el(
      "section",
      { class: "room kind-" + room.kind, "data-key": key, "data-room": room.id, "aria-labelledby": headingId },
      el("h3", { id: headingId, text: roomTitle(talks, room) }),
      el("p", { class: "muted", text: t("Room {room}: {members}", { room: room.name, members: room.members.map((id) => NAMES.nameOf(talks.members, id)).join(", ") }) }),
      el("ol", { class: "messages", "aria-live": "polite" }),
      sendForm(talks, room, key),
      window.backchannel.documentsPanel(talks, room, key), // documents.js
    );
  }

  function languageName(code) {
    const known = LANGUAGES.find((l) => l.code === code);
    return known ? known.name : code;
  }

  // When it was sent and, for what the demo replayed, when the scenario has it (marked as such:
  // the record's clock is now, the scenario's is history).
  function times(item) {
    const sent = el("time", { datetime: item.at, text: dateFormat.format(new Date(item.at)) });
    if (!item.scenario_at) return [sent];
    const scenario = el("time", { class: "scenario-time", datetime: item.scenario_at, text: dateFormat.format(new Date(item.scenario_at)) });
    return [sent, el("span", { class: "scenario-at" }, t("in the scenario:"), " ", scenario)];
  }

  function messageItem(talks, room, m) {
    const domId = "m-" + talks.alias + "-" + m.id;
    const who = NAMES.nameOf(talks.members, m.author);
    const author = m.party && m.party !== m.author ? who + " (" + partyName(talks, m.party) + ")" : who;
    const head = el(
      "p",
      { class: "meta" },
      el("span", { class: "author", text: author }),
      ...times(m),
      m.lang ? el("span", { class: "lang", text: languageName(m.lang) }) : null,
      el("span", { class: "label label-" + m.label, title: t(LABEL_HINTS[m.label] || m.label), text: t(LABELS[m.label] || m.label) }),
      m.proposal ? el("span", { class: "offer", text: t("Offer") }) : null,
    );
    const item = el("li", { class: "message" + (m.gist_by_mediator ? " gist" : "") + (m.mine ? " mine" : ""), id: domId, "data-message": m.id, "data-label": m.label }, head);
    if (m.relay === "gist") {
      item.append(el("p", { class: "carried", "data-carried": "gist", text: t("The mediator's words (a gist), carried by {who}", { who: NAMES.nameOf(talks.members, m.relayed_by) || "—" }) }));
    } else if (m.relay === "verbatim") {
      item.append(el("p", { class: "carried", "data-carried": "verbatim", text: t("Carried word for word by {who}; {author}'s signature verified", { who: NAMES.nameOf(talks.members, m.relayed_by) || "—", author: NAMES.nameOf(talks.members, m.author) }) }));
    }
    item.append(el("p", { class: "text", dir: "auto", lang: m.lang || null, text: m.text }));
    if (talks.role === "mediator" && m.carriable) item.append(relayActions(talks, room, m, domId));
    return item;
  }

  function relayActions(talks, room, m, domId) {
    const modes = new Set(m.relay_modes);
    const reasonId = domId + "-reason";
    let reason = "";
    if (modes.size === 0) reason = t("It cannot be carried: its author marked it for the mediator only.");
    else if (!modes.has("verbatim")) reason = t("Only a gist in your own words may be carried.");
    const targets = talks.rooms.filter((r) => r.id !== room.id);
    const button = (mode, text) =>
      el("button", {
        type: "button",
        "data-action": mode,
        disabled: !modes.has(mode) || targets.length === 0,
        "aria-describedby": reason ? reasonId : null,
        onclick: () => window.backchannel.openRelay(talks, room, m, mode), // relay.js
        text,
      });
    return el(
      "div",
      { class: "relay-actions" },
      button("verbatim", t("Relay word for word")),
      button("gist", t("Relay as a gist")),
      reason ? el("p", { class: "reason", id: reasonId, "data-reason": "", text: reason }) : null,
    );
  }

  // --- sending --------------------------------------------------------------------------------

  function sendForm(talks, room, key) {
    const base = "f-" + key.replace(/[^A-Za-z0-9_-]/g, "_");
    const draftKey = "draft:" + key;
    const text = el("textarea", { id: base + "-text", name: "text", rows: 3, dir: "auto" });
    text.value = DRAFTS.getItem(draftKey) || "";
    text.addEventListener("input", () => DRAFTS.setItem(draftKey, text.value));
    const labels = el("fieldset", { class: "labels" }, el("legend", { text: t("Carry label (choose one)") }));
    // "Mediator only" where no mediator is in the room would be read by nobody who may carry it.
    for (const label of Object.keys(LABELS).filter((l) => l !== "mediator-only" || room.mediator_in_room)) {
      const id = base + "-" + label;
      labels.append(
        el(
          "div",
          { class: "choice" },
          el("input", { type: "radio", id, name: base + "-label", value: label }),
          el("label", { for: id }, el("span", { class: "label label-" + label, text: t(LABELS[label]) }), " ", el("span", { class: "muted", text: t(LABEL_HINTS[label]) })),
        ),
      );
    }
    const lang = el("select", { id: base + "-lang", name: "lang" });
    for (const l of LANGUAGES) lang.append(el("option", { value: l.code, selected: l.code === LANG, text: l.name }));
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit", text: t("Send") });
    const form = el(
      "form",
      { class: "send", novalidate: true, "data-room": room.id },
      el("label", { for: text.id, text: t("Message") }),
      text,
      labels,
      el("div", { class: "inline" }, el("label", { for: lang.id, text: t("Language of the message") }), lang),
      error,
      el("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = form.querySelector("input[type=radio]:checked");
      error.hidden = true;
      if (!text.value.trim()) return fail(error, t("Write a message first."));
      if (!chosen) return fail(error, t("Choose a carry label: none is chosen for you."));
      submit.disabled = true;
      try {
        const sent = await api("/api/send", { talks: talks.alias, room: room.id, text: text.value, label: chosen.value, lang: lang.value });
        text.value = "";
        DRAFTS.removeItem(draftKey);
        chosen.checked = false;
        await refresh();
        cautioned(error, sent);
      } catch (problem) {
        fail(error, refusal(problem)); // the typed text stays where it is
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  function fail(node, text) {
    node.textContent = text;
    node.hidden = false;
  }

  // --- pages ----------------------------------------------------------------------------------
  // Rooms is this file's page; each other page is its own script (mandates.js, record.js, …)
  // that calls backchannel.page(id, title, render) when it loads. render(node, state) is called
  // with the latest state whenever its page is shown or the state changes.

  const pages = new Map();
  const nav = document.getElementById("nav");

  function page(id, title, draw) {
    let node = document.getElementById("page-" + id);
    if (!node) {
      node = el("section", { id: "page-" + id, class: "page", "data-page": id, hidden: true });
      document.getElementById("main").append(node);
    }
    node.setAttribute("aria-label", title);
    pages.set(id, { title, draw, node });
    nav.append(el("a", { href: "#" + id, "data-page": id, text: title }));
  }

  function activePage() {
    const wanted = window.location.hash.slice(1);
    return pages.has(wanted) ? wanted : "rooms";
  }

  function showPage() {
    const id = activePage();
    for (const [key, entry] of pages) {
      entry.node.hidden = key !== id;
      nav.querySelector(`a[data-page="${CSS.escape(key)}"]`)?.toggleAttribute("aria-current", key === id);
    }
    const entry = pages.get(id);
    document.title = entry.title + " · " + t("Backchannel");
    if (current && entry.draw) entry.draw(entry.node, current);
  }

  page("rooms", t("Rooms"), null);
  window.addEventListener("hashchange", showPage);

  // A page with one section per talks, read from `endpoint` ({talks: [{alias, …}]}): its heading
  // (`heading`, else its navigation `title`), an introduction and an error line, then `build(talks)` → {section, …} once per talks and
  // `update(entry, talks)` on every read, so forms keep what is typed. Reads never overlap: one
  // asked for during a read runs once after it. `explain(problem)` words a failed read.
  function talksPage(id, { title, heading, intro, endpoint, build, update, explain }) {
    const sections = new Map();
    let root = null;
    let loading = null;
    let again = false;

    function render(data) {
      root.querySelector(":scope > p.error").hidden = true;
      const wanted = new Set();
      for (const talks of data.talks) {
        NAMES.localise(talks);
        wanted.add(talks.alias);
        let entry = sections.get(talks.alias);
        if (!entry) {
          entry = build(talks);
          sections.set(talks.alias, entry);
          root.append(entry.section);
        }
        update(entry, talks);
      }
      for (const [alias, entry] of sections) {
        if (!wanted.has(alias)) {
          entry.section.remove();
          sections.delete(alias);
        }
      }
      const empty = root.querySelector(":scope > p.empty");
      if (data.talks.length === 0 && !empty) root.append(el("p", { class: "empty", text: t("This device is in no talks yet.") }));
      else if (data.talks.length > 0 && empty) empty.remove();
    }

    function load() {
      if (loading) {
        again = true;
        return loading;
      }
      loading = (async () => {
        do {
          again = false;
          try {
            render(await api(endpoint));
          } catch (problem) {
            fail(root.querySelector(":scope > p.error"), (explain || refusal)(problem));
          }
        } while (again);
        loading = null;
      })();
      return loading;
    }

    function draw(node) {
      if (!root) {
        root = node;
        node.append(
          el("h2", { text: heading || title }),
          el("p", { class: "muted", text: intro }),
          el("p", { class: "error", role: "alert", hidden: true }),
        );
      }
      load();
    }

    page(id, title, draw);
    return { load };
  }

  // --- start ----------------------------------------------------------------------------------

  const selector = document.getElementById("language");
  for (const l of LANGUAGES) selector.append(el("option", { value: l.code, lang: l.code, selected: l.code === LANG, text: l.name }));
  selector.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.searchParams.set("lang", selector.value);
    window.location.assign(url.toString());
  });
  window.backchannel = {
    t, el, api, request, refusal, fail, refresh, page, talksPage, dateFormat, LANG,
    roomTitle, cautioned, banner, editor, partyName, times, NAMES,
    get state() { return current; },
  };
  // Deferred page scripts run after this one and before DOMContentLoaded: start once all are in.
  document.addEventListener("DOMContentLoaded", () => {
    showPage();
    refresh();
    listen();
  });
})();
