// The Record page: for each talks, what this device has checked of the host's record (the latest
// tree head, its consistency with the head held before, the heads other devices cosigned) with any
// alarm in red; the verified timeline (who asked first, through whom and when; every formal act
// with the mandate chain it rests on); and an export of the bundle anyone can verify offline.
// /api/record checks the record each time it is asked, so the page reloads it when shown and
// when the state changes; the export buttons keep their place and their error.
"use strict";

(() => {
  const { t, el, api, request, refusal, fail, dateFormat } = window.backchannel;
  const { pick, nameOf } = window.backchannelNames;
  // The record names ids; the page says the party's and member's names in its language.
  const party = (talks, id) => nameOf(talks.names.parties, id);
  const member = (talks, id) => nameOf(talks.names.members, id);
  const actor = (talks, memberId, partyId) =>
    memberId ? t("{member} of {party}", { member: member(talks, memberId), party: party(talks, partyId) }) : t("the root authority of {party}", { party: party(talks, partyId) });

  const ACTIONS = {
    request_contact: () => t("asked for contact"),
    send: () => t("sent a message"),
    relay: () => t("relayed a message"),
    carry: () => t("carried a message"),
    propose: () => t("made an offer"),
    accept: () => t("accepted an offer ad referendum"),
    sign: () => t("signed an offer"),
    confirm: () => t("confirmed an acceptance"),
    draft_article: () => t("drafted an article"),
    agree_article: () => t("agreed an article ad referendum"),
    initial_article: () => t("initialled an article"),
    sign_article: () => t("signed an article"),
    grant: () => t("granted a mandate"),
    revoke: () => t("revoked a mandate"),
    add_device: () => t("added a device"),
    revoke_device: () => t("revoked a device"),
    join: () => t("joined a room"),
    leave: () => t("left a room"),
    add_party: () => t("declared its party"),
    add_member: () => t("added a member"),
    create_room: () => t("created a room"),
  };
  const LEVELS = {
    observe: () => t("Observe"),
    speak: () => t("Speak"),
    propose: () => t("Propose"),
    accept: () => t("Accept ad referendum"),
    sign: () => t("Sign"),
  };
  const STAGES = {
    "agreed-ad-ref": () => t("agreed ad referendum"),
    signed: () => t("signed"),
    confirmed: () => t("confirmed"),
  };
  // The witness's alarms: what the host was caught doing.
  const ALARMS = {
    "record.rollback": () => t("The host rolled the record back: it shows fewer entries than this device already checked."),
    "record.inconsistent": () => t("The host rewrote the record: its new head does not extend the one this device held."),
    "record.split_view": () => t("Split view: the host shows another device a history this device's record contradicts."),
    "record.entry_missing": () => t("An event this device sent or received is missing from the record."),
    "record.reordered": () => t("The record orders two events otherwise than they were delivered."),
    "record.proof_invalid": () => t("A proof that an event is in the record does not verify."),
    "record.key_changed": () => t("The host's signing key for the record changed."),
    "record.checkpoint_invalid": () => t("A signed head of the record does not verify."),
    "record.withheld": () => t("The host withheld an event: the record holds one addressed to this device that never arrived."),
    "state.diverged": () => t("Views diverged: another device holds other talks-wide state after the same entries of the record."),
  };

  const when = (iso) => dateFormat.format(new Date(iso));
  const explain = (problem) =>
    problem.code === "record.bundle_invalid" ? t("This device's copy of the record does not verify.") + " [" + problem.code + "]" : refusal(problem);

  function talksSection(talks) {
    const alias = talks.alias;
    const id = "record-" + alias.replace(/[^A-Za-z0-9_-]/g, "_");
    const status = el("div", { class: "record-status" });
    const timeline = el("div", { class: "record-timeline" });
    const section = el(
      "section",
      { class: "record", "data-talks": alias, "aria-labelledby": id + "-h" },
      el("h3", { id: id + "-h", text: t("Record of {talks}", { talks: pick(talks.title_names, talks.title) || alias }) }),
      status,
      exportControls(alias),
      timeline,
    );
    return { section, status, timeline };
  }

  // --- what this device checked -----------------------------------------------------------------

  function statusBlock(talks) {
    const s = talks.status;
    const rows = [];
    const row = (label, ...value) => rows.push(el("dt", { text: label }), el("dd", {}, ...value));
    row(
      t("Latest tree head"),
      t("{size} entries, root", { size: s.tree_size }),
      " ",
      el("code", { class: "hash", dir: "ltr", text: s.root_hex ? s.root_hex.slice(0, 16) + "…" : "—" }),
    );
    row(t("Checked"), s.checked_at ? t("now, at {time}", { time: when(s.checked_at) }) : t("not now: the head shown is the last one this device checked"));
    let consistency;
    if (!s.consistency) consistency = el("span", { text: s.checked_at ? t("nothing to compare yet: this is the first head this device holds") : t("not checked now") });
    else if (s.consistency.proven) consistency = el("span", { text: t("proven: it extends the head of {size} entries this device held before", { size: s.consistency.from_size }) });
    else consistency = el("strong", { class: "alarm-text", text: t("NOT proven: see the alarm") });
    row(t("Consistency"), consistency);
    row(t("Events proven"), t("{verified} of the {held} events this device holds are proven in it", { verified: s.verified_events, held: s.held_events }));
    const cosigners = el("ul", { class: "cosigners" });
    for (const c of s.cosigned_by) {
      cosigners.append(el("li", { text: t("{who} of {party} vouched for {size} entries on {at}", { who: c.member ? member(talks, c.member) : t("the root authority"), party: party(talks, c.party), size: c.size, at: when(c.at) }) }));
    }
    if (s.cosigned_by.length === 0) cosigners.append(el("li", { class: "muted", text: t("no other device's cosigned head yet") }));
    row(t("Cosigned by"), cosigners);
    const state = s.state;
    row(
      t("Talks-wide state"),
      state.complete
        ? t("applied in the record's order up to {size} entries, digest", { size: state.size })
        : t("still receiving the talks' history from before this device joined: not compared yet"),
      " ",
      el("code", { class: "hash", dir: "ltr", text: state.digest ? state.digest.slice(0, 16) + "…" : "—" }),
    );
    const same = el("ul", { class: "compared" });
    for (const c of state.compared) {
      same.append(el("li", { text: t("{who} of {party} after {size} entries", { who: c.member ? member(talks, c.member) : t("the root authority"), party: party(talks, c.party), size: c.size }) }));
    }
    if (state.compared.length === 0) same.append(el("li", { class: "muted", text: t("not compared with another device yet") }));
    row(t("Same state as"), same);
    const out = [el("dl", { class: "status" }, ...rows)];
    if (s.alarms.length > 0) {
      const list = el("ul", {});
      for (const alarm of s.alarms) {
        const sentence = ALARMS[alarm.code] ? ALARMS[alarm.code]() : alarm.message;
        list.append(el("li", { "data-alarm": alarm.code }, el("strong", { text: sentence }), " ", el("code", { dir: "ltr", text: "[" + alarm.code + "]" }), el("span", { class: "detail", dir: "ltr", lang: "en", text: alarm.message })));
      }
      out.push(el("div", { class: "alarms", role: "alert" }, el("h4", { text: t("Alarm: the host misbehaved") }), list));
    } else {
      out.push(el("p", { class: "no-alarm", text: t("No alarm: the record is consistent with every head this device has seen.") }));
    }
    if (talks.problem) out.push(el("p", { class: "error", text: t("The record could not be fully checked now: {reason}", { reason: explain(talks.problem) }) }));
    return out;
  }

  // --- the verified timeline --------------------------------------------------------------------

  function timelineBlock(talks) {
    const v = talks.timeline;
    if (!v) return [];
    const out = [el("h4", { text: t("Verified timeline") })];
    out.push(el("p", { class: "muted", text: t("Verified offline from this device's copy: {size} entries, {opened} opened, {sealed} sealed; cosigned by {n} devices.", { size: v.size, opened: v.opened, sealed: v.sealed, n: v.cosigned_by.length }) }));
    const first = v.initiator;
    if (first) {
      const who = actor(talks, first.member, first.party);
      const vars = { who, to: party(talks, first.to_party), via: party(talks, first.via), at: when(first.at) };
      out.push(el("p", { class: "initiator" }, el("strong", { text: t("Who asked first:") }), " ", first.via ? t("{who} asked {to} through {via}, on {at}", vars) : t("{who} asked {to} directly, on {at}", vars)));
    } else {
      out.push(el("p", { class: "initiator muted", text: t("No contact request is in the part of the record this device can open.") }));
    }
    const head = el(
      "tr",
      {},
      el("th", { scope: "col", text: t("Entry") }),
      el("th", { scope: "col", text: t("When") }),
      el("th", { scope: "col", text: t("Who") }),
      el("th", { scope: "col", text: t("Act") }),
      el("th", { scope: "col", text: t("Under the mandate") }),
    );
    const rows = v.timeline.map((act) => {
      let what = ACTIONS[act.action] ? ACTIONS[act.action]() : act.action;
      if (act.stage) what += " · " + (STAGES[act.stage] ? STAGES[act.stage]() : act.stage);
      return el(
        "tr",
        { "data-index": act.index, "data-action": act.action },
        el("td", { text: String(act.index) }),
        el("td", {}, el("time", { datetime: act.at, text: when(act.at) })),
        el("th", { scope: "row", text: actor(talks, act.actor === act.party ? null : act.actor, act.party) }),
        el("td", { text: what }),
        el("td", {}, chain(talks, act)),
      );
    });
    out.push(el("table", { class: "timeline" }, el("caption", { text: t("Every act this device can open, in record order") }), el("thead", {}, head), el("tbody", {}, ...rows)));
    return out;
  }

  function chain(talks, act) {
    if (act.mandate === "root" || act.mandate === null) return el("span", { text: act.mandate === "root" ? t("its own, as root authority") : "—" });
    const steps = [t("the root authority of {party}", { party: party(talks, act.party) })];
    for (const link of act.mandate) steps.push(t("{member} ({level})", { member: member(talks, link.member), level: LEVELS[link.level] ? LEVELS[link.level]() : link.level }));
    // Arrows are not mirrored by the bidi algorithm: point them the way the page reads, between
    // isolated steps (a Latin name on each side would otherwise pull the arrow into its run).
    const arrow = document.documentElement.dir === "rtl" ? " ← " : " → ";
    const chained = el("span", { class: "chain" });
    steps.forEach((step, i) => chained.append(...(i ? [arrow] : []), el("bdi", { text: step })));
    return chained;
  }

  // --- export -----------------------------------------------------------------------------------

  function exportControls(alias) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const button = (withContent, text) =>
      el("button", { type: "button", "data-export": withContent, onclick: (event) => download(alias, withContent, event.currentTarget, error, done), text });
    return el(
      "div",
      { class: "record-export" },
      el("p", { class: "muted", text: t("The export is one file anyone can verify offline with 'backchannel record verify'. Formal acts are always in it; messages only if you choose.") }),
      el("div", { class: "actions" }, button("0", t("Export the record")), button("1", t("Export with the messages"))),
      error,
      done,
    );
  }

  async function download(alias, withContent, button, error, done) {
    error.hidden = true;
    done.textContent = "";
    button.disabled = true;
    try {
      const query = new URLSearchParams({ talks: alias, with_content: withContent });
      let response;
      try {
        response = await request("/api/record/export?" + query);
      } catch (_) {
        throw { code: "network", detail: "" };
      }
      if (!response.ok) {
        const data = await response.json().catch(() => ({}));
        throw { code: data.code || "backchannel.error", detail: data.detail || "" };
      }
      const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", { href: url, download: named ? named[1] : alias + ".record.json", hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10000);
      done.textContent = t("Exported: the file verified before it was handed to you.");
    } catch (problem) {
      fail(error, explain(problem));
    } finally {
      button.disabled = false;
    }
  }

  function update(entry, talks) {
    entry.status.replaceChildren(...statusBlock(talks));
    entry.timeline.replaceChildren(...timelineBlock(talks));
  }

  window.backchannel.talksPage("record", {
    title: t("Record"),
    intro: t("Every device checks the host's record of the talks; the host cannot rewrite, drop or reorder it, or show devices different histories, without an alarm here."),
    endpoint: "/api/record",
    build: (talks) => talksSection(talks),
    update,
  });
})();
