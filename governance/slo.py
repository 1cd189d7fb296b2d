"""The SLO report (OPS-53, API-OPS-04): the four SLIs over a window of days, with error budgets.

The formulas are module functions so that their arithmetic is testable without data.
"""

import datetime

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from genxsop.errors import ValidationFailed
from genxsop.metrics import BOUNDS_MS, BUCKET_FIELDS
from genxsop.services import require_perm
from governance.permissions import VIEW_SERVICE_METRICS

# OPS-54. Percentages except the latency, which is in ms and must stay below its target.
AVAILABILITY_TARGET_PCT = 99.9
LATENCY_P95_TARGET_MS = 300.0
JOB_SUCCESS_TARGET_PCT = 99.5
PUBLISH_GATE_TARGET_PCT = 100.0
AT_RISK_BUDGET_PCT = 25.0
MAX_DAYS = 90


def histogram_quantile(q: float, counts: list[int], bounds=BOUNDS_MS) -> float | None:
    """The q-quantile of a histogram (counts per bucket, not cumulative, the last one +Inf),
    interpolated linearly inside its bucket; the first bucket starts at 0. A quantile in the +Inf
    bucket is reported as the highest finite bound, as Prometheus does. None without samples."""
    total = sum(counts)
    if not total:
        return None
    rank = q * total
    seen = 0
    lower = 0.0
    for i, n in enumerate(counts):
        if i == len(bounds):
            return float(bounds[-1])
        if n and seen + n >= rank:
            return lower + (bounds[i] - lower) * (rank - seen) / n
        seen += n
        lower = float(bounds[i])
    return float(bounds[-1])


def error_budget_remaining_pct(*, bad: int, total: int, target_pct: float) -> float | None:
    """1 - bad / ((1 - target) x total), in percent; 100 without events, negative once overspent.
    None for a 100 % target, which allows no bad event at all."""
    if target_pct >= 100:
        return None
    if not total:
        return 100.0
    allowed = (1 - target_pct / 100) * total
    return round(100 * (1 - bad / allowed), 2)


def budget_status(*, value: float | None, target_pct: float, budget_pct: float | None) -> str:
    if value is None:
        return "met"
    if value < target_pct:
        return "breached"
    return "at_risk" if budget_pct is not None and budget_pct < AT_RISK_BUDGET_PCT else "met"


def _ratio_pct(good: int, total: int) -> float | None:
    return round(100 * good / total, 4) if total else None


def _ratio_sli(name: str, target: float, good_by_day: dict, total_by_day: dict) -> dict:
    good, total = sum(good_by_day.values()), sum(total_by_day.values())
    value = _ratio_pct(good, total)
    budget = error_budget_remaining_pct(bad=total - good, total=total, target_pct=target)
    return {
        "name": name,
        "unit": "percent",
        "target": target,
        "value": value,
        "status": budget_status(value=value, target_pct=target, budget_pct=budget),
        "error_budget_remaining_pct": budget,
        "daily": [
            {"date": day, "value": _ratio_pct(good_by_day.get(day, 0), n)} for day, n in sorted(total_by_day.items())
        ],
    }


def _availability(since) -> dict:
    from governance.models import ServiceMetricBucket

    rows = (
        ServiceMetricBucket.objects.filter(minute__gte=since).annotate(day=TruncDate("minute")).order_by()
        .values("day").annotate(total=Sum("request_count"), bad=Sum("error_5xx_count"))
    )  # fmt: skip
    total = {r["day"]: r["total"] for r in rows}
    good = {r["day"]: r["total"] - r["bad"] for r in rows}
    return _ratio_sli("availability", AVAILABILITY_TARGET_PCT, good, total)


def _latency(since) -> dict:
    from governance.models import ServiceMetricBucket

    rows = (
        ServiceMetricBucket.objects.filter(minute__gte=since, route_group__startswith="api:", is_ml=False)
        .annotate(day=TruncDate("minute")).order_by().values("day")
        .annotate(**{f: Sum(f) for f in BUCKET_FIELDS})
    )  # fmt: skip
    daily, overall = [], [0] * len(BUCKET_FIELDS)
    for row in sorted(rows, key=lambda r: r["day"]):
        counts = [row[f] or 0 for f in BUCKET_FIELDS]
        overall = [a + b for a, b in zip(overall, counts, strict=True)]
        p95 = histogram_quantile(0.95, counts)
        daily.append({"date": row["day"], "value": round(p95, 1) if p95 is not None else None})
    value = histogram_quantile(0.95, overall)
    return {
        "name": "latency_p95_non_ml",
        "unit": "ms",
        "target": LATENCY_P95_TARGET_MS,
        "value": round(value, 1) if value is not None else None,
        # No error budget: a percentile is not a count of bad events.
        "status": "breached" if value is not None and value >= LATENCY_P95_TARGET_MS else "met",
        "error_budget_remaining_pct": None,
        "daily": daily,
    }


def _job_success(since) -> dict:
    from forecasting.choices import JobErrorCode, JobStatus
    from forecasting.models import ForecastJob

    rows = (
        ForecastJob.objects.filter(completed_at__gte=since)
        .exclude(status=JobStatus.FAILED, error_code=JobErrorCode.INSUFFICIENT_DATA)
        .filter(status__in=[JobStatus.COMPLETED, JobStatus.FAILED])
        .annotate(day=TruncDate("completed_at")).order_by().values("day")
        .annotate(total=Count("pk"), good=Count("pk", filter=Q(status=JobStatus.COMPLETED)))
    )  # fmt: skip
    return _ratio_sli("forecast_job_success", JOB_SUCCESS_TARGET_PCT, {r["day"]: r["good"] for r in rows},
                      {r["day"]: r["total"] for r in rows})  # fmt: skip


def _publish_gate(since) -> dict:
    from governance.models import Publication

    rows = (
        Publication.objects.filter(published_at__gte=since).annotate(day=TruncDate("published_at")).order_by()
        .values("day").annotate(total=Count("pk"), good=Count("pk", filter=Q(evaluation__dry_run=False)))
    )  # fmt: skip
    # A 100 % target leaves no budget to spend: one unvalidated publication is a breach.
    return _ratio_sli("publish_gate_validated", PUBLISH_GATE_TARGET_PCT, {r["day"]: r["good"] for r in rows},
                      {r["day"]: r["total"] for r in rows})  # fmt: skip


def parse_days(raw) -> int:
    if raw in (None, ""):
        return 30
    try:
        days = int(raw)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(fields={"days": [f"A whole number of days from 1 to {MAX_DAYS}."]})
    return days


def slo_report(*, user, days: int = 30, now: datetime.datetime | None = None) -> dict:
    require_perm(user, VIEW_SERVICE_METRICS)
    return compute_slis(days=days, now=now)


def compute_slis(*, days: int = 30, now: datetime.datetime | None = None) -> dict:
    """The report without the permission check, for `/metrics`, which has its own gate."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    slis = [_availability(since), _latency(since), _job_success(since), _publish_gate(since)]
    return {"days": days, "from": since, "to": now, "slis": slis}
