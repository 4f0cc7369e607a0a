// Runda's service worker: keeps the app shell and an offline page, and answers page
// requests from the cache when the network is gone: the shell, and the pages of today's
// visits that the phone fetched ahead (day.js) into a cache named by the day, which is
// deleted once that day is over. Technicians' writes never pass
// through here as cached data: they wait in the outbox (IndexedDB), which a new version
// of this worker leaves untouched, so an update cannot strand queued changes.
"use strict";

importScripts("/static/js/outbox.js");

const VERSION = "set-by-the-server"; // the hash over the shell's files (system/routes.py)
const SHELL_CACHE = "runda-shell-" + VERSION;
const DAY_CACHE = "runda-day-"; // + 2026-03-01, the day in Sweden
const SHELL = [
  "/offline",
  "/static/css/runda.css",
  "/static/js/runda.js",
  "/static/js/photo.js",
  "/static/js/outbox.js",
  "/static/js/day.js",
  "/static/js/vendor/htmx-4.0.1.min.js",
  "/static/icons/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

function today() {
  return new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Stockholm", year: "numeric", month: "2-digit",
                                            day: "2-digit" }).format(new Date());
}

// Old shells, and the pages of days that are over (they hold patient data).
function forgetOld() {
  const day = today();
  return caches.keys().then((names) => Promise.all(names
    .filter((name) => (name.startsWith("runda-shell-") && name !== SHELL_CACHE) ||
                      (name.startsWith(DAY_CACHE) && name.slice(DAY_CACHE.length) < day) ||
                      name === "runda-pages")
    .map((name) => caches.delete(name))));
}

self.addEventListener("activate", (event) => {
  event.waitUntil(forgetOld().then(() => self.clients.claim()));
});

// Today's kept copy of a page. A visit page opened after a change (/besok/12?klart=tid) is
// the same visit: its notice does not matter offline.
function keptCopy(request) {
  const url = new URL(request.url);
  return forgetOld().then(() => caches.open(DAY_CACHE + today())).then((cache) => cache
    .match(request, { ignoreVary: true })
    .then((hit) => hit || (url.pathname.startsWith("/besok/")
      ? cache.match(url.pathname, { ignoreSearch: true, ignoreVary: true }) : undefined)));
}

// A page shown from the phone says so (runda.js then shows when it was fetched).
function markedAsKept(response) {
  return response.text().then((html) => new Response(
    html.replace("<head>", '<head><meta name="kept-copy" content="1">'),
    { status: response.status, statusText: response.statusText, headers: response.headers }));
}

// A page kept for today and fetched again online: keep the newer copy.
function refreshKept(request, response) {
  if (!response.ok || response.redirected || new URL(request.url).search) return Promise.resolve();
  const copy = response.clone();
  return caches.has(DAY_CACHE + today()).then((has) => has && caches.open(DAY_CACHE + today()).then((cache) => cache
    .match(request, { ignoreVary: true })
    .then((hit) => hit && cache.put(request.url, copy))));
}

function isStatic(url) {
  return url.pathname.startsWith("/static/");
}

// Static files have content-hashed names (/static/css/runda.1a2b3c4d5e.css): a name is
// never reused for other bytes, so a kept copy is always right. A page kept from before an
// update names the old hashes; offline, it gets the present version of the same file.
function withoutHash(pathname) {
  return pathname.replace(/\.[0-9a-f]{10}(\.[A-Za-z0-9]+)$/, "$1");
}

function sameFileKept(url) {
  const wanted = withoutHash(url.pathname);
  const current = SHELL.find((path) => withoutHash(path) === wanted);
  return current ? caches.match(current) : Promise.resolve(undefined);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (isStatic(url)) {
    event.respondWith(caches.match(request).then((cached) => cached || fetch(request).then((response) => {
      if (response.ok && withoutHash(url.pathname) !== url.pathname) {
        const copy = response.clone();
        event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy)));
      }
      return response;
    }, () => sameFileKept(url).then((kept) => kept || Response.error()))));
    return;
  }
  // Pages and data: the network first; without it, what was cached ahead, else the offline page.
  event.respondWith(fetch(request).then((response) => {
    if (request.mode === "navigate") event.waitUntil(refreshKept(request, response));
    return response;
  }, () => keptCopy(request)
    .then((kept) => kept && request.mode === "navigate" ? markedAsKept(kept) : kept)
    .then((kept) => kept || (request.mode === "navigate" ? caches.match("/offline") : Response.error()))));
});

// Background Sync (where the browser has it): deliver the outbox even with no page open.
self.addEventListener("sync", (event) => {
  if (event.tag === "runda-outbox") event.waitUntil(self.RundaOutbox.drain());
});
