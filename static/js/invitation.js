/* An invitation link carries its token after "#": a browser never sends that part to a
 * server, so no log keeps it. This page posts it, then forgets it from the address bar. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var token = window.location.hash.replace(/^#/, "");
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname);
    }
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) {
      document.getElementById("invitation-opening").hidden = true;
      document.getElementById("invitation-missing").hidden = false;
      return;
    }
    document.getElementById("invitation-token").value = token;
    document.getElementById("invitation-open").submit();
  });
})();
