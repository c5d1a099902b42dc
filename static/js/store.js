/* The phone's own store (IndexedDB): deliveries taken offline, the queue of actions done
 * offline, and the server's answers that still need reading. One store per user: a shared
 * phone never shows one agent's manifests to another, and never sends one agent's actions
 * under another's session (each action also names its owner, and the server checks it).
 *
 * `sync()` sends the queue to /api/v1/sync; each action carries an id made here, so a resend
 * never counts twice. An action leaves the queue once the server has answered it, applied or
 * refused (a refusal stays on screen with its reason); only a network failure or a server
 * error keeps it queued, and then the store tries again by itself, waiting longer each time.
 * Signing out asks first when actions wait, and clears the user's manifests from the phone. */
(function () {
  "use strict";

  var USER = Number(document.body && document.body.dataset.userId) || null;
  var DB_NAME = "tracker-field-u" + USER;
  var LEGACY_DB = "tracker-field";  // before stores were per user
  var API = "/api/v1";
  var CHUNK = 20;
  var FIRST_WAIT = 2000, LONGEST_WAIT = 300000;  // ms between automatic retries
  var opening = null;
  var syncing = null;
  var again = false;
  var retry = { timer: null, wait: 0, at: null };

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function open() {
    if (!USER) return Promise.reject(new Error("signed out"));
    opening = opening || new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        db.createObjectStore("deliveries", { keyPath: "id" });
        db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
        db.createObjectStore("results", { keyPath: "id" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    }).then(adoptLegacy);
    return opening;
  }

  /* The store of an older version had no owner: its queued actions are the work of whoever
   * used this phone, sent now under this user (the server refuses what is not theirs, and
   * says so); its manifests are dropped. */
  function adoptLegacy(db) {
    if (!indexedDB.databases) return db;
    return indexedDB.databases().then(function (dbs) {
      if (!dbs.some(function (d) { return d.name === LEGACY_DB; })) return db;
      return new Promise(function (resolve) {
        var req = indexedDB.open(LEGACY_DB);
        req.onsuccess = function () {
          var old = req.result;
          if (!old.objectStoreNames.contains("queue")) { old.close(); return resolve([]); }
          var get = old.transaction("queue").objectStore("queue").getAll();
          get.onsuccess = function () { old.close(); resolve(get.result); };
          get.onerror = function () { old.close(); resolve([]); };
        };
        req.onerror = function () { resolve([]); };
      }).then(function (entries) {
        var queue = db.transaction("queue", "readwrite").objectStore("queue");
        entries.forEach(function (e) {
          e.action.user_id = USER;
          queue.put({ action: e.action });
        });
        indexedDB.deleteDatabase(LEGACY_DB);
        return db;
      });
    }, function () { return db; });
  }

  function store(name, mode) {
    return open().then(function (db) {
      return db.transaction(name, mode || "readonly").objectStore(name);
    });
  }

  function all(name) {
    return store(name).then(function (s) { return request(s.getAll()); });
  }

  function put(name, value) {
    return store(name, "readwrite").then(function (s) { return request(s.put(value)); });
  }

  function remove(name, key) {
    return store(name, "readwrite").then(function (s) { return request(s.delete(key)); });
  }

  function changed() {
    window.dispatchEvent(new CustomEvent("tracker:changed"));
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function getJson(path) {
    return fetch(API + path, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          var error = new Error("HTTP " + response.status);
          error.status = response.status;
          throw error;
        }
        return response.json();
      });
  }

  function takeOffline(deliveryId) {
    return getJson("/deliveries/" + deliveryId).then(function (data) {
      return Promise.all([data, all("queue"), all("deliveries")]);
    }).then(function (got) {
      var data = got[0];
      var scanned = data.items.filter(function (item) {
        return item.item_status === "scanned" || item.item_status === "delivered";
      }).map(function (item) { return item.id; });
      // What this phone did and has not sent yet (a scan made while the last answer was on
      // its way) stays as it was done: the server's copy is from before it.
      var waiting = got[1].some(function (e) { return e.action.delivery_id === deliveryId; });
      var before = got[2].find(function (r) { return r.id === deliveryId; });
      var unexpected = [], handedOver = ["delivered", "partially_delivered"].indexOf(data.delivery.status) >= 0;
      if (waiting && before) {
        (before.scanned || []).forEach(function (id) { if (scanned.indexOf(id) < 0) scanned.push(id); });
        unexpected = before.unexpected || [];
        handedOver = handedOver || !!before.handedOver;
      }
      return put("deliveries", {
        id: data.delivery.id,
        delivery: data.delivery,
        items: data.items,
        mayAct: data.may_act,
        // The school's code, as a salted hash only, to check it with no network.
        codeCheck: data.school_code_check || null,
        codeTries: 0,
        // The public halves of the school's phone keys: a receipt it signed is checked here.
        schoolKeys: data.school_keys || [],
        scanned: scanned,
        unexpected: unexpected,
        handedOver: handedOver,
        savedAt: new Date().toISOString()
      });
    }).then(changed);
  }

  function takeAllOffline() {
    return getJson("/deliveries").then(function (data) {
      var open = data.deliveries.filter(function (d) {
        return ["planned", "packed", "dispatched"].indexOf(d.status) >= 0;
      });
      return Promise.all(open.map(function (d) { return takeOffline(d.id); }))
        .then(function () { return open.length; });
    });
  }

  function enqueue(action) {
    action.id = action.id || newId();
    action.at = action.at || new Date().toISOString();
    action.user_id = USER;
    return put("queue", { action: action }).then(function () { changed(); return action; });
  }

  function keepAnswer(entry, result) {
    return remove("queue", entry.seq).then(function () {
      var kept = result.status === "rejected" || result.warning === true ||
        (result.status === "duplicate" && result.original === "rejected");
      return put("results", {
        id: entry.action.id,
        type: entry.action.type,
        deliveryId: entry.action.delivery_id,
        status: result.status === "duplicate" ? result.original || "applied" : result.status,
        message: result.message,
        warning: result.warning === true,
        read: !kept,
        at: new Date().toISOString(),
        // A refused hand-over keeps what was typed, signed and photographed, for the retry.
        draft: entry.action.type === "handover" && result.status === "rejected" ? {
          recipient_name: entry.action.recipient_name,
          recipient_role: entry.action.recipient_role,
          signature: entry.action.signature,
          photo: entry.action.photo,
          notes: entry.action.notes,
          no_code_reason: entry.action.no_code_reason
        } : undefined
      });
    });
  }

  function failure(status, message) {
    var error = new Error(message || "HTTP " + status);
    error.status = status;
    // Nothing answered (no network, a lost reply) or the server failed: try again later.
    error.retry = !status || status >= 500;
    return error;
  }

  /* Send some entries; resolves with how many were answered. A refusal of the whole request
   * (4xx) answers its actions as refused, so the queue never jams on one bad action. */
  function sendChunk(entries, csrf) {
    return fetch(API + "/sync", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ actions: entries.map(function (e) { return e.action; }) })
    }).catch(function () { throw failure(0); }).then(function (response) {
      if (response.ok) return response.json();
      if (response.status === 413 && entries.length > 1) {
        // Too large together: one at a time.
        return entries.reduce(function (done, entry) {
          return done.then(function (n) {
            return sendChunk([entry], csrf).then(function (m) { return n + m; });
          });
        }, Promise.resolve(0)).then(function (n) { return { split: n }; });
      }
      if (response.status === 401 || response.status === 403 || response.status >= 500 ||
          (response.status === 400 && response.headers.get("Content-Type") !== "application/json")) {
        throw failure(response.status);
      }
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (body.code === "csrf") throw failure(0);  // the session's token: ask again later
        var reason = body.error || ("HTTP " + response.status);
        return { results: entries.map(function (e) {
          return { id: e.action.id, status: "rejected", message: reason };
        }) };
      });
    }).then(function (answer) {
      if (answer.split !== undefined) return answer.split;
      var byId = {};
      (answer.results || []).forEach(function (r) { byId[r.id] = r; });
      var answered = entries.filter(function (e) { return byId[e.action.id]; });
      return answered.reduce(function (done, entry) {
        return done.then(function () { return keepAnswer(entry, byId[entry.action.id]); });
      }, Promise.resolve()).then(function () { return answered.length; });
    });
  }

  function scheduleRetry() {
    clearTimeout(retry.timer);
    retry.wait = Math.min(retry.wait ? retry.wait * 2 : FIRST_WAIT, LONGEST_WAIT);
    retry.at = Date.now() + retry.wait;
    retry.timer = setTimeout(function () { sync().catch(function () { /* scheduled again */ }); }, retry.wait);
  }

  /* Send everything queued, in order, until the queue is empty or nothing more is answered.
   * Resolves with {sent}; rejects with {status, retry, retryIn} when the network or the
   * server failed (the actions stay queued and a retry is scheduled) or the session is gone. */
  function sync() {
    // Asked while a sync is on its way (a scan just made): once it ends, another sends
    // what was queued since.
    if (syncing) { again = true; return syncing; }
    if (!USER) return Promise.reject(failure(401));
    var sent = 0, touched = {};
    function round(csrf) {
      return all("queue").then(function (entries) {
        if (!entries.length) return;
        entries.forEach(function (e) { if (e.action.delivery_id) touched[e.action.delivery_id] = true; });
        return sendChunk(entries.slice(0, CHUNK), csrf).then(function (answered) {
          sent += answered;
          if (answered) return round(csrf);  // more, or what the server left for later
        });
      });
    }
    syncing = all("queue").then(function (entries) {
      if (!entries.length) return { sent: 0 };
      return getJson("/me").catch(function (error) {
        throw failure(error.status || 0);
      }).then(function (me) {
        if (me.id !== USER) throw failure(401, "another user is signed in");
        return round(me.csrf_token || "");
      }).then(function () {
        return Promise.all(Object.keys(touched).map(function (id) {
          return takeOffline(Number(id)).catch(function () { /* kept as it was */ });
        }));
      }).then(function () { return { sent: sent }; });
    }).then(function (summary) {
      syncing = null;
      clearTimeout(retry.timer);
      retry.wait = 0;
      retry.at = null;
      changed();
      if (again) {
        again = false;
        setTimeout(function () { sync().catch(function () { /* kept for later */ }); }, 0);
      }
      return summary;
    }, function (error) {
      syncing = null;
      if (error.retry) {
        scheduleRetry();
        error.retryIn = Math.round(retry.wait / 1000);
      }
      changed();
      throw error;
    });
    return syncing;
  }

  /* Signing out: what this user keeps on the phone. `keepQueue` keeps the unsent actions
   * (and their answers) for this user alone; the manifests always go. */
  function forget(keepQueue) {
    clearTimeout(retry.timer);
    var done;
    if (keepQueue) {
      done = store("deliveries", "readwrite").then(function (s) { return request(s.clear()); });
    } else {
      done = open().then(function (db) {
        db.close();
        opening = null;
        return new Promise(function (resolve) {
          var req = indexedDB.deleteDatabase(DB_NAME);
          req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
        });
      });
    }
    // The pages kept by the service worker name this user (the field app, a school's page
    // in a count): they go too.
    var counted = /^\/(counts\/\d+\/schools\/\d+|my-school|my-school\/deliveries\/\d+)$/;
    var pages = window.caches ? caches.keys().then(function (keys) {
      return Promise.all(keys.map(function (key) {
        return caches.open(key).then(function (cache) {
          return cache.keys().then(function (requests) {
            return Promise.all(requests.filter(function (r) {
              var path = new URL(r.url).pathname;
              return path === "/field/" || counted.test(path);
            }).map(function (r) { return cache.delete(r); }));
          });
        });
      }));
    }) : Promise.resolve();
    return Promise.all([done, pages]).catch(function () { /* signed out all the same */ });
  }

  /* The field app's page comes from the phone's copy (the service worker's). Online, ask who
   * is signed in: if that is this page's user in this page's language, the page's forms take
   * the session's fresh CSRF token and the app goes on (true); if it is someone else, another
   * language or nobody, the copy is renewed from the server and the page loaded again (false),
   * so one agent never works in another's page. Offline there is no one to ask: the copy is
   * the last user's own, kept for them. */
  function checkPage() {
    if (!navigator.onLine) return Promise.resolve(true);
    return getJson("/me").then(function (me) {
      if (me.id === USER && me.locale === document.documentElement.lang) {
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
          if (me.csrf_token) input.value = me.csrf_token;
        });
        return true;
      }
      return renewPage(me.id === USER, me.id + ":" + me.locale);
    }, function (error) {
      // Signed out on the server (401): the server's page says so (it asks to sign in).
      return error.status === 401 ? renewPage(false, "nobody") : true;
    });
  }

  function renewPage(sameUser, wanted) {
    var path = location.pathname;
    // Renewed for the same reader a moment ago and still not fitting (a cache that refuses
    // to be written): no loading again and again; the page goes on only if it is theirs.
    var last = JSON.parse(sessionStorage.getItem("tracker-renewed") || "{}");
    if (last.wanted === wanted && Date.now() - last.at < 10000) return Promise.resolve(sameUser);
    sessionStorage.setItem("tracker-renewed", JSON.stringify({ wanted: wanted, at: Date.now() }));
    var kept = window.caches ? caches.keys().then(function (keys) {
      return fetch(path, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
        return Promise.all(keys.filter(function (key) { return key.indexOf("tracker-") === 0; })
          .map(function (key) {
            return caches.open(key).then(function (cache) {
              return response.ok && !response.redirected ? cache.put(path, response.clone())
                : cache.delete(path);
            });
          }));
      });
    }) : Promise.resolve();
    return kept.catch(function () { /* the server's page all the same */ }).then(function () {
      location.reload();
      return false;
    });
  }

  function waiting() {
    return USER ? all("queue").then(function (q) { return q.length; }, function () { return 0; })
      : Promise.resolve(0);
  }

  /* The sign-out button: asks first when actions wait to be sent. */
  function guardSignOut() {
    var dialog = document.getElementById("signout-dialog");
    document.querySelectorAll("form[data-sign-out]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.cleared) return;
        event.preventDefault();
        function leave(keep) {
          forget(keep).then(function () { form.dataset.cleared = "1"; form.submit(); });
        }
        waiting().then(function (count) {
          if (!count || !dialog || !dialog.showModal) return leave(false);
          dialog.querySelector("[data-waiting]").textContent = count;
          dialog.querySelector("[data-sign-out-error]").textContent = "";
          dialog.showModal();
          dialog.onclose = null;
          dialog.querySelector("[data-send]").onclick = function () {
            sync().then(waiting).then(function (left) {
              if (left) throw failure(0);
              dialog.close();
              leave(false);
            }).catch(function () {
              dialog.querySelector("[data-sign-out-error]").textContent = dialog.dataset.notSent;
            });
          };
          dialog.querySelector("[data-keep]").onclick = function () { dialog.close(); leave(true); };
          dialog.querySelector("[data-stay]").onclick = function () { dialog.close(); };
        });
      });
    });
  }

  window.TrackerStore = {
    user: USER,
    retry: retry,
    forget: forget,
    checkPage: checkPage,
    waiting: waiting,
    open: open,
    all: all,
    put: put,
    remove: remove,
    takeOffline: takeOffline,
    takeAllOffline: takeAllOffline,
    enqueue: enqueue,
    sync: sync,
    newId: newId
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", guardSignOut);
  else guardSignOut();

  /* What waits in the queue goes whenever a page of this user is open with the network: not
   * only from the page it was made on (a school's receipt confirmed offline, then My school
   * opened once the network is back). */
  function sendWaiting() {
    if (!USER || !navigator.onLine) return;
    waiting().then(function (n) { if (n) sync().catch(function () { /* tried again later */ }); });
  }
  window.addEventListener("online", sendWaiting);
  if (USER) setTimeout(sendWaiting, 1500);

  /* The field app's page kept on the phone names its user and its language. Each signed-in
   * page of someone who may open the field app looks at the kept copy once the service worker
   * is active, and fetches it again in the background when it names someone else or another
   * language (a language switched, another agent signed in), so it opens right, even offline. */
  function keepFieldPage() {
    if (!USER || !navigator.onLine || !window.caches) return Promise.resolve();
    var path = "/field/";
    if (location.pathname !== path && !document.querySelector('a[href="' + path + '"]')) {
      return Promise.resolve();
    }
    var fits = function (html) {
      return html.indexOf('<html lang="' + document.documentElement.lang + '"') >= 0 &&
        html.indexOf('data-user-id="' + USER + '"') >= 0;
    };
    return navigator.serviceWorker.ready.then(function () {
      return caches.match(path);
    }).then(function (kept) {
      return kept ? kept.text() : "";
    }).then(function (html) {
      if (fits(html)) return;
      return fetch(path, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
        if (!response.ok || response.redirected) return;
        return caches.keys().then(function (keys) {
          return Promise.all(keys.filter(function (key) { return key.indexOf("tracker-") === 0; })
            .map(function (key) {
              return caches.open(key).then(function (cache) { return cache.put(path, response.clone()); });
            }));
        });
      });
    }).catch(function () { /* kept as it was */ });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(keepFieldPage, function () {
      /* no offline */
    });
  }
})();
