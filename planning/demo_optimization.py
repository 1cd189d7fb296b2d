"""Demo data of the optimization area (DEMO-09): the coverage 95 % optimisation run that owns the inventory
exceptions, and policy recommendations in every state, one high-impact recommendation awaiting a second
approver among them.

The demo's policies are tuned to hit the DEMO-09 status mix, so the run is recorded rather than re-run
(which would move every policy), and the active exceptions are linked to it. Recommendations go through
the services. Only recommendations whose apply leaves the row's status unchanged are applied, so the
demo never gains a critical row without an owned exception (publish readiness, GOV-62).
"""

from django.db.models import Q
from django.utils import timezone

from genxsop.services import snapshot
from governance import audit
from governance.models import User
from planning import events
from planning.choices import (
    EXCEPTION_ACTIVE_STATUSES,
    InventoryStatus,
    PolicyRunMethod,
    PolicyRunStatus,
    RecommendationStatus,
)
from planning.inventory_rules import inventory_status
from planning.models import Inventory, InventoryPolicyException, InventoryPolicyRecommendation, InventoryPolicyRun
from planning.services import optimization as opt

DEMO_RUN_REQUEST_ID = "demo-09"
MAKER = "inventory@genxsop.com"  # generates the recommendations
CHECKER = "supply@genxsop.com"  # approves and rejects them (maker-checker)
APPLIED, ACCEPTED, REJECTED = 3, 2, 2
SHORT = (InventoryStatus.LOW, InventoryStatus.CRITICAL)


def load_into(report, *, actor) -> None:
    """Add this area's demo rows; idempotent (a second load adds nothing)."""
    if InventoryPolicyRun.objects.filter(request_id=DEMO_RUN_REQUEST_ID).exists():
        report.count("existing", "optimization runs")
        return
    maker = User.objects.filter(email__iexact=MAKER).first() or actor
    checker = User.objects.filter(email__iexact=CHECKER).first() or actor
    _record_run(report, actor=maker)
    _recommendations(report, maker=maker, checker=checker)


def _record_run(report, *, actor) -> InventoryPolicyRun:
    rows = list(Inventory.objects.filter(product__status="active").select_related("product", "location")
                .order_by("product__sku", "location__code"))  # fmt: skip
    now = timezone.now()
    run = InventoryPolicyRun.objects.create(
        status=PolicyRunStatus.COMPLETED, method=PolicyRunMethod.COVERAGE, requested_by=actor,
        parameters={"method": "coverage", "service_level_target": "0.95", "lead_time_days": "14",
                    "review_period_days": "7"},
        request_id=DEMO_RUN_REQUEST_ID, started_at=now, completed_at=now, processed_count=len(rows),
        result={"rows": [{"inventory_id": r.pk, "product_id": r.product_id, "sku": r.product.sku,
                          "location": r.location.code, "method": "coverage", "outcome": "unchanged",
                          "daily_demand": "", "safety_stock": str(r.safety_stock),
                          "reorder_point": str(r.reorder_point),
                          "max_stock": None if r.max_stock is None else str(r.max_stock)} for r in rows]},
    )  # fmt: skip
    linked = InventoryPolicyException.objects.filter(run__isnull=True, status__in=EXCEPTION_ACTIVE_STATUSES)
    run.exception_count = linked.update(run=run)
    run.save(update_fields=["exception_count"])
    audit.record(actor=actor, event_type=events.POLICY_RUN_COMPLETED, target=run,
                 after=snapshot(run, ["run_id", "status", "method", "parameters", "processed_count",
                                      "exception_count"]), metadata={"demo": True})  # fmt: skip
    report.created["optimization runs"] = 1
    return run


def _one(maker, row) -> InventoryPolicyRecommendation | None:
    recs = opt.policy_recommendation_generate(actor=maker, product_id=row.product_id, location=row.location.code)
    return recs[0] if recs else None


def _status_after(row, rec) -> str:
    return inventory_status(on_hand=row.on_hand_qty, allocated=row.allocated_qty, in_transit=row.in_transit_qty,
                            safety_stock=rec.recommended_safety_stock, reorder_point=rec.recommended_reorder_point,
                            max_stock=rec.recommended_max_stock)  # fmt: skip


def _recommendations(report, *, maker, checker) -> None:
    rows = list(Inventory.objects.filter(product__status="active").select_related("product", "location")
                .order_by("product__sku", "location__code"))  # fmt: skip
    counts = dict.fromkeys(RecommendationStatus.values, 0)
    # One high-impact recommendation by the maker, left for a second approver, plus a few pending short rows.
    high = None
    for row in [r for r in rows if r.status in SHORT]:
        rec = _one(maker, row)
        if rec is None:
            continue
        counts["pending"] += 1
        if rec.high_impact and high is None:
            high = rec
        if high is not None and counts["pending"] >= 4:
            break
    # Normal rows: applied where the new levels keep the row normal; accepted and rejected by the checker.
    for row in [r for r in rows if r.status == InventoryStatus.NORMAL][::3]:
        if counts["applied"] >= APPLIED and counts["accepted"] >= ACCEPTED and counts["rejected"] >= REJECTED:
            break
        rec = _one(maker, row)
        if rec is None:
            continue
        safe = _status_after(row, rec) == row.status
        if counts["applied"] < APPLIED and safe:
            if rec.high_impact:
                rec = opt.policy_recommendation_approve(actor=checker, recommendation=rec, notes="Checked the uplift.")
            opt.policy_recommendation_decide(actor=maker, recommendation=rec, decision="accepted",
                                             notes="Applied after the monthly policy review.")  # fmt: skip
            counts["applied"] += 1
        elif counts["accepted"] < ACCEPTED and safe:
            opt.policy_recommendation_approve(actor=checker, recommendation=rec,
                                              notes="Approved; apply with the next replenishment cycle.")  # fmt: skip
            counts["accepted"] += 1
        elif counts["rejected"] < REJECTED:
            opt.policy_recommendation_decide(actor=checker, recommendation=rec, decision="rejected",
                                             notes="Demand pressure is seasonal; keep the current policy.")  # fmt: skip
            counts["rejected"] += 1
        else:
            counts["pending"] += 1
    for status, n in counts.items():
        if n:
            report.created[f"{status} recommendations"] = n


def reset_into(report, *, actor) -> None:
    """Remove what load_into wrote, before the plans and products it refers to go."""
    from planning.demo import PRODUCTS
    from planning.demo_plans import SCALE_PREFIX

    demo_rows = Q(inventory__product__sku__in=[p.sku for p in PRODUCTS]) | Q(
        inventory__product__sku__startswith=SCALE_PREFIX
    )
    recs, _ = InventoryPolicyRecommendation.objects.filter(demo_rows).delete()
    runs = InventoryPolicyRun.objects.filter(request_id=DEMO_RUN_REQUEST_ID)
    InventoryPolicyException.objects.filter(run__in=runs).update(run=None)
    count, _ = runs.delete()
    if recs:
        report.deleted["recommendations"] = recs
    if count:
        report.deleted["optimization runs"] = count
