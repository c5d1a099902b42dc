/* The delivery page: a scan loop (scanner keyboard, phone camera) and the hand-over form.
 *
 * Every scan goes to the server at once and the answer is shown, heard and felt: a tick or
 * a refusal with its reason. Without JavaScript the forms still post. */
(function () {
  "use strict";

  var scan = window.TrackerScan;
  var scanForm = document.getElementById("scan-form");
  var resultBox = document.getElementById("scan-result");

  function setCount(name, value) {
    var cell = document.getElementById("count-" + name);
    if (cell && value !== undefined) cell.textContent = value;
  }

  function show(answer) {
    resultBox.textContent = (answer.ok ? "✓ " : "✗ ") + answer.message;
    resultBox.className = "scan-result " + (answer.ok ? "scan-ok" : "scan-refused");
    scan.remember(answer.ok, answer.message);
    var counts = answer.counts || {};
    ["expected", "packed", "scanned", "missing", "unexpected"].forEach(function (name) {
      setCount(name, counts[name]);
    });
    if (answer.ok && answer.device_id) {
      var row = document.querySelector('#items tr[data-device-id="' + answer.device_id + '"]');
      var packing = scanForm.closest("[data-mode]").dataset.mode === "pack";
      if (row) {
        row.className = "item-" + (answer.kind === "packed" ? "packed" : "scanned");
        row.querySelector(".item-state").textContent =
          (packing ? resultBox.dataset.packed : resultBox.dataset.scanned) || answer.message;
        var reason = row.querySelector("select");
        if (reason) { reason.value = ""; reason.disabled = true; }
      } else if (answer.kind === "packed") {
        window.location.reload();  // a tablet added to the box: show its row
      }
    }
    scan.tone(answer.ok);
  }

  function send(code) {
    var data = new FormData(scanForm);
    data.set("code", code);
    resultBox.textContent = "…";
    return fetch(scanForm.action, {
      method: "POST",
      body: data,
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json();
    }).then(show).catch(function () {
      show({ ok: false, message: resultBox.dataset.offline });
    });
  }

  if (scanForm) {
    var input = document.getElementById("scan-code");
    scanForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = input.value.trim();
      if (!code) return;
      input.value = "";
      send(code).then(function () { input.focus(); });
    });

    var startButton = document.getElementById("camera-start");
    var box = document.getElementById("camera");
    var camera = new scan.Camera(document.getElementById("camera-video"), send);
    if (scan.Camera.available()) startButton.hidden = false;
    startButton.addEventListener("click", function () {
      camera.start().then(function () {
        box.hidden = false;
        startButton.hidden = true;
      }).catch(function (error) {
        show({ ok: false, message: resultBox.dataset.nocamera + error.name });
      });
    });
    document.getElementById("camera-stop").addEventListener("click", function () {
      camera.stop();
      box.hidden = true;
      startButton.hidden = false;
    });
  }

  // The hand-over: a signature drawn with the finger, and the phone's position if it gives it.
  var handover = document.getElementById("handover-form");
  if (handover) {
    var pad = scan.signaturePad(document.getElementById("signature-pad"));
    // A form sent back (a field missing) keeps its signature: drawn again from what was sent.
    var signed = handover.elements.signature.value;
    if (pad && signed.indexOf("data:image/png;base64,") === 0) {
      var canvas = document.getElementById("signature-pad");
      pad.fromDataURL(signed, { width: canvas.offsetWidth, height: canvas.offsetHeight });
    }
    document.getElementById("signature-clear").addEventListener("click", function () {
      if (pad) pad.clear();
      handover.elements.signature.value = "";
    });
    handover.addEventListener("submit", function () {
      if (pad && !pad.isEmpty()) handover.elements.signature.value = pad.toDataURL("image/png");
    });
    var position = document.getElementById("position");
    scan.locateWhenBegun(handover, function () {
      position.textContent = position.dataset.asking;
    }, function (latitude, longitude, accuracy) {
      handover.elements.latitude.value = latitude;
      handover.elements.longitude.value = longitude;
      handover.elements.accuracy.value = accuracy;
      // Isolated left to right: an Arabic line must not reorder the signs and brackets.
      position.textContent = "\u2066" + latitude.toFixed(5) + ", " + longitude.toFixed(5) +
        " (± " + accuracy + " m)\u2069";
    }, function () {
      position.textContent = position.dataset.none;
    });
  }

  // "Take offline": keep this delivery on the phone, then open it in the field app.
  var offline = document.getElementById("take-offline");
  if (offline && window.TrackerStore) {
    offline.hidden = false;
    offline.addEventListener("click", function () {
      offline.disabled = true;
      window.TrackerStore.takeOffline(Number(offline.dataset.delivery)).then(function () {
        window.location.href = offline.dataset.app + "#" + offline.dataset.delivery;
      }).catch(function () {
        offline.disabled = false;
        offline.textContent = offline.dataset.failed;
      });
    });
  }
})();
