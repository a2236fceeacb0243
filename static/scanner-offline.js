// The door keeps working when the network does not. Every scan goes first into a durable queue on this device,
// then to the server; when the server cannot be reached, the page answers at once from the roster it keeps
// (a provisional answer) and sends the queue, in order, once the network is back. The server decides in the
// end: a tampered roster or queue can change a colour here, never what is recorded.
(function () {
  "use strict";

  const root = document.getElementById("scanner");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const words = JSON.parse($("scanner-words").textContent);
  const session = root.dataset.session;
  const rosterKey = root.dataset.user + "|" + session;  // a roster belongs to one login and one session
  const tokenLength = Number(root.dataset.tokenLength);
  const ONLINE_ANSWER_MS = 4000;  // longer than this, the door gets the roster's answer and the scan waits
  const ROSTER_EVERY_MS = 60000;
  const RETRY_EVERY_MS = 10000;

  let store = null;
  let roster = null;  // {key, day, valid_until, etag, badges: {hash: badge}}
  let csrf = document.querySelector('meta[name="csrf-token"]').content;
  let reachable = navigator.onLine;
  let flushing = null;

  // ---- the banner: offline, and how many scans wait ----
  function showNetwork() {
    $("offline-banner").hidden = reachable && navigator.onLine;
  }

  function plural(forms, count) {
    const one = count === 1 || (count === 0 && words.queued.zero_is_one);
    return (one ? forms.one : forms.other).replace("{n}", count);
  }

  let pageKept = false;  // the service worker kept this page and every file it loaded: it reopens offline
  function showRoster() {
    const count = rosterIsCurrent() ? Object.keys(roster.badges).length : 0;
    $("roster-status").textContent = plural(words.roster, count) + (pageKept ? " · " + words.page_kept : "");
  }

  let backlog = 0;  // scans answered offline, waiting to be sent
  async function showWaiting() {
    const queued = store ? await store.queued() : [];
    const count = queued.length;
    backlog = queued.filter((q) => q.answered_offline).length;
    $("queue-count").textContent = plural(words.queued, count);
    $("queue-count").classList.toggle("waiting", count > 0);
  }

  async function showConflicts() {
    const list = $("conflict-list");
    const conflicts = store ? (await store.conflicts()).filter((c) => c.session === session) : [];
    $("conflicts").hidden = conflicts.length === 0;
    $("conflict-count").hidden = conflicts.length === 0;
    $("conflict-count").textContent = plural(words.conflicts, conflicts.length);
    list.replaceChildren();
    for (const conflict of conflicts.reverse()) {
      const item = document.createElement("li");
      const who = document.createElement("strong");
      who.dir = "auto";
      who.textContent = conflict.name || words.unknown_person;
      // In the session's time zone, as every time the server tells.
      const when = new Date(conflict.scanned_at).toLocaleTimeString(document.documentElement.lang || [],
        { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: root.dataset.timezone });
      const text = document.createElement("span");
      text.textContent = " · " + words.scanned_at + " " + when + " · " + words.door_showed + " " +
        (words[conflict.provisional] || conflict.provisional) + " · " + words.server_said + " " +
        (words[conflict.status] || conflict.status) + (conflict.message ? ": " + conflict.message : "");
      item.append(who, text);
      list.append(item);
    }
  }

  // ---- the server's clock: a phone's own may be wrong by minutes, and a queued scan's time must not ----
  const CLOCK_KEY = "attendance.door.clock-offset";
  function learnClock(response) {
    const serverNow = Date.parse(response.headers.get("Date") || "");
    if (Number.isNaN(serverNow)) return;
    const offset = serverNow - Date.now();
    // The Date header counts whole seconds: a few seconds apart is the same clock.
    localStorage.setItem(CLOCK_KEY, String(Math.abs(offset) > 5000 ? offset : 0));
  }
  function serverTime() {
    return new Date(Date.now() + (Number(localStorage.getItem(CLOCK_KEY)) || 0));
  }

  // ---- the roster ----
  async function sha256(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function rosterIsCurrent() {
    return roster && Date.parse(roster.valid_until) > Date.now();
  }

  async function forgetOldRosters() {
    // Another login's or session's roster, or one whose day is over, has nothing to do on this page.
    await store.dropRosters((r) => r.key === rosterKey && Date.parse(r.valid_until) > Date.now());
    roster = await store.roster(rosterKey) || null;
    showRoster();
  }

  async function refreshRoster() {
    if (!store) return;
    await forgetOldRosters();
    let response;
    try {
      response = await fetch(root.dataset.rosterUrl, {
        credentials: "same-origin", headers: roster && roster.etag ? { "If-None-Match": roster.etag } : {},
      });
    } catch (e) { return; }  // offline: keep what we have
    csrf = response.headers.get("X-CSRFToken") || csrf;
    learnClock(response);
    if (response.status !== 200) return;  // 304: unchanged
    const data = await response.json();
    const badges = {};
    for (const badge of data.badges) badges[badge.hash] = badge;
    roster = { key: rosterKey, day: data.day, valid_until: data.valid_until, etag: response.headers.get("ETag"),
      badges: badges };
    await store.saveRoster(roster);
    showRoster();
  }

  // ---- the name search, from the roster, while the server cannot be asked ----
  // As the server's door search (attendance/checkin/search.py) in the plain cases: every word of the query, in any
  // order, inside the person's search text (their name in its own script and in Latin letters, and their
  // organisation; never the e-mail, which the device does not keep), ignoring case, accents and punctuation.
  // Arabic and Hebrew names are compared by their consonants too, as the server does (attendance/text.py,
  // `word_patterns`): the search text ends with their skeletons ("~l~ ~hd~" for ليلى حداد), and a word typed in
  // Latin letters matches the start of one ("hadd"), or a whole one when it has a single consonant ("layla").
  const ACCENTS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0591-\u05c7\u064b-\u065f\u0670]/g;
  const BASE_LETTERS = { "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "æ": "ae", "œ": "oe",
    "þ": "th", "ß": "ss", "ς": "σ" };
  const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;
  const SEARCH_LIMIT = 20;  // as many as the server lists

  function searchWords(text) {
    const folded = String(text || "").normalize("NFKD").toLowerCase().normalize("NFKD").replace(ACCENTS, "")
      .replace(/[øđðħıłŧæœþßς]/g, (letter) => BASE_LETTERS[letter]);
    return folded.replace(/[^\p{L}\p{N}\p{M}]+/gu, " ").normalize("NFC").split(" ").filter(Boolean);
  }

  // A character each, two for a Chinese, Japanese or Korean one, as the server counts them.
  function weight(word) {
    let total = 0;
    for (const character of word) total += WIDE.test(character) ? 2 : 1;
    return total;
  }

  // The consonants of a word typed in Latin letters, each once in a row: "haddad" -> "hd"; "" for other words.
  function skeleton(word) {
    return /^[a-z]+$/.test(word) ? word.replace(/[aeiouwy]/g, "").replace(/(.)\1+/g, "$1") : "";
  }

  // The skeletons a search text ends with ("~l~ ~hd~"), without their marks.
  function skeletonsOf(search) {
    const last = search.split("\n").pop();
    return last.startsWith("~") ? last.split(" ").map((part) => part.replace(/~/g, "")).filter(Boolean) : [];
  }

  function matches(person, word) {
    if (person.text.includes(word)) return true;
    const typed = skeleton(word);
    if (!typed) return false;
    return person.skeletons.some((stored) => (typed.length >= 2 ? stored.startsWith(typed) : stored === typed));
  }

  let searchIndex = null;  // {roster, people: [{badge, text, skeletons, sortKey}]}, worked out once per roster
  function people() {
    if (!searchIndex || searchIndex.roster !== roster) {
      const list = Object.values(roster.badges).filter((badge) => badge.registration_id && badge.search)
        .map((badge) => ({ badge: badge, text: " " + searchWords(badge.search).join(" ") + " ",
          skeletons: skeletonsOf(badge.search), sortKey: searchWords(badge.search.split("\n")[0]).join(" ") }));
      list.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1
        : a.badge.registration_id - b.badge.registration_id));
      searchIndex = { roster: roster, people: list };
    }
    return searchIndex.people;
  }

  // {delegates} as the server lists them, {reason} for a query too short, or null: no roster on this device.
  function search(query) {
    if (!rosterIsCurrent()) return null;
    const queryWords = searchWords(query).filter((word) => weight(word) >= 2);
    if (queryWords.reduce((sum, word) => sum + weight(word), 0) < 3) return { reason: words.search_too_short };
    const found = [];
    for (const person of people()) {
      if (queryWords.every((word) => matches(person, word))) {
        const badge = person.badge;
        found.push({ registration_id: badge.registration_id, name: badge.name, entity: badge.entity,
          entity_type: badge.entity_type, mode: badge.mode, status: badge.status,
          checked_in_at: badge.in ? badge.first_at : null });
        if (found.length === SEARCH_LIMIT) break;
      }
    }
    return { delegates: found };
  }

  // The answer the door gives while the server cannot be asked: the same statuses as the server's.
  async function provisionalAnswer(scan) {
    if (!rosterIsCurrent()) {
      return { status: "no_roster", provisional: true, message: words.no_roster };
    }
    const badge = scan.hash ? roster.badges[scan.hash]
      : Object.values(roster.badges).find((b) => b.registration_id === scan.registration_id);
    if (!badge) return { status: "invalid", provisional: true, message: words.provisional_will_be_sent };
    const fields = { name: badge.name, entity: badge.entity, entity_type: badge.entity_type, mode: badge.mode,
      provisional: true };
    // cancelled, pending approval, declined or waiting for a seat: refused, as the server would
    if (badge.status !== "registered") {
      return Object.assign(fields, { status: badge.status, message: words.provisional_will_be_sent });
    }
    // The same person scanned or found by name a moment ago on this device, and still waiting to be sent.
    const samePerson = (q) => (q.hash ? q.hash === badge.hash : q.registration_id === badge.registration_id);
    const earlierHere = (await store.queued()).some((q) => q.id !== scan.id && samePerson(q));
    if (badge.in || earlierHere) {
      return Object.assign(fields, { status: "already_checked_in", message: words.provisional_will_be_sent });
    }
    return Object.assign(fields, { status: "ok", message: words.provisional_will_be_sent });
  }

  // ---- sending ----
  async function post(scan, timeoutMs) {
    // A badge's code, or the registration chosen from a name search (with the door's session, as it needs).
    const body = { token: scan.token, registration_id: scan.registration_id, session: scan.session, door: scan.door,
      nonce: scan.nonce };
    // A scan sent at once is timed by the server's clock; one that waited says when it was made.
    if (scan.answered_offline) body.scanned_at = scan.scanned_at;
    if (scan.provisional) body.provisional = scan.provisional;
    const abort = new AbortController();
    const timer = timeoutMs ? setTimeout(() => abort.abort(), timeoutMs) : null;
    try {
      const response = await fetch(root.dataset.checkinUrl, {
        method: "POST", credentials: "same-origin", signal: abort.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
      let data;
      try { data = await response.json(); } catch (e) { data = { status: "error", reason: words.unreadable }; }
      return { http: response.status, data: data };
    } finally {
      clearTimeout(timer);
    }
  }

  // A server answer ends a scan's wait, but for a server that is down (5xx) or a login that ran out (401):
  // those scans stay queued until they can be decided.
  // So does a refused CSRF token (a page reopened from the device's cache holds an old one): the roster brings
  // a fresh one before the next try.
  function isFinal(answer) {
    const staleToken = answer.http === 400 && /CSRF/i.test(answer.data.reason || "");
    return answer.http !== 401 && answer.http < 500 && !staleToken;
  }

  // The server judges whether its answer to a scan answered here differs from the door's (a conflict: shown,
  // never dropped). An older server's answer says nothing: a conflict unless it let the person in.
  function isConflict(scan, data) {
    if (!scan.provisional) return false;  // answered by the server at once: nothing here to differ from
    return typeof data.conflict === "boolean" ? data.conflict : data.status !== "ok";
  }

  async function settle(scan, answer) {
    await store.dequeue(scan.id);
    if (isConflict(scan, answer.data)) {
      await store.addConflict({ session: scan.session, scanned_at: scan.scanned_at, provisional: scan.provisional,
        name: answer.data.name || scan.name || "", status: answer.data.status,
        message: answer.data.message || answer.data.reason || "" });
      await showConflicts();
    }
  }

  // Sends the waiting scans, oldest first; stops at the first that cannot be sent, to keep the order.
  function flush() {
    if (!flushing) {
      flushing = (async () => {
        try {
          await refreshRoster();  // and with it a fresh CSRF token
          for (const scan of await store.queued()) {
            if (!scan.answered_offline) continue;  // its first try is still under way
            let answer;
            try { answer = await post(scan, 0); } catch (e) { reachable = false; break; }
            reachable = true;
            $("queue-login").hidden = answer.http !== 401;
            if (!isFinal(answer)) break;
            await settle(scan, answer);
          }
        } finally {
          flushing = null;
          showNetwork();
          await showWaiting();
        }
        if (reachable) {
          await refreshRoster();
          document.dispatchEvent(new CustomEvent("door:sent"));
        }
      })();
    }
    return flushing;
  }

  // One scan (a badge's code, or a person chosen from a name search): queued first, then sent at once when no scan
  // answered offline waits, else answered from the roster.
  async function scan(fields, nonce) {
    const item = { session: session, door: fields.door, nonce: nonce, scanned_at: serverTime().toISOString() };
    if (fields.token) item.token = fields.token;
    else item.registration_id = fields.registration_id;
    // Written to the queue while the request goes out: a busy door does not wait for the disk. The nonce makes
    // the request and a later send of the queued scan one check-in.
    const saved = store.enqueue(item).then((id) => { item.id = id; showWaiting(); });
    const hashed = item.token ? sha256(item.token).then((hash) => { item.hash = hash; }) : Promise.resolve();
    // Scans answered offline go first, in order; a scan on its first try does not hold up the next (a busy door).
    const older = backlog > 0;
    if (navigator.onLine && !older) {
      try {
        const answer = await post(item, ONLINE_ANSWER_MS);
        reachable = true;
        showNetwork();
        if (isFinal(answer)) {
          await saved;
          await settle(item, answer);
          await showWaiting();
          refreshRoster();
          return answer;
        }
      } catch (e) {
        reachable = false;
        showNetwork();
      }
    }
    await saved;
    await hashed;
    const data = await provisionalAnswer(item);
    // Every scan is sent, a red one too: the server logs it, and tells whether the list here was out of date.
    if (data.status === "no_roster") item.provisional = "unchecked";  // let in by eye: the server decides
    else item.provisional = ["ok", "already_checked_in"].includes(data.status) ? data.status : "refused";
    item.answered_offline = true;
    item.name = data.name || "";
    await store.updateScan(item);
    await showWaiting();
    if (!older && navigator.onLine) setTimeout(flush, RETRY_EVERY_MS);
    else if (older && navigator.onLine) flush();
    return { http: 0, data: data };
  }

  // ---- start ----
  function switchOff(reason) {
    store = null;
    $("offline-off").textContent = reason;
    $("offline-off").hidden = false;
    $("queue-count").hidden = true;
  }

  async function start() {
    if (!window.isSecureContext || !(window.crypto && crypto.subtle)) {
      switchOff(words.offline_off_insecure);
      return;
    }
    try {
      store = await window.ScannerStore.open();
    } catch (e) {
      switchOff(words.offline_off_storage);
      return;
    }
    // Scans left waiting by an earlier page (a reload, a closed tab) go out as soon as they can.
    for (const waiting of await store.queued()) {
      if (!waiting.answered_offline) { waiting.answered_offline = true; await store.updateScan(waiting); }
    }
    window.offlineDoor = {
      scan: (fields, nonce) => scan(fields, nonce).catch(() => null),  // null: send it the old way
      search: search,
      normalize: (raw) => window.BadgeCode.normalize(raw, tokenLength),
    };
    showNetwork();
    await showWaiting();
    await showConflicts();
    await forgetOldRosters();
    await refreshRoster();
    if (navigator.onLine && backlog > 0) flush();
    setInterval(refreshRoster, ROSTER_EVERY_MS);
    setInterval(() => { if (navigator.onLine && backlog > 0) flush(); }, RETRY_EVERY_MS);
    if ("serviceWorker" in navigator && root.dataset.workerUrl) {
      navigator.serviceWorker.addEventListener("message", (event) => {
        if (!event.data || typeof event.data.kept !== "number") return;
        pageKept = event.data.kept === event.data.of;
        showRoster();
      });
      navigator.serviceWorker.register(root.dataset.workerUrl, { scope: root.dataset.workerScope })
        .then(() => navigator.serviceWorker.ready)
        .then((registration) => registration.active.postMessage({ cache: pageFiles() }))
        .catch(() => { /* not installable here; offline answers still work while the page stays open */ });
    }
  }

  // The page, every file it loaded, and those its camera loads only when started (the QR reader's WebAssembly),
  // for the service worker to keep.
  function pageFiles() {
    const urls = [location.href];
    document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon], link[rel=manifest]")
      .forEach((el) => urls.push(el.src || el.href));
    return urls.concat((window.BadgeCamera && window.BadgeCamera.files) || []);
  }

  window.addEventListener("online", () => { reachable = true; showNetwork(); flush(); });
  window.addEventListener("offline", () => { reachable = false; showNetwork(); });
  $("conflicts-clear").addEventListener("click", async () => {
    if (store) { await store.clearConflicts(); await showConflicts(); }
  });

  window.offlineDoorReady = start();
})();
