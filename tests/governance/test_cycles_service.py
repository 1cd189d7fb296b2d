"""The S&OP cycle service (GOV-08/09, WF-40/41/42, GOV-50/51/52): creation defaults, every step gate
refusing with its reason and passing once the data is fixed, overrides, skip/complete/cancel,
plans reopened when steps 2 and 3 start, the overdue-step alerts and the audit rows of every write."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from forecasting.models import ForecastRun
from forecasting.series import add_months
from genxsop import errors
from governance.choices import Lane, NotificationKind, PublicationStatus, Role
from governance.models import (
    ActionItem,
    AuditEvent,
    Decision,
    Notification,
    Publication,
    ReadinessEvaluation,
    SopCycle,
    SopCycleStep,
    User,
)
from governance.schedules import SCHEDULES
from governance.selectors import overdue_cycle_steps
from governance.services import cycles
from governance.services.action_items import action_item_create
from planning import services as planning
from planning.models import DemandPlan, Inventory, Scenario, SupplyPlan
from planning.services.plans import plans_status_move
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Board agreed to proceed; data fixed next week."


def _month(offset: int) -> datetime.date:
    return add_months(timezone.localdate().replace(day=1), offset)


PERIOD_OFFSET = 6  # far from today's freeze windows


@pytest.fixture
def period():
    return _month(PERIOD_OFFSET)


@pytest.fixture
def coord(users):
    return users[Role.SOP_COORDINATOR]


@pytest.fixture
def exec_(users):
    return users[Role.EXECUTIVE]


@pytest.fixture
def cycle(coord, users, period):
    owners = {
        1: coord,
        2: users[Role.DEMAND_PLANNER],
        3: users[Role.SUPPLY_PLANNER],
        4: coord,
        5: users[Role.EXECUTIVE],
    }
    return cycles.cycle_create(
        actor=coord, data={"period": period, "steps": {n: {"owner": u} for n, u in owners.items()}}
    )


def events_of(event_type: str, target) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type, target_id=str(target.pk)).order_by("id"))


def gate(cycle_, step=None) -> dict:
    return cycles.cycle_gate_evaluate(cycle=SopCycle.objects.get(pk=cycle_.pk), step=step)


def check(result: dict, name: str) -> dict:
    return next(c for c in result["checks"] if c["check"] == name)


def move_to(cycle_, step: int, actor) -> SopCycle:
    """Put the cycle at `step` with the override (the data of the earlier steps is not under test)."""
    cycle_ = SopCycle.objects.get(pk=cycle_.pk)
    while cycle_.current_step < step:
        cycle_ = cycles.cycle_advance(actor=actor, cycle=cycle_, override={"justification": JUSTIFICATION})
    return cycle_


def approved_demand(admin, approver, product, period) -> DemandPlan:
    plan = planning.demand_plan_create(actor=admin, product=product, data={"period": period, "forecast_qty": 100})
    planning.demand_plan_submit(actor=admin, plan=plan)
    return planning.demand_plan_approve(actor=approver, plan=DemandPlan.objects.get(pk=plan.pk))


def approved_supply(admin, approver, product, location, period, qty=100) -> SupplyPlan:
    plan = planning.supply_plan_create(
        actor=admin,
        product=product,
        location=location,
        data={"period": period, "planned_prod_qty": qty, "capacity_max": 200},
    )
    planning.supply_plan_submit(actor=admin, plan=plan)
    return planning.supply_plan_approve(actor=approver, plan=SupplyPlan.objects.get(pk=plan.pk))


def forecast_run(product, as_of) -> ForecastRun:
    return ForecastRun.objects.create(
        product=product,
        selected_model="naive",
        model_used="naive",
        horizon=6,
        history_months=24,
        history_start=add_months(as_of, -24),
        history_end=add_months(as_of, -1),
        as_of_period=as_of,
        demand_pattern="smooth",
    )


# Creation (GOV-50) -------------------------------------------------------------------------------


def test_create_applies_the_defaults_starts_step_1_notifies_its_owner_and_is_audited(coord, period):
    cycle_ = cycles.cycle_create(actor=coord, data={"period": period.replace(day=17), "steps": {1: {"owner": coord}}})
    assert cycle_.cycle_name == f"{period:%B %Y} S&OP Cycle"
    assert cycle_.period == period
    assert cycle_.current_step == 1
    assert cycle_.overall_status == "active"
    steps = list(SopCycleStep.objects.filter(cycle=cycle_).order_by("step_number"))
    assert [s.name for s in steps] == [
        "Data Gathering",
        "Demand Review",
        "Supply Review",
        "Pre-S&OP Meeting",
        "Executive S&OP",
    ]
    assert [s.due_date for s in steps] == [period + timedelta(days=d) for d in (5, 12, 18, 22, 25)]
    assert [s.status for s in steps] == ["in_progress", "pending", "pending", "pending", "pending"]
    assert steps[0].started_at is not None
    assert steps[1].started_at is None
    assert Notification.objects.filter(
        recipient=coord, kind=NotificationKind.ASSIGNMENT, entity_id=str(cycle_.pk)
    ).exists()
    (event,) = events_of("governance.sop_cycle.created", cycle_)
    assert event.actor_id == coord.pk
    assert event.metadata["notified"] == [coord.pk]


def test_a_second_open_cycle_of_the_period_is_a_duplicate_but_a_cancelled_one_frees_it(cycle, coord, period):
    with pytest.raises(errors.DuplicateEntity):
        cycles.cycle_create(actor=coord, data={"period": period})
    cycles.cycle_cancel(actor=coord, cycle=cycle, reason="Restart with new owners")
    again = cycles.cycle_create(actor=coord, data={"period": period, "cycle_name": "Second try"})
    assert again.cycle_name == "Second try"


def test_only_coord_creates_and_owners_must_be_active_readers(users, period, make_user):
    for role in (Role.EXECUTIVE, Role.DEMAND_PLANNER, Role.VIEWER):
        with pytest.raises(errors.PermissionDenied):
            cycles.cycle_create(actor=users[role], data={"period": period})
    with pytest.raises(errors.ValidationFailed):
        cycles.cycle_create(
            actor=users[Role.ADMIN], data={"period": period, "steps": {2: {"owner": users[Role.VIEWER]}}}
        )
    assert not SopCycle.objects.exists()


# Step gates (WF-42) ---------------------------------------------------------------------------------


def test_step_1_gate_reports_missing_actuals_stale_inventory_and_missing_forecasts_then_passes(
    cycle, coord, admin_user, period
):
    product = ProductFactory()
    location = LocationFactory()
    previous = add_months(period, -1)
    plan = planning.demand_plan_create(actor=admin_user, product=product, data={"period": previous, "forecast_qty": 5})
    row = planning.inventory_create(actor=admin_user, product=product, location=location, data={"on_hand_qty": 10})
    Inventory.objects.filter(pk=row.pk).update(snapshot_at=timezone.now() - timedelta(hours=100))
    result = gate(cycle)
    assert result["step"] == 1
    assert result["passed"] is False
    actuals = check(result, "actuals_coverage")
    assert actuals == {
        "check": "actuals_coverage",
        "passed": False,
        "value": 0.0,
        "threshold": 95,
        "detail": actuals["detail"],
        "evidence": [f"{product.sku} {previous:%Y-%m}"],
    }
    assert product.sku in actuals["detail"]
    fresh = check(result, "inventory_freshness")
    assert not fresh["passed"]
    assert fresh["evidence"] == [f"{product.sku}@{location.code}"]
    assert "72 h" in fresh["detail"]
    forecasts = check(result, "forecast_coverage")
    assert not forecasts["passed"]
    assert forecasts["threshold"] == 90
    assert forecasts["evidence"] == [product.sku]
    with pytest.raises(errors.GateFailed) as refused:
        cycles.cycle_advance(actor=coord, cycle=cycle)
    assert refused.value.context["step"] == 1
    assert {c["check"] for c in refused.value.context["checks"]} == {
        "actuals_coverage",
        "inventory_freshness",
        "forecast_coverage",
    }
    assert SopCycle.objects.get(pk=cycle.pk).current_step == 1

    DemandPlan.objects.filter(pk=plan.pk).update(actual_qty=4)
    Inventory.objects.filter(pk=row.pk).update(snapshot_at=timezone.now())
    forecast_run(product, period)
    assert gate(cycle)["passed"] is True
    advanced = cycles.cycle_advance(actor=coord, cycle=cycle, comment="Data in")
    assert advanced.current_step == 2
    step1 = SopCycleStep.objects.get(cycle=cycle, step_number=1)
    assert step1.status == "completed"
    assert step1.completed_by == coord
    assert step1.gate_result["passed"] is True
    assert step1.override_justification == ""


def test_step_1_warns_about_open_high_anomalies(cycle):
    from forecasting.models import ForecastAnomaly

    product = ProductFactory()
    ForecastAnomaly.objects.create(
        product=product,
        period=add_months(cycle.period, -2),
        value=1,
        expected=10,
        direction="spike",
        severity="high",
        detected_at=timezone.now(),
    )
    warnings = gate(cycle)["warnings"]
    assert [w["warning"] for w in warnings] == ["open_high_anomalies"]


def test_step_2_gate_names_the_product_periods_without_an_approved_demand_plan(cycle, coord, admin_user, exec_):
    cycle_ = move_to(cycle, 2, exec_)
    product = ProductFactory(sku="DR-1")
    horizon = cycles.review_horizon(cycle_)
    assert len(horizon) == 3
    draft = planning.demand_plan_create(
        actor=admin_user, product=product, data={"period": horizon[0], "forecast_qty": 10}
    )
    result = gate(cycle_)
    coverage, approval = check(result, "demand_plan_coverage"), check(result, "demand_plan_approval")
    assert not coverage["passed"]
    assert coverage["evidence"] == [f"DR-1 {horizon[1]:%Y-%m}", f"DR-1 {horizon[2]:%Y-%m}"]
    assert not approval["passed"]
    assert approval["evidence"] == [f"DR-1 {horizon[0]:%Y-%m} (draft)"]
    with pytest.raises(errors.GateFailed):
        cycles.cycle_advance(actor=coord, cycle=cycle_)
    planning.demand_plan_submit(actor=admin_user, plan=draft)
    planning.demand_plan_approve(actor=exec_, plan=DemandPlan.objects.get(pk=draft.pk))
    for period in horizon[1:]:
        approved_demand(admin_user, exec_, product, period)
    assert gate(cycle_)["passed"] is True
    assert cycles.cycle_advance(actor=coord, cycle=cycle_).current_step == 3


def test_step_3_gate_needs_an_approved_supply_row_per_demand_period(cycle, coord, admin_user, exec_):
    cycle_ = move_to(cycle, 3, exec_)
    product, location = ProductFactory(sku="SR-1"), LocationFactory()
    horizon = cycles.review_horizon(cycle_)
    approved_demand(admin_user, exec_, product, horizon[0])
    result = gate(cycle_)
    assert not check(result, "supply_plan_coverage")["passed"]
    assert check(result, "supply_plan_coverage")["evidence"] == [f"SR-1 {horizon[0]:%Y-%m}"]
    with pytest.raises(errors.GateFailed):
        cycles.cycle_advance(actor=coord, cycle=cycle_)
    approved_supply(admin_user, exec_, product, location, horizon[0], qty=300)
    result = gate(cycle_)
    assert result["passed"] is True
    assert "overloaded_plans" in {w["warning"] for w in result["warnings"]}
    assert cycles.cycle_advance(actor=coord, cycle=cycle_).current_step == 4


def test_step_4_gate_needs_a_submitted_or_approved_scenario_and_warns_without_decisions(cycle, coord, exec_):
    cycle_ = move_to(cycle, 4, exec_)
    result = gate(cycle_)
    assert not check(result, "scenario_submitted")["passed"]
    assert "No scenario" in check(result, "scenario_submitted")["detail"]
    assert [w["warning"] for w in result["warnings"]] == ["no_decision"]
    Scenario.objects.create(name="Draft only", period=cycle_.period, status="draft")
    with pytest.raises(errors.GateFailed):
        cycles.cycle_advance(actor=coord, cycle=cycle_)
    Scenario.objects.create(name="Promo", period=cycle_.period, status="submitted")
    assert check(gate(cycle_), "scenario_submitted")["evidence"] == ["Promo"]
    assert cycles.cycle_advance(actor=coord, cycle=cycle_).current_step == 5


def test_step_5_gate_needs_the_operating_plan_and_a_published_monthly_publication(cycle, coord, exec_, admin_user):
    cycle_ = move_to(cycle, 5, exec_)
    with pytest.raises(errors.InvalidStateTransition, match="use complete"):
        cycles.cycle_advance(actor=coord, cycle=cycle_)
    result = gate(cycle_)
    assert not check(result, "operating_plan")["passed"]
    assert not check(result, "monthly_publication")["passed"]
    with pytest.raises(errors.GateFailed):
        cycles.cycle_complete(actor=exec_, cycle=cycle_)
    Scenario.objects.create(name="OP", period=cycle_.period, status="approved", is_operating_plan=True)
    evaluation = ReadinessEvaluation.objects.create(
        lane=Lane.MONTHLY,
        period_from=cycle_.period,
        period_to=add_months(cycle_.period, 5),
        outcome="go",
        score=5,
        required_score=3,
        plan_fingerprint="x" * 64,
    )
    Publication.objects.create(
        version_stamp="M-1",
        lane=Lane.MONTHLY,
        period_from=cycle_.period,
        period_to=add_months(cycle_.period, 5),
        sop_cycle=cycle_,
        evaluation=evaluation,
        outcome="go",
        status=PublicationStatus.PUBLISHED,
        published_by=admin_user,
        published_at=timezone.now(),
    )
    assert gate(cycle_)["passed"] is True
    with pytest.raises(errors.PermissionDenied):
        cycles.cycle_complete(actor=coord, cycle=cycle_)
    done = cycles.cycle_complete(actor=exec_, cycle=cycle_, comment="Signed off")
    assert done.overall_status == "completed"
    assert done.completed_by == exec_
    assert SopCycleStep.objects.get(cycle=cycle_, step_number=5).status == "completed"
    (event,) = events_of("governance.sop_cycle.completed", cycle_)
    assert event.metadata["overridden"] is False
    assert event.message == "Signed off"
    with pytest.raises(errors.EntityLocked):
        cycles.cycle_update(actor=coord, cycle=done, data={"notes": "late"})
    with pytest.raises(errors.InvalidStateTransition):
        cycles.cycle_cancel(actor=coord, cycle=done, reason="too late")


def test_step_5_warns_about_overdue_action_items(cycle, coord, exec_):
    cycle_ = move_to(cycle, 5, exec_)
    action_item_create(
        actor=coord,
        cycle=cycle_,
        data={"title": "Late one", "owner": coord, "due_date": timezone.localdate() - timedelta(days=2)},
    )
    assert [w["warning"] for w in gate(cycle_)["warnings"]] == ["overdue_action_items"]


# Overrides, skip, complete, cancel -------------------------------------------------------------------


def test_override_needs_the_role_and_a_20_character_justification_and_is_audited(cycle, coord, exec_):
    product = ProductFactory()
    assert not gate(cycle)["passed"], "an active product without a forecast run fails step 1"
    with pytest.raises(errors.PermissionDenied):
        cycles.cycle_advance(actor=coord, cycle=cycle, override={"justification": JUSTIFICATION})
    with pytest.raises(errors.ValidationFailed):
        cycles.cycle_advance(actor=exec_, cycle=cycle, override={"justification": "too short"})
    with pytest.raises(errors.PermissionDenied):
        cycles.cycle_advance(actor=exec_, cycle=cycle)  # without override the executive is not COORD
    advanced = cycles.cycle_advance(actor=exec_, cycle=cycle, override={"justification": JUSTIFICATION})
    assert advanced.current_step == 2
    step1 = SopCycleStep.objects.get(cycle=cycle, step_number=1)
    assert step1.status == "completed"
    assert step1.override_justification == JUSTIFICATION
    assert step1.gate_result["passed"] is False
    assert product.sku in check(step1.gate_result, "forecast_coverage")["evidence"]
    (event,) = events_of("governance.sop_cycle.advanced", cycle)
    assert event.actor_id == exec_.pk
    assert event.metadata["override_justification"] == JUSTIFICATION
    assert event.metadata["overridden"] is True
    assert event.metadata["gate_result"]["passed"] is False
    assert JUSTIFICATION in event.message
    started = events_of("governance.sop_cycle_step.started", SopCycleStep.objects.get(cycle=cycle, step_number=2))
    assert len(started) == 1


def test_advancing_starts_the_next_step_and_notifies_its_owner(cycle, coord, users):
    planner = users[Role.DEMAND_PLANNER]
    cycles.cycle_advance(actor=coord, cycle=cycle)  # an empty database passes step 1
    step2 = SopCycleStep.objects.get(cycle=cycle, step_number=2)
    assert step2.status == "in_progress"
    assert step2.started_at is not None
    note = Notification.objects.get(recipient=planner, kind=NotificationKind.ASSIGNMENT)
    assert "Demand Review" in note.title
    assert note.url == f"/sop-cycle/{cycle.pk}/"


def test_skip_needs_exec_and_a_reason_and_stops_at_step_5(cycle, coord, exec_):
    with pytest.raises(errors.PermissionDenied):
        cycles.cycle_skip_step(actor=coord, cycle=cycle, reason="not needed")
    with pytest.raises(errors.ValidationFailed):
        cycles.cycle_skip_step(actor=exec_, cycle=cycle, reason="  ")
    skipped = cycles.cycle_skip_step(actor=exec_, cycle=cycle, reason="Data gathered in the ERP")
    assert skipped.current_step == 2
    step1 = SopCycleStep.objects.get(cycle=cycle, step_number=1)
    assert step1.status == "skipped"
    assert step1.skip_reason == "Data gathered in the ERP"
    (event,) = events_of("governance.sop_cycle.step_skipped", cycle)
    assert event.message == "Data gathered in the ERP"
    assert event.metadata["skipped_step"] == 1
    for _ in range(3):
        skipped = cycles.cycle_skip_step(actor=exec_, cycle=skipped, reason="fast track")
    assert skipped.current_step == 5
    with pytest.raises(errors.InvalidStateTransition):
        cycles.cycle_skip_step(actor=exec_, cycle=skipped, reason="fast track")


def test_complete_only_at_step_5_and_with_override_when_the_gate_fails(cycle, exec_):
    with pytest.raises(errors.InvalidStateTransition):
        cycles.cycle_complete(actor=exec_, cycle=cycle)
    cycle_ = move_to(cycle, 5, exec_)
    with pytest.raises(errors.ValidationFailed):
        cycles.cycle_complete(actor=exec_, cycle=cycle_, override={"justification": "short"})
    done = cycles.cycle_complete(actor=exec_, cycle=cycle_, override={"justification": JUSTIFICATION})
    assert done.overall_status == "completed"
    assert SopCycleStep.objects.get(cycle=cycle_, step_number=5).override_justification == JUSTIFICATION
    (event,) = events_of("governance.sop_cycle.completed", cycle_)
    assert event.metadata["overridden"] is True
    assert JUSTIFICATION in event.message


def test_cancel_needs_coord_and_a_reason_and_locks_the_cycle(cycle, coord, exec_):
    with pytest.raises(errors.PermissionDenied):
        cycles.cycle_cancel(actor=exec_, cycle=cycle, reason="no")
    with pytest.raises(errors.ValidationFailed):
        cycles.cycle_cancel(actor=coord, cycle=cycle, reason="")
    cancelled = cycles.cycle_cancel(actor=coord, cycle=cycle, reason="Merged into next month")
    assert cancelled.overall_status == "cancelled"
    assert cancelled.cancel_reason == "Merged into next month"
    assert cancelled.cancelled_by == coord
    (event,) = events_of("governance.sop_cycle.cancelled", cycle)
    assert event.before["overall_status"] == "active"
    assert event.after["overall_status"] == "cancelled"
    for call in (
        lambda: cycles.cycle_advance(actor=coord, cycle=cancelled),
        lambda: cycles.cycle_skip_step(actor=exec_, cycle=cancelled, reason="x"),
    ):
        with pytest.raises(errors.InvalidStateTransition):
            call()
    with pytest.raises(errors.EntityLocked):
        cycles.cycle_update(actor=coord, cycle=cancelled, data={"cycle_name": "Renamed"})


# Edits (API-SOP-05/06, ACC-04) ----------------------------------------------------------------------


def test_update_changes_names_owners_and_turns_legacy_text_into_rows(cycle, coord, users):
    finance = users[Role.FINANCE_ANALYST]
    cycles.cycle_update(
        actor=coord,
        cycle=cycle,
        data={
            "cycle_name": "Renamed",
            "notes": "Kick-off on Monday",
            "steps": {3: {"owner": finance, "due_date": cycle.period}},
            "decisions": "- Hold prices\n\nHold prices\nCut SKU-9",
            "action_items": "Call supplier\n",
        },
    )
    cycle.refresh_from_db()
    assert cycle.cycle_name == "Renamed"
    assert cycle.notes == "Kick-off on Monday"
    step3 = SopCycleStep.objects.get(cycle=cycle, step_number=3)
    assert step3.owner == finance
    assert step3.due_date == cycle.period
    assert sorted(Decision.objects.filter(cycle=cycle).values_list("title", flat=True)) == ["Cut SKU-9", "Hold prices"]
    item = ActionItem.objects.get(cycle=cycle)
    step5_due = SopCycleStep.objects.get(cycle=cycle, step_number=5).due_date
    assert item.title == "Call supplier"
    assert item.owner == coord
    assert item.due_date == step5_due
    assert Notification.objects.filter(recipient=finance, kind=NotificationKind.ASSIGNMENT).exists()
    (event,) = events_of("governance.sop_cycle.updated", cycle)
    assert "step_3_owner" in event.metadata["changed"]
    assert len(event.metadata["decision_ids"]) == 2
    # The rendered text sent back creates nothing new (GOV-52 round trip).
    cycles.cycle_update(
        actor=coord,
        cycle=cycle,
        data={"decisions": cycles.render_decisions(cycle), "action_items": cycles.render_action_items(cycle)},
    )
    assert Decision.objects.filter(cycle=cycle).count() == 2
    assert ActionItem.objects.filter(cycle=cycle).count() == 1
    assert len(events_of("governance.sop_cycle.updated", cycle)) == 1
    lines = cycles.render_action_items(cycle).splitlines()
    assert lines == [f"- [open] Call supplier — {coord.full_name}, due {step5_due:%Y-%m-%d}"]
    with pytest.raises(errors.ValidationFailed):
        cycles.cycle_update(actor=coord, cycle=cycle, data={"overall_status": "completed"})


def test_step_owner_may_edit_notes_in_progress_and_start_the_pending_current_step(cycle, coord, users):
    planner, supply = users[Role.DEMAND_PLANNER], users[Role.SUPPLY_PLANNER]
    step = cycles.cycle_step_update(actor=coord, cycle=cycle, step_number=1, data={"notes": "Collect ERP data"})
    assert step.notes == "Collect ERP data"
    with pytest.raises(errors.PermissionDenied):
        cycles.cycle_step_update(actor=supply, cycle=cycle, step_number=2, data={"notes": "not mine"})
    with pytest.raises(errors.PermissionDenied):
        cycles.cycle_step_update(actor=planner, cycle=cycle, step_number=2, data={"due_date": cycle.period})
    with pytest.raises(errors.InvalidStateTransition):  # pending: the owner edits notes only in progress
        cycles.cycle_step_update(actor=planner, cycle=cycle, step_number=2, data={"notes": "early"})
    with pytest.raises(errors.InvalidStateTransition):  # not the current step
        cycles.cycle_step_update(actor=planner, cycle=cycle, step_number=2, data={"status": "in_progress"})
    with pytest.raises(errors.ValidationFailed):
        cycles.cycle_step_update(actor=coord, cycle=cycle, step_number=1, data={"status": "completed"})
    # A cycle whose current step was never started (e.g. migrated): its owner starts it.
    SopCycle.objects.filter(pk=cycle.pk).update(current_step=2)
    step = cycles.cycle_step_update(
        actor=planner, cycle=cycle, step_number=2, data={"status": "in_progress", "notes": "Reviewing"}
    )
    assert step.status == "in_progress"
    assert step.notes == "Reviewing"
    assert step.started_at is not None
    step_row = SopCycleStep.objects.get(cycle=cycle, step_number=2)
    assert len(events_of("governance.sop_cycle_step.started", step_row)) == 1
    assert len(events_of("governance.sop_cycle_step.updated", step_row)) == 1
    assert (
        len(events_of("governance.sop_cycle_step.updated", SopCycleStep.objects.get(cycle=cycle, step_number=1))) == 1
    )


# GOV-51: reopening plans ------------------------------------------------------------------------------


def test_step_2_start_reopens_locked_demand_plans_outside_every_freeze_window(cycle, coord, admin_user, exec_):
    product = ProductFactory()
    inside = approved_demand(admin_user, exec_, product, cycle.period)  # the monthly freeze: the cycle period
    outside = approved_demand(admin_user, exec_, product, add_months(cycle.period, 1))
    before = approved_demand(admin_user, exec_, product, add_months(cycle.period, -1))
    supply = approved_supply(admin_user, exec_, product, LocationFactory(), add_months(cycle.period, 1))
    # A current monthly publication from the cycle period: its freeze window is that first month.
    evaluation = ReadinessEvaluation.objects.create(
        lane="monthly", period_from=add_months(cycle.period, -1), period_to=add_months(cycle.period, 6),
        outcome="go", score=4, required_score=3, plan_fingerprint="0" * 64, dry_run=False,
    )  # fmt: skip
    publication = Publication.objects.create(
        version_stamp="M-TEST-v1", lane="monthly", period_from=cycle.period, period_to=add_months(cycle.period, 6),
        evaluation=evaluation, outcome="go", published_by=admin_user, published_at=timezone.now(),
        snapshot_sha256="0" * 64,
    )  # fmt: skip
    rows = list(DemandPlan.objects.filter(pk__in=[inside.pk, outside.pk, before.pk]).order_by("id"))
    plans_status_move(planning.DEMAND_PLAN, "lock", actor=admin_user, plans=rows, publication=publication)
    plans_status_move(planning.SUPPLY_PLAN, "lock", actor=admin_user, plans=[SupplyPlan.objects.get(pk=supply.pk)],
                      publication=publication)  # fmt: skip
    cycles.cycle_advance(actor=exec_, cycle=cycle, override={"justification": JUSTIFICATION})
    statuses = dict(DemandPlan.objects.filter(pk__in=[inside.pk, outside.pk, before.pk]).values_list("pk", "status"))
    assert statuses == {inside.pk: "locked", outside.pk: "draft", before.pk: "locked"}
    assert SupplyPlan.objects.get(pk=supply.pk).status == "locked"
    (event,) = AuditEvent.objects.filter(event_type="planning.demand_plan.cycle_reopened")
    assert event.target_id == str(outside.pk)
    assert event.metadata["cycle_id"] == cycle.pk
    assert event.actor_id == User.objects.get(email="system@genxsop.local").pk
    (advanced,) = events_of("governance.sop_cycle.advanced", cycle)
    assert advanced.metadata["reopened_plan_ids"] == [outside.pk]
    # Step 3 reopens supply.
    cycles.cycle_skip_step(actor=exec_, cycle=SopCycle.objects.get(pk=cycle.pk), reason="Demand agreed offline")
    assert SupplyPlan.objects.get(pk=supply.pk).status == "draft"


# Overdue steps ----------------------------------------------------------------------------------------


def test_overdue_steps_are_listed_and_their_owners_reminded_once_a_day(cycle, coord, users):
    today = timezone.localdate()
    SopCycleStep.objects.filter(cycle=cycle, step_number__in=[1, 2]).update(due_date=today - timedelta(days=1))
    overdue = list(overdue_cycle_steps(today=today))
    assert [s.step_number for s in overdue] == [1, 2]
    assert cycles.step_is_overdue(overdue[0], cycle, today)
    assert cycles.cycle_steps_notify_overdue(today=today) == 2
    assert cycles.cycle_steps_notify_overdue(today=today) == 0
    notes = Notification.objects.filter(title__startswith="Step overdue:").order_by("id")
    assert [n.recipient_id for n in notes] == [coord.pk, users[Role.DEMAND_PLANNER].pk]
    (event,) = AuditEvent.objects.filter(event_type="governance.sop_cycle_step.overdue_notified")
    assert event.metadata["count"] == 2
    cycles.cycle_cancel(actor=coord, cycle=cycle, reason="Stop")
    assert not overdue_cycle_steps(today=today).exists()
    assert "governance.notify_overdue_cycle_steps" in {s.name for s in SCHEDULES}


def test_allowed_actions_follow_role_state_and_step(cycle, users, coord, exec_):
    assert cycles.cycle_allowed_actions(user=coord, cycle=cycle) == ["edit", "advance", "cancel"]
    assert cycles.cycle_allowed_actions(user=exec_, cycle=cycle) == ["advance_override", "skip_step"]
    assert cycles.cycle_allowed_actions(user=users[Role.DEMAND_PLANNER], cycle=cycle) == []
    cycle_ = move_to(cycle, 5, exec_)
    assert cycles.cycle_allowed_actions(user=exec_, cycle=cycle_) == ["complete", "complete_override"]
    assert cycles.cycle_active() == cycle_
