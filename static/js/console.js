/* Console behaviour wired through data-* attributes: the CSP forbids inline scripts and handlers. */
(function () {
  "use strict";

  var root = document.documentElement;

  function store(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (err) {
      /* Not remembered when storage is blocked; the change still applies to this page. */
    }
  }

  /* Theme toggle ---------------------------------------------------------- */
  function syncThemeButtons() {
    var dark = root.getAttribute("data-theme") === "dark";
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-label", dark ? "Switch to light theme" : "Switch to dark theme");
      button.setAttribute("aria-pressed", dark ? "true" : "false");
    });
  }

  /* Sidebar collapse ------------------------------------------------------ */
  function syncSidebarButtons() {
    var collapsed = root.getAttribute("data-sidebar") === "collapsed";
    document.querySelectorAll("[data-sidebar-toggle]").forEach(function (button) {
      button.setAttribute("aria-expanded", collapsed ? "false" : "true");
      button.setAttribute("aria-label", collapsed ? "Expand navigation" : "Collapse navigation");
    });
  }

  /* Confirmation dialog --------------------------------------------------- */
  var dialog = document.getElementById("confirm-dialog");
  var pendingForm = null;

  function askToConfirm(form) {
    var message = form.getAttribute("data-confirm") || "Are you sure?";
    var wantsReason = form.hasAttribute("data-confirm-reason");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(message)) {
        form.setAttribute("data-confirmed", "1");
        form.submit();
      }
      return;
    }
    pendingForm = form;
    dialog.querySelector("[data-confirm-message]").textContent = message;
    var ok = dialog.querySelector("[data-confirm-ok]");
    ok.textContent = form.getAttribute("data-confirm-label") || "Confirm";
    ok.className = "btn " + (form.getAttribute("data-confirm-tone") === "primary" ? "btn--primary" : "btn--danger");
    var reasonField = dialog.querySelector("[data-confirm-reason-field]");
    var reason = dialog.querySelector("textarea");
    reason.value = "";
    reasonField.hidden = !wantsReason;
    dialog.returnValue = "";
    dialog.showModal();
    (wantsReason ? reason : ok).focus();
  }

  if (dialog) {
    dialog.addEventListener("close", function () {
      var form = pendingForm;
      pendingForm = null;
      if (!form || dialog.returnValue !== "confirm") {
        return;
      }
      var input = form.querySelector("input[name='reason']");
      if (input) {
        input.value = dialog.querySelector("textarea").value.trim();
      }
      form.setAttribute("data-confirmed", "1");
      form.submit();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) {
      return;
    }
    if (form.getAttribute("data-confirmed") === "1") {
      return;
    }
    event.preventDefault();
    askToConfirm(form);
  });

  /* Clicks: theme, sidebar, dismiss, password visibility, menus ------------ */
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(target)) {
        menu.removeAttribute("open");
      }
    });
    var themeButton = target.closest("[data-theme-toggle]");
    if (themeButton) {
      var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      store("genxsop.theme", next);
      syncThemeButtons();
      return;
    }
    var sidebarButton = target.closest("[data-sidebar-toggle]");
    if (sidebarButton) {
      var collapsed = root.getAttribute("data-sidebar") === "collapsed";
      if (collapsed) {
        root.removeAttribute("data-sidebar");
      } else {
        root.setAttribute("data-sidebar", "collapsed");
      }
      store("genxsop.sidebar", collapsed ? "expanded" : "collapsed");
      syncSidebarButtons();
      return;
    }
    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      var box = dismiss.closest("[data-dismissible]");
      if (box) {
        box.remove();
      }
      return;
    }
    var toggle = target.closest("[data-password-toggle]");
    if (toggle) {
      var input = document.getElementById(toggle.getAttribute("data-password-toggle"));
      if (input) {
        var show = input.type === "password";
        input.type = show ? "text" : "password";
        toggle.setAttribute("aria-pressed", show ? "true" : "false");
        toggle.setAttribute("aria-label", show ? "Hide password" : "Show password");
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    });
  });

  /* Selects that apply on change (page size) ------------------------------- */
  document.addEventListener("change", function (event) {
    var selectAll = event.target instanceof Element ? event.target.closest("[data-select-all]") : null;
    if (selectAll) {
      /* A grid's header box checks every row box that belongs to the named (bulk) form. */
      var formId = selectAll.getAttribute("data-select-all");
      document.querySelectorAll("input[type='checkbox'][form='" + formId + "']").forEach(function (box) {
        box.checked = selectAll.checked;
      });
      return;
    }
    var form = event.target instanceof Element ? event.target.closest("form[data-autosubmit]") : null;
    if (form) {
      form.submit();
    }
  });

  syncThemeButtons();
  syncSidebarButtons();
})();
