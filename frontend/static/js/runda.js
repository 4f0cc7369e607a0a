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
  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.request && ctx.request.headers) {
      ctx.request.headers["X-CSRFToken"] = csrfToken();
    }
  });
})();
