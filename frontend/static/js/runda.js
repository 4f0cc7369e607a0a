// Runda's small page script: the CSRF token for htmx and fetch requests (from the page's meta tag,
// never from a cookie read in script), and the installable app for signed-in staff.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  window.Runda = window.Runda || {};
  window.Runda.csrfToken = csrfToken;
  // Signed-in staff get the installable app: the service worker, and storage the browser
  // will not clear on its own (the outbox and the day's pages live there).
  if (document.body && document.body.hasAttribute("data-staff")) {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(function () {});
    }
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persisted().then(function (done) { if (!done) navigator.storage.persist(); });
    }
  }
  // A page may come from the phone's day cache (see sw.js and day.js): say when it was
  // fetched when it came from there or is more than a minute old, and whenever the phone is offline.
  var ZONE = "Europe/Stockholm";
  // The date in Sweden as 2026-03-01: the day caches are named by it.
  function stockholmDay(date) {
    return new Intl.DateTimeFormat("sv-SE", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(date || new Date());
  }
  function stockholmTime(date) {
    return date.toLocaleTimeString("sv-SE", { timeZone: ZONE, hour: "2-digit", minute: "2-digit" });
  }
  function showFetchedAt() {
    var meta = document.querySelector('meta[name="fetched-at"]');
    var note = document.getElementById("fetched-at");
    if (!meta || !note) return;
    var at = new Date(meta.getAttribute("content"));
    var old = !!document.querySelector('meta[name="kept-copy"]') || Date.now() - at.getTime() > 60 * 1000;
    if (!old && navigator.onLine) { note.hidden = true; return; }
    var when = stockholmDay(at) === stockholmDay() ? "kl " + stockholmTime(at) : stockholmDay(at) + " kl " + stockholmTime(at);
    note.textContent = (old ? "Sparad kopia, hämtad " : "Hämtad ") + when + "." +
      (navigator.onLine ? "" : " Du är offline: det du sparar skickas när nätet är tillbaka.");
    note.hidden = false;
  }
  window.Runda.stockholmDay = stockholmDay;
  window.Runda.stockholmTime = stockholmTime;
  window.Runda.showFetchedAt = showFetchedAt;
  // Pages with patient data are kept on the phone for their day only.
  if (window.caches) {
    caches.keys().then(function (names) {
      names.forEach(function (name) {
        if (name.indexOf("runda-day-") === 0 && name.slice(10) < stockholmDay()) caches.delete(name);
      });
    }).catch(function () {});
  }
  showFetchedAt();
  window.addEventListener("pageshow", showFetchedAt);
  window.addEventListener("online", showFetchedAt);
  window.addEventListener("offline", showFetchedAt);

  // After a refused form the page comes back with an error summary: take focus there, so a
  // screen reader reads what to fix and the keyboard starts from its links.
  function focusErrorSummary(root) {
    var summary = (root || document).querySelector(".error-summary[tabindex]");
    if (summary) summary.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusErrorSummary(); });
  } else {
    focusErrorSummary();
  }
  document.addEventListener("htmx:after:swap", function (event) {
    var target = event.detail && event.detail.ctx && event.detail.ctx.target;
    // Only within what was swapped: a swap elsewhere must not pull focus away.
    if (target && target.parentNode && target.parentNode.querySelector) focusErrorSummary(target.parentNode);
  });

  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.request && ctx.request.headers) {
      ctx.request.headers["X-CSRFToken"] = csrfToken();
    }
  });
})();
