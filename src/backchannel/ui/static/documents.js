// The Documents panel of each room on the Rooms page: the room's documents (each version chain
// newest first), sending a file by drag and drop or the file picker under a carry label (or as a
// new version of one's own), with a progress bar over both legs (browser → app, app → host);
// viewing a PDF as pages the app rendered from this member's own stamped copy, and a text file
// with its diff against the previous version; downloading one's copy; the mediator's carries; and
// tracing a leaked copy. Everything goes through /api/documents (ui/documents.py), which does what
// `backchannel doc …` does; the device's engine decides every act. Loaded after app.js, whose
// window.backchannel it uses, and to which it adds documentsPanel and renderDocuments.
"use strict";

(() => {
  const { t, el, api, request, refusal, fail, roomTitle, LANG, NAMES } = window.backchannel;

  const LABELS = {
    "mediator-only": () => t("Mediator only"),
    "carry-gist": () => t("Carry as a gist"),
    "carry-verbatim": () => t("Carry word for word"),
  };
  const VERDICTS = {
    identified: (member) => t("Identified: this is the copy of {member}.", { member }),
    inconclusive: () => t("Inconclusive: too little of the document to tell, or several copies match as well."),
    "no-marks": () => t("No marks: this file carries none of this document's marks."),
    "no-match": () => t("No match: no member's copy of this document matches."),
  };
  const PHASES = {
    receiving: () => t("Handing the file to this device…"),
    sealing: () => t("Encrypting on this device…"),
    uploading: () => t("Uploading the encrypted file to the host…"),
    recording: () => t("Sending it to the room…"),
    done: () => t("Sent."),
  };
  // The panel's refusals, by stable code (the engine's are app.js's ERRORS, through refusal()).
  const REFUSALS = {
    "document.too_large": () => t("This file is over the document limit: nothing was kept or sent."),
    "document.invalid": () => t("This file cannot be sent as a document: nothing was sent."),
    "document.unknown": () => t("This device holds no such document."),
    "document.expired": () => t("This document is past the talks' retention: devices no longer open it."),
    "document.malformed": () => t("This file is not a readable PDF."),
    "document.corrupt": () => t("The host returned other bytes than the author sent: nothing was shown."),
    "ui.renderer_unavailable": () => t("This device cannot render PDF pages (poppler-utils is missing): download your copy instead."),
  };
  const explain = (problem) => (REFUSALS[problem.code] ? REFUSALS[problem.code]() + " [" + problem.code + "]" : refusal(problem));
  const sizeFormat = new Intl.NumberFormat(LANG, { maximumFractionDigits: 1 });
  const chanceFormat = new Intl.NumberFormat(LANG, { notation: "scientific", maximumFractionDigits: 1 });
  const dateFormat = new Intl.DateTimeFormat(LANG, { dateStyle: "medium", timeStyle: "short" });
  const panels = new Map(); // room key → panel state

  function sizeText(bytes) {
    if (bytes < 1024) return t("{n} bytes", { n: sizeFormat.format(bytes) });
    if (bytes < 1024 * 1024) return t("{n} KB", { n: sizeFormat.format(bytes / 1024) });
    return t("{n} MB", { n: sizeFormat.format(bytes / (1024 * 1024)) });
  }

  function jobId() {
    const bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** A request whose answer is bytes (or a problem): the response, or a thrown problem. */
  async function fetchBytes(path, init) {
    let response;
    try {
      response = await request(path, init);
    } catch (_) {
      throw { code: "network", detail: "" };
    }
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw { code: data.code || "backchannel.error", detail: data.detail || "" };
    }
    return response;
  }

  const query = (values) => "?" + new URLSearchParams(values).toString();

  // A drop zone with its file input: `take(file)` gets the file dropped or chosen.
  function dropZone(id, text, take) {
    // The browser's own file button speaks the browser's language, not the page's: it is hidden
    // (still focusable; the zone shows its focus) and the label, in the page's words, opens it.
    const input = el("input", { type: "file", id, class: "file-input visually-hidden" });
    input.addEventListener("change", () => input.files.length && take(input.files[0]));
    const zone = el("div", { class: "dropzone", "data-drop": "" }, el("label", { for: id, class: "file-button", text }), input);
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (file) take(file);
    });
    return { zone, input };
  }

  // --- the panel ------------------------------------------------------------------------------------

  function documentsPanel(talks, room, key) {
    const base = "d-" + key.replace(/[^A-Za-z0-9_-]/g, "_");
    const state = { talks, room, base, data: null, seen: null, file: null };
    const headingId = base + "-h";
    const list = el("ol", { class: "documents", "aria-live": "polite" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const node = el(
      "section",
      { class: "documents-panel", "aria-labelledby": headingId, "data-room": room.id },
      el("h4", { id: headingId, text: t("Documents") }),
      list,
      error,
      sendForm(state),
    );
    Object.assign(state, { node, list, error });
    panels.set(key, state);
    return node;
  }

  // Re-read the room's documents when its messages changed (a document is a message).
  function renderDocuments(box, talks, room) {
    const state = panels.get(box.dataset.key);
    if (!state) return;
    state.talks = talks;
    state.room = room;
    const seen = room.messages.map((m) => m.id).join(" ");
    if (seen === state.seen) return;
    state.seen = seen;
    load(state);
  }

  async function load(state) {
    try {
      state.data = await api("/api/documents" + query({ talks: state.talks.alias, room: state.room.id }));
      state.error.hidden = true;
    } catch (problem) {
      return fail(state.error, explain(problem));
    }
    draw(state);
  }

  // An item is rebuilt only when its document changed, so an open viewer or trace box stays open.
  function draw(state) {
    const kept = state.items || new Map();
    state.items = new Map();
    const items = state.data.documents.map((d) => {
      const sig = JSON.stringify([d, state.data.mediating]);
      const old = kept.get(d.id);
      const node = old && old.sig === sig ? old.node : documentItem(state, d);
      state.items.set(d.id, { sig, node });
      return node;
    });
    if (items.length === 0) items.push(el("li", { class: "empty", text: t("No documents yet.") }));
    state.list.replaceChildren(...items);
    state.updateForm();
    state.node.dataset.reads = String(Number(state.node.dataset.reads || 0) + 1); // for tests
  }

  function byline(state, d) {
    const who = NAMES.nameOf(state.talks.members, d.author);
    const parts = [
      el("span", { class: "author", text: who }),
      el("time", { datetime: d.at, text: dateFormat.format(new Date(d.at)) }),
      el("span", { class: "size", text: sizeText(d.size) }),
      el("span", { class: "label label-" + d.label, text: (LABELS[d.label] || (() => d.label))() }),
    ];
    if (d.relay === "verbatim") parts.push(el("span", { class: "carried", text: t("carried word for word by {who}", { who: NAMES.nameOf(state.talks.members, d.relayed_by) }) }));
    if (d.relay === "gist") parts.push(el("span", { class: "carried", text: t("the mediator's own file, carried as a gist by {who}", { who: NAMES.nameOf(state.talks.members, d.relayed_by) }) }));
    if (d.expired) parts.push(el("span", { class: "expired", text: t("past the talks' retention: no longer opened") }));
    return parts;
  }

  function documentItem(state, d) {
    const domId = state.base + "-" + d.id.replace(/[^A-Za-z0-9_-]/g, "_");
    // Focusable, so a keyboard can scroll through the pages (axe: scrollable-region-focusable).
    const viewer = el("div", { class: "viewer", id: domId + "-viewer", role: "region", tabindex: 0, "aria-label": d.name, hidden: true });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done downloaded", role: "status" });
    const versions = d.versions.length > 1
      ? el(
          "details",
          { class: "versions" },
          el("summary", { text: t("{n} versions, newest first", { n: d.versions.length }) }),
          el(
            "ol",
            { reversed: true },
            ...d.versions.map((v) =>
              el(
                "li",
                { "data-version": v.id },
                el("span", { class: "name", dir: "auto", text: v.name }),
                " ",
                ...byline(state, v),
                " ",
                el("button", { type: "button", class: "link", "data-action": "view", disabled: v.expired, onclick: () => view(state, v, viewer, error), text: t("View this version") }),
              ),
            ),
          ),
        )
      : null;
    const actions = el(
      "div",
      { class: "document-actions" },
      el("button", { type: "button", "data-action": "view", disabled: d.expired || (!d.pdf && !d.text), "aria-controls": viewer.id, onclick: () => view(state, d, viewer, error), text: t("View") }),
      el("button", { type: "button", "data-action": "download", disabled: d.expired, onclick: () => download(state, d, error, done), text: d.pdf ? t("Download my stamped copy") : t("Download") }),
    );
    const item = el(
      "li",
      { class: "document", id: domId, "data-document": d.id, "data-label": d.label },
      el("p", { class: "meta" }, el("strong", { class: "name", dir: "auto", text: d.name }), " ", ...byline(state, d)),
      versions,
      actions,
      error,
      done,
      viewer,
    );
    if (state.data.mediating && d.relay_modes.length) item.append(relayControls(state, d, domId));
    if (d.pdf && (state.data.mediating || d.mine)) item.append(traceControls(state, d, domId));
    return item;
  }

  // --- viewing and downloading ---------------------------------------------------------------------

  async function view(state, d, viewer, error) {
    error.hidden = true;
    viewer.hidden = false;
    viewer.replaceChildren(el("p", { class: "muted", text: t("Opening {name}…", { name: d.name }) }));
    try {
      const shown = await api("/api/documents/view" + query({ talks: state.talks.alias, document: d.id }));
      if (shown.kind === "pdf") return await showPages(state, d, shown, viewer);
      if (shown.kind === "text") return showText(d, shown, viewer);
      viewer.replaceChildren(el("p", { class: "muted", text: t("This kind of file cannot be shown here: download it.") }));
    } catch (problem) {
      viewer.hidden = true;
      fail(error, explain(problem));
    }
  }

  // A few pages at a time (each is rendered by the app when asked), then a button for more.
  const PAGES_AT_ONCE = 5;
  async function showPages(state, d, shown, viewer, from = 1) {
    let pages = viewer.querySelector("ol.pages");
    if (from === 1) {
      pages = el("ol", { class: "pages" });
      viewer.replaceChildren(el("p", { class: "muted", text: t("Your own stamped copy, rendered on this device. Pages: {n}.", { n: shown.pages }) }), pages);
    }
    viewer.querySelector("button.more-pages")?.remove();
    const last = Math.min(shown.pages, from + PAGES_AT_ONCE - 1);
    for (let page = from; page <= last; page++) {
      const response = await fetchBytes("/api/documents/page" + query({ talks: state.talks.alias, document: d.id, page }), { headers: { accept: "image/png" } });
      const src = await new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result); // a data: URL (the CSP allows images from data: and the app only)
        response.blob().then((blob) => reader.readAsDataURL(blob));
      });
      pages.append(el("li", {}, el("img", { src, alt: t("Page {page} of {pages} of {name}", { page, pages: shown.pages, name: d.name }), "data-page": page })));
    }
    if (last < shown.pages) {
      viewer.append(el("button", { type: "button", class: "more-pages", onclick: () => showPages(state, d, shown, viewer, last + 1), text: t("Show the next pages") }));
    }
  }

  function showText(d, shown, viewer) {
    const parts = [el("pre", { class: "document-text", dir: "auto", text: shown.text })];
    if (shown.diff !== null && shown.diff !== undefined) {
      const lines = shown.diff.split("\n").map((line) => {
        const kind = line.startsWith("+") && !line.startsWith("+++") ? "added" : line.startsWith("-") && !line.startsWith("---") ? "removed" : "same";
        return el("span", { class: "diff-" + kind, text: line + "\n" });
      });
      parts.push(el("h5", { text: t("What changed since the previous version") }), el("pre", { class: "diff", dir: "ltr" }, ...lines));
    }
    viewer.replaceChildren(...parts);
  }

  async function download(state, d, error, done) {
    error.hidden = true;
    done.textContent = "";
    try {
      const response = await fetchBytes("/api/documents/download" + query({ talks: state.talks.alias, document: d.id }));
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", { href: url, download: d.name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10000);
      done.textContent = d.pdf ? t("Downloaded your own stamped copy: a leak of it names you.") : t("Downloaded.");
    } catch (problem) {
      fail(error, explain(problem));
    }
  }

  // --- the mediator's carries -----------------------------------------------------------------------

  function relayControls(state, d, domId) {
    const targets = state.talks.rooms.filter((r) => r.id !== state.room.id);
    const room = el("select", { id: domId + "-to", name: "room" });
    for (const r of targets) room.append(el("option", { value: r.id, text: roomTitle(state.talks, r) }));
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const progress = el("progress", { max: 100, value: 0, hidden: true, "aria-labelledby": domId + "-gist-status" });
    const status = el("p", { class: "progress-status", id: domId + "-gist-status", role: "status" });
    const verbatim = el("button", { type: "button", "data-action": "relay-verbatim", disabled: !d.relay_modes.includes("verbatim") || !targets.length, text: t("Carry word for word") });
    verbatim.addEventListener("click", async () => {
      error.hidden = true;
      verbatim.disabled = true;
      try {
        await api("/api/documents/relay", { talks: state.talks.alias, source: d.id, room: room.value });
        done.textContent = t("Carried into {room}.", { room: roomTitle(state.talks, targets.find((r) => r.id === room.value)) });
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        verbatim.disabled = false;
      }
    });
    const gist = dropZone(domId + "-gist", t("Carry as a gist: drop your own file (a summary or a redacted copy), or choose it"), async (file) => {
      error.hidden = true;
      done.textContent = "";
      try {
        await sendFile(state, file, { source: d.id, room: room.value }, progress, status);
        status.textContent = "";
        done.textContent = t("Carried into {room}.", { room: roomTitle(state.talks, targets.find((r) => r.id === room.value)) });
      } catch (problem) {
        status.textContent = "";
        fail(error, explain(problem));
      } finally {
        progress.hidden = true;
      }
    });
    const reason = d.relay_modes.includes("verbatim") ? null : el("p", { class: "reason", text: t("Only a gist in your own words may be carried.") });
    return el(
      "div",
      { class: "relay-actions document-relay" },
      el("label", { for: room.id, text: t("Carry into") }),
      room,
      verbatim,
      d.relay_modes.includes("gist") ? gist.zone : null,
      reason,
      progress,
      status,
      error,
      done,
    );
  }

  // --- tracing a leak ------------------------------------------------------------------------------

  function traceControls(state, d, domId) {
    const excerpt = el("textarea", { id: domId + "-excerpt", rows: 2, dir: "auto", spellcheck: "false" });
    const result = el("div", { class: "trace-result", role: "status" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const traceButton = el("button", { type: "button", "data-action": "trace", text: t("Trace the pasted excerpt") });
    async function trace(body) {
      error.hidden = true;
      result.replaceChildren();
      delete result.dataset.verdict;
      try {
        const response = await fetchBytes("/api/documents/trace" + query({ talks: state.talks.alias, document: d.id }), {
          method: "POST",
          headers: { "content-type": "application/octet-stream", accept: "application/json" },
          body,
        });
        showTrace(state, await response.json(), result);
      } catch (problem) {
        fail(error, explain(problem));
      }
    }
    const leaked = dropZone(domId + "-leaked", t("Drop the leaked PDF here, or choose it"), (file) => trace(file));
    traceButton.addEventListener("click", () => {
      if (!excerpt.value.trim()) return fail(error, t("Paste an excerpt of the leak first."));
      trace(new Blob([excerpt.value], { type: "application/octet-stream" }));
    });
    return el(
      "details",
      { class: "trace" },
      el("summary", { text: t("Trace a leak") }),
      el("p", { class: "muted", text: t("Each member's copy of a PDF carries its own marks: a leaked copy, or text pasted out of it, names the member whose copy it was.") }),
      leaked.zone,
      el("label", { for: excerpt.id, text: t("Or paste an excerpt") }),
      excerpt,
      el("div", { class: "actions" }, traceButton),
      error,
      result,
    );
  }

  function showTrace(state, found, result) {
    const name = (id) => NAMES.nameOf(state.talks.members, id);
    const verdict = VERDICTS[found.verdict] || (() => found.verdict);
    const lines = [el("p", { class: "verdict", "data-verdict": found.verdict, text: verdict(found.recipient ? name(found.recipient) : "") })];
    lines.push(el("p", { class: "muted", text: t("Chance of another copy matching as well: {chance}.", { chance: chanceFormat.format(found.chance) }) }));
    if (found.metadata_holder) lines.push(el("p", { class: "muted", text: t("The file's metadata names the copy of {member}.", { member: name(found.metadata_holder) }) }));
    result.dataset.verdict = found.verdict;
    if (found.recipient) result.dataset.recipient = found.recipient;
    else delete result.dataset.recipient;
    result.replaceChildren(...lines);
  }

  // --- sending -------------------------------------------------------------------------------------

  function sendForm(state) {
    const base = state.base;
    const chosen = el("p", { class: "chosen muted", role: "status", text: t("No file chosen.") });
    const drop = dropZone(base + "-file", t("Drop a file here, or choose one"), (file) => {
      state.file = file;
      chosen.textContent = t("Chosen: {name} ({size})", { name: file.name, size: sizeText(file.size) });
    });
    const labels = el("fieldset", { class: "labels" }, el("legend", { text: t("Carry label (choose one)") }));
    const supersedes = el("select", { id: base + "-supersedes", name: "supersedes" });
    const progress = el("progress", { max: 100, value: 0, hidden: true, "aria-labelledby": base + "-status" });
    const status = el("p", { class: "progress-status", id: base + "-status", role: "status" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit", text: t("Send the document") });
    const form = el(
      "form",
      { class: "send-document", novalidate: true },
      drop.zone,
      chosen,
      labels,
      el("div", { class: "inline" }, el("label", { for: supersedes.id, text: t("New version of") }), supersedes),
      progress,
      status,
      error,
      el("div", { class: "actions" }, submit),
    );
    state.updateForm = () => {
      const data = state.data;
      // Rebuilt only when what the room allows changed, so a refresh keeps the chosen label.
      const allowed = JSON.stringify([data.labels, state.room.mediator_in_room]);
      if (allowed !== labels.dataset.allowed) {
        labels.dataset.allowed = allowed;
        drawLabels(data);
      }
      const before = supersedes.value;
      supersedes.replaceChildren(el("option", { value: "", text: t("Nothing: a new document") }));
      for (const d of data.documents.filter((x) => x.mine)) {
        supersedes.append(el("option", { value: d.id, selected: d.id === before, text: d.name + " · " + dateFormat.format(new Date(d.at)) }));
      }
    };
    function drawLabels(data) {
      const picked = form.querySelector("input[type=radio]:checked");
      labels.replaceChildren(labels.firstChild);
      for (const label of Object.keys(LABELS)) {
        const refused = data.labels[label];
        if (label === "mediator-only" && !state.room.mediator_in_room) continue; // read by no one who may carry it
        const id = base + "-label-" + label;
        labels.append(
          el(
            "div",
            { class: "choice" },
            el("input", { type: "radio", id, name: base + "-label", value: label, disabled: !!refused, checked: picked && picked.value === label && !refused }),
            el("label", { for: id }, el("span", { class: "label label-" + label, text: LABELS[label]() }), refused ? " " + refusal({ code: refused.code, detail: refused.message }) : ""),
          ),
        );
      }
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const label = form.querySelector("input[type=radio]:checked");
      if (!state.file) return fail(error, t("Drop or choose a file first."));
      if (!label) return fail(error, t("Choose a carry label: none is chosen for you."));
      if (state.data && state.file.size > state.data.limit) return fail(error, t("This file is over the document limit of {size}.", { size: sizeText(state.data.limit) }) + " [document.too_large]");
      submit.disabled = true;
      const params = { room: state.room.id, label: label.value };
      if (supersedes.value) params.supersedes = supersedes.value;
      try {
        const sent = await sendFile(state, state.file, params, progress, status);
        status.textContent = t("Sent {name} to the room.", { name: sent.name });
        state.file = null;
        drop.input.value = "";
        chosen.textContent = t("No file chosen.");
        for (const radio of form.querySelectorAll("input[type=radio]:checked")) radio.checked = false;
        state.seen = null;
        await load(state);
      } catch (problem) {
        progress.hidden = true;
        status.textContent = "";
        fail(error, explain(problem)); // the chosen file and label stay
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  // Send `file` as the body of an upload and poll its progress until the upload answers: the
  // bar's first half is the file reaching this device's app, the second the encrypted file
  // reaching the host.
  async function sendFile(state, file, params, progress, status) {
    const job = jobId();
    progress.hidden = false;
    progress.value = 0;
    progress.dataset.phase = "receiving";
    status.textContent = PHASES.receiving();
    let finished = false;
    const poll = async () => {
      while (!finished) {
        await new Promise((resolve) => window.setTimeout(resolve, 250));
        if (finished) break;
        try {
          const p = await api("/api/documents/progress" + query({ job }));
          const got = p.size ? p.received / p.size : 0;
          const moved = p.total ? p.moved / p.total : 0;
          progress.value = Math.round(50 * Math.min(got, 1) + 50 * Math.min(moved, 1));
          progress.dataset.phase = p.phase;
          status.textContent = (PHASES[p.phase] || PHASES.receiving)();
        } catch (_) {
          /* not started yet, or already over: the upload's own answer says how it went */
        }
      }
    };
    const polling = poll();
    try {
      const response = await fetchBytes("/api/documents/upload" + query({ talks: state.talks.alias, name: file.name, job, ...params }), {
        method: "POST",
        headers: { "content-type": "application/octet-stream", accept: "application/json" },
        body: file,
      });
      const sent = await response.json();
      progress.value = 100;
      progress.dataset.phase = "done";
      return sent;
    } finally {
      finished = true;
      await polling;
    }
  }

  window.backchannel.documentsPanel = documentsPanel;
  window.backchannel.renderDocuments = renderDocuments;
})();
