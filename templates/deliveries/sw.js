/* tracker's service worker: keeps the field app's page and every static file on the phone.
 * Version {{ version }}: a new version (any static file or the page changed) replaces the
 * old cache. The field app's page and the static files come from the kept copy; a school's
 * page in a count is fetched from the network and its last copy kept, so it opens offline
 * where the count is done; other pages are fetched from the network and fall back to the
 * field app offline. The API is never cached here (the app keeps its data). */
"use strict";

const CACHE = "tracker-{{ version }}";
const SHELL = {{ shell | tojson }};
const FIELD_APP = {{ url_for('offline.field_app') | tojson }};
// Pages a school's phone keeps its last copy of, to work where the network comes and goes:
// a count at the school, the school's own page and a delivery the school confirms.
const COUNT_PAGE = /^\/(counts\/\d+\/schools\/\d+|my-school|my-school\/deliveries\/\d+)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { credentials: "same-origin", redirect: "error" }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("tracker-") && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return;  // writes and the API always go to the network
  }
  if (request.mode === "navigate" && url.pathname === FIELD_APP) {
    // The field app opens from the phone's copy, with no request: once online, the page asks
    // the API who is signed in and renews the copy when it names someone else, another
    // language or nobody (store.js, checkPage). Signing out removes it.
    event.respondWith(
      caches.match(FIELD_APP).then((kept) => kept || fetch(request).then((response) => {
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(FIELD_APP, copy));
        }
        return response;
      }))
    );
    return;
  }
  if (request.mode === "navigate" && COUNT_PAGE.test(url.pathname)) {
    // Counting where the network comes and goes: the last copy opens offline, and its scans
    // wait in the phone's queue (desk.js). Signing out removes the copies (store.js).
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname + url.search, copy));
        }
        return response;
      }).catch(() => caches.match(url.pathname + url.search)
        .then((kept) => kept || caches.match(url.pathname))
        .then((kept) => kept || caches.match(FIELD_APP)))
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(() => caches.match(request).then((kept) => kept || caches.match(FIELD_APP)))
    );
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
  }
});
