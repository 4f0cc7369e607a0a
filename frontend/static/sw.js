// Runda's service worker: keeps the app shell and an offline page, and answers page
// requests from the cache when the network is gone. Technicians' writes never pass
// through here as cached data: they wait in the outbox (IndexedDB), which a new version
// of this worker leaves untouched, so an update cannot strand queued changes.
"use strict";

importScripts("/static/js/outbox.js");

const VERSION = "2026-11-22.1";
const SHELL_CACHE = "runda-shell-" + VERSION;
const PAGE_CACHE = "runda-pages";
const SHELL = [
  "/offline",
  "/static/css/runda.css",
  "/static/js/runda.js",
  "/static/js/photo.js",
  "/static/js/outbox.js",
  "/static/js/vendor/htmx-4.0.1.min.js",
  "/static/icons/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names
        .filter((name) => name.startsWith("runda-shell-") && name !== SHELL_CACHE)
        .map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

function isStatic(url) {
  return url.pathname.startsWith("/static/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (isStatic(url)) {
    // The shell: from the cache, refreshed in the background.
    event.respondWith(caches.match(request).then((cached) => {
      const fresh = fetch(request).then((response) => {
        if (response.ok) caches.open(SHELL_CACHE).then((cache) => cache.put(request, response.clone()));
        return response;
      });
      return cached || fresh;
    }));
    return;
  }
  // Pages and data: the network first; without it, what was cached ahead, else the offline page.
  event.respondWith(fetch(request).catch(() => caches.open(PAGE_CACHE)
    .then((cache) => cache.match(request))
    .then((cached) => cached || (request.mode === "navigate" ? caches.match("/offline") : Response.error()))));
});

// Background Sync (where the browser has it): deliver the outbox even with no page open.
self.addEventListener("sync", (event) => {
  if (event.tag === "runda-outbox") event.waitUntil(self.RundaOutbox.drain());
});
