"""Demo data of governance history (DEMO-11): completed S&OP cycles of the six previous months and the
current weekly publication.

Everything goes through the services a person would use. The historical cycles predate governed
publishing in the demo company, so their gates are passed with an executive override that says so;
each has its decisions and finished action items. The weekly publication is made last, outside the
loader's transaction (publishing commits its evaluation on its own, GOV-63), after the active cycle
has reached step 2, so it locks the near horizon the way a weekly refresh during the demand review
would.
"""

import datetime

from django.utils import timezone

from forecasting.series import add_months
from genxsop.errors import PublishGateFailed
from governance.choices import ActionItemStatus, CycleStatus, Lane, PublicationStatus
from governance.models import Publication, SopCycle, User
from governance.services import cycles as cycle_services
from governance.services.action_items import action_item_create, action_item_update
from governance.services.decisions import decision_record
from governance.services.publishing import publication_publish

COORDINATOR = "coordinator@genxsop.com"
DEMAND = "demand@genxsop.com"
SUPPLY = "supply@genxsop.com"
EXECUTIVE = "executive@genxsop.com"
HISTORY_MONTHS = 6
HISTORY_OVERRIDE = (
    "Cycle held before publishing was governed in GenXSOP; the plan was released by the executive meeting."
)
WEEKLY_OVERRIDE = "Weekly refresh for the ERP: the open approvals and critical gaps are on the demand review agenda."
_DECISIONS = [
    ("Hold safety stock of the A items through the quarter", "inventory"),
    ("Accept the consensus demand with the marketing uplift", "demand"),
    ("Add a weekend shift at PLANT-01 for the peak month", "supply"),
]
_ACTIONS = [
    ("Reconcile last month's actuals with the ERP", DEMAND),
    ("Confirm supplier capacity for the peak month", SUPPLY),
]


def _users() -> dict[str, User] | None:
    users = {e: User.objects.filter(email__iexact=e).first() for e in (COORDINATOR, DEMAND, SUPPLY, EXECUTIVE)}
    return None if None in users.values() else users


def _history_cycle(period: datetime.date, users: dict[str, User], index: int) -> SopCycle:
    coordinator, executive = users[COORDINATOR], users[EXECUTIVE]
    owners = {1: coordinator, 2: users[DEMAND], 3: users[SUPPLY], 4: coordinator, 5: executive}
    cycle = cycle_services.cycle_create(
        actor=coordinator,
        data={"period": period, "steps": {n: {"owner": u} for n, u in owners.items()},
              "notes": "Monthly S&OP cycle (demo history)."},
    )  # fmt: skip
    for step in range(1, 5):
        if cycle_services.cycle_gate_evaluate(cycle=cycle, step=step)["passed"]:
            cycle = cycle_services.cycle_advance(actor=coordinator, cycle=cycle, comment="Step complete.")
        else:
            cycle = cycle_services.cycle_advance(
                actor=executive, cycle=cycle, override={"justification": HISTORY_OVERRIDE}
            )
    for offset in range(2 + index % 2):
        title, category = _DECISIONS[(index + offset) % len(_DECISIONS)]
        decision_record(actor=executive, cycle=cycle, data={"title": title, "category": category, "step_number": 5})
    due = add_months(period, 1) - datetime.timedelta(days=3)
    for title, owner_email in _ACTIONS:
        item = action_item_create(actor=coordinator, cycle=cycle,
                                  data={"title": title, "owner": users[owner_email], "due_date": due})  # fmt: skip
        for status in (ActionItemStatus.IN_PROGRESS, ActionItemStatus.DONE):
            item = action_item_update(actor=users[owner_email], item=item, data={"status": status})
    return cycle_services.cycle_complete(actor=executive, cycle=cycle, override={"justification": HISTORY_OVERRIDE})


def load_history(report) -> int:
    """Six completed cycles for the months before the anchor, each with two or three decisions and two done
    action items. Existing cycles of those months are kept. Returns the number created."""
    users = _users()
    if users is None:
        return 0
    created = 0
    for months_back in range(HISTORY_MONTHS, 0, -1):
        period = add_months(report.anchor, -months_back)
        if SopCycle.objects.filter(
            period=period, overall_status__in=[CycleStatus.ACTIVE, CycleStatus.COMPLETED]
        ).exists():
            continue
        _history_cycle(period, users, created)
        created += 1
    if created:
        report.created["sop_cycles_history"] = created
    return created


def load_weekly_publication(report) -> Publication | None:
    """The current weekly publication (DEMO-11): published by the coordinator when the lane is Go,
    otherwise by the executive with an audited override. Runs outside any transaction. Kept when one
    is already current; skipped when the demo is anchored on another month than today's."""
    if Publication.objects.filter(lane=Lane.WEEKLY, status=PublicationStatus.PUBLISHED).exists():
        return None
    if report.anchor != timezone.localdate().replace(day=1):
        return None  # the weekly lane always covers today's month, which a demo anchored elsewhere does not plan
    users = _users()
    if users is None:
        return None
    cycle = SopCycle.objects.filter(period=report.anchor, overall_status=CycleStatus.ACTIVE).first()
    try:
        publication = publication_publish(actor=users[COORDINATOR], lane=Lane.WEEKLY, sop_cycle=cycle)
    except PublishGateFailed:
        publication = publication_publish(actor=users[EXECUTIVE], lane=Lane.WEEKLY, sop_cycle=cycle,
                                          override_justification=WEEKLY_OVERRIDE)  # fmt: skip
    report.created["publications"] = report.created.get("publications", 0) + 1
    return publication


class _Rows:
    """The audit target of a reset's bulk deletion."""

    pk = "*"

    def __init__(self, label: str):
        self.label = label

    def __str__(self) -> str:
        return self.label


def reset_into(report, *, actor) -> None:
    """`load_demo --reset`: remove the demo's publications (with their items, evaluations and ERP
    messages) and its historical cycles, each kind in one audited bulk deletion. Publications are never
    deleted by the product itself; only this developer tool does, so the data can be loaded again."""
    from governance import audit, events
    from governance.models import ActionItem, Decision, ReadinessEvaluation
    from planning.models import OutboundMessage

    demo_users = list(User.objects.filter(email__in=[COORDINATOR, EXECUTIVE]).values_list("pk", flat=True))
    publications = Publication.objects.filter(published_by_id__in=demo_users)
    ids = list(publications.values_list("pk", flat=True))
    if ids:
        evaluation_ids = list(publications.values_list("evaluation_id", flat=True))
        stamps = list(publications.values_list("version_stamp", flat=True))
        Publication.objects.filter(pk__in=ids).update(superseded_by=None, restored_publication=None)
        Publication.objects.filter(pk__in=ids).delete()
        ReadinessEvaluation.objects.filter(pk__in=evaluation_ids, publications__isnull=True).delete()
        OutboundMessage.objects.filter(payload__version_stamp__in=stamps).delete()
        audit.record(actor=actor, event_type=events.PUBLICATION_DELETED, target=_Rows("demo publications"),
                     target_type="publication", message=f"Demo reset removed {len(ids)} publications.",
                     metadata={"rows": len(ids), "stamps": stamps})  # fmt: skip
        report.deleted["publications"] = len(ids)
    periods = [add_months(report.anchor, -m) for m in range(1, HISTORY_MONTHS + 1)]
    names = [cycle_services.default_cycle_name(p) for p in periods]
    cycle_ids = list(SopCycle.objects.filter(period__in=periods, cycle_name__in=names).values_list("pk", flat=True))
    if cycle_ids:
        ActionItem.objects.filter(cycle_id__in=cycle_ids).delete()
        Decision.objects.filter(cycle_id__in=cycle_ids).delete()
        SopCycle.objects.filter(pk__in=cycle_ids).delete()
        audit.record(actor=actor, event_type=events.SOP_CYCLE_DELETED, target=_Rows("demo S&OP cycles"),
                     target_type="sop_cycle", message=f"Demo reset removed {len(cycle_ids)} historical cycles.",
                     metadata={"rows": len(cycle_ids), "ids": cycle_ids})  # fmt: skip
        report.deleted["sop_cycles_history"] = len(cycle_ids)


def finish_open_reviews(*, from_period: datetime.date) -> int:
    """What the demo's planners and executive do in the demand and supply reviews: every open current
    row from `from_period` on is revised if rejected, submitted if draft, and approved by the executive,
    all through the plan services. Used to walk the demo through a cycle (tests, benchmarks).
    Returns the number of rows approved."""
    from planning.choices import PlanStatus
    from planning.models import DemandPlan, SupplyPlan
    from planning.services import demand, supply

    users = _users()
    executive = users[EXECUTIVE]
    done = 0
    for model, service, prefix, actor, content in (
        (DemandPlan, demand, "demand_plan", users[DEMAND], "adjusted_qty"),
        (SupplyPlan, supply, "supply_plan", users[SUPPLY], "planned_prod_qty"),
    ):
        update, submit, approve = (getattr(service, f"{prefix}_{a}") for a in ("update", "submit", "approve"))
        rows = model.objects.filter(is_current=True, period__gte=from_period)
        for plan in rows.exclude(status__in=[PlanStatus.APPROVED, PlanStatus.LOCKED]).order_by("pk"):
            if plan.status == PlanStatus.REJECTED:
                value = getattr(plan, content) or getattr(plan, "forecast_qty", None) or 1
                plan = update(actor=actor, plan=plan, data={content: value + 1, "change_reason": "Revised in review"})
            if plan.status == PlanStatus.DRAFT:
                plan = submit(actor=actor, plan=plan)
            approve(actor=executive, plan=plan, comment="Agreed in the review.")
            done += 1
    return done
