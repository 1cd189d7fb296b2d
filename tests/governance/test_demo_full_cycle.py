"""The demo data through a whole S&OP cycle (DEMO-11, issue 6 "done when"), through the services.

Right after loading, both lanes are No-Go for the reasons DEMO-11 names. Once the planners finish
their approvals, the executive approves and designates an anchor-month scenario and the coordinator
takes the cycle to step 5, the monthly lane is Go at 3/4 while the weekly lane stays No-Go on the
critical gaps (`go_monthly_only`). The monthly publish then freezes the plans, the executive
completes the cycle, a rollback releases the plans again, and the audit chain verifies.
"""

import pytest
from django.core.management import call_command
from django.utils import timezone

from genxsop.errors import GateFailed, PublishGateFailed
from governance.audit_chain import verify
from governance.choices import CycleStatus, Lane, PublicationStatus
from governance.demo_governance import finish_open_reviews
from governance.models import Publication, PublicationItem, SopCycle, User
from governance.services import cycles
from governance.services.publishing import publication_publish, publication_rollback
from governance.services.readiness import readiness_evaluate_lanes
from planning.choices import PlanStatus, ScenarioStatus
from planning.models import DemandPlan, Scenario
from planning.services.scenarios import scenario_approve, scenario_designate_operating_plan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _failed(evaluation) -> set[str]:
    return {g["gate"] for g in evaluation.must_pass if not g["passed"]}


def test_the_demo_runs_through_a_full_cycle_to_a_frozen_publication_and_back():
    call_command("load_demo", verbosity=0)
    coordinator, executive = _user("coordinator@genxsop.com"), _user("executive@genxsop.com")
    anchor = timezone.localdate().replace(day=1)
    cycle = SopCycle.objects.get(period=anchor, overall_status=CycleStatus.ACTIVE)
    assert cycle.current_step == 2
    weekly = Publication.objects.get(lane=Lane.WEEKLY, status=PublicationStatus.PUBLISHED)
    assert DemandPlan.objects.filter(period=anchor, status=PlanStatus.LOCKED, locked_by_publication=weekly).exists()

    # Right after loading: No-Go on both lanes, with the reasons DEMO-11 names.
    result = readiness_evaluate_lanes(actor=coordinator)
    assert result["overall"] == "no_go"
    monthly = next(e for e in result["evaluations"] if e.lane == Lane.MONTHLY)
    assert {"plans_approved", "operating_plan_scenario", "sop_step_gates"} <= _failed(monthly)
    with pytest.raises(PublishGateFailed) as refused:
        publication_publish(actor=coordinator, lane=Lane.MONTHLY, sop_cycle=cycle)
    assert {g["gate"] for g in refused.value.context["must_pass"] if not g["passed"]} == _failed(monthly)
    with pytest.raises(GateFailed):  # the demand review cannot close on open approvals
        cycles.cycle_advance(actor=coordinator, cycle=cycle)

    # The reviews: approvals finished, the cycle moves on step by step on passing gates. Starting the
    # supply review reopens the supply rows the weekly publication locked outside its freeze window
    # (GOV-51), so the supply planner resubmits them before the gate of step 3 passes.
    assert finish_open_reviews(from_period=anchor) > 0
    for _ in range(3):  # 2 → 3 → 4 → 5
        finish_open_reviews(from_period=anchor)
        cycle = cycles.cycle_advance(actor=coordinator, cycle=cycle, comment="Gate passed.")
    assert cycle.current_step == 5
    candidate = Scenario.objects.get(period=anchor, status=ScenarioStatus.SUBMITTED)
    candidate = scenario_approve(actor=executive, scenario=candidate)
    scenario_designate_operating_plan(actor=executive, scenario=candidate)

    result = readiness_evaluate_lanes(actor=coordinator, sop_cycle=cycle)
    assert result["overall"] == "go_monthly_only"
    monthly = next(e for e in result["evaluations"] if e.lane == Lane.MONTHLY)
    assert (monthly.outcome, monthly.score, monthly.required_score) == ("go", 3, 3)
    assert [c["check"] for c in monthly.scored if not c["passed"]] == ["supply_feasibility"]

    publication = publication_publish(actor=coordinator, lane=Lane.MONTHLY, sop_cycle=cycle,
                                      evaluation_id=monthly.evaluation_id)  # fmt: skip
    assert publication.outcome == "go"
    assert publication.evaluation.dry_run is False
    in_scope = DemandPlan.objects.filter(is_current=True, period__gte=publication.period_from,
                                         period__lte=publication.period_to)  # fmt: skip
    assert not in_scope.exclude(status=PlanStatus.LOCKED).exists()
    assert PublicationItem.objects.filter(publication=publication).count() == publication.item_count > 0

    cycle = cycles.cycle_complete(actor=executive, cycle=cycle, comment="Plan agreed and published.")
    assert cycle.overall_status == CycleStatus.COMPLETED

    outcome = publication_rollback(actor=executive, publication=publication, reason="Wrong price list used")
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.ROLLED_BACK
    assert outcome["restored"] is None  # the first monthly publication: its plans are released
    released = DemandPlan.objects.filter(pk__in=in_scope.values("pk"), locked_by_publication__isnull=True)
    assert released.filter(status=PlanStatus.APPROVED).exists()
    assert PublicationItem.objects.filter(publication=publication).count() == publication.item_count  # kept

    report = verify()
    assert report.ok, report
