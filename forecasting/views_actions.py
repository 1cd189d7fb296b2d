"""The forecasting console's buttons: each POST calls one service and returns to the page it came from.

A refusal is the 403/404 page when it is one; any other refusal (bad parameters, insufficient data,
a state conflict) is an error message on the page returned to, never an error page.
"""

import datetime

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.generic import FormView, View

from forecasting import permissions as perms
from forecasting import services
from forecasting import views_data as data
from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION
from forecasting.forms import ConsensusForm, DetectAnomaliesForm, GenerateForm, PromoteForm
from forecasting.series import SeriesKey
from forecasting.views import ForecastingMixin, catalogue_rows, month, workbench_url
from genxsop import errors
from genxsop.console import ServiceFormMixin, raise_page_error, safe_next
from planning.selectors import product_get


def form_errors_text(form) -> str:
    """A form's errors as one sentence, for a message on the page returned to."""
    parts = []
    for name, errs in form.errors.items():
        label = form[name].label if name in form.fields else ""
        parts.extend(f"{label}: {e}" if label else str(e) for e in errs)
    return " ".join(parts)


def domain_error_text(exc: errors.DomainError) -> str:
    details = []
    for name, msgs in (exc.fields or {}).items():
        for message in msgs if isinstance(msgs, list | tuple) else [msgs]:
            details.append(f"{name}: {message}")
    return " ".join([exc.message, *details]) if details else exc.message


class ActionView(ForecastingMixin, View):
    """POST only: `perform()` calls the service and returns the URL to go back to."""

    http_method_names = ["post"]
    action_permission = ""

    def get_permission_required(self):
        return (perms.VIEW_RUN, self.action_permission) if self.action_permission else (perms.VIEW_RUN,)

    def fallback_url(self) -> str:
        return reverse("forecasting:workbench")

    def perform(self) -> str | None:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        try:
            target = self.perform()
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, domain_error_text(exc))
            target = None
        return HttpResponseRedirect(target or safe_next(request, self.fallback_url()))


class SeriesActionMixin:
    """The series named by the posted product, region and channel (the workbench's hidden fields)."""

    def series(self):
        post = self.request.POST
        product = product_get(user=self.request.user, pk=post.get("product"))
        region = (post.get("region") or TOTAL_REGION).strip()
        channel = (post.get("channel") or TOTAL_CHANNEL).strip()
        return product, SeriesKey(product.pk, region, channel)

    def fallback_url(self) -> str:
        post = self.request.POST
        return workbench_url(post.get("product"), post.get("region") or TOTAL_REGION,
                             post.get("channel") or TOTAL_CHANNEL, post.get("tab"))  # fmt: skip


class GenerateView(SeriesActionMixin, ActionView):
    """Model setup's three buttons: Generate now (API-FC-02), as a background job, for all active products
    (API-FC-04)."""

    action_permission = perms.GENERATE

    def get_permission_required(self):
        mode = self.request.POST.get("mode")
        return (perms.VIEW_RUN, perms.GENERATE if mode == "now" else perms.ADD_JOB)

    def perform(self):
        product, key = self.series()
        form = GenerateForm(self.request.POST, catalogue=catalogue_rows(None))
        back = workbench_url(product.pk, key.region, key.channel, "setup", model=self.request.POST.get("model_type"),
                             params=self.request.POST.get("model_params"))  # fmt: skip
        if not form.is_valid():
            messages.error(self.request, form_errors_text(form))
            return back
        options = {"horizon": form.cleaned_data["horizon"], "model_type": form.cleaned_data["model_type"],
                   "model_params": form.cleaned_data["model_params"]}  # fmt: skip
        mode = self.request.POST.get("mode")
        user = self.request.user
        if mode == "now":
            try:
                run = services.forecast_generate(actor=user, product=product, region=key.region, channel=key.channel,
                                                 **options)  # fmt: skip
            except errors.DomainError as exc:
                raise_page_error(exc)
                messages.error(self.request, domain_error_text(exc))
                return back
            messages.success(self.request, f"Forecast generated for {product.sku} with {run.model_used} "
                                           f"({run.horizon} month{'s' if run.horizon != 1 else ''}).")  # fmt: skip
            return workbench_url(product.pk, key.region, key.channel, "forecast", run=run.pk)
        if mode == "all":
            # Every active product's total: a detail series of one product says nothing about the others.
            job, _ = services.forecast_job_create(actor=user, all_active=True, **options)
            messages.success(self.request, f"Batch forecast job {job.job_id} queued for all active products.")
            return reverse("forecasting:jobs") + f"?highlight={job.job_id}"
        job, _ = services.forecast_job_create(actor=user, product_id=product.pk, region=key.region,
                                                    channel=key.channel, **options)  # fmt: skip
        messages.success(self.request, f"Forecast job {job.job_id} queued for {product.sku}.")
        return reverse("forecasting:jobs") + f"?highlight={job.job_id}"


class DetectAnomaliesView(SeriesActionMixin, ActionView):
    action_permission = perms.DETECT_ANOMALIES

    def perform(self):
        product, key = self.series()
        back = workbench_url(product.pk, key.region, key.channel, "historical")
        form = DetectAnomaliesForm(self.request.POST)
        if not form.is_valid():
            messages.error(self.request, form_errors_text(form))
            return back
        options = {"method": form.cleaned_data["method"]}
        if form.cleaned_data.get("threshold") is not None:
            options["threshold"] = float(form.cleaned_data["threshold"])
        found = services.anomalies_detect(actor=self.request.user, key=key, **options)
        count = len(found)
        messages.success(self.request, f"{count} anomal{'y' if count == 1 else 'ies'} found in the history of "
                                       f"{product.sku}.")  # fmt: skip
        return back


class RunActionMixin(SeriesActionMixin):
    def run(self):
        return data.run_get(user=self.request.user, pk=self.kwargs["pk"])

    def results_url(self, run) -> str:
        return workbench_url(run.product_id, run.region, run.channel, "results")


class PromoteView(RunActionMixin, ActionView):
    """Promote to demand plan (FC-33): the run's first `horizon` predictions become plan versions."""

    action_permission = perms.PROMOTE

    def perform(self):
        run = self.run()
        back = self.results_url(run)
        form = PromoteForm(self.request.POST, prefix=f"run{run.pk}")
        if not form.is_valid():
            messages.error(self.request, form_errors_text(form))
            return back
        out = services.forecast_promote(actor=self.request.user, product=run.product, selected_model=run.model_used,
                                        horizon=form.cleaned_data["horizon"], notes=form.cleaned_data["notes"],
                                        region=run.region, channel=run.channel, run_id=run.pk,
                                        set_consensus=form.cleaned_data["set_consensus"])  # fmt: skip
        count = out["records_promoted"]
        periods = ", ".join(_month_label(p) for p in out["periods"]) or "none"
        messages.success(self.request, f"Promoted {count} demand plan quantit{'y' if count == 1 else 'ies'} of "
                                       f"{run.product.sku} from {run.model_used} (periods: {periods}).")  # fmt: skip
        if out["skipped"]:
            skipped = "; ".join(f"{_month_label(s['period'])}: {s['reason']}" for s in out["skipped"])
            messages.warning(self.request, f"Skipped periods — {skipped}")
        return back


def _month_label(value) -> str:
    return datetime.date.fromisoformat(str(value)[:10]).strftime("%b %Y")


class DiscardRunView(RunActionMixin, ActionView):
    """Discard: every live result row of the run (FC-60)."""

    action_permission = perms.DISCARD_RESULT

    def perform(self):
        run = self.run()
        rows = data.run_results(user=self.request.user, run=run)
        # All of the run or none of it: the services discard one row at a time (at most the horizon).
        with transaction.atomic():
            for row in rows:
                services.result_discard(actor=self.request.user, result=row)
        count = len(rows)
        messages.success(self.request, f"Discarded the {run.model_used} results of {run.product.sku} "
                                       f"({count} row{'s' if count != 1 else ''}).")  # fmt: skip
        return self.results_url(run)


class DeleteProductResultsView(ActionView):
    """Delete all for product (API-FC-16)."""

    action_permission = perms.DISCARD_RESULT

    def perform(self):
        product = product_get(user=self.request.user, pk=self.kwargs["product_id"])
        out = services.results_discard_product(actor=self.request.user, product=product)
        messages.success(self.request, f"Deleted {out.get('forecasts_deleted', 0)} forecast results of {product.sku}; "
                                       f"{out.get('consensus_deleted', 0)} draft consensus rows removed, "
                                       f"{out.get('consensus_retained', 0)} kept.")  # fmt: skip
        return workbench_url(product.pk, tab="results")


# Consensus -------------------------------------------------------------------------------------------


class ConsensusFormView(ForecastingMixin, ServiceFormMixin, FormView):
    """New or Edit consensus quantity (UI-09 modal as a page): FRM-28 inputs with a live preview."""

    form_class = ConsensusForm
    template_name = "forecasting/consensus_form.html"

    def get_permission_required(self):
        return (perms.VIEW_RUN, perms.CHANGE_CONSENSUS if "pk" in self.kwargs else perms.ADD_CONSENSUS)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            try:
                self.load(request)
            except errors.DomainError as exc:
                raise_page_error(exc)
                raise
        return super().dispatch(request, *args, **kwargs)

    def load(self, request):
        user = request.user
        if "pk" in self.kwargs:
            self.row = data.consensus_get(user=user, pk=self.kwargs["pk"])
            if "edit" not in data.consensus_allowed_actions(user=user, row=self.row):
                raise errors.PermissionDenied("This consensus cannot be edited.")
            self.run_obj, self.period = self.row.forecast_run, self.row.period
        else:
            self.row = None
            self.run_obj = data.run_get(user=user, pk=request.GET.get("run") or request.POST.get("run"))
            period = request.GET.get("period") or request.POST.get("period") or ""
            self.period = month(period)
            if self.period is None:
                raise errors.NotFound("Choose one of the run's forecast periods.")
        self.prediction = next((r for r in data.run_results(user=user, run=self.run_obj) if r.period == self.period),
                               None)  # fmt: skip
        if self.prediction is None:
            raise errors.NotFound("Not one of the run's forecast periods.")

    def get_initial(self):
        if self.row is not None:
            names = ("baseline_qty", "sales_override_qty", "marketing_uplift_qty", "finance_adjustment_qty",
                     "constraint_cap_qty", "notes")  # fmt: skip
            return {**{n: getattr(self.row, n) for n in names}, "expected_version": self.row.version}
        return {"baseline_qty": self.prediction.predicted_qty}

    def back_url(self) -> str:
        run = self.run_obj
        return workbench_url(run.product_id, run.region, run.channel, "forecast", run=run.pk,
                             period=self.period.strftime("%Y-%m"))  # fmt: skip

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(row=self.row, run=self.run_obj, period=self.period, prediction=self.prediction,
                       back_url=self.back_url())  # fmt: skip
        return context

    def save(self, values):
        user = self.request.user
        expected = values.pop("expected_version", None)
        if self.row is None:
            return services.consensus_create(actor=user, data={
                **values, "forecast_run_audit_id": self.run_obj.pk, "period": self.period})  # fmt: skip
        return services.consensus_update(actor=user, consensus=self.row, data=values, expected_version=expected)

    @property
    def success_message(self):
        verb = "saved" if self.row is not None else "created"
        return "Consensus for {object.period:%b %Y} " + verb + " (final {object.final_consensus_qty:,.2f})."

    def success_url_for(self, obj) -> str:
        return self.back_url()


class ConsensusActionView(ActionView):
    """Propose, Approve, Return and Delete on the current consensus row (WF-20)."""

    action = ""
    _perms = {"propose": perms.PROPOSE_CONSENSUS, "approve": perms.APPROVE_CONSENSUS,
              "return": perms.APPROVE_CONSENSUS, "delete": perms.DELETE_CONSENSUS}  # fmt: skip
    _done = {"propose": "proposed", "approve": "approved", "return": "returned to draft", "delete": "deleted"}

    def get_permission_required(self):
        return (perms.VIEW_RUN, self._perms[self.action])

    def perform(self):
        user = self.request.user
        row = data.consensus_get(user=user, pk=self.kwargs["pk"])
        run = row.forecast_run
        back = workbench_url(run.product_id, run.region, run.channel, "forecast", run=run.pk,
                             period=row.period.strftime("%Y-%m"))  # fmt: skip
        note = (self.request.POST.get("reason") or "").strip()
        if self.action == "propose":
            services.consensus_propose(actor=user, consensus=row, comment=note)
        elif self.action == "approve":
            services.consensus_approve(actor=user, consensus=row, notes=note)
        elif self.action == "return":
            services.consensus_return(actor=user, consensus=row, comment=note)
        else:
            services.consensus_delete(actor=user, consensus=row)
        messages.success(self.request, f"Consensus for {row.period:%b %Y} {self._done[self.action]}.")
        return back
