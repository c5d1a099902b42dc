/* The phone's own store (IndexedDB): deliveries taken offline, the queue of actions done
 * offline, and the server's answers that still need reading. `sync()` sends the queue to
 * /api/v1/sync; each action carries an id made here, so a resend never counts twice. An
 * action leaves the queue only once the server has answered it. */
(function () {
  "use strict";

  var DB_NAME = "tracker-field";
  var API = "/api/v1";
  var CHUNK = 20;
  var opening = null;
  var syncing = null;

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function open() {
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
    });
    return opening;
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
      var scanned = data.items.filter(function (item) {
        return item.item_status === "scanned" || item.item_status === "delivered";
      }).map(function (item) { return item.id; });
      return put("deliveries", {
        id: data.delivery.id,
        delivery: data.delivery,
        items: data.items,
        mayAct: data.may_act,
        scanned: scanned,
        unexpected: [],
        handedOver: ["delivered", "partially_delivered"].indexOf(data.delivery.status) >= 0,
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
    return put("queue", { action: action }).then(function () { changed(); return action; });
  }

  function sendChunk(entries, csrf) {
    return fetch(API + "/sync", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ actions: entries.map(function (e) { return e.action; }) })
    }).then(function (response) {
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    }).then(function (answer) {
      var byId = {};
      answer.results.forEach(function (r) { byId[r.id] = r; });
      return entries.reduce(function (done, entry) {
        var result = byId[entry.action.id];
        if (!result) return done;  // not answered: stays queued
        return done.then(function () { return remove("queue", entry.seq); }).then(function () {
          var kept = result.status === "rejected" ||
            (result.status === "duplicate" && result.original === "rejected");
          return put("results", {
            id: entry.action.id,
            type: entry.action.type,
            deliveryId: entry.action.delivery_id,
            status: result.status === "duplicate" ? result.original || "applied" : result.status,
            message: result.message,
            read: !kept,
            at: new Date().toISOString()
          });
        });
      }, Promise.resolve());
    });
  }

  /* Send everything queued, in order. Resolves with {sent, rejected}; rejects when the
   * network or the session is missing (the queue is then untouched). */
  function sync() {
    if (syncing) return syncing;
    syncing = all("queue").then(function (entries) {
      if (!entries.length) return { sent: 0 };
      return getJson("/me").then(function (me) {
        var chain = Promise.resolve();
        for (var i = 0; i < entries.length; i += CHUNK) {
          (function (chunk) {
            chain = chain.then(function () { return sendChunk(chunk, me.csrf_token || ""); });
          })(entries.slice(i, i + CHUNK));
        }
        return chain.then(function () {
          var touched = {};
          entries.forEach(function (e) { touched[e.action.delivery_id] = true; });
          return Promise.all(Object.keys(touched).map(function (id) {
            return takeOffline(Number(id)).catch(function () { /* kept as it was */ });
          }));
        }).then(function () { return { sent: entries.length }; });
      });
    }).then(function (summary) {
      syncing = null;
      changed();
      return summary;
    }, function (error) {
      syncing = null;
      changed();
      throw error;
    });
    return syncing;
  }

  window.TrackerStore = {
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

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* no offline */ });
  }
})();
