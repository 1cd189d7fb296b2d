"""Forecasting → Accuracy (FC-51…55) and Anomalies (FC-56, WF-22) console pages."""

import datetime

from django.contrib import messages
from django.urls import reverse
from django.utils.http import urlencode
from django.views.generic import TemplateView

from forecasting import charts, services
from forecasting import permissions as perms
from forecasting import views_data as data
from forecasting.choices import AccuracyLayer, AnomalySeverity, AnomalyStatus
from forecasting.forms import AnomalyTriageForm
from forecasting.models import MAX_HORIZON
from forecasting.selectors import accuracy as acc
from forecasting.views import ForecastingMixin, month, workbench_url
from forecasting.views_actions import ActionView, form_errors_text
from genxsop.console import paginate, safe_next
from planning.forms import category_options
from planning.selectors import category_list
from planning.selectors.review import products_active_first

LAGS = (1, 3)
TREND_MONTHS = 12
LAYERS = [(layer.value, layer.label) for layer in AccuracyLayer]
STREAM_LABELS = {"baseline": "Baseline", "sales_override": "+ Sales", "marketing_uplift": "+ Marketing",
                 "finance_adjustment": "+ Finance"}  # fmt: skip


class AccuracyView(ForecastingMixin, TemplateView):
    template_name = "forecasting/accuracy.html"
    section = "accuracy"
    permission_required = perms.VIEW_ACCURACY

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, query = self.request.user, self.request.GET
        try:
            lag = int(query.get("lag") or acc.default_lag())
        except ValueError:
            lag = acc.default_lag()
        lag = lag if 1 <= lag <= MAX_HORIZON else acc.default_lag()
        layer = query.get("layer") if query.get("layer") in dict(LAYERS) or query.get("layer") == "all" else "all"
        products = list(products_active_first(user=user).values_list("pk", "sku", "name"))
        known = {p[0] for p in products}
        try:
            product_id = int(query.get("product") or 0)
        except ValueError:
            product_id = 0
        product_id = product_id if product_id in known else None
        try:
            category_id = int(query.get("category") or 0) or None
        except ValueError:
            category_id = None
        period_from, period_to = month(query.get("from")), month(query.get("to"))
        context.update(lag=lag, lags=sorted({*LAGS, lag}), layer=layer, layers=LAYERS, products=products,
                       product_id=product_id, category_id=category_id,
                       category_choices=category_options(category_list(user=user)),
                       period_from=period_from, period_to=period_to)  # fmt: skip
        rows = acc.accuracy_report(user=user, product_id=product_id, lag=lag, layer=layer, period_from=period_from,
                                   period_to=period_to)  # fmt: skip
        context["report_rows"] = sorted(rows, key=lambda r: ([v for v, _ in LAYERS].index(r["layer"])
                                                             if r["layer"] in dict(LAYERS) else 9,
                                                             r.get("score") is None, r.get("score") or 0))  # fmt: skip
        # WAPE trend: one line per layer over the last closed months.
        trend = acc.accuracy_trend(user=user, product_id=product_id, lag=lag, layer="all", months=TREND_MONTHS)
        context["trend_rows"] = trend
        if trend:
            months = sorted({r["period"] for r in trend})
            series = []
            for code, label in LAYERS:
                values = {r["period"]: r["wape"] for r in trend if r["layer"] == code and r["wape"] is not None}
                if values:
                    series.append({"key": f"layer-{code}", "label": label, "values": values})
            if series:
                chart = charts.line_chart(months, series)
                for tick in chart.y_ticks:
                    tick["label"] += "%"
                context["trend_chart"] = chart
                context["trend_legend"] = [(s["key"], s["label"]) for s in series]
        fva = acc.fva_report(user=user, product_id=product_id, category_id=category_id, lag=lag,
                             period_from=period_from, period_to=period_to)  # fmt: skip
        context["fva"] = fva
        labels = {**dict(LAYERS), **STREAM_LABELS}
        steps = [{**r, "key": f"layer-{r['step']}", "label": labels.get(r["step"], r["step"]), "value": r["wape"],
                  "fva": r.get("fva_vs_previous_pct")} for r in fva.get("stair_steps", [])]  # fmt: skip
        context["fva_steps"] = steps
        if any(s["value"] is not None for s in steps):
            context["fva_chart"] = charts.bar_steps_chart(steps)
        return context


def _to_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


# Anomalies ---------------------------------------------------------------------------------------------

TRIAGE_STATUS = {"acknowledge": AnomalyStatus.ACKNOWLEDGED, "correct": AnomalyStatus.CORRECTED,
                 "dismiss": AnomalyStatus.DISMISSED, "reopen": AnomalyStatus.OPEN}  # fmt: skip
TRIAGE_LABELS = {"acknowledge": "Acknowledge", "correct": "Correct", "dismiss": "Dismiss", "reopen": "Reopen"}


class AnomalyListView(ForecastingMixin, TemplateView):
    template_name = "forecasting/anomalies.html"
    section = "anomalies"
    permission_required = perms.VIEW_ANOMALY

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, query = self.request.user, self.request.GET
        filters = {
            "status": query.get("status") if query.get("status") in AnomalyStatus.values else "",
            "severity": query.get("severity") if query.get("severity") in AnomalySeverity.values else "",
            "product_id": query.get("product") if (query.get("product") or "").isdigit() else "",
        }
        context.update(paginate(self.request, data.anomaly_list(user=user, filters=filters)))
        can_triage = user.has_perm(perms.TRIAGE_ANOMALY)
        rows = []
        for anomaly in context["page"].object_list:
            actions = services.anomaly_allowed_actions(user=user, anomaly=anomaly) if can_triage else []
            series_url = workbench_url(anomaly.product_id, anomaly.region, anomaly.channel, "historical")
            rows.append({"anomaly": anomaly, "actions": actions, "series_url": series_url})
        context.update(rows=rows, filters=filters, status_choices=AnomalyStatus.choices,
                       severity_choices=AnomalySeverity.choices, triage_labels=TRIAGE_LABELS,
                       products=list(products_active_first(user=user).values_list("pk", "sku", "name")),
                       here=self.request.get_full_path())  # fmt: skip
        return context


class AnomalyTriageView(ActionView):
    action = ""
    action_permission = perms.TRIAGE_ANOMALY

    def fallback_url(self) -> str:
        return reverse("forecasting:anomalies")

    def perform(self):
        user = self.request.user
        anomaly = data.anomaly_get(user=user, pk=self.kwargs["pk"])
        form = AnomalyTriageForm(self.request.POST)
        if not form.is_valid():
            messages.error(self.request, form_errors_text(form))
            return None
        notes = form.cleaned_data["notes"] or (self.request.POST.get("reason") or "").strip()
        services.anomaly_transition(actor=user, anomaly=anomaly, status=TRIAGE_STATUS[self.action],
                                    corrected_value=form.cleaned_data["corrected_value"], notes=notes)  # fmt: skip
        label = {"acknowledge": "acknowledged", "correct": "corrected", "dismiss": "dismissed", "reopen": "reopened"}
        messages.success(self.request, f"Anomaly of {anomaly.product.sku} {anomaly.period:%b %Y} {label[self.action]}.")
        return safe_next(self.request, self.fallback_url())


def accuracy_url(**params) -> str:
    return reverse("forecasting:accuracy") + ("?" + urlencode(params) if params else "")
