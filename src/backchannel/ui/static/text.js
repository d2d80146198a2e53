// The Text page: for each talks, the single negotiating text, article by article: its status,
// its words with every bracket marked (language not agreed yet, and the alternatives on offer),
// where each party stands on the current version, and every earlier version. A party's member
// agrees an article ad referendum, initials it and signs it through /api/text/agree, /initial
// and /sign, naming the version shown; a button the engine would refuse is disabled with the
// engine's reason beside it (/api/text tries each act on the device's own engine). The pen-holder
// drafts new articles and new versions through /api/text/draft. Editors are built once per
// article, so what the user is typing survives every refresh. Under the articles, "Copies and
// leaks": a member's own copy, marked in its spaces, downloaded from /api/text/issue, and a
// leaked text traced back to the member it was issued to through /api/text/trace.
"use strict";

(() => {
  const { t, el, api, request, refusal, fail, dateFormat, LANG } = window.backchannel;
  const LANGUAGES = JSON.parse(document.getElementById("languages").textContent);

  const STATUSES = {
    bracketed: () => t("Bracketed"),
    clean: () => t("Clean: no bracket left"),
    "agreed-ad-ref": () => t("Agreed ad referendum"),
    initialled: () => t("Initialled"),
    signed: () => t("Signed"),
  };
  const ACTS = {
    agree: () => t("Agree ad referendum"),
    initial: () => t("Initial"),
    sign: () => t("Sign"),
  };
  // The engine's refusals of an act on the text, in words the catalogue translates.
  const REFUSALS = {
    "text.not_pen_holder": () => t("The mediator holds the pen: send your language to it as an offer."),
    "text.not_a_party": () => t("The mediator holds the pen; only the parties consent to the text."),
    "text.bracketed": () => t("Brackets remain: an article is agreed once none is left."),
    "text.awaiting_parties": () => t("Every party must first reach the stage before this one."),
    "text.stale": () => t("A newer version was drafted meanwhile: read it before you consent."),
    "text.final": () => t("Every party signed this article: it is final."),
    "text.quotes_confidential": () => t("The draft repeats words said for the mediator only, or to be carried only in the mediator's own words: every party would read them."),
    "mandate.insufficient": () => t("Your mandate does not reach this act: agreeing and initialling need “Accept ad referendum”, signing needs “Sign”."),
    "mandate.revoked": () => t("Your mandate was revoked: you can no longer act on the text."),
    "mandate.expired": () => t("Your mandate has expired: you can no longer act on the text."),
    "device.revoked": () => t("This device was revoked: it can no longer act."),
    "id.duplicate": () => t("This id is already in use in these talks: choose another."),
    "entity.unknown": () => t("This article does not exist on this device."),
  };
  const DUPLICATE = {
    consent: () => t("Your party already took this version that far."),
    draft: () => t("This draft changes nothing."),
  };

  // What a trace concluded (copies.trace_json's verdict), in words the catalogue translates.
  const VERDICTS = {
    identified: (member) => t("Identified: this comes from the copy issued to {member}.", { member }),
    inconclusive: () => t("Inconclusive: too few spaces to tell, or several copies match as well."),
    "no-marks": () => t("No marks: the text was retyped, or its no-break spaces were replaced."),
    "no-match": () => t("No match: no copy this device issued matches; the text was altered, or another device issued it."),
  };
  const chanceFormat = new Intl.NumberFormat(LANG, { notation: "scientific", maximumFractionDigits: 1 });

  const when = (iso) => dateFormat.format(new Date(iso));
  const safe = (text) => text.replace(/[^A-Za-z0-9_-]/g, "_");

  function explain(problem, context) {
    if (problem.code === "text.duplicate") return DUPLICATE[context]() + " [" + problem.code + "]";
    if (problem.code === "text.malformed") return t("The brackets do not parse: {reason}", { reason: problem.detail }) + " [" + problem.code + "]";
    const sentence = REFUSALS[problem.code];
    return sentence ? sentence() + " [" + problem.code + "]" : refusal(problem);
  }

  /** A refusal from /api/text ({code, message}) in the shape the API's problems have. */
  const problemOf = (refused) => ({ code: refused.code, detail: refused.message });

  // --- one talks ----------------------------------------------------------------------------------

  function talksSection(talks) {
    const base = "text-" + safe(talks.alias);
    const headingId = base + "-h";
    const creator = newArticleForm(talks, base);
    const copies = copiesSection(talks, base);
    const section = el(
      "section",
      { class: "negotiating-text", "data-talks": talks.alias, "aria-labelledby": headingId },
      el("h3", { id: headingId, text: t("Text of {talks}", { talks: talks.title || talks.alias }) }),
      el("p", { class: "standing" }),
      el("div", { class: "articles" }),
      creator.form,
      copies.node,
    );
    return { section, creator, copies, articles: new Map() };
  }

  function update(entry, talks) {
    const { section } = entry;
    const party = talks.party ? talks.parties[talks.party] || talks.party : "—";
    const standing = section.querySelector("p.standing");
    if (talks.pen) standing.textContent = t("You act as {me} of {party} and hold the pen: you draft the text.", { me: talks.me, party });
    else standing.textContent = t("You act as {me} of {party}.", { me: talks.me, party }) + " " + explain(problemOf(talks.pen_refused), "draft");
    entry.creator.form.hidden = !talks.pen;
    entry.copies.update(talks);
    const list = section.querySelector("div.articles");
    const wanted = new Set(talks.articles.map((a) => a.id));
    for (const [id, item] of entry.articles) {
      if (!wanted.has(id)) {
        item.node.remove();
        entry.articles.delete(id);
      }
    }
    const empty = list.querySelector(":scope > p.empty");
    if (talks.articles.length === 0 && !empty) list.append(el("p", { class: "empty", text: t("No article drafted yet.") }));
    else if (talks.articles.length > 0 && empty) empty.remove();
    talks.articles.forEach((article, i) => {
      let item = entry.articles.get(article.id);
      if (!item) {
        item = articleItem(talks, article);
        entry.articles.set(article.id, item);
      }
      // In the text's order; a node already in place is not moved (moving it would take the
      // focus out of an editor the user is typing in).
      if (list.children[i] !== item.node) list.insertBefore(item.node, list.children[i] || null);
      updateArticle(item, talks, article);
    });
  }

  // --- one article --------------------------------------------------------------------------------

  function articleItem(talks, article) {
    const base = "text-" + safe(talks.alias) + "-" + safe(article.id);
    const headingId = base + "-h";
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const view = el("div", { class: "article-view" });
    const editor = versionForm(talks, article, base);
    const node = el(
      "article",
      { class: "article", "data-article": article.id, "aria-labelledby": headingId },
      el("h4", { id: headingId }),
      view,
      el("div", { class: "consents" }),
      error,
      done,
      editor.details,
    );
    return { node, view, error, done, editor, base, busy: false };
  }

  function updateArticle(item, talks, article) {
    const { node, base } = item;
    node.dataset.status = article.status;
    node.dataset.version = article.version;
    const heading = node.querySelector("h4");
    heading.replaceChildren(t("Article {n}", { n: article.number }));
    if (article.title) heading.append(" — ", el("span", { dir: "auto", text: article.title }));
    const meta = el(
      "p",
      { class: "meta" },
      el("span", { class: "status status-" + article.status, "data-status": article.status, text: (STATUSES[article.status] || (() => article.status))() }),
      el("span", { text: t("Version {v}", { v: article.version }) }),
      el("span", { class: "muted", text: t("Brackets left: {n}", { n: article.brackets }) }),
      el("code", { class: "muted", dir: "ltr", text: article.id }),
    );
    const words = el("p", { class: "article-text", dir: "auto", lang: article.lang || null }, ...segments(article.segments));
    const stages = el("ul", { class: "stages" });
    for (const [party, stage] of Object.entries(article.parties)) {
      stages.append(
        el(
          "li",
          { "data-party": party, "data-stage": stage || "none" },
          el("span", { class: "party", text: talks.parties[party] || party }),
          el("span", { class: "stage" + (stage ? "" : " muted"), text: stage ? STATUSES[stage]() : t("Not yet") }),
        ),
      );
    }
    const opened = item.view.querySelector("details.history")?.open;
    const versions = history(article);
    versions.open = Boolean(opened); // an open history stays open across refreshes
    item.view.replaceChildren(
      meta,
      words,
      el("p", { class: "stages-caption muted", text: t("Where each party stands on version {v}:", { v: article.version }) }),
      stages,
      versions,
    );
    consentButtons(item, talks, article);
    item.editor.update(article, talks.pen);
  }

  /** The text's segments: agreed language as text, each bracket a <mark> with its alternatives. */
  function segments(parts) {
    return parts.map((part) => {
      if (typeof part === "string") return document.createTextNode(part);
      const mark = el("mark", { class: "bracket", "data-alternatives": part.alternatives.length }, el("span", { class: "visually-hidden", text: t("bracketed:") + " " }), "[");
      part.alternatives.forEach((alternative, i) => {
        if (i > 0) mark.append(el("span", { class: "or", text: " | " }));
        mark.append(el("span", { class: "alternative", text: alternative }));
      });
      mark.append("]");
      return mark;
    });
  }

  function history(article) {
    const list = el("ol", { class: "versions", reversed: true });
    for (const v of [...article.versions].reverse()) {
      list.append(
        el(
          "li",
          { "data-version": v.version },
          el("p", { class: "meta" }, el("span", { text: t("Version {v} by {author}", { v: v.version, author: v.author }) }), el("time", { datetime: v.at, text: when(v.at) })),
          el("p", { class: "text", dir: "auto", lang: v.lang || null, text: v.text }),
        ),
      );
    }
    return el("details", { class: "history" }, el("summary", { text: t("Every version ({n})", { n: article.versions.length }) }), list);
  }

  function consentButtons(item, talks, article) {
    const box = item.node.querySelector("div.consents");
    const reasons = new Map(); // one line per distinct reason, each button pointing at its own
    const buttons = [];
    for (const [act, label] of Object.entries(ACTS)) {
      const refused = article.may[act];
      let reasonId = null;
      if (refused) {
        const sentence = explain(problemOf(refused), "consent");
        if (!reasons.has(sentence)) reasons.set(sentence, item.base + "-why-" + reasons.size);
        reasonId = reasons.get(sentence);
      }
      buttons.push(
        el("button", {
          type: "button",
          "data-act": act,
          disabled: Boolean(refused) || item.busy,
          "aria-describedby": reasonId,
          onclick: () => perform(item, talks, article, act),
          text: label(),
        }),
      );
    }
    const focused = box.contains(document.activeElement) ? document.activeElement.dataset.act : null;
    box.replaceChildren(
      el("div", { class: "actions" }, ...buttons),
      ...[...reasons].map(([sentence, id]) => el("p", { class: "reason", id, "data-reason": "", text: sentence })),
    );
    if (focused) box.querySelector(`button[data-act="${focused}"]`)?.focus();
  }

  async function perform(item, talks, article, act) {
    item.error.hidden = true;
    item.done.textContent = "";
    item.busy = true;
    for (const button of item.node.querySelectorAll("div.consents button")) button.disabled = true;
    try {
      await api("/api/text/" + act, { talks: talks.alias, article: article.id, version: article.version });
      item.done.textContent = t("Done: {act}, version {v}.", { act: ACTS[act](), v: article.version });
    } catch (problem) {
      fail(item.error, explain(problem, "consent"));
    } finally {
      item.busy = false;
      textPage.load();
    }
  }

  // --- drafting (the pen-holder) --------------------------------------------------------------------

  function languageSelect(id) {
    const select = el("select", { id, name: "lang" });
    for (const l of LANGUAGES) select.append(el("option", { value: l.code, lang: l.code, selected: l.code === LANG, text: l.name }));
    return select;
  }

  function newArticleForm(talks, base) {
    const id = el("input", { id: base + "-new-id", name: "article", type: "text", dir: "ltr", autocomplete: "off", spellcheck: "false" });
    const title = el("input", { id: base + "-new-title", name: "title", type: "text", dir: "auto" });
    const text = el("textarea", { id: base + "-new-text", name: "text", rows: 4, dir: "auto" });
    const lang = languageSelect(base + "-new-lang");
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const done = el("p", { class: "done", role: "status" });
    const submit = el("button", { type: "submit", text: t("Draft the article") });
    const form = el(
      "form",
      { class: "draft new-article", novalidate: true, "data-talks": talks.alias, hidden: true },
      el("h4", { text: t("New article") }),
      el("div", { class: "inline" }, el("label", { for: id.id, text: t("Article id") }), id),
      el("div", { class: "inline" }, el("label", { for: title.id, text: t("Title") }), title),
      el("label", { for: text.id, text: t("Text (brackets: [contested] or [one | other])") }),
      text,
      el("div", { class: "inline" }, el("label", { for: lang.id, text: t("Language of the text") }), lang),
      error,
      done,
      el("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      done.textContent = "";
      if (!id.value.trim()) return fail(error, t("Give the article an id."));
      if (!text.value.trim()) return fail(error, t("Write the article's text first."));
      submit.disabled = true;
      try {
        const drafted = await api("/api/text/draft", { talks: talks.alias, article: id.value.trim(), title: title.value, text: text.value, lang: lang.value });
        done.textContent = t("Drafted: article {id}, version {v}.", { id: drafted.article, v: drafted.version });
        id.value = title.value = text.value = "";
      } catch (problem) {
        fail(error, explain(problem, "draft")); // what was typed stays
      } finally {
        submit.disabled = false;
        textPage.load();
      }
    });
    return { form };
  }

  function versionForm(talks, article, base) {
    const title = el("input", { id: base + "-title", name: "title", type: "text", dir: "auto" });
    const text = el("textarea", { id: base + "-text", name: "text", rows: 4, dir: "auto" });
    const lang = languageSelect(base + "-lang");
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const submit = el("button", { type: "submit" });
    const state = { edited: false, version: 0, current: article };
    for (const field of [title, text]) field.addEventListener("input", () => (state.edited = true));
    const form = el(
      "form",
      { class: "draft new-version", novalidate: true },
      el("div", { class: "inline" }, el("label", { for: title.id, text: t("Title") }), title),
      el("label", { for: text.id, text: t("Text (brackets: [contested] or [one | other])") }),
      text,
      el("div", { class: "inline" }, el("label", { for: lang.id, text: t("Language of the text") }), lang),
      error,
      el("div", { class: "actions" }, submit),
    );
    const details = el("details", { class: "editor", hidden: true }, el("summary", { text: t("New version") }), form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      if (!text.value.trim()) return fail(error, t("Write the article's text first."));
      submit.disabled = true;
      try {
        await api("/api/text/draft", { talks: talks.alias, article: state.current.id, title: title.value, text: text.value, lang: lang.value });
        state.edited = false;
        state.version = 0; // refill from the new version
        details.open = false;
      } catch (problem) {
        fail(error, explain(problem, "draft")); // the revision stays in the editor
      } finally {
        submit.disabled = false;
        textPage.load();
      }
    });
    function update(current, pen) {
      state.current = current;
      details.hidden = !pen || current.status === "signed";
      submit.textContent = t("Draft version {v}", { v: current.version + 1 });
      // A draft is a revision: the editor starts from the current words, and is refilled when a
      // new version arrives, unless the user has started revising.
      if (state.version !== current.version && !state.edited) {
        title.value = current.title;
        text.value = current.text;
        if (current.lang) lang.value = current.lang;
        state.version = current.version;
      }
    }
    return { details, update };
  }

  // --- copies and leaks ----------------------------------------------------------------------------

  const memberName = (talks, id) => (talks.members.find((m) => m.id === id) || { name: id }).name;

  function copiesSection(talks, base) {
    const headingId = base + "-copies-h";
    const state = { talks };
    const member = el("select", { id: base + "-copy-to", name: "recipient" });
    const download = el("button", { type: "button", "data-action": "issue", text: t("Download a marked copy") });
    const issueError = el("p", { class: "error", role: "alert", hidden: true });
    const issued = el("p", { class: "done", role: "status" });
    const leaked = el("textarea", { id: base + "-leaked", name: "leaked", rows: 4, dir: "auto", spellcheck: "false" });
    const traceButton = el("button", { type: "button", "data-action": "trace", text: t("Trace a leak") });
    const traceError = el("p", { class: "error", role: "alert", hidden: true });
    const result = el("div", { class: "trace-result", role: "status" });
    const node = el(
      "section",
      { class: "copies", "aria-labelledby": headingId },
      el("h4", { id: headingId, text: t("Copies and leaks") }),
      el("p", { class: "muted", text: t("Each member's copy is marked invisibly in its spaces: a leaked copy, or any excerpt of it, names the member it was issued to.") }),
      el("p", { class: "muted", text: t("Only this device can trace the copies it issued, and retyped text carries no marks.") }),
      el("div", { class: "inline" }, el("label", { for: member.id, text: t("Copy for") }), member, download),
      issueError,
      issued,
      el("label", { for: leaked.id, text: t("Leaked text (a copy or an excerpt)") }),
      leaked,
      el("div", { class: "actions" }, traceButton),
      traceError,
      result,
    );

    download.addEventListener("click", async () => {
      issueError.hidden = true;
      issued.textContent = "";
      const recipient = member.value;
      download.disabled = true;
      try {
        let response;
        try {
          response = await request("/api/text/issue", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ talks: state.talks.alias, recipient }),
          });
        } catch (_) {
          throw { code: "network", detail: "" };
        }
        if (!response.ok) {
          const data = await response.json().catch(() => ({}));
          throw { code: data.code || "backchannel.error", detail: data.detail || "" };
        }
        const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
        const url = URL.createObjectURL(await response.blob());
        const link = el("a", { href: url, download: named ? named[1] : state.talks.alias + "-text-" + recipient + ".txt", hidden: true });
        document.body.append(link);
        link.click();
        link.remove();
        window.setTimeout(() => URL.revokeObjectURL(url), 10000);
        issued.textContent = t("Downloaded: the copy for {member}.", { member: memberName(state.talks, recipient) });
      } catch (problem) {
        fail(issueError, explain(problem, "draft"));
      } finally {
        download.disabled = state.talks.articles.length === 0;
      }
    });

    traceButton.addEventListener("click", async () => {
      traceError.hidden = true;
      result.replaceChildren();
      delete result.dataset.verdict;
      if (!leaked.value.trim()) return fail(traceError, t("Paste the leaked text first."));
      traceButton.disabled = true;
      try {
        const found = await api("/api/text/trace", { talks: state.talks.alias, leaked: leaked.value });
        showTrace(found);
      } catch (problem) {
        fail(traceError, explain(problem, "draft")); // the pasted text stays
      } finally {
        traceButton.disabled = false;
      }
    });

    function showTrace(found) {
      const name = (id) => memberName(state.talks, id);
      const verdict = VERDICTS[found.verdict] || (() => found.verdict);
      const lines = [el("p", { class: "verdict", "data-verdict": found.verdict, text: verdict(found.recipient ? name(found.recipient) : "") })];
      const best = found.matches[0];
      if (!found.recipient && best && found.verdict !== "no-marks") {
        lines.push(el("p", { text: t("Closest copy: the one issued to {member} ({n} spaces disagree).", { member: name(best.member), n: best.disagreeing }) }));
      }
      lines.push(
        el("p", { class: "muted", text: t("Spaces compared: {spaces}; marked: {marks}.", { spaces: found.spaces, marks: found.marks }) }),
        el("p", { class: "muted", text: t("Chance of another copy matching as well: {chance}.", { chance: chanceFormat.format(found.chance) }) }),
      );
      result.dataset.verdict = found.verdict;
      if (found.recipient) result.dataset.recipient = found.recipient;
      else delete result.dataset.recipient;
      result.replaceChildren(...lines);
    }

    function update(talks) {
      state.talks = talks;
      download.disabled = talks.articles.length === 0;
      // Rebuilt only when the members change, so a refresh never closes an open list.
      const options = talks.members.map((m) => m.id + "\u0000" + m.name + "\u0000" + (talks.parties[m.party] || m.party)).join("\n");
      if (options === state.options) return;
      state.options = options;
      const chosen = member.value;
      member.replaceChildren(
        ...talks.members.map((m) =>
          el("option", { value: m.id, selected: m.id === chosen, text: m.name + " (" + (talks.parties[m.party] || m.party) + ")" }),
        ),
      );
    }
    return { node, update };
  }

  const textPage = window.backchannel.talksPage("text", {
    title: t("Text"),
    heading: t("Negotiating text"),
    intro: t("Square brackets mark language not agreed yet; “|” separates the alternatives on offer. Each party agrees an article ad referendum once no bracket is left, then initials it, then signs it; a new version starts afresh."),
    endpoint: "/api/text",
    build: talksSection,
    update,
    explain: (problem) => explain(problem, "draft"),
  });
})();
