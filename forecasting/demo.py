"""Forecasting part of the demo data (DEMO-08), loaded by `manage.py load_demo` after the plans.

For every active product total: one run as of each of the last 12 closed months (horizon 6,
history cut before the as-of month) and a current run as of the anchor month (horizon 12), all
produced by the real engine and stored by `forecast_write` (source `demo`). Every (product, as-of
month) history goes through the engine in one vectorised call with automatic selection, as the
nightly job would have run that month: the engine's cost is mostly per call, so this keeps the
load to a few seconds. Should the generation internals it uses change shape, the loader falls back
to `forecast_compute` per as-of month (the model chosen on the current run reused for the past).

Consensus: for A and B products (by revenue over the last 12 closed months), the first three
periods of every historical run carry approved consensus (the latest as-of month's row approved,
the earlier ones superseded, as WF-20 leaves them); sales move the baseline by at most 5 % towards
what they hear from customers, marketing adds the known promotions, finance trims 2 %. The
current run gets consensus for the anchor month and the next two: about 70 % approved, 20 %
proposed, 10 % draft. Approved and superseded rows are written set-based with one audit event
each (the approval path of the consensus service would push into demand plans the demo has
already approved and locked); draft and proposed rows go through `consensus_create`.

Then the anomaly scan and the accuracy refresh (FC-53), so that lag-1 and lag-3 accuracy, FVA and
drift have data. Loading is idempotent: when the demo products already have demo runs, nothing is
written.
"""

import dataclasses
import datetime
import time
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from forecasting import accuracy
from forecasting.choices import ConsensusStatus, RunSource
from forecasting.models import (
    Forecast,
    ForecastAccuracyPoint,
    ForecastAnomaly,
    ForecastConsensus,
    ForecastJob,
    ForecastRun,
)
from forecasting.series import SeriesKey, active_total_keys, add_months, load_histories, series_actuals
from governance import audit
from governance.models import User

PAST_RUNS = 12
PAST_HORIZON = 6
CURRENT_HORIZON = 12
CONSENSUS_PERIODS = 3
AB_SHARE = 0.95  # cumulative revenue share of the A and B classes (FRM-41 cut-offs 80 % + 15 %)
SALES_CAP = 0.05
SALES_INSIGHT = 0.5  # share of the gap to the eventual actual that sales pick up from customers
MARKETING_CAPTURE = 0.8  # share of a promotion's lift marketing plans in
FINANCE_TRIM = Decimal("-0.02")
PROPOSER = "demand@genxsop.com"
APPROVER = "coordinator@genxsop.com"
CURRENT_MIX = ((ConsensusStatus.APPROVED, 0.7), (ConsensusStatus.PROPOSED, 0.2), (ConsensusStatus.DRAFT, 0.1))
CENT = Decimal("0.01")


def load(*, seed: int, anchor: datetime.date, admin: User, product_ids: list[int]) -> dict[str, float | int]:
    """Create the forecasting demo data of `product_ids`; returns counts and seconds (empty when present)."""
    if ForecastRun.objects.filter(product_id__in=product_ids, source=RunSource.DEMO).exists():
        return {}
    from forecasting.services.generate import forecast_write

    started = time.monotonic()
    keys = active_total_keys(product_ids)
    try:
        computed = _compute_in_one_call(keys, anchor)
    except (AttributeError, ImportError, TypeError):  # the generation internals changed shape: the slow path
        computed = _compute_per_as_of(keys, anchor)
    engine_seconds = time.monotonic() - started
    runs = forecast_write(computed, actor=admin, source=RunSource.DEMO)
    consensus = _write_consensus(seed=seed, anchor=anchor, runs=runs, admin=admin)
    anomalies = _scan_anomalies(admin)
    points = accuracy.accuracy_refresh(keys=keys, periods=(add_months(anchor, -accuracy.DEFAULT_REFRESH_MONTHS),
                                                          add_months(anchor, -1)))  # fmt: skip
    return {"forecast_runs": len(runs), "forecast_consensus": consensus, "forecast_anomalies": anomalies,
            "accuracy_points": points, "engine_seconds": engine_seconds,
            "seconds": time.monotonic() - started}  # fmt: skip


def _as_of_months(anchor: datetime.date) -> list[tuple[datetime.date, int]]:
    """(as-of month, horizon): the current run first, then the 12 past months, newest first."""
    return [(anchor, CURRENT_HORIZON), *((add_months(anchor, -k), PAST_HORIZON) for k in range(1, PAST_RUNS + 1))]


def _compute_per_as_of(keys: list[SeriesKey], anchor: datetime.date) -> list:
    """The public path: automatic selection on the current run, that model reused for the past runs,
    one engine call per as-of month and model."""
    from forecasting.services.generate import forecast_compute

    current = [c for c in forecast_compute(keys, horizon=CURRENT_HORIZON, as_of=anchor) if c.ok]
    by_model: dict[str, list[SeriesKey]] = defaultdict(list)
    for c in current:
        by_model[c.selected_model].append(c.key)
    computed = list(current)
    for as_of, horizon in _as_of_months(anchor)[1:]:
        for model, group in sorted(by_model.items()):
            computed.extend(c for c in forecast_compute(group, horizon=horizon, model_type=model, as_of=as_of) if c.ok)
    return computed


def _cut_history(history, as_of: datetime.date):
    """The history as it stood before `as_of`: what `load_histories(as_of=...)` returns for it."""
    n = sum(1 for p in history.periods if p < as_of)
    changes = {"periods": history.periods[:n], "raw": history.raw[:n], "values": history.values[:n]}
    for f in dataclasses.fields(history):
        value = getattr(history, f.name)
        if f.name.endswith("_periods") and isinstance(value, list):
            changes[f.name] = [p for p in value if p < as_of]
    return dataclasses.replace(history, **changes)


def _compute_in_one_call(keys: list[SeriesKey], anchor: datetime.date) -> list:
    """Every (product, as-of month) series in one engine call: the engine is vectorised across series
    and most of its cost is per call, so 13 calls cost about three times one call of 13 times the rows.

    Each row is the product's history cut before its as-of month, selected automatically (as the
    nightly job would have done that month); past runs keep the first 6 of the 12 computed months.
    """
    from forecasting.services.generate import MIN_HISTORY, forecast_compute_histories

    histories = load_histories(keys, as_of=anchor)
    rows, series = [], []
    for as_of, horizon in _as_of_months(anchor):
        for key in keys:
            cut = _cut_history(histories[key], as_of)
            if len(cut.periods) >= MIN_HISTORY and cut.end == add_months(as_of, -1):
                rows.append((as_of, horizon))
                series.append(cut)
    if not series:
        return []
    out = forecast_compute_histories(series, horizon=CURRENT_HORIZON, as_of=[as_of for as_of, _ in rows])
    computed = []
    for (_, horizon), c in zip(rows, out, strict=True):
        if not c.ok:
            continue
        cut = {name: getattr(c, name)[:horizon] for name in ("periods", "predicted", "lower95", "upper95", "lower80",
                                                             "upper80", "confidence")}  # fmt: skip
        computed.append(dataclasses.replace(c, horizon=horizon, **cut))
    return computed


def _scan_anomalies(admin) -> int:
    try:
        from forecasting.services.anomalies import anomalies_scan_active
    except ImportError:  # pragma: no cover - the anomaly service ships with the forecasting app
        return 0
    return int(anomalies_scan_active(actor=admin) or 0)


def ab_products(product_ids: list[int], anchor: datetime.date) -> set[int]:
    """A and B products: the largest revenue over the last 12 closed months up to 95 % of the total."""
    from planning.models import DemandPlan, Product

    prices = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "selling_price"))
    window = {"period__gte": add_months(anchor, -12), "period__lt": anchor}
    volume = (DemandPlan.objects.filter(product_id__in=product_ids, is_current=True, **window).values("product_id")
              .annotate(q=Sum("actual_qty")).order_by().values_list("product_id", "q"))  # fmt: skip
    revenue = sorted(((float(q or 0) * float(prices.get(pk) or 0), pk) for pk, q in volume), reverse=True)
    total = sum(r for r, _ in revenue)
    chosen, running = set(), 0.0
    for r, pk in revenue:
        if total <= 0 or running >= AB_SHARE * total or r <= 0:
            break
        chosen.add(pk)
        running += r
    return chosen


def _fraction(seed: int, *key) -> float:
    from planning.demo_series import stable_fraction

    return stable_fraction(seed, "forecast-consensus", *key)


def _promotions(anchor: datetime.date, skus: dict[int, str]) -> dict[tuple[int, datetime.date], float]:
    from planning.demo_series import PROMOTIONS

    by_sku = {sku: pk for pk, sku in skus.items()}
    return {(by_sku[sku], add_months(anchor, t)): factor for sku, t, factor in PROMOTIONS if sku in by_sku}


def _write_consensus(*, seed: int, anchor: datetime.date, runs: list[ForecastRun], admin) -> int:
    from forecasting.services.consensus import consensus_create, consensus_quantities, event_name
    from planning.models import Product

    product_ids = sorted({r.product_id for r in runs})
    chosen = ab_products(product_ids, anchor)
    runs = [r for r in runs if r.product_id in chosen]
    if not runs:
        return 0
    skus = dict(Product.objects.filter(pk__in=chosen).values_list("pk", "sku"))
    promotions = _promotions(anchor, skus)
    proposer = User.objects.filter(email=PROPOSER).first() or admin
    approver = User.objects.filter(email=APPROVER).first() or admin
    keys = [SeriesKey(pk) for pk in chosen]
    actuals = series_actuals(keys, add_months(anchor, -PAST_RUNS), add_months(anchor, -1))
    rows = Forecast.objects.filter(run__in=runs).values_list("run_id", "period", "predicted_qty")
    results = {(run_id, period): qty for run_id, period, qty in rows}
    # WF-20: one approved row per series-period, the latest approved as-of month's; earlier ones superseded.
    latest_approved: dict[tuple[int, datetime.date], datetime.date] = {}
    for run in runs:
        for i in range(CONSENSUS_PERIODS):
            period = add_months(run.as_of_period, i)
            if run.as_of_period >= anchor and _current_status(seed, run.product_id, period) != ConsensusStatus.APPROVED:
                continue
            key = (run.product_id, period)
            latest_approved[key] = max(latest_approved.get(key, run.as_of_period), run.as_of_period)

    now_ = _now()
    rows, open_rows = [], []
    for run in runs:
        current = run.as_of_period >= anchor
        for i in range(CONSENSUS_PERIODS):
            period = add_months(run.as_of_period, i)
            baseline = results.get((run.pk, period))
            if baseline is None:
                continue
            actual = actuals.get((SeriesKey(run.product_id), period))
            sales = Decimal(0)
            if actual is not None and baseline > 0:
                noise = (_fraction(seed, run.product_id, period, run.as_of_period) - 0.5) * 0.02
                move = max(-SALES_CAP, min(SALES_CAP, SALES_INSIGHT * (actual - float(baseline)) / float(baseline)
                                             + noise))  # fmt: skip
                sales = (baseline * Decimal(str(round(move, 4)))).quantize(CENT)
            uplift = Decimal(0)
            factor = promotions.get((run.product_id, period))
            if factor:
                uplift = (baseline * Decimal(str(round((factor - 1) * MARKETING_CAPTURE, 4)))).quantize(CENT)
            finance = (baseline * FINANCE_TRIM).quantize(CENT)
            pre, final = consensus_quantities(baseline=baseline, sales_override=sales, marketing_uplift=uplift,
                                              finance_adjustment=finance)  # fmt: skip
            if current:
                status = _current_status(seed, run.product_id, period)
                if status == ConsensusStatus.APPROVED and latest_approved[(run.product_id, period)] != run.as_of_period:
                    status = ConsensusStatus.SUPERSEDED
            elif latest_approved[(run.product_id, period)] == run.as_of_period:
                status = ConsensusStatus.APPROVED
            else:
                status = ConsensusStatus.SUPERSEDED
            if status in (ConsensusStatus.DRAFT, ConsensusStatus.PROPOSED):
                # Open rows go through the consensus service, as a planner would enter them.
                open_rows.append({"forecast_run_audit_id": run.pk, "period": period, "sales_override_qty": sales,
                                  "marketing_uplift_qty": uplift, "finance_adjustment_qty": finance,
                                  "notes": "Promotion planned." if factor else "", "status": status})  # fmt: skip
                continue
            proposed = status != ConsensusStatus.DRAFT
            approved = status in (ConsensusStatus.APPROVED, ConsensusStatus.SUPERSEDED)
            made = datetime.datetime.combine(run.as_of_period, datetime.time(9), tzinfo=datetime.UTC)
            made = min(made, now_)
            rows.append(ForecastConsensus(
                forecast_run=run, product_id=run.product_id, region=run.region, channel=run.channel, period=period,
                baseline_qty=baseline, sales_override_qty=sales, marketing_uplift_qty=uplift,
                finance_adjustment_qty=finance, pre_consensus_qty=pre, final_consensus_qty=final, status=status,
                notes="Promotion planned." if factor else "", version=1, is_current=True,
                proposed_by=proposer if proposed else None, proposed_at=made if proposed else None,
                approved_by=approver if approved else None, approved_at=made if approved else None,
                created_by=proposer, updated_by=approver if approved else proposer,
            ))  # fmt: skip
    rows = ForecastConsensus.objects.bulk_create(rows, batch_size=1000)
    # One event per row, named after the state the row was left in (set-based writers audit per row).
    action = {ConsensusStatus.DRAFT: "create", ConsensusStatus.PROPOSED: "propose", ConsensusStatus.APPROVED: "approve",
              ConsensusStatus.SUPERSEDED: "supersede"}  # fmt: skip
    entries = [
        {"actor": admin, "event_type": event_name(action[row.status]), "target": row, "metadata": {"demo": True},
         "after": {"status": row.status, "period": row.period.isoformat(), "forecast_run_id": row.forecast_run_id,
                   "final_consensus_qty": str(row.final_consensus_qty)}}
        for row in rows
    ]  # fmt: skip
    audit.record_many(entries)
    for data in open_rows:
        consensus_create(actor=proposer, data=data)
    return len(rows) + len(open_rows)


def _current_status(seed: int, product_id: int, period: datetime.date) -> str:
    x = _fraction(seed, "current", product_id, period)
    for status, share in CURRENT_MIX:
        if x < share:
            return status
        x -= share
    return ConsensusStatus.DRAFT


def _now() -> datetime.datetime:
    from django.utils import timezone

    return timezone.now()


# Reset and self-check ----------------------------------------------------------------------------


def delete_demo_forecasts(product_ids: list[int], *, actor) -> dict[str, int]:
    """`--reset`: the forecasting rows of the demo products go before their plans (PROTECT keys)."""
    from planning.demo_plans import AllRows

    deleted: dict[str, int] = {}
    targets = [
        ("accuracy points", ForecastAccuracyPoint.objects.filter(product_id__in=product_ids)),
        ("forecast anomalies", ForecastAnomaly.objects.filter(product_id__in=product_ids)),
        ("forecast consensus", ForecastConsensus.objects.filter(product_id__in=product_ids, is_current=True)),
        ("forecast results", Forecast.objects.filter(product_id__in=product_ids)),
        ("forecast runs", ForecastRun.objects.filter(product_id__in=product_ids)),
        ("forecast jobs", ForecastJob.objects.filter(product_id__in=product_ids)),
    ]
    for label, queryset in targets:
        count = queryset.count()
        if label == "forecast consensus":
            ForecastConsensus.objects.filter(product_id__in=product_ids, is_current=False).delete()
        queryset.delete()
        if count:
            deleted[label] = count
            audit.record_many([{"actor": actor, "event_type": "forecasting.demo.bulk_deleted", "target": AllRows(label),
                                "target_type": label, "message": f"Demo reset removed {count} {label}.",
                                "metadata": {"rows": count}}])  # fmt: skip
    return deleted


def check(anchor: datetime.date, product_ids: list[int], problems: list[str], passed: list[str]) -> None:
    """DEMO-08: runs for each of the 12 past as-of months and the anchor month; lag-1 and lag-3 points."""
    keys = active_total_keys(product_ids)
    if not keys:
        return
    wanted = {add_months(anchor, -k) for k in range(0, PAST_RUNS + 1)}
    as_of = set(ForecastRun.objects.filter(product_id__in=[k.product_id for k in keys], source=RunSource.DEMO)
                .values_list("as_of_period", flat=True).distinct())  # fmt: skip
    if not wanted <= as_of:
        missing = sorted(f"{m:%Y-%m}" for m in wanted - as_of)
        problems.append(f"demo forecast runs missing for as-of months {', '.join(missing)}")
    else:
        passed.append(f"demo forecast runs for {len(wanted)} as-of months")
    lags = set(ForecastAccuracyPoint.objects.filter(product_id__in=product_ids).values_list("lag", flat=True)
               .distinct())  # fmt: skip
    layers = set(ForecastAccuracyPoint.objects.filter(product_id__in=product_ids, lag=1).values_list("layer", flat=True)
                 .distinct())  # fmt: skip
    if not {1, 3} <= lags or len(layers) < 3:
        problems.append(f"accuracy points at lags {sorted(lags)} and layers {sorted(layers)}; lags 1 and 3 and all "
                        "three layers expected")  # fmt: skip
    else:
        passed.append(f"accuracy points at lags 1..{max(lags)} in all three layers")
