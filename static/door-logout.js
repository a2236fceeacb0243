// On the login page, nobody is logged in: the door rosters (names of delegates) and the kept scanner pages go.
// Scans still waiting to be sent stay: nothing scanned is lost; the next login on this device sends them.
(function () {
  "use strict";
  if (window.caches) caches.delete("door-scanner-v1").catch(() => null);
  if (!window.indexedDB || !indexedDB.databases) return;
  indexedDB.databases().then((databases) => {
    if (!databases.some((d) => d.name === "attendance-door")) return;
    const req = indexedDB.open("attendance-door");
    req.onsuccess = () => {
      const db = req.result;
      if (db.objectStoreNames.contains("rosters")) db.transaction("rosters", "readwrite").objectStore("rosters").clear();
    };
  }).catch(() => null);
})();
