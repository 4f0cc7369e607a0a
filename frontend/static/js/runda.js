// Runda's one small page script: the CSRF token for htmx and fetch requests.
// The token comes from the page (a meta tag), never from a cookie read in script.
(function () {
  "use strict";
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  window.Runda = window.Runda || {};
  window.Runda.csrfToken = csrfToken;
  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.request && ctx.request.headers) {
      ctx.request.headers["X-CSRFToken"] = csrfToken();
    }
  });
})();
