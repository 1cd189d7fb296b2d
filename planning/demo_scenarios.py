"""DEMO-10: the demo scenarios, made through the scenario services by the demo users who would have acted.

- "Baseline <previous month>": baseline, approved and designated as the operating plan of the previous month;
- "Holiday promotion +12 %": what-if of the anchor month, run (completed);
- "Supplier disruption \u221215 %" (a minus sign): stress test of the anchor month, submitted for approval;
- "Price increase +3 %": what-if, draft;
- "Best case demand +8 %": best case, rejected by the executive.

The anchor month has no operating plan yet (the executive designates one during the demo). Loading is
idempotent: a scenario whose name already exists is left alone.
"""

import datetime

from governance.choices import Source
from governance.models import AuditEvent, User
from planning import events
from planning.models import Scenario
from planning.services import scenarios as svc

PLANNER = "demand@genxsop.com"
SUPPLY = "supply@genxsop.com"
FINANCE = "finance@genxsop.com"
COORDINATOR = "coordinator@genxsop.com"
EXECUTIVE = "executive@genxsop.com"


def _previous_month(anchor: datetime.date) -> datetime.date:
    return (anchor.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def specs(anchor: datetime.date) -> list[dict]:
    previous = _previous_month(anchor)
    month = anchor.strftime("%Y-%m")
    return [
        {"name": f"Baseline {previous:%B %Y}", "by": COORDINATOR, "until": "designate",
         "data": {"scenario_type": "baseline", "parameters": {"period": previous.strftime("%Y-%m")},
                  "description": "The consensus plan as approved for the month, without changes."},
         "comments": ("Baseline of the monthly review.", "Approved as the plan of record.", "Operating plan.")},
        {"name": "Holiday promotion +12 %", "by": PLANNER, "until": "run",
         "data": {"scenario_type": "what_if", "parameters": {"period": month, "demand_change_pct": 12,
                                                            "price_change_pct": -5},
                  "description": "Holiday campaign: 12 % more demand at a 5 % lower price."}},
        {"name": "Supplier disruption \u221215 %", "by": SUPPLY, "until": "submit",
         "data": {"scenario_type": "stress_test", "parameters": {"period": month, "supply_capacity_pct": -15,
                                                                "inventory_release_pct": 20},
                  "description": "A key supplier delivers 15 % less; safety stock is released to cover."},
         "comments": ("Please review before the supply meeting.",)},
        {"name": "Price increase +3 %", "by": FINANCE, "until": "draft",
         "data": {"scenario_type": "what_if", "parameters": {"period": month, "price_change_pct": 3,
                                                            "demand_change_pct": -1},
                  "description": "List price +3 % with a small volume loss."}},
        {"name": "Best case demand +8 %", "by": PLANNER, "until": "reject",
         "data": {"scenario_type": "best_case", "parameters": {"period": month, "demand_change_pct": 8,
                                                              "supply_capacity_pct": 5}},
         "comments": ("Upside if the new channel launches on time.",
                      "Channel launch is not confirmed; keep the baseline for now.")},
    ]  # fmt: skip


def load(*, anchor: datetime.date) -> dict[str, int]:
    """Create the DEMO-10 scenarios that do not exist yet; returns {"scenarios": created, "existing": n}."""
    users = {u.email: u for u in User.objects.filter(email__in=[PLANNER, SUPPLY, FINANCE, COORDINATOR, EXECUTIVE])}
    executive = users[EXECUTIVE]
    created = existing = 0
    for spec in specs(anchor):
        if Scenario.objects.filter(name=spec["name"]).exists():
            existing += 1
            continue
        actor = users[spec["by"]]
        comments = (*spec.get("comments", ()), "", "", "")
        scenario = svc.scenario_create(actor=actor, data={"name": spec["name"], **spec["data"]})
        until = spec["until"]
        if until != "draft":
            scenario = svc.scenario_run(actor=actor, scenario=scenario)
        if until in ("submit", "reject", "designate"):
            scenario = svc.scenario_submit(actor=actor, scenario=scenario, comment=comments[0])
        if until == "reject":
            svc.scenario_reject(actor=executive, scenario=scenario, comment=comments[1])
        if until == "designate":
            scenario = svc.scenario_approve(actor=executive, scenario=scenario, comment=comments[1])
            svc.scenario_designate_operating_plan(actor=executive, scenario=scenario, comment=comments[2])
        created += 1
    return {"scenarios": created, "existing": existing}


def delete_demo_scenarios(*, actor) -> int:
    """For `load_demo --reset`: remove the scenarios the loader made (created from the command line by the
    demo users), whatever their status, with one audit row. Approved scenarios have no delete action in
    the workflow, so the reset removes them directly."""
    from governance import audit
    from planning.demo_plans import AllRows

    ids = {int(pk) for pk in AuditEvent.objects.filter(
        event_type__in=[events.SCENARIO_CREATED, events.SCENARIO_CLONED], source=Source.CLI,
        actor_name__in=[PLANNER, SUPPLY, FINANCE, COORDINATOR, EXECUTIVE],
    ).values_list("target_id", flat=True) if pk.isdigit()}  # fmt: skip
    rows = Scenario.objects.filter(pk__in=ids)
    count = rows.count()
    if count:
        rows.update(is_operating_plan=False)
        rows.delete()
        audit.record(actor=actor, event_type=events.SCENARIO_DELETED, target=AllRows("scenarios"),
                     target_type="scenario", message=f"Demo reset removed {count} scenarios.",
                     metadata={"rows": count})  # fmt: skip
    return count


def load_into(report) -> None:
    """The loader's step: DEMO-10 scenarios, counted in the demo report."""
    result = load(anchor=report.anchor)
    if result["scenarios"]:
        report.created["scenarios"] = report.created.get("scenarios", 0) + result["scenarios"]
    if result["existing"]:
        report.existing["scenarios"] = report.existing.get("scenarios", 0) + result["existing"]


def reset_into(report, *, actor) -> None:
    """The reset's step: remove the loader's scenarios, counted in the demo report."""
    count = delete_demo_scenarios(actor=actor)
    if count:
        report.deleted["scenarios"] = count
