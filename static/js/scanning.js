/* What every scan screen shares: the answer felt and heard, and the camera that reads QR
 * codes (the browser's BarcodeDetector where there is one, the vendored jsQR elsewhere,
 * fetched only when the camera opens without one: 26 KB a phone with BarcodeDetector, or
 * one that never opens the camera, never downloads). */
(function () {
  "use strict";

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

  /* Reads QR codes from the camera into `onCode(text)`; a code seen again within three
   * seconds is ignored, and nothing is read while the previous answer is awaited. */
  function Camera(video, onCode) {
    this.video = video;
    this.onCode = onCode;
    this.stream = null;
    this.detector = null;
    this.canvas = null;
    this.last = "";
    this.lastAt = 0;
    this.busy = false;
  }

  Camera.available = function () {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  };

  /* The jsQR decoder, loaded once, from the address the page gives (its hashed name). */
  var decoderLoading = null;
  function loadDecoder() {
    if (window.jsQR) return Promise.resolve();
    var meta = document.querySelector('meta[name="qr-decoder"]');
    if (!meta) return Promise.resolve();
    decoderLoading = decoderLoading || new Promise(function (resolve) {
      var script = document.createElement("script");
      script.src = meta.content;
      script.onload = resolve;
      script.onerror = function () { decoderLoading = null; resolve(); };
      document.head.appendChild(script);
    });
    return decoderLoading;
  }

  Camera.prototype.start = function () {
    var self = this;
    return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        self.stream = media;
        self.video.srcObject = media;
        self.video.play();
        if ("BarcodeDetector" in window) {
          try { self.detector = new window.BarcodeDetector({ formats: ["qr_code"] }); }
          catch (e) { self.detector = null; }
        }
        if (!self.detector) loadDecoder();
        self.frame();
      });
  };

  Camera.prototype.stop = function () {
    if (this.stream) this.stream.getTracks().forEach(function (track) { track.stop(); });
    this.stream = null;
  };

  Camera.prototype.decoded = function (text) {
    var self = this, now = Date.now();
    if (!text || (text === this.last && now - this.lastAt < 3000)) return;
    this.last = text;
    this.lastAt = now;
    this.busy = true;
    Promise.resolve(this.onCode(text)).then(function () { self.busy = false; },
                                            function () { self.busy = false; });
  };

  Camera.prototype.frame = function () {
    var self = this, video = this.video;
    if (!this.stream) return;
    if (!this.busy && video.readyState >= 2) {
      if (this.detector) {
        this.detector.detect(video).then(function (codes) {
          if (codes.length) self.decoded(codes[0].rawValue);
        }).catch(function () { self.detector = null; loadDecoder(); });
      } else if (window.jsQR) {
        var width = video.videoWidth, height = video.videoHeight;
        this.canvas = this.canvas || document.createElement("canvas");
        this.canvas.width = width;
        this.canvas.height = height;
        var context = this.canvas.getContext("2d", { willReadFrequently: true });
        context.drawImage(video, 0, 0, width, height);
        var found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height,
                                { inversionAttempts: "dontInvert" });
        if (found) this.decoded(found.data);
      }
    }
    setTimeout(function () { self.frame(); }, 200);
  };

  /* A signature pad sized for the screen's pixel density, and the phone's position. */
  function signaturePad(canvas) {
    if (!window.SignaturePad) return null;
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    return new window.SignaturePad(canvas, { penColor: "#000" });
  }

  function locate(onPlace, onNone) {
    if (!navigator.geolocation) { onNone(); return; }
    navigator.geolocation.getCurrentPosition(function (where) {
      onPlace(where.coords.latitude, where.coords.longitude, Math.round(where.coords.accuracy));
    }, onNone, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  /* The phone's position, asked only when the hand-over begins (the first touch or key in
     its form), not when the page opens: a page that asks on load is asked to stop. */
  function locateWhenBegun(form, onAsking, onPlace, onNone) {
    var asked = false;
    var begin = function () {
      if (asked) return;
      asked = true;
      form.removeEventListener("focusin", begin);
      form.removeEventListener("pointerdown", begin);
      onAsking();
      locate(onPlace, onNone);
    };
    form.addEventListener("focusin", begin);
    form.addEventListener("pointerdown", begin);
  }

  /* The page's scan log (templates/deliveries/_scan_box.html): each answer, newest first. */
  function remember(ok, message) {
    var box = document.querySelector("[data-scan-log]");
    if (!box) return;
    var list = box.querySelector("[data-scan-log-list]");
    var entry = document.createElement("li");
    entry.className = ok ? "scan-ok" : "scan-refused";
    entry.textContent = (ok ? "✓ " : "✗ ") + message;
    list.insertBefore(entry, list.firstChild);
    box.hidden = false;
    box.querySelector("[data-scan-log-count]").textContent = list.children.length;
  }

  /* The tablet of `items` (objects with qr_token, asset_tag, serial, imei) a scanned or
   * typed code names, read as the server reads it: a label's URL or token, an asset tag
   * with or without its zeros, a serial, an IMEI. */
  function find(items, code) {
    var value = code.trim();
    if (value.indexOf("/d/") >= 0) value = value.split("/d/").pop().split("?")[0].replace(/\/+$/, "");
    var upper = value.toUpperCase();
    var tag = upper.match(/^([A-Z]+)[-\s]?0*(\d+)$/);
    var tagged = tag ? tag[1] + "-" + ("00000" + tag[2]).slice(-Math.max(5, tag[2].length)) : upper;
    var compact = upper.replace(/\s+/g, "");
    var digits = value.replace(/\D/g, "");
    return items.find(function (item) {
      return item.qr_token === value || item.asset_tag === tagged || item.asset_tag === upper ||
        item.serial === compact || (digits.length === 15 && item.imei === digits);
    }) || null;
  }

  window.TrackerScan = {
    find: find,
    tone: tone, Camera: Camera, signaturePad: signaturePad, locate: locate, locateWhenBegun: locateWhenBegun,
    remember: remember
  };
})();
