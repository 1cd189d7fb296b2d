"""Console pages for inventory (UI-08 overview and stock): list with health and alerts, detail with
history, edit and policy override. Reads through planning.selectors, writes through planning.services."""

from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from genxsop import errors
from genxsop.console import (
    ConsolePermissionMixin,
    ListMixin,
    SelectedObjectMixin,
    ServiceFormMixin,
    raise_page_error,
)
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm
from governance.selectors import audit_history
from planning import permissions as perms
from planning import selectors, services
from planning.choices import (
    EXCEPTION_TRANSITIONS,
    ExceptionStatus,
    InventoryStatus,
    PolicyRunMethod,
    RecommendationStatus,
)
from planning.forms import InventoryForm, InventoryOverrideForm, category_options
from planning.selectors import inventory_analytics as analytics
from planning.services import exceptions as exception_services
from planning.services import inventory_analytics as frm
from planning.services import optimization as optimization_services
from planning.views import _history_rows

ALERTS_SHOWN = 10


def _write_flags(user, row) -> dict:
    """Which inventory writes `user` may offer on `row` (role and change scope; no query once cached)."""
    in_scope = object_in_scope(user, row, change=True)
    return {
        "can_edit": in_scope and user.has_perm(perms.CHANGE_INVENTORY),
        "can_override": in_scope and user.has_perm(perms.OVERRIDE_INVENTORY_POLICY),
    }


# Shown elsewhere on the page (the row's key, the actor of each event) or internal to the write path.
_HISTORY_HIDDEN = frozenset({"product_id", "location_id", "updated_by_id"})


def _history(user, row) -> list[dict]:
    """The row's audit events as History tab rows, without the fields that never say anything new."""
    events = list(audit_history(user=user, target_type="inventory", target_id=row.pk))
    for event in events:  # in memory only: the audit rows are never written back
        for attr in ("before", "after"):
            values = getattr(event, attr)
            if values is not None:
                setattr(event, attr, {k: v for k, v in values.items() if k not in _HISTORY_HIDDEN})
        event.changed_fields = [f for f in event.changed_fields or [] if f not in _HISTORY_HIDDEN]
    return _history_rows(events, {})


class InventoryMixin(ConsolePermissionMixin):
    permission_required = perms.VIEW_INVENTORY


class InventoryListView(ListMixin, InventoryMixin, TemplateView):
    """Health cards and alerts over the caller's scope, then the filtered stock grid."""

    template_name = "planning/inventory_list.html"
    list_selector = staticmethod(selectors.inventory_list)
    filter_keys = ("search", "category_id", "location", "status")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["health"] = selectors.inventory_health(user=user)
        context["health_cards"] = [
            (status, label, context["health"][f"{status}_count"], context["health"][f"{status}_pct"])
            for status, label in InventoryStatus.choices
        ]
        alerts = selectors.inventory_alerts(user=user, limit=ALERTS_SHOWN)
        context["alerts"] = [
            (status, InventoryStatus(status).label, rows, context["health"][f"{status}_count"])
            for status, rows in alerts.items()
        ]
        context["status_choices"] = InventoryStatus.choices
        context["category_choices"] = category_options(selectors.category_list(user=user))
        context["location_choices"] = [(loc.code, loc.name) for loc in selectors.location_list(user=user)]
        context["rows"] = [{"row": row, **_write_flags(user, row)} for row in context["page"].object_list]
        tabs = _visible_tabs(user)
        tab = self.request.GET.get("tab")
        context["tab"] = tab if tab in tabs else "stock"
        context["analytics_tabs"] = tabs.items()
        context.update(_optimization_flags(user))
        if context["tab"] == "stock":
            context.update(_overview_context(user))
        else:
            context.update(_analytics_context(self.request, context["tab"]))
        return context


# UI-08 tabs next to the stock grid; each reads only what it shows.
ANALYTICS_TABS = {
    "stock": "Stock",
    "runs": "Optimization Runs",
    "recommendations": "Recommendations",
    "exceptions": "Exceptions",
    "rebalance": "Rebalance",
    "service": "Service Level",
    "quality": "Data Quality",
    "capital": "Working Capital",
    "assessment": "Assessment",
}
SERVICE_TARGETS = ("0.90", "0.95", "0.97", "0.99")
SERVICE_ROWS_SHOWN = 500


def _exception_rows(request) -> list[dict]:
    user, today = request.user, timezone.localdate()
    filters = {k: request.GET[k] for k in ("status", "overdue") if request.GET.get(k)}
    rows = []
    for exc in analytics.policy_exception_list(user=user, filters=filters)[:200]:
        found = None
        if exc.status in ("open", "in_progress"):
            found = frm.escalation(severity=exc.severity, due_date=exc.due_date, today=today)
        actions = exception_services.policy_exception_allowed_actions(user, exc)
        targets = [(to, label) for to, label in ExceptionStatus.choices
                   if to in EXCEPTION_TRANSITIONS[ExceptionStatus(exc.status)]]  # fmt: skip
        rows.append({"exception": exc, "escalation": found, "can_work": bool(actions), "targets": targets,
                     "full": user.has_perm(perms.CHANGE_POLICY_EXCEPTION)})  # fmt: skip
    return rows


def _service_level(request) -> dict:
    user = request.user
    out = {"service_rows": selectors.inventory_list(user=user)[:SERVICE_ROWS_SHOWN], "service_targets": SERVICE_TARGETS,
           "service_query": request.GET}  # fmt: skip
    if not request.GET.get("inventory_id"):
        return out
    target = request.GET.get("target") if request.GET.get("target") in SERVICE_TARGETS else "0.95"
    method = "monte_carlo" if request.GET.get("method") == "monte_carlo" else "analytical"
    try:
        runs = min(max(int(request.GET.get("runs") or 5000), 100), 50000)
        out["service_result"] = analytics.inventory_service_level(user=user, params={
            "inventory_id": int(request.GET["inventory_id"]), "target_service_level": float(target),
            "method": method, "simulation_runs": runs,
        })  # fmt: skip
    except (ValueError, errors.ValidationFailed, errors.NotFound):
        out["service_error"] = "Choose an inventory row in your scope."
    return out


def _analytics_context(request, tab: str) -> dict:
    user = request.user
    if tab == "runs":
        return _runs_context(request)
    if tab == "recommendations":
        return _recommendations_context(request)
    if tab == "exceptions":
        if not user.has_perm(perms.VIEW_POLICY_EXCEPTION):
            return {"exceptions_hidden": True}
        return {"exception_rows": _exception_rows(request), "escalations": analytics.inventory_escalations(user=user),
                "exception_status_choices": ExceptionStatus.choices}  # fmt: skip
    if tab == "rebalance":
        return {"rebalance": analytics.inventory_rebalance(user=user)}
    if tab == "service":
        return _service_level(request)
    if tab == "quality":
        return {"quality": analytics.inventory_data_quality(user=user)}
    if tab == "capital":
        return {"capital": analytics.inventory_working_capital(user=user)}
    return {"scorecard": analytics.inventory_assessment_scorecard(user=user)}


class PolicyExceptionForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Keep status"), *ExceptionStatus.choices], required=False)
    notes = forms.CharField(required=False, max_length=1000)
    resolution_note = forms.CharField(required=False, max_length=2000)
    due_date = forms.DateField(required=False)


class PolicyExceptionUpdateView(InventoryMixin, View):
    """The status/notes form of the Exceptions tab; the service decides who may change what (ACC-04)."""

    permission_required = perms.VIEW_POLICY_EXCEPTION
    http_method_names = ["post"]

    def post(self, request, pk):
        exc = analytics.policy_exception_get(user=request.user, pk=pk)
        form = PolicyExceptionForm(request.POST)
        back = reverse("planning:inventory_list") + "?tab=exceptions"
        if not form.is_valid():
            messages.error(request, "The exception change is not valid.")
            return redirect(back)
        data = {k: v for k, v in form.cleaned_data.items() if k in request.POST and v not in ("", None)}
        if "notes" in request.POST:
            data["notes"] = form.cleaned_data["notes"]
        try:
            exception_services.policy_exception_update(actor=request.user, exception=exc, data=data)
        except errors.DomainError as error:
            raise_page_error(error)
            messages.error(request, error.message)
            return redirect(back)
        messages.success(request, f"Exception on {exc.inventory.product.sku} at {exc.inventory.location.code} saved.")
        return redirect(back)


class InventoryObjectMixin(SelectedObjectMixin):
    object_selector = staticmethod(selectors.inventory_get)
    context_object_name = "row"


class InventoryDetailView(InventoryMixin, InventoryObjectMixin, TemplateView):
    template_name = "planning/inventory_detail.html"
    tabs = ("details", "history")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        tab = self.request.GET.get("tab")
        context["tab"] = tab if tab in self.tabs else "details"
        if context["tab"] == "history":
            context["history"] = _history(user, self.object)
        context.update(_write_flags(user, self.object))
        return context


class InventoryWriteMixin(InventoryMixin, InventoryObjectMixin, ServiceFormMixin):
    """A form on one row; refused with the 403 page unless the row lies in the caller's change scope."""

    write_permission = ""

    def get_permission_required(self):
        return (perms.VIEW_INVENTORY, self.write_permission)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            try:
                require_perm(request.user, self.write_permission, self.object)
            except errors.DomainError as exc:
                raise_page_error(exc)
                raise
        return super().dispatch(request, *args, **kwargs)

    def success_url_for(self, obj) -> str:
        return reverse("planning:inventory_detail", args=[obj.pk])


class InventoryEditView(InventoryWriteMixin, FormView):
    """Quantities, dates and policy levels; a version changed since the form was opened writes nothing."""

    write_permission = perms.CHANGE_INVENTORY
    form_class = InventoryForm
    template_name = "planning/inventory_form.html"
    success_message = "Inventory {object.product.sku} at {object.location.code} saved."

    def get_initial(self):
        row = self.object
        names = [*services.INVENTORY_QUANTITY_FIELDS, *services.INVENTORY_POLICY_FIELDS]
        return {**{name: getattr(row, name) for name in names}, "expected_version": row.version}

    def save(self, data):
        expected = data.pop("expected_version")
        return services.inventory_update(
            actor=self.request.user, inventory=self.object, data=data, expected_version=expected
        )


class InventoryOverrideView(InventoryWriteMixin, FormView):
    write_permission = perms.OVERRIDE_INVENTORY_POLICY
    form_class = InventoryOverrideForm
    template_name = "planning/inventory_override.html"
    success_message = "Policy of {object.product.sku} at {object.location.code} overridden."

    def get_initial(self):
        row = self.object
        return {**{name: getattr(row, name) for name in services.INVENTORY_POLICY_FIELDS},
                "expected_version": row.version}  # fmt: skip

    def save(self, data):
        expected = data.pop("expected_version")
        reason = data.pop("reason")
        return services.inventory_policy_override(
            actor=self.request.user, inventory=self.object, data=data, reason=reason, expected_version=expected
        )


# Optimisation runs and policy recommendations (UI-08 Stock actions, Optimization Runs, Recommendations) -------

# Tabs that need more than reading inventory.
_TAB_PERMISSIONS = {"runs": perms.VIEW_POLICY_RUN, "recommendations": perms.VIEW_POLICY_RECOMMENDATION}
RUNS_SHOWN = 50
RECOMMENDATIONS_SHOWN = 200
FUNNEL_WIDTH = 240


def _visible_tabs(user) -> dict:
    return {key: label for key, label in ANALYTICS_TABS.items()
            if key not in _TAB_PERMISSIONS or user.has_perm(_TAB_PERMISSIONS[key])}  # fmt: skip


def _optimization_flags(user) -> dict:
    return {
        "can_run_optimization": user.has_perm(perms.ADD_POLICY_RUN),
        "can_generate_recommendations": user.has_perm(perms.ADD_POLICY_RECOMMENDATION),
        "can_auto_apply": user.has_perm(perms.CHANGE_POLICY_RECOMMENDATION),
        "run_methods": PolicyRunMethod.choices,
    }


def _overview_context(user) -> dict:
    """Control-tower cards and the recommendation funnel (FRM-14) above the stock grid."""
    if not user.has_perm(perms.VIEW_POLICY_RECOMMENDATION):
        return {}
    summary = analytics.inventory_control_tower_summary(user=user)
    stages = [("pending", "Pending"), ("accepted", "Accepted"), ("applied", "Applied"), ("rejected", "Rejected")]
    counts = [summary[f"{key}_recommendations"] for key, _ in stages]
    top = max(counts) or 1
    funnel = [{"key": key, "label": label, "value": n, "y": i * 28, "width": round(n / top * FUNNEL_WIDTH, 1)}
              for i, ((key, label), n) in enumerate(zip(stages, counts, strict=True))]  # fmt: skip
    return {"control_tower": summary, "funnel": funnel, "funnel_height": len(funnel) * 28}


def _runs_context(request) -> dict:
    user = request.user
    runs = analytics.policy_run_list(user=user, limit=RUNS_SHOWN)
    out = {"runs": runs}
    run_id = request.GET.get("run")
    if run_id:
        try:
            run = analytics.policy_run_get(user=user, run_id=run_id)
        except errors.NotFound as exc:
            raise_page_error(exc)
        out["run"] = run
        out["run_parameters"] = sorted(run.parameters.items())
        out["run_rows"] = run.result.get("rows", [])
        out["run_exceptions"] = list(analytics.policy_exception_list(user=user).filter(run=run))
    return out


class AutoApplyForm(forms.Form):
    min_confidence = forms.DecimalField(min_value=0, max_value=1, initial=Decimal("0.85"), decimal_places=4)
    max_demand_pressure = forms.DecimalField(min_value=0, max_value=10, initial=Decimal("1.2"), decimal_places=4)
    max_items = forms.IntegerField(min_value=1, max_value=1000, initial=100)
    min_quality_score = forms.DecimalField(min_value=0, max_value=1, initial=Decimal("0.60"), decimal_places=4)


def _recommendations_context(request) -> dict:
    user = request.user
    status = request.GET.get("status", "")
    filters = {"status": status} if status in RecommendationStatus.values else {}
    recs = list(analytics.policy_recommendation_list(user=user, filters=filters)[:RECOMMENDATIONS_SHOWN])
    out = {
        "recommendation_rows": [{"rec": rec, "actions": optimization_services.recommendation_allowed_actions(user, rec)}
                                for rec in recs],
        "recommendation_status_choices": RecommendationStatus.choices,
        "recommendation_status": status,
    }  # fmt: skip
    if request.GET.get("preview") and user.has_perm(perms.CHANGE_POLICY_RECOMMENDATION):
        form = AutoApplyForm(request.GET)
        if form.is_valid():
            preview = optimization_services.policy_recommendation_auto_apply(actor=user, dry_run=True,
                                                                             **form.cleaned_data)  # fmt: skip
            out.update(auto_preview=preview, auto_params=form.cleaned_data)
        else:
            out["auto_errors"] = form.errors
    return out


class PolicyRunForm(forms.Form):
    method = forms.ChoiceField(choices=PolicyRunMethod.choices)
    service_level_target = forms.DecimalField(min_value=Decimal("0.80"), max_value=Decimal("0.999"),
                                              initial=Decimal("0.95"), decimal_places=4)  # fmt: skip
    lead_time_days = forms.DecimalField(min_value=1, max_value=365, initial=14, decimal_places=2)
    review_period_days = forms.DecimalField(min_value=1, max_value=90, initial=7, decimal_places=2)
    moq_units = forms.DecimalField(min_value=0, required=False, decimal_places=2)
    lot_size_units = forms.DecimalField(min_value=Decimal("0.01"), required=False, decimal_places=2)
    capacity_max_units = forms.DecimalField(min_value=0, required=False, decimal_places=2)
    lead_time_variability_days = forms.DecimalField(min_value=0, max_value=365, required=False, decimal_places=2)


class GenerateForm(forms.Form):
    min_confidence = forms.DecimalField(min_value=0, max_value=1, initial=Decimal("0.55"), decimal_places=4)
    max_items = forms.IntegerField(min_value=1, max_value=500, initial=100)
    enforce_quality_gate = forms.BooleanField(required=False, initial=True)
    min_quality_score = forms.DecimalField(min_value=0, max_value=1, initial=Decimal("0.60"), decimal_places=4)


def _form_error(request, form) -> None:
    parts = [f"{name.replace('_', ' ')}: {' '.join(msgs)}" for name, msgs in form.errors.items()]
    messages.error(request, "Not run. " + "; ".join(parts))


class _OptimizationPostView(InventoryMixin, View):
    http_method_names = ["post"]
    back_tab = "stock"

    def back(self, **query) -> str:
        query = {"tab": self.back_tab, **query} if self.back_tab != "stock" else query
        url = reverse("planning:inventory_list")
        return f"{url}?{urlencode(query)}" if query else url

    def call(self, fn, **kwargs):
        try:
            return fn(actor=self.request.user, **kwargs), None
        except errors.SelfApprovalForbidden as error:
            return None, error.message
        except errors.DomainError as error:
            raise_page_error(error)
            return None, error.message


class PolicyRunCreateView(_OptimizationPostView):
    permission_required = perms.ADD_POLICY_RUN
    back_tab = "runs"

    def post(self, request):
        form = PolicyRunForm(request.POST)
        if not form.is_valid():
            _form_error(request, form)
            return redirect(reverse("planning:inventory_list"))
        run, problem = self.call(optimization_services.policy_run_create, params=form.cleaned_data)
        if problem:
            messages.error(request, problem)
            return redirect(reverse("planning:inventory_list"))
        if run.status == "failed":
            messages.error(request, f"Optimisation run failed: {run.error}")
        else:
            messages.success(request, f"Optimisation run completed: {run.processed_count} processed, "
                                      f"{run.updated_count} updated, {run.skipped_count} skipped, "
                                      f"{run.exception_count} exceptions.")  # fmt: skip
        return redirect(self.back(run=run.run_id))


class RecommendationGenerateView(_OptimizationPostView):
    permission_required = perms.ADD_POLICY_RECOMMENDATION
    back_tab = "recommendations"

    def post(self, request):
        form = GenerateForm(request.POST)
        if not form.is_valid():
            _form_error(request, form)
            return redirect(reverse("planning:inventory_list"))
        recs, problem = self.call(optimization_services.policy_recommendation_generate, **form.cleaned_data)
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, f"{len(recs)} recommendation{'s' if len(recs) != 1 else ''} generated.")
        return redirect(self.back(status="pending"))


class RecommendationAutoApplyView(_OptimizationPostView):
    """Preview (a dry run shown on the Recommendations tab) or apply with the same guardrails."""

    permission_required = perms.CHANGE_POLICY_RECOMMENDATION
    back_tab = "recommendations"

    def post(self, request):
        form = AutoApplyForm(request.POST)
        if not form.is_valid():
            _form_error(request, form)
            return redirect(reverse("planning:inventory_list"))
        if request.POST.get("confirm") != "apply":
            return redirect(self.back(preview=1, **{k: str(v) for k, v in form.cleaned_data.items()}))
        out, problem = self.call(optimization_services.policy_recommendation_auto_apply, **form.cleaned_data)
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, f"{out['applied_count']} recommendation{'s' if out['applied_count'] != 1 else ''}"
                                      f" applied automatically; {out['skipped_count']} skipped.")  # fmt: skip
        return redirect(self.back(status="applied"))


class RecommendationDecisionView(_OptimizationPostView):
    """Approve, Accept & Apply or Reject one recommendation; the service enforces maker-checker."""

    permission_required = perms.CHANGE_POLICY_RECOMMENDATION
    back_tab = "recommendations"

    def post(self, request, pk):
        try:
            rec = analytics.policy_recommendation_get(user=request.user, pk=pk)
        except errors.NotFound as exc:
            raise_page_error(exc)
        action, notes = request.POST.get("action"), (request.POST.get("notes") or "").strip()[:2000]
        if action == "approve":
            done, problem = self.call(optimization_services.policy_recommendation_approve, recommendation=rec,
                                      notes=notes)  # fmt: skip
        elif action in ("apply", "reject"):
            decision = "accepted" if action == "apply" else "rejected"
            done, problem = self.call(optimization_services.policy_recommendation_decide, recommendation=rec,
                                      decision=decision, apply_changes=True, notes=notes)  # fmt: skip
        else:
            done, problem = None, "Choose approve, apply or reject."
        label = f"{rec.inventory.product.sku} at {rec.inventory.location.code}"
        if problem:
            messages.error(request, f"{label}: {problem}")
        else:
            messages.success(request, f"Recommendation for {label} {done.status}.")
        return redirect(self.back(status=request.POST.get("status_filter", "")))


urlpatterns = [
    path("inventory/", InventoryListView.as_view(), name="inventory_list"),
    path("inventory/optimization/run/", PolicyRunCreateView.as_view(), name="inventory_run_create"),
    path(
        "inventory/recommendations/generate/",
        RecommendationGenerateView.as_view(),
        name="inventory_recommendations_generate",
    ),
    path(
        "inventory/recommendations/auto-apply/",
        RecommendationAutoApplyView.as_view(),
        name="inventory_recommendations_auto_apply",
    ),
    path(
        "inventory/recommendations/<int:pk>/decision/",
        RecommendationDecisionView.as_view(),
        name="inventory_recommendation_decision",
    ),
    path("inventory/exceptions/<int:pk>/", PolicyExceptionUpdateView.as_view(), name="inventory_exception_update"),
    path("inventory/<int:pk>/", InventoryDetailView.as_view(), name="inventory_detail"),
    path("inventory/<int:pk>/edit/", InventoryEditView.as_view(), name="inventory_edit"),
    path("inventory/<int:pk>/override/", InventoryOverrideView.as_view(), name="inventory_override"),
]
