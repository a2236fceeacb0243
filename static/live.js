// Keeps an organiser page's headline numbers current: reads the headcount API every 30 seconds.
(function () {
  "use strict";
  const box = document.getElementById("headline");
  if (!box) return;
  async function refresh() {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (!response.ok) return;
      const report = await response.json();
      const scopes = {
        session: report.scopes.find((s) => s.scope === "session"),
        today: report.scopes.find((s) => s.scope === box.dataset.today),
      };
      for (const element of box.querySelectorAll("[data-live]")) {
        const [scope, column] = element.dataset.live.split(".");
        if (scopes[scope]) element.textContent = scopes[scope].total[column];
      }
    } catch (e) { /* offline: keep the last numbers */ }
  }
  setInterval(refresh, 30000);
})();
