// The day, cached ahead: on today's "Min dag", while online, fetch every page the day's visits
// need (the server lists them) and keep them in today's cache, so that a visit never opened
// before still opens in a basement. The service worker answers from that cache offline and
// deletes it when the day is over. Progress and the result are shown in #day-ahead.
(function () {
  "use strict";
  var box = document.getElementById("day-ahead");
  if (!box || !window.caches || !window.fetch) return;
  var text = box.querySelector(".day-ahead-text");
  var RECENT = "runda-day-ahead"; // which pages were kept, and when (no patient data)

  function say(message, problem) {
    text.textContent = message;
    box.classList.toggle("attention", !!problem);
    box.hidden = false;
  }

  function sayKept(list, at) {
    say("Dagens besök finns på telefonen och går att öppna utan nät: " + list.urls.length +
        " sidor, hämtade kl " + at + ".");
  }

  // A page is kept only when it is really the page: not a sign-in page after an expired session.
  function fetchPage(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected) throw new Error(url);
      return response;
    });
  }

  function keep(list) {
    var name = "runda-day-" + list.day;
    var done = 0;
    var failed = 0;
    var queue = list.urls.slice();
    return caches.open(name).then(function (cache) {
      function next() {
        var url = queue.shift();
        if (!url) return Promise.resolve();
        return fetchPage(url).then(function (response) { return cache.put(url, response); })
          .then(function () { done += 1; }, function () { failed += 1; })
          .then(function () {
            say("Sparar dagens besök på telefonen: " + (done + failed) + " av " + list.urls.length + " sidor.");
            return next();
          });
      }
      // Three at a time: quick on a phone's connection without crowding out the technician's own requests.
      return Promise.all([next(), next(), next()]);
    }).then(function () {
      var at = window.Runda.stockholmTime(new Date());
      if (!failed) {
        try { localStorage.setItem(RECENT, JSON.stringify({ day: list.day, urls: list.urls, at: Date.now() })); }
        catch (e) { /* private mode: fetched again next time */ }
      }
      if (failed) {
        say(failed + " av " + list.urls.length + " sidor kunde inte sparas på telefonen (kl " + at +
            "). Öppna Min dag igen när du har nät.", true);
      } else {
        sayKept(list, at);
      }
    });
  }

  function run() {
    if (!navigator.onLine) {
      say("Du är offline. Besök som sparades på telefonen tidigare i dag går att öppna.");
      return;
    }
    say("Sparar dagens besök på telefonen …");
    fetch(box.getAttribute("data-source"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("list");
        return response.json();
      })
      .then(function (list) {
        // Fetched a moment ago, and the same pages: no need to fetch them all again.
        var last = null;
        try { last = JSON.parse(localStorage.getItem(RECENT) || "null"); } catch (e) { last = null; }
        var same = last && last.day === list.day && last.urls.join(" ") === list.urls.join(" ");
        if (same && Date.now() - last.at < 10 * 60 * 1000) {
          return caches.has("runda-day-" + list.day).then(function (kept) {
            if (!kept) return keep(list);
            sayKept(list, window.Runda.stockholmTime(new Date(last.at)));
          });
        }
        return keep(list);
      })
      .catch(function () {
        say("Dagens besök kunde inte sparas på telefonen just nu. Öppna Min dag igen när du har nät.", true);
      });
  }

  run();
})();
