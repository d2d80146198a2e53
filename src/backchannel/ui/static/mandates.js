// The Mandates page: for each talks, every party's members with the mandate each holds now, the
// grants behind it (who granted, until when, revoked or not) and the fingerprints of the devices
// acting for them, to compare out of band. This device's member grants (levels up to its own) and
// revokes through /api/mandates/grant and /revoke; its own engine checks each act, and a refusal
// is shown next to the form with the rule's code. Forms are built once per talks, so what the
// user is typing survives every refresh.
"use strict";

(() => {
  const { t, el, api, refusal, fail, dateFormat } = window.backchannel;

  const LEVELS = {
    observe: () => t("Observe"),
    speak: () => t("Speak"),
    propose: () => t("Propose"),
    accept: () => t("Accept ad referendum"),
    sign: () => t("Sign"),
  };
  const LAPSES = {
    revoked: () => t("No mandate: revoked"),
    expired: () => t("No mandate: expired"),
    none: () => t("No mandate"),
  };
  // The engine's refusals of a grant or a revocation, in words the catalogue translates.
  const REFUSALS = {
    "mandate.exceeds_grantor": () => t("You cannot grant or revoke a wider mandate than the one you hold."),
    "mandate.insufficient": () => t("Your mandate does not allow this: a party grants and revokes only its own members' mandates."),
    "mandate.revoked": () => t("Your mandate was revoked: you can no longer grant or revoke."),
    "mandate.expired": () => t("The mandate has expired, or the expiry date chosen is already past."),
    "entity.unknown": () => t("This member is not in these talks."),
  };

  const level = (name) => (LEVELS[name] ? LEVELS[name]() : name);
  const when = (iso) => dateFormat.format(new Date(iso));

  function explain(problem) {
    const sentence = REFUSALS[problem.code];
    return sentence ? sentence() + " [" + problem.code + "]" : refusal(problem);
  }

  // --- one talks ----------------------------------------------------------------------------------

  function talksSection(talks) {
    const base = "mandates-" + talks.alias.replace(/[^A-Za-z0-9_-]/g, "_");
    const headingId = base + "-h";
    const grant = grantForm(talks, base);
    const revoke = revokeForm(talks, base);
    const section = el(
      "section",
      { class: "mandates", "data-talks": talks.alias, "aria-labelledby": headingId },
      el("h3", { id: headingId, text: t("Mandates in {talks}", { talks: talks.title || talks.alias }) }),
      el("p", { class: "standing" }),
      el("div", { class: "parties" }),
      el("div", { class: "mandate-forms" }, grant.form, revoke.form),
    );
    return { section, grant, revoke, alias: talks.alias };
  }

  function update(entry, talks) {
    const { section } = entry;
    const mine = talks.parties.find((p) => p.mine);
    const party = mine ? mine.name : talks.party || "—";
    const standing = section.querySelector("p.standing");
    if (talks.root) standing.textContent = t("You act as the root authority of {party}: you may grant any level.", { party });
    else if (talks.level) standing.textContent = t("You act as {me} of {party} and hold “{level}”: you may grant up to that level.", { me: talks.me, party, level: level(talks.level) });
    else standing.textContent = t("You act as {me} of {party} and hold no mandate: you cannot grant or revoke.", { me: talks.me, party });
    standing.classList.toggle("lapsed", !talks.root && !talks.level);
    section.querySelector("div.parties").replaceChildren(...talks.parties.map((p) => partyTable(talks, p)));
    const members = mine ? mine.members.map((m) => m.id) : [];
    options(entry.grant.member, members.map((id) => [id, id]), t("Choose a member"));
    options(entry.grant.level, talks.grantable.map((name) => [name, level(name)]), t("Choose a level"));
    options(entry.revoke.member, members.map((id) => [id, id]), t("Choose a member"));
    const allowed = talks.grantable.length > 0;
    entry.grant.submit.disabled = !allowed || entry.grant.busy;
    entry.revoke.submit.disabled = !allowed || entry.revoke.busy;
  }

  /** Fill a select with [value, text] pairs, keeping the user's choice when it is still offered. */
  function options(select, pairs, prompt) {
    const chosen = select.value;
    const items = [el("option", { value: "", text: prompt })];
    for (const [value, text] of pairs) items.push(el("option", { value, text }));
    select.replaceChildren(...items);
    select.value = pairs.some(([value]) => value === chosen) ? chosen : "";
  }

  function partyTable(talks, party) {
    const caption = party.role === "mediator" ? t("Members of {party}, the mediator", { party: party.name }) : t("Members of {party}", { party: party.name });
    const head = el(
      "tr",
      {},
      el("th", { scope: "col", text: t("Member") }),
      el("th", { scope: "col", text: t("Mandate now") }),
      el("th", { scope: "col", text: t("Grants") }),
      el("th", { scope: "col", text: t("Devices and fingerprints") }),
    );
    const rows = party.members.map((m) =>
      el(
        "tr",
        { "data-member": m.id, class: m.level ? null : "lapsed" },
        el("th", { scope: "row", text: m.name && m.name !== m.id ? m.name + " (" + m.id + ")" : m.id }),
        el("td", { class: "level", text: m.level ? level(m.level) : (LAPSES[m.lapse] || LAPSES.none)() }),
        el("td", {}, grantList(party, m.grants)),
        el("td", {}, deviceList(party, m.devices)),
      ),
    );
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 4, class: "muted", text: t("No members yet.") })));
    const table = el("table", { class: "members", "data-party": party.id }, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, ...rows));
    const roots = party.root_devices.length
      ? el("p", { class: "muted roots" }, t("Root authority of {party}:", { party: party.name }), " ", deviceList(party, party.root_devices))
      : null;
    return el("div", { class: "party" }, table, roots);
  }

  function grantList(party, grants) {
    const list = el("ul", { class: "grants" });
    for (const g of grants) {
      const vars = { level: level(g.level), grantor: g.grantor, party: party.name, at: when(g.at) };
      const by = g.grantor ? t("{level}, granted by {grantor} on {at}", vars) : t("{level}, granted by the root authority of {party} on {at}", vars);
      const until = g.expires ? t("until {date}", { date: when(g.expires) }) : t("no expiry");
      list.append(
        el(
          "li",
          { "data-grant": g.id, class: g.revoked_at ? "revoked" : null },
          el("span", { text: by }),
          el("span", { class: "muted", text: until }),
          g.revoked_at ? el("strong", { text: t("revoked on {date}", { date: when(g.revoked_at) }) }) : null,
        ),
      );
    }
    if (grants.length === 0) list.append(el("li", { class: "muted", text: t("Never granted a mandate.") }));
    return list;
  }

  function deviceList(party, devices) {
    const list = el("ul", { class: "devices" });
    for (const d of devices) {
      let status = t("Not compared yet");
      if (d.this_device) status = t("This device");
      else if (d.verified) status = t("Compared out of band");
      list.append(
        el(
          "li",
          { "data-device": d.device, class: d.verified ? "verified" : "unverified" },
          el("code", { class: "fingerprint", dir: "ltr", text: d.fingerprint }),
          el("span", { class: "muted", text: status }),
          d.root && d.member ? el("span", { class: "muted", text: t("also the root authority of {party}", { party: party.name }) }) : null,
        ),
      );
    }
    if (devices.length === 0) list.append(el("li", { class: "muted", text: t("No device known.") }));
    return list;
  }

  // --- granting and revoking ----------------------------------------------------------------------

  function grantForm(talks, base) {
    const member = el("select", { id: base + "-grant-member", name: "member" });
    const levelSelect = el("select", { id: base + "-grant-level", name: "level" });
    const expires = el("input", { id: base + "-grant-expires", name: "expires", type: "date" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const submit = el("button", { type: "submit", text: t("Grant") });
    const form = el(
      "form",
      { class: "grant", novalidate: true, "data-talks": talks.alias },
      el("h4", { text: t("Grant a mandate") }),
      el("p", { class: "muted", text: t("Only levels up to your own are offered; your device's engine checks every grant.") }),
      el("div", { class: "inline" }, el("label", { for: member.id, text: t("Member") }), member),
      el("div", { class: "inline" }, el("label", { for: levelSelect.id, text: t("Level") }), levelSelect),
      el("div", { class: "inline" }, el("label", { for: expires.id, text: t("Valid through (optional)") }), expires),
      error,
      done,
      el("div", { class: "actions" }, submit),
    );
    const entry = { form, member, level: levelSelect, submit, busy: false };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      done.textContent = "";
      if (!member.value) return fail(error, t("Choose a member"));
      if (!levelSelect.value) return fail(error, t("Choose a level"));
      const body = { talks: talks.alias, member: member.value, level: levelSelect.value };
      if (expires.value) {
        // The end of the chosen day where the user is: the mandate holds through that day.
        const [y, m, d] = expires.value.split("-").map(Number);
        body.expires = new Date(y, m - 1, d + 1).toISOString();
      }
      entry.busy = submit.disabled = true;
      try {
        await api("/api/mandates/grant", body);
        done.textContent = t("Granted: {member} holds “{level}” too.", { member: body.member, level: level(body.level) });
        levelSelect.value = "";
        expires.value = "";
      } catch (problem) {
        fail(error, explain(problem)); // the choices stay as they were
      } finally {
        entry.busy = submit.disabled = false;
        mandatesPage.load();
      }
    });
    return entry;
  }

  function revokeForm(talks, base) {
    const member = el("select", { id: base + "-revoke-member", name: "member" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const submit = el("button", { type: "submit", class: "danger", text: t("Revoke") });
    const form = el(
      "form",
      { class: "revoke", novalidate: true, "data-talks": talks.alias },
      el("h4", { text: t("Revoke a mandate") }),
      el("p", { class: "muted", text: t("Revokes every mandate the member holds; the grants it made lapse with them.") }),
      el("div", { class: "inline" }, el("label", { for: member.id, text: t("Member") }), member),
      error,
      done,
      el("div", { class: "actions" }, submit),
    );
    const entry = { form, member, submit, busy: false };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      done.textContent = "";
      if (!member.value) return fail(error, t("Choose a member"));
      const chosen = member.value;
      entry.busy = submit.disabled = true;
      try {
        await api("/api/mandates/revoke", { talks: talks.alias, member: chosen });
        done.textContent = t("Revoked: {member} holds no mandate now.", { member: chosen });
        member.value = "";
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        entry.busy = submit.disabled = false;
        mandatesPage.load();
      }
    });
    return entry;
  }

  const mandatesPage = window.backchannel.talksPage("mandates", {
    title: t("Mandates"),
    intro: t("Compare each fingerprint with its owner out of band, aloud or in person, before you trust the device."),
    endpoint: "/api/mandates",
    build: talksSection,
    update,
    explain,
  });
})();
