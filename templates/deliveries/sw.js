/* tracker's service worker: keeps the field app's page and every static file on the phone.
 * Version {{ version }}: a new version (any static file or the page changed) replaces the
 * old cache. Pages are fetched from the network first and fall back to the kept copy; static
 * files come from the kept copy. The API is never cached here (the app keeps its data). */
"use strict";

const CACHE = "tracker-{{ version }}";
const SHELL = {{ shell | tojson }};
const FIELD_APP = {{ url_for('offline.field_app') | tojson }};

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
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).then((response) => {
        if (url.pathname === FIELD_APP && response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(FIELD_APP, copy));
        }
        return response;
      }).catch(() => caches.match(url.pathname === FIELD_APP ? FIELD_APP : request)
        .then((kept) => kept || caches.match(FIELD_APP)))
    );
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
  }
});
