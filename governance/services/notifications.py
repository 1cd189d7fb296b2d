"""In-app notifications (GOV-13, GOV-81, API-GOV-24…27).

Notifications are written by other services inside their own transaction, before their audit row
(the audit row stays the last write, ADR 0015), and that audit row lists the recipients in its
metadata. Marking notifications read is a user's own bookkeeping, not a change to shared data,
so it writes no audit row.
"""

from django.db import transaction
from django.utils import timezone

from genxsop.errors import NotFound
from governance.models import Notification


def notification_create_many(
    *,
    recipients,
    kind: str,
    title: str,
    body: str = "",
    target=None,
    entity_type: str = "",
    entity_id: str = "",
    url: str = "",
) -> list[Notification]:
    """Create one notification per distinct active recipient; call inside the change's transaction."""
    if target is not None:
        from governance.audit import entity_type_of

        entity_type, entity_id = entity_type_of(target), str(target.pk)
    seen, rows = set(), []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                title=title[:200],
                body=body,
                entity_type=entity_type,
                entity_id=entity_id,
                url=url,
            )
        )
    return Notification.objects.bulk_create(rows)


@transaction.atomic
def notification_mark_read(*, actor, pk) -> Notification:
    """Mark one of the actor's own notifications read (idempotent); someone else's is 404. Not audited."""
    notification = Notification.objects.filter(recipient_id=getattr(actor, "pk", None), pk=pk).first()
    if notification is None:
        raise NotFound()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor) -> int:
    """Mark every unread notification of the actor read; returns how many. Not audited."""
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(read_at=timezone.now())
