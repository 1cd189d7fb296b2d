"""Production scheduling services and formulas (PLN-14, WF-70, FRM-33, FRM-34), worked by hand."""

import datetime
from decimal import Decimal

import pytest

from genxsop import errors
from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import services
from planning.choices import ScheduleStatus
from planning.models import ProductionSchedule
from planning.selectors.production import production_capacity_summary, production_schedule_list
from planning.services.production import (
    production_schedule_allowed_actions,
    production_schedule_generate,
    production_schedule_resequence,
    production_schedule_set_status,
    split_quantity,
)
from tests.planning import supply_world
from tests.planning.supply_world import MARCH, supply

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture
def w(users):
    return supply_world.build(users)


def approved(w, **data):
    plan = supply(w, **data)
    services.supply_plan_submit(actor=w.planner, plan=plan)
    return services.supply_plan_approve(actor=w.exec, plan=plan)


def generate(w, plan, *, actor=None, workcenters=("WC-1", "WC-2"), lines=("Line-1",), shifts=("Shift-A", "Shift-B"),
             duration=8):  # fmt: skip
    return production_schedule_generate(
        actor=actor or w.planner, supply_plan=plan, workcenters=list(workcenters), lines=list(lines),
        shifts=list(shifts), duration_hours_per_slot=duration,
    )  # fmt: skip


def slots_of(plan) -> list[ProductionSchedule]:
    return list(ProductionSchedule.objects.filter(supply_plan=plan).order_by("sequence_order"))


def audit_types(**filters) -> list[str]:
    return list(AuditEvent.objects.filter(target_type="production_schedule", **filters).order_by("id")
                .values_list("event_type", flat=True))  # fmt: skip


# FRM-33: the quantity split -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [
        # 100.00 / 3 = 33.333… → base 33.33; 3 x 33.33 = 99.99, one cent left → the first slot
        ("100.00", 3, ["33.34", "33.33", "33.33"]),
        # 100.05 / 4 = 25.0125 → base 25.01; 4 x 25.01 = 100.04, one cent left
        ("100.05", 4, ["25.02", "25.01", "25.01", "25.01"]),
        # 10.00 / 7 = 1.428… → base 1.42; 7 x 1.42 = 9.94, six cents left → slots 1..6
        ("10.00", 7, ["1.43", "1.43", "1.43", "1.43", "1.43", "1.43", "1.42"]),
        # exact division leaves nothing over
        ("120.00", 4, ["30.00", "30.00", "30.00", "30.00"]),
        # fewer cents than slots: 0.02 / 3 → base 0.00, two cents left
        ("0.02", 3, ["0.01", "0.01", "0.00"]),
    ],
)
def test_split_truncates_to_cents_and_hands_the_leftover_cents_to_the_first_slots(total, count, expected):
    parts = split_quantity(Decimal(total), count)
    assert [str(p) for p in parts] == expected
    assert sum(parts) == Decimal(total)


def test_generate_splits_100_over_three_slots_as_33_34_33_33_33_33(w):
    plan = approved(w, planned_prod_qty=Decimal("100.00"))
    result = generate(w, plan, workcenters=["WC-1"], shifts=["Shift-A", "Shift-B", "Shift-C"])
    assert [str(s.planned_qty) for s in result.slots] == ["33.34", "33.33", "33.33"]
    assert [str(s.planned_qty) for s in slots_of(plan)] == ["33.34", "33.33", "33.33"]


# FRM-33: slots, start times, time zone ------------------------------------------------------------


def test_slots_nest_workcenter_line_shift_and_start_on_later_days_per_round_of_shifts(w):
    plan = approved(w, planned_prod_qty=Decimal("100.05"))  # period 2026-03-01
    result = generate(w, plan)
    assert result.warnings == []
    assert result.replaced == 0
    rows = slots_of(plan)
    assert [(s.sequence_order, s.workcenter, s.line, s.shift) for s in rows] == [
        (1, "WC-1", "Line-1", "Shift-A"), (2, "WC-1", "Line-1", "Shift-B"),
        (3, "WC-2", "Line-1", "Shift-A"), (4, "WC-2", "Line-1", "Shift-B"),
    ]  # fmt: skip
    # Slot i starts at the period date + ⌊(i - 1) / 2 shifts⌋ days at the shift hour (A 06:00, B 14:00), UTC:
    # i=1 → +0 d 06:00; i=2 → +0 d 14:00; i=3 → +1 d 06:00; i=4 → +1 d 14:00. End = start + 8 h.
    assert [(s.planned_start_at, s.planned_end_at) for s in rows] == [
        (at(2026, 3, 1, 6), at(2026, 3, 1, 14)), (at(2026, 3, 1, 14), at(2026, 3, 1, 22)),
        (at(2026, 3, 2, 6), at(2026, 3, 2, 14)), (at(2026, 3, 2, 14), at(2026, 3, 2, 22)),
    ]  # fmt: skip
    # 100.05 / 4 → 25.01 each, one cent over → the first slot
    assert [str(s.planned_qty) for s in rows] == ["25.02", "25.01", "25.01", "25.01"]
    assert {(s.status, s.product_id, s.period, s.created_by_id) for s in rows} == {
        (ScheduleStatus.DRAFT, w.speaker.pk, MARCH, w.planner.pk)
    }


def test_start_hours_are_wall_clock_time_in_the_planning_time_zone_across_a_dst_change(w, settings):
    settings.PLANNING_TIME_ZONE = "America/New_York"
    plan = approved(w, planned_prod_qty=Decimal("90"))
    # Nine workcenters x one Shift-C (22:00) → slot i starts i - 1 days after 2026-03-01.
    generate(w, plan, workcenters=[f"WC-{n}" for n in range(1, 10)], shifts=["Shift-C"], duration=8)
    rows = slots_of(plan)
    # Slot 1: 2026-03-01 22:00 EST (UTC-5) = 2026-03-02 03:00Z.
    assert rows[0].planned_start_at == at(2026, 3, 2, 3)
    # Slot 8: 2026-03-08 22:00 — daylight time began at 02:00 that day, EDT (UTC-4) = 2026-03-09 02:00Z.
    assert rows[7].planned_start_at == at(2026, 3, 9, 2)
    # Slot 9: 2026-03-09 22:00 EDT = 2026-03-10 02:00Z; it lasts eight real hours → 10:00Z.
    assert (rows[8].planned_start_at, rows[8].planned_end_at) == (at(2026, 3, 10, 2), at(2026, 3, 10, 10))


def test_shift_hours_come_from_settings_and_an_unknown_shift_starts_at_six_with_a_warning(w, settings):
    settings.SHIFT_START_HOURS = {"Shift-A": 5}
    plan = approved(w, planned_prod_qty=Decimal("10"))
    result = generate(w, plan, workcenters=["WC-1"], shifts=["Shift-A", "Night"], duration=4)
    assert result.warnings == ["Night is not in the shift calendar; its slots start at 06:00."]
    rows = slots_of(plan)
    assert [(s.shift, s.planned_start_at, s.planned_end_at) for s in rows] == [
        ("Shift-A", at(2026, 3, 1, 5), at(2026, 3, 1, 9)), ("Night", at(2026, 3, 1, 6), at(2026, 3, 1, 10)),
    ]  # fmt: skip


def test_names_are_trimmed_and_deduplicated_in_input_order(w):
    plan = approved(w, planned_prod_qty=Decimal("60"))
    generate(w, plan, workcenters=[" WC-2 ", "WC-1", "WC-2", ""], lines=["Line-1 ", " Line-1"],
             shifts=["Shift-B", " Shift-A", "Shift-B"])  # fmt: skip
    assert [(s.workcenter, s.line, s.shift) for s in slots_of(plan)] == [
        ("WC-2", "Line-1", "Shift-B"), ("WC-2", "Line-1", "Shift-A"),
        ("WC-1", "Line-1", "Shift-B"), ("WC-1", "Line-1", "Shift-A"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"workcenters": ["", "  "]}, "workcenters"), ({"lines": []}, "lines"), ({"shifts": [" "]}, "shifts"),
     ({"shifts": ["S" * 21]}, "shifts"), ({"duration": 0}, "duration_hours_per_slot"),
     ({"duration": 25}, "duration_hours_per_slot")],
)  # fmt: skip
def test_bad_inputs_are_400_and_write_nothing(w, kwargs, field):
    plan = approved(w)
    with pytest.raises(errors.ValidationFailed) as caught:
        generate(w, plan, **kwargs)
    assert field in caught.value.fields
    assert not ProductionSchedule.objects.exists()
    assert audit_types() == []


def test_only_an_approved_or_locked_live_plan_with_a_planned_quantity_is_scheduled(w):
    draft = supply(w)
    with pytest.raises(errors.Conflict) as caught:
        generate(w, draft)
    assert caught.value.code == "BUSINESS_RULE_VIOLATION"
    assert caught.value.context["current_status"] == "draft"
    services.supply_plan_submit(actor=w.planner, plan=draft)
    with pytest.raises(errors.Conflict):
        generate(w, draft)
    empty = approved(w, product=w.radio, planned_prod_qty=Decimal("0"))
    with pytest.raises(errors.ValidationFailed, match="no planned quantity"):
        generate(w, empty)
    assert not ProductionSchedule.objects.exists()


def test_roles_outside_sup_w_cannot_generate_and_an_out_of_scope_plan_is_not_found(w, make_user):
    plan = approved(w)
    for user in (w.exec, w.viewer, w.demand_planner, w.finance):
        with pytest.raises(errors.PermissionDenied):
            generate(w, plan, actor=user)
    scoped = make_user(Role.SUPPLY_PLANNER)
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.garden.pk, "access": "change"}])
    with pytest.raises(errors.NotFound):
        generate(w, plan, actor=scoped)
    generate(w, plan, actor=w.coord)
    assert len(slots_of(plan)) == 4


def test_generation_writes_one_audit_row_per_slot(w):
    plan = approved(w)
    result = generate(w, plan)
    rows = AuditEvent.objects.filter(event_type="planning.production_schedule.generated").order_by("target_id")
    assert sorted(int(r.target_id) for r in rows) == sorted(s.pk for s in result.slots)
    first = rows.get(target_id=str(result.slots[0].pk))
    assert (first.actor_id, first.related_type, first.related_id) == (w.planner.pk, "supply_plan", str(plan.pk))
    assert first.after["planned_qty"] == "25.00"
    assert first.after["status"] == "draft"
    assert first.metadata["workcenters"] == ["WC-1", "WC-2"]
    assert first.metadata["duration_hours_per_slot"] == 8


# WF-70: regeneration ------------------------------------------------------------------------------


def test_regeneration_replaces_every_slot_even_released_ones(w):
    plan = approved(w)
    old = generate(w, plan).slots
    production_schedule_set_status(actor=w.planner, slot=old[0], status=ScheduleStatus.RELEASED)
    result = generate(w, plan, workcenters=["WC-9"], shifts=["Shift-A"])
    assert result.replaced == 4
    rows = slots_of(plan)
    assert [(s.workcenter, s.sequence_order, str(s.planned_qty), s.status) for s in rows] == [
        ("WC-9", 1, "100.00", "draft")
    ]
    assert not ProductionSchedule.objects.filter(pk__in=[s.pk for s in old]).exists()
    replaced = AuditEvent.objects.filter(event_type="planning.production_schedule.replaced")
    assert sorted(int(r.target_id) for r in replaced) == sorted(s.pk for s in old)
    assert replaced.get(target_id=str(old[0].pk)).before["status"] == "released"


@pytest.mark.parametrize("started", [ScheduleStatus.IN_PROGRESS, ScheduleStatus.COMPLETED])
def test_regeneration_is_refused_in_use_once_work_started_and_changes_nothing(w, started):
    plan = approved(w)
    slots = generate(w, plan).slots
    production_schedule_set_status(actor=w.planner, slot=slots[1], status=ScheduleStatus.RELEASED)
    production_schedule_set_status(actor=w.planner, slot=slots[1], status=ScheduleStatus.IN_PROGRESS)
    if started == ScheduleStatus.COMPLETED:
        production_schedule_set_status(actor=w.planner, slot=slots[1], status=ScheduleStatus.COMPLETED)
    before = list(ProductionSchedule.objects.filter(supply_plan=plan).order_by("pk").values())
    audit_count = AuditEvent.objects.count()
    with pytest.raises(errors.InUse) as caught:
        generate(w, plan, workcenters=["WC-3"])
    assert caught.value.code == "IN_USE"
    assert caught.value.context == {"started_slot_ids": [slots[1].pk]}
    assert list(ProductionSchedule.objects.filter(supply_plan=plan).order_by("pk").values()) == before
    assert AuditEvent.objects.count() == audit_count


# WF-70: status transitions ------------------------------------------------------------------------


def test_a_slot_walks_release_unrelease_release_start_complete_with_audit(w):
    plan = approved(w)
    slot = generate(w, plan).slots[0]
    slot = production_schedule_set_status(actor=w.planner, slot=slot, status="released")
    assert (slot.status, slot.released_by, slot.released_at is not None) == ("released", w.planner, True)
    slot = production_schedule_set_status(actor=w.coord, slot=slot, status="draft")
    assert (slot.status, slot.released_by, slot.released_at) == ("draft", None, None)
    slot = production_schedule_set_status(actor=w.exec, slot=slot, status="released")
    assert slot.released_by == w.exec
    slot = production_schedule_set_status(actor=w.exec, slot=slot, status="in_progress")
    slot = production_schedule_set_status(actor=w.admin, slot=slot, status="completed")
    slot.refresh_from_db()
    assert (slot.status, slot.released_by) == ("completed", w.exec)
    assert audit_types(target_id=str(slot.pk)) == [
        "planning.production_schedule.generated", "planning.production_schedule.released",
        "planning.production_schedule.unreleased", "planning.production_schedule.released",
        "planning.production_schedule.started", "planning.production_schedule.completed",
    ]  # fmt: skip
    started = AuditEvent.objects.get(event_type="planning.production_schedule.started", target_id=str(slot.pk))
    assert (started.before["status"], started.after["status"], started.actor_id) == ("released", "in_progress",
                                                                                    w.exec.pk)  # fmt: skip


@pytest.mark.parametrize(
    ("path", "target", "action", "allowed"),
    [([], "in_progress", "start", ["release"]), ([], "completed", "complete", ["release"]),
     ([], "draft", "unrelease", ["release"]), (["released"], "completed", "complete", ["start", "unrelease"]),
     (["released", "in_progress"], "released", "release", ["complete"]),
     (["released", "in_progress", "completed"], "draft", "unrelease", [])],
)  # fmt: skip
def test_illegal_moves_are_409_with_the_allowed_actions_and_change_nothing(w, path, target, action, allowed):
    plan = approved(w)
    slot = generate(w, plan).slots[0]
    for step in path:
        slot = production_schedule_set_status(actor=w.planner, slot=slot, status=step)
    before = ProductionSchedule.objects.filter(pk=slot.pk).values().get()
    audit_count = AuditEvent.objects.count()
    with pytest.raises(errors.InvalidStateTransition) as caught:
        production_schedule_set_status(actor=w.planner, slot=slot, status=target)
    assert caught.value.context == {"current_status": slot.status, "action": action, "allowed_actions": allowed}
    assert ProductionSchedule.objects.filter(pk=slot.pk).values().get() == before
    assert AuditEvent.objects.count() == audit_count


def test_status_changes_need_ps_exec(w):
    slot = generate(w, approved(w)).slots[0]
    for user in (w.viewer, w.demand_planner, w.finance, w.users[Role.INVENTORY_MANAGER]):
        with pytest.raises(errors.PermissionDenied):
            production_schedule_set_status(actor=user, slot=slot, status="released")
    assert production_schedule_allowed_actions(w.exec, slot) == ["release"]
    assert production_schedule_allowed_actions(w.planner, slot) == ["release", "resequence"]
    assert production_schedule_allowed_actions(w.viewer, slot) == []


# Resequencing --------------------------------------------------------------------------------------


def sequence(plan) -> list[tuple[str, str, int]]:
    return [(s.workcenter, s.shift, s.sequence_order) for s in slots_of(plan)]


def test_moving_a_slot_up_swaps_it_with_its_neighbour_and_returns_the_whole_plan(w):
    plan = approved(w)
    slots = generate(w, plan).slots  # 1 WC-1/A, 2 WC-1/B, 3 WC-2/A, 4 WC-2/B
    rows = production_schedule_resequence(actor=w.planner, slot=slots[2], direction="up")
    expected = [("WC-1", "Shift-A", 1), ("WC-2", "Shift-A", 2), ("WC-1", "Shift-B", 3), ("WC-2", "Shift-B", 4)]
    assert [(s.workcenter, s.shift, s.sequence_order) for s in rows] == expected
    assert sequence(plan) == expected
    moved = AuditEvent.objects.filter(event_type="planning.production_schedule.resequenced").order_by("id")
    assert [(int(e.target_id), e.before, e.after, e.metadata["direction"]) for e in moved] == [
        (slots[2].pk, {"sequence_order": 3}, {"sequence_order": 2}, "up"),
        (slots[1].pk, {"sequence_order": 2}, {"sequence_order": 3}, "down"),
    ]  # fmt: skip
    production_schedule_resequence(actor=w.coord, slot=slots[2], direction="down")
    assert sequence(plan) == [("WC-1", "Shift-A", 1), ("WC-1", "Shift-B", 2), ("WC-2", "Shift-A", 3),
                              ("WC-2", "Shift-B", 4)]  # fmt: skip


def test_moving_past_either_end_changes_nothing(w):
    plan = approved(w)
    slots = generate(w, plan).slots
    audit_count = AuditEvent.objects.count()
    first = production_schedule_resequence(actor=w.planner, slot=slots[0], direction="up")
    last = production_schedule_resequence(actor=w.planner, slot=slots[3], direction="down")
    assert [s.sequence_order for s in first] == [s.sequence_order for s in last] == [1, 2, 3, 4]
    assert [s.pk for s in first] == [s.pk for s in slots]
    assert AuditEvent.objects.count() == audit_count


def test_released_slots_move_but_started_slots_and_their_neighbours_do_not(w):
    plan = approved(w)
    slots = generate(w, plan).slots
    production_schedule_set_status(actor=w.planner, slot=slots[0], status="released")
    production_schedule_resequence(actor=w.planner, slot=slots[0], direction="down")  # released moves
    assert slots_of(plan)[1].pk == slots[0].pk
    production_schedule_set_status(actor=w.planner, slot=slots[0], status="in_progress")  # now at sequence 2
    with pytest.raises(errors.InvalidStateTransition) as caught:
        production_schedule_resequence(actor=w.planner, slot=slots[0], direction="up")
    assert caught.value.context["current_status"] == "in_progress"
    with pytest.raises(errors.InvalidStateTransition):  # slot 3 cannot swap into the started slot's place
        production_schedule_resequence(actor=w.planner, slot=slots[2], direction="up")
    assert [s.sequence_order for s in slots_of(plan)] == [1, 2, 3, 4]
    with pytest.raises(errors.ValidationFailed):
        production_schedule_resequence(actor=w.planner, slot=slots[3], direction="sideways")
    with pytest.raises(errors.PermissionDenied):
        production_schedule_resequence(actor=w.exec, slot=slots[3], direction="up")


# FRM-34: capacity summary --------------------------------------------------------------------------


def test_capacity_summary_of_an_overloaded_plan(w):
    # planned 100.00 over capacity 90.00: utilisation 100 / 90 x 100 = 111.11 %, overloaded
    plan = approved(w, planned_prod_qty=Decimal("100.00"), capacity_max=Decimal("90"))
    generate(w, plan, workcenters=["WC-1", "WC-2"], lines=["Line-1"], shifts=["Shift-A", "Shift-B", "Shift-C"])
    summary = production_capacity_summary(user=w.exec, supply_plan_id=plan.pk)
    # 100.00 / 6 = 16.666… → 16.66 each, 4 cents over → slots 1..4 (WC-1 A, B, C and WC-2 A) get 16.67
    assert summary == {
        "supply_plan_id": plan.pk, "slot_count": 6, "planned_total_qty": Decimal("100.00"),
        "capacity_max_qty": Decimal("90.00"), "utilization_pct": Decimal("111.11"), "overloaded": True,
        "groups": [
            {"workcenter": "WC-1", "line": "Line-1", "shift": "Shift-A", "slot_count": 1,
             "total_planned_qty": Decimal("16.67")},
            {"workcenter": "WC-1", "line": "Line-1", "shift": "Shift-B", "slot_count": 1,
             "total_planned_qty": Decimal("16.67")},
            {"workcenter": "WC-1", "line": "Line-1", "shift": "Shift-C", "slot_count": 1,
             "total_planned_qty": Decimal("16.67")},
            {"workcenter": "WC-2", "line": "Line-1", "shift": "Shift-A", "slot_count": 1,
             "total_planned_qty": Decimal("16.67")},
            {"workcenter": "WC-2", "line": "Line-1", "shift": "Shift-B", "slot_count": 1,
             "total_planned_qty": Decimal("16.66")},
            {"workcenter": "WC-2", "line": "Line-1", "shift": "Shift-C", "slot_count": 1,
             "total_planned_qty": Decimal("16.66")},
        ],
    }  # fmt: skip


def test_capacity_summary_without_capacity_or_slots(w):
    # capacity null → 0: utilisation 0 and never overloaded
    plan = approved(w, planned_prod_qty=Decimal("80"), capacity_max=None)
    generate(w, plan, workcenters=["WC-1"], shifts=["Shift-A"])
    summary = production_capacity_summary(user=w.planner, supply_plan_id=plan.pk)
    assert (summary["slot_count"], summary["planned_total_qty"], summary["capacity_max_qty"],
            summary["utilization_pct"], summary["overloaded"]) == (1, Decimal("80.00"), Decimal("0.00"),
                                                                   Decimal("0.00"), False)  # fmt: skip
    # capacity 160, no slots yet: 0 / 160 = 0 %
    other = approved(w, product=w.radio, planned_prod_qty=Decimal("80"), capacity_max=Decimal("160"))
    summary = production_capacity_summary(user=w.planner, supply_plan_id=other.pk)
    assert (summary["slot_count"], summary["planned_total_qty"], summary["utilization_pct"], summary["groups"],
            summary["overloaded"]) == (0, Decimal("0.00"), Decimal("0.00"), [], False)  # fmt: skip
    # 80 / 160 x 100 = 50.00 % once scheduled
    generate(w, other)
    assert production_capacity_summary(user=w.planner, supply_plan_id=other.pk)["utilization_pct"] == Decimal("50.00")


def test_capacity_summary_groups_repeat_resources_and_refuses_bad_ids(w):
    # Two lines collapse into each (workcenter, line, shift) once; 99.99 / 4 = 24.9975 → 24.99 each, 3 cents over.
    plan = approved(w, planned_prod_qty=Decimal("99.99"), capacity_max=Decimal("99.99"))
    generate(w, plan, workcenters=["WC-1"], lines=["Line-1", "Line-2"], shifts=["Shift-A", "Shift-B"])
    summary = production_capacity_summary(user=w.planner, supply_plan_id=str(plan.pk))
    assert [(g["line"], g["shift"], g["total_planned_qty"]) for g in summary["groups"]] == [
        ("Line-1", "Shift-A", Decimal("25.00")), ("Line-1", "Shift-B", Decimal("25.00")),
        ("Line-2", "Shift-A", Decimal("25.00")), ("Line-2", "Shift-B", Decimal("24.99")),
    ]  # fmt: skip
    # equal to the capacity: 100.00 %, not overloaded
    assert (summary["utilization_pct"], summary["overloaded"]) == (Decimal("100.00"), False)
    with pytest.raises(errors.ValidationFailed):
        production_capacity_summary(user=w.planner, supply_plan_id="x")
    with pytest.raises(errors.ValidationFailed):
        production_capacity_summary(user=w.planner, supply_plan_id=None)
    with pytest.raises(errors.NotFound):
        production_capacity_summary(user=w.planner, supply_plan_id=999999)
    with pytest.raises(errors.PermissionDenied):
        production_capacity_summary(user=w.demand_planner, supply_plan_id=plan.pk)


def test_list_filters(w):
    plan = approved(w)
    generate(w, plan)
    other = approved(w, product=w.mower, period=datetime.date(2026, 4, 1))
    generate(w, other, workcenters=["WC-3"], shifts=["Shift-C"])
    user = w.planner
    assert production_schedule_list(user=user).count() == 5
    assert production_schedule_list(user=user, filters={"period": "2026-04-17"}).count() == 1
    assert production_schedule_list(user=user, filters={"workcenter": "WC-1,WC-3"}).count() == 3
    assert production_schedule_list(user=user, filters={"shift": "Shift-B", "supply_plan_id": plan.pk}).count() == 2
    assert production_schedule_list(user=user, filters={"product_id": w.mower.pk}).count() == 1
    assert production_schedule_list(user=user, filters={"status": "draft,released"}).count() == 5
    with pytest.raises(errors.ValidationFailed):
        production_schedule_list(user=user, filters={"status": "lost"})
    with pytest.raises(errors.ValidationFailed):
        production_schedule_list(user=user, filters={"period": "March"})


def test_a_slot_removed_by_a_regeneration_is_not_found_for_a_late_status_change_or_move(w):
    # Given a page or request still holding a slot that a regeneration has since replaced
    plan = approved(w)
    stale = generate(w, plan).slots[1]
    generate(w, plan)
    # Then acting on it is 404, never a server error
    with pytest.raises(errors.NotFound):
        production_schedule_set_status(actor=w.planner, slot=stale, status="released")
    with pytest.raises(errors.NotFound):
        production_schedule_resequence(actor=w.planner, slot=stale, direction="up")
