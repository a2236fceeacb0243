// Keeps an organiser page's headline numbers current: reads the headline API every 30 seconds.
(function () {
  "use strict";
  const box = document.getElementById("headline");
  if (!box) return;
  async function refresh() {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (!response.ok) return;
      const numbers = await response.json();
      for (const element of box.querySelectorAll("[data-live]")) {
        const [scope, column] = element.dataset.live.split(".");
        if (numbers[scope] && column in numbers[scope]) element.textContent = numbers[scope][column];
      }
    } catch (e) { /* offline: keep the last numbers */ }
  }
  setInterval(refresh, 30000);
})();
