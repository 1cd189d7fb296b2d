"""Production scheduling (PLN-14, WF-70, FRM-33): slots of an approved supply plan over workcenters, lines
and shifts, their status along the slot map, and their order.

Only approved supply plans are scheduled ("from an approved supply plan", §4.2): a locked plan is an
approved one that a publication froze, so it qualifies too; a draft, submitted or rejected plan is 409
BUSINESS_RULE_VIOLATION, because its quantity may still change. Slots are never edited one by one: a
new quantity or resource split is a regeneration, which replaces every slot of the plan.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from genxsop.errors import Conflict, InUse, InvalidStateTransition, NotFound, ValidationFailed
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm, snapshot
from governance import audit, bus
from planning import events
from planning import permissions as perms
from planning.choices import (
    SCHEDULE_MOVABLE_STATUSES,
    SCHEDULE_STARTED_STATUSES,
    SCHEDULE_TRANSITIONS,
    PlanStatus,
    ScheduleStatus,
)
from planning.models import ProductionSchedule, SupplyPlan

__all__ = [
    "DEFAULT_SHIFT_START_HOUR",
    "DURATION_RANGE",
    "SCHEDULABLE_PLAN_STATUSES",
    "ScheduleGeneration",
    "production_schedule_allowed_actions",
    "production_schedule_allowed_statuses",
    "production_schedule_generate",
    "production_schedule_resequence",
    "production_schedule_set_status",
    "slot_start",
    "split_quantity",
]

CENT = Decimal("0.01")
SCHEDULABLE_PLAN_STATUSES = (PlanStatus.APPROVED, PlanStatus.LOCKED)
DEFAULT_SHIFT_START_HOUR = 6  # FRM-33: a shift missing from SHIFT_START_HOURS starts at 06:00
DURATION_RANGE = (1, 24)
MAX_SLOTS = 500  # a combinatorial slip (many workcenters x lines x shifts) is refused, not written
_LIMITS = {"workcenters": 50, "lines": 50, "shifts": 20}  # the column widths of PLN-14
_ACTION_OF_TARGET = {to: action for moves in SCHEDULE_TRANSITIONS.values() for to, action in moves.items()}
_STATUS_EVENTS = {
    ScheduleStatus.RELEASED: events.PRODUCTION_SCHEDULE_RELEASED,
    ScheduleStatus.DRAFT: events.PRODUCTION_SCHEDULE_UNRELEASED,
    ScheduleStatus.IN_PROGRESS: events.PRODUCTION_SCHEDULE_STARTED,
    ScheduleStatus.COMPLETED: events.PRODUCTION_SCHEDULE_COMPLETED,
}


@dataclass
class ScheduleGeneration:
    """What a generation wrote: the new slots in sequence order, the count it replaced and any warnings."""

    slots: list[ProductionSchedule]
    replaced: int = 0
    warnings: list[str] = field(default_factory=list)


# Formulas (FRM-33) ------------------------------------------------------------------------------


def clean_names(values, *, name: str) -> list[str]:
    """Trimmed, de-duplicated in input order, non-empty (CNV-06); too long for the column is 400."""
    out: list[str] = []
    for value in values or []:
        text = str(value).strip()
        if text and text not in out:
            out.append(text)
    if not out:
        raise ValidationFailed(fields={name: ["Give at least one non-blank value."]})
    too_long = [v for v in out if len(v) > _LIMITS[name]]
    if too_long:
        raise ValidationFailed(fields={name: [f"At most {_LIMITS[name]} characters: {too_long[0][:60]}."]})
    return out


def split_quantity(total: Decimal, count: int) -> list[Decimal]:
    """`total` over `count` slots: each gets total / count truncated to cents, and the cents left over
    go one each to the first slots, so the parts add up to `total` exactly."""
    total = Decimal(total).quantize(CENT)
    base = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    leftover = int((total - base * count) / CENT)
    return [base + CENT if i < leftover else base for i in range(count)]


def shift_start_hour(shift: str) -> int | None:
    """The shift's start hour from SHIFT_START_HOURS; None when the calendar does not know it."""
    hours = settings.SHIFT_START_HOURS or {}
    return int(hours[shift]) if shift in hours else None


def slot_start(period: datetime.date, *, hour: int, day_offset: int) -> datetime.datetime:
    """The start of a slot as an aware UTC datetime: the period's first day + `day_offset` days at
    `hour`:00 wall-clock time in PLANNING_TIME_ZONE (CNV-04)."""
    zone = ZoneInfo(settings.PLANNING_TIME_ZONE)
    local = datetime.datetime.combine(period + datetime.timedelta(days=day_offset), datetime.time(hour), tzinfo=zone)
    return local.astimezone(datetime.UTC)


# Who may do what ----------------------------------------------------------------------------------


def _may(user, perm: str, slot: ProductionSchedule) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(perm)
        and object_in_scope(user, slot, change=True)
    )


def production_schedule_allowed_statuses(user, slot: ProductionSchedule) -> list[str]:
    """The statuses `user` may set on `slot` now (WF-70 from its status; PS_EXEC in change scope)."""
    if not _may(user, perms.SET_PRODUCTION_SCHEDULE_STATUS, slot):
        return []
    return list(SCHEDULE_TRANSITIONS[ScheduleStatus(slot.status)])


def production_schedule_allowed_actions(user, slot: ProductionSchedule) -> list[str]:
    """WF-04: the slot-map actions (release, unrelease, start, complete) and `resequence` that `user`
    may take on `slot` now. Resequencing is SUP_W on a draft or released slot."""
    actions = [SCHEDULE_TRANSITIONS[ScheduleStatus(slot.status)][to]
               for to in production_schedule_allowed_statuses(user, slot)]  # fmt: skip
    if slot.status in SCHEDULE_MOVABLE_STATUSES and _may(user, perms.ADD_PRODUCTION_SCHEDULE, slot):
        actions.append("resequence")
    return sorted(actions)


# Writes -------------------------------------------------------------------------------------------


@transaction.atomic
def production_schedule_generate(*, actor, supply_plan: SupplyPlan, workcenters, lines, shifts,
                                 duration_hours_per_slot: int = 8) -> ScheduleGeneration:  # fmt: skip
    """Split an approved supply plan's planned quantity into slots (FRM-33) and replace its schedule.

    Needs add_productionschedule (SUP_W) with the plan in the actor's change scope. Workcenters, lines
    and shifts are trimmed and de-duplicated in input order; an empty list is 400. Slots are every
    workcenter x line x shift in that nesting order, numbered 1..N, each of duration_hours_per_slot
    (1..24) hours, in draft. A shift missing from SHIFT_START_HOURS starts at 06:00 and is reported in
    `warnings`. The plan must be the live row, approved or locked (409 BUSINESS_RULE_VIOLATION
    otherwise), with a planned quantity above zero (400). Regeneration replaces every slot, and is
    refused with 409 IN_USE while any slot is in progress or completed. Emits
    planning.production_schedule.replaced per removed slot and .generated per new slot.
    """
    require_perm(actor, perms.ADD_PRODUCTION_SCHEDULE, supply_plan)
    # Lock order: the plan, then its slots (resequencing takes them in the same order).
    plan = SupplyPlan.objects.select_for_update().select_related("product", "location").get(pk=supply_plan.pk)
    workcenters = clean_names(workcenters, name="workcenters")
    lines = clean_names(lines, name="lines")
    shifts = clean_names(shifts, name="shifts")
    low, high = DURATION_RANGE
    if (
        isinstance(duration_hours_per_slot, bool)
        or not isinstance(duration_hours_per_slot, int)
        or not (low <= duration_hours_per_slot <= high)
    ):
        raise ValidationFailed(fields={"duration_hours_per_slot": [f"A whole number of hours from {low} to {high}."]})
    count = len(workcenters) * len(lines) * len(shifts)
    if count > MAX_SLOTS:
        raise ValidationFailed(f"{count} slots is more than the {MAX_SLOTS} a schedule may hold.",
                               fields={"workcenters": [f"At most {MAX_SLOTS} slots in all."]})  # fmt: skip
    if not plan.is_current:
        raise ValidationFailed("Schedules are made from the live supply plan, not a history row.",
                               fields={"supply_plan_id": ["This is a history row."]})  # fmt: skip
    if plan.status not in SCHEDULABLE_PLAN_STATUSES:
        raise Conflict(
            f"Only approved supply plans are scheduled; this one is {plan.status}.",
            context={"current_status": plan.status, "required": list(SCHEDULABLE_PLAN_STATUSES)},
        )
    if plan.planned_prod_qty is None or plan.planned_prod_qty <= 0:
        message = "The supply plan has no planned quantity to schedule."
        raise ValidationFailed(message, fields={"supply_plan_id": [message]})
    existing = list(ProductionSchedule.objects.select_for_update().filter(supply_plan=plan).order_by("sequence_order"))
    started = [slot for slot in existing if slot.status in SCHEDULE_STARTED_STATUSES]
    if started:
        raise InUse("Work has started on this schedule; it can no longer be regenerated.",
                    context={"started_slot_ids": [slot.pk for slot in started]})  # fmt: skip

    warnings = [f"{shift} is not in the shift calendar; its slots start at {DEFAULT_SHIFT_START_HOUR:02d}:00."
                for shift in shifts if shift_start_hour(shift) is None]  # fmt: skip
    quantities = split_quantity(plan.planned_prod_qty, count)
    duration = datetime.timedelta(hours=duration_hours_per_slot)
    slots = []
    combos = [(wc, line, shift) for wc in workcenters for line in lines for shift in shifts]
    for i, (workcenter, line, shift) in enumerate(combos, start=1):
        hour = shift_start_hour(shift)
        start = slot_start(plan.period, hour=DEFAULT_SHIFT_START_HOUR if hour is None else hour,
                           day_offset=(i - 1) // len(shifts))  # fmt: skip
        slots.append(ProductionSchedule(
            supply_plan=plan, product_id=plan.product_id, period=plan.period, workcenter=workcenter, line=line,
            shift=shift, sequence_order=i, planned_qty=quantities[i - 1], planned_start_at=start,
            planned_end_at=start + duration, status=ScheduleStatus.DRAFT, created_by=actor,
        ))  # fmt: skip

    entries = [{"actor": actor, "event_type": events.PRODUCTION_SCHEDULE_REPLACED, "target": slot,
                "before": snapshot(slot), "related": plan, "message": "Replaced by a regeneration."}
               for slot in existing]  # fmt: skip
    ProductionSchedule.objects.filter(pk__in=[slot.pk for slot in existing]).delete()
    slots = ProductionSchedule.objects.bulk_create(slots)
    inputs = {"workcenters": workcenters, "lines": lines, "shifts": shifts,
              "duration_hours_per_slot": duration_hours_per_slot}  # fmt: skip
    entries += [{"actor": actor, "event_type": events.PRODUCTION_SCHEDULE_GENERATED, "target": slot,
                 "after": snapshot(slot), "related": plan, "metadata": {**inputs, "warnings": warnings}}
                for slot in slots]  # fmt: skip
    audit.record_many(entries)
    bus.publish_on_commit(events.PRODUCTION_SCHEDULE_GENERATED, supply_plan_id=plan.pk,
                          schedule_ids=[slot.pk for slot in slots], replaced=len(existing))  # fmt: skip
    return ScheduleGeneration(slots=slots, replaced=len(existing), warnings=warnings)


@transaction.atomic
def production_schedule_set_status(*, actor, slot: ProductionSchedule, status: str) -> ProductionSchedule:
    """Move a slot along WF-70: draft → released → in_progress → completed, released → draft.

    Needs set_status_productionschedule (PS_EXEC) with the slot in the actor's change scope. Any other
    move (including to the current status) is 409 INVALID_STATE_TRANSITION with current_status, action
    and allowed_actions. Releasing stamps released_by/at; sending a slot back to draft clears them.
    Emits planning.production_schedule.<released|unreleased|started|completed>.
    """
    require_perm(actor, perms.SET_PRODUCTION_SCHEDULE_STATUS, slot)
    # A regeneration that committed while this waited for the lock has removed the slot.
    row = ProductionSchedule.objects.select_for_update().filter(pk=slot.pk).first()
    if row is None:
        raise NotFound("Schedule slot not found.")
    moves = SCHEDULE_TRANSITIONS[ScheduleStatus(row.status)]
    if status not in moves:
        raise InvalidStateTransition(
            f"A slot cannot go from {row.status} to {status}.",
            context={"current_status": row.status, "action": _ACTION_OF_TARGET.get(status, f"set_{status}"),
                     "allowed_actions": sorted(moves.values())},
        )  # fmt: skip
    before = snapshot(row)
    row.status = status
    if status == ScheduleStatus.RELEASED:
        row.released_by, row.released_at = actor, timezone.now()
    elif status == ScheduleStatus.DRAFT:
        row.released_by, row.released_at = None, None
    row.save(update_fields=["status", "released_by", "released_at", "updated_at"])
    event = _STATUS_EVENTS[ScheduleStatus(status)]
    audit.record(actor=actor, event_type=event, target=row, before=before, after=snapshot(row),
                 related=row.supply_plan)  # fmt: skip
    bus.publish_on_commit(event, schedule_id=row.pk, supply_plan_id=row.supply_plan_id)
    return row


@transaction.atomic
def production_schedule_resequence(*, actor, slot: ProductionSchedule, direction: str) -> list[ProductionSchedule]:
    """Swap a slot with its neighbour one place earlier (`up`) or later (`down`) in its plan's sequence.

    Needs add_productionschedule (SUP_W) with the slot in the actor's change scope. Both slots must be
    draft or released (409 INVALID_STATE_TRANSITION otherwise); at either end of the sequence nothing
    changes. Sequence numbers stay 1..N and unique: the unique constraint is checked per statement, so
    the slot passes through a free number above N. Returns every slot of the plan in sequence order.
    Emits planning.production_schedule.resequenced for each of the two slots.
    """
    require_perm(actor, perms.ADD_PRODUCTION_SCHEDULE, slot)
    if direction not in ("up", "down"):
        raise ValidationFailed(fields={"direction": ["Either up or down."]})
    list(SupplyPlan.objects.select_for_update().filter(pk=slot.supply_plan_id).values_list("pk", flat=True))
    rows = list(ProductionSchedule.objects.select_for_update().filter(supply_plan_id=slot.supply_plan_id)
                .order_by("sequence_order"))  # fmt: skip
    index = next((i for i, row in enumerate(rows) if row.pk == slot.pk), None)
    if index is None:  # removed by a regeneration that committed first
        raise NotFound("Schedule slot not found.")
    row = rows[index]
    if row.status not in SCHEDULE_MOVABLE_STATUSES:
        raise InvalidStateTransition(
            f"A {row.status.replace('_', ' ')} slot keeps its place in the sequence.",
            context={"current_status": row.status, "action": "resequence",
                     "allowed_actions": sorted(SCHEDULE_TRANSITIONS[ScheduleStatus(row.status)].values())},
        )  # fmt: skip
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(rows):
        return rows
    other = rows[other_index]
    if other.status not in SCHEDULE_MOVABLE_STATUSES:
        raise InvalidStateTransition(
            f"The neighbouring slot {other.sequence_order} is {other.status.replace('_', ' ')} and keeps its place.",
            context={"current_status": row.status, "action": "resequence", "neighbour_id": other.pk,
                     "neighbour_status": other.status, "allowed_actions": []},
        )  # fmt: skip
    befores = {row.pk: snapshot(row, ["sequence_order"]), other.pk: snapshot(other, ["sequence_order"])}
    mine, theirs = row.sequence_order, other.sequence_order
    row.sequence_order = rows[-1].sequence_order + 1
    row.save(update_fields=["sequence_order", "updated_at"])
    other.sequence_order = mine
    other.save(update_fields=["sequence_order", "updated_at"])
    row.sequence_order = theirs
    row.save(update_fields=["sequence_order", "updated_at"])
    audit.record_many([
        {"actor": actor, "event_type": events.PRODUCTION_SCHEDULE_RESEQUENCED, "target": moved,
         "before": befores[moved.pk], "after": snapshot(moved, ["sequence_order"]), "related": moved.supply_plan,
         "metadata": {"direction": direction if moved is row else ("down" if direction == "up" else "up"),
                      "moved_slot_id": row.pk}}
        for moved in (row, other)
    ])  # fmt: skip
    bus.publish_on_commit(events.PRODUCTION_SCHEDULE_RESEQUENCED, schedule_id=row.pk,
                          supply_plan_id=row.supply_plan_id, swapped_with_id=other.pk)  # fmt: skip
    rows[index], rows[other_index] = other, row
    return rows
