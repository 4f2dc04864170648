// The station's service worker (served by trace_api/station/pages.py, which writes in the release and the file
// list). It keeps the whole app in a cache named after the release, so the station opens with no signal, and
// sends the queue on Background Sync where the browser has it. API calls are not cached: the queue is in IndexedDB.
import { SYNC_TAG, syncQueue } from "/scan/static/sync.js";

const PREFIX = "lotline-station-";
const CACHE = PREFIX + "__VERSION__";
const SHELL = ["__SHELL__"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

function isApp(url) {
  return url.origin === self.location.origin && (url.pathname === "/scan" || url.pathname.startsWith("/scan/"));
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isApp(url) || url.pathname === "/scan/sw.js") return;
  event.respondWith(
    (async () => {
      const cached = await caches.match(event.request, { cacheName: CACHE, ignoreSearch: true });
      return cached || fetch(event.request);
    })(),
  );
});

async function tellPages() {
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "synced" });
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(syncQueue().then(tellPages));
});
