"""Inventory policy exceptions (PLN-09): a stockout, excess or data-quality risk on one inventory row
with an owner and a due date. Optimisation runs raise them; publish readiness (GOV-62 inventory
risk) checks that every critical row has one that somebody owns.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from genxsop.errors import DuplicateEntity, InvalidStateTransition, PermissionDenied, ValidationFailed
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from governance.choices import NotificationKind
from planning import events
from planning import permissions as perms
from planning.choices import (
    EXCEPTION_ACTIVE_STATUSES,
    EXCEPTION_TRANSITIONS,
    ExceptionSeverity,
    ExceptionStatus,
    ExceptionType,
)
from planning.models import Inventory, InventoryPolicyException

__all__ = [
    "OWNER_FIELDS",
    "policy_exception_allowed_actions",
    "policy_exception_create",
    "policy_exception_update",
    "policy_exceptions_sync_for_run",
]

# ACC-04: what the owner may change without change_inventorypolicyexception; the resolution note
# travels with a status change.
OWNER_FIELDS = frozenset({"status", "notes", "resolution_note"})
_CLOSED = (ExceptionStatus.RESOLVED, ExceptionStatus.DISMISSED)


def _owner_validate(owner, inventory: Inventory) -> None:
    """ACC-04: an owner is an active user who can read the row."""
    if owner is None:
        return
    if not owner.is_active or not owner.has_perm(perms.VIEW_POLICY_EXCEPTION) or not object_in_scope(owner, inventory):
        message = "The owner must be an active user who can read this inventory row."
        raise ValidationFailed(message, fields={"owner_user_id": [message]})


def _notify_owner(row: InventoryPolicyException, inventory: Inventory) -> list:
    from governance.services.notifications import notification_create_many

    return notification_create_many(
        recipients=[row.owner],
        kind=NotificationKind.EXCEPTION_ASSIGNED,
        target=row,
        url="/inventory/?tab=exceptions",
        title=f"Exception assigned: {row.get_exception_type_display()} on {inventory.product.sku}",
        body=f"{inventory.product.sku} at {inventory.location.code}: {row.recommended_action}",
    )


def _may_change(user, row: InventoryPolicyException, can_change: bool | None = None) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.has_perm(perms.CHANGE_POLICY_EXCEPTION) if can_change is None else can_change)
        and object_in_scope(user, row.inventory, change=True)
    )


def policy_exception_allowed_actions(user, row: InventoryPolicyException, *,
                                     can_change: bool | None = None) -> list[str]:  # fmt: skip
    """The WF-61 actions `user` may take on `row`: every legal move for INV_W in change scope and
    for the owner (ACC-04), none for anybody else. `can_change`: whether `user` holds
    change_inventorypolicyexception, when already known (a list checks it once, not per row)."""
    if not (_may_change(user, row, can_change) or (user is not None and row.owner_id == user.pk and user.is_active)):
        return []
    return sorted(EXCEPTION_TRANSITIONS[ExceptionStatus(row.status)].values())


@transaction.atomic
def policy_exception_create(*, actor, inventory: Inventory, exception_type: str, recommended_action: str,
                            severity: str = ExceptionSeverity.MEDIUM, owner=None,
                            due_date: datetime.date | None = None,
                            notes: str = "") -> InventoryPolicyException:  # fmt: skip
    """Open an exception on `inventory`. Needs change_inventorypolicyexception with the row in the
    actor's change scope. One active (open or in progress) exception per row and type: a second is
    409 DUPLICATE_ENTITY. The owner, when given, is notified (exception_assigned)."""
    require_perm(actor, perms.CHANGE_POLICY_EXCEPTION, inventory)
    inventory = Inventory.objects.select_for_update().select_related("product", "location").get(pk=inventory.pk)
    if exception_type not in ExceptionType.values:
        raise ValidationFailed(fields={"exception_type": [f"One of {', '.join(ExceptionType.values)}."]})
    _owner_validate(owner, inventory)
    if InventoryPolicyException.objects.filter(
        inventory=inventory, exception_type=exception_type, status__in=EXCEPTION_ACTIVE_STATUSES
    ).exists():
        raise DuplicateEntity(f"This row already has an active {exception_type.replace('_', ' ')} exception.")
    row = InventoryPolicyException(inventory=inventory, exception_type=exception_type, severity=severity,
                                   recommended_action=(recommended_action or "").strip(), owner=owner,
                                   due_date=due_date, notes=notes or "")  # fmt: skip
    validate_instance(row, exclude=["inventory", "owner", "resolved_by"])
    save_or_conflict(row)
    if owner is not None:
        _notify_owner(row, inventory)
    audit.record(actor=actor, event_type=events.POLICY_EXCEPTION_CREATED, target=row, after=snapshot(row),
                 related=inventory)  # fmt: skip
    bus.publish_on_commit(events.POLICY_EXCEPTION_CREATED, policy_exception_id=row.pk, inventory_id=inventory.pk)
    return row


_STATUS_EVENTS = {
    ExceptionStatus.IN_PROGRESS: events.POLICY_EXCEPTION_STARTED,
    ExceptionStatus.RESOLVED: events.POLICY_EXCEPTION_RESOLVED,
    ExceptionStatus.DISMISSED: events.POLICY_EXCEPTION_DISMISSED,
    ExceptionStatus.OPEN: events.POLICY_EXCEPTION_REOPENED,
}


def _transition(row: InventoryPolicyException, *, to: str, actor, note: str) -> list[str]:
    moves = EXCEPTION_TRANSITIONS[ExceptionStatus(row.status)]
    if to not in moves:
        raise InvalidStateTransition(
            f"An exception cannot go from {row.status} to {to}.",
            context={"from": row.status, "to": to, "allowed_actions": sorted(moves.values())},
        )
    if to in _CLOSED and not note:
        message = "Say why the exception is closed."
        raise ValidationFailed(message, fields={"resolution_note": [message]})
    if (
        to == ExceptionStatus.OPEN
        and InventoryPolicyException.objects.filter(
            inventory_id=row.inventory_id, exception_type=row.exception_type, status__in=EXCEPTION_ACTIVE_STATUSES
        )
        .exclude(pk=row.pk)
        .exists()
    ):
        raise DuplicateEntity(f"This row already has an active {row.exception_type.replace('_', ' ')} exception.")
    row.status = to
    if to in _CLOSED:
        row.resolved_by, row.resolved_at, row.resolution_note = actor, timezone.now(), note
    else:  # a reopened exception is worked again from scratch
        row.resolved_by, row.resolved_at = None, None
    return ["status", "resolved_by", "resolved_at", "resolution_note"]


@transaction.atomic
def policy_exception_update(*, actor, exception: InventoryPolicyException, data: dict) -> InventoryPolicyException:
    """Change an exception (API-INV-09). INV_W in change scope may change owner, due date, notes and
    status; the owner only status and notes (ACC-04); anybody else 403. `status` moves along WF-61
    (409 INVALID_STATE_TRANSITION with the allowed actions otherwise); resolving or dismissing needs
    `resolution_note`. A new owner is notified. Emits planning.policy_exception.<started|resolved|
    dismissed|reopened> for a status change, else .updated when anything changed."""
    require_perm(actor, perms.VIEW_POLICY_EXCEPTION, exception)
    # Only this row is locked: PostgreSQL cannot lock the nullable side of the owner join.
    row = (
        InventoryPolicyException.objects.select_for_update(of=("self",))
        .select_related("inventory__product", "inventory__location", "owner")
        .get(pk=exception.pk)
    )
    if not _may_change(actor, row):
        if row.owner_id != actor.pk:
            raise PermissionDenied()
        extra = sorted(set(data) - OWNER_FIELDS)
        if extra:
            raise PermissionDenied(f"The owner may change only status and notes, not {', '.join(extra)}.")
    before = snapshot(row)
    changed: list[str] = []
    status = data.get("status")
    note = (data.get("resolution_note") or "").strip()
    if status is not None and status != row.status:
        changed += _transition(row, to=status, actor=actor, note=note)
    elif note and note != row.resolution_note and row.status in _CLOSED:
        row.resolution_note = note
        changed.append("resolution_note")
    for name in ("notes", "due_date"):
        if name in data and data[name] != getattr(row, name):
            setattr(row, name, data[name] if name != "notes" else (data[name] or ""))
            changed.append(name)
    new_owner = None
    if "owner" in data and (data["owner"].pk if data["owner"] else None) != row.owner_id:
        _owner_validate(data["owner"], row.inventory)
        row.owner = new_owner = data["owner"]
        changed.append("owner")
    if not changed:
        return row
    validate_instance(row, exclude=["inventory", "owner", "resolved_by"])
    row.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    notified = _notify_owner(row, row.inventory) if new_owner is not None else []
    event = _STATUS_EVENTS[row.status] if "status" in changed else events.POLICY_EXCEPTION_UPDATED
    audit.record(actor=actor, event_type=event, target=row, before=before, after=snapshot(row),
                 related=row.inventory, metadata={"notified": [n.recipient_id for n in notified]})  # fmt: skip
    bus.publish_on_commit(event, policy_exception_id=row.pk, inventory_id=row.inventory_id)
    return row


# WF-61 system actions of an optimisation run -----------------------------------------------------

SYSTEM_DUE_DAYS = {ExceptionSeverity.HIGH: 2}  # FRM-06 step 7: high +2 days, the others +5
SYSTEM_DUE_DAYS_DEFAULT = 5


def policy_exceptions_sync_for_run(*, actor, run, inventory_ids, findings: dict,
                                   today: datetime.date | None = None) -> dict:  # fmt: skip
    """Upsert the exceptions of the rows `inventory_ids` after optimisation `run` (WF-61 system actions).

    `findings` maps (inventory_id, exception_type) to (severity, recommended_action) for every condition
    that holds. A holding condition updates the active exception (severity, action, run) or opens one due
    today + 2 days (high) or + 5 days; an active exception whose condition is not in `findings` is resolved
    with "Condition cleared by run <run_id>". Set-based; must run inside the run's transaction. Returns
    `{created, updated, resolved}` lists of exceptions."""
    today = today or timezone.localdate()
    now = timezone.now()
    active = {
        (row.inventory_id, row.exception_type): row
        for row in InventoryPolicyException.objects.select_for_update()
        .filter(inventory_id__in=list(inventory_ids), status__in=EXCEPTION_ACTIVE_STATUSES)
        .order_by("pk")
    }
    created, updated, resolved, entries = [], [], [], []
    for key in sorted(findings):
        severity, action = findings[key]
        row = active.get(key)
        if row is None:
            due = today + datetime.timedelta(days=SYSTEM_DUE_DAYS.get(severity, SYSTEM_DUE_DAYS_DEFAULT))
            created.append(InventoryPolicyException(inventory_id=key[0], exception_type=key[1], severity=severity,
                                                    recommended_action=action, due_date=due, run=run))  # fmt: skip
            continue
        before = snapshot(row)
        row.severity, row.recommended_action, row.run = severity, action, run
        updated.append(row)
        entries.append((events.POLICY_EXCEPTION_UPDATED, row, before))
    note = f"Condition cleared by run {run.run_id}"
    for key, row in sorted(active.items()):
        if key in findings:
            continue
        before = snapshot(row)
        row.status, row.resolved_by, row.resolved_at, row.resolution_note = ExceptionStatus.RESOLVED, actor, now, note
        row.run = run
        resolved.append(row)
        entries.append((events.POLICY_EXCEPTION_RESOLVED, row, before))
    InventoryPolicyException.objects.bulk_create(created, batch_size=500)
    if not all(row.pk for row in created):  # backends without RETURNING ids: read them back
        by_key = {(r.inventory_id, r.exception_type): r for r in InventoryPolicyException.objects.filter(
            run=run, status=ExceptionStatus.OPEN, inventory_id__in=[c.inventory_id for c in created])}  # fmt: skip
        for row in created:
            row.pk = row.id = by_key[(row.inventory_id, row.exception_type)].pk
    for row in [*updated, *resolved]:
        row.updated_at = now
    InventoryPolicyException.objects.bulk_update(
        [*updated, *resolved],
        ["severity", "recommended_action", "run", "status", "resolved_by", "resolved_at", "resolution_note",
         "updated_at"], batch_size=500,
    )  # fmt: skip
    entries = [(events.POLICY_EXCEPTION_CREATED, row, None) for row in created] + entries
    audit.record_many([
        {"actor": actor, "event_type": event, "target": row, "before": before, "after": snapshot(row),
         "metadata": {"run_id": run.run_id}, "message": row.resolution_note if row in resolved else ""}
        for event, row, before in entries
    ])  # fmt: skip
    if entries:
        bus.publish_on_commit(events.POLICY_EXCEPTION_UPDATED, run_id=run.run_id, created=len(created),
                              updated=len(updated), resolved=len(resolved))  # fmt: skip
    return {"created": created, "updated": updated, "resolved": resolved}
