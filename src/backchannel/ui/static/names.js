// Names in the reader's language. The server sends each party, member and room with its default
// `name` and its `names` in other languages ({"ar": …, "fa": …}), and each talks with its `title`
// and `title_names`; the page shows the one in its own language, else the default. The state is
// localised once as it arrives (app.js), so every sentence built from it reads names, not ids.
"use strict";

window.backchannelNames = (() => {
  const LANG = document.documentElement.lang || "en";

  function pick(names, fallback) {
    if (!names) return fallback;
    return names[LANG] || names[LANG.split("-")[0]] || fallback;
  }

  // Each named thing of a talks in the page's language, in place (ids stay as they are): any
  // object with `names` beside its `name`, at any depth (a mandates party holds its members), the
  // title, and a map of party id → name beside `party_names` (the text page's).
  function localise(value) {
    if (Array.isArray(value)) {
      value.forEach(localise);
    } else if (value && typeof value === "object") {
      if (value.names && typeof value.name === "string") value.name = pick(value.names, value.name);
      if (value.title_names && typeof value.title === "string") value.title = pick(value.title_names, value.title);
      if (value.party_names && value.parties && !Array.isArray(value.parties)) {
        for (const id of Object.keys(value.parties)) value.parties[id] = pick(value.party_names[id], value.parties[id]);
      }
      for (const key of Object.keys(value)) if (key !== "names" && key !== "party_names") localise(value[key]);
    }
    return value;
  }

  // The name of `id` among `entries` (a list of {id, name, names}, or an object by id), else id.
  function nameOf(entries, id) {
    if (!id) return "";
    const found = Array.isArray(entries) ? entries.find((e) => e.id === id) : entries && entries[id];
    return found ? pick(found.names, found.name || id) : id;
  }

  // What the device is called: its profile's name, else its member's or party's in the first talks.
  function deviceName(state) {
    if (state.profile.name) return state.profile.name;
    for (const talks of state.talks) {
      const me = (talks.members || []).find((m) => m.id === talks.me);
      if (me && me.name) return me.name;
      if (talks.party) return nameOf(talks.parties, talks.party);
    }
    return "";
  }

  return { pick, localise, nameOf, deviceName };
})();
