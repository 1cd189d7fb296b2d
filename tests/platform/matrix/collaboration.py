"""Role-matrix rows of decisions, action items, comments and notifications (API-SOP-13…16,
API-GOV-01…04, 20…27; see tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import ADMIN, ALL, NV, OPS

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/decisions", NV, None),
    ("GET", "/decisions/{id}", NV, None),
    ("GET", "/sop-cycles/{id}/decisions", NV, None),
    ("POST", "/sop-cycles/{id}/decisions", OPS, {}),  # EXEC_C
    ("GET", "/action-items", NV, None),
    ("GET", "/action-items/{id}", NV, None),
    ("PATCH", "/action-items/{id}", OPS, {}),  # EXEC_C, and the owner (the admin here; tests/governance)
    ("GET", "/sop-cycles/{id}/action-items", NV, None),
    ("POST", "/sop-cycles/{id}/action-items", OPS, {}),  # EXEC_C, and the cycle's step owners
    # Comments on a decision, which every role but viewer reads; the comment is the admin's.
    ("POST", "/comments", NV, {}),
    ("PATCH", "/comments/{id}", ADMIN, {}),  # the author only
    ("DELETE", "/comments/{id}", ADMIN, None),  # the author or an administrator
    # Everyone's own notifications; the notification here is the admin's, so others get 404.
    ("GET", "/notifications", ALL, None),
    ("GET", "/notifications/unread-count", ALL, None),
    ("POST", "/notifications/read-all", ALL, None),
    ("POST", "/notifications/{id}/read", ADMIN, None),
]

DENIED_STATUS = {("POST", "/notifications/{id}/read"): 404}


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    from datetime import date

    from governance.choices import NotificationKind
    from governance.models import Notification, SopCycle
    from governance.services.action_items import action_item_create
    from governance.services.comments import comment_create
    from governance.services.decisions import decision_record

    cycle = SopCycle.objects.create(cycle_name="Matrix cycle", period=date(2026, 3, 1), created_by=admin)
    decision = decision_record(actor=admin, cycle=cycle, data={"title": "Matrix decision", "category": "demand"})
    item = action_item_create(actor=admin, cycle=cycle, data={"title": "Matrix item", "owner": admin,
                                                              "due_date": date(2026, 3, 20)})  # fmt: skip
    comment, _ = comment_create(actor=admin, entity_type="decision", entity_id=str(decision.pk), content="Noted")
    notification = Notification.objects.create(recipient=admin, kind=NotificationKind.MENTION, title="Matrix")
    ids = {"/sop-cycles/": cycle.pk, "/decisions/": decision.pk, "/action-items/": item.pk, "/comments/": comment.pk,
           "/notifications/": notification.pk}  # fmt: skip
    return ids, {}
