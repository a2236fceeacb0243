// The door's scanner page: keyboard-wedge field, camera (camera.js), name search, full-screen result, undo.
// Every decision is the server's; this file only sends what was scanned and shows the answer (offline, the
// answer of scanner-offline.js, from the device's roster, marked provisional).
(function () {
  "use strict";

  const root = document.getElementById("scanner");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const words = JSON.parse(document.getElementById("scanner-words").textContent);
  // A name or organisation set apart for direction (<bdi>): "ليلى حداد 9f3c2e1a" keeps its order beside the
  // words around it, and no mark typed into it reorders them. An empty value is no part at all.
  function value(text) {
    if (!text || !String(text).trim()) return null;
    const element = document.createElement("bdi");
    element.textContent = text;
    return element;
  }
  // A line of values and the page's words, in the page's direction, " · " between the parts that are there.
  function fillLine(element, parts) {
    element.replaceChildren();
    parts.filter((part) => part && (typeof part !== "string" || part.trim())).forEach((part, index) => {
      if (index) element.append(" · ");
      element.append(part);
    });
  }
  const session = root.dataset.session;
  const DOOR_KEY = "attendance.door";
  const RESULT_SHOWN_MS = 4000;

  // ---- door label, remembered on this device ----
  function door() { return localStorage.getItem(DOOR_KEY) || ""; }
  function showDoor() {
    $("door-name").textContent = door() || words.not_set;
    $("door-form").hidden = Boolean(door());
  }
  $("door-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("door-input").value.trim();
    if (!value) return;
    localStorage.setItem(DOOR_KEY, value);
    showDoor();
    focusBadgeField();
  });
  $("door-change").addEventListener("click", () => {
    $("door-form").hidden = false;
    $("door-input").value = door();
    $("door-input").focus();
  });
  showDoor();

  // ---- the badge field takes the focus only where a keyboard is: on a phone, the on-screen keyboard would
  // cover the camera and the result. A wedge scanner typing on a phone gives the field the focus itself. ----
  const hasPhysicalKeyboard = window.matchMedia && window.matchMedia("(pointer: fine)").matches;
  let wedgeTyped = false;
  function focusBadgeField() {
    if (hasPhysicalKeyboard || wedgeTyped) $("badge-input").focus();
  }
  focusBadgeField();
  $("badge-input").addEventListener("keydown", () => { wedgeTyped = true; });
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.closest && (target.closest("input, textarea, select, [contenteditable]") || target.closest("#result"))) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1 || !event.key.trim()) return;
    event.preventDefault();
    wedgeTyped = true;
    const badge = $("badge-input");
    badge.value += event.key;
    badge.focus();
  });

  // ---- talking to the server ----
  function newNonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = { status: "error", reason: words.unreadable }; }
    return { http: response.status, data: data };
  }

  // Poor venue Wi-Fi: retry with the same nonce, so a check-in that did reach the server is not made twice.
  async function sendCheckIn(fields) {
    const body = Object.assign({ session: session, door: door(), nonce: newNonce() }, fields);
    if (window.offlineDoor) {  // queued on this device first; answered from its roster offline
      const answer = await window.offlineDoor.scan(body, body.nonce);
      if (answer) return answer;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await postJSON(root.dataset.checkinUrl, body);
      } catch (networkError) {
        await new Promise((resolve) => setTimeout(resolve, 700 * (attempt + 1)));
      }
    }
    return { http: 0, data: { status: "offline", message: words.no_connection } };
  }

  // ---- the result, full screen, with text and sound: never colour alone ----
  let hideTimer = null;
  let lastOk = null;

  function showResult(data) {
    const status = data.status || "error";
    // An undo is no refusal: amber, as a badge that needs no action, not red with the refusal sound. So is a
    // scan offline with no roster on the device: the door checks the badge by eye.
    const kind = status === "ok" ? "ok"
      : ["already_checked_in", "undone", "no_roster"].includes(status) ? "already" : "refused";
    const panel = $("result");
    panel.className = "result result-" + kind + (data.provisional ? " result-is-provisional" : "");
    $("result-title").textContent = status === "no_roster" ? words.no_roster_title : words[status] || status;
    $("result-provisional").hidden = !data.provisional;
    $("result-provisional").textContent = kind === "refused" ? words.provisional_red : words.provisional;
    $("result-name").textContent = data.name || "";
    fillLine($("result-details"), [value(data.entity), value(data.entity_type), data.role,
      data.mode ? (data.mode === "online" ? words.registered_online : words.registered_in_person) : ""]);
    $("result-message").textContent = data.message || data.reason || "";
    lastOk = status === "ok" ? data.attendance_id : null;
    $("result-undo").hidden = !lastOk;
    panel.hidden = false;
    panel.focus();
    const last = $("last-result");
    last.hidden = false;
    last.className = "last-result last-" + kind;
    fillLine(last, [words.last + " " + $("result-title").textContent, value(data.name)]);
    if (data.provisional) last.append(" (" + $("result-provisional").textContent + ")");
    beep(kind);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hideResult, kind === "ok" ? RESULT_SHOWN_MS : RESULT_SHOWN_MS * 2);
  }

  // The badge field is not emptied here: it may hold the start of the next scan, typed while the result showed.
  function hideResult() {
    clearTimeout(hideTimer);
    $("result").hidden = true;
    focusBadgeField();
  }
  $("result-close").addEventListener("click", hideResult);
  // The result has the focus, but at a busy door the scanner is already typing the next badge: its characters go
  // to the badge field and its Enter sends it, so the next result replaces this one. Enter alone still closes it.
  $("result").addEventListener("keydown", (event) => {
    const badge = $("badge-input");
    if (event.key.length === 1 && event.key.trim() && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      badge.value += event.key;
    } else if (event.key === "Enter" && badge.value.trim()) {
      event.preventDefault();
      submitBadge();  // a scanner's Enter sends its code, even with the focus on Undo
    } else if (event.key === "Enter" && event.target.tagName === "BUTTON") {
      // Enter on a focused button (Undo, Next) presses it, as in any page.
    } else if (event.key === "Enter" || event.key === "Escape") {
      event.preventDefault();
      hideResult();
    }
  });
  $("result-undo").addEventListener("click", async () => {
    if (!lastOk) return;
    const url = root.dataset.undoUrl.replace("/0/", "/" + lastOk + "/");
    const name = $("result-name").textContent;  // the undo's answer names nobody: this is whose check-in it was
    const shownBefore = scanShown;
    const answer = await postJSON(url, {}).catch(() => ({ data: { status: "offline", message: words.no_connection_short } }));
    if (scanShown !== shownBefore) { refreshCounts(); return; }  // a scan's answer came meanwhile: leave it showing
    const undone = answer.data.status === "undone";
    showResult(undone ? { status: "undone", name: name, message: words.undone_message } : answer.data);
    refreshCounts();
  });

  let audio = null;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const tones = kind === "ok" ? [[880, 0.12]] : kind === "already" ? [[660, 0.1], [660, 0.1]] : [[200, 0.45]];
      let at = audio.currentTime;
      for (const [frequency, length] of tones) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.frequency.value = frequency;
        oscillator.type = kind === "refused" ? "square" : "sine";
        gain.gain.value = 0.2;
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + length);
        at += length + 0.08;
      }
    } catch (e) { /* no sound on this device: the text still says it */ }
  }

  // ---- the running count ----
  async function refreshCounts() {
    try {
      const response = await fetch(root.dataset.countsUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const counts = await response.json();
      $("count-in").textContent = counts.checked_in;
      $("count-expected").textContent = counts.expected_in_person;
    } catch (e) { /* offline: keep the last count */ }
  }
  setInterval(refreshCounts, 30000);
  document.addEventListener("door:sent", refreshCounts);  // the waiting scans reached the server

  // Two scans in quick succession on a slow network may be answered out of order: the screen shows the last
  // scan's answer, never an earlier one over it (both are recorded either way).
  let scansSent = 0;
  let scanShown = 0;
  async function checkIn(fields) {
    const scan = ++scansSent;
    const answer = await sendCheckIn(fields);
    if (scan > scanShown) {  // an earlier scan's answer is shown until a later one's arrives, never after it
      scanShown = scan;
      showResult(answer.data);
    }
    if (answer.data.status === "ok") refreshCounts();
  }

  // ---- keyboard-wedge scanners and typing ----
  // The field is emptied as the code is sent, so that it is free for the next scan whatever shows meanwhile.
  function submitBadge() {
    // Badges hold 0-9 and A-Z only: a scanner typing with Caps Lock on sends lowercase, which means the same code;
    // one on an AZERTY layout types the digit row unshifted; people type the code in groups.
    const token = window.BadgeCode.normalize($("badge-input").value, Number(root.dataset.tokenLength));
    $("badge-input").value = "";
    if (token) checkIn({ token: token });
  }
  $("badge-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitBadge();
  });

  // ---- camera (static/camera.js) ----
  function cameraStatus(key, detail) {
    const text = words["camera_" + key] || words.camera_failed;
    $("camera-status").textContent = key === "failed" && detail ? text + " (" + detail + ")" : text;
    const on = key === "on";
    $("camera-start").hidden = on;
    $("camera-stop").hidden = !on;
    if (!on) $("camera-video").hidden = true;
  }

  // Said at once, not after a tap on "Start camera": the door should know before the queue forms.
  const cameraProblem = BadgeCamera.unavailableReason();
  if (cameraProblem) {
    cameraStatus(cameraProblem);
    $("camera-start").disabled = true;
  }
  $("camera-start").addEventListener("click", () => {  // disabled above when the camera cannot start
    BadgeCamera.start($("camera-video"), (code) => checkIn({ token: code }), cameraStatus);
  });
  $("camera-stop").addEventListener("click", () => {
    BadgeCamera.stop();
    cameraStatus("off");
  });

  // ---- name search: the server's, or offline the device's roster (scanner-offline.js) ----
  const SEARCH_ANSWER_MS = 4000;  // longer than this, the server counts as unreachable, as for a scan
  let searchesSent = 0;
  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = $("search-input").value.trim();
    const search = ++searchesSent;  // only the last search's answer is listed
    $("search-results").replaceChildren();
    if (!query) { $("search-status").textContent = ""; return; }  // the server says how much of a name it needs
    $("search-status").textContent = words.searching;
    let data;
    let offline = false;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SEARCH_ANSWER_MS);
    try {
      const response = await fetch(root.dataset.lookupUrl + "?q=" + encodeURIComponent(query),
        { credentials: "same-origin", signal: abort.signal });
      try { data = await response.json(); } catch (e) { data = { status: "error" }; }  // an answer, but no list
    } catch (networkError) {  // no network, or no answer in time: the roster kept on this device answers
      data = window.offlineDoor && window.offlineDoor.search(query);
      offline = true;
    } finally {
      clearTimeout(timer);
    }
    if (search !== searchesSent) return;
    if (!data) { $("search-status").textContent = words.no_connection_short; return; }  // no roster here
    if (offline) data = data.reason ? { status: "error", reason: data.reason } : { status: "ok", delegates: data.delegates };
    if (data.status !== "ok") { $("search-status").textContent = data.reason || words.search_failed; return; }
    const status = $("search-status");
    status.textContent = data.delegates.length
      ? data.delegates.length + " " + words.found : words.nobody + " “" + query + "”.";
    if (offline) {  // said with the count, so that a screen reader says it too
      const note = document.createElement("strong");
      note.className = "search-offline";
      note.textContent = words.search_offline;
      status.append(" ", note);
    }
    listFound(data.delegates);
  });

  function listFound(delegates) {
    const list = $("search-results");
    for (const person of delegates) {
      const item = document.createElement("li");
      const who = document.createElement("span");
      fillLine(who, [value(person.name), value(person.entity),
        person.mode === "online" ? words.registered_online : words.registered_in_person,
        words[person.status + "_tag"] || "",  // cancelled, pending, declined, waiting: the door will refuse them
        person.checked_in_at ? words.in_since + " " + person.checked_in_at.slice(11, 16) : ""]);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary";
      button.textContent = words.check_in;
      button.setAttribute("aria-label", words.check_in + " " + person.name);
      button.addEventListener("click", () => checkIn({ registration_id: person.registration_id }));
      item.append(who, button);
      list.append(item);
    }
  }
})();
