/* The delivery page: a scan loop (scanner keyboard, phone camera) and the hand-over form.
 *
 * Every scan goes to the server at once and the answer is shown, heard and felt: a tick or
 * a refusal with its reason. The camera uses the browser's BarcodeDetector where there is
 * one, and the vendored jsQR decoder elsewhere. Without JavaScript the forms still post. */
(function () {
  "use strict";

  var scanForm = document.getElementById("scan-form");
  var resultBox = document.getElementById("scan-result");
  var audio = null;

  function tone(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = ok ? 880 : 220;
      gain.gain.value = 0.15;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + (ok ? 0.12 : 0.35));
    } catch (e) { /* no sound on this device */ }
    if (navigator.vibrate) navigator.vibrate(ok ? 60 : [200, 80, 200]);
  }

  function setCount(name, value) {
    var cell = document.getElementById("count-" + name);
    if (cell && value !== undefined) cell.textContent = value;
  }

  function show(answer) {
    resultBox.textContent = (answer.ok ? "✓ " : "✗ ") + answer.message;
    resultBox.className = "scan-result " + (answer.ok ? "scan-ok" : "scan-refused");
    var counts = answer.counts || {};
    ["expected", "packed", "scanned", "missing", "unexpected"].forEach(function (name) {
      setCount(name, counts[name]);
    });
    if (answer.ok && answer.device_id) {
      var row = document.querySelector('#items tr[data-device-id="' + answer.device_id + '"]');
      var label = scanForm.closest("[data-mode]").dataset.mode === "pack"
        ? resultBox.dataset.packed : resultBox.dataset.scanned;
      if (row) {
        row.className = "item-" + (answer.kind === "packed" ? "packed" : "scanned");
        row.querySelector(".item-state").textContent = label || answer.message;
        var reason = row.querySelector("select");
        if (reason) { reason.value = ""; reason.disabled = true; }
      } else if (answer.kind === "packed") {
        window.location.reload();  // a tablet added to the box: show its row
      }
    }
    tone(answer.ok);
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
      show({ ok: false, message: resultBox.dataset.offline || "No network: try again." });
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

    // The camera: native BarcodeDetector where the browser has it, jsQR elsewhere.
    var startButton = document.getElementById("camera-start");
    var stopButton = document.getElementById("camera-stop");
    var box = document.getElementById("camera");
    var video = document.getElementById("camera-video");
    var stream = null, detector = null, canvas = null, last = "", lastAt = 0, busy = false;

    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) startButton.hidden = false;

    function decoded(text) {
      var now = Date.now();
      if (!text || (text === last && now - lastAt < 3000)) return;
      last = text; lastAt = now;
      busy = true;
      send(text).then(function () { busy = false; });
    }

    function frame() {
      if (!stream) return;
      if (!busy && video.readyState >= 2) {
        if (detector) {
          detector.detect(video).then(function (codes) {
            if (codes.length) decoded(codes[0].rawValue);
          }).catch(function () { detector = null; });
        } else if (window.jsQR) {
          var width = video.videoWidth, height = video.videoHeight;
          canvas = canvas || document.createElement("canvas");
          canvas.width = width; canvas.height = height;
          var context = canvas.getContext("2d", { willReadFrequently: true });
          context.drawImage(video, 0, 0, width, height);
          var found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height,
                                  { inversionAttempts: "dontInvert" });
          if (found) decoded(found.data);
        }
      }
      setTimeout(frame, 200);
    }

    startButton.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          video.play();
          box.hidden = false; startButton.hidden = true;
          if ("BarcodeDetector" in window) {
            try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); }
            catch (e) { detector = null; }
          }
          frame();
        })
        .catch(function (error) {
          show({ ok: false, message: (resultBox.dataset.nocamera || "Camera refused: ") + error.name });
        });
    });

    stopButton.addEventListener("click", function () {
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null; box.hidden = true; startButton.hidden = false;
    });
  }

  // The hand-over: a signature drawn with the finger, and the phone's position if it gives it.
  var handover = document.getElementById("handover-form");
  if (handover) {
    var canvasPad = document.getElementById("signature-pad");
    var pad = null;
    if (window.SignaturePad) {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      canvasPad.width = canvasPad.offsetWidth * ratio;
      canvasPad.height = canvasPad.offsetHeight * ratio;
      canvasPad.getContext("2d").scale(ratio, ratio);
      pad = new window.SignaturePad(canvasPad, { penColor: "#000" });
      document.getElementById("signature-clear").addEventListener("click", function () {
        pad.clear();
      });
    }
    handover.addEventListener("submit", function () {
      if (pad && !pad.isEmpty()) handover.elements.signature.value = pad.toDataURL("image/png");
    });
    var position = document.getElementById("position");
    if (navigator.geolocation) {
      navigator.geolocation.getCurrentPosition(function (where) {
        handover.elements.latitude.value = where.coords.latitude;
        handover.elements.longitude.value = where.coords.longitude;
        handover.elements.accuracy.value = Math.round(where.coords.accuracy);
        position.textContent = where.coords.latitude.toFixed(5) + ", " +
          where.coords.longitude.toFixed(5) + " (± " + Math.round(where.coords.accuracy) + " m)";
      }, function () {
        position.textContent = position.dataset.none || "Position: not available.";
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    } else {
      position.textContent = position.dataset.none || "Position: not available.";
    }
  }
})();
