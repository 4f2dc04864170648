// The station's IndexedDB: the queue of scans (each with its idempotency key and event time, kept until the server
// has answered for it) and the settings (the organisation's token, the cached key set, the language). The page and
// the service worker both open it.

const DB_NAME = "lotline-station";
const DB_VERSION = 1;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

let opened = null;

export function openStore() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      const scans = db.createObjectStore("scans", { keyPath: "key" });
      scans.createIndex("state", "state");
      scans.createIndex("seq", "seq");
      db.createObjectStore("settings", { keyPath: "name" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

export async function getSetting(name) {
  const db = await openStore();
  const row = await request(db.transaction("settings").objectStore("settings").get(name));
  return row ? row.value : undefined;
}

export async function setSetting(name, value) {
  const db = await openStore();
  const tx = db.transaction("settings", "readwrite");
  tx.objectStore("settings").put({ name, value });
  await done(tx);
}

export async function deleteSetting(name) {
  const db = await openStore();
  const tx = db.transaction("settings", "readwrite");
  tx.objectStore("settings").delete(name);
  await done(tx);
}

/** Queue scans in one transaction: all of a submitted list is queued, or none of it. */
export async function enqueue(entries) {
  const db = await openStore();
  const tx = db.transaction("scans", "readwrite");
  const store = tx.objectStore("scans");
  const base = Date.now() * 1000;
  entries.forEach((entry, i) => store.add({ ...entry, seq: base + i, state: "pending", outcome: null }));
  await done(tx);
}

export async function pendingScans(limit) {
  const db = await openStore();
  const all = await request(db.transaction("scans").objectStore("scans").index("state").getAll("pending"));
  return all.sort((a, b) => a.seq - b.seq).slice(0, limit);
}

export async function allScans() {
  const db = await openStore();
  const all = await request(db.transaction("scans").objectStore("scans").index("seq").getAll());
  return all.reverse();
}

/** Record the server's answers; a scan leaves "pending" only here, with its answer. */
export async function settle(lines) {
  const db = await openStore();
  const tx = db.transaction("scans", "readwrite");
  const store = tx.objectStore("scans");
  for (const line of lines) {
    const req = store.get(line.key);
    req.onsuccess = () => {
      const entry = req.result;
      if (!entry || entry.state !== "pending") return;
      store.put({ ...entry, state: line.outcome, outcome: line });
    };
  }
  await done(tx);
}

export async function clearSettled() {
  const db = await openStore();
  const tx = db.transaction("scans", "readwrite");
  const store = tx.objectStore("scans");
  const req = store.getAll();
  req.onsuccess = () => req.result.filter((e) => e.state !== "pending").forEach((e) => store.delete(e.key));
  await done(tx);
}
