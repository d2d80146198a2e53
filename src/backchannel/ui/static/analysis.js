// The Analysis page, per talks: private preferences inside the talks. The mediator sets the
// agenda (issues and their options) through /api/preferences/agenda; each party scores it on its
// own device, Inspire-style — 100 points spread over the issues, with a running total, and a value
// from 0 to 100 for each option — and submits through /api/preferences/scores: the scores go
// sealed to the mediator's devices and the party's own. Every device shows who scored; a party's
// page shows only its own scores and utilities (its device holds no other party's); the
// mediator's page shows the analysis of what its device holds (/api/preferences: the frontier
// drawn as an SVG built with DOM calls — the CSP allows no inline markup — with Nash and
// Kalai–Smorodinsky marked, the tables, Adjusted Winner for two parties) and puts a package to
// the parties as an offer in a room (/api/preferences/offer). Forms are built once per agenda
// version, so what is typed survives every refresh.
"use strict";

(() => {
  const { t, el, api, refusal, fail, LANG } = window.backchannel;
  const SVG = "http://www.w3.org/2000/svg";
  const number = new Intl.NumberFormat(LANG, { maximumFractionDigits: 2 });
  const share = new Intl.NumberFormat(LANG, { style: "percent", maximumFractionDigits: 1 });
  const count = new Intl.NumberFormat(LANG);
  // The most frontier points the table lists (the chart draws them all).
  const ROWS = 200;
  // The agenda the mediator's editor starts from when the talks have none yet.
  const AGENDA_EXAMPLE = {
    issues: [
      { id: "gaza_ceasefire", name: "Ceasefire in Gaza", options: ["none", "pause", "full"] },
      { id: "red_sea_attacks", name: "Attacks on Red Sea shipping", options: ["continue", "halved", "stopped"] },
      { id: "sequencing", name: "Who moves first", options: ["us_first", "simultaneous", "iran_first"] },
    ],
  };
  const LABELS = {
    "carry-verbatim": () => t("Carry verbatim"),
    "carry-gist": () => t("Carry the gist"),
    "mediator-only": () => t("Mediator only"),
  };
  const PACKAGES = {
    nash: () => t("Nash"),
    kalai_smorodinsky: () => t("Kalai–Smorodinsky"),
    max_joint_gain: () => t("Maximum joint gain"),
  };
  const pretty = (value) => JSON.stringify(value, null, 2);
  const safe = (text) => text.replace(/[^A-Za-z0-9_-]/g, "_");
  const issueName = (issue) => issue.name || issue.id;

  // --- one talks ---------------------------------------------------------------------------------

  function talksSection(talks) {
    const key = safe(talks.alias);
    const heading = el("h3", { id: "prefs-" + key });
    const section = el("section", { class: "preferences", "data-talks": talks.alias, "aria-labelledby": heading.id },
      heading,
      el("ul", { class: "scored", "aria-label": t("Who has scored the agenda") }),
      el("div", { class: "agenda" }),
      el("div", { class: "scores" }),
      el("div", { class: "analysis-result", "aria-live": "polite" }),
      el("div", { class: "offer" }),
    );
    return { section, key, heading, version: null, agendaForm: null, shown: null };
  }

  function update(entry, talks) {
    const { section } = entry;
    const agenda = talks.agenda;
    entry.heading.textContent = talks.title || talks.alias;
    const scored = section.querySelector("ul.scored");
    scored.replaceChildren(...(agenda ? Object.entries(talks.submitted).map(([party, done]) => el("li", { "data-party": party, "data-scored": done ? "yes" : "no",
      text: (done ? t("{party} has scored agenda version {version}.", { party: talks.parties[party] || party, version: agenda.version })
        : t("{party} has not scored agenda version {version} yet.", { party: talks.parties[party] || party, version: agenda.version })) }))
      : [el("li", { text: t("No agenda yet: the mediator sets the issues and options to score.") })]));
    if (talks.mediator) {
      if (!entry.agendaForm) {
        entry.agendaForm = agendaForm(talks);
        section.querySelector("div.agenda").replaceChildren(entry.agendaForm);
      }
      mediatorView(entry, talks);
    } else if (agenda && entry.version !== agenda.version) {
      entry.version = agenda.version;
      section.querySelector("div.scores").replaceChildren(scoresForm(talks, entry.key));
    }
  }

  // --- the mediator: the agenda --------------------------------------------------------------------

  function agendaForm(talks) {
    const id = "agenda-" + safe(talks.alias);
    const editor = el("textarea", { id, rows: 12, dir: "ltr", spellcheck: "false", class: "code" });
    editor.value = pretty(talks.agenda ? { issues: talks.agenda.issues } : AGENDA_EXAMPLE);
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status", hidden: true });
    const submit = el("button", { type: "submit", text: t("Set the agenda") });
    const form = el("form", { class: "agenda-form" },
      el("h4", { text: t("The agenda to score") }),
      el("label", { for: id, text: t("Agenda (JSON: issues, each with an id, a name and its options)") }),
      editor, error, done, el("div", { class: "actions" }, submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = done.hidden = true;
      let agenda;
      try {
        agenda = JSON.parse(editor.value);
      } catch (exc) {
        return fail(error, t("The agenda is not valid JSON: {reason}", { reason: exc.message }));
      }
      await acting(submit, error, done, "/api/preferences/agenda", { talks: talks.alias, agenda },
        (result) => t("Agenda version {version} set: every party can score it.", { version: result.agenda.version }), true);
    });
    return form;
  }

  /** Send a form's act: its button disabled meanwhile, then `success(result)` or the refusal
   *  shown, and (with `reload`) every page refreshed. */
  async function acting(submit, error, done, path, body, success, reload) {
    error.hidden = done.hidden = true;
    submit.disabled = true;
    try {
      const result = await api(path, body);
      fail(done, success(result));
      if (reload) await window.backchannel.refresh();
    } catch (problem) {
      fail(error, refusal(problem));
    } finally {
      submit.disabled = false;
    }
  }

  // --- a party: my scores ----------------------------------------------------------------------------

  function scoresForm(talks, key) {
    const agenda = talks.agenda;
    const mine = talks.mine && talks.mine.current ? talks.mine : null;
    const even = Math.floor(100 / agenda.issues.length);
    const inputs = [];
    const total = el("p", { class: "points-total", role: "status", "aria-live": "polite" });
    const utility = el("p", { class: "muted own-utility", "aria-live": "polite" });
    const field = (id, label, value) => {
      const input = el("input", { id, type: "number", min: 0, max: 100, step: 1, inputmode: "numeric", required: true, value });
      return [input, el("label", { for: id, text: label })];
    };
    const fieldsets = agenda.issues.map((issue, n) => {
      const [points, pointsLabel] = field(`${key}-points-${n}`, t("Points for {issue}", { issue: issueName(issue) }),
        mine ? mine.points[issue.id] : n === 0 ? 100 - even * (agenda.issues.length - 1) : even);
      const options = issue.options.map((option, k) => {
        const value = mine ? mine.values[issue.id][option] : Math.round((100 * k) / Math.max(1, issue.options.length - 1));
        const [input, label] = field(`${key}-value-${n}-${k}`, t("Value of “{option}”", { option }), value);
        return { option, input, row: el("div", { class: "option" }, label, input) };
      });
      inputs.push({ issue, points, options });
      return el("fieldset", { class: "issue", "data-issue": issue.id },
        el("legend", { text: issueName(issue) }),
        el("div", { class: "option points" }, pointsLabel, points),
        ...options.map((o) => o.row));
    });
    const [reservation, reservationLabel] = field(`${key}-reservation`, t("Reservation: your utility without agreement (0 to 100)"), mine ? mine.reservation || 0 : 0);
    const note = el("textarea", { id: `${key}-note`, rows: 2 });
    note.value = mine ? mine.note || "" : "";
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status", hidden: !talks.mine });
    if (talks.mine) done.textContent = talks.mine.current ? t("Your party's scores of this version are submitted; submitting again replaces them.") : t("Your party's scores are of an earlier agenda version: score this one.");
    const submit = el("button", { type: "submit", text: t("Submit my scores") });

    function recount() {
      const sum = inputs.reduce((s, i) => s + (Number(i.points.value) || 0), 0);
      total.textContent = t("Points given: {total} of 100", { total: count.format(sum) });
      total.dataset.total = String(sum);
      total.classList.toggle("warning", sum !== 100);
      // My utility for my best package, as the engine computes it: Σ points × value / 100.
      const best = inputs.reduce((s, i) => s + (Number(i.points.value) || 0) * Math.max(...i.options.map((o) => Number(o.input.value) || 0)), 0) / 100;
      utility.textContent = t("With these scores, your best package is worth {utility} to you (out of 100).", { utility: number.format(best) });
    }
    const form = el("form", { class: "scores-form" },
      el("h4", { text: t("My party's scores (agenda version {version})", { version: agenda.version }) }),
      el("p", { class: "muted", text: t("Spread 100 points over the issues by how much each matters to your party, then give each option a value from 0 (worst) to 100 (best). Only the mediator's devices and your party's own receive them.") }),
      ...fieldsets, total, utility,
      el("div", { class: "option" }, reservationLabel, reservation),
      el("label", { for: note.id, text: t("Private note (sent with the scores, to the same devices only)") }), note,
      error, done, el("div", { class: "actions" }, submit));
    form.addEventListener("input", recount);
    recount();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const points = {}, values = {};
      for (const { issue, points: p, options } of inputs) {
        points[issue.id] = Number(p.value);
        values[issue.id] = Object.fromEntries(options.map((o) => [o.option, Number(o.input.value)]));
      }
      await acting(submit, error, done, "/api/preferences/scores",
        { talks: talks.alias, points, values, reservation: Number(reservation.value), note: note.value },
        () => t("Submitted: sealed to the mediator's devices and your party's own."), true);
    });
    return form;
  }

  // --- the mediator: the analysis and an offer -------------------------------------------------------

  function mediatorView(entry, talks) {
    const result = talks.analysis;
    const fingerprint = JSON.stringify(result);
    if (entry.shown === fingerprint) return;
    entry.shown = fingerprint;
    const node = entry.section.querySelector("div.analysis-result");
    const offer = entry.section.querySelector("div.offer");
    if (!result) {
      node.replaceChildren(el("p", { class: "muted", text: t("The analysis appears here once two parties have scored the current agenda.") }));
      offer.replaceChildren();
      return;
    }
    const names = talks.parties;
    const named = (ids) => ids.map((p) => names[p] || p);
    const shown = { ...result, parties: named(result.parties), trades: result.trades.map((tr) => ({ ...tr, parties: named(tr.parties) })) };
    node.replaceChildren(paretoResult(shown), ...(result.adjusted_winner ? [divisionResult(result.adjusted_winner, names)] : []));
    offer.replaceChildren(offerForm(talks, result));
  }

  function offerForm(talks, result) {
    const key = safe(talks.alias);
    const which = el("select", { id: `${key}-offer-package` },
      ...Object.entries(PACKAGES).filter(([k]) => result[k]).map(([k, name]) => el("option", { value: k, text: name() })));
    const room = el("select", { id: `${key}-offer-room` }, ...talks.rooms.map((r) => el("option", { value: r.id, text: r.name })));
    const label = el("select", { id: `${key}-offer-label` }, ...Object.entries(LABELS).map(([k, name]) => el("option", { value: k, text: name() })));
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status", hidden: true });
    const submit = el("button", { type: "submit", text: t("Put this package as an offer"), disabled: !talks.rooms.length || !which.options.length });
    const form = el("form", { class: "offer-form" },
      el("h4", { text: t("Put a package to the parties") }),
      el("div", { class: "inline" }, el("label", { for: which.id, text: t("Package") }), which),
      el("div", { class: "inline" }, el("label", { for: room.id, text: t("Room") }), room),
      el("div", { class: "inline" }, el("label", { for: label.id, text: t("Carry label") }), label),
      error, done, el("div", { class: "actions" }, submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await acting(submit, error, done, "/api/preferences/offer",
        { talks: talks.alias, room: room.value, package: result[which.value].package, label: label.value },
        (made) => t("Offered in the room: {text}", { text: made.text }), false);
    });
    return form;
  }

  const packageText = (pkg) => Object.entries(pkg).map(([issue, option]) => issue + " = " + option).join(", ");

  // --- Pareto -----------------------------------------------------------------------------------

  function paretoResult(result) {
    const parties = result.parties;
    const nodes = [
      el("h3", { text: t("Result") }),
      el("p", { text: t("{size} possible packages; {points} distinct outcomes on the Pareto frontier.", { size: count.format(result.size), points: count.format(result.frontier.length) }) }),
    ];
    if (result.no_zopa) {
      nodes.push(el("p", { class: "warning", role: "status", text: t("No package gives every party its reservation: there is no zone of possible agreement, so Nash and Kalai–Smorodinsky are undefined.") }));
    }
    if (parties.length > 2) {
      nodes.push(el("p", { class: "muted", text: t("The chart shows the first two parties only; the tables show every party.") }));
    }
    nodes.push(chart(result));
    nodes.push(solutionsTable(result), frontierTable(result));
    if (result.trades.length) {
      nodes.push(el("h4", { text: t("Where log-rolling pays") }), el("ul", { class: "trades" },
        ...result.trades.slice(0, 5).map((trade) => el("li", { text: t("{first} cares relatively more about {one}, {second} about {other}: each can concede the other.", { first: trade.parties[0], one: trade.issues[0], second: trade.parties[1], other: trade.issues[1] }) })),
      ));
    }
    return el("div", {}, ...nodes);
  }

  function solutionsTable(result) {
    const rows = [
      [t("Nash"), result.nash],
      [t("Kalai–Smorodinsky"), result.kalai_smorodinsky],
      [t("Egalitarian"), result.egalitarian],
      [t("Maximum joint gain"), result.max_joint_gain],
    ];
    return el("table", { class: "data" },
      el("caption", { text: t("Where a deal could lie") }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: t("Solution") }),
        ...result.parties.map((p) => el("th", { scope: "col", text: t("Utility for {party}", { party: p }) })),
        el("th", { scope: "col", text: t("Package") }),
      )),
      el("tbody", {}, ...rows.map(([name, point]) => el("tr", {},
        el("th", { scope: "row", text: name }),
        ...(point
          ? [...point.utilities.map((u) => el("td", { class: "number", text: number.format(u) })), el("td", { dir: "ltr", text: packageText(point.package) })]
          : [el("td", { colspan: result.parties.length + 1, text: t("No zone of agreement") })]),
      ))),
    );
  }

  function frontierTable(result) {
    const shown = result.frontier.slice(0, ROWS);
    return el("table", { class: "data" },
      el("caption", { text: shown.length < result.frontier.length
        ? t("The Pareto frontier: the first {shown} of {total} points", { shown: count.format(shown.length), total: count.format(result.frontier.length) })
        : t("The Pareto frontier") }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: "#" }),
        ...result.parties.map((p) => el("th", { scope: "col", text: t("Utility for {party}", { party: p }) })),
        el("th", { scope: "col", text: t("Packages reaching it") }),
        el("th", { scope: "col", text: t("One such package") }),
      )),
      el("tbody", {}, ...shown.map((point, i) => el("tr", {},
        el("th", { scope: "row", text: count.format(i + 1) }),
        ...point.utilities.map((u) => el("td", { class: "number", text: number.format(u) })),
        el("td", { class: "number", text: count.format(point.count) }),
        el("td", { dir: "ltr", text: packageText(point.package) }),
      ))),
    );
  }

  // --- the chart --------------------------------------------------------------------------------

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  /** Round tick values covering [low, high]: the step of 1, 2 or 5 × 10^k nearest ``wanted`` ticks. */
  function ticks(low, high, wanted = 5) {
    const span = high - low || 1;
    const magnitude = 10 ** Math.floor(Math.log10(span / wanted));
    const steps = [1, 2, 5, 10].map((m) => m * magnitude);
    const step = steps.reduce((best, s) => (Math.abs(span / s - wanted) < Math.abs(span / best - wanted) ? s : best));
    const out = [];
    for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
    return out;
  }

  function chart(result) {
    const [first, second] = result.parties;
    // The plot on the left, the legend to its right, outside it: it never hides a point.
    const width = 760, height = 400, plotRight = 530;
    const left = 64, top = 20, bottom = 56;
    const points = result.frontier.map((p) => p.utilities);
    const marks = [result.nash, result.kalai_smorodinsky].filter(Boolean).map((p) => p.utilities);
    const xs = [...points, ...marks].map((u) => u[0]).concat(result.reservations[0]);
    const ys = [...points, ...marks].map((u) => u[1]).concat(result.reservations[1]);
    const pad = (lo, hi) => { const d = (hi - lo) * 0.06 || 1; return [lo - d, hi + d]; };
    const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
    const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
    const X = (v) => left + ((v - x0) / (x1 - x0)) * (plotRight - left);
    const Y = (v) => height - bottom - ((v - y0) / (y1 - y0)) * (height - top - bottom);

    const title = t("The Pareto frontier: utility for {first} across, for {second} up", { first, second });
    const described = [];
    if (result.nash) described.push(t("Nash point: {first} {x}, {second} {y}.", { first, second, x: number.format(result.nash.utilities[0]), y: number.format(result.nash.utilities[1]) }));
    if (result.kalai_smorodinsky) described.push(t("Kalai–Smorodinsky point: {first} {x}, {second} {y}.", { first, second, x: number.format(result.kalai_smorodinsky.utilities[0]), y: number.format(result.kalai_smorodinsky.utilities[1]) }));
    const ids = { title: "analysis-chart-title", desc: "analysis-chart-desc" };
    const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": ids.title, "aria-describedby": ids.desc },
      svg("title", { id: ids.title, text: title }),
      svg("desc", { id: ids.desc, text: described.join(" ") || t("No zone of agreement") }),
    );

    const axes = svg("g", { class: "axes" },
      svg("line", { class: "axis", x1: left, y1: height - bottom, x2: plotRight, y2: height - bottom }),
      svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }),
    );
    for (const v of ticks(x0, x1)) {
      axes.append(svg("line", { class: "tick", x1: X(v), y1: height - bottom, x2: X(v), y2: height - bottom + 5 }),
        svg("text", { class: "tick-label", x: X(v), y: height - bottom + 18, "text-anchor": "middle", text: number.format(v) }));
    }
    for (const v of ticks(y0, y1)) {
      axes.append(svg("line", { class: "tick", x1: left - 5, y1: Y(v), x2: left, y2: Y(v) }),
        svg("text", { class: "tick-label", x: left - 8, y: Y(v) + 4, "text-anchor": "end", text: number.format(v) }));
    }
    axes.append(
      svg("text", { class: "axis-label", x: (left + plotRight) / 2, y: height - 14, "text-anchor": "middle", text: t("Utility for {party}", { party: first }) }),
      svg("text", { class: "axis-label", x: 0, y: 0, "text-anchor": "middle", transform: `translate(16 ${(top + height - bottom) / 2}) rotate(-90)`, text: t("Utility for {party}", { party: second }) }),
    );
    root.append(axes);

    // Reservations: the acceptable region is up and to the right of both dashed lines.
    root.append(svg("g", { class: "reservations" },
      svg("line", { class: "reservation", x1: X(result.reservations[0]), y1: top, x2: X(result.reservations[0]), y2: height - bottom }),
      svg("line", { class: "reservation", x1: left, y1: Y(result.reservations[1]), x2: plotRight, y2: Y(result.reservations[1]) }),
    ));

    const sorted = [...points].sort((a, b) => a[0] - b[0]);
    const frontier = svg("g", { class: "frontier" },
      svg("polyline", { class: "frontier-line", points: sorted.map((u) => `${X(u[0])},${Y(u[1])}`).join(" ") }));
    for (const u of sorted) frontier.append(svg("circle", { class: "frontier-point", cx: X(u[0]), cy: Y(u[1]), r: 3.5 }));
    root.append(frontier);

    // Nash is a ring drawn under the Kalai–Smorodinsky diamond, so both show when they coincide;
    // labels go above (Nash) and below (K–S), on the side of the point with more room.
    const label = (x, y, dy, text) => svg("text", { class: "mark-label", x: x < (left + plotRight) / 2 ? x + 12 : x - 12, y: y + dy, "text-anchor": x < (left + plotRight) / 2 ? "start" : "end", text });
    if (result.nash) {
      const [x, y] = [X(result.nash.utilities[0]), Y(result.nash.utilities[1])];
      root.append(svg("g", { class: "nash" }, svg("circle", { class: "nash-mark", cx: x, cy: y, r: 10 }), label(x, y, -12, t("Nash"))));
    }
    if (result.kalai_smorodinsky) {
      const [x, y] = [X(result.kalai_smorodinsky.utilities[0]), Y(result.kalai_smorodinsky.utilities[1])];
      root.append(svg("g", { class: "ks" }, svg("polygon", { class: "ks-mark", points: `${x},${y - 6} ${x + 6},${y} ${x},${y + 6} ${x - 6},${y}` }), label(x, y, 20, t("Kalai–Smorodinsky"))));
    }

    // The legend, right of the plot.
    const entries = [
      [svg("line", { class: "frontier-line", x1: 0, y1: 0, x2: 18, y2: 0 }), t("Pareto frontier")],
      [svg("circle", { class: "nash-mark", cx: 9, cy: 0, r: 7 }), t("Nash")],
      [svg("polygon", { class: "ks-mark", points: "9,-6 15,0 9,6 3,0" }), t("Kalai–Smorodinsky")],
      [svg("line", { class: "reservation", x1: 0, y1: 0, x2: 18, y2: 0 }), t("Reservation (no agreement)")],
    ];
    const legend = svg("g", { class: "legend", transform: `translate(${plotRight + 24} ${top + 12})` },
      svg("rect", { class: "legend-box", x: -10, y: -14, width: width - plotRight - 24, height: entries.length * 22 + 8 }));
    entries.forEach(([mark, label], i) => {
      legend.append(svg("g", { transform: `translate(0 ${i * 22})` }, mark, svg("text", { x: 26, y: 4, text: label })));
    });
    root.append(legend);
    return el("figure", { class: "chart-figure" }, root, el("figcaption", { class: "muted", text: title }));
  }

  // --- Adjusted Winner --------------------------------------------------------------------------

  function divisionResult(result, names) {
    const [first, second] = result.parties;
    const [one, two] = [names[first] || first, names[second] || second];
    const nodes = [
      el("h3", { text: t("Adjusted Winner") }),
      el("table", { class: "data" },
        el("caption", { text: t("Who gets what share of each issue") }),
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: t("Issue") }),
          el("th", { scope: "col", text: one }),
          el("th", { scope: "col", text: two }),
        )),
        el("tbody", {}, ...Object.entries(result.allocation).map(([issue, shares]) => el("tr", {},
          el("th", { scope: "row", dir: "ltr", text: issue }),
          el("td", { class: "number", text: share.format(shares[first]) }),
          el("td", { class: "number", text: share.format(shares[second]) }),
        ))),
      ),
    ];
    if (result.split) {
      nodes.push(el("p", { text: t("{issue} is split: {first} gets {a} of it, {second} gets {b}.", { issue: result.split.issue, first: one, second: two, a: result.split.fraction_to[first], b: result.split.fraction_to[second] }) }));
    }
    nodes.push(el("p", { text: t("Each party gets {points} of its own 100 points: the division is envy-free, equitable and efficient.", { points: number.format(result.points[first]) }) }));
    return el("div", {}, ...nodes);
  }

  window.backchannel.talksPage("analysis", {
    title: t("Analysis"),
    intro: t("Each party scores the agenda on its own device; its scores reach only the mediator's devices and its own. The mediator's device analyses what it holds; nothing is computed on the host."),
    endpoint: "/api/preferences",
    build: talksSection,
    update,
  });
})();
