"""Demo data of production scheduling (DEMO-13, schedules only): the first five PLANT-01 supply plans of
the anchor month, by SKU, each split over WC-1 and WC-2 x Line-1 x Shift-A and Shift-B.

The anchor month's supply plans are approved when this runs (DEMO-06: only the next two months carry
submitted and draft rows; the weekly publication that locks the anchor month comes later), so they are
schedulable. The supply planner generates them, as in real life.
"""

from governance import audit
from governance.models import User
from planning import events
from planning.models import ProductionSchedule, SupplyPlan
from planning.services.production import SCHEDULABLE_PLAN_STATUSES, production_schedule_generate

PLANT = "PLANT-01"
PLANS = 5
SUPPLY_ACTOR = "supply@genxsop.com"
LAYOUT = {"workcenters": ["WC-1", "WC-2"], "lines": ["Line-1"], "shifts": ["Shift-A", "Shift-B"],
          "duration_hours_per_slot": 8}  # fmt: skip


def _plans(anchor):
    return (SupplyPlan.objects.filter(location__code=PLANT, period=anchor, is_current=True,
                                      status__in=SCHEDULABLE_PLAN_STATUSES, planned_prod_qty__gt=0)
            .select_related("product", "location").order_by("product__sku")[:PLANS])  # fmt: skip


def load_into(report, *, actor) -> None:
    """Generate the missing schedules; a plan that already has slots is left alone (idempotent)."""
    planner = User.objects.filter(email__iexact=SUPPLY_ACTOR).first() or actor
    for plan in _plans(report.anchor):
        if ProductionSchedule.objects.filter(supply_plan=plan).exists():
            report.count("existing", "production schedules")
            continue
        result = production_schedule_generate(actor=planner, supply_plan=plan, **LAYOUT)
        report.count("created", "production schedules")
        report.created["production slots"] = report.created.get("production slots", 0) + len(result.slots)


def reset_into(report, *, actor) -> None:
    """Remove the slots of the demo products' supply plans, with one audit row saying how many went."""
    from planning.demo import PRODUCTS
    from planning.demo_plans import AllRows

    slots = ProductionSchedule.objects.filter(product__sku__in=[p.sku for p in PRODUCTS])
    count = slots.count()
    if not count:
        return
    slots.delete()
    entry = {"actor": actor, "event_type": events.PRODUCTION_SCHEDULE_BULK_DELETED,
             "target": AllRows("production_schedules"), "target_type": "production_schedule",
             "message": f"Demo reset removed {count} production slots.", "metadata": {"rows": count}}  # fmt: skip
    audit.record_many([entry])
    report.deleted["production slots"] = count
