"""Demo data of the S&OP cycle (DEMO-11): the active cycle of the anchor month at step 2.

Step 1 is completed through the service (with an executive override when the step-1 gate does not
pass on the demo data, which is what a real executive would do with a justification), then one
decision and three open action items (one overdue) are recorded through their services. Loading
twice keeps the existing cycle; `--reset` removes the anchor month's cycle first, with its
decisions and action items, in one audited bulk deletion.
"""

import datetime
from datetime import timedelta

from django.utils import timezone

from governance import audit, events
from governance.choices import CycleStatus
from governance.models import ActionItem, Decision, SopCycle, User
from governance.services import cycles as cycle_services
from governance.services.action_items import action_item_create
from governance.services.decisions import decision_record

COORDINATOR = "coordinator@genxsop.com"
DEMAND = "demand@genxsop.com"
SUPPLY = "supply@genxsop.com"
EXECUTIVE = "executive@genxsop.com"
OVERRIDE_JUSTIFICATION = (
    "Demo data: the data gathering is accepted as it stands so the demand review can start on time."
)


class _CycleRows:
    """The audit target of the reset's bulk deletion."""

    pk = "*"

    def __str__(self) -> str:
        return "demo S&OP cycles"


def _user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def _reset(anchor: datetime.date, report) -> None:
    cycles = list(SopCycle.objects.filter(period=anchor, cycle_name=cycle_services.default_cycle_name(anchor)))
    if not cycles:
        return
    ids = [c.pk for c in cycles]
    ActionItem.objects.filter(cycle_id__in=ids).delete()
    Decision.objects.filter(cycle_id__in=ids).delete()
    SopCycle.objects.filter(pk__in=ids).delete()
    audit.record(
        actor=None,
        event_type=events.SOP_CYCLE_DELETED,
        target=_CycleRows(),
        target_type="sop_cycle",
        message=f"Demo reset removed {len(ids)} S&OP cycles.",
        metadata={"rows": len(ids), "ids": ids},
    )
    report.deleted["sop_cycles"] = report.deleted.get("sop_cycles", 0) + len(ids)


def load_active_cycle(report, *, reset: bool = False) -> SopCycle | None:
    """DEMO-11: the active cycle of `report.anchor` at step 2 with its decision and action items."""
    anchor = report.anchor
    if reset:
        _reset(anchor, report)
    if SopCycle.objects.filter(period=anchor, overall_status__in=[CycleStatus.ACTIVE, CycleStatus.COMPLETED]).exists():
        report.count("existing", "sop_cycle")
        return None
    coordinator, demand, supply, executive = (_user(e) for e in (COORDINATOR, DEMAND, SUPPLY, EXECUTIVE))
    if None in (coordinator, demand, supply, executive):
        return None
    owners = {1: coordinator, 2: demand, 3: supply, 4: coordinator, 5: executive}
    cycle = cycle_services.cycle_create(
        actor=coordinator,
        data={
            "period": anchor,
            "steps": {n: {"owner": user} for n, user in owners.items()},
            "notes": "Monthly S&OP cycle of the demo data set.",
        },
    )
    if cycle_services.cycle_gate_evaluate(cycle=cycle, step=1)["passed"]:
        cycle = cycle_services.cycle_advance(actor=coordinator, cycle=cycle, comment="Data gathering complete.")
    else:
        cycle = cycle_services.cycle_advance(
            actor=executive, cycle=cycle, override={"justification": OVERRIDE_JUSTIFICATION}
        )
    decision = decision_record(
        actor=executive,
        cycle=cycle,
        data={
            "title": "Prioritise the critical supply gaps in the demand review",
            "category": "supply",
            "step_number": 1,
            "description": "Planners review the products with critical gaps first.",
        },
    )
    today = timezone.localdate()
    items = [
        ("Confirm last month's actuals with the ERP team", demand, today - timedelta(days=3), "high"),
        ("Review the consensus forecast of the top 10 products", demand, today + timedelta(days=5), "medium"),
        ("Check supplier capacity for the critical gaps", supply, today + timedelta(days=10), "high"),
    ]
    for title, owner, due, priority in items:
        action_item_create(
            actor=coordinator,
            cycle=cycle,
            data={"title": title, "owner": owner, "due_date": due, "priority": priority, "decision": decision},
        )
    report.count("created", "sop_cycle")
    report.created["action_items"] = report.created.get("action_items", 0) + len(items)
    report.created["decisions"] = report.created.get("decisions", 0) + 1
    return cycle
