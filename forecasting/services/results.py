"""Discarding forecast results (FC-60, API-FC-15/16).

Result rows are snapshots: discarding marks them (`discarded_at/_by`) instead of deleting them, and a
run whose rows are all discarded is marked too, so accuracy and promotion skip it. Discarding a
product also deletes its draft and proposed consensus rows; approved, frozen and superseded ones
are the record of decisions and stay.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from forecasting import permissions as perms
from forecasting.choices import ConsensusStatus
from forecasting.models import Forecast, ForecastConsensus, ForecastRun
from genxsop.services import require_perm, snapshot
from governance import audit, bus

__all__ = ["RESULTS_DISCARDED", "RESULT_DISCARDED", "result_discard", "results_discard_product"]

RESULT_DISCARDED = "forecasting.result.discarded"
RESULTS_DISCARDED = "forecasting.results.discarded"
CONSENSUS_DELETED = "forecasting.consensus.deleted"
_DELETABLE = (ConsensusStatus.DRAFT, ConsensusStatus.PROPOSED)
_RETAINED = (ConsensusStatus.APPROVED, ConsensusStatus.FROZEN, ConsensusStatus.SUPERSEDED)


def _close_runs(run_ids, now) -> list[int]:
    """Mark the runs among `run_ids` without a non-discarded row; returns their ids."""
    live_rows = Forecast.objects.filter(run_id=OuterRef("pk"), discarded_at__isnull=True)
    closed = list(
        ForecastRun.objects.filter(pk__in=run_ids, discarded_at__isnull=True)
        .filter(~Exists(live_rows))
        .values_list("pk", flat=True)
    )
    if closed:
        ForecastRun.objects.filter(pk__in=closed).update(discarded_at=now)
    return closed


@transaction.atomic
def result_discard(*, actor, result: Forecast) -> Forecast:
    """API-FC-15: discard one result row (already discarded: nothing changes). Needs DISCARD_RESULT in scope."""
    require_perm(actor, perms.DISCARD_RESULT, result)
    row = Forecast.objects.select_for_update().get(pk=result.pk)
    if row.discarded_at is not None:
        return row
    now = timezone.now()
    row.discarded_at, row.discarded_by = now, actor
    row.save(update_fields=["discarded_at", "discarded_by"])
    closed = _close_runs([row.run_id], now)
    audit.record(
        actor=actor,
        event_type=RESULT_DISCARDED,
        target=row,
        before={"discarded_at": None},
        after={"discarded_at": now.isoformat(), "discarded_by_id": actor.pk, "run_discarded": bool(closed)},
        related=row.run,
        message=f"Forecast {row.model_type} {row.period:%Y-%m} of run {row.run_id} discarded",
    )
    bus.publish_on_commit(RESULT_DISCARDED, result_ids=[row.pk], run_ids=[row.run_id], product_ids=[row.product_id])
    return row


@transaction.atomic
def results_discard_product(*, actor, product) -> dict:
    """API-FC-16: discard every result row of the product (all series) and delete its draft and proposed
    consensus rows (with their history). Approved, frozen and superseded consensus rows are kept and
    counted in `consensus_retained`.
    """
    require_perm(actor, perms.DISCARD_RESULT)
    require_perm(actor, perms.DISCARD_RESULT, ForecastRun(product=product))
    now = timezone.now()
    rows = Forecast.objects.filter(product=product, discarded_at__isnull=True)
    run_ids = list(rows.order_by().values_list("run_id", flat=True).distinct())
    forecasts_deleted = rows.update(discarded_at=now, discarded_by=actor)
    closed = _close_runs(run_ids, now)
    live = ForecastConsensus.objects.filter(product=product, is_current=True)
    doomed = list(live.filter(status__in=_DELETABLE).select_for_update())
    if doomed:
        require_perm(actor, perms.DELETE_CONSENSUS)
    entries = [
        {"actor": actor, "event_type": CONSENSUS_DELETED, "target": row, "before": snapshot(row),
         "message": f"Deleted with the forecast results of product {product.pk}"}
        for row in doomed
    ]  # fmt: skip
    if doomed:
        audit.record_many(entries)
        # History rows go with their live row (history_of cascades).
        ForecastConsensus.objects.filter(pk__in=[row.pk for row in doomed]).delete()
    retained = live.filter(status__in=_RETAINED).count()
    result = {
        "product_id": product.pk,
        "deleted": forecasts_deleted + len(doomed),
        "forecasts_deleted": forecasts_deleted,
        "consensus_deleted": len(doomed),
        "consensus_retained": retained,
    }
    audit.record(
        actor=actor,
        event_type=RESULTS_DISCARDED,
        target=product,
        after={**result, "runs_discarded": len(closed)},
        message=f"{forecasts_deleted} forecast results of product {product.pk} discarded",
    )
    bus.publish_on_commit(RESULTS_DISCARDED, run_ids=run_ids, product_ids=[product.pk])
    return result
