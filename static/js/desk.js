/* A desk (lending, return, a count at a school): a USB scanner types a code and Enter. On the lending desk
   Enter in the tablet's field goes on to the borrower's field; the borrower's Enter lends.
   The camera fills the tablet's field. A signature drawn with the finger goes with the form. */
(function () {
  "use strict";
  var scan = window.TrackerScan;

  var desk = document.querySelector("[data-desk]");
  if (desk) {
    var code = desk.elements.code;
    // Where Enter (or the camera) goes after the tablet's code: the borrower's field when
    // lending, the field `data-desk-next` names (what is wrong, on a fault report).
    var next = desk.dataset.deskNext ? desk.elements[desk.dataset.deskNext] : desk.elements.borrower_code;
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

  /* A count's scan at a school or a depot: sent at once, the server's answer shown; when the network
     is gone, kept in the phone's queue (the same as a delivery's, with its once-only id)
     and sent when it returns. */
  var counting = document.querySelector("[data-count]");
  if (counting && window.TrackerStore && window.fetch) {
    var said = document.getElementById("count-answer");
    var say = function (ok, message) {
      said.hidden = false;
      said.className = "flash " + (ok ? "flash-success" : "flash-error");
      said.textContent = message;
      if (scan && scan.remember) scan.remember(ok, message);
    };
    // The figures and lists follow each scan: the server's answer carries them drawn by the
    // page's own templates; a scan kept offline moves its line from "not yet seen" at once.
    var redraw = function (parts) {
      if (parts && typeof parts.figures === "string") document.getElementById("count-figures").innerHTML = parts.figures;
      if (parts && typeof parts.lists === "string") document.getElementById("count-lists").innerHTML = parts.lists;
    };
    var seenHere = function (code) {
      var wanted = code.toLowerCase();
      var lines = document.querySelectorAll('[data-testid="count-not_seen"] li[data-codes]');
      for (var i = 0; i < lines.length; i++) {
        if (lines[i].dataset.codes.split(" ").indexOf(wanted) < 0) continue;
        lines[i].classList.add("kept-offline");
        lines[i].appendChild(document.createTextNode(" · " + counting.dataset.keptLine));
        var figures = document.querySelectorAll("#count-figures .card-figure");
        if (figures.length > 2) {
          figures[1].textContent = Number(figures[1].textContent) + 1;
          figures[2].textContent = Math.max(0, Number(figures[2].textContent) - 1);
        }
        return;
      }
    };
    var refresh = function () {
      return fetch(location.href, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(redraw, function () { /* the page stays as it is */ });
    };
    var queue = function (code) {
      seenHere(code);
      // At a school, or at the depot a count covers.
      var place = counting.dataset.depot
        ? { depot_id: Number(counting.dataset.depot) }
        : { school_id: Number(counting.dataset.school) };
      return window.TrackerStore.enqueue(Object.assign({
        type: "count_scan",
        count_id: Number(counting.dataset.count),
        code: code,
        condition: counting.elements.condition.value || undefined
      }, place)).then(function () { say(true, counting.dataset.queued + " " + code); });
    };
    counting.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = counting.elements.code.value.trim();
      if (!code) return;
      counting.elements.code.value = "";
      counting.elements.code.focus();
      if (!navigator.onLine) { queue(code); return; }
      fetch(counting.action || location.href, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        body: (function () {
          var data = new FormData(counting);
          data.set("code", code);
          return data;
        })()
      }).then(function (response) {
        // Not the server's answer (a page kept offline carries an old token): queued, and
        // the queue is sent with a fresh one.
        return response.json().then(function (answer) {
          if (typeof answer.ok !== "boolean") return queue(code);
          say(answer.ok, answer.message);
          redraw(answer);
        }, function () { return queue(code); });
      }, function () { return queue(code); });
    });
    var send = function () {
      window.TrackerStore.waiting().then(function (n) {
        if (!n || !navigator.onLine) return;
        window.TrackerStore.sync().then(function (summary) {
          if (summary.sent) {
            say(true, counting.dataset.sent.replace("%(n)s", summary.sent));
            refresh();
          }
        }, function () { /* kept for later */ });
      });
    };
    window.addEventListener("online", send);
    // The queue may also be sent from elsewhere (the store sends it from any page): once
    // nothing waits, the lines kept on this phone are drawn again from the server.
    window.addEventListener("tracker:changed", function () {
      if (!navigator.onLine || !document.querySelector("#count-lists .kept-offline")) return;
      window.TrackerStore.waiting().then(function (n) { if (!n) refresh(); });
    });
    send();
  }
})();
