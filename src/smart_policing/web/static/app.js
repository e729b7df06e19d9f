// Behaviour shared by every page. No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var csrf = document.body.dataset.csrf || "";

  // htmx requests carry the session's CSRF token.
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (csrf) { e.detail.headers["X-CSRF-Token"] = csrf; }
  });

  // Audit page: verify the hash chain and say what was found.
  document.querySelectorAll("[data-verify-url]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.verifyTarget);
      target.textContent = "checking…";
      fetch(button.dataset.verifyUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (c) {
          target.textContent = c.ok
            ? "intact: " + c.rows + " rows, head " + c.head_hash.slice(0, 12) + "…"
            : "BROKEN at row " + c.first_bad_seq + ": " + c.reason;
          target.className = c.ok ? "ok" : "error";
        })
        .catch(function (err) { target.textContent = "check failed: " + err; });
    });
  });
})();
