// The door phone's own storage, in IndexedDB: the roster of today's badges, the queue of scans not yet sent,
// and the conflicts the server reported. The queue outlives a reload, a closed tab and a restart.
(function () {
  "use strict";

  const NAME = "attendance-door";
  const VERSION = 1;

  function request(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  function open() {
    return new Promise((resolve, reject) => {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore("rosters", { keyPath: "key" });  // one per user and session
        db.createObjectStore("queue", { keyPath: "id", autoIncrement: true });  // ids keep the scans' order
        db.createObjectStore("conflicts", { keyPath: "id", autoIncrement: true });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error("IndexedDB blocked"));
    });
  }

  // A write is done once its transaction commits: only then is a scan safe from a closed tab.
  function run(db, storeName, mode, work) {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(storeName, mode);
      let result;
      Promise.resolve(work(tx.objectStore(storeName))).then((value) => { result = value; }, reject);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    });
  }

  class Store {
    constructor(db) { this.db = db; }

    static async open() {
      const store = new Store(await open());
      // Private modes and full disks fail on the first write, not on open: find out now, not at the door.
      await store.run("conflicts", "readwrite", (s) => request(s.put({ id: 0, probe: true })));
      await store.run("conflicts", "readwrite", (s) => request(s.delete(0)));
      return store;
    }

    run(storeName, mode, work) { return run(this.db, storeName, mode, work); }

    all(storeName) { return this.run(storeName, "readonly", (s) => request(s.getAll())); }

    // ---- roster ----
    roster(key) { return this.run("rosters", "readonly", (s) => request(s.get(key))); }
    saveRoster(roster) { return this.run("rosters", "readwrite", (s) => request(s.put(roster))); }
    async dropRosters(keep) {
      const rosters = await this.all("rosters");
      await this.run("rosters", "readwrite", (s) => Promise.all(
        rosters.filter((r) => !keep || !keep(r)).map((r) => request(s.delete(r.key)))));
    }

    // ---- queue ----
    enqueue(scan) { return this.run("queue", "readwrite", (s) => request(s.add(scan))); }
    updateScan(scan) { return this.run("queue", "readwrite", (s) => request(s.put(scan))); }
    dequeue(id) { return this.run("queue", "readwrite", (s) => request(s.delete(id))); }
    queued() { return this.all("queue"); }  // in the order scanned

    // ---- conflicts ----
    addConflict(conflict) { return this.run("conflicts", "readwrite", (s) => request(s.add(conflict))); }
    conflicts() { return this.all("conflicts"); }
    clearConflicts() { return this.run("conflicts", "readwrite", (s) => request(s.clear())); }
  }

  window.ScannerStore = Store;
})();
