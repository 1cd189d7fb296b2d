"""Comments (GOV-12, GOV-80): the record of decisions taken on plans and other entities.

`comment_record` is called by workflow services inside their own transaction, after they have
checked the actor's permission for the decision, so the decision and its comment commit together.
Free-form comments, threads and mentions (API-GOV-21…23) build on the same model.
"""

from genxsop.errors import ValidationFailed
from governance import audit
from governance.choices import CommentKind
from governance.models import Comment

MAX_CONTENT = 10_000


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
