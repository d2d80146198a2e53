// The Escrow page: sealed conditional commitments ("we will do X if they do Y, and not before").
// The page holds the escrow as one object in the file format of docs/escrow.md (parties, actions,
// and the commitments deposited so far), edits it with a deposit form or as JSON, and sends it
// whole to /api/escrow/match, which answers what `backchannel match --json [--as PARTY]` prints:
// the matched commitments and the plan in stages, or "no match" with what is unmet. A party's view
// shows the others' unmatched commitments only as counts. The escrow lives in this browser tab
// (sessionStorage, like the drafts: it survives a reload, not the tab); nothing reaches the host.
"use strict";

(() => {
  const { t, el, api, refusal, fail, LANG } = window.backchannel;

  // The escrow the page starts from: scenarios/muscat-2024.escrow.json (a test checks it is).
  // example:escrow
  const EXAMPLE = {
    "title": "Muscat, January 2024: what each side would do, and on what condition",
    "parties": [
      {"id": "us", "name": "United States"},
      {"id": "iran", "name": "Iran"},
      {"id": "oman", "name": "Oman", "role": "mediator"}
    ],
    "actions": [
      {
        "id": "iran.halve_attacks",
        "by": "iran",
        "description": "Use Iran's influence to cut attacks on Red Sea shipping and on US bases by at least half",
        "description_ar": "استخدام نفوذ إيران لخفض الهجمات على الملاحة في البحر الأحمر وعلى القواعد الأمريكية إلى النصف على الأقل",
        "guarantor": "oman"
      },
      {
        "id": "iran.restrain_groups",
        "by": "iran",
        "description": "Rein in allied groups: stop Houthi attacks on Red Sea shipping and attacks on US bases in Iraq and Syria",
        "description_ar": "كبح الجماعات الحليفة: وقف هجمات الحوثيين على الملاحة في البحر الأحمر والهجمات على القواعد الأمريكية في العراق وسوريا"
      },
      {
        "id": "us.gaza_ceasefire",
        "by": "us",
        "description": "Bring about a ceasefire in Gaza",
        "description_ar": "التوصل إلى وقف لإطلاق النار في غزة"
      }
    ],
    "commitments": [
      {
        "id": "iran-halving-if-ceasefire",
        "party": "iran",
        "description": "Iran does not control these groups, but will use its influence to cut attacks by at least half if a Gaza ceasefire is reached, and not before.",
        "gives": ["iran.halve_attacks"],
        "requires": "us.gaza_ceasefire",
        "not_before": ["us.gaza_ceasefire"],
        "terms": [{"action": "iran.halve_attacks", "term": "reduction_pct", "offer": {"min": 50, "max": 100}}]
      },
      {
        "id": "us-restraint-first",
        "party": "us",
        "description": "The United States asks that Iran rein in the groups it backs, first; it offers nothing in return.",
        "gives": [],
        "requires": "iran.restrain_groups"
      }
    ]
  };
  // example:end

  const number = new Intl.NumberFormat(LANG, { maximumFractionDigits: 2 });
  const copy = (value) => JSON.parse(JSON.stringify(value));
  const KEPT = "backchannel.escrow";
  let escrow = kept() || copy(EXAMPLE);
  let root = null;
  let parts = null;

  // --- reading the escrow object ------------------------------------------------------------------

  const partyEntries = () => (escrow.parties || []).map((p) => (typeof p === "string" ? { id: p } : p));
  const mediator = () => partyEntries().find((p) => p.role === "mediator")?.id || null;
  function parties() {
    const listed = partyEntries().filter((p) => p.role !== "mediator").map((p) => p.id);
    if (listed.length) return listed;
    return [...new Set([...(escrow.actions || []).map((a) => a.by), ...(escrow.commitments || []).map((c) => c.party)])];
  }
  const partyName = (id) => partyEntries().find((p) => p.id === id)?.name || id;
  const action = (id) => (escrow.actions || []).find((a) => a.id === id);
  function describe(id) {
    const found = action(id);
    const words = found && ((LANG === "ar" && found.description_ar) || found.description);
    return words ? id + " — " + words : id;
  }
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

  // --- the page -----------------------------------------------------------------------------------

  function draw(node) {
    if (root) return; // built once: forms keep what the user is typing
    root = node;
    parts = {
      deposited: el("div", { class: "escrow-deposited" }),
      deposit: depositForm(),
      file: fileEditor(),
      match: matchForm(),
      result: el("div", { class: "escrow-result", "aria-live": "polite" }),
    };
    node.append(
      el("h2", { text: t("Escrow") }),
      el("p", { class: "muted", text: t("Each party deposits what it would do and on what condition. A commitment stays sealed unless it is reciprocated: a party's view shows only counts of the others' unmatched commitments.") }),
      parts.deposited,
      parts.deposit.node,
      parts.match.node,
      parts.result,
      parts.file.node,
    );
    changed();
  }

  /** The escrow this tab last held, if any. */
  function kept() {
    try {
      const value = JSON.parse(window.sessionStorage.getItem(KEPT));
      return value && typeof value === "object" && !Array.isArray(value) ? value : null;
    } catch (exc) {
      return null;
    }
  }

  /** The escrow object changed: redraw what is derived from it (never a field being typed in). */
  function changed() {
    try {
      window.sessionStorage.setItem(KEPT, JSON.stringify(escrow));
    } catch (exc) {
      // storage full or refused: the page still works, a reload brings back the example
    }
    parts.deposited.replaceChildren(depositedTable());
    parts.deposit.refresh();
    parts.match.refresh();
    parts.file.editor.value = JSON.stringify(escrow, null, 2);
  }

  function depositedTable() {
    const commitments = escrow.commitments || [];
    if (!commitments.length) return el("p", { class: "muted", text: t("No commitment is deposited yet.") });
    return el("table", { class: "data" },
      el("caption", { text: t("Deposited commitments (sealed)") }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: t("Commitment") }),
        el("th", { scope: "col", text: t("Party") }),
        el("th", { scope: "col", text: t("Gives") }),
        el("th", { scope: "col", text: t("Requires") }),
        el("th", { scope: "col", text: t("Not before") }),
        el("th", { scope: "col", text: t("Terms") }),
        el("th", { scope: "col", text: t("Withdraw") }),
      )),
      el("tbody", {}, ...commitments.map((c, i) => el("tr", {},
        el("th", { scope: "row", dir: "auto" }, el("span", { dir: "ltr", text: c.id }), c.description ? el("span", { class: "muted block", dir: "auto", text: c.description }) : null),
        el("td", { text: partyName(c.party) }),
        el("td", { dir: "ltr", text: (c.gives || []).join(", ") || "—" }),
        el("td", { text: conditionText(c.requires) }),
        el("td", { dir: "ltr", text: (c.not_before || []).join(", ") || "—" }),
        el("td", { text: (c.terms || []).map(termText).join("; ") || "—" }),
        el("td", {}, el("button", { type: "button", class: "danger", "aria-label": t("Withdraw {commitment}", { commitment: c.id }), text: t("Withdraw"), onclick: () => {
          escrow.commitments.splice(i, 1);
          changed();
        } })),
      ))),
    );
  }

  // --- depositing -------------------------------------------------------------------------------------

  function depositForm() {
    const party = el("select", { id: "escrow-party", required: true });
    const id = el("input", { id: "escrow-id", type: "text", dir: "ltr", autocomplete: "off" });
    const description = el("input", { id: "escrow-description", type: "text", dir: "auto", autocomplete: "off" });
    const gives = el("fieldset", { class: "labels" });
    const requires = el("fieldset", { class: "labels" });
    const mode = el("select", { id: "escrow-mode" },
      el("option", { value: "all", text: t("all of the actions ticked") }),
      el("option", { value: "any", text: t("any one of the actions ticked") }),
    );
    const after = el("input", { id: "escrow-after", type: "checkbox" });
    const termAction = el("select", { id: "escrow-term-action" });
    const termName = el("input", { id: "escrow-term-name", type: "text", dir: "ltr", autocomplete: "off", placeholder: "reduction_pct" });
    const termKind = el("select", { id: "escrow-term-kind" },
      el("option", { value: "offer", text: t("offered range") }),
      el("option", { value: "demand", text: t("demanded range") }),
    );
    const low = el("input", { id: "escrow-term-min", type: "number", step: "any", dir: "ltr" });
    const high = el("input", { id: "escrow-term-max", type: "number", step: "any", dir: "ltr" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status", hidden: true });
    const submit = el("button", { type: "submit", text: t("Deposit sealed") });

    function checkboxes(box, legend, name, actions) {
      const ticked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
      box.replaceChildren(el("legend", { text: legend }));
      if (!actions.length) box.append(el("p", { class: "muted", text: t("No action to choose.") }));
      actions.forEach((a, n) => {
        const inputId = `escrow-${name}-${n}`;
        box.append(el("div", { class: "choice" },
          el("input", { type: "checkbox", id: inputId, name, value: a.id, checked: ticked.has(a.id) }),
          el("label", { for: inputId, text: describe(a.id) }),
        ));
      });
    }
    function refresh() {
      const chosen = party.value;
      party.replaceChildren(...parties().map((p) => el("option", { value: p, selected: p === chosen, text: partyName(p) })));
      const actions = escrow.actions || [];
      checkboxes(gives, t("It gives (its own actions)"), "gives", actions.filter((a) => a.by === party.value));
      checkboxes(requires, t("If the others give"), "requires", actions.filter((a) => a.by !== party.value));
      const termChosen = termAction.value;
      termAction.replaceChildren(el("option", { value: "", text: t("No term") }), ...actions.map((a) => el("option", { value: a.id, selected: a.id === termChosen, text: a.id })));
    }
    party.addEventListener("change", refresh);

    const node = el("form", { class: "escrow-form", "aria-labelledby": "escrow-deposit-heading" },
      el("h3", { id: "escrow-deposit-heading", text: t("Deposit a sealed commitment") }),
      el("div", { class: "field" }, el("label", { for: "escrow-party", text: t("Party") }), party),
      el("div", { class: "field" }, el("label", { for: "escrow-id", text: t("Name of the commitment (optional)") }), id),
      el("div", { class: "field" }, el("label", { for: "escrow-description", text: t("What it says, in words (optional)") }), description),
      gives,
      requires,
      el("div", { class: "field" }, el("label", { for: "escrow-mode", text: t("The condition holds when the others give") }), mode),
      el("div", { class: "choice" }, after, el("label", { for: "escrow-after", text: t("And not before: the required actions are done first") })),
      el("fieldset", { class: "labels term" },
        el("legend", { text: t("A numeric term (optional)") }),
        el("div", { class: "field" }, el("label", { for: "escrow-term-action", text: t("Of the action") }), termAction),
        el("div", { class: "field" }, el("label", { for: "escrow-term-name", text: t("Term") }), termName),
        el("div", { class: "field" }, el("label", { for: "escrow-term-kind", text: t("Kind") }), termKind),
        el("div", { class: "field" }, el("label", { for: "escrow-term-min", text: t("From") }), low),
        el("div", { class: "field" }, el("label", { for: "escrow-term-max", text: t("To") }), high),
      ),
      error,
      done,
      el("div", { class: "actions" }, submit),
    );

    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = done.hidden = true;
      const ticked = (box) => [...box.querySelectorAll("input:checked")].map((i) => i.value);
      const given = ticked(gives);
      const required = ticked(requires);
      const existing = new Set((escrow.commitments || []).map((c) => c.id));
      let name = id.value.trim(); // a name already used is refused by the check below
      for (let n = existing.size + 1; !name; n += 1) if (!existing.has(`${party.value}-${n}`)) name = `${party.value}-${n}`;
      const commitment = { id: name, party: party.value, gives: given };
      if (description.value.trim()) commitment.description = description.value.trim();
      if (required.length === 1) commitment.requires = required[0];
      else if (required.length > 1) commitment.requires = { [mode.value]: required };
      if (after.checked) commitment.not_before = required;
      if (termAction.value) {
        if (!termName.value.trim()) return fail(error, t("Name the term, or choose no term."));
        const range = {};
        if (low.value !== "") range.min = Number(low.value);
        if (high.value !== "") range.max = Number(high.value);
        commitment.terms = [{ action: termAction.value, term: termName.value.trim(), [termKind.value]: range }];
      }
      const candidate = { ...escrow, commitments: [...(escrow.commitments || []), commitment] };
      submit.disabled = true;
      try {
        await api("/api/escrow/match", { escrow: candidate, as: null }); // checks it, keeps nothing
        escrow = candidate;
        for (const field of [id, description, termName, low, high]) field.value = "";
        for (const box of [gives, requires]) for (const input of box.querySelectorAll("input")) input.checked = false;
        after.checked = false;
        termAction.value = "";
        changed();
        fail(done, t("Deposited: {commitment} stays sealed unless it is reciprocated.", { commitment: name }));
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        submit.disabled = false;
      }
    });
    return { node, refresh };
  }

  function explain(problem) {
    if (problem.code === "escrow.invalid") {
      return t("The escrow is not valid: {reason}", { reason: problem.detail }) + " [" + problem.code + "]";
    }
    return refusal(problem);
  }

  // --- matching ---------------------------------------------------------------------------------------

  function matchForm() {
    const viewer = el("select", { id: "escrow-viewer" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit", text: t("Match") });
    function refresh() {
      const chosen = viewer.value;
      const mine = mediator();
      viewer.replaceChildren(
        el("option", { value: "", text: mine ? t("The mediator ({party}): everything", { party: partyName(mine) }) : t("The mediator: everything") }),
        ...parties().map((p) => el("option", { value: p, selected: p === chosen, text: t("{party}: its sealed view", { party: partyName(p) }) })),
      );
    }
    const node = el("form", { class: "escrow-form", "aria-labelledby": "escrow-match-heading" },
      el("h3", { id: "escrow-match-heading", text: t("Match the commitments") }),
      el("div", { class: "inline" }, el("label", { for: "escrow-viewer", text: t("Show the result as") }), viewer),
      error,
      el("div", { class: "actions" }, submit),
    );
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      try {
        const result = await api("/api/escrow/match", { escrow, as: viewer.value || null });
        parts.result.replaceChildren(matchResult(result));
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        submit.disabled = false;
      }
    });
    return { node, refresh };
  }

  function matchResult(result) {
    const nodes = [el("h3", { text: result.view === "mediator" ? t("The mediator's view") : t("The view of {party}", { party: partyName(result.view) }) })];
    if (!result.matched.length) {
      nodes.push(el("p", { class: "warning", role: "status", text: t("No match: no set of commitments supports itself yet. Everything stays sealed.") }));
    } else {
      nodes.push(el("p", { role: "status", text: t("Matched: {commitments}", { commitments: result.matched.join(", ") }) }));
      nodes.push(el("h4", { text: t("The plan, in order") }), el("ol", { class: "plan" }, ...result.plan.map((stage) => el("li", {},
        el("ul", {}, ...stage.actions.map((a) => el("li", { dir: "auto", text: describe(a) }))),
        el("p", { class: "muted", text: stage.simultaneous
          ? (stage.verified_by ? t("Together, at the same time, verified by {party}.", { party: partyName(stage.verified_by) }) : t("Together, at the same time."))
          : (stage.verified_by ? t("In turn, verified by {party}.", { party: partyName(stage.verified_by) }) : t("In turn.")) }),
      ))));
      if (result.settlements.length) {
        nodes.push(el("h4", { text: t("Terms settled") }), el("ul", {}, ...result.settlements.map((s) => el("li", { text: s.value === null
          ? t("{term} of {action}: no settled value, neither range is bounded", { term: s.term, action: s.action })
          : t("{term} of {action}: {value}", { term: s.term, action: s.action, value: number.format(s.value) }) }))));
      }
    }
    nodes.push(el("table", { class: "data" },
      el("caption", { text: t("Still sealed: unmatched commitments per party") }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("Party") }), el("th", { scope: "col", text: t("Sealed") }))),
      el("tbody", {}, ...Object.entries(result.sealed).map(([p, n]) => el("tr", {}, el("th", { scope: "row", text: partyName(p) }), el("td", { class: "number", text: number.format(n) })))),
    ));
    const unmet = Object.entries(result.unmet);
    if (unmet.length) {
      nodes.push(el("h4", { text: t("Unmet") }), el("ul", {}, ...unmet.map(([p, actions]) => el("li", { text: t("{party} still needs: {actions}", { party: partyName(p), actions: actions.join(", ") }) }))));
    }
    if (result.deadlock) {
      nodes.push(el("h4", { text: t("Why (for the mediator only)") }), el("p", { lang: "en", dir: "ltr", text: result.deadlock }));
    }
    if (result.commitments.length) {
      nodes.push(el("table", { class: "data" },
        el("caption", { text: t("Commitments this view shows") }),
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: t("Commitment") }),
          el("th", { scope: "col", text: t("Party") }),
          el("th", { scope: "col", text: t("Matched") }),
          el("th", { scope: "col", text: t("Gives") }),
          el("th", { scope: "col", text: t("Requires") }),
        )),
        el("tbody", {}, ...result.commitments.map((c) => el("tr", {},
          el("th", { scope: "row", dir: "ltr", text: c.id }),
          el("td", { text: partyName(c.party) }),
          el("td", { text: c.matched ? t("yes") : t("no, sealed") }),
          el("td", { dir: "ltr", text: c.gives.join(", ") || "—" }),
          el("td", { text: conditionText(c.requires) }),
        ))),
      ));
    }
    return el("div", {}, ...nodes);
  }

  // --- the file ---------------------------------------------------------------------------------------

  function fileEditor() {
    const editor = el("textarea", { id: "escrow-file", rows: 16, dir: "ltr", spellcheck: "false", class: "code" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const apply = el("button", { type: "submit", text: t("Use this file") });
    const node = el("details", { class: "escrow-file" },
      el("summary", { text: t("The escrow as a file (JSON, docs/escrow.md): copy it, or paste one") }),
      el("form", {},
        el("label", { for: "escrow-file", text: t("Escrow file") }),
        editor,
        error,
        el("div", { class: "actions" }, apply, el("button", { type: "button", text: t("Restore the example"), onclick: () => {
          escrow = copy(EXAMPLE);
          error.hidden = true;
          changed();
        } })),
      ),
    );
    node.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      let candidate;
      try {
        candidate = JSON.parse(editor.value);
      } catch (exc) {
        return fail(error, t("The escrow is not valid JSON: {reason}", { reason: exc.message }));
      }
      apply.disabled = true;
      try {
        await api("/api/escrow/match", { escrow: candidate, as: null });
        escrow = candidate;
        changed();
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        apply.disabled = false;
      }
    });
    return { node, editor };
  }

  window.backchannel.page("escrow", t("Escrow"), draw);
})();
