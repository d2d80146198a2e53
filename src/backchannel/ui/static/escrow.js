// The Escrow page: for each talks, its sealed escrow as this device may show it (/api/escrow).
// A party's page lists its own party's deposits in full (who deposited them, when, the version
// and status) with Amend and Withdraw, counts the other parties' open deposits, and deposits a
// new commitment from a form (what it gives, what it requires, not before, one numeric term) or
// pasted as JSON (docs/escrow.md). The mediator's page lists every deposit, and its Match button
// matches them on its own device and announces what matches (/api/escrow/match); "no match" is
// a result, with why. Every announced match shows the commitments it revealed and the plan. Each
// act is judged by the device's own engine: a refusal is shown in its words, with its code.
"use strict";

(() => {
  const { t, el, api, refusal, fail, dateFormat, LANG, NAMES } = window.backchannel;

  const number = new Intl.NumberFormat(LANG, { maximumFractionDigits: 2 });
  const safe = (text) => text.replace(/[^A-Za-z0-9_-]/g, "_");
  const when = (iso) => dateFormat.format(new Date(iso));

  // The engine's refusals of an escrow act, in words the catalogue translates.
  const REFUSALS = {
    "escrow.not_own": () => t("Only the party that deposited a commitment amends or withdraws it."),
    "escrow.not_mediator": () => t("Only the mediator matches the deposits."),
    "escrow.stale": () => t("This deposit was withdrawn or matched already."),
    "escrow.unknown": () => t("This deposit does not exist in these talks."),
    "escrow.not_matching": () => t("The announced match is not what the matcher finds."),
    "id.duplicate": () => t("This id is already in use in these talks: choose another."),
    "mandate.insufficient": () => t("Your mandate does not reach this act: depositing needs “Propose”."),
  };

  function explain(problem) {
    if (problem.code === "escrow.malformed" || problem.code === "form.invalid") {
      return t("The commitment is not valid: {reason}", { reason: problem.detail }) + " [" + problem.code + "]";
    }
    const sentence = REFUSALS[problem.code];
    return sentence ? sentence() + " [" + problem.code + "]" : refusal(problem);
  }

  const partyName = (talks, id) => NAMES.nameOf(talks.parties, id);

  function conditionText(condition) {
    if (condition === null || condition === undefined) return t("nothing: unconditional");
    if (typeof condition === "string") return condition;
    if (condition.all) return t("all of ({list})", { list: condition.all.map(conditionText).join(", ") });
    if (condition.any) return t("any of ({list})", { list: condition.any.map(conditionText).join(", ") });
    return JSON.stringify(condition);
  }

  function termText(term) {
    const range = term.offer || term.demand || {};
    const low = range.min === undefined ? "…" : number.format(range.min);
    const high = range.max === undefined ? "…" : number.format(range.max);
    const vars = { action: term.action, term: term.term, low, high };
    return term.offer ? t("offers {term} of {action} from {low} to {high}", vars) : t("demands {term} of {action} from {low} to {high}", vars);
  }

  const STATUSES = { open: () => t("Open, sealed"), withdrawn: () => t("Withdrawn"), matched: () => t("Matched") };

  /** Run an act: its button disabled meanwhile, the refusal or `success` shown, then reload. */
  async function acting(button, error, done, path, body, success) {
    error.hidden = true;
    if (done) done.hidden = true;
    button.disabled = true;
    try {
      const result = await api(path, body);
      if (done) fail(done, success(result));
      escrowPage.load();
      return result;
    } catch (problem) {
      fail(error, explain(problem));
      return null;
    } finally {
      button.disabled = false;
    }
  }

  // --- one talks ----------------------------------------------------------------------------------

  function talksSection(talks) {
    const base = "escrow-" + safe(talks.alias);
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const section = el(
      "section",
      { class: "escrow-talks", "data-talks": talks.alias, "aria-labelledby": base + "-h" },
      el("h3", { id: base + "-h" }),
      el("p", { class: "standing" }),
      el("div", { class: "escrow-deposited" }),
      el("div", { class: "escrow-sealed" }),
      error,
      el("div", { class: "escrow-matches" }),
    );
    const depositing = depositForm(talks, base);
    const matching = matchForm(talks, base);
    section.append(depositing.node, matching.node);
    return { section, error, depositing, matching, acts: new Map() };
  }

  function update(entry, talks) {
    const { section } = entry;
    section.querySelector("h3").textContent = t("Escrow of {talks}", { talks: talks.title || talks.alias });
    const me = NAMES.nameOf(talks.members, talks.me);
    section.querySelector("p.standing").textContent = talks.mediating
      ? t("You act as {me} for the mediator: your device holds every deposit, and matches them.", { me })
      : t("You act as {me} of {party}. Your deposits stay sealed: the mediator and your party read them; the other parties only count them.", { me, party: partyName(talks, talks.party) });
    section.querySelector(".escrow-deposited").replaceChildren(depositedTable(entry, talks));
    section.querySelector(".escrow-sealed").replaceChildren(sealedTable(talks));
    section.querySelector(".escrow-matches").replaceChildren(...talks.matches.map((m) => matchView(talks, m)));
    entry.depositing.node.hidden = talks.mediating;
    entry.matching.node.hidden = !talks.mediating;
  }

  function depositedTable(entry, talks) {
    if (!talks.deposits.length) {
      return el("p", { class: "muted empty", text: talks.mediating ? t("No deposit yet.") : t("Your party has deposited nothing yet.") });
    }
    return el("table", { class: "data" },
      el("caption", { text: talks.mediating ? t("Every deposit (sealed from the other parties)") : t("Your party's deposits") }),
      el("thead", {}, el("tr", {},
        ...[t("Deposit"), t("Party"), t("Deposited by"), t("Version"), t("Status"), t("Gives"), t("Requires"), t("Not before"), t("Terms")].map((h) => el("th", { scope: "col", text: h })),
        talks.mediating ? null : el("th", { scope: "col", text: t("Act") }),
      )),
      el("tbody", {}, ...talks.deposits.map((d) => depositRow(entry, talks, d))),
    );
  }

  function depositRow(entry, talks, d) {
    const c = d.commitment || {};
    const row = el("tr", { "data-deposit": d.id },
      el("th", { scope: "row" }, el("span", { dir: "ltr", text: d.id }), c.description ? el("span", { class: "muted block", dir: "auto", text: c.description }) : null),
      el("td", { text: partyName(talks, d.party) }),
      el("td", {}, el("span", { text: d.member.name }), el("span", { class: "muted block", text: when(d.at) })),
      el("td", { class: "number", text: number.format(d.version) }),
      el("td", { "data-status": d.status, text: STATUSES[d.status] ? STATUSES[d.status]() : d.status }),
      el("td", { dir: "ltr", text: (c.gives || []).join(", ") || "—" }),
      el("td", { text: conditionText(c.requires) }),
      el("td", { dir: "ltr", text: (c.not_before || []).join(", ") || "—" }),
      el("td", { text: (c.terms || []).map(termText).join("; ") || "—" }),
    );
    if (!talks.mediating) {
      // Kept across reads while the deposit's version stands, so an amendment being typed survives.
      const key = d.id + "@" + d.version;
      if (d.open && !entry.acts.has(key)) entry.acts.set(key, ownActs(entry, talks, d));
      row.append(el("td", {}, d.open ? entry.acts.get(key) : null));
    }
    return row;
  }

  function ownActs(entry, talks, d) {
    const base = "escrow-" + safe(talks.alias) + "-" + safe(d.id);
    const editor = el("textarea", { id: base + "-text", rows: 8, dir: "ltr", spellcheck: "false", class: "code" });
    editor.value = d.text;
    const save = el("button", { type: "submit", text: t("Deposit the new version") });
    const withdraw = el("button", { type: "button", class: "danger", "aria-label": t("Withdraw {deposit}", { deposit: d.id }), text: t("Withdraw") });
    withdraw.addEventListener("click", () => acting(withdraw, entry.error, null, "/api/escrow/withdraw", { talks: talks.alias, deposit: d.id }));
    const form = el("form", {}, el("label", { for: editor.id, text: t("The commitment (JSON)") }), editor, el("div", { class: "actions" }, save));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      acting(save, entry.error, null, "/api/escrow/amend", { talks: talks.alias, deposit: d.id, text: editor.value });
    });
    return el("div", { class: "inline" },
      el("details", { class: "amend" }, el("summary", { "aria-label": t("Amend {deposit}", { deposit: d.id }), text: t("Amend") }), form),
      withdraw,
    );
  }

  function sealedTable(talks) {
    const entries = Object.entries(talks.sealed).filter(([p]) => p !== talks.mediator);
    return el("table", { class: "data" },
      el("caption", { text: talks.mediating ? t("Open deposits per party") : t("Sealed: the other parties' open deposits, counted only") }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("Party") }), el("th", { scope: "col", text: t("Open deposits") }))),
      el("tbody", {}, ...entries.map(([p, n]) => el("tr", { "data-party": p }, el("th", { scope: "row", text: partyName(talks, p) }), el("td", { class: "number", text: number.format(n) })))),
    );
  }

  // --- a match ------------------------------------------------------------------------------------

  function stageText(talks, stage) {
    const party = stage.verified_by ? partyName(talks, stage.verified_by) : null;
    if (stage.simultaneous) return party ? t("Together, at the same time, verified by {party}.", { party }) : t("Together, at the same time.");
    return party ? t("In turn, verified by {party}.", { party }) : t("In turn.");
  }

  function describe(commitments, id) {
    for (const c of commitments) {
      const found = (c.actions || []).find((a) => a.id === id);
      const words = found && ((LANG === "ar" && found.description_ar) || found.description);
      if (words) return id + " — " + words;
    }
    return id;
  }

  function matchView(talks, m) {
    return el("section", { class: "escrow-match", "data-match": m.id, "aria-label": t("Match {match}", { match: m.id }) },
      el("h4", { text: t("Match {match}, announced {when}", { match: m.id, when: when(m.at) }) }),
      el("ul", {}, ...m.commitments.map((c) => el("li", { dir: "auto" },
        el("strong", { dir: "ltr", text: c.id }), " (" + partyName(talks, c.party) + ") ",
        ((c.commitments || [])[0] || {}).description || "",
      ))),
      el("h5", { text: t("The plan, in order") }),
      el("ol", { class: "plan" }, ...m.plan.map((stage) => el("li", {},
        el("ul", {}, ...stage.actions.map((a) => el("li", { dir: "auto", text: describe(m.commitments, a) }))),
        el("p", { class: "muted", text: stageText(talks, stage) }),
      ))),
      m.settled.length ? el("h5", { text: t("Terms settled") }) : null,
      m.settled.length ? el("ul", {}, ...m.settled.map((s) => el("li", { text: s.value === null
        ? t("{term} of {action}: no settled value, neither range is bounded", { term: s.term, action: s.action })
        : t("{term} of {action}: {value}", { term: s.term, action: s.action, value: number.format(s.value) }) }))) : null,
    );
  }

  function matchForm(talks, base) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const result = el("div", { class: "escrow-result", "aria-live": "polite" });
    const submit = el("button", { type: "submit", text: t("Match") });
    const node = el("form", { class: "escrow-form", "aria-labelledby": base + "-match-h" },
      el("h4", { id: base + "-match-h", text: t("Match the open deposits") }),
      el("p", { class: "muted", text: t("Your device finds the largest set of deposits that support each other and announces it, with its plan, to the parties concerned. Unmatched deposits stay sealed.") }),
      error, el("div", { class: "actions" }, submit), result,
    );
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.replaceChildren();
      const found = await acting(submit, error, null, "/api/escrow/match", { talks: talks.alias });
      if (!found) return;
      if (found.matched) {
        result.append(el("p", { role: "status", text: t("Matched and announced: {deposits}", { deposits: found.match.deposits.join(", ") }) }));
      } else {
        result.append(el("p", { class: "warning", role: "status", text: t("No match: no set of deposits supports itself yet. Everything stays sealed, and nothing was announced.") }));
        if (found.deadlock) result.append(el("h5", { text: t("Why (for the mediator only)") }), el("p", { lang: "en", dir: "ltr", text: found.deadlock }));
      }
    });
    return { node };
  }

  // --- depositing ---------------------------------------------------------------------------------

  function depositForm(talks, base) {
    const field = (name, label, input) => {
      input.id = base + "-" + name;
      return el("div", { class: "field" }, el("label", { for: input.id, text: label }), input);
    };
    const id = el("input", { type: "text", dir: "ltr", autocomplete: "off", required: true });
    const description = el("input", { type: "text", dir: "auto", autocomplete: "off" });
    const gives = el("textarea", { rows: 2, dir: "ltr", spellcheck: "false", placeholder: "party.action What it is" });
    const by = el("select", {});
    const requires = el("textarea", { rows: 2, dir: "ltr", spellcheck: "false", placeholder: "other.action What it is" });
    const mode = el("select", {}, el("option", { value: "all", text: t("all of them") }), el("option", { value: "any", text: t("any one of them") }));
    const after = el("input", { type: "checkbox", id: base + "-after" });
    const termAction = el("input", { type: "text", dir: "ltr", autocomplete: "off" });
    const termName = el("input", { type: "text", dir: "ltr", autocomplete: "off", placeholder: "percent" });
    const termKind = el("select", {}, el("option", { value: "offer", text: t("offered range") }), el("option", { value: "demand", text: t("demanded range") }));
    const low = el("input", { type: "number", step: "any", dir: "ltr" });
    const high = el("input", { type: "number", step: "any", dir: "ltr" });
    const pasted = el("textarea", { id: base + "-paste", rows: 8, dir: "ltr", spellcheck: "false", class: "code" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status", hidden: true });
    const submit = el("button", { type: "submit", text: t("Deposit sealed") });
    const paste = el("button", { type: "button", text: t("Deposit the pasted commitment") });
    by.replaceChildren(...talks.parties.filter((p) => p.role !== "mediator" && p.id !== talks.party).map((p) => el("option", { value: p.id, text: p.name })));
    const sealed = (result) => t("Deposited: {commitment} stays sealed unless it is reciprocated.", { commitment: result.deposit });

    const node = el("form", { class: "escrow-form escrow-deposit", "aria-labelledby": base + "-deposit-h" },
      el("h4", { id: base + "-deposit-h", text: t("Deposit a sealed commitment") }),
      field("id", t("Its id"), id),
      field("description", t("What it says, in words (optional)"), description),
      field("gives", t("It gives (one action per line: its id, then what it is)"), gives),
      field("by", t("If this party"), by),
      field("requires", t("gives (one action per line: its id, then what it is)"), requires),
      field("mode", t("The condition holds when it gives"), mode),
      el("div", { class: "choice" }, after, el("label", { for: after.id, text: t("And not before: the required actions are done first") })),
      el("fieldset", { class: "labels term" },
        el("legend", { text: t("A numeric term (optional)") }),
        field("term-action", t("Of the action"), termAction),
        field("term-name", t("Term"), termName),
        field("term-kind", t("Kind"), termKind),
        field("term-min", t("From"), low),
        field("term-max", t("To"), high),
      ),
      error, done,
      el("div", { class: "actions" }, submit),
      el("details", { class: "escrow-paste" },
        el("summary", { text: t("Or paste a commitment (JSON, docs/escrow.md)") }),
        el("label", { for: pasted.id, text: t("The commitment (JSON)") }), pasted,
        el("div", { class: "actions" }, paste),
      ),
    );
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        talks: talks.alias, id: id.value.trim(), description: description.value.trim(), gives: gives.value,
        requires: requires.value, requires_by: requires.value.trim() ? by.value : "", mode: mode.value, not_before: after.checked,
      };
      if (termAction.value.trim() || termName.value.trim()) {
        body.term = { action: termAction.value.trim(), term: termName.value.trim(), kind: termKind.value, min: low.value === "" ? null : Number(low.value), max: high.value === "" ? null : Number(high.value) };
      }
      if (await acting(submit, error, done, "/api/escrow/compose", body, sealed)) {
        for (const input of [id, description, gives, requires, termAction, termName, low, high]) input.value = "";
        after.checked = false;
      }
    });
    paste.addEventListener("click", async () => {
      if (await acting(paste, error, done, "/api/escrow/deposit", { talks: talks.alias, text: pasted.value }, sealed)) pasted.value = "";
    });
    return { node };
  }

  const escrowPage = window.backchannel.talksPage("escrow", {
    title: t("Escrow"),
    intro: t("Each party deposits what it would do and on what condition, from its own device. A deposit stays sealed unless it is reciprocated: only the mediator and the depositing party read it; the other parties count it."),
    endpoint: "/api/escrow",
    build: talksSection,
    update,
    explain,
  });
})();
