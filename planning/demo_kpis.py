"""Demo data of the KPIs (DEMO-12): every computed KPI of every closed month before the anchor where
inputs exist (FRM-38, through the same set-based refresh the nightly job runs), and the two manual KPIs
(supplier on-time delivery, order cycle time) for the last 12 months near their targets, entered by the
executive. Idempotent: a second load computes the same values, changes nothing and writes no audit row.
"""

import random
import time
from decimal import Decimal

from forecasting.series import add_months
from governance.models import User
from planning.choices import KpiSource
from planning.models import KpiMetric
from planning.services.kpis import kpi_metric_create, kpi_refresh

HISTORY_MONTHS = 36  # DEMO-06: closed months of actuals before the anchor
MANUAL_MONTHS = 12
EXECUTIVE = "executive@genxsop.com"
# (code, centre, spread): supplier OTD around its 95 % target, order cycle time around 3 days.
MANUAL = (("supplier_otd", Decimal("94.5"), Decimal("2.5")), ("order_cycle_time", Decimal("3.0"), Decimal("0.6")))


def _manual_value(seed: int, code: str, period, centre: Decimal, spread: Decimal) -> Decimal:
    # Seeded per KPI and month, so the values do not depend on loading order (DEMO-01).
    rng = random.Random(f"{seed}:{code}:{period:%Y-%m}")  # noqa: S311 - demo figures, not secrets  # nosec B311
    return (centre + Decimal(str(rng.uniform(-1, 1))) * spread).quantize(Decimal("0.1"))


def load_into(report, *, actor) -> None:
    """Refresh the computed KPIs of the history, then add the missing manual values."""
    started = time.perf_counter()
    last = add_months(report.anchor, -1)
    result = kpi_refresh(actor=actor, period_from=add_months(report.anchor, -HISTORY_MONTHS), period_to=last,
                         today=report.anchor)  # fmt: skip
    if result["created"]:
        report.created["KPI values (computed)"] = result["created"]
    if result["updated"]:
        report.created["KPI values (recomputed)"] = result["updated"]
    executive = User.objects.filter(email__iexact=EXECUTIVE).first() or actor
    existing = set(KpiMetric.objects.filter(metric_name__in=[m[0] for m in MANUAL]).values_list("metric_name",
                                                                                                 "period"))  # fmt: skip
    created = 0
    for offset in range(MANUAL_MONTHS, 0, -1):
        period = add_months(report.anchor, -offset)
        for code, centre, spread in MANUAL:
            if (code, period) in existing:
                continue
            kpi_metric_create(actor=executive, data={
                "metric_name": code, "period": period,
                "value": _manual_value(report.seed, code, period, centre, spread)})  # fmt: skip
            created += 1
    if created:
        report.created["KPI values (manual)"] = created
    report.seconds["kpis"] = round(time.perf_counter() - started, 2)


def reset_into(report, *, actor) -> None:
    """Remove the KPI values the demo wrote: every computed value (the next load computes them again)
    and the manual values of the two demo KPIs."""
    rows = KpiMetric.objects.filter(source=KpiSource.COMPUTED) | KpiMetric.objects.filter(
        source=KpiSource.MANUAL, metric_name__in=[m[0] for m in MANUAL]
    )
    deleted, _ = rows.delete()
    if deleted:
        report.deleted["KPI values"] = deleted
