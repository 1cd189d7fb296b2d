"""Console pages of the KPI Dashboard (UI-13): cards by category, a KPI's detail with its trend against
the target band, and the executive writes (record a manual value, targets and thresholds) and the
coordinator's refresh. Reads through planning.selectors.kpis, writes through planning.services.kpis."""

import datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from forecasting.series import add_months
from genxsop import errors
from genxsop.console import ConsolePermissionMixin, raise_page_error, safe_next
from planning import charts
from planning import permissions as perms
from planning.choices import KpiCategory, KpiDirection, KpiStatus
from planning.kpi_catalogue import MANUAL_CODES
from planning.kpi_maths import achievement_colour
from planning.selectors import kpis as sel
from planning.selectors.supply import planning_today
from planning.services import kpis as svc

DETAIL_MONTHS = (12, 24, 36)
TREND_ARROWS = {"improving": "▲", "declining": "▼", "stable": "▬"}


def format_value(value, unit: str) -> str:
    """Unit-aware display (CNV-03: percentages to 1 dp): 91.2 %, 48.0 days, 5.95 turns, +8.8 pp, $1,234."""
    if value is None:
        return "—"
    value = Decimal(value)
    if unit == "%":
        return f"{value:,.1f} %"
    if unit == "pp":
        return f"{value:+,.1f} pp"
    if unit == "days":
        return f"{value:,.1f} days"
    if unit == "turns":
        return f"{value:,.2f} turns"
    if unit == "currency":
        return f"${value:,.0f}"
    if unit == "ratio":
        return f"{value:,.4f}"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def target_text(kpi: dict) -> str:
    if kpi["direction"] == KpiDirection.TARGET_RANGE:
        if kpi["target_low"] is None or kpi["target_high"] is None:
            return "No target"
        low, high = format_value(kpi["target_low"], kpi["unit"]), format_value(kpi["target_high"], kpi["unit"])
        return f"{low} to {high}"
    if kpi["target"] is None:
        return "No target"
    if kpi["direction"] == KpiDirection.CLOSEST_TO_ZERO:
        return f"within ± {format_value(abs(kpi['target']), kpi['unit'])}"
    prefix = "≥" if kpi["direction"] == KpiDirection.HIGHER_IS_BETTER else "≤"
    return f"{prefix} {format_value(kpi['target'], kpi['unit'])}"


def _arrow(kpi: dict) -> str:
    """The arrow follows the value (up or down); its colour says whether that is good (the trend)."""
    if kpi["trend"] in (None, "stable") or kpi["previous_value"] is None:
        return TREND_ARROWS["stable"]
    return "▲" if kpi["value"] > kpi["previous_value"] else "▼"


def card_view(card: dict) -> dict:
    kpi = card["kpi"]
    achievement = kpi["achievement_pct"]
    bar = None
    if achievement is not None:
        bar = {"width": round(float(min(max(achievement, Decimal(0)), Decimal(100))), 1),
               "colour": achievement_colour(achievement), "text": f"{achievement:,.1f} %"}  # fmt: skip
    return {
        **kpi, "display": format_value(kpi["value"], kpi["unit"]), "target_display": target_text(kpi),
        "variance_display": "—" if kpi["variance_pct"] is None else f"{kpi['variance_pct']:+,.1f} %",
        "arrow": _arrow(kpi), "bar": bar, "status_label": KpiStatus(kpi["status"]).label,
        "spark": charts.sparkline([v for _, v in card["history"]]) if len(card["history"]) > 1 else None,
    }  # fmt: skip


class KpiRecordForm(forms.Form):
    """UI-13 Record KPI: a manual value (a new name creates a custom KPI)."""

    metric_name = forms.SlugField(max_length=100, label="Name")
    metric_category = forms.ChoiceField(choices=[("", "From the definition"), *KpiCategory.choices], required=False,
                                        label="Category")  # fmt: skip
    period = forms.CharField(label="Period", help_text="YYYY-MM")
    value = forms.DecimalField(max_digits=16, decimal_places=4)
    target = forms.DecimalField(max_digits=16, decimal_places=4, required=False)
    unit = forms.CharField(max_length=20, required=False)


class KpiDefinitionForm(forms.Form):
    name = forms.CharField(max_length=200)
    target = forms.DecimalField(max_digits=16, decimal_places=4, required=False)
    target_low = forms.DecimalField(max_digits=16, decimal_places=4, required=False)
    target_high = forms.DecimalField(max_digits=16, decimal_places=4, required=False)
    warning_threshold_pct = forms.DecimalField(max_digits=6, decimal_places=2, label="Warning above (% adverse)")
    critical_threshold_pct = forms.DecimalField(max_digits=6, decimal_places=2, label="Critical above (% adverse)")


class KpiMixin(ConsolePermissionMixin):
    permission_required = perms.VIEW_KPI_METRIC


def _flags(user) -> dict:
    return {"can_record": user.has_perm(perms.ADD_KPI_METRIC), "can_refresh": user.has_perm(perms.REFRESH_KPI),
            "can_edit_definition": user.has_perm(perms.CHANGE_KPI_DEFINITION)}  # fmt: skip


class KpiDashboardView(KpiMixin, TemplateView):
    """Cards of the latest value of every KPI, grouped by category; `?category=` narrows to one."""

    template_name = "planning/kpi/kpi_dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        category = self.request.GET.get("category", "")
        if category not in KpiCategory.values:
            category = ""
        cards = [card_view(c) for c in sel.kpi_cards(user=user, category=category or None)]
        groups = []
        for value, label in KpiCategory.choices:
            items = [c for c in cards if c["metric_category"] == value]
            if items:
                groups.append({"category": value, "label": label, "cards": items})
        context.update(
            groups=groups, category=category, categories=KpiCategory.choices, **_flags(user),
            record_form=KpiRecordForm(initial={"period": f"{add_months(planning_today(), -1):%Y-%m}"}),
            manual_codes=MANUAL_CODES, export_query=f"category={category}&" if category else "",
        )  # fmt: skip
        return context


class KpiDetailView(KpiMixin, TemplateView):
    """One KPI: the trend chart of its values against the target (band) over 12, 24 or 36 months, the
    values as a table, and the inputs of the computed ones."""

    template_name = "planning/kpi/kpi_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        try:
            definition = sel.kpi_definition_get(user=user, code=self.kwargs["code"])
        except errors.DomainError as exc:
            raise_page_error(exc)
            raise
        try:
            months = int(self.request.GET.get("months", 12))
        except ValueError:
            months = 12
        months = months if months in DETAIL_MONTHS else 12
        newest = sel.kpi_metric_list(user=user, filters={"metric_name": definition.code}).first()
        last = newest.period if newest else add_months(planning_today().replace(day=1), -1)
        first = add_months(last, -(months - 1))
        rows = sel.kpi_series(user=user, names=[definition.code], first=first, last=last)[definition.code]
        definitions = {definition.code: definition}
        reps = [{**sel.kpi_representation(r, definitions)} for r in rows]
        for rep in reps:
            rep["display"] = format_value(rep["value"], rep["unit"] or definition.unit)
            rep["variance_display"] = "—" if rep["variance_pct"] is None else f"{rep['variance_pct']:+,.1f} %"
            rep["status_label"] = KpiStatus(rep["status"]).label
            rep["achievement_display"] = "—" if rep["achievement_pct"] is None else f"{rep['achievement_pct']:,.1f} %"
        axis = charts.month_range(first, last)
        chart = charts.kpi_band_chart(
            axis, {r["period"]: r["value"] for r in reps},
            {r["period"]: r["target"] for r in reps if r["target"] is not None},
            low=definition.target_low if definition.direction == KpiDirection.TARGET_RANGE else None,
            high=definition.target_high if definition.direction == KpiDirection.TARGET_RANGE else None,
        )  # fmt: skip
        latest = reps[-1] if reps else None
        context.update(
            definition=definition, months=months, month_choices=DETAIL_MONTHS, rows=list(reversed(reps)),
            latest=latest, chart=chart, legend=[("kpi", "Value")]
            + ([("target", "Target")] if any(r["target"] is not None for r in reps) else [])
            + ([("band", "Target range")] if chart.bars else []),
            target_display=target_text({"direction": definition.direction, "target": definition.target,
                                        "target_low": definition.target_low, "target_high": definition.target_high,
                                        "unit": definition.unit}),
            definition_form=KpiDefinitionForm(initial={f: getattr(definition, f)
                                                       for f in KpiDefinitionForm.base_fields}),
            **_flags(user),
        )  # fmt: skip
        return context


def _error_text(exc: errors.DomainError) -> str:
    details = [" ".join(str(m) for m in msgs) for msgs in (exc.fields or {}).values()]
    return " ".join([exc.message, *details]) if details and exc.message not in details else exc.message


class _KpiPost(KpiMixin, View):
    http_method_names = ["post"]

    def done(self, request, fallback: str):
        return HttpResponseRedirect(safe_next(request, fallback))

    def post(self, request, *args, **kwargs):
        fallback = reverse("planning:kpi_dashboard")
        try:
            text = self.perform(request)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, _error_text(exc))
            return self.done(request, fallback)
        if text:
            messages.success(request, text)
        return self.done(request, fallback)


class KpiRecordView(_KpiPost):
    permission_required = perms.ADD_KPI_METRIC

    def perform(self, request) -> str:
        form = KpiRecordForm(request.POST)
        if not form.is_valid():
            fields = {name: [str(m) for m in msgs] for name, msgs in form.errors.items()}
            raise errors.ValidationFailed("Check the KPI values.", fields=fields)
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        row = svc.kpi_metric_create(actor=request.user, data=data)
        return f"{row.metric_name} recorded for {row.period:%b %Y}."


class KpiRefreshView(_KpiPost):
    permission_required = perms.REFRESH_KPI

    def perform(self, request) -> str:
        body, queued = svc.kpi_refresh_request(actor=request.user, period_from=request.POST.get("period_from") or None,
                                               period_to=request.POST.get("period_to") or None)  # fmt: skip
        if queued:
            return f"The refresh of {len(body['periods'])} months was queued (task {body['task_id']})."
        periods = ", ".join(datetime.date.fromisoformat(p).strftime("%b %Y") for p in body["periods"]) or "no month"
        return f"KPIs refreshed for {periods}: {body['kpis_written']} values."


class KpiDefinitionEditView(_KpiPost):
    permission_required = perms.CHANGE_KPI_DEFINITION

    def perform(self, request) -> str:
        form = KpiDefinitionForm(request.POST)
        if not form.is_valid():
            fields = {name: [str(m) for m in msgs] for name, msgs in form.errors.items()}
            raise errors.ValidationFailed("Check the targets and thresholds.", fields=fields)
        definition = svc.kpi_definition_update(actor=request.user, code=self.kwargs["code"], data=form.cleaned_data)
        return f"{definition.name}: targets and thresholds saved."

    def done(self, request, fallback: str):
        return HttpResponseRedirect(safe_next(request, reverse("planning:kpi_detail", args=[self.kwargs["code"]])))


class KpiMetricDeleteView(_KpiPost):
    permission_required = perms.DELETE_KPI_METRIC

    def perform(self, request) -> str:
        row = sel.kpi_metric_get(user=request.user, pk=self.kwargs["pk"])
        svc.kpi_metric_delete(actor=request.user, metric=row)
        return f"{row.metric_name} of {row.period:%b %Y} deleted."
