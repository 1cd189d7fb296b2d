"""Background jobs of the planning app (django-q2, ORM broker): thin callers of the services."""

from genxsop.tasks import job
from planning.choices import SnapshotSource
from planning.models import InventorySnapshot
from planning.services.classification import product_abc_classify
from planning.services.integrations import integration_batch_purge
from planning.services.inventory import inventory_snapshot_capture, previous_month


@job
def purge_integration_batches() -> int:
    """Daily retention of integration batches (INT-03): keys older than the retention period are
    forgotten with their batch. Returns the number of batches deleted."""
    return integration_batch_purge()


@job
def capture_month_end_snapshots() -> dict | None:
    """OPS-41 month close: on the first run after a month ends, snapshot every inventory row for that
    month. Scheduled daily, so a missed day (worker down on the 1st) catches up on the next run; once
    the month has month-close snapshots, later runs leave them as the month ended. The month rolled
    over (GOV-42), so its KPIs are refreshed too (FRM-37): the stock KPIs need the snapshots just taken."""
    from planning.services.kpis import kpi_refresh

    period = previous_month()
    if InventorySnapshot.objects.filter(period=period, source=SnapshotSource.MONTH_CLOSE).exists():
        return None
    result = inventory_snapshot_capture(actor=None, period=period)
    result["kpis"] = kpi_refresh(actor=None, period_from=period, period_to=period)
    return result


@job
def classify_products() -> dict:
    """FRM-41: the nightly ABC classification from the last 12 closed months of actuals."""
    return product_abc_classify(actor=None)


@job
def refresh_kpis(period_from: str | None = None, period_to: str | None = None) -> dict:
    """FRM-38: recompute the computed KPIs; nightly over the last three closed months, or the range an
    on-demand refresh of more than three months queued (API-KPI-13)."""
    from planning.services.kpis import kpi_refresh

    return kpi_refresh(actor=None, period_from=period_from, period_to=period_to)
