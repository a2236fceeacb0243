// The self check-in kiosk. A staff member gives it an API token once (kept in this browser); then delegates show
// their badge QR to the camera, or to a scanner plugged in, and see their own welcome and nothing else. Every
// decision is the server's: the page sends the code and shows the answer.
(function () {
  "use strict";

  const root = document.getElementById("kiosk");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const words = JSON.parse($("kiosk-words").textContent);
  const TOKEN_KEY = "attendance.kiosk-token." + root.dataset.session;
  const ANSWER_SHOWN_MS = 15000;
  let token = localStorage.getItem(TOKEN_KEY) || "";

  function showPart(name) {
    $("kiosk-setup").hidden = name !== "setup";
    $("kiosk-ready").hidden = name !== "ready";
    $("kiosk-scan").hidden = name !== "scan";
    if (name !== "scan") clearAnswer();
  }

  async function callApi(url, body) {
    const request = { method: body ? "POST" : "GET", credentials: "omit", cache: "no-store",
                      headers: { Authorization: "Bearer " + token } };
    if (body) {
      request.headers["Content-Type"] = "application/json";
      request.body = JSON.stringify(body);
    }
    const response = await fetch(url, request);
    let data = {};
    try { data = await response.json(); } catch (e) { data = { status: "error" }; }
    return { http: response.status, data: data };
  }

  // A token this kiosk may not (or no longer) use is forgotten: staff set it up again.
  function refuseToken(reason) {
    token = "";
    localStorage.removeItem(TOKEN_KEY);
    BadgeCamera.stop();
    showPart("setup");
    $("kiosk-setup-status").textContent = reason || "";
  }

  async function checkToken() {
    $("kiosk-setup-status").textContent = words.checking;
    let answer;
    try {
      answer = await callApi(root.dataset.startUrl);
    } catch (networkError) {
      $("kiosk-setup-status").textContent = words.no_connection;
      showPart(token ? "ready" : "setup");  // a stored token is tried again with the first badge
      return;
    }
    if (answer.http === 200) {
      localStorage.setItem(TOKEN_KEY, token);
      $("kiosk-setup-status").textContent = "";
      showPart("ready");
    } else {
      refuseToken(answer.data.reason || words.error);
    }
  }

  $("kiosk-setup").addEventListener("submit", (event) => {
    event.preventDefault();
    token = $("kiosk-token").value.trim();
    $("kiosk-token").value = "";
    if (token) checkToken();
  });

  // ---- the kiosk running ----
  function cameraStatus(key, detail) {
    const text = key === "on" ? "" : words["camera_" + key] || words.camera_failed;
    $("kiosk-camera-status").textContent = key === "failed" && detail ? text + " (" + detail + ")" : text;
    $("kiosk-video").hidden = key !== "on";
  }

  function keepWedgeFocused() {
    if (!$("kiosk-scan").hidden) $("kiosk-wedge").focus({ preventScroll: true });
  }

  $("kiosk-start").addEventListener("click", () => {
    if (document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(() => { /* a browser that says no: still a kiosk */ });
    }
    showPart("scan");
    keepWedgeFocused();
    const problem = BadgeCamera.unavailableReason();
    if (problem) cameraStatus(problem);
    else BadgeCamera.start($("kiosk-video"), checkIn, cameraStatus);
  });
  document.addEventListener("click", keepWedgeFocused);
  $("kiosk-wedge").addEventListener("blur", () => setTimeout(keepWedgeFocused, 0));
  $("kiosk-wedge-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = window.BadgeCode.normalize($("kiosk-wedge").value, Number(root.dataset.tokenLength));
    $("kiosk-wedge").value = "";
    if (code) checkIn(code);
  });

  // ---- answers: the person in front of the kiosk, and no one else ----
  let hideTimer = null;
  let shownCode = "";
  let scans = 0;

  function newNonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  async function checkIn(code) {
    if (code === shownCode) return;  // the same delegate still holding their badge up
    const scan = ++scans;
    let answer;
    try {
      answer = await callApi(root.dataset.checkinUrl, { token: code, nonce: newNonce() });
    } catch (networkError) {
      answer = { http: 0, data: { status: "error", message: words.no_connection } };
    }
    if (scan !== scans) return;  // a later badge's answer is coming: it is the one to show
    if (answer.http === 401 || answer.http === 403) {
      refuseToken(answer.data.reason);
      return;
    }
    showAnswer(code, answer.data);
  }

  function showAnswer(code, data) {
    const welcomed = data.status === "ok" || data.status === "already_checked_in";
    clearAnswer();
    shownCode = code;
    const panel = $("kiosk-answer");
    panel.className = "kiosk-answer" + (welcomed ? "" : " kiosk-refused");
    if (welcomed) {
      panel.lang = data.lang || "";  // the delegate's language, not the kiosk's
      $("kiosk-welcome").textContent = data.welcome;
      $("kiosk-print").href = data.badge_url;
      $("kiosk-print").textContent = data.print;
      $("kiosk-print").hidden = false;
    }
    $("kiosk-message").textContent = data.message || words.error;
    $("kiosk-prompt").hidden = true;
    panel.hidden = false;
    hideTimer = setTimeout(clearAnswer, ANSWER_SHOWN_MS);
  }

  // Emptied, not only hidden: the next person at the kiosk must not find the last one's name in the page.
  function clearAnswer() {
    clearTimeout(hideTimer);
    shownCode = "";
    $("kiosk-answer").hidden = true;
    $("kiosk-answer").removeAttribute("lang");
    $("kiosk-welcome").textContent = "";
    $("kiosk-message").textContent = "";
    $("kiosk-print").removeAttribute("href");
    $("kiosk-print").textContent = "";
    $("kiosk-print").hidden = true;
    $("kiosk-prompt").hidden = false;
  }

  if (token) checkToken();
  else showPart("setup");
})();
