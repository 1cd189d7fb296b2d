/* Runs before first paint (loaded without defer): apply the remembered theme and sidebar state. */
(function () {
  "use strict";
  var root = document.documentElement;
  var theme = null;
  var sidebar = null;
  try {
    theme = window.localStorage.getItem("genxsop.theme");
    sidebar = window.localStorage.getItem("genxsop.sidebar");
  } catch (err) {
    /* Storage can be blocked (private mode, policies): fall back to the defaults. */
  }
  if (theme !== "light" && theme !== "dark") {
    theme = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  root.setAttribute("data-theme", theme);
  if (sidebar === "collapsed") {
    root.setAttribute("data-sidebar", "collapsed");
  }
})();
