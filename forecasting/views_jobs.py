"""Forecasting → Jobs (UI-09 Jobs tab, UI-21 job monitor): the caller's jobs with live progress; for
OPS every job with Cancel/Retry, the FC-75 metrics cards and Cleanup (FC-76).

Progress is polled by static/js/forecasting.js from `GET /api/v1/forecasting/jobs/{job_id}` with the
session; the rows it polls carry the job id and the API URL as data attributes.
"""

from django.conf import settings
from django.contrib import messages
from django.urls import reverse
from django.views.generic import TemplateView

from forecasting import permissions as perms
from forecasting import services
from forecasting import views_data as data
from forecasting.choices import JobStatus
from forecasting.forms import CleanupForm
from forecasting.views import ForecastingMixin, job_row
from forecasting.views_actions import ActionView, form_errors_text
from genxsop.console import paginate


class JobListView(ForecastingMixin, TemplateView):
    """Visible to every reader: a person's own jobs; the all-jobs monitor only for OPS."""

    template_name = "forecasting/jobs.html"
    section = "jobs"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, query = self.request.user, self.request.GET
        ops = user.has_perm(perms.MANAGE_JOBS)
        show_all = ops and query.get("scope") == "all"
        status = query.get("status") if query.get("status") in JobStatus.values else ""
        jobs = data.job_list(user=user, filters={"all": show_all, "status": status})
        context.update(paginate(self.request, jobs))
        context["rows"] = [job_row(job, user=user) for job in context["page"].object_list]
        context.update(show_all=show_all, status=status, status_choices=JobStatus.choices,
                       highlight=query.get("highlight", ""))  # fmt: skip
        if ops:
            context["metrics"] = services.forecast_job_metrics(actor=user)
            context["cleanup_form"] = CleanupForm(initial={"retention_days": settings.FORECAST_JOB_RETENTION_DAYS,
                                                           "dry_run": True})  # fmt: skip
        return context


class JobActionView(ActionView):
    action = ""
    action_permission = perms.MANAGE_JOBS

    def fallback_url(self) -> str:
        return reverse("forecasting:jobs") + "?scope=all"

    def perform(self):
        user = self.request.user
        job = data.job_get(user=user, job_id=self.kwargs["job_id"])
        if self.action == "cancel":
            job = services.forecast_job_cancel(actor=user, job=job)
            done = "cancelled" if job.status == JobStatus.CANCELLED else "asked to stop at its next checkpoint"
            messages.success(self.request, f"Job {job.job_id} {done}.")
        else:
            new = services.forecast_job_retry(actor=user, job=job)
            messages.success(self.request, f"Job {job.job_id} queued again as {new.job_id}.")
        return


class JobCleanupView(ActionView):
    action_permission = perms.MANAGE_JOBS

    def fallback_url(self) -> str:
        return reverse("forecasting:jobs") + "?scope=all"

    def perform(self):
        form = CleanupForm(self.request.POST)
        if not form.is_valid():
            messages.error(self.request, form_errors_text(form))
            return
        out = services.forecast_jobs_cleanup(
            actor=self.request.user, retention_days=form.cleaned_data["retention_days"],
            dry_run=form.cleaned_data["dry_run"],
        )  # fmt: skip
        n = out["deleted_jobs"]
        jobs = f"{n} finished job{'s' if n != 1 else ''}"
        if out["dry_run"]:
            messages.info(self.request, f"Dry run: {jobs} older than {out['retention_days']} days would be deleted.")
        else:
            messages.success(self.request, f"Deleted {jobs} older than {out['retention_days']} days.")
        return
