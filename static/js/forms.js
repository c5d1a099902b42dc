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

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
