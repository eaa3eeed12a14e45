// The waiting page's script: it asks the relying party whether the
// wallet has answered this login (GET /login/STATE/status, with the
// cookie of the browser that started it), and, when it has, goes on to
// the page that opens the session, or shows why the answer was refused.
// Without it the page's "continue" link does the same by hand.
"use strict";
(function () {
  var status = document.getElementById("status");
  if (!status || !status.dataset.poll || !window.fetch) {
    return;
  }
  var url = status.dataset.poll;
  var every = Number(status.dataset.every) || 1500;
  status.textContent = "Waiting for your wallet's answer. This page moves on by itself when it comes.";

  function refused(code, reason) {
    document.getElementById("code").textContent = code;
    document.getElementById("reason").textContent = reason;
    document.getElementById("refusal").hidden = false;
    status.textContent = "Your wallet's answer was not accepted.";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json();
      })
      .then(function (p) {
        switch (p.status) {
          case "pending":
            setTimeout(poll, every);
            return;
          case "done":
            status.textContent = "Your wallet answered. Logging you in.";
            window.location.assign(p.next);
            return;
          case "refused":
          case "error":
            refused(p.code, p.reason);
            return;
        }
        // Another answer (too many requests): ask again, later.
        setTimeout(poll, 2 * every);
      })
      .catch(function () {
        setTimeout(poll, 2 * every);
      });
  }
  setTimeout(poll, every);
})();
