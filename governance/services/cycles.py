"""The monthly S&OP cycle (GOV-08/09, WF-40/41/42, GOV-50/51/52, API-SOP-01…11).

A cycle walks five fixed steps. COORD creates, edits, advances and cancels it; EXEC skips a step
and completes it at step 5; advancing or completing past a failed step gate needs an EXEC
override with a justification. The owner of a step may start it and edit its notes (ACC-04).
When step 2 (3) starts, the locked current demand (supply) plan rows of the cycle period onwards
that no current publication freezes go back to draft (GOV-51), by the system user, in the same
transaction. Every write is audited (`governance.sop_cycle.*`, `governance.sop_cycle_step.*`),
the audit rows being the last writes of the service.
"""

import datetime
from dataclasses import dataclass
from datetime import time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from forecasting.series import add_months
from genxsop.errors import (
    DuplicateEntity,
    EntityLocked,
    GateFailed,
    InvalidStateTransition,
    PermissionDenied,
    ValidationFailed,
)
from genxsop.services import require_perm, snapshot, validate_instance
from governance import audit, bus, events
from governance.choices import (
    ACTION_ITEM_OPEN_STATUSES,
    CYCLE_STEP_NAMES,
    CYCLE_STEP_TRANSITIONS,
    CYCLE_TRANSITIONS,
    CycleStatus,
    NotificationKind,
    StepStatus,
)
from governance.models import ActionItem, Decision, Notification, SopCycle, SopCycleStep, User
from governance.permissions import (
    ADD_SOP_CYCLE,
    CHANGE_SOP_CYCLE,
    COMPLETE_SOP_CYCLE,
    OVERRIDE_SOP_CYCLE_GATE,
    SKIP_SOP_CYCLE_STEP,
    VIEW_SOP_CYCLE,
)
from governance.services.notifications import notification_create_many

STEP_COUNT = 5
DEFAULT_DUE_OFFSETS = {1: 5, 2: 12, 3: 18, 4: 22, 5: 25}  # GOV-50: days after the cycle period
MIN_JUSTIFICATION = 20
EVIDENCE_LIMIT = 50
STEP_FIELDS = ("owner", "due_date")


# Helpers -------------------------------------------------------------------------------------


def default_cycle_name(period: datetime.date) -> str:
    return f"{period:%B %Y} S&OP Cycle"


def _cycle_url(cycle: SopCycle) -> str:
    return reverse("governance:cycle_detail", args=[cycle.pk])


def _lock_cycle(cycle: SopCycle) -> SopCycle:
    return SopCycle.objects.select_for_update().get(pk=cycle.pk)


def _lock_steps(cycle: SopCycle) -> dict[int, SopCycleStep]:
    """The cycle's steps by number, locked in step order; missing steps (cycles made before steps
    existed) are created so every cycle has its five."""
    steps = {s.step_number: s for s in SopCycleStep.objects.select_for_update().filter(cycle=cycle).order_by("id")}
    missing = [n for n in range(1, STEP_COUNT + 1) if n not in steps]
    for number in missing:
        steps[number] = SopCycleStep.objects.create(cycle=cycle, step_number=number, name=CYCLE_STEP_NAMES[number])
    return steps


def cycle_transition_validate(cycle: SopCycle, action: str) -> str:
    """WF-02: the target status of `action` from the cycle's status, or 409 INVALID_STATE_TRANSITION."""
    moves = CYCLE_TRANSITIONS[action]
    if cycle.overall_status not in moves:
        if action == "edit":
            raise EntityLocked(f"The cycle is {cycle.overall_status}; it can no longer be changed.")
        raise InvalidStateTransition(
            f"A {cycle.overall_status} cycle cannot be {action.replace('_', ' ')}.",
            context={
                "current_status": cycle.overall_status,
                "action": action,
                "allowed_actions": [a for a, m in CYCLE_TRANSITIONS.items() if cycle.overall_status in m],
            },
        )
    return moves[cycle.overall_status]


def _step_move(step: SopCycleStep, action: str) -> None:
    moves = CYCLE_STEP_TRANSITIONS[action]
    if step.status not in moves:
        raise InvalidStateTransition(
            f"Step {step.step_number} is {step.status}; it cannot {action}.",
            context={"current_status": step.status, "action": action, "step": step.step_number},
        )
    step.status = moves[step.status]


def _justification(override) -> str:
    """The override justification of a request (`{justification}` or a bare string), or ""."""
    if not override:
        return ""
    text = override.get("justification", "") if isinstance(override, dict) else str(override)
    text = (text or "").strip()
    if len(text) < MIN_JUSTIFICATION:
        raise ValidationFailed(
            fields={"override": [f"An override needs a justification of at least {MIN_JUSTIFICATION} characters."]}
        )
    return text


def step_owner_validate(owner: User | None, field: str = "owner_id") -> None:
    """ACC-04: a step owner is an active user who can read S&OP cycles; other choices answer 400."""
    if owner is not None and (not owner.is_active or not owner.has_perm(VIEW_SOP_CYCLE)):
        raise ValidationFailed(fields={field: ["The owner must be an active user who can read S&OP cycles."]})


def _step_title(cycle: SopCycle, step: SopCycleStep) -> str:
    return f"{cycle.cycle_name}: step {step.step_number} {step.name}"


def _notify_step_owner(cycle: SopCycle, step: SopCycleStep, *, started: bool) -> list[Notification]:
    verb = "started" if started else "assigned to you"
    due = f" Due {step.due_date:%Y-%m-%d}." if step.due_date else ""
    return notification_create_many(
        recipients=[step.owner],
        kind=NotificationKind.ASSIGNMENT,
        title=f"S&OP step {verb}: {_step_title(cycle, step)}",
        body=f"You own step {step.step_number} ({step.name}) of {cycle.cycle_name}.{due}",
        target=cycle,
        url=_cycle_url(cycle),
    )


def _start_step(step: SopCycleStep, now) -> None:
    _step_move(step, "start")
    step.started_at = now
    step.save(update_fields=["status", "started_at", "updated_at"])


def _in_freeze_window(period: datetime.date) -> bool:
    from governance.services.readiness import in_any_current_freeze_window

    return in_any_current_freeze_window(period)


def _reopen_plans(cycle: SopCycle, step_number: int) -> list[int]:
    """GOV-51: step 2 reopens demand, step 3 supply. Locks the rows by id, moves those outside every
    current publication's freeze window back to draft as the system user; returns their ids."""
    from forecasting.services.jobs import system_user
    from planning.choices import PlanStatus
    from planning.services.demand import DEMAND_PLAN
    from planning.services.plans import plans_status_move
    from planning.services.supply import SUPPLY_PLAN

    kind = {2: DEMAND_PLAN, 3: SUPPLY_PLAN}.get(step_number)
    if kind is None:
        return []
    rows = list(
        kind.model.objects.select_for_update()
        .filter(is_current=True, status=PlanStatus.LOCKED, period__gte=cycle.period)
        .order_by("id")
    )
    frozen = {period: _in_freeze_window(period) for period in {row.period for row in rows}}
    rows = [row for row in rows if not frozen[row.period]]
    if rows:
        plans_status_move(
            kind,
            "cycle_reopen",
            actor=system_user(),
            plans=rows,
            metadata={"cycle_id": cycle.pk},
            message=f"Reopened for {cycle.cycle_name}, step {step_number}.",
        )
    return [row.pk for row in rows]


def _step_started_entry(actor, cycle: SopCycle, step: SopCycleStep, before: dict, metadata: dict) -> dict:
    return {
        "actor": actor,
        "event_type": events.SOP_CYCLE_STEP_STARTED,
        "target": step,
        "before": before,
        "after": snapshot(step),
        "related": cycle,
        "metadata": metadata,
    }


# Create and edit -------------------------------------------------------------------------------


@transaction.atomic
def cycle_create(*, actor: User, data: dict) -> SopCycle:
    """Create a cycle (COORD, governance.add_sopcycle) with its five steps (GOV-50 defaults: name
    "<Month YYYY> S&OP Cycle", due dates period +5/+12/+18/+22/+25 days); step 1 starts and its
    owner is notified. A second active or completed cycle of the period is 409 DUPLICATE_ENTITY.

    `data`: period (required), cycle_name, notes, steps {n: {owner, due_date}}.
    Emits governance.sop_cycle.created."""
    require_perm(actor, ADD_SOP_CYCLE)
    period = data.get("period")
    if not period:
        raise ValidationFailed(fields={"period": ["This field is required."]})
    period = period.replace(day=1)
    steps_in = data.get("steps") or {}
    for number, values in steps_in.items():
        step_owner_validate(values.get("owner"), f"step_{number}_owner_id")
    if SopCycle.objects.filter(period=period, overall_status__in=[CycleStatus.ACTIVE, CycleStatus.COMPLETED]).exists():
        raise DuplicateEntity(f"A cycle for {period:%B %Y} already exists.", context={"period": period.isoformat()})
    cycle = SopCycle(
        cycle_name=(data.get("cycle_name") or "").strip() or default_cycle_name(period),
        period=period,
        notes=data.get("notes") or "",
        created_by=actor,
    )
    validate_instance(cycle)
    try:
        with transaction.atomic():
            cycle.save()
    except IntegrityError:
        raise DuplicateEntity(f"A cycle for {period:%B %Y} already exists.") from None
    now = timezone.now()
    steps = []
    for number in range(1, STEP_COUNT + 1):
        values = steps_in.get(number) or {}
        step = SopCycleStep(
            cycle=cycle,
            step_number=number,
            name=CYCLE_STEP_NAMES[number],
            owner=values.get("owner"),
            due_date=values.get("due_date") or period + timedelta(days=DEFAULT_DUE_OFFSETS[number]),
        )
        if number == 1:
            _step_move(step, "start")
            step.started_at = now
        steps.append(step)
    SopCycleStep.objects.bulk_create(steps)
    notified = _notify_step_owner(cycle, steps[0], started=True)
    audit.record(
        actor=actor,
        event_type=events.SOP_CYCLE_CREATED,
        target=cycle,
        after={
            **snapshot(cycle),
            "steps": [snapshot(s, ["step_number", "status", "owner", "due_date"]) for s in steps],
        },
        metadata={"notified": [n.recipient_id for n in notified]},
    )
    bus.publish_on_commit(events.SOP_CYCLE_CREATED, cycle_id=cycle.pk)
    return cycle


def _legacy_lines(text: str | None) -> list[str]:
    lines = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line.startswith(("- ", "* ")):
            line = line[2:].strip()
        if line and line not in lines:
            lines.append(line)
    return lines


def _present(line: str, titles: set[str], rendered: set[str]) -> bool:
    return line in titles or f"- {line}" in rendered


@transaction.atomic
def cycle_update(*, actor: User, cycle: SopCycle, data: dict) -> SopCycle:
    """Edit an active cycle (COORD): name, notes, step owners and due dates (`steps` {n: {owner?,
    due_date?}}); the legacy `decisions` / `action_items` text (API-SOP-05) turns each new line into
    a Decision / ActionItem through their services (owner the caller, due the step-5 due date or
    +30 days). Completed and cancelled cycles are 409 ENTITY_LOCKED. A new step owner is notified.
    Emits governance.sop_cycle.updated (and the decision / action item events)."""
    from governance.services.action_items import action_item_create
    from governance.services.decisions import decision_record

    require_perm(actor, CHANGE_SOP_CYCLE)
    cycle = _lock_cycle(cycle)
    cycle_transition_validate(cycle, "edit")
    if "status" in data or "overall_status" in data:
        status = data.get("overall_status", data.get("status"))
        if status not in (None, cycle.overall_status):
            raise ValidationFailed(fields={"overall_status": ["Status changes use the action endpoints."]})
    steps = _lock_steps(cycle)
    before = {**snapshot(cycle), "steps": [snapshot(s, ["step_number", "owner", "due_date"]) for s in steps.values()]}
    changed: list[str] = []
    name = data.get("cycle_name")
    if name is not None and name.strip() and name.strip() != cycle.cycle_name:
        cycle.cycle_name = name.strip()
        changed.append("cycle_name")
    if "notes" in data and (data["notes"] or "") != cycle.notes:
        cycle.notes = data["notes"] or ""
        changed.append("notes")
    new_owners = []
    for number, values in (data.get("steps") or {}).items():
        step = steps[int(number)]
        step_changed = []
        if "owner" in values and (values["owner"].pk if values["owner"] else None) != step.owner_id:
            step_owner_validate(values["owner"], f"step_{number}_owner_id")
            step.owner = values["owner"]
            step_changed.append("owner")
            if step.owner is not None:
                new_owners.append(step)
        if "due_date" in values and values["due_date"] != step.due_date:
            step.due_date = values["due_date"]
            step_changed.append("due_date")
        if step_changed:
            step.save(update_fields=[*step_changed, "updated_at"])
            changed += [f"step_{number}_{f}" for f in step_changed]
    if changed:
        validate_instance(cycle)
        cycle.save(update_fields=["cycle_name", "notes", "updated_at"])
    notified = []
    for step in new_owners:
        notified += _notify_step_owner(cycle, step, started=False)
    created_decisions, created_items = [], []
    if data.get("decisions"):
        titles = set(Decision.objects.filter(cycle=cycle).values_list("title", flat=True))
        rendered = set(render_decisions(cycle).splitlines())
        for line in _legacy_lines(data["decisions"]):
            if not _present(line, titles, rendered):
                decision = decision_record(actor=actor, cycle=cycle, data={"title": line[:200], "category": "other"})
                created_decisions.append(decision.pk)
                titles.add(line)
    if data.get("action_items"):
        titles = set(ActionItem.objects.filter(cycle=cycle).values_list("title", flat=True))
        rendered = set(render_action_items(cycle).splitlines())
        due = steps[STEP_COUNT].due_date or timezone.localdate() + timedelta(days=30)
        for line in _legacy_lines(data["action_items"]):
            if not _present(line, titles, rendered):
                item = action_item_create(
                    actor=actor, cycle=cycle, data={"title": line[:200], "owner": actor, "due_date": due}
                )
                created_items.append(item.pk)
                titles.add(line)
    if not (changed or created_decisions or created_items):
        return cycle
    after = {**snapshot(cycle), "steps": [snapshot(s, ["step_number", "owner", "due_date"]) for s in steps.values()]}
    audit.record(
        actor=actor,
        event_type=events.SOP_CYCLE_UPDATED,
        target=cycle,
        before=before,
        after=after,
        metadata={
            "changed": changed,
            "decision_ids": created_decisions,
            "action_item_ids": created_items,
            "notified": [n.recipient_id for n in notified],
        },
    )
    bus.publish_on_commit(events.SOP_CYCLE_UPDATED, cycle_id=cycle.pk)
    return cycle


@transaction.atomic
def cycle_step_update(*, actor: User, cycle: SopCycle, step_number: int, data: dict) -> SopCycleStep:
    """API-SOP-06. COORD edits a step's owner, due date and notes and may start the pending current
    step; the step's owner (ACC-04) may start it and edit its notes while it is in progress. Any other
    status value answers 400 (the other moves are advance / skip_step / complete).

    Starting step 2 or 3 reopens plans (GOV-51). Emits governance.sop_cycle_step.updated and
    governance.sop_cycle_step.started."""
    require_perm(actor, VIEW_SOP_CYCLE)
    if step_number not in range(1, STEP_COUNT + 1):
        raise ValidationFailed(fields={"step": ["A step number is 1 to 5."]})
    cycle = _lock_cycle(cycle)
    steps = _lock_steps(cycle)
    step = steps[step_number]
    full = actor.has_perm(CHANGE_SOP_CYCLE)
    is_owner = step.owner_id == actor.pk
    if not full:
        if not is_owner:
            raise PermissionDenied()
        extra = sorted({k for k in data if k not in ("notes", "status")})
        if extra:
            raise PermissionDenied(f"A step owner may change only its status and notes, not {', '.join(extra)}.")
    cycle_transition_validate(cycle, "edit")
    status = data.get("status")
    start = status is not None and status != step.status
    if start and status != StepStatus.IN_PROGRESS:
        raise ValidationFailed(fields={"status": ["Only in_progress (start) is accepted; use the cycle actions."]})
    if start and step_number != cycle.current_step:
        raise InvalidStateTransition(
            f"Only the current step ({cycle.current_step}) can start.",
            context={"current_status": step.status, "action": "start", "step": step_number},
        )
    before = snapshot(step)
    now = timezone.now()
    changed = []
    if start:
        _start_step(step, now)
    if "notes" in data and (data["notes"] or "") != step.notes:
        if not full and step.status != StepStatus.IN_PROGRESS:
            raise InvalidStateTransition(
                "A step owner edits the notes of an in-progress step only.",
                context={"current_status": step.status, "action": "edit_notes"},
            )
        step.notes = data["notes"] or ""
        changed.append("notes")
    new_owner = False
    if "owner" in data and (data["owner"].pk if data["owner"] else None) != step.owner_id:
        step_owner_validate(data["owner"])
        step.owner = data["owner"]
        changed.append("owner")
        new_owner = step.owner is not None
    if "due_date" in data and data["due_date"] != step.due_date:
        step.due_date = data["due_date"]
        changed.append("due_date")
    if changed:
        step.save(update_fields=[*changed, "updated_at"])
    if not (changed or start):
        return step
    notified = (
        _notify_step_owner(cycle, step, started=start) if (new_owner or start) and step.owner_id != actor.pk else []
    )
    reopened = _reopen_plans(cycle, step_number) if start else []
    entries = []
    if changed:
        entries.append(
            {
                "actor": actor,
                "event_type": events.SOP_CYCLE_STEP_UPDATED,
                "target": step,
                "before": before,
                "after": snapshot(step),
                "related": cycle,
                "metadata": {"changed": changed, "notified": [n.recipient_id for n in notified]},
            }
        )
    if start:
        entries.append(
            _step_started_entry(
                actor,
                cycle,
                step,
                before,
                {"step": step_number, "reopened_plan_ids": reopened, "notified": [n.recipient_id for n in notified]},
            )
        )
    audit.record_many(entries)
    bus.publish_on_commit(
        events.SOP_CYCLE_STEP_STARTED if start else events.SOP_CYCLE_STEP_UPDATED, cycle_id=cycle.pk, step=step_number
    )
    return step


# Advance, skip, complete, cancel -----------------------------------------------------------------


def _move_to_next(actor, cycle: SopCycle, steps: dict[int, SopCycleStep], now) -> tuple[SopCycleStep, dict]:
    """Start the step after the current one and make it current (the shared tail of advance and skip)."""
    nxt = steps[cycle.current_step + 1]
    next_before = snapshot(nxt)
    _start_step(nxt, now)
    cycle.current_step = nxt.step_number
    cycle.save(update_fields=["current_step", "updated_at"])
    return nxt, next_before


def _close_step_on_gate(actor, cycle: SopCycle, step: SopCycleStep, justification: str, now) -> tuple[dict, bool]:
    """Evaluate the step's gate (WF-42) and complete the step on it: 409 GATE_FAILED naming the failed
    checks unless a justification overrides it. The result is stored on the step; the justification is
    kept only when it was needed. Returns (gate result, whether the override was used)."""
    result = cycle_gate_evaluate(cycle=cycle, step=step.step_number)
    if not result["passed"] and not justification:
        raise GateFailed(
            f"The gate of step {step.step_number} ({step.name}) does not pass: {_failed_summary(result)}",
            context={"step": step.step_number, "checks": result["checks"], "warnings": result["warnings"]},
        )
    used_override = bool(justification) and not result["passed"]
    if step.status == StepStatus.PENDING:  # a current step nobody started: it starts and ends now
        _step_move(step, "start")
        step.started_at = now
    _step_move(step, "complete")
    step.completed_at, step.completed_by, step.gate_result = now, actor, result
    step.override_justification = justification if used_override else ""
    step.save(update_fields=["status", "started_at", "completed_at", "completed_by", "gate_result",
                             "override_justification", "updated_at"])  # fmt: skip
    return result, used_override


@transaction.atomic
def cycle_advance(*, actor: User, cycle: SopCycle, comment: str = "", override=None) -> SopCycle:
    """WF-40 advance: COORD (governance.change_sopcycle); with `override` ({justification ≥ 20 chars})
    an EXEC (governance.override_sopcycle_gate) advances past a failed gate. The gate of the current
    step (WF-42) is evaluated and stored on the step; a failed gate without override is 409
    GATE_FAILED with context {checks, warnings}. At step 5 it is 409 (use complete). The next step
    starts and its owner is notified; step 2/3 reopen plans (GOV-51).

    Emits governance.sop_cycle.advanced (gate result and justification in metadata) and
    governance.sop_cycle_step.started."""
    justification = _justification(override)
    require_perm(actor, OVERRIDE_SOP_CYCLE_GATE if justification else CHANGE_SOP_CYCLE)
    cycle = _lock_cycle(cycle)
    cycle_transition_validate(cycle, "advance")
    if cycle.current_step >= STEP_COUNT:
        raise InvalidStateTransition(
            "The cycle is at its last step: use complete.",
            context={"current_status": cycle.overall_status, "action": "advance", "allowed_actions": ["complete"]},
        )
    steps = _lock_steps(cycle)
    step = steps[cycle.current_step]
    before, step_before = snapshot(cycle), snapshot(step)
    now = timezone.now()
    result, used_override = _close_step_on_gate(actor, cycle, step, justification, now)
    nxt, next_before = _move_to_next(actor, cycle, steps, now)
    notified = _notify_step_owner(cycle, nxt, started=True)
    reopened = _reopen_plans(cycle, nxt.step_number)
    metadata = {
        "from_step": step.step_number,
        "to_step": nxt.step_number,
        "gate_result": result,
        "override_justification": justification if used_override else "",
        "overridden": used_override,
        "reopened_plan_ids": reopened,
        "notified": [n.recipient_id for n in notified],
    }
    message = comment
    if used_override:
        message = f"Gate overridden: {justification}" + (f"\n{comment}" if comment else "")
    audit.record_many(
        [
            {
                "actor": actor,
                "event_type": events.SOP_CYCLE_ADVANCED,
                "target": cycle,
                "before": {**before, "step": step_before},
                "after": {**snapshot(cycle), "step": snapshot(step)},
                "message": message,
                "metadata": metadata,
            },
            _step_started_entry(
                actor, cycle, nxt, next_before, {"step": nxt.step_number, "reopened_plan_ids": reopened}
            ),
        ]
    )
    bus.publish_on_commit(events.SOP_CYCLE_ADVANCED, cycle_id=cycle.pk, step=nxt.step_number)
    return cycle


@transaction.atomic
def cycle_skip_step(*, actor: User, cycle: SopCycle, reason: str) -> SopCycle:
    """WF-40 skip_step: EXEC (governance.skip_sopcycle_step) skips the current step (1 to 4) with a
    reason; then as advance (next step starts, owner notified, plans reopened). No gate.
    Emits governance.sop_cycle.step_skipped and governance.sop_cycle_step.started."""
    require_perm(actor, SKIP_SOP_CYCLE_STEP)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": ["A reason is required."]})
    cycle = _lock_cycle(cycle)
    cycle_transition_validate(cycle, "skip_step")
    if cycle.current_step >= STEP_COUNT:
        raise InvalidStateTransition(
            "The last step cannot be skipped: complete or cancel the cycle.",
            context={"current_status": cycle.overall_status, "action": "skip_step", "allowed_actions": ["complete"]},
        )
    steps = _lock_steps(cycle)
    step = steps[cycle.current_step]
    before, step_before = snapshot(cycle), snapshot(step)
    now = timezone.now()
    _step_move(step, "skip")
    step.skip_reason, step.completed_at, step.completed_by = reason, now, actor
    step.save(update_fields=["status", "skip_reason", "completed_at", "completed_by", "updated_at"])
    nxt, next_before = _move_to_next(actor, cycle, steps, now)
    notified = _notify_step_owner(cycle, nxt, started=True)
    reopened = _reopen_plans(cycle, nxt.step_number)
    audit.record_many(
        [
            {
                "actor": actor,
                "event_type": events.SOP_CYCLE_STEP_SKIPPED,
                "target": cycle,
                "before": {**before, "step": step_before},
                "after": {**snapshot(cycle), "step": snapshot(step)},
                "message": reason,
                "metadata": {
                    "skipped_step": step.step_number,
                    "to_step": nxt.step_number,
                    "reopened_plan_ids": reopened,
                    "notified": [n.recipient_id for n in notified],
                },
            },
            _step_started_entry(
                actor, cycle, nxt, next_before, {"step": nxt.step_number, "reopened_plan_ids": reopened}
            ),
        ]
    )
    bus.publish_on_commit(events.SOP_CYCLE_STEP_SKIPPED, cycle_id=cycle.pk, step=step.step_number)
    return cycle


@transaction.atomic
def cycle_complete(*, actor: User, cycle: SopCycle, comment: str = "", override=None) -> SopCycle:
    """WF-40 complete: EXEC (governance.complete_sopcycle) at step 5; the step-5 gate must pass, or an
    override justification (≥ 20 chars, governance.override_sopcycle_gate) is given. The cycle becomes
    read-only. Emits governance.sop_cycle.completed."""
    justification = _justification(override)
    require_perm(actor, COMPLETE_SOP_CYCLE)
    if justification:
        require_perm(actor, OVERRIDE_SOP_CYCLE_GATE)
    cycle = _lock_cycle(cycle)
    target = cycle_transition_validate(cycle, "complete")
    if cycle.current_step != STEP_COUNT:
        raise InvalidStateTransition(
            f"The cycle is at step {cycle.current_step}; it completes at step {STEP_COUNT}.",
            context={"current_status": cycle.overall_status, "action": "complete", "current_step": cycle.current_step},
        )
    steps = _lock_steps(cycle)
    step = steps[STEP_COUNT]
    before, step_before = snapshot(cycle), snapshot(step)
    now = timezone.now()
    result, used_override = _close_step_on_gate(actor, cycle, step, justification, now)
    cycle.overall_status, cycle.completed_by, cycle.completed_at = target, actor, now
    cycle.save(update_fields=["overall_status", "completed_by", "completed_at", "updated_at"])
    message = comment
    if used_override:
        message = f"Gate overridden: {justification}" + (f"\n{comment}" if comment else "")
    audit.record(
        actor=actor,
        event_type=events.SOP_CYCLE_COMPLETED,
        target=cycle,
        before={**before, "step": step_before},
        after={**snapshot(cycle), "step": snapshot(step)},
        message=message,
        metadata={
            "gate_result": result,
            "override_justification": justification if used_override else "",
            "overridden": used_override,
        },
    )
    bus.publish_on_commit(events.SOP_CYCLE_COMPLETED, cycle_id=cycle.pk)
    return cycle


@transaction.atomic
def cycle_cancel(*, actor: User, cycle: SopCycle, reason: str) -> SopCycle:
    """WF-40 cancel: COORD (governance.change_sopcycle) cancels an active cycle with a reason; the
    period is free for a new cycle. Emits governance.sop_cycle.cancelled."""
    require_perm(actor, CHANGE_SOP_CYCLE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": ["A reason is required."]})
    cycle = _lock_cycle(cycle)
    target = cycle_transition_validate(cycle, "cancel")
    before = snapshot(cycle)
    cycle.overall_status, cycle.cancelled_by, cycle.cancelled_at = target, actor, timezone.now()
    cycle.cancel_reason = reason
    cycle.save(update_fields=["overall_status", "cancelled_by", "cancelled_at", "cancel_reason", "updated_at"])
    audit.record(
        actor=actor,
        event_type=events.SOP_CYCLE_CANCELLED,
        target=cycle,
        before=before,
        after=snapshot(cycle),
        message=reason,
    )
    bus.publish_on_commit(events.SOP_CYCLE_CANCELLED, cycle_id=cycle.pk)
    return cycle


# Reads and representation helpers ---------------------------------------------------------------


def cycle_active() -> SopCycle | None:
    """The most recent active cycle (API-SOP-03)."""
    return SopCycle.objects.filter(overall_status=CycleStatus.ACTIVE).order_by("-period", "-id").first()


def cycle_allowed_actions(*, user, cycle: SopCycle) -> list[str]:
    """WF-04: the cycle actions `user` may perform now (gates are evaluated when invoked)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if cycle.overall_status != CycleStatus.ACTIVE:
        return []
    actions = []
    change = user.has_perm(CHANGE_SOP_CYCLE)
    last = cycle.current_step >= STEP_COUNT
    if change:
        actions.append("edit")
        if not last:
            actions.append("advance")
    if user.has_perm(OVERRIDE_SOP_CYCLE_GATE) and not last:
        actions.append("advance_override")
    if user.has_perm(SKIP_SOP_CYCLE_STEP) and not last:
        actions.append("skip_step")
    if user.has_perm(COMPLETE_SOP_CYCLE) and last:
        actions.append("complete")
        if user.has_perm(OVERRIDE_SOP_CYCLE_GATE):
            actions.append("complete_override")
    if change:
        actions.append("cancel")
    return actions


def step_allowed_actions(*, user, cycle: SopCycle, step: SopCycleStep) -> list[str]:
    """WF-04 for a step: `edit` (COORD), `start` (COORD or owner, pending current step),
    `edit_notes` (COORD, or the owner while in progress)."""
    if user is None or not getattr(user, "is_authenticated", False) or cycle.overall_status != CycleStatus.ACTIVE:
        return []
    change = user.has_perm(CHANGE_SOP_CYCLE)
    owner = step.owner_id == user.pk
    actions = []
    if change:
        actions.append("edit")
    if (change or owner) and step.status == StepStatus.PENDING and step.step_number == cycle.current_step:
        actions.append("start")
    if change or (owner and step.status == StepStatus.IN_PROGRESS):
        actions.append("edit_notes")
    return actions


def step_is_overdue(step: SopCycleStep, cycle: SopCycle, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(
        cycle.overall_status == CycleStatus.ACTIVE
        and step.status in (StepStatus.PENDING, StepStatus.IN_PROGRESS)
        and step.due_date is not None
        and step.due_date < today
    )


def render_decisions(cycle: SopCycle) -> str:
    """GOV-52: `- <title> (<decided_by>, <date>)`, one line per decision, oldest first."""
    rows = Decision.objects.filter(cycle=cycle).select_related("decided_by").order_by("decided_at", "id")
    return "\n".join(
        f"- {d.title} ({d.decided_by.full_name}, {timezone.localtime(d.decided_at):%Y-%m-%d})" for d in rows
    )


def render_action_items(cycle: SopCycle) -> str:
    """GOV-52: `- [<status>] <title> — <owner>, due <date>`, one line per action item by due date."""
    rows = ActionItem.objects.filter(cycle=cycle).select_related("owner").order_by("due_date", "id")
    return "\n".join(f"- [{i.status}] {i.title} — {i.owner.full_name}, due {i.due_date:%Y-%m-%d}" for i in rows)


def open_action_item_count(cycle: SopCycle) -> int:
    return ActionItem.objects.filter(cycle=cycle, status__in=ACTION_ITEM_OPEN_STATUSES).count()


# Step gates (WF-42) --------------------------------------------------------------------------------


def _check(check: str, passed: bool, value, threshold, detail: str, evidence: list | None = None) -> dict:
    out = {"check": check, "passed": bool(passed), "value": value, "threshold": threshold, "detail": detail}
    out["evidence"] = list(evidence or [])[:EVIDENCE_LIMIT]
    return out


def _warning(warning: str, value, detail: str) -> dict:
    return {"warning": warning, "value": value, "detail": detail}


def _pct(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 100.0


def _keys_text(keys: list[str], total: int) -> str:
    shown = ", ".join(keys[:10])
    more = f" and {total - 10} more" if total > 10 else ""
    return f"{shown}{more}"


def _active_products():
    from planning.choices import ProductStatus
    from planning.models import Product

    return Product.objects.filter(status__in=[ProductStatus.ACTIVE, ProductStatus.NEW])


def review_horizon(cycle: SopCycle) -> list[datetime.date]:
    """The SOP_REVIEW_HORIZON_MONTHS periods from the cycle period (WF-42)."""
    return [add_months(cycle.period, i) for i in range(settings.SOP_REVIEW_HORIZON_MONTHS)]


def _gate_step_1(cycle: SopCycle) -> tuple[list, list]:
    from forecasting.choices import AnomalySeverity, AnomalyStatus
    from forecasting.models import ForecastAnomaly, ForecastRun
    from planning.models import TOTAL_CHANNEL, TOTAL_REGION, DemandPlan, Inventory

    previous = add_months(cycle.period, -1)
    active = dict(_active_products().values_list("pk", "sku"))
    with_rows: dict[int, bool] = {}
    for product_id, actual in DemandPlan.objects.filter(
        is_current=True, period=previous, product_id__in=active
    ).values_list("product_id", "actual_qty"):
        with_rows[product_id] = with_rows.get(product_id, True) and actual is not None
    missing = sorted(active[pk] for pk, complete in with_rows.items() if not complete)
    threshold = settings.SOP_GATE_ACTUALS_COVERAGE_PCT
    value = _pct(len(with_rows) - len(missing), len(with_rows))
    if not with_rows:
        detail = f"No active product has demand rows for {previous:%Y-%m}; nothing to check."
    elif missing:
        detail = f"{len(missing)} of {len(with_rows)} products lack actuals for {previous:%Y-%m}: " + _keys_text(
            missing, len(missing)
        )
    else:
        detail = f"All {len(with_rows)} products have actuals for {previous:%Y-%m}."
    checks = [
        _check(
            "actuals_coverage",
            value >= threshold,
            value,
            threshold,
            detail,
            [f"{sku} {previous:%Y-%m}" for sku in missing],
        )
    ]

    max_age = settings.SOP_GATE_INVENTORY_MAX_AGE_HOURS
    cutoff = timezone.now() - timedelta(hours=max_age)
    rows = list(Inventory.objects.values_list("product__sku", "location__code", "snapshot_at").order_by("pk"))
    stale = sorted(f"{sku}@{code}" for sku, code, at in rows if at is None or at < cutoff)
    value = _pct(len(rows) - len(stale), len(rows))
    if not rows:
        detail = "No inventory rows; nothing to check."
    elif stale:
        detail = f"{len(stale)} of {len(rows)} inventory rows have no snapshot within {max_age} h: " + _keys_text(
            stale, len(stale)
        )
    else:
        detail = f"All {len(rows)} inventory rows were snapshot within {max_age} h."
    checks.append(_check("inventory_freshness", value >= 95, value, 95, detail, stale))

    covered = set(
        ForecastRun.objects.filter(
            product_id__in=active, region=TOTAL_REGION, channel=TOTAL_CHANNEL, as_of_period=cycle.period
        ).values_list("product_id", flat=True)
    )
    lacking = sorted(sku for pk, sku in active.items() if pk not in covered)
    threshold = settings.SOP_GATE_FORECAST_COVERAGE_PCT
    value = _pct(len(active) - len(lacking), len(active))
    if lacking:
        detail = (
            f"{len(lacking)} of {len(active)} active products have no product-total forecast run as of "
            f"{cycle.period:%Y-%m}: " + _keys_text(lacking, len(lacking))
        )
    else:
        detail = f"All {len(active)} active products have a forecast run as of {cycle.period:%Y-%m}."
    checks.append(_check("forecast_coverage", value >= threshold, value, threshold, detail, lacking))

    anomalies = ForecastAnomaly.objects.filter(status=AnomalyStatus.OPEN, severity=AnomalySeverity.HIGH).count()
    warnings = []
    if anomalies:
        warnings.append(_warning("open_high_anomalies", anomalies, f"{anomalies} high-severity anomalies are open."))
    return checks, warnings


def _plan_checks(model, keys: list[tuple[int, datetime.date]], skus: dict, name: str, label: str) -> list[dict]:
    """Coverage (every key has a current row) and approval (every such row approved or locked)."""
    from planning.choices import PlanStatus

    if not keys:
        return [
            _check(f"{name}_coverage", True, 100.0, 100, f"Nothing to plan: no {label} rows are expected."),
            _check(f"{name}_approval", True, 100.0, 100, f"No {label} rows to approve."),
        ]
    products = {p for p, _ in keys}
    periods = {d for _, d in keys}
    present: set = set()
    unapproved: dict[tuple, list[str]] = {}
    for product_id, period, status in model.objects.filter(
        is_current=True, product_id__in=products, period__in=periods
    ).values_list("product_id", "period", "status"):
        if (product_id, period) not in keys:
            continue
        present.add((product_id, period))
        if status not in (PlanStatus.APPROVED, PlanStatus.LOCKED):
            unapproved.setdefault((product_id, period), []).append(status)
    ordered = sorted(keys, key=lambda k: (k[1], skus[k[0]]))
    missing = [f"{skus[p]} {d:%Y-%m}" for p, d in ordered if (p, d) not in present]
    pending = [
        f"{skus[p]} {d:%Y-%m} ({', '.join(sorted(set(unapproved[(p, d)])))})"
        for p, d in ordered
        if (p, d) in unapproved
    ]
    value = _pct(len(keys) - len(missing), len(keys))
    detail = (
        (
            f"{len(missing)} of {len(keys)} product-periods have no current {label} row: "
            + _keys_text(missing, len(missing))
        )
        if missing
        else f"All {len(keys)} product-periods have a {label} row."
    )
    checks = [_check(f"{name}_coverage", not missing, value, 100.0, detail, missing)]
    with_rows = len(present)
    value = _pct(with_rows - len(pending), with_rows)
    detail = (
        (
            f"{len(pending)} product-periods have {label} rows not approved or locked: "
            + _keys_text(pending, len(pending))
        )
        if pending
        else f"Every {label} row is approved or locked."
    )
    checks.append(_check(f"{name}_approval", not pending, value, 100.0, detail, pending))
    return checks


def _gate_step_2(cycle: SopCycle) -> tuple[list, list]:
    from forecasting.choices import ConsensusStatus
    from forecasting.models import ForecastConsensus
    from planning.models import DemandPlan

    periods = review_horizon(cycle)
    skus = dict(_active_products().values_list("pk", "sku"))
    keys = [(p, d) for p in skus for d in periods]
    checks = _plan_checks(DemandPlan, keys, skus, "demand_plan", "demand plan")
    open_consensus = ForecastConsensus.objects.filter(
        period__in=periods, status__in=[ConsensusStatus.DRAFT, ConsensusStatus.PROPOSED]
    ).count()
    warnings = []
    if open_consensus:
        warnings.append(
            _warning(
                "consensus_not_approved",
                open_consensus,
                f"{open_consensus} consensus rows of the horizon are still draft or proposed.",
            )
        )
    return checks, warnings


def _gate_step_3(cycle: SopCycle) -> tuple[list, list]:
    from planning.models import DemandPlan, SupplyPlan

    periods = review_horizon(cycle)
    skus = dict(_active_products().values_list("pk", "sku"))
    keys = sorted(
        set(
            DemandPlan.objects.filter(is_current=True, product_id__in=skus, period__in=periods).values_list(
                "product_id", "period"
            )
        )
    )
    checks = _plan_checks(SupplyPlan, set(keys), skus, "supply_plan", "supply plan")
    warnings = []
    critical = _critical_gap_count(periods)
    if critical:
        warnings.append(
            _warning("critical_gaps", critical, f"{critical} product-periods have a critical gap (FRM-02).")
        )
    overloaded = sum(
        1
        for plan in SupplyPlan.objects.filter(is_current=True, period__in=periods, capacity_max__gt=0).only(
            "planned_prod_qty", "capacity_max"
        )
        if plan.load_pct is not None and plan.load_pct > 100
    )
    if overloaded:
        warnings.append(_warning("overloaded_plans", overloaded, f"{overloaded} supply plans load more than 100 %."))
    return checks, warnings


def _critical_gap_count(periods: list[datetime.date]) -> int:
    """FRM-02 company-wide: (planned supply + available inventory - demand) / demand below -20 %."""
    from decimal import Decimal

    from django.db.models import Sum
    from django.db.models.functions import Coalesce

    from planning.models import DemandPlan, Inventory, SupplyPlan

    demand = (
        DemandPlan.objects.filter(is_current=True, period__in=periods)
        .order_by()
        .values("product_id", "period")
        .annotate(qty=Sum(Coalesce("consensus_qty", "adjusted_qty", "forecast_qty")))
    )
    planned = {
        (r["product_id"], r["period"]): r["qty"] or 0
        for r in SupplyPlan.objects.filter(is_current=True, period__in=periods)
        .order_by()
        .values("product_id", "period")
        .annotate(qty=Sum("planned_prod_qty"))
    }
    available: dict = {}
    for product_id, on_hand, allocated, in_transit in Inventory.objects.order_by().values_list(
        "product_id", "on_hand_qty", "allocated_qty", "in_transit_qty"
    ):
        available[product_id] = available.get(product_id, 0) + max(Decimal(0), on_hand - allocated + in_transit)
    count = 0
    for row in demand:
        qty = row["qty"] or 0
        if not qty:
            continue
        effective = planned.get((row["product_id"], row["period"]), 0) + available.get(row["product_id"], 0)
        if round((effective - qty) / qty * 100, 2) < -20:
            count += 1
    return count


def _gate_step_4(cycle: SopCycle) -> tuple[list, list]:
    from planning.choices import ScenarioStatus
    from planning.models import Scenario

    names = list(
        Scenario.objects.filter(period=cycle.period, status__in=[ScenarioStatus.SUBMITTED, ScenarioStatus.APPROVED])
        .order_by("pk")
        .values_list("name", flat=True)
    )
    detail = (
        f"{len(names)} scenarios for {cycle.period:%Y-%m} are submitted or approved: " + _keys_text(names, len(names))
        if names
        else f"No scenario for {cycle.period:%Y-%m} is submitted or approved yet."
    )
    checks = [_check("scenario_submitted", bool(names), len(names), 1, detail, names)]
    warnings = []
    if not Decision.objects.filter(cycle=cycle).exists():
        warnings.append(_warning("no_decision", 0, "No decision has been recorded for this cycle yet."))
    return checks, warnings


def _gate_step_5(cycle: SopCycle) -> tuple[list, list]:
    from governance.choices import Lane, PublicationStatus
    from governance.models import Publication
    from planning.choices import ScenarioStatus
    from planning.models import Scenario

    operating = Scenario.objects.filter(
        period=cycle.period, status=ScenarioStatus.APPROVED, is_operating_plan=True
    ).first()
    detail = (
        f"“{operating.name}” is the approved operating plan of {cycle.period:%Y-%m}."
        if operating
        else f"No approved operating-plan scenario exists for {cycle.period:%Y-%m}."
    )
    checks = [
        _check(
            "operating_plan",
            operating is not None,
            1 if operating else 0,
            1,
            detail,
            [] if operating else [f"operating plan {cycle.period:%Y-%m}"],
        )
    ]
    publication = Publication.objects.filter(
        sop_cycle=cycle, lane=Lane.MONTHLY, status=PublicationStatus.PUBLISHED
    ).first()
    detail = (
        f"Monthly publication {publication.version_stamp} is published for this cycle."
        if publication
        else "No published monthly-lane publication is linked to this cycle."
    )
    checks.append(
        _check(
            "monthly_publication",
            publication is not None,
            1 if publication else 0,
            1,
            detail,
            [] if publication else ["monthly publication"],
        )
    )
    overdue = list(
        ActionItem.objects.filter(
            cycle=cycle, status__in=ACTION_ITEM_OPEN_STATUSES, due_date__lt=timezone.localdate()
        ).values_list("title", flat=True)
    )
    warnings = []
    if overdue:
        warnings.append(
            _warning(
                "overdue_action_items",
                len(overdue),
                f"{len(overdue)} open action items are past due: " + _keys_text(overdue, len(overdue)),
            )
        )
    return checks, warnings


_GATES = {1: _gate_step_1, 2: _gate_step_2, 3: _gate_step_3, 4: _gate_step_4, 5: _gate_step_5}


def cycle_gate_evaluate(*, cycle: SopCycle, step: int | None = None) -> dict:
    """WF-42: the gate of `step` (default the current step): `{step, name, passed, checks, warnings,
    evaluated_at}`; each check `{check, passed, value, threshold, detail, evidence}` where `evidence`
    lists up to 50 offending keys. Reads only; advance and complete store the result on the step."""
    number = step or cycle.current_step
    if number not in _GATES:
        raise ValidationFailed(fields={"step": ["A step number is 1 to 5."]})
    checks, warnings = _GATES[number](cycle)
    return {
        "step": number,
        "name": CYCLE_STEP_NAMES[number],
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "warnings": warnings,
        "evaluated_at": timezone.now().isoformat().replace("+00:00", "Z"),
    }


def _failed_summary(result: dict) -> str:
    return "; ".join(c["detail"] for c in result["checks"] if not c["passed"])


# Overdue steps (alerts) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sweep:
    """The audit target of the daily overdue-step sweep: a set of rows, not one row."""

    pk: str

    def __str__(self) -> str:
        return f"overdue S&OP steps {self.pk}"


@transaction.atomic
def cycle_steps_notify_overdue(*, today: datetime.date | None = None) -> int:
    """Notify the owner of every overdue step of an active cycle (pending or in progress, due date
    before today), once per step per day (idempotent). A system change; one
    governance.sop_cycle_step.overdue_notified audit row per run that notified anyone."""
    from governance.selectors import overdue_cycle_steps

    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today, time.min))
    already = set(
        Notification.objects.filter(
            kind=NotificationKind.ASSIGNMENT,
            entity_type="sop_cycle_step",
            created_at__gte=start,
            title__startswith="Step overdue:",
        ).values_list("entity_id", flat=True)
    )
    rows = []
    for step in overdue_cycle_steps(today=today).filter(owner__is_active=True):
        if str(step.pk) in already:
            continue
        rows += notification_create_many(
            recipients=[step.owner],
            kind=NotificationKind.ASSIGNMENT,
            title=f"Step overdue: {_step_title(step.cycle, step)}",
            body=f"Was due {step.due_date:%Y-%m-%d}.",
            target=step,
            url=_cycle_url(step.cycle),
        )
    if rows:
        audit.record(
            actor=None,
            event_type=events.SOP_CYCLE_STEPS_OVERDUE_NOTIFIED,
            target=_Sweep(today.isoformat()),
            target_type="sop_cycle_step",
            metadata={"count": len(rows), "step_ids": [int(n.entity_id) for n in rows]},
        )
    return len(rows)


__all__ = [
    "cycle_active",
    "cycle_advance",
    "cycle_allowed_actions",
    "cycle_cancel",
    "cycle_complete",
    "cycle_create",
    "cycle_gate_evaluate",
    "cycle_skip_step",
    "cycle_step_update",
    "cycle_steps_notify_overdue",
    "cycle_update",
    "render_action_items",
    "render_decisions",
    "review_horizon",
    "step_allowed_actions",
    "step_is_overdue",
]
