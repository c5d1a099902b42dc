/* Every page's forms: a file field shows the chosen file's name beside our button, in the
 * page's language (the browser's own button speaks the browser's). */
(function () {
  "use strict";

  function watch() {
    document.querySelectorAll("input.file-input").forEach(function (input) {
      var name = document.querySelector('label[for="' + input.id + '"] .file-name');
      input.addEventListener("change", function () {
        if (name) name.textContent = input.files.length ? input.files[0].name : name.dataset.none;
      });
    });
  }

  /* A form sent back with a problem: the first field that has one (or the form's own
   * message) is brought into view and focused, not left below the screen. */
  function showProblem() {
    var first = document.querySelector('main [aria-invalid="true"], main .flash-error[role="alert"]');
    if (!first) return;
    first.scrollIntoView({ block: "center" });
    if (first.matches("input, select, textarea")) first.focus({ preventScroll: true });
  }

  function ready() {
    watch();
    showProblem();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();

/* A job's progress (templates/jobs/_progress.html): asked again every 1.5 s; the page
 * reloads when the job ends, to show its file or its result. */
(function () {
  "use strict";

  function follow(box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-job-text]");
    function ask() {
      fetch(box.dataset.job, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (status && status.state !== box.dataset.jobState && (status.state === "done" || status.state === "failed")) {
            window.location.reload();
            return;
          }
          if (status) {
            box.dataset.jobState = status.state;
            text.textContent = status.text;
            if (bar && status.total) {
              bar.max = status.total;
              bar.value = status.done;
            }
          }
          window.setTimeout(ask, 1500);
        })
        .catch(function () { window.setTimeout(ask, 5000); });
    }
    window.setTimeout(ask, 1000);
  }

  function start() {
    document.querySelectorAll("[data-job]").forEach(function (box) {
      var state = box.dataset.jobState;
      if (state === "queued" || state === "running") follow(box);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

/* A form that cannot be undone asks first: `data-confirm` holds the question, in the page's
 * language (revoking a phone). */
(function () {
  "use strict";

  function ask() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ask);
  else ask();
})();
