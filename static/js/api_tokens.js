/* Settings → API tokens: copy the newly created token (no inline script: the CSP forbids it). */
(function () {
  "use strict";

  function announce(text) {
    var status = document.querySelector("[data-copy-status]");
    if (status) {
      status.textContent = text;
    }
  }

  function fallbackCopy(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-copy-target]") : null;
    if (!target) {
      return;
    }
    var input = document.getElementById(target.getAttribute("data-copy-target"));
    if (!input) {
      return;
    }
    var done = function () {
      target.textContent = "Copied";
      announce("Token copied to the clipboard. Store it somewhere safe now.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        if (fallbackCopy(input)) {
          done();
        } else {
          announce("Copy failed: select the token and copy it by hand.");
        }
      });
    } else if (fallbackCopy(input)) {
      done();
    } else {
      announce("Copy failed: select the token and copy it by hand.");
    }
  });

  /* Select the whole token when the field is focused, for copying by hand. */
  document.querySelectorAll("[data-token-value]").forEach(function (input) {
    input.addEventListener("focus", function () {
      input.select();
    });
  });
})();
