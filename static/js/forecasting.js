/* Forecasting console: live job progress and the consensus preview (no inline script: the CSP forbids it). */
(function () {
  "use strict";

  var POLL_MS = 1500;
  var TERMINAL = { completed: true, failed: true, cancelled: true };

  /* Job progress -----------------------------------------------------------
     Rows carrying data-job-poll name the job's API URL; the session authenticates the GET. */
  function updateRow(row, job) {
    var pct = Math.max(0, Math.min(100, Number(job.progress_pct) || 0));
    var bar = row.querySelector("[data-job-progress]");
    if (bar) {
      bar.value = pct;
      bar.textContent = Math.round(pct) + "%";
    }
    var count = row.querySelector("[data-job-count]");
    if (count) {
      count.textContent = job.series_done + "/" + job.series_total + (job.series_failed ? " (" + job.series_failed + " failed)" : "");
    }
    var badge = row.querySelector("[data-job-status]");
    if (badge && job.status) {
      badge.className = "badge badge--fc-" + job.status;
      badge.textContent = job.status.charAt(0).toUpperCase() + job.status.slice(1);
    }
    row.setAttribute("data-status", job.status);
    var error = row.querySelector("[data-job-error]");
    if (error && job.error) {
      error.textContent = job.error;
      error.hidden = false;
    }
    if (TERMINAL[job.status]) {
      row.removeAttribute("data-job-poll");
      var link = row.querySelector("[data-job-result]");
      if (link && job.status === "completed") {
        link.hidden = false;
      }
    }
  }

  function poll() {
    var rows = document.querySelectorAll("tr[data-job-poll]");
    if (!rows.length) {
      return;
    }
    var pending = [];
    rows.forEach(function (row) {
      var url = row.getAttribute("data-job-poll");
      pending.push(
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (response.status === 401 || response.status === 403 || response.status === 404) {
              row.removeAttribute("data-job-poll");
              return null;
            }
            return response.ok ? response.json() : null;
          })
          .then(function (job) {
            if (job) {
              updateRow(row, job);
            }
          })
          .catch(function () {
            /* A dropped request is retried on the next tick. */
          })
      );
    });
    Promise.all(pending).then(function () {
      window.setTimeout(poll, POLL_MS);
    });
  }

  if (document.querySelector("tr[data-job-poll]") && window.fetch) {
    window.setTimeout(poll, 300);
  }

  /* Consensus preview (FRM-28) ---------------------------------------------- */
  var form = document.querySelector("[data-consensus-form]");
  if (form) {
    var preview = form.querySelector("[data-consensus-preview]");
    var num = function (name) {
      var input = form.querySelector("[name='" + name + "']");
      var value = input ? parseFloat(input.value) : NaN;
      return isNaN(value) ? null : value;
    };
    var format = function (value) {
      return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    };
    var refresh = function () {
      var baseline = num("baseline_qty");
      if (baseline === null) {
        preview.hidden = true;
        return;
      }
      var pre = Math.max(0, baseline + (num("sales_override_qty") || 0) + (num("marketing_uplift_qty") || 0) + (num("finance_adjustment_qty") || 0));
      var cap = num("constraint_cap_qty");
      var final = cap === null ? pre : Math.max(0, Math.min(pre, cap));
      preview.querySelector("[data-preview-pre]").textContent = format(pre);
      preview.querySelector("[data-preview-final]").textContent = format(final);
      preview.hidden = false;
    };
    form.addEventListener("input", refresh);
    refresh();
  }
})();
