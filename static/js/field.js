/* The offline field app (/field/): deliveries kept on the phone, scanned and handed over
 * with no network. Each scan is checked against the delivery's stored manifest with the
 * same answers as online; scans and hand-overs are queued (store.js) and sent when the
 * network returns, or on demand. A refusal from the server stays on screen until read. */
(function () {
  "use strict";

  var S = window.TrackerStore, scan = window.TrackerScan;
  var root = document.getElementById("field-app");
  if (!root || !S) return;
  var t = JSON.parse(root.dataset.strings);
  var $ = function (id) { return document.getElementById(id); };
  var current = null;  // the delivery record on screen
  var pad = null, camera = null, place = {};

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
  }

  /* A count in the reader's plural form (Arabic has six): `forms` holds each CLDR category's
   * words, made on the server; Intl.PluralRules says which one `n` takes. */
  var plurals = new Intl.PluralRules(document.documentElement.lang || "fr");
  function counted(forms, n) {
    var words = forms[plurals.select(n)] || forms.other || forms.one;
    return fmt(words, { n: n.toLocaleString(document.documentElement.lang || "fr") });
  }

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (className) node.className = className;
    return node;
  }

  // --- The header: network, what waits, what the server refused ----------------------
  function refreshQueue() {
    return S.all("queue").then(function (entries) {
      $("queue-count").textContent = entries.length;
      $("queue-badge").className = "badge " + (entries.length ? "queue-waiting" : "queue-empty");
    });
  }

  function refreshResults() {
    return S.all("results").then(function (results) {
      var box = $("sync-results");
      box.textContent = "";
      results.filter(function (r) { return !r.read; }).forEach(function (r) {
        var item = text("p", (r.warning ? "⚠ " : "✗ ") + r.message, "scan-result scan-refused");
        var ok = text("button", t.got_it, "secondary outline");
        ok.type = "button";
        ok.addEventListener("click", function () {
          r.read = true;
          S.put("results", r).then(refreshResults);
        });
        item.appendChild(document.createTextNode(" "));
        item.appendChild(ok);
        box.appendChild(item);
      });
    });
  }

  function network() {
    $("net-state").textContent = navigator.onLine ? t.online : t.offline;
    $("net-state").className = navigator.onLine ? "net-online" : "net-offline";
  }

  function sync() {
    $("sync-state").textContent = t.sending;
    return S.sync().then(function (summary) {
      $("sync-state").textContent = summary.sent ? counted(t.sent, summary.sent) : "";
      return show();
    }, function (error) {
      $("sync-state").textContent = failureText(error);
    });
  }

  /* Why the queue was not sent: signed out, no network, or a server that did not answer
   * (then the store tries again by itself, later each time). */
  function failureText(error) {
    if (error && (error.status === 401 || error.status === 403)) return t.sign_in;
    if (!navigator.onLine) return t.not_sent;
    return fmt(t.retrying, { n: (error && error.retryIn) || 0 });
  }

  // --- The list of deliveries kept on the phone ----------------------------------------
  function renderList(records) {
    var list = $("delivery-list-items");
    list.textContent = "";
    if (!records.length) list.appendChild(text("p", t.none_offline, "muted"));
    records.forEach(function (r) {
      var card = document.createElement("article");
      card.className = "delivery-card";
      var arabicFirst = document.documentElement.lang === "ar" && r.delivery.school.name_ar;
      var link = text("a", arabicFirst ? r.delivery.school.name_ar : r.delivery.school.name_fr);
      link.href = "#" + r.id;
      var head = document.createElement("header");
      head.appendChild(link);
      head.appendChild(text("span", r.handedOver ? t.handed_over_short : t.states[r.delivery.status] || r.delivery.status, "badge"));
      card.appendChild(head);
      card.appendChild(text("p", r.delivery.reference + " · " + fmt(t.counts, {
        scanned: r.scanned.length, expected: r.items.length })));
      list.appendChild(card);
    });
  }

  // --- One delivery: the scan loop and the hand-over -------------------------------------
  function findItem(record, code) {
    return scan.find(record.items, code);
  }

  function answer(ok, message) {
    var box = $("scan-result");
    box.textContent = (ok ? "✓ " : "✗ ") + message;
    box.className = "scan-result " + (ok ? "scan-ok" : "scan-refused");
    scan.remember(ok, message);
    scan.tone(ok);
  }

  // --- The school's receipt, signed on its phone (receipt.js), checked here offline -------
  var RECEIPT = /^TR1\.(\d{1,10})\.(\d{1,11})\.(\d{1,10})\.(\d{1,5})\.([0-9A-Z-]*)\.([0-9A-Z-]*)\.([A-Z2-7]{103})$/;
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function fromBase32(text) {
    var bytes = [], bits = 0, value = 0;
    for (var i = 0; i < text.length; i++) {
      value = (value << 5) | B32.indexOf(text[i]);
      bits += 5;
      if (bits >= 8) { bytes.push((value >>> (bits - 8)) & 255); bits -= 8; }
    }
    return new Uint8Array(bytes);
  }
  function fromBase64(text) {
    var raw = atob(text), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function places(text) {
    return text ? text.split("-").map(function (p) { return parseInt(p, 36); }) : [];
  }

  /* What the school signed, if it is this delivery's receipt signed by one of the school's
   * phones: {ok, message}. The server checks it again when the hand-over arrives. */
  function checkReceipt(record, text) {
    var found = RECEIPT.exec(text);
    if (!found) return Promise.resolve({ ok: false, message: t.receipt_unreadable });
    if (Number(found[1]) !== record.id) return Promise.resolve({ ok: false, message: t.receipt_other });
    var key = (record.schoolKeys || []).find(function (k) { return k.id === Number(found[3]); });
    if (!key) return Promise.resolve({ ok: false, message: t.receipt_unknown_key });
    var n = Number(found[4]);
    if (n !== record.items.length) return Promise.resolve({ ok: false, message: t.receipt_tablets });
    var missing = places(found[5]), damaged = places(found[6]);
    var summary = fmt(t.receipt_ok, {
      who: "\u2068" + key.name + "\u2069",
      when: "\u2068" + new Date(Number(found[2]) * 1000).toLocaleString(document.documentElement.lang || "fr") + "\u2069",
      received: n - missing.length - damaged.length, missing: missing.length, damaged: damaged.length
    });
    var byId = record.items.slice().sort(function (a, b) { return a.id - b.id; });
    var named = missing.map(function (p) { return byId[p] ? byId[p].asset_tag : "?"; });
    if (named.length) summary += " " + fmt(t.receipt_missing, { tags: named.join(", ") });
    if (!(window.crypto && window.crypto.subtle)) {
      return Promise.resolve({ ok: true, message: summary + " " + t.receipt_unchecked });
    }
    var subtle = window.crypto.subtle;
    return subtle.importKey("spki", fromBase64(key.public_key), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])
      .then(function (publicKey) {
        var body = text.slice(0, text.lastIndexOf("."));
        return subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, fromBase32(found[7]), new TextEncoder().encode(body));
      }).then(function (valid) {
        return valid ? { ok: true, message: summary } : { ok: false, message: t.receipt_forged };
      }, function () { return { ok: false, message: t.receipt_forged }; });
  }

  function takeReceipt(record, code) {
    var text = code.replace(/\s+/g, "").toUpperCase();
    return checkReceipt(record, text).then(function (result) {
      answer(result.ok, result.message);
      $("dv-receipt").textContent = (result.ok ? "✓ " : "✗ ") + result.message;
      $("dv-receipt").className = "scan-result " + (result.ok ? "scan-ok" : "scan-refused");
      if (!result.ok) return;
      record.schoolReceipt = text;
      record.schoolReceiptSaid = result.message;
      return S.put("deliveries", record);
    });
  }

  function scanCode(code) {
    var record = current;
    if (!record || !code.trim()) return Promise.resolve();
    if (/^TR1\./i.test(code.trim()) && !record.handedOver) return takeReceipt(record, code);
    if (record.handedOver) { answer(false, t.already_handed_over); return Promise.resolve(); }
    if (record.delivery.status !== "dispatched") {
      answer(false, fmt(t.not_on_road, { ref: record.delivery.reference, state: t.states[record.delivery.status] }));
      return Promise.resolve();
    }
    var item = findItem(record, code);
    if (item && record.scanned.indexOf(item.id) >= 0) {
      answer(true, fmt(t.again, { tag: item.asset_tag }));
      return Promise.resolve();
    }
    if (item) {
      record.scanned.push(item.id);
      answer(true, fmt(t.on_delivery, { tag: item.asset_tag }));
    } else {
      var shown = code.trim().slice(0, 60);
      if (record.unexpected.indexOf(shown) < 0) record.unexpected.push(shown);
      answer(false, fmt(t.not_here_offline, { code: shown }));
    }
    return S.put("deliveries", record)
      .then(function () { return S.enqueue({ type: "scan", delivery_id: record.id, code: code.trim() }); })
      .then(function () { renderDelivery(record); if (navigator.onLine) sync(); });
  }

  function renderDelivery(record) {
    var school = record.delivery.school;
    var arabicFirst = document.documentElement.lang === "ar" && school.name_ar;
    $("dv-school").textContent = arabicFirst ? school.name_ar : school.name_fr;
    $("dv-ar").textContent = arabicFirst ? school.name_fr : school.name_ar || "";
    $("dv-ref").textContent = record.delivery.reference + " · " + record.delivery.school.code +
      " · " + (record.handedOver ? t.handed_over_short : t.states[record.delivery.status] || "");
    $("dv-expected").textContent = record.items.length;
    $("dv-scanned").textContent = record.scanned.length;
    $("dv-missing").textContent = record.items.length - record.scanned.length;
    $("dv-unexpected").textContent = record.unexpected.length;
    var body = $("dv-items");
    body.textContent = "";
    record.items.forEach(function (item) {
      var done = record.scanned.indexOf(item.id) >= 0;
      var row = document.createElement("tr");
      row.className = done ? "item-scanned" : "";
      row.dataset.deviceId = item.id;
      row.appendChild(text("td", item.asset_tag));
      row.appendChild(text("td", item.serial));
      row.appendChild(text("td", done ? t.scanned : t.in_box, "item-state"));
      var cell = document.createElement("td");
      if (!done && !record.handedOver) {
        var select = document.createElement("select");
        select.name = "reason-" + item.id;
        select.setAttribute("aria-label", fmt(t.why_label, { tag: item.asset_tag }));
        [["", "—"]].concat(t.reasons).forEach(function (choice) {
          var option = text("option", choice[1]);
          option.value = choice[0];
          select.appendChild(option);
        });
        cell.appendChild(select);
      }
      row.appendChild(cell);
      body.appendChild(row);
    });
    var open = record.delivery.status === "dispatched" && !record.handedOver && record.mayAct;
    $("dv-scan").hidden = !open;
    $("dv-handover").hidden = !open;
    $("dv-code-block").hidden = !record.codeCheck;
    $("dv-done").hidden = !record.handedOver;
    $("dv-receipt").textContent = record.schoolReceiptSaid ? "✓ " + record.schoolReceiptSaid : t.receipt_none;
    $("dv-receipt").className = record.schoolReceiptSaid ? "scan-result scan-ok" : "muted";
  }

  function shrinkPhoto(file) {
    if (!file) return Promise.resolve(null);
    return new Promise(function (resolve) {
      var image = new Image();
      image.onload = function () {
        var scale = Math.min(1, 1600 / Math.max(image.width, image.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(image.width * scale);
        canvas.height = Math.round(image.height * scale);
        canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(image.src);
        resolve(canvas.toDataURL("image/jpeg", 0.8));
      };
      image.onerror = function () { resolve(null); };
      image.src = URL.createObjectURL(file);
    });
  }

  // The school's code, as far as a phone can tell with no network: its digits and its
  // Damm check digit (every single mistyped digit and every swap of neighbours is caught).
  // Whether it is the school's code only the server knows: it decides when the hand-over
  // arrives, and a code typed offline that proves wrong is recorded as not confirmed.
  var DAMM = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9], [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5], [2, 5, 8, 1, 4, 3, 6, 7, 9, 0]
  ];
  function wellFormed(check, code) {
    if (!new RegExp("^[0-9]{" + check.digits + "}$").test(code)) return false;
    if (check.check_digit !== "damm") return true;
    var interim = 0;
    for (var i = 0; i < code.length; i++) interim = DAMM[interim][Number(code[i])];
    return interim === 0;
  }

  // Before a hand-over is queued: a well-formed code, or a reason without it.
  function checkCode(record, form) {
    var check = record.codeCheck;
    if (!check) return Promise.resolve(true);
    var code = form.elements.school_code.value.replace(/\s+/g, "");
    var reason = form.elements.no_code_reason.value.trim();
    if (!code) {
      if (reason) return Promise.resolve(true);
      $("dv-handover-errors").textContent = t.need_code;
      return Promise.resolve(false);
    }
    if (!wellFormed(check, code)) {
      $("dv-handover-errors").textContent = fmt(t.code_mistyped, { n: check.digits });
      return Promise.resolve(false);
    }
    return Promise.resolve(true);
  }

  function handOver(event) {
    event.preventDefault();
    var record = current, form = $("dv-handover-form");
    var name = form.elements.recipient_name.value.trim();
    var role = form.elements.recipient_role.value.trim();
    var problems = [];
    if (!name) problems.push(t.need_name);
    if (!role) problems.push(t.need_role);
    if (!pad || pad.isEmpty()) problems.push(t.need_signature);
    var missing = [];
    record.items.forEach(function (item) {
      if (record.scanned.indexOf(item.id) >= 0) return;
      var select = form.querySelector('select[name="reason-' + item.id + '"]') ||
        document.querySelector('#dv-items select[name="reason-' + item.id + '"]');
      if (select && select.value) missing.push({ code: item.asset_tag, reason: select.value });
      else problems.push(fmt(t.need_reason, { tag: item.asset_tag }));
    });
    if (!record.scanned.length) problems.push(t.need_scan);
    $("dv-handover-errors").textContent = problems.join(" ");
    if (problems.length) return;
    checkCode(record, form).then(function (ready) {
      if (ready) queueHandOver(record, form, name, role, missing);
    });
  }

  // What a refused hand-over of this delivery kept (store.js): put back in the form, so the
  // retry needs only what was wrong. Its photo goes with the retry unless another is chosen.
  var keptPhoto = null;
  function restoreDraft(record) {
    keptPhoto = null;
    $("dv-photo-kept").hidden = true;
    return S.all("results").then(function (results) {
      var refused = results.filter(function (r) { return r.deliveryId === record.id && r.draft; });
      var draft = refused.length ? refused[refused.length - 1].draft : null;
      if (!draft || record.handedOver || current !== record) return;
      var form = $("dv-handover-form");
      ["recipient_name", "recipient_role", "notes", "no_code_reason"].forEach(function (name) {
        if (!form.elements[name].value) form.elements[name].value = draft[name] || "";
      });
      if (pad && pad.isEmpty() && draft.signature) {
        var canvas = $("dv-signature");
        pad.fromDataURL(draft.signature, { width: canvas.offsetWidth, height: canvas.offsetHeight });
      }
      keptPhoto = draft.photo || null;
      $("dv-photo-kept").hidden = !keptPhoto;
    });
  }

  function queueHandOver(record, form, name, role, missing) {
    shrinkPhoto(form.elements.photo.files[0]).then(function (chosen) {
      var photo = chosen || keptPhoto;
      return S.enqueue({
        type: "handover",
        delivery_id: record.id,
        recipient_name: name,
        recipient_role: role,
        signature: pad.toDataURL("image/png"),
        photo: photo,
        latitude: place.latitude,
        longitude: place.longitude,
        accuracy: place.accuracy,
        notes: form.elements.notes.value,
        school_code: form.elements.school_code.value.replace(/\s+/g, ""),
        // Checked on the server when it arrives: typed offline, a wrong code is recorded
        // as not confirmed by the school; online it is refused and the agent asks again.
        code_typed_offline: !navigator.onLine,
        // The school's receipt, signed on its phone and checked here: checked again there.
        school_receipt: record.schoolReceipt || "",
        no_code_reason: form.elements.no_code_reason.value.trim(),
        missing: missing
      });
    }).then(function () {
      record.handedOver = true;
      return S.put("deliveries", record);
    }).then(function () {
      renderDelivery(record);
      if (navigator.onLine) sync();
    });
  }

  // --- Moving between the list and a delivery ------------------------------------------
  function show() {
    return S.all("deliveries").then(function (records) {
      var id = Number(window.location.hash.slice(1));
      current = records.find(function (r) { return r.id === id; }) || null;
      $("delivery-list").hidden = !!current;
      $("delivery-view").hidden = !current;
      if (current) {
        renderDelivery(current);
        if (!pad) pad = scan.signaturePad($("dv-signature"));
        restoreDraft(current);
      } else {
        renderList(records);
      }
    }).then(refreshQueue).then(refreshResults);
  }

  $("dv-scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("dv-code");
    var code = input.value;
    input.value = "";
    scanCode(code).then(function () {
      // Back to the scan box for the next tablet, unless the agent has moved on meanwhile
      // (typing the recipient's name must not jump into the scan box).
      var now = document.activeElement;
      if (!now || now === document.body || now === input) input.focus();
    });
  });
  $("dv-handover-form").addEventListener("submit", handOver);
  $("dv-signature-clear").addEventListener("click", function () { if (pad) pad.clear(); });
  $("sync-now").addEventListener("click", sync);
  $("take-all").addEventListener("click", function () {
    $("sync-state").textContent = t.sending;
    S.takeAllOffline().then(function (n) {
      $("sync-state").textContent = counted(t.taken, n);
      return show();
    }, function () { $("sync-state").textContent = t.not_sent; });
  });
  if (scan.Camera.available()) {
    camera = new scan.Camera($("dv-video"), scanCode);
    $("dv-camera-start").hidden = false;
    $("dv-camera-start").addEventListener("click", function () {
      camera.start().then(function () {
        $("dv-camera").hidden = false;
        $("dv-camera-start").hidden = true;
      }).catch(function (error) { answer(false, t.no_camera + error.name); });
    });
    $("dv-camera-stop").addEventListener("click", function () {
      camera.stop();
      $("dv-camera").hidden = true;
      $("dv-camera-start").hidden = false;
    });
  }
  scan.locateWhenBegun($("dv-handover-form"), function () {
    $("dv-position").textContent = $("dv-position").dataset.asking;
  }, function (latitude, longitude, accuracy) {
    place = { latitude: latitude, longitude: longitude, accuracy: accuracy };
    $("dv-position").textContent = "\u2066" + latitude.toFixed(5) + ", " + longitude.toFixed(5) + " (± " + accuracy + " m)\u2069";
  }, function () { $("dv-position").textContent = t.no_position; });

  window.addEventListener("hashchange", show);
  window.addEventListener("online", function () { network(); sync(); });
  window.addEventListener("offline", network);
  window.addEventListener("tracker:changed", function () {
    refreshQueue();
    refreshResults();
    if (!S.retry.at && $("sync-state").textContent === t.sending) $("sync-state").textContent = "";
  });
  network();
  // The page may be the phone's copy: nothing of the store is shown before it is known to be
  // this user's (online), or the last user's own (offline).
  S.checkPage().then(function (mine) {
    if (mine) show().then(function () { if (navigator.onLine) sync(); });
  });
})();
