"""Action items (GOV-11, WF-51, API-SOP-16, API-GOV-02) and the daily overdue reminder.

EXEC_C creates action items in any cycle and edits any of them; the owners of a cycle's steps may
create them in that cycle; an item's owner may change its status and notes (ACC-04). The owner is
notified when assigned (in the same transaction, before the audit row, which lists the recipient).
"""

from datetime import date, datetime, time

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from genxsop.errors import InvalidStateTransition, PermissionDenied, ValidationFailed
from genxsop.services import require_perm, snapshot, validate_instance
from governance import audit, bus, events
from governance.choices import (
    ACTION_ITEM_OPEN_STATUSES,
    ACTION_ITEM_TRANSITIONS,
    ActionItemStatus,
    NotificationKind,
)
from governance.models import ActionItem, Decision, Notification, SopCycle, User
from governance.services.decisions import cycle_writable_validate
from governance.services.notifications import notification_create_many

ADD_ACTION_ITEM = "governance.add_actionitem"
CHANGE_ACTION_ITEM = "governance.change_actionitem"
VIEW_ACTION_ITEM = "governance.view_actionitem"
OWNER_FIELDS = {"status", "notes"}  # what an owner without change_actionitem may change (ACC-04)


def _items_url() -> str:
    return reverse("governance:action_items")


def action_item_owner_validate(owner: User | None) -> None:
    """An owner is an active user who can read action items (ACC-04); other choices answer 400."""
    if owner is None or not owner.is_active or not owner.has_perm(VIEW_ACTION_ITEM):
        raise ValidationFailed(fields={"owner_id": ["The owner must be an active user who can read action items."]})


def action_item_transition_validate(item: ActionItem, *, to: str) -> None:
    if to not in ACTION_ITEM_TRANSITIONS[ActionItemStatus(item.status)]:
        raise InvalidStateTransition(
            f"An action item cannot go from {item.status} to {to}.", context={"from": item.status, "to": to}
        )


def _can_create_in(actor: User, cycle: SopCycle | None) -> bool:
    if actor.is_active and actor.has_perm(ADD_ACTION_ITEM):
        return True
    return cycle is not None and actor.is_active and cycle.steps.filter(owner=actor).exists()


def _assign_notification(item: ActionItem) -> list[Notification]:
    return notification_create_many(
        recipients=[item.owner],
        kind=NotificationKind.ASSIGNMENT,
        title=f"Action item assigned: {item.title}",
        body=f"Due {item.due_date:%Y-%m-%d}, priority {item.priority}.",
        target=item,
        url=_items_url(),
    )


def action_item_create_check(*, actor: User, cycle: SopCycle | None) -> None:
    """403 unless the actor may create action items in `cycle` (EXEC_C, or an owner of one of its steps)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        require_perm(actor, ADD_ACTION_ITEM)
    if not _can_create_in(actor, cycle):
        raise PermissionDenied()


@transaction.atomic
def action_item_create(*, actor: User, cycle: SopCycle | None, data: dict) -> ActionItem:
    """Create an action item (EXEC_C, or an owner of one of the cycle's steps) and notify its owner.

    Emits governance.action_item.created."""
    if cycle is not None:
        cycle = SopCycle.objects.select_for_update().get(pk=cycle.pk)
    action_item_create_check(actor=actor, cycle=cycle)
    cycle_writable_validate(cycle)
    decision: Decision | None = data.get("decision")
    if decision is not None and cycle is not None and decision.cycle_id not in (None, cycle.pk):
        raise ValidationFailed(fields={"decision_id": ["The decision belongs to another cycle."]})
    owner = data.get("owner")
    action_item_owner_validate(owner)
    item = ActionItem(
        cycle=cycle,
        decision=decision,
        title=(data.get("title") or "").strip(),
        description=data.get("description") or "",
        owner=owner,
        due_date=data.get("due_date"),
        priority=data.get("priority") or "medium",
        related_type=data.get("related_type") or "",
        related_id=str(data.get("related_id") or ""),
        created_by=actor,
    )
    validate_instance(item)
    item.save()
    notified = _assign_notification(item)
    audit.record(
        actor=actor,
        event_type=events.ACTION_ITEM_CREATED,
        target=item,
        after=snapshot(item),
        related=cycle,
        metadata={"notified": [n.recipient_id for n in notified]},
    )
    bus.publish_on_commit(events.ACTION_ITEM_CREATED, action_item_id=item.pk)
    return item


@transaction.atomic
def action_item_update(*, actor: User, item: ActionItem, data: dict) -> ActionItem:
    """Change an action item. EXEC_C may change status, notes, due date, owner and priority; the owner
    only status and notes (403 otherwise). Status follows WF-51; `completed_at` is set on done and
    cleared on reopen. A new owner is notified. Emits governance.action_item.updated when something changed."""
    require_perm(actor, VIEW_ACTION_ITEM)
    item = ActionItem.objects.select_for_update().select_related("owner").get(pk=item.pk)
    full = actor.has_perm(CHANGE_ACTION_ITEM)
    if not full:
        if item.owner_id != actor.pk:
            raise PermissionDenied()
        extra = sorted(set(data) - OWNER_FIELDS)
        if extra:
            raise PermissionDenied(f"The owner may change only status and notes, not {', '.join(extra)}.")
    before = snapshot(item)
    changed = []
    status = data.get("status")
    if status is not None and status != item.status:
        action_item_transition_validate(item, to=status)
        item.status = status
        item.completed_at = timezone.now() if status == ActionItemStatus.DONE else None
        changed += ["status", "completed_at"]
    for name in ("notes", "due_date", "priority"):
        if name in data and data[name] != getattr(item, name):
            setattr(item, name, data[name])
            changed.append(name)
    new_owner = None
    if "owner" in data and data["owner"].pk != item.owner_id:
        action_item_owner_validate(data["owner"])
        item.owner = new_owner = data["owner"]
        changed.append("owner")
    if not changed:
        return item
    validate_instance(item)
    item.save(update_fields=[*changed, "updated_at"])
    notified = _assign_notification(item) if new_owner is not None else []
    audit.record(
        actor=actor,
        event_type=events.ACTION_ITEM_UPDATED,
        target=item,
        before=before,
        after=snapshot(item),
        related=item.cycle,
        metadata={"notified": [n.recipient_id for n in notified]},
    )
    bus.publish_on_commit(events.ACTION_ITEM_UPDATED, action_item_id=item.pk)
    return item


class _Sweep:
    """The audit target of the daily sweep: a set of rows, not one row."""

    def __init__(self, day: date):
        self.pk = day.isoformat()
        self.label = f"overdue action items {day.isoformat()}"

    def __str__(self) -> str:
        return self.label


@transaction.atomic
def action_items_notify_overdue(*, today: date | None = None) -> int:
    """Notify the owner of every open or in-progress action item past its due date, once per item per
    day (idempotent: an item already reminded today is skipped). A system change; one
    governance.action_item.overdue_notified audit row per run that notified anyone. Returns how many."""
    today = today or timezone.localdate()
    overdue = list(
        ActionItem.objects.filter(status__in=ACTION_ITEM_OPEN_STATUSES, due_date__lt=today, owner__is_active=True)
        .select_related("owner")
        .order_by("pk")
    )
    start = timezone.make_aware(datetime.combine(today, time.min))
    already = set(
        Notification.objects.filter(
            kind=NotificationKind.ACTION_ITEM_DUE, entity_type="action_item", created_at__gte=start
        ).values_list("entity_id", flat=True)
    )
    rows = []
    for item in overdue:
        if str(item.pk) in already:
            continue
        rows += notification_create_many(
            recipients=[item.owner],
            kind=NotificationKind.ACTION_ITEM_DUE,
            title=f"Action item overdue: {item.title}",
            body=f"Was due {item.due_date:%Y-%m-%d}.",
            target=item,
            url=_items_url(),
        )
    if rows:
        sweep = _Sweep(today)
        audit.record(
            actor=None,
            event_type=events.ACTION_ITEM_OVERDUE_NOTIFIED,
            target=sweep,
            target_type="action_item",
            metadata={"count": len(rows), "action_item_ids": [int(n.entity_id) for n in rows]},
        )
    return len(rows)
