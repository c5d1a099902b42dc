/* The school's receipt, on the school's own phone (templates/deliveries/receive.html).
 *
 * The phone has a key of its own: an ECDSA P-256 pair made by WebCrypto the first time the
 * page opens online, its private half not extractable, kept in this phone's IndexedDB (not
 * cleared at sign-out: the phone stays the school's), its public half registered with the
 * user's account (/api/v1/phone-keys). Confirming signs the receipt with it, shows it as a
 * QR for the agent's phone (which checks it with no network, field.js) and queues it with
 * the phone's other actions (store.js), so the server has it from whichever phone syncs
 * first. The receipt's format is deliveries/receipts.py's.
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-receipt]");
  if (!form) return;
  var S = window.TrackerStore, scan = window.TrackerScan;
  var t = JSON.parse(form.dataset.strings);
  var tablets = JSON.parse(form.dataset.tablets);  // in the receipt's order
  var deliveryId = Number(form.dataset.delivery);
  var USER = Number(document.body.dataset.userId) || null;
  var subtle = window.crypto && window.crypto.subtle;
  var $ = function (id) { return document.getElementById(id); };
  var KEPT = "tracker-receipt-u" + USER + "-" + deliveryId;

  // --- the phone's key ------------------------------------------------------------------
  function keys(mode) {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open("tracker-keys-u" + USER, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("keys", { keyPath: "user" }); };
      req.onsuccess = function () {
        resolve(req.result.transaction("keys", mode || "readonly").objectStore("keys"));
      };
      req.onerror = function () { reject(req.error); };
    });
  }
  function ask(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function loadKey() {
    if (!USER || !window.indexedDB) return Promise.resolve(null);
    return keys().then(function (store) { return ask(store.get(USER)); }).catch(function () { return null; });
  }
  function saveKey(record) {
    return keys("readwrite").then(function (store) { return ask(store.put(record)); }).then(function () { return record; });
  }
  function dropKey() {
    return keys("readwrite").then(function (store) { return ask(store.delete(USER)); });
  }

  function b64(buffer) {
    return btoa(String.fromCharCode.apply(null, new Uint8Array(buffer)));
  }
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function base32(bytes) {
    var out = "", bits = 0, value = 0;
    for (var i = 0; i < bytes.length; i++) {
      value = (value << 8) | bytes[i];
      bits += 8;
      while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5; }
    }
    if (bits > 0) out += B32[(value << (5 - bits)) & 31];
    return out;
  }

  var keyProblem = "";  // the server's reason a key was not registered (too many phones…)
  function api(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    return fetch("/api/v1" + path, options).then(function (response) {
      if (response.ok) return response.json();
      return response.json().catch(function () { return {}; }).then(function (body) {
        throw new Error(body.error || "");
      });
    });
  }

  function label() {
    var ua = navigator.userAgent;
    var kind = /iPhone|iPad/.test(ua) ? "iPhone" : /Android/.test(ua) ? "Android" : "Browser";
    return kind + " · " + new Date().toISOString().slice(0, 10);
  }

  /* This phone's key, registered: made and registered when online if there is none (or the
   * office revoked it); null when the browser cannot sign or it is not registered yet. */
  function readyKey() {
    if (!subtle || !USER) return Promise.resolve(null);
    return loadKey().then(function (kept) {
      if (!navigator.onLine) return kept && kept.id ? kept : null;
      return api("/phone-keys").then(function (answer) {
        var mine = kept && answer.phone_keys.find(function (k) { return k.id === kept.id; });
        if (kept && kept.id && mine && !mine.revoked_at) return kept;
        if (kept && kept.id) return dropKey().then(function () { return register(null); });
        return register(kept);
      }, function () { return kept && kept.id ? kept : null; });
    });
  }

  function register(kept) {
    var made = kept ? Promise.resolve(kept) : subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]
    ).then(function (pair) {
      return subtle.exportKey("spki", pair.publicKey).then(function (spki) {
        return saveKey({ user: USER, id: null, privateKey: pair.privateKey, publicKey: b64(spki) });
      });
    });
    return made.then(function (record) {
      return api("/me").then(function (me) {
        return api("/phone-keys", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": me.csrf_token || "" },
          body: JSON.stringify({ public_key: record.publicKey, label: label() })
        });
      }).then(function (answer) {
        record.id = answer.phone_key.id;
        return saveKey(record);
      }, function (error) {
        keyProblem = (error && error.message) || "";
        return null;
      });
    });
  }

  // --- ticking what arrived -------------------------------------------------------------
  function say(ok, message) {
    var box = $("rc-answer");
    box.textContent = (ok ? "✓ " : "✗ ") + message;
    box.className = "scan-result " + (ok ? "scan-ok" : "scan-refused");
    if (scan) { scan.remember(ok, message); scan.tone(ok); }
  }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }
  function select(id) { return form.querySelector('select[name="said-' + id + '"]'); }

  function scanned(code) {
    code = code.trim();
    if (!code) return Promise.resolve();
    var item = scan ? scan.find(tablets, code) : null;
    if (item) {
      var choice = select(item.id);
      if (choice.value !== "missing") say(true, fmt(t.again, { tag: item.asset_tag }));
      else { choice.value = "received"; say(true, fmt(t.on_delivery, { tag: item.asset_tag })); }
    } else {
      // Not added to the receipt by itself (a stray QR, the delivery's code): she writes
      // it below if it is a tablet she received.
      say(false, fmt(t.not_here, { code: code.slice(0, 60) }));
    }
    return Promise.resolve();
  }

  // --- confirming -----------------------------------------------------------------------
  function places(list) {
    return list.map(function (n) { return n.toString(36).toUpperCase(); }).join("-");
  }

  function sign(key, missing, damaged) {
    if (!key || !key.id) return Promise.resolve("");
    var body = ["TR1", deliveryId, Math.floor(Date.now() / 1000), key.id, tablets.length,
      places(missing), places(damaged)].join(".");
    return subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, new TextEncoder().encode(body))
      .then(function (signature) { return body + "." + base32(new Uint8Array(signature)); });
  }

  function showSigned(text, state, said) {
    $("rc-signed").hidden = false;
    $("rc-signed-state").textContent = state || "";
    $("rc-said").textContent = said || "";
    if (!text) return;
    $("rc-show-agent").textContent = t.show_agent;
    $("rc-text").textContent = text;
    var box = $("rc-qr");
    box.textContent = "";
    if (window.qrcode) {
      var code = window.qrcode(0, "M");
      code.addData(text, "Alphanumeric");
      code.make();
      box.innerHTML = code.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
      box.dataset.version = code.getModuleCount() ? String((code.getModuleCount() - 17) / 4) : "";
    }
  }

  function confirmReceipt(event) {
    if (!S) return;  // the page's own form goes to the server
    event.preventDefault();
    var received = [], damaged = [], missingPlaces = [], damagedPlaces = [];
    tablets.forEach(function (item, place) {
      var value = select(item.id).value;
      if (value === "received") received.push(item.id);
      else if (value === "damaged") { damaged.push(item.id); damagedPlaces.push(place); }
      else missingPlaces.push(place);
    });
    if (!received.length && !damaged.length && !window.confirm(t.all_missing)) return;
    if ((received.length || damaged.length) && missingPlaces.length) {
      var tags = missingPlaces.map(function (place) { return tablets[place].asset_tag; });
      if (!window.confirm(fmt(t.some_missing, { tags: tags.join(", ") }))) return;
    }
    var extras = $("rc-extras").value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
    form.querySelector('button[type="submit"]').disabled = true;
    readyKey().then(function (key) {
      return sign(key, missingPlaces, damagedPlaces);
    }).then(function (signed) {
      var action = {
        type: "receipt", delivery_id: deliveryId, received: received, damaged: damaged,
        extras: extras, notes: form.elements.notes.value.trim()
      };
      if (signed) action.signed = signed;
      var said = fmt(t.summary, {
        received: received.length, missing: missingPlaces.length, damaged: damaged.length,
        extras: extras.length
      });
      localStorage.setItem(KEPT, JSON.stringify({ text: signed, at: Date.now(), said: said }));
      showSigned(signed, t.queued, said);
      form.hidden = true;
      $("receive-scan").hidden = true;
      return S.enqueue(action).then(function () {
        if (!navigator.onLine) return;
        return S.sync().then(function () {
          return S.all("results");
        }).then(function (results) {
          var answer = results.find(function (r) { return r.id === action.id; });
          $("rc-signed-state").textContent = answer ? answer.message : t.sent;
        }, function () { /* kept in the queue; sent when the network returns */ });
      });
    });
  }

  // --- the page ---------------------------------------------------------------------------
  var shown = JSON.parse(localStorage.getItem(KEPT) || "null");
  if (shown && S) {
    // Confirmed on this phone and still waiting to be sent (the page is the phone's copy):
    // the receipt, not the form again. Once sent, the server's page says it is confirmed.
    S.all("queue").then(function (entries) {
      var waiting = entries.some(function (e) {
        return e.action.type === "receipt" && e.action.delivery_id === deliveryId;
      });
      if (!waiting) { localStorage.removeItem(KEPT); return; }
      form.hidden = true;
      $("receive-scan").hidden = true;
      showSigned(shown.text, t.queued, shown.said);
    });
  }
  // Once the queue has sent it (from this page or any other), say so.
  window.addEventListener("tracker:changed", function () {
    if ($("rc-signed").hidden || !S) return;
    S.all("queue").then(function (entries) {
      var waiting = entries.some(function (e) {
        return e.action.type === "receipt" && e.action.delivery_id === deliveryId;
      });
      if (waiting) return;
      localStorage.removeItem(KEPT);
      return S.all("results").then(function (results) {
        var answer = results.filter(function (r) {
          return r.type === "receipt" && r.deliveryId === deliveryId;
        }).pop();
        $("rc-signed-state").textContent = answer ? answer.message : t.sent;
      });
    });
  });
  $("rc-scan-form").hidden = false;
  $("rc-scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("rc-code");
    var code = input.value;
    input.value = "";
    scanned(code).then(function () { input.focus(); });
  });
  form.addEventListener("submit", confirmReceipt);
  if (scan && scan.Camera.available()) {
    var camera = new scan.Camera($("rc-video"), scanned);
    $("rc-camera-start").hidden = false;
    $("rc-camera-start").addEventListener("click", function () {
      camera.start().then(function () {
        $("rc-camera").hidden = false;
        $("rc-camera-start").hidden = true;
      }).catch(function () { $("rc-camera-start").hidden = true; });
    });
    $("rc-camera-stop").addEventListener("click", function () {
      camera.stop();
      $("rc-camera").hidden = true;
      $("rc-camera-start").hidden = false;
    });
  }
  readyKey().then(function (key) {
    $("rc-key-state").textContent = !subtle ? t.no_crypto : key ? t.signing
      : keyProblem || t.no_key_offline;
  });
})();
