// The Mandates page: for each talks, every party's members with the mandate each holds now, the
// grants behind it (who granted, until when, revoked or not) and the fingerprints of the devices
// acting for them, to compare out of band. This device's member grants (levels up to its own) and
// revokes through /api/mandates/grant and /revoke; its own engine checks each act, and a refusal
// is shown next to the form with the rule's code. A party's root invites new members
// (/api/mandates/member: an invite code to pass on); a member links another device of its own
// (/api/mandates/device/link: a sealed link file); each device this device may revoke has a
// Revoke button (/api/mandates/device/revoke). Forms are built once per talks, so what the user
// is typing survives every refresh.
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
    const member = memberForm(talks, base);
    const device = linkForm(talks, base);
    const section = el(
      "section",
      { class: "mandates", "data-talks": talks.alias, "aria-labelledby": headingId },
      el("h3", { id: headingId, text: t("Mandates in {talks}", { talks: talks.title || talks.alias }) }),
      el("p", { class: "standing" }),
      el("div", { class: "parties" }),
      el("div", { class: "mandate-forms" }, grant.form, revoke.form, member.form, device.form),
    );
    return { section, grant, revoke, member, device, alias: talks.alias };
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
    options(entry.member.level, Object.keys(LEVELS).map((name) => [name, level(name)]), t("Choose a level"));
    entry.member.form.hidden = !talks.can_add_members;
    entry.device.form.hidden = !talks.can_link_devices;
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
        el("td", {}, deviceList(party, m.devices, talks)),
      ),
    );
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 4, class: "muted", text: t("No members yet.") })));
    const table = el("table", { class: "members", "data-party": party.id }, el("caption", { text: caption }), el("thead", {}, head), el("tbody", {}, ...rows));
    const roots = party.root_devices.length
      ? el("p", { class: "muted roots" }, t("Root authority of {party}:", { party: party.name }), " ", deviceList(party, party.root_devices, talks))
      : null;
    return el("div", { class: "party" }, table, roots);
  }

  function grantList(party, grants) {
    const list = el("ul", { class: "grants" });
    for (const g of grants) {
      const grantor = window.backchannelNames.nameOf(party.members, g.grantor); // a member of the party
      const vars = { level: level(g.level), grantor, party: party.name, at: when(g.at) };
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

  function deviceList(party, devices, talks) {
    const list = el("ul", { class: "devices" });
    for (const d of devices) {
      let status = t("Not compared yet");
      if (d.this_device) status = t("This device");
      else if (d.verified) status = t("Compared out of band");
      const revoke = d.revocable ? revokeDeviceButton(talks, d) : null;
      list.append(
        el(
          "li",
          { "data-device": d.device, class: [d.verified ? "verified" : "unverified", d.revoked ? "revoked" : ""].join(" ").trim() },
          el("code", { class: "fingerprint", dir: "ltr", text: d.fingerprint }),
          el("span", { class: "muted", text: status }),
          d.revoked ? el("strong", { text: t("revoked: nothing new reaches it") }) : null,
          d.root && d.member ? el("span", { class: "muted", text: t("also the root authority of {party}", { party: party.name }) }) : null,
          revoke,
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

  function revokeDeviceButton(talks, device) {
    const button = el("button", { type: "button", class: "danger", text: t("Revoke this device") });
    const error = el("span", { class: "error", role: "alert", hidden: true });
    button.addEventListener("click", async () => {
      error.hidden = true;
      button.disabled = true;
      try {
        await api("/api/mandates/device/revoke", { talks: talks.alias, device: device.device });
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        button.disabled = false;
        mandatesPage.load();
      }
    });
    return el("span", { class: "device-actions" }, button, error);
  }

  function memberForm(talks, base) {
    const member = el("input", { id: base + "-member-id", name: "member", dir: "ltr", autocomplete: "off" });
    const name = el("input", { id: base + "-member-name", name: "name", dir: "auto", autocomplete: "off" });
    const levelSelect = el("select", { id: base + "-member-level", name: "level" });
    const invite = el("textarea", { id: base + "-member-invite", readonly: true, rows: 3, dir: "ltr", hidden: true });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const submit = el("button", { type: "submit", text: t("Make an invite") });
    const form = el(
      "form",
      { class: "add-member", novalidate: true, "data-talks": talks.alias },
      el("h4", { text: t("Add a member to your party") }),
      el("p", { class: "muted", text: t("An invite for one new member, to pass on out of band; your device adds the member and grants the mandate once they have joined.") }),
      el("div", { class: "inline" }, el("label", { for: member.id, text: t("Member id") }), member),
      el("div", { class: "inline" }, el("label", { for: name.id, text: t("Name (optional)") }), name),
      el("div", { class: "inline" }, el("label", { for: levelSelect.id, text: t("Level") }), levelSelect),
      error,
      done,
      invite,
      el("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      done.textContent = "";
      if (!member.value.trim()) return fail(error, t("Give the new member an id"));
      if (!levelSelect.value) return fail(error, t("Choose a level"));
      submit.disabled = true;
      try {
        const made = await api("/api/mandates/member", { talks: talks.alias, member: member.value.trim(), name: name.value, level: levelSelect.value });
        invite.value = made.invite;
        invite.hidden = false;
        done.textContent = t("Invite for {member}: pass it on out of band; they run backchannel talks join with it.", { member: made.member });
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        submit.disabled = false;
      }
    });
    return { form, level: levelSelect };
  }

  function linkForm(talks, base) {
    const secret = el("input", { id: base + "-link-passphrase", name: "passphrase", type: "password", autocomplete: "new-password" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const submit = el("button", { type: "submit", text: t("Download a device link") });
    const form = el(
      "form",
      { class: "link-device", novalidate: true, "data-talks": talks.alias },
      el("h4", { text: t("Add another device of yours") }),
      el("p", { class: "muted", text: t("A link file for your other device, sealed with the passphrase you choose here: it carries your identity key, so keep it as secret as your profile.") }),
      el("div", { class: "inline" }, el("label", { for: secret.id, text: t("Passphrase for the link") }), secret),
      error,
      done,
      el("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      done.textContent = "";
      if (secret.value.length < 8) return fail(error, t("Choose a passphrase of at least 8 characters"));
      submit.disabled = true;
      try {
        const made = await api("/api/mandates/device/link", { talks: talks.alias, passphrase: secret.value });
        secret.value = "";
        const url = URL.createObjectURL(new Blob([made.link + "\n"], { type: "text/plain" }));
        const anchor = el("a", { href: url, download: talks.alias + ".bclink" });
        document.body.append(anchor);
        anchor.click();
        anchor.remove();
        URL.revokeObjectURL(url);
        done.textContent = t("On the new device: backchannel profile create --from-link with this file, and the same passphrase.");
      } catch (problem) {
        fail(error, explain(problem));
      } finally {
        submit.disabled = false;
      }
    });
    return { form };
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
