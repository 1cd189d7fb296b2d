"""Forecasting console (UI-09): the workbench of one series with its stage tabs.

Historical → Backtesting → Model setup → Forecast view → Manage results. Every tab reads through
the forecasting selectors and series loader and every button posts to a view in views_actions
that calls one service; only the active tab's data is read, so a tab costs a few queries.
"""

import datetime
import json

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.views.generic import TemplateView

from forecasting import charts
from forecasting import permissions as perms
from forecasting import views_data as data
from forecasting.choices import (
    JOB_TERMINAL,
    TOTAL_CHANNEL,
    TOTAL_REGION,
    AnomalyMethod,
    JobKind,
    JobStatus,
)
from forecasting.engine import quality
from forecasting.engine.pipeline import ENSEMBLE, load_catalogue
from forecasting.forms import BacktestForm, DetectAnomaliesForm, GenerateForm, PromoteForm
from forecasting.series import SeriesKey
from genxsop import errors
from genxsop.console import ConsolePermissionMixin
from planning.selectors.review import demand_series_keys, products_active_first

TABS = (
    ("historical", "Historical"),
    ("backtesting", "Backtesting"),
    ("setup", "Model setup"),
    ("forecast", "Forecast view"),
    ("results", "Manage results"),
)
RANGES = (6, 12, 24, 36)
CHART_HISTORY_MONTHS = 24
RUNS_SHOWN = 20
METRIC_TILES = (
    ("MAPE", "mape", "%"), ("sMAPE", "smape", "%"), ("WAPE", "wape", "%"), ("RMSE", "rmse", ""),
    ("NRMSE %", "nrmse_pct", "%"), ("MdAE", "mdae", ""), ("R²", "r2", ""), ("Hit rate", "hit_rate", "%"),
    ("MASE", "mase", ""), ("Bias", "bias", "%"), ("Score", "score", ""),
)  # fmt: skip


class ForecastingMixin(ConsolePermissionMixin):
    """Every forecasting page: the module's read permission (every role but viewer, ACC-06)."""

    permission_required = perms.VIEW_RUN

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["section_links"] = [
            ("workbench", "Workbench", reverse("forecasting:workbench")),
            ("accuracy", "Accuracy", reverse("forecasting:accuracy")),
            ("anomalies", "Anomalies", reverse("forecasting:anomalies")),
            ("jobs", "Jobs", reverse("forecasting:jobs")),
        ]
        context["section"] = getattr(self, "section", "workbench")
        context["can"] = {
            "generate": user.has_perm(perms.GENERATE),
            "job": user.has_perm(perms.ADD_JOB),
            "promote": user.has_perm(perms.PROMOTE),
            "discard": user.has_perm(perms.DISCARD_RESULT),
            "detect": user.has_perm(perms.DETECT_ANOMALIES),
            "triage": user.has_perm(perms.TRIAGE_ANOMALY),
            "consensus_add": user.has_perm(perms.ADD_CONSENSUS),
            "ops": user.has_perm(perms.MANAGE_JOBS),
        }
        return context


def month(value: str | None) -> datetime.date | None:
    """A `YYYY-MM` query value as the first of that month; None when blank or malformed."""
    try:
        year, month_number = (value or "").strip().split("-")
        return datetime.date(int(year), int(month_number), 1)
    except ValueError:
        return None


def workbench_url(product_id=None, region=TOTAL_REGION, channel=TOTAL_CHANNEL, tab=None, **extra) -> str:
    params = {}
    if product_id:
        params["product"] = product_id
    if region != TOTAL_REGION or channel != TOTAL_CHANNEL:
        params.update(region=region, channel=channel)
    if tab:
        params["tab"] = tab
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    url = reverse("forecasting:workbench")
    return f"{url}?{urlencode(params)}" if params else url


def catalogue_rows(history_months: int | None) -> list[dict]:
    """The model choices of Model setup: unavailable ones carry why (FC-20)."""
    rows = []
    for spec in load_catalogue().values():
        reason = ""
        if not spec.available:
            reason = "Not installed on this server"
        elif history_months is not None and history_months < spec.min_months:
            reason = f"Needs {spec.min_months} history months, this series has {history_months}"
        example = json.dumps({k: v for k, v in spec.params.items() if v is not None}) if spec.params else "{}"
        rows.append({"id": spec.id, "name": spec.name, "min_months": spec.min_months, "family": spec.family,
                     "disabled": bool(reason), "reason": reason, "keys": list(spec.params),
                     "example": example})  # fmt: skip
    return rows


API_JOB_URL = "/api/v1/forecasting/jobs/{job_id}"


def job_row(job, *, user) -> dict:
    """A job as the table shows it: the link to its forecast (generate jobs) and what the caller may do."""
    scope = job.scope or {}
    forecast_url = None
    if job.kind == JobKind.GENERATE and job.product_id:
        forecast_url = workbench_url(job.product_id, scope.get("region") or TOTAL_REGION,
                                     scope.get("channel") or TOTAL_CHANNEL, "forecast")  # fmt: skip
    ops = user.has_perm(perms.MANAGE_JOBS)
    return {
        "job": job,
        "terminal": job.status in JOB_TERMINAL,
        "api_url": API_JOB_URL.format(job_id=job.job_id),
        "forecast_url": forecast_url,
        "can_cancel": ops and job.status not in JOB_TERMINAL,
        "can_retry": ops and job.status in (JobStatus.FAILED, JobStatus.CANCELLED),
    }


class WorkbenchView(ForecastingMixin, TemplateView):
    template_name = "forecasting/workbench.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, query = self.request.user, self.request.GET
        products = list(products_active_first(user=user).values_list("pk", "sku", "name", "status"))
        context["products"] = products
        product_ids = {row[0] for row in products}
        try:
            product_id = int(query.get("product") or (products[0][0] if products else 0))
        except ValueError:
            product_id = 0
        if product_id and product_id not in product_ids:
            raise Http404("Product not found.")
        tab = query.get("tab")
        context["tabs"] = TABS
        context["tab"] = tab if tab in dict(TABS) else "historical"
        if not product_id:
            context["product"] = None
            return context
        product = products_active_first(user=user).select_related("category").get(pk=product_id)
        context["product"] = product
        keys = demand_series_keys(user=user, product=product)
        options = [(TOTAL_REGION, TOTAL_CHANNEL)] + [k for k in keys if k != (TOTAL_REGION, TOTAL_CHANNEL)]
        region = query.get("region") or TOTAL_REGION
        channel = query.get("channel") or TOTAL_CHANNEL
        if "|" in query.get("series", ""):
            region, channel = query["series"].split("|", 1)
        if (region, channel) not in options:
            region, channel = TOTAL_REGION, TOTAL_CHANNEL
        key = SeriesKey(product.pk, region, channel)
        context.update(key=key, series_options=options, region=region, channel=channel)
        context["series_value"] = f"{region}|{channel}"
        self.here = lambda tab, **extra: workbench_url(product.pk, region, channel, tab, **extra)
        context["setup_url"] = self.here("setup")
        getattr(self, f"tab_{context['tab']}")(context, key)
        stages = self.stages(context, key)
        context["tab_urls"] = [(code, label, self.here(code), stages[code]) for code, label in TABS]
        return context

    # Stage chips ------------------------------------------------------------------------------

    def stages(self, context, key) -> dict:
        """complete / active / ready / locked per tab, from what exists for the series (one query):
        the forecast and its results are locked until the series has a run."""
        latest = context.get("latest_run")
        if latest is None and context["tab"] not in ("forecast", "results"):
            latest = data.run_latest(user=self.request.user, key=key)
        chips = {code: "ready" for code, _ in TABS}
        chips["historical"] = "complete" if context.get("history_months", 1) else "ready"
        if latest is not None:
            chips.update(setup="complete", forecast="complete", results="complete", backtesting="complete")
        else:
            chips.update(forecast="locked", results="locked")
        chips[context["tab"]] = "active"
        return chips

    # Historical ---------------------------------------------------------------------------------

    def tab_historical(self, context, key):
        try:
            months = int(self.request.GET.get("range", 24))
        except ValueError:
            months = 24
        months = months if months in RANGES else 24
        context["range"], context["ranges"] = months, RANGES
        history = data.series_history(key)
        periods, raw, values = history.periods[-months:], history.raw[-months:], history.values[-months:]
        anomalies = list(data.anomaly_list(user=self.request.user, filters={"key": key}))
        in_range = {a.period: a for a in anomalies if periods and a.period >= periods[0]}
        context["anomalies"] = anomalies
        rows, raw_map, training_map = [], {}, {}
        for period, r, v in zip(periods, raw, values, strict=True):
            raw_map[period], training_map[period] = float(r), float(v)
            rows.append({"period": period, "raw": float(r), "value": float(v), "anomaly": in_range.get(period)})
        # The corrected line is the whole training series, drawn only when a correction changed it.
        corrected_map = training_map if any(r["raw"] != r["value"] for r in rows) else {}
        context["history_rows"] = rows
        context["history_months"] = len(history.periods)
        if rows:
            marks = {p: a.severity for p, a in in_range.items()}
            context["chart"] = charts.history_chart(raw=raw_map, corrected=corrected_map or None, anomalies=marks)
            legend = [("actual", "Raw actuals")]
            if corrected_map:
                legend.append(("corrected", "Corrected"))
            if marks:
                legend.append(("anomaly", "Anomaly"))
            context["legend"] = legend
            demand = quality.classify_demand(history.values)
            context["pattern"] = str(demand.pattern[0])
            context["adi"], context["cv2"] = _float_or_none(demand.adi[0]), _float_or_none(demand.cv2[0])
            flags = quality.quality_flags(history.values, pattern=demand.pattern)
            names = quality.flags_per_series(flags)[0]
            context["flags"] = sorted(set(names) | set(history.flags), key=_flag_order)
        context["detect_form"] = DetectAnomaliesForm(initial={"method": AnomalyMethod.ZSCORE})

    # Backtesting --------------------------------------------------------------------------------

    def tab_backtesting(self, context, key):
        catalogue = catalogue_rows(None)
        params = self.request.GET if "window" in self.request.GET else None
        choices = [(r["id"], r["name"]) for r in catalogue if not r["disabled"]] + [(ENSEMBLE, "Ensemble (median)")]
        form = BacktestForm(params, models=choices)
        context["backtest_form"] = form
        context["grid_example"] = json.dumps(
            {"ewma": [{"alpha": 0.2}, {"alpha": 0.5}], "moving_average": [{"window": 3}]}
        )
        if params is None or not form.is_valid():
            return
        try:
            comparison = data.model_comparison(
                user=self.request.user, key=key, test_months=int(form.cleaned_data["window"]),
                min_train_months=int(form.cleaned_data["min_train"]), models=form.cleaned_data["models"] or None,
                parameter_grid=form.cleaned_data["parameter_grid"] or None,
            )  # fmt: skip
        except errors.DomainError as exc:
            form.add_domain_error(exc)
            return
        rows = sorted(comparison.get("models", []), key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
        for row in rows:
            row["best_params_json"] = json.dumps(row.get("best_params") or {}, sort_keys=True)
            params_json = row["best_params_json"] if row.get("best_params") else ""
            row["use_url"] = self.here("setup", model=row["model_type"], params=params_json)
        context["comparison"] = comparison
        context["comparison_rows"] = rows
        chosen = self.request.GET.get("bt_model") or (rows[0]["model_type"] if rows else None)
        pick = next((r for r in rows if r["model_type"] == chosen), None)
        context["bt_row"] = pick
        if pick:
            context["bt_tiles"] = [(label, name, pick.get(name), suffix) for label, name, suffix in METRIC_TILES]
        if pick and pick.get("series"):
            points = [(month_of(p["period"]), p) for p in pick["series"]]
            actual = {m: p["actual_qty"] for m, p in points if p.get("actual_qty") is not None}
            predicted = {m: p["predicted_qty"] for m, p in points if p.get("predicted_qty") is not None}
            months = charts.month_range(min(m for m, _ in points), max(m for m, _ in points))
            context["bt_chart"] = charts.line_chart(months, [
                {"key": "actual", "label": "Actual", "values": actual},
                {"key": "forecast", "label": "Predicted", "values": predicted},
            ])  # fmt: skip
            context["bt_points"] = [p for _, p in points]
            context["bt_legend"] = [("actual", "Actual"), ("forecast", "Predicted")]

    # Model setup --------------------------------------------------------------------------------

    def tab_setup(self, context, key):
        history = data.series_history(key)
        catalogue = catalogue_rows(len(history.periods))
        context["catalogue"] = catalogue
        query = self.request.GET
        initial = {"horizon": settings.FORECAST_DEFAULT_HORIZON, "model_type": query.get("model", ""),
                   "model_params": query.get("params", "")}  # fmt: skip
        context["generate_form"] = GenerateForm(initial=initial, catalogue=catalogue)
        context["history_months"] = len(history.periods)
        if context["can"]["job"]:
            jobs = data.job_list(user=self.request.user, filters={"product": context["product"]})[:5]
            context["my_jobs"] = [job_row(job, user=self.request.user) for job in jobs]

    # Forecast view ------------------------------------------------------------------------------

    def tab_forecast(self, context, key):
        user = self.request.user
        run = self._chosen_run(context, key)
        if run is None:
            return
        results = list(data.run_results(user=user, run=run))
        context["results"] = results
        rows = list(data.consensus_list(user=user, filters={"run": run, "include_history": True}))
        current = {c.period: c for c in rows if c.is_current}
        context["consensus_history"] = rows
        periods = [r.period for r in results]
        chosen = month(self.request.GET.get("period"))
        period = chosen if chosen in periods else (periods[0] if periods else None)
        context["periods"], context["period"] = periods, period
        prediction = next((r for r in results if r.period == period), None)
        snapshot = current.get(period)
        context["snapshot"] = snapshot
        context["prediction"] = prediction
        if snapshot is not None:
            context["snapshot_actions"] = data.consensus_allowed_actions(user=user, row=snapshot)
            if prediction is not None:
                variance = snapshot.final_consensus_qty - prediction.predicted_qty
                context["variance"] = variance
                if prediction.predicted_qty:
                    context["variance_pct"] = variance / prediction.predicted_qty * 100
                context["net_overrides"] = snapshot.pre_consensus_qty - snapshot.baseline_qty
                context["cap_impact"] = snapshot.final_consensus_qty - snapshot.pre_consensus_qty
        context["can_create_consensus"] = (
            snapshot is None and period is not None and context["can"]["consensus_add"] and run.discarded_at is None
        )
        # Diagnostics and cards
        metrics = run.candidate_metrics or []
        scored = [m for m in metrics if m.get("score") is not None]
        context["candidate_rows"] = sorted(metrics, key=lambda m: (m.get("rank") is None, m.get("rank") or 0))
        context["best"] = min(scored, key=lambda m: m["score"]) if scored else None
        composite = [
            {**m, "composite": m["mape"] + 0.25 * m["wape"]}
            for m in metrics
            if m.get("mape") is not None and m.get("wape") is not None
        ]
        context["recommendation"] = min(composite, key=lambda m: m["composite"]) if composite else None
        mapes = [r.mape for r in results if r.mape is not None]
        context["avg_mape"] = sum(mapes) / len(mapes) if mapes else None
        context["runs_count"] = data.run_list(user=user, filters={"key": key}).count()
        context["drift_alerts"] = [a for a in data.drift_alerts_for(user=user) if _alert_key(a) == key]
        # Chart: the last two years of history, prediction with bands, consensus where it exists.
        history = data.series_history(key, as_of=run.as_of_period)
        hist = dict(zip(history.periods[-CHART_HISTORY_MONTHS:], map(float, history.raw[-CHART_HISTORY_MONTHS:]),
                        strict=True))  # fmt: skip
        bands = {95: ({r.period: r.lower_bound for r in results}, {r.period: r.upper_bound for r in results})}
        if all(r.lower_80 is not None and r.upper_80 is not None for r in results):
            bands[80] = ({r.period: r.lower_80 for r in results}, {r.period: r.upper_80 for r in results})
        consensus = {p: c.final_consensus_qty for p, c in current.items()}
        context["chart"] = charts.forecast_chart(history=hist, predicted={r.period: r.predicted_qty for r in results},
                                                 bands=bands, consensus=consensus or None)  # fmt: skip
        legend = [("actual", "History"), ("forecast", "Prediction")]
        if consensus:
            legend.append(("consensus", "Consensus"))
        legend += [(f"band{level}", f"{level}% interval") for level in sorted(bands)]
        context["legend"] = legend

    def _chosen_run(self, context, key):
        user = self.request.user
        run_id = self.request.GET.get("run")
        if run_id:
            try:
                run = data.run_get(user=user, pk=run_id)
            except errors.NotFound:
                raise Http404("Run not found.") from None
            if (run.product_id, run.region, run.channel) != (key.product_id, key.region, key.channel):
                raise Http404("Run not found.")
        else:
            run = data.run_latest(user=user, key=key)
        context["latest_run"] = context["run"] = run
        return run

    # Manage results -----------------------------------------------------------------------------

    def tab_results(self, context, key):
        user = self.request.user
        groups = data.latest_runs_by_model(user=user, product=context["product"])
        context["result_groups"] = groups
        context["latest_run"] = groups[0]["run"] if groups else None
        context["promote_forms"] = {
            g["run"].pk: PromoteForm(
                prefix=f"run{g['run'].pk}",
                initial={"horizon": min(g["run"].horizon, settings.FORECAST_DEFAULT_HORIZON)},
            )
            for g in groups
        }
        for group in groups:
            group["promote_form"] = context["promote_forms"][group["run"].pk]
        context["runs"] = list(data.run_list(user=user, filters={"product": context["product"]})[:RUNS_SHOWN])


def _float_or_none(value) -> float | None:
    value = float(value)
    return None if value != value else value  # NaN


def _flag_order(name: str) -> int:
    return quality.FLAG_ORDER.index(name) if name in quality.FLAG_ORDER else len(quality.FLAG_ORDER)


def _alert_key(alert: dict) -> SeriesKey:
    return SeriesKey(alert["product_id"], alert.get("region", TOTAL_REGION), alert.get("channel", TOTAL_CHANNEL))


def month_of(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    return datetime.date.fromisoformat(str(value)[:10]).replace(day=1)
