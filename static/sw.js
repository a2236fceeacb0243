// The door scanner's service worker: keeps the scanner page and its files so that the page reopens with no
// network. Served from /checkin-sw.js, so that its scope may cover the scanner pages under /sessions/.
// Sounds are made by the page itself (Web Audio): there are no sound files to keep.
"use strict";

const CACHE = "door-scanner-v1";
const SCANNER_PAGE = /^\/sessions\/[^/]+\/checkin$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// The page names its own files (and itself) once it runs, whatever they are called this release; it is told how
// many are kept, so that the door knows whether the page would reopen with no network.
self.addEventListener("message", (event) => {
  const urls = (event.data && event.data.cache) || [];
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(urls.map((url) =>
    fetch(url, { credentials: "same-origin" }).then((response) => keep(cache, url, response), () => hasCopy(cache, url)))))
    .then((kept) => {
      if (event.source) event.source.postMessage({ kept: kept.filter(Boolean).length, of: urls.length });
    }));
});

// A copy replaces the kept one only once its whole body has arrived: a put that streams from the network and is
// cut by the network dropping would lose the kept copy too, and the page could not reopen offline. True when a
// copy is kept, this one or an earlier one.
async function keep(cache, key, response) {
  if (!response.ok || response.redirected) return hasCopy(cache, key);
  try {
    const body = await response.blob();
    await cache.put(key, new Response(body, { status: response.status, statusText: response.statusText,
                                               headers: response.headers }));
    return true;
  } catch (cut) { return hasCopy(cache, key); /* the network dropped meanwhile: the copy kept before stays */ }
}

async function hasCopy(cache, key) {
  return Boolean(await cache.match(key, { ignoreSearch: true }));
}

function isKept(url, request) {
  if (url.origin !== self.location.origin || request.method !== "GET") return false;
  return SCANNER_PAGE.test(url.pathname) || url.pathname.startsWith("/static/") ||
    url.pathname.endsWith("/manifest.webmanifest");
}

// Network first, so that a page online is always today's; the kept copy only when the network fails.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (!isKept(url, event.request)) return;  // the API and every other page go to the network as usual
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      await keep(cache, event.request, response.clone());
      return response;
    } catch (networkError) {
      const kept = await cache.match(event.request, { ignoreSearch: true });
      if (kept) return kept;
      throw networkError;
    }
  })());
});
