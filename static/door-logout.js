// On the login page, nobody is logged in: the door rosters (names of delegates) and the kept scanner pages go.
// Scans still waiting to be sent stay: nothing scanned is lost; the next login on this device sends them.
// When both are gone, <html data-door-data-wiped> says so (a person takes longer to log in than this takes; a
// test logging in at once waits for it, or the wipe could land after the scanner has kept its new copies).
(function () {
  "use strict";
  const cachesGone = window.caches ? caches.delete("door-scanner-v1").catch(() => null) : Promise.resolve();
  const rostersGone = (!window.indexedDB || !indexedDB.databases) ? Promise.resolve() :
    indexedDB.databases().then((databases) => new Promise((resolve) => {
      if (!databases.some((d) => d.name === "attendance-door")) return resolve();
      const req = indexedDB.open("attendance-door");
      req.onerror = () => resolve();
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("rosters")) { db.close(); return resolve(); }
        const tx = db.transaction("rosters", "readwrite");
        tx.objectStore("rosters").clear();
        tx.oncomplete = tx.onerror = tx.onabort = () => { db.close(); resolve(); };
      };
    })).catch(() => null);
  Promise.all([cachesGone, rostersGone]).then(() => { document.documentElement.dataset.doorDataWiped = "yes"; });
})();
