"""Read paths of the governance app: the audit log and entity histories, users, tokens, comments."""

import re
from functools import cache

from django.apps import apps
from django.db.models import Q, QuerySet

from genxsop.errors import NotFound, PermissionDenied, ValidationFailed
from genxsop.filters import filter_queryset
from genxsop.services import require_perm
from governance import entities
from governance.choices import Role
from governance.filtersets import ActionItemFilterSet, AuditEventFilterSet, DecisionFilterSet
from governance.models import ActionItem, ApiToken, AuditEvent, Comment, Decision, Notification, SopCycle, User
from governance.permissions import VIEW_AUDIT_EVENT


@cache
def _models_by_entity_type() -> dict:
    # The same snake_case naming as governance.audit.entity_type_of, which wrote target_type.
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower(): model for model in apps.get_models()}


def audit_history(*, user, target_type: str, target_id) -> QuerySet[AuditEvent]:
    """Audit events of one entity, newest first, for whoever can read that entity (ACC-06).

    The entity is looked up through its own scoped queryset, so an entity outside the caller's
    read scope answers 403 (no module access) or 404 (outside the object scope), never its history.
    """
    model = _models_by_entity_type().get(target_type)
    if model is None:
        raise NotFound("Unknown entity type.")
    manager = model._default_manager
    if hasattr(manager, "for_user"):
        try:
            visible = manager.for_user(user).filter(pk=target_id).exists()
        except (ValueError, TypeError):
            visible = False
        if not visible:
            raise NotFound()
    else:
        meta = model._meta
        require_perm(user, f"{meta.app_label}.view_{meta.model_name}")
    return AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id)).order_by("-occurred_at", "-id")


def audit_event_list(*, user, filters: dict | None = None) -> QuerySet[AuditEvent]:
    """The whole audit log, newest first, filtered (API-GOV-30, UI-17). Needs governance.view_auditevent (EXEC_C)."""
    require_perm(user, VIEW_AUDIT_EVENT)
    queryset = AuditEvent.objects.order_by("-occurred_at", "-id")
    return filter_queryset(AuditEventFilterSet, filters or {}, queryset)


def audit_event_get(*, user, pk) -> AuditEvent:
    require_perm(user, VIEW_AUDIT_EVENT)
    event = AuditEvent.objects.filter(pk=pk).first()
    if event is None:
        raise NotFound("Audit event not found.")
    return event


def audit_entity_events(*, user, entity_type: str, entity_id: str) -> QuerySet[AuditEvent]:
    """One entity's events and those of its children (`related_*`), newest first (API-GOV-32).

    Whoever can read the entity may read its history: registered entity types are resolved
    through `governance.entities` (the owning app's scoped reader), other models through their
    scoped queryset as in `audit_history`. Unreadable, missing or unknown entities are 404.
    """
    if entity_type in entities.entity_types():
        entities.readable_entity(user=user, entity_type=entity_type, entity_id=entity_id)
    else:
        try:
            audit_history(user=user, target_type=entity_type, target_id=entity_id)
        except PermissionDenied:
            raise NotFound() from None
    key = str(entity_id)
    return AuditEvent.objects.filter(
        Q(target_type=entity_type, target_id=key) | Q(related_type=entity_type, related_id=key)
    ).order_by("-occurred_at", "-id")


# Access: the caller's modules and capabilities, API tokens --------------------------------

# ACC-06 read scope per module, as the permission that grants it (None: every active user).
# Modules join this table as their read permissions appear.
READ_MODULES: tuple[tuple[str, str | None], ...] = (
    ("dashboard", None),
    ("kpi", None),
    ("notifications", None),
    ("catalog", "planning.view_product"),
    ("audit", "governance.view_auditevent"),
)

# ACC-03 write capabilities, as the permission that grants each.
CAPABILITIES: tuple[tuple[str, str | None], ...] = (
    ("profile.edit_own", None),
    ("api_tokens.manage_own", None),
    ("catalog.manage", "planning.add_product"),
    ("users.manage", "governance.add_user"),
    ("api_tokens.manage_any", "governance.add_apitoken"),
)


def user_modules(*, user) -> list[str]:
    """Modules `user` may read (drives `/auth/me` and the console navigation)."""
    return [name for name, perm in READ_MODULES if perm is None or user.has_perm(perm)]


def user_capabilities(*, user) -> list[str]:
    return [name for name, perm in CAPABILITIES if perm is None or user.has_perm(perm)]


def user_get(*, user, pk) -> User:
    """Any user, for administrators (e.g. to issue a token to a service account)."""
    if user.role != Role.ADMIN:
        raise PermissionDenied("Only administrators can act on other users.")
    try:
        return User.objects.get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("User not found.") from None


def api_token_list(*, user, owner_id: int | None = None, include_revoked: bool = False) -> QuerySet[ApiToken]:
    """The caller's own tokens; an administrator may list another user's with `owner_id` (API-AUTH-19)."""
    owner_id = owner_id or user.pk
    if owner_id != user.pk and user.role != Role.ADMIN:
        raise PermissionDenied("Only administrators can list other users' tokens.")
    tokens = ApiToken.objects.filter(user_id=owner_id).select_related("user", "created_by")
    if not include_revoked:
        tokens = tokens.filter(revoked_at__isnull=True)
    return tokens.order_by("-created_at", "-id")


def api_token_get(*, user, pk) -> ApiToken:
    """A token of the caller, or any token for an administrator; others' tokens are 404."""
    tokens = ApiToken.objects.select_related("user", "created_by")
    if user.role != Role.ADMIN:
        tokens = tokens.filter(user=user)
    try:
        return tokens.get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise NotFound("Token not found.") from None


# Users: directory and administration (API-AUTH-09…18) -------------------------------------


def user_list(*, user, filters: dict | None = None) -> QuerySet[User]:
    """The user directory ordered by full name: NV roles (governance.view_user); viewers get 403.

    Filters: `role`, `is_active` (bool), `search` (name or email). Administrators' rows carry
    `scope_count` and `token_count` (active API tokens) and `mfa_enabled` annotations.
    """
    from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
    from django.db.models.functions import Coalesce
    from guardian.models import UserObjectPermission

    require_perm(user, "governance.view_user")
    filters = filters or {}
    users = User.objects.all()
    if filters.get("role"):
        users = users.filter(role=filters["role"])
    if filters.get("is_active") is not None:
        users = users.filter(is_active=filters["is_active"])
    if filters.get("search"):
        term = filters["search"]
        users = users.filter(Q(full_name__icontains=term) | Q(email__icontains=term))
    if user.role == Role.ADMIN:
        scopes = (
            UserObjectPermission.objects.filter(
                user_id=OuterRef("pk"), permission__codename="view_in_scope", content_type__app_label="planning"
            )
            .values("user_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        tokens = (
            ApiToken.objects.filter(user_id=OuterRef("pk"), revoked_at__isnull=True)
            .values("user_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        users = users.annotate(
            scope_count=Coalesce(Subquery(scopes, output_field=IntegerField()), 0),
            token_count=Coalesce(Subquery(tokens, output_field=IntegerField()), 0),
        )
        if apps.is_installed("allauth.mfa"):
            from allauth.mfa.models import Authenticator

            users = users.annotate(
                mfa_enabled=Exists(Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP))
            )
    return users.order_by("full_name", "id")


def user_scope_list(*, user, pk) -> list[dict]:
    """A user's object scopes (API-AUTH-17): administrators, or the user themself."""
    from governance.services.scopes import user_scopes

    if user.role != Role.ADMIN and str(user.pk) != str(pk):
        raise PermissionDenied("Only administrators can read other users' scopes.")
    if str(user.pk) == str(pk):
        return user_scopes(user)
    return user_scopes(user_get(user=user, pk=pk))


def user_admin_get(*, user, pk) -> User:
    """One user with the administrator annotations of `user_list` (API-AUTH-11); admins only."""
    if user.role != Role.ADMIN:
        raise PermissionDenied("Only administrators can act on other users.")
    try:
        return user_list(user=user).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("User not found.") from None


def api_token_admin_list(*, user, owner_id: int | None = None, include_revoked: bool = False) -> QuerySet[ApiToken]:
    """Every user's API tokens, or one owner's, for administrators (UI-19/UI-20 token pages)."""
    if user.role != Role.ADMIN:
        raise PermissionDenied("Only administrators can list other users' tokens.")
    tokens = ApiToken.objects.select_related("user", "created_by")
    if owner_id:
        tokens = tokens.filter(user_id=owner_id)
    if not include_revoked:
        tokens = tokens.filter(revoked_at__isnull=True)
    return tokens.order_by("-created_at", "-id")


def comment_list(*, user, entity_type: str, entity_id: str) -> QuerySet[Comment]:
    """The comments of an entity the caller may read, oldest first (404 otherwise, GOV-80)."""
    entity = entities.readable_entity(user=user, entity_type=entity_type, entity_id=entity_id)
    return (
        Comment.objects.filter(entity_type=entity_type, entity_id=str(entity.pk))
        .select_related("user")
        .prefetch_related("mentions")
        .order_by("created_at", "id")
    )


# S&OP cycles, decisions, action items, notifications (GOV-08…13) ------------------------------


def sop_cycle_get(*, user, pk) -> SopCycle:
    """A cycle, for every role that reads S&OP cycles (404 when missing)."""
    require_perm(user, "governance.view_sopcycle")
    cycle = SopCycle.objects.filter(pk=_int_or_none(pk)).first()
    if cycle is None:
        raise NotFound()
    return cycle


def decision_list(*, user, filters: dict | None = None) -> QuerySet[Decision]:
    """Decisions, newest first (API-GOV-03): every role that reads S&OP governance."""
    require_perm(user, "governance.view_decision")
    qs = Decision.objects.select_related("decided_by", "cycle").order_by("-decided_at", "-id")
    return filter_queryset(DecisionFilterSet, filters or {}, qs)


def decision_get(*, user, pk) -> Decision:
    decision = decision_list(user=user).prefetch_related("action_items__owner").filter(pk=_int_or_none(pk)).first()
    if decision is None:
        raise NotFound()
    return decision


def action_item_list(*, user, filters: dict | None = None) -> QuerySet[ActionItem]:
    """Action items by due date (API-GOV-01, API-SOP-15): every role that reads S&OP governance."""
    require_perm(user, "governance.view_actionitem")
    qs = ActionItem.objects.select_related("owner", "cycle", "decision").order_by("due_date", "id")
    return filter_queryset(ActionItemFilterSet, filters or {}, qs)


def action_item_get(*, user, pk) -> ActionItem:
    item = action_item_list(user=user).filter(pk=_int_or_none(pk)).first()
    if item is None:
        raise NotFound()
    return item


def notification_list(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    """The caller's own notifications, newest first (API-GOV-24); nobody reads anyone else's."""
    qs = Notification.objects.filter(recipient_id=getattr(user, "pk", None)).order_by("-created_at", "-id")
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    return qs


def notification_unread_count(*, user) -> int:
    return notification_list(user=user, unread=True).count()


def _int_or_none(pk):
    try:
        value = int(pk)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**63 else None


# S&OP cycles (API-SOP-01…04, UI-11) ---------------------------------------------------------------


def sop_cycle_list(*, user, filters: dict | None = None) -> QuerySet[SopCycle]:
    """Cycles, newest period first, with their steps and owners; `overall_status` filters (API-SOP-01)."""
    from django.db.models import Prefetch

    from governance.choices import CycleStatus
    from governance.models import SopCycleStep

    require_perm(user, "governance.view_sopcycle")
    qs = SopCycle.objects.select_related("created_by").prefetch_related(
        Prefetch("steps", queryset=SopCycleStep.objects.select_related("owner").order_by("step_number"))
    )
    status = (filters or {}).get("overall_status") or (filters or {}).get("status")
    if status:
        if status not in CycleStatus.values:
            raise ValidationFailed(fields={"overall_status": [f"One of {', '.join(CycleStatus.values)}."]})
        qs = qs.filter(overall_status=status)
    return qs.order_by("-period", "-id")


def overdue_cycle_steps(*, today=None) -> QuerySet:
    """Steps of active cycles, pending or in progress, whose due date has passed (the overdue alerts)."""
    from django.utils import timezone

    from governance.choices import CycleStatus, StepStatus
    from governance.models import SopCycleStep

    today = today or timezone.localdate()
    return (
        SopCycleStep.objects.filter(
            cycle__overall_status=CycleStatus.ACTIVE,
            status__in=[StepStatus.PENDING, StepStatus.IN_PROGRESS],
            due_date__lt=today,
        )
        .select_related("cycle", "owner")
        .order_by("due_date", "cycle_id", "step_number")
    )
