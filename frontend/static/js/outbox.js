// The outbox: every technician write is first stored on the phone (IndexedDB) with a fresh
// idempotency key and the version of the order it was based on, shown at once as
// "Sparad på telefonen", and then sent in order per work order until the server has
// acknowledged it. An entry leaves the phone only on the server's acknowledgement; a
// refusal or a conflict stays, visible, until a person has dealt with it.
//
// Runs in the page (forms marked data-outbox) and in the service worker (Background Sync,
// where the browser has it). The page-driven retries are the real mechanism: on load, on
// `online`, when the page becomes visible, on a timer with backoff, and from "Synka nu".
(function (scope) {
  "use strict";
  var DB_NAME = "runda-outbox";
  var STORE = "entries";
  var META = "meta";
  var inPage = typeof document !== "undefined";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore(STORE, { keyPath: "key" });
        db.createObjectStore(META);
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(storeName, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        // A write is on disk before it counts as saved: the phone may be switched off or the
        // browser killed a moment after "Sparad på telefonen".
        var t = mode === "readwrite" ? db.transaction(storeName, mode, { durability: "strict" })
                                     : db.transaction(storeName, mode);
        var request = work(t.objectStore(storeName));
        t.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        t.onerror = function () { db.close(); reject(t.error); };
        t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }

  function entries() {
    return run(STORE, "readonly", function (s) { return s.getAll(); }).then(function (list) {
      return (list || []).sort(function (a, b) { return a.seq - b.seq; });
    });
  }
  function save(entry) { return run(STORE, "readwrite", function (s) { return s.put(entry); }); }
  // Update an entry only while it is still on the phone: a delivery that raced with another
  // (the page and Background Sync) must never bring back an entry the server acknowledged.
  function update(entry) {
    return run(STORE, "readwrite", function (s) {
      var found = s.get(entry.key);
      found.onsuccess = function () { if (found.result) s.put(entry); };
      return found;
    });
  }
  function remove(key) { return run(STORE, "readwrite", function (s) { return s.delete(key); }); }
  function getMeta(name) { return run(META, "readonly", function (s) { return s.get(name); }); }
  function setMeta(name, value) { return run(META, "readwrite", function (s) { return s.put(value, name); }); }

  function uuid() {
    if (scope.crypto && scope.crypto.randomUUID) return scope.crypto.randomUUID();
    var b = scope.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- sending --------------------------------------------------------------------------

  // The body as the form itself would send it: url-encoded, or multipart when it carries a file.
  function body(entry) {
    var hasFile = entry.fields.some(function (pair) { return pair[1] && typeof pair[1] === "object"; });
    if (!hasFile) {
      var params = new URLSearchParams();
      entry.fields.forEach(function (pair) { params.append(pair[0], pair[1]); });
      return params;
    }
    var data = new FormData();
    entry.fields.forEach(function (pair) {
      var value = pair[1];
      if (value && typeof value === "object" && value.blob) {
        data.append(pair[0], new File([value.blob], value.name, { type: value.type }));
      } else {
        data.append(pair[0], value);
      }
    });
    return data;
  }

  function versionIn(location) {
    var match = /[?&]v=(\d+)/.exec(location || "");
    return match ? match[1] : null;
  }

  function messageIn(html) {
    if (!inPage || !html) return "";
    var doc = new DOMParser().parseFromString(html, "text/html");
    var item = doc.querySelector(".error-summary li, .flash.error, main p");
    return item ? item.textContent.trim().replace(/\s+/g, " ") : "";
  }

  var latestToken = null;

  // A fresh CSRF token (and its cookie): the browser drops the cookie when it closes, while
  // the page the token came from may be a kept copy. Null when the session is gone.
  function freshToken() {
    return fetch("/csrf-token", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok && !response.redirected ? response.json() : null;
      })
      .then(function (answer) {
        var token = answer && answer.token;
        if (token) latestToken = token;
        if (token && inPage) {
          var meta = document.querySelector('meta[name="csrf-token"]');
          if (meta) meta.setAttribute("content", token);
          document.querySelectorAll('input[name="_csrf_token"]').forEach(function (input) { input.value = token; });
        }
        return token || null;
      }, function () { return null; });
  }

  // One delivery. Resolves to "sent", "conflict", "refused", "signin" or "later".
  function deliver(entry, token, retried) {
    var headers = { "Idempotency-Key": entry.key, "Accept": "application/json",
                    "X-CSRFToken": latestToken || token || entry.token };
    if (entry.version) headers["If-Match"] = entry.version;
    return fetch(entry.url, { method: "POST", body: body(entry), headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (response.ok) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            return { outcome: "sent", version: versionIn(answer.location), location: answer.location };
          });
        }
        if (response.status === 403 && !retried) {
          // Most likely a CSRF token older than the browser's cookie: once more with a fresh one.
          return freshToken().then(function (fresh) {
            return fresh ? deliver(entry, fresh, true) : { outcome: "signin" };
          });
        }
        if (response.status === 401 || response.status === 403) return { outcome: "signin" };
        if (response.status === 409 || (response.status >= 400 && response.status < 500)) {
          return response.text().then(function (html) {
            return { outcome: response.status === 409 ? "conflict" : "refused",
                     message: messageIn(html) || "svar " + response.status };
          });
        }
        return { outcome: "later" };
      }, function () { return { outcome: "later" }; });
  }

  var draining = null;

  // Send every pending entry, oldest first, one at a time, so the entries of one work order
  // arrive in the order they were made. When the server cannot be reached (or asks for a
  // sign-in) everything stops there; an entry refused or kept as a conflict stays on the phone
  // for a person, and the visit's completion waits for it (expected_writes).
  function drain(token) {
    // A drain already under way may have read the list before the newest entry: go again after it.
    if (draining) return draining.then(function () { return drain(token); });
    draining = entries().then(function (list) {
      var result = { sent: 0, stop: null, outcomes: {}, locations: {} };
      var chain = Promise.resolve();
      list.forEach(function (entry) {
        chain = chain.then(function () {
          if (result.stop || entry.state !== "pending") return;
          return deliver(entry, token).then(function (answer) {
            result.outcomes[entry.key] = answer.outcome;
            if (answer.outcome === "sent") {
              result.sent += 1;
              if (answer.location) result.locations[entry.order] = answer.location;
              return remove(entry.key).then(function () {
                if (answer.version && entry.changesOrder) return rebase(list, entry, answer.version);
              });
            }
            if (answer.outcome === "signin" || answer.outcome === "later") {
              result.stop = answer.outcome;
              return;
            }
            entry.state = answer.outcome;
            entry.message = answer.message || "";
            return update(entry);
          });
        });
      });
      return chain.then(function () {
        if (result.sent) return setMeta("lastSync", Date.now()).then(function () { return result; });
        return result;
      });
    }).finally(function () { draining = null; });
    return draining;
  }

  // This phone's own change moved the order to `version`: its later entries that were based
  // on the same page (the version before) now build on that change, not on someone else's.
  function rebase(list, sentEntry, version) {
    return Promise.all(list.filter(function (e) {
      return e !== sentEntry && e.order === sentEntry.order && e.state === "pending" && e.version === sentEntry.version;
    }).map(function (e) {
      e.version = version;
      e.fields = e.fields.map(function (pair) { return pair[0] === "version" ? ["version", version] : pair; });
      return update(e);
    }));
  }

  function capture(form, token) {
    var fields = [];
    var version = null;
    new FormData(form).forEach(function (value, name) {
      if (name === "_csrf_token") return;
      if (typeof value === "object") {
        if (!value.size) return;
        fields.push([name, { blob: value, name: value.name, type: value.type }]);
        return;
      }
      if (name === "version") version = value;
      fields.push([name, value]);
    });
    var order = form.getAttribute("data-order");
    return Promise.all([getMeta("seq"), getMeta("count:" + order)]).then(function (got) {
      var seq = (got[0] || 0) + 1;
      var before = got[1] || 0;
      // The completion says how many changes this phone made to the visit before it: the
      // server finishes the visit only when all of them have arrived.
      fields = fields.map(function (pair) { return pair[0] === "expected_writes" ? [pair[0], String(before)] : pair; });
      var entry = {
        key: uuid(), seq: seq, url: form.getAttribute("action"), order: order,
        orderNumber: inPage ? document.body.getAttribute("data-order-number") || "" : "",
        label: form.getAttribute("data-outbox") || "Ändring", fields: fields, version: version,
        changesOrder: form.hasAttribute("data-changes-order"), state: "pending", message: "",
        created: Date.now(), token: token,
      };
      return setMeta("seq", seq).then(function () { return setMeta("count:" + order, before + 1); })
        .then(function () { return save(entry); }).then(function () { return entry; });
    });
  }

  // A person took an entry the server never received off the phone: it no longer counts among
  // the changes the visit's completion waits for.
  function discard(entry) {
    return remove(entry.key).then(function () {
      if (entry.state === "conflict") return; // the server has it, kept as a conflict
      return getMeta("count:" + entry.order).then(function (count) {
        return setMeta("count:" + entry.order, Math.max((count || 1) - 1, 0));
      }).then(entries).then(function (list) {
        return Promise.all(list.filter(function (e) { return e.order === entry.order && e.seq > entry.seq; })
          .map(function (e) {
            e.fields = e.fields.map(function (pair) {
              return pair[0] === "expected_writes" && +pair[1] > 0 ? [pair[0], String(+pair[1] - 1)] : pair;
            });
            return update(e);
          }));
      });
    });
  }

  // Everything on the phone goes: the queue and today's kept pages (at sign-out, after the warning).
  function forgetAll() {
    if (inPage) { try { localStorage.removeItem("runda-day-ahead"); } catch (e) { /* nothing kept */ } }
    return run(STORE, "readwrite", function (s) { return s.clear(); })
      .then(function () { return run(META, "readwrite", function (s) { return s.clear(); }); })
      .then(function () { return scope.caches ? scope.caches.keys() : []; })
      .then(function (names) {
        return Promise.all(names.filter(function (name) { return name.indexOf("runda-day-") === 0; })
          .map(function (name) { return scope.caches.delete(name); }));
      });
  }

  scope.RundaOutbox = { entries: entries, drain: drain, capture: capture, remove: remove, getMeta: getMeta,
                        forgetAll: forgetAll };

  if (!inPage) return;

  // --- the page ---------------------------------------------------------------------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  var backoff = 5000;
  var timer = null;
  var pausedForSignIn = false;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(sync, backoff);
  }

  // Deliver what waits; `justQueued` is the entry a submit on this page just stored, whose
  // refusal is better shown as the server's own page (the form with the message next to
  // the field and what was typed) than as a line in the queue.
  function sync(justQueued) {
    if (pausedForSignIn) { render(); return Promise.resolve(null); }
    return drain(csrfToken()).then(function (result) {
      if (result.stop === "signin") pausedForSignIn = true;
      backoff = result.stop === "later" ? Math.min(backoff * 2, 5 * 60 * 1000) : 5000;
      if (result.stop === "later") askForBackgroundSync();
      if (justQueued && result.outcomes[justQueued.key] === "refused") {
        return discard(justQueued).then(function () { return { refused: true }; });
      }
      return entries().then(function (list) {
        if (list.some(function (e) { return e.state === "pending"; })) schedule();
        render(list);
        var here = document.body.getAttribute("data-order");
        if (result.sent && here && !list.some(function (e) { return e.order === here; })) {
          show(result.locations[here]); // all of this visit has arrived: show the server's view of it
        }
        return result;
      });
    });
  }

  // Where the browser has Background Sync, it delivers the outbox when the network is back,
  // even if Runda is closed by then. Asked for only when the page could not deliver itself.
  function askForBackgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) return reg.sync.register("runda-outbox");
    }).catch(function () {});
  }

  function show(target) {
    if (!target) { location.reload(); return; }
    var next = new URL(target, location.href);
    var now = new URL(location.href);
    if (next.pathname + next.search === now.pathname + now.search) {
      location.reload();
    } else {
      location.assign(next.href);
    }
  }

  function time(ms) {
    var d = new Date(ms);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function render(list) {
    var box = document.getElementById("sync-state");
    if (!box) return;
    (list ? Promise.resolve(list) : entries()).then(function (all) {
      return getMeta("lastSync").then(function (last) {
        var pending = all.filter(function (e) { return e.state === "pending"; }).length;
        var attention = all.filter(function (e) { return e.state !== "pending"; }).length;
        var parts = [navigator.onLine ? "Online" : "Offline"];
        parts.push(pending ? pending + (pending === 1 ? " ändring väntar" : " ändringar väntar") + " på telefonen"
                           : "Allt är skickat");
        if (last) parts.push("senast synkad " + time(last));
        box.querySelector(".sync-text").textContent = parts.join(" · ");
        var alert = box.querySelector(".sync-attention");
        if (pausedForSignIn) {
          alert.hidden = false;
          alert.textContent = "Din inloggning har gått ut. Det som väntar finns kvar på telefonen och skickas " +
            "när du har loggat in igen. ";
          var link = document.createElement("a");
          link.href = "/logga-in";
          link.textContent = "Logga in igen";
          alert.appendChild(link);
        } else if (attention) {
          alert.hidden = false;
          alert.textContent = attention + (attention === 1 ? " ändring" : " ändringar") +
            " kunde inte sparas som de var och behöver åtgärdas.";
        } else {
          alert.hidden = true;
        }
        box.classList.toggle("offline", !navigator.onLine);
        renderQueue(all);
      });
    });
  }

  // On a visit page: what of this visit waits on the phone, and what needs attention.
  function renderQueue(all) {
    var here = document.body.getAttribute("data-order");
    var panel = document.getElementById("outbox-queue");
    if (!panel || !here) return;
    var mine = all.filter(function (e) { return e.order === here; });
    panel.hidden = mine.length === 0;
    var listEl = panel.querySelector("ul");
    listEl.textContent = "";
    mine.forEach(function (e) {
      var li = document.createElement("li");
      var state = { pending: "Sparad på telefonen, skickas när det går", conflict: "Arbetsordern har ändrats: " +
        "sparad hos samordnaren som en konflikt", refused: "Kunde inte tas emot" }[e.state];
      li.textContent = e.label + " – " + state + (e.message ? ": " + e.message : "");
      if (e.state === "conflict") {
        var link = document.createElement("a");
        link.href = "/besok/konflikter";
        link.textContent = "Mina konflikter";
        li.appendChild(document.createTextNode(" "));
        li.appendChild(link);
      }
      if (e.state !== "pending") {
        var done = document.createElement("button");
        done.type = "button";
        done.className = "secondary";
        done.textContent = "Ta bort från telefonen";
        done.addEventListener("click", function () {
          var text = e.state === "conflict" ? "Ändringen finns sparad på servern som en konflikt. Ta bort den från telefonen?"
                                            : "Ändringen har inte sparats någonstans. Ta bort den ändå?";
          if (window.confirm(text)) discard(e).then(function () { render(); });
        });
        li.appendChild(document.createTextNode(" "));
        li.appendChild(done);
      }
      listEl.appendChild(li);
    });
  }

  function announce(form, text) {
    var note = document.createElement("p");
    note.className = "flash";
    note.setAttribute("role", "status");
    note.textContent = text;
    form.parentNode.insertBefore(note, form);
    setTimeout(function () { note.remove(); }, 8000);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-outbox") || !window.indexedDB) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    capture(form, csrfToken()).then(function (entry) {
      announce(form, "Sparad på telefonen: " + form.getAttribute("data-outbox") + ".");
      return sync(entry).then(function (result) {
        if (result && result.refused) {
          submitNatively(form); // nothing was saved: the server's page shows why, with the input kept
        } else if (form.hasAttribute("data-outbox-reset")) {
          form.reset();
        }
      });
    }, function () {
      submitNatively(form); // IndexedDB unavailable (private mode, storage full): the ordinary way
    }).finally(function () { if (button) button.disabled = false; });
  });

  // Signing out clears what the phone keeps (today's pages hold patient data, and so may the
  // queue), but never silently: while changes wait, a warning names each one first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !/^\/logga-ut/.test(form.getAttribute("action") || "") ||
        !window.indexedDB) return;
    event.preventDefault();
    entries().then(function (list) {
      if (!list.length) return forgetAll().then(function () { HTMLFormElement.prototype.submit.call(form); });
      warnBeforeSignOut(form, list);
    }, function () { HTMLFormElement.prototype.submit.call(form); });
  });

  function warnBeforeSignOut(form, list) {
    var old = document.getElementById("sign-out-warning");
    if (old) old.remove();
    var dialog = document.createElement("dialog");
    dialog.id = "sign-out-warning";
    dialog.setAttribute("aria-labelledby", "sign-out-warning-title");
    var title = document.createElement("h2");
    title.id = "sign-out-warning-title";
    title.textContent = list.length === 1 ? "En ändring har inte kommit fram" : list.length + " ändringar har inte kommit fram";
    var intro = document.createElement("p");
    intro.textContent = "Om du loggar ut nu raderas " + (list.length === 1 ? "den" : "de") +
      " från telefonen och försvinner:";
    var items = document.createElement("ul");
    list.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = e.label + (e.orderNumber ? " – " + e.orderNumber : "") + ", sparad " + time(e.created) +
        (e.state === "conflict" ? " (finns också hos samordnaren som konflikt)" : "");
      items.appendChild(li);
    });
    var buttons = document.createElement("div");
    buttons.className = "row";
    function button(label, cls, action) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = label;
      b.addEventListener("click", action);
      buttons.appendChild(b);
      return b;
    }
    var stay = button("Stanna kvar och skicka först", "", function () {
      dialog.close();
      pausedForSignIn = false;
      backoff = 5000;
      sync();
    });
    button("Logga ut och radera ändringarna", "danger", function () {
      forgetAll().then(function () { HTMLFormElement.prototype.submit.call(form); });
    });
    dialog.appendChild(title);
    dialog.appendChild(intro);
    dialog.appendChild(items);
    dialog.appendChild(buttons);
    document.body.appendChild(dialog);
    dialog.showModal();
    stay.focus();
  }

  function submitNatively(form) {
    form.removeAttribute("data-outbox");
    HTMLFormElement.prototype.submit.call(form);
  }

  document.addEventListener("click", function (event) {
    if (event.target && event.target.id === "sync-now") {
      pausedForSignIn = false;
      backoff = 5000;
      sync();
    }
  });
  window.addEventListener("online", function () { backoff = 5000; sync(); });
  window.addEventListener("offline", function () { render(); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") sync(); });
  if (document.body.hasAttribute("data-staff") && window.indexedDB) sync();
})(typeof self !== "undefined" ? self : this);
