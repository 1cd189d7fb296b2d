"""What the forecasting console pages read, in the shapes their templates need.

Thin: every read is scoped to the caller and delegates to the forecasting selectors and the series
loader; this module only groups and orders for display, with a fixed number of queries per call
(no per-row queries).
"""

from django.db.models import Count, Max, Min, OuterRef, Q, Subquery

from forecasting import services
from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION
from forecasting.models import Forecast, ForecastAnomaly, ForecastConsensus, ForecastJob, ForecastRun
from forecasting.selectors import accuracy as accuracy_selectors
from forecasting.selectors import anomalies as anomaly_selectors
from forecasting.selectors import consensus as consensus_selectors
from forecasting.selectors import jobs as job_selectors
from forecasting.selectors import runs as runs_selectors
from forecasting.series import SeriesHistory, SeriesKey, load_histories
from planning.selectors import product_get


def _series(qs, key: SeriesKey):
    return qs.filter(product_id=key.product_id, region=key.region, channel=key.channel)


def series_history(key: SeriesKey, *, as_of=None) -> SeriesHistory:
    """The series' FC-10/11 history (raw actuals and corrected training values)."""
    return load_histories([key], as_of=as_of)[key]


# Runs and results --------------------------------------------------------------------------------


def run_get(*, user, pk) -> ForecastRun:
    return runs_selectors.run_get(user=user, pk=pk)


def run_list(*, user, filters: dict | None = None):
    """Runs newest first; `key` narrows to one series, `product` to one product."""
    filters = filters or {}
    query = {}
    if "key" in filters:
        key = filters["key"]
        query = {"product_id": key.product_id, "region": key.region, "channel": key.channel}
    if "product" in filters:
        query["product_id"] = filters["product"].pk
    return runs_selectors.run_list(user=user, filters=query)


def run_latest(*, user, key: SeriesKey) -> ForecastRun | None:
    """The series' newest run that still has results (not discarded)."""
    return run_list(user=user, filters={"key": key}).filter(discarded_at__isnull=True).first()


def run_results(*, user, run: ForecastRun) -> list[Forecast]:
    """The run's live result rows by period."""
    return list(runs_selectors.result_list(user=user, filters={"run_id": run.pk}, limit=None).order_by("period"))


def latest_runs_by_model(*, user, product) -> list[dict]:
    """Manage results: the latest non-discarded run per (series, model used) of `product`, with
    its live result count and period range (two queries)."""
    live = run_list(user=user, filters={"product": product}).filter(discarded_at__isnull=True)
    newest = live.filter(region=OuterRef("region"), channel=OuterRef("channel"), model_used=OuterRef("model_used"))
    latest = (
        live.filter(pk=Subquery(newest.order_by("-created_at", "-id").values("pk")[:1]))
        .select_related("product", "user")
        .annotate(
            live_count=Count("results", filter=Q(results__discarded_at__isnull=True)),
            first_period=Min("results__period", filter=Q(results__discarded_at__isnull=True)),
            last_period=Max("results__period", filter=Q(results__discarded_at__isnull=True)),
        )
        .order_by("region", "channel", "-created_at")
    )
    total_first = sorted(latest, key=lambda r: (r.region != TOTAL_REGION or r.channel != TOTAL_CHANNEL,
                                               r.region, r.channel, -r.created_at.timestamp()))  # fmt: skip
    return [{"run": run, "count": run.live_count, "first": run.first_period, "last": run.last_period}
            for run in total_first if run.live_count]  # fmt: skip


# Consensus ----------------------------------------------------------------------------------------


def consensus_list(*, user, filters: dict):
    """The run's consensus rows, current ones only unless `include_history`."""
    query = {"forecast_run_audit_id": filters["run"].pk} if "run" in filters else {}
    if filters.get("include_history"):
        query["include_history"] = "true"
    return consensus_selectors.consensus_list(user=user, filters=query)


def consensus_get(*, user, pk) -> ForecastConsensus:
    return consensus_selectors.consensus_get(user=user, pk=pk)


def consensus_allowed_actions(*, user, row: ForecastConsensus) -> list[str]:
    """WF-04 for a consensus row, as the consensus services decide it."""
    return services.consensus_allowed_actions(user=user, consensus=row)


# Anomalies -----------------------------------------------------------------------------------------


def anomaly_list(*, user, filters: dict | None = None):
    """Anomalies newest first; `key` narrows to one series, the rest are the API-FC-24 filters."""
    filters = dict(filters or {})
    key = filters.pop("key", None)
    if key is not None:
        filters["product_id"] = key.product_id
    qs = anomaly_selectors.anomaly_list(user=user, filters={k: v for k, v in filters.items() if v not in (None, "")})
    if key is not None:
        qs = qs.filter(region=key.region, channel=key.channel)
    return qs.select_related("resolved_by")


def anomaly_get(*, user, pk) -> ForecastAnomaly:
    return anomaly_selectors.anomaly_get(user=user, pk=pk)


# Jobs ------------------------------------------------------------------------------------------------


def job_list(*, user, filters: dict | None = None):
    """The caller's own jobs; every job for OPS when `filters["all"]` (FC-72 visibility)."""
    filters = filters or {}
    return job_selectors.forecast_job_page(user=user, all_jobs=bool(filters.get("all")),
                                           status=filters.get("status"), product=filters.get("product"))  # fmt: skip


def job_get(*, user, job_id: str) -> ForecastJob:
    return job_selectors.forecast_job_get(user=user, job_id=job_id)


# Accuracy -----------------------------------------------------------------------------------------


def drift_alerts_for(*, user) -> list[dict]:
    return accuracy_selectors.drift_alerts(user=user)


# Backtesting -------------------------------------------------------------------------------------


def model_comparison(*, user, key: SeriesKey, test_months: int, min_train_months: int, models=None,
                     parameter_grid=None) -> dict:  # fmt: skip
    """FC-42/43 for the series: the generation services' comparison (read-only, no writes)."""
    product = product_get(user=user, pk=key.product_id)
    return services.forecast_compare(actor=user, product=product, region=key.region, channel=key.channel,
                                     test_months=test_months, min_train_months=min_train_months, models=models,
                                     parameter_grid=parameter_grid)  # fmt: skip
