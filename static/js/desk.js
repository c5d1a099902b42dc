/* A desk (lending, return, a count at a school): a USB scanner types a code and Enter. On the lending desk
   Enter in the tablet's field goes on to the borrower's field; the borrower's Enter lends.
   The camera fills the tablet's field. A signature drawn with the finger goes with the form. */
(function () {
  "use strict";
  var scan = window.TrackerScan;

  var desk = document.querySelector("[data-desk]");
  if (desk) {
    var code = desk.elements.code;
    var next = desk.elements.borrower_code;
    if (next) {
      code.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        if (code.value.trim()) next.focus();
      });
    }
    var startButton = document.getElementById("camera-start");
    var box = document.getElementById("camera");
    if (scan && startButton && box) {
      var camera = new scan.Camera(document.getElementById("camera-video"), function (text) {
        code.value = text;
        camera.stop();
        box.hidden = true;
        startButton.hidden = false;
        if (next) next.focus(); else desk.requestSubmit();
        return Promise.resolve();
      });
      if (scan.Camera.available()) startButton.hidden = false;
      startButton.addEventListener("click", function () {
        camera.start().then(function () {
          box.hidden = false;
          startButton.hidden = true;
        }).catch(function () { startButton.hidden = true; });
      });
      document.getElementById("camera-stop").addEventListener("click", function () {
        camera.stop();
        box.hidden = true;
        startButton.hidden = false;
      });
    }
  }

  var signing = document.querySelector("[data-signature-form]");
  if (signing && scan) {
    var canvas = document.getElementById("signature-pad");
    var pad = scan.signaturePad(canvas);
    var signed = signing.elements.signature.value;
    if (pad && signed.indexOf("data:image/png;base64,") === 0) {
      pad.fromDataURL(signed, { width: canvas.offsetWidth, height: canvas.offsetHeight });
    }
    document.getElementById("signature-clear").addEventListener("click", function () {
      if (pad) pad.clear();
      signing.elements.signature.value = "";
    });
    signing.addEventListener("submit", function () {
      if (pad && !pad.isEmpty()) signing.elements.signature.value = pad.toDataURL("image/png");
    });
  }
})();
