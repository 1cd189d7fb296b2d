"""FC-53 / GOV-42: when a series' actuals change, or a run appears for an as-of period in the past,
its accuracy points are refreshed in the background. The handlers only queue the work: the
event's transaction has committed, and the refresh may take a moment for large products."""

from governance import bus
from planning import events as planning_events

ACTUALS_EVENTS = (
    planning_events.DEMAND_PLAN_ACTUAL_RECORDED,
    planning_events.DEMAND_PLAN_CREATED,  # a new row may carry an actual (FC-10 totals sum every row)
    planning_events.DEMAND_PLAN_DELETED,
)
ACTUALS_BATCH_OPERATIONS = ("demand_actuals_sync", "import_demand_actuals")
RUN_CREATED = "forecasting.run.created"


def _enqueue(product_ids: list[int] | None) -> None:
    from genxsop.tasks import enqueue

    enqueue("forecasting.tasks_accuracy.refresh_accuracy", product_ids=product_ids)


def on_actuals_changed(event: str, payload: dict) -> None:
    """Only series with runs have accuracy points; a new plan row matters only when it carries an actual."""
    from forecasting.models import ForecastRun
    from planning.models import DemandPlan

    product_id = payload.get("product_id")
    if product_id is None or not ForecastRun.objects.filter(product_id=product_id).exists():
        return
    if (
        event == planning_events.DEMAND_PLAN_CREATED
        and not DemandPlan.objects.filter(pk=payload.get("demand_plan_id"), actual_qty__isnull=False).exists()
    ):
        return
    _enqueue([int(product_id)])


def on_batch_completed(event: str, payload: dict) -> None:
    """Bulk actuals (INT-07, INT-20) publish one event per batch, not per row: refresh every series."""
    from planning.models import IntegrationBatch

    batch = IntegrationBatch.objects.filter(pk=payload.get("integration_batch_id")).only("operation").first()
    if batch is not None and batch.operation in ACTUALS_BATCH_OPERATIONS:
        _enqueue(None)


def on_run_created(event: str, payload: dict) -> None:
    """Only a run as of a closed month has periods with an actual of record to be measured against."""
    from forecasting.models import ForecastRun
    from forecasting.series import last_closed_month

    ids = payload.get("run_ids") or ([payload["run_id"]] if payload.get("run_id") else [])
    runs = ForecastRun.objects.filter(pk__in=ids, as_of_period__lte=last_closed_month())
    product_ids = sorted(set(runs.values_list("product_id", flat=True)))
    if product_ids:
        _enqueue(product_ids)


def register() -> None:
    for event in ACTUALS_EVENTS:
        bus.subscribe(event)(on_actuals_changed)
    bus.subscribe(planning_events.INTEGRATION_BATCH_COMPLETED)(on_batch_completed)
    bus.subscribe(RUN_CREATED)(on_run_created)
