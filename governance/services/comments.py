"""Comments (GOV-12, GOV-80, API-GOV-21…23): the remarks and decisions attached to plans and other entities.

`comment_record` is called by workflow services inside their own transaction, after they have
checked the actor's permission for the decision, so the decision and its comment commit together.
`comment_create`, `comment_edit` and `comment_delete` are the free-form comments of users: threads
through `parent` (same entity), mentions by user id or `@email` in the text, notifications for the
mentioned users who can read the entity.
"""

import re

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from genxsop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from genxsop.services import require_perm, snapshot
from governance import audit, bus, entities, events
from governance.choices import CommentKind, NotificationKind
from governance.models import Comment, User
from governance.services.notifications import notification_create_many

MAX_CONTENT = 10_000
ADD_COMMENT = "governance.add_comment"
DELETE_ANY_COMMENT = "governance.delete_comment"  # admin only: delete someone else's comment
EMAIL_TOKEN = re.compile(r"(?<![\w.+-])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


def comment_record(*, actor, target, kind: str, content: str) -> Comment | None:
    """Attach a decision comment by `actor` to `target`; nothing when the content is blank.

    Must run inside the caller's transaction. The decision's own audit event already records the
    comment text, so no second audit row is written here.
    """
    content = (content or "").strip()
    if not content:
        return None
    if kind not in CommentKind.values:
        raise ValueError(f"unknown comment kind {kind!r}")
    if len(content) > MAX_CONTENT:
        raise ValidationFailed(fields={"comment": [f"At most {MAX_CONTENT} characters."]})
    return Comment.objects.create(
        entity_type=audit.entity_type_of(target), entity_id=str(target.pk), user=actor, content=content, kind=kind
    )


def _content_validate(content: str) -> str:
    content = (content or "").strip()
    if not content:
        raise ValidationFailed(fields={"content": ["This field may not be blank."]})
    if len(content) > MAX_CONTENT:
        raise ValidationFailed(fields={"content": [f"At most {MAX_CONTENT} characters."]})
    return content


def _can_read(user: User, entity_type: str, entity_id: str) -> bool:
    if not user.is_active:
        return False
    try:
        entities.readable_entity(user=user, entity_type=entity_type, entity_id=entity_id)
    except (NotFound, PermissionDenied):
        return False
    return True


def mentions_resolve(*, content: str, mention_ids: list[int] | None) -> list[User]:
    """The users named by id or by `@email` in the text; unknown ids answer 400, unknown e-mails are ignored."""
    ids = list(dict.fromkeys(mention_ids or []))
    users = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in users]
    if missing:
        raise ValidationFailed(fields={"mentions": [f"Unknown user ids: {', '.join(map(str, missing))}."]})
    emails = {m.lower() for m in EMAIL_TOKEN.findall(content)}
    if emails:
        for user in User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails).order_by("pk"):
            users.setdefault(user.pk, user)
    return list(users.values())


@transaction.atomic
def comment_create(
    *,
    actor: User,
    entity_type: str,
    entity_id: str,
    content: str,
    parent_id: int | None = None,
    mention_ids: list[int] | None = None,
) -> tuple[Comment, list[User]]:
    """Comment on an entity the actor can read (governance.add_comment; 404 when unreadable).

    Returns the comment and the mentioned users who were not notified because they cannot read the
    entity. Emits governance.comment.created."""
    require_perm(actor, ADD_COMMENT)
    entity = entities.readable_entity(user=actor, entity_type=entity_type, entity_id=entity_id)
    entity_id = str(entity.pk)
    content = _content_validate(content)
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(pk=parent_id, entity_type=entity_type, entity_id=entity_id).first()
        if parent is None:
            raise ValidationFailed(fields={"parent_id": ["No such comment on this entity."]})
    mentioned = mentions_resolve(content=content, mention_ids=mention_ids)
    comment = Comment.objects.create(
        entity_type=entity_type,
        entity_id=entity_id,
        user=actor,
        content=content,
        kind=CommentKind.COMMENT,
        parent=parent,
    )
    comment.mentions.set(mentioned)
    readers = [u for u in mentioned if u.pk != actor.pk and _can_read(u, entity_type, entity_id)]
    unnotified = [u for u in mentioned if u.pk != actor.pk and u not in readers]
    notified = notification_create_many(
        recipients=readers,
        kind=NotificationKind.MENTION,
        title=f"{actor.full_name} mentioned you",
        body=content[:500],
        entity_type=entity_type,
        entity_id=entity_id,
    )
    audit.record(
        actor=actor,
        event_type=events.COMMENT_CREATED,
        target=comment,
        after=snapshot(comment),
        related=entity,
        metadata={"mentions": [u.pk for u in mentioned], "notified": [n.recipient_id for n in notified]},
    )
    bus.publish_on_commit(events.COMMENT_CREATED, comment_id=comment.pk)
    return comment, unnotified


def _lock_comment(pk) -> Comment:
    comment = Comment.objects.select_for_update().filter(pk=pk).first()
    if comment is None:
        raise NotFound()
    return comment


@transaction.atomic
def comment_edit(*, actor: User, pk, content: str) -> Comment:
    """The author changes the text of their own `comment`-kind comment (409 for approval, rejection,
    return, override and system comments, and for deleted ones). Emits governance.comment.edited."""
    require_perm(actor, ADD_COMMENT)
    comment = _lock_comment(pk)
    if not _can_read(actor, comment.entity_type, comment.entity_id):
        raise NotFound()
    if comment.user_id != actor.pk:
        raise PermissionDenied("Only the author may edit a comment.")
    if comment.kind != CommentKind.COMMENT:
        raise Conflict(f"{comment.get_kind_display()} comments are the record of a decision and cannot be edited.")
    if comment.deleted_at is not None:
        raise Conflict("A deleted comment cannot be edited.")
    content = _content_validate(content)
    before = snapshot(comment)
    comment.content, comment.edited_at = content, timezone.now()
    comment.save(update_fields=["content", "edited_at"])
    audit.record(actor=actor, event_type=events.COMMENT_EDITED, target=comment, before=before, after=snapshot(comment))
    return comment


@transaction.atomic
def comment_delete(*, actor: User, pk) -> Comment:
    """Soft-delete a comment: its author (a `comment`-kind comment) or an administrator. The row stays,
    shown as "[deleted]", so replies keep their thread. Idempotent. Emits governance.comment.deleted."""
    require_perm(actor, ADD_COMMENT)  # every commenting role; the author or admin rule follows
    comment = _lock_comment(pk)
    if not _can_read(actor, comment.entity_type, comment.entity_id):
        raise NotFound()
    is_admin = actor.has_perm(DELETE_ANY_COMMENT)
    if comment.user_id != actor.pk and not is_admin:
        raise PermissionDenied("Only the author or an administrator may delete a comment.")
    if comment.kind != CommentKind.COMMENT:
        raise Conflict(f"{comment.get_kind_display()} comments are the record of a decision and cannot be deleted.")
    if comment.deleted_at is not None:
        return comment
    before = snapshot(comment)
    comment.deleted_at, comment.deleted_by = timezone.now(), actor
    comment.save(update_fields=["deleted_at", "deleted_by"])
    audit.record(actor=actor, event_type=events.COMMENT_DELETED, target=comment, before=before, after=snapshot(comment))
    return comment
