// The Analysis page: a negotiation problem (the JSON of docs/analysis.md) is edited here and sent
// to /api/analysis, which answers what `backchannel analyze --json` prints. The Pareto frontier is
// drawn as an SVG built with DOM calls (the page's CSP allows no inline style or markup), with the
// Nash and Kalai–Smorodinsky points marked, and every number is also in a table. Adjusted Winner
// gives a table of the division. Nothing here reaches the host; the form is built once, so what the
// user is typing survives every refresh.
"use strict";

(() => {
  const { t, el, api, refusal, fail, LANG } = window.backchannel;
  const SVG = "http://www.w3.org/2000/svg";

  // The examples the editor starts from: smaller cousins of examples/analysis/muscat.json and
  // adjusted-winner.json, written as JSON (a test reads them between the markers and solves them).
  // example:pareto
  const PARETO_EXAMPLE = {
    "issues": [
      {"id": "gaza_ceasefire", "options": ["none", "pause", "full"]},
      {"id": "red_sea_attacks", "options": ["continue", "halved", "stopped"]},
      {"id": "sequencing", "options": ["us_first", "simultaneous", "iran_first"]}
    ],
    "parties": [
      {
        "id": "us",
        "weights": {"gaza_ceasefire": 1, "red_sea_attacks": 4, "sequencing": 2},
        "values": {
          "gaza_ceasefire": {"none": 10, "pause": 6, "full": 2},
          "red_sea_attacks": {"continue": 0, "halved": 6, "stopped": 10},
          "sequencing": {"us_first": 0, "simultaneous": 6, "iran_first": 10}
        },
        "reservation": 30
      },
      {
        "id": "iran",
        "weights": {"gaza_ceasefire": 5, "red_sea_attacks": 1, "sequencing": 3},
        "values": {
          "gaza_ceasefire": {"none": 0, "pause": 5, "full": 10},
          "red_sea_attacks": {"continue": 10, "halved": 6, "stopped": 0},
          "sequencing": {"us_first": 10, "simultaneous": 6, "iran_first": 0}
        },
        "reservation": 25
      }
    ]
  };
  // example:adjusted-winner
  const POINTS_EXAMPLE = {
    "issues": [
      {"id": "prisoner_release", "options": ["divisible"]},
      {"id": "sanctions_relief", "options": ["divisible"]},
      {"id": "monitoring_access", "options": ["divisible"]},
      {"id": "frozen_funds", "options": ["divisible"]}
    ],
    "parties": [
      {"id": "us", "points": {"prisoner_release": 35, "sanctions_relief": 5, "monitoring_access": 45, "frozen_funds": 15}},
      {"id": "iran", "points": {"prisoner_release": 15, "sanctions_relief": 45, "monitoring_access": 10, "frozen_funds": 30}}
    ]
  };
  // example:end
  const EXAMPLES = { pareto: PARETO_EXAMPLE, "adjusted-winner": POINTS_EXAMPLE };
  const pretty = (value) => JSON.stringify(value, null, 2);
  const number = new Intl.NumberFormat(LANG, { maximumFractionDigits: 2 });
  const share = new Intl.NumberFormat(LANG, { style: "percent", maximumFractionDigits: 1 });
  const count = new Intl.NumberFormat(LANG);
  // The most frontier points the table lists (the chart draws them all).
  const ROWS = 200;

  let root = null;
  let form = null;

  function draw(node) {
    if (root) return; // built once: the problem being edited is never wiped
    root = node;
    form = buildForm();
    node.append(
      el("h2", { text: t("Analysis") }),
      el("p", { class: "muted", text: t("Each party's scores stay on this device: the analysis runs in this app and nothing is sent to the host.") }),
      form.node,
      el("div", { class: "analysis-result", "aria-live": "polite" }),
    );
  }

  function buildForm() {
    const editor = el("textarea", { id: "analysis-problem", rows: 18, dir: "ltr", spellcheck: "false", class: "code" });
    editor.value = pretty(PARETO_EXAMPLE);
    const method = el("select", { id: "analysis-method" },
      el("option", { value: "pareto", text: t("Pareto frontier and fair points") }),
      el("option", { value: "adjusted-winner", text: t("Adjusted Winner (two parties, points per issue)") }),
    );
    method.addEventListener("change", () => {
      // Swap the example only while the editor still holds the other one unchanged.
      const other = method.value === "pareto" ? "adjusted-winner" : "pareto";
      if (editor.value === pretty(EXAMPLES[other])) editor.value = pretty(EXAMPLES[method.value]);
    });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit", text: t("Compute") });
    const reset = el("button", { type: "button", text: t("Restore the example"), onclick: () => { editor.value = pretty(EXAMPLES[method.value]); } });
    const node = el("form", { class: "analysis-form" },
      el("label", { for: "analysis-problem", text: t("Problem (JSON: issues, parties with weights and values, optional constraints)") }),
      editor,
      el("div", { class: "inline" }, el("label", { for: "analysis-method", text: t("Method") }), method),
      error,
      el("div", { class: "actions" }, submit, reset),
    );
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      let problem;
      try {
        problem = JSON.parse(editor.value);
      } catch (exc) {
        return fail(error, t("The problem is not valid JSON: {reason}", { reason: exc.message }));
      }
      submit.disabled = true;
      try {
        const result = await api("/api/analysis", { problem, method: method.value });
        show(method.value === "pareto" ? paretoResult(result) : divisionResult(result));
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        submit.disabled = false;
      }
    });
    return { node, editor, method };
  }

  function explain(problem) {
    if (problem.code === "analysis.invalid") {
      return t("The problem is not valid: {reason}", { reason: problem.detail }) + " [" + problem.code + "]";
    }
    return refusal(problem);
  }

  function show(...nodes) {
    root.querySelector(".analysis-result").replaceChildren(...nodes);
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

  function divisionResult(result) {
    const [first, second] = result.parties;
    const nodes = [
      el("h3", { text: t("Adjusted Winner") }),
      el("table", { class: "data" },
        el("caption", { text: t("Who gets what share of each issue") }),
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: t("Issue") }),
          el("th", { scope: "col", text: first }),
          el("th", { scope: "col", text: second }),
        )),
        el("tbody", {}, ...Object.entries(result.allocation).map(([issue, shares]) => el("tr", {},
          el("th", { scope: "row", dir: "ltr", text: issue }),
          el("td", { class: "number", text: share.format(shares[first]) }),
          el("td", { class: "number", text: share.format(shares[second]) }),
        ))),
      ),
    ];
    if (result.split) {
      nodes.push(el("p", { text: t("{issue} is split: {first} gets {a} of it, {second} gets {b}.", { issue: result.split.issue, first, second, a: result.split.fraction_to[first], b: result.split.fraction_to[second] }) }));
    }
    nodes.push(el("p", { text: t("Each party gets {points} of its own 100 points: the division is envy-free, equitable and efficient.", { points: number.format(result.points[first]) }) }));
    return el("div", {}, ...nodes);
  }

  window.backchannel.page("analysis", t("Analysis"), draw);
})();
