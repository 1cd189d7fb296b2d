"""User administration (API-AUTH-10…16, UI-20): the only write path for an admin changing an account.

Every service here is admin only, runs in one transaction and writes its audit row there.
Ending a user's access (deactivation, password reset) takes effect at once: console sessions
are deleted, API login tokens revoked and, on deactivation, API tokens revoked too (ACC-21).
"""

from functools import partial

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from genxsop.errors import Conflict, PermissionDenied, ValidationFailed
from genxsop.services import model_update, snapshot
from governance import audit, bus, events
from governance.choices import AuthSource, Role
from governance.invitations import invitation_applies, invitation_send
from governance.models import ApiToken, AuthToken, User
from governance.services.users import user_create, user_set_role

try:  # the session and lockout module owns unlocking and session ending when it is present (ACC-18, ACC-21)
    from governance.services.sessions import sessions_revoke_for_user as _sessions_revoke
    from governance.services.sessions import user_unlock as _lockout_user_unlock
except ImportError:  # pragma: no cover - depends on which parts of the tree are present
    _lockout_user_unlock = _sessions_revoke = None

USER_UNLOCKED = getattr(events, "USER_UNLOCKED", "governance.user.unlocked")
UPDATE_FIELDS = ["full_name", "department"]


def _require_admin(actor) -> None:
    if actor is None or not actor.is_active or actor.role != Role.ADMIN:
        raise PermissionDenied("Only administrators can manage users.")


def _lock(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def refuse_removing_last_admin(user: User) -> None:
    """409 when `user` is the only active administrator (the others are locked to count them safely)."""
    others = list(
        User.objects.select_for_update()
        .filter(role=Role.ADMIN, is_active=True)
        .exclude(pk=user.pk)
        .values_list("pk", flat=True)
    )
    if not others:
        raise Conflict("The last active administrator cannot be removed.")


def end_user_sessions(user: User) -> int:
    """Delete the user's console sessions (database sessions carry the user id only inside the blob)."""
    if _sessions_revoke is not None:
        return _sessions_revoke(user=user)
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def _revoke_login_tokens(user: User, now) -> int:
    return AuthToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)


@transaction.atomic
def admin_user_create(
    *,
    actor: User,
    email: str,
    full_name: str,
    role: str = Role.VIEWER,
    department: str = "",
    password: str | None = None,
    is_service_account: bool = False,
) -> User:
    """Create a user or service account (API-AUTH-10, ACC-26). No password: an unusable one.

    A person created without a password is invited (see user_invite): the set-password e-mail goes
    out once the transaction commits. A taken email (case-insensitive) is 409 DUPLICATE_ENTITY.
    Audited as governance.user.created (and governance.user.invited).
    """
    _require_admin(actor)
    if role not in Role.values:
        raise ValidationFailed(fields={"role": [f"Unknown role {role!r}."]})
    if is_service_account and password:
        raise ValidationFailed(fields={"password": ["Service accounts have no password; they use API tokens."]})
    user = user_create(
        actor=actor, email=email, full_name=full_name, role=role, department=department or "",
        password=password or None, is_service_account=is_service_account,
    )  # fmt: skip
    if invitation_applies(user):
        _invite(actor=actor, user=user, resent=False)
    return user


def _invite(*, actor: User, user: User, resent: bool) -> None:
    # The audit row says who invited whom; the link and its key live only in the e-mail.
    audit.record(actor=actor, event_type=events.USER_INVITED, target=user,
                 metadata={"email": user.email, "role": user.role, "resent": resent})  # fmt: skip
    # robust: a failing mail server is logged and leaves the committed account (the admin can resend).
    transaction.on_commit(partial(invitation_send, user_id=user.pk, inviter_id=actor.pk), robust=True)
    bus.publish_on_commit(events.USER_INVITED, user_id=user.pk)


@transaction.atomic
def user_invite(*, actor: User, user: User) -> User:
    """(Re)send the set-password invitation to a person who has no password yet (API-AUTH-10, UI-20).

    Admins only. The e-mail, with a fresh allauth set-password link, goes out on commit; earlier
    links stay valid until a password is set. 409 for service accounts, SSO accounts, inactive
    users and users who already have a password. Audited as governance.user.invited.
    """
    _require_admin(actor)
    user = _lock(user)
    if user.is_service_account:
        raise Conflict("Service accounts have no password; they authenticate with API tokens.")
    if user.auth_source == AuthSource.SSO:
        raise Conflict("This account signs in through SSO only.", code="SSO_ONLY_ACCOUNT")
    if not user.is_active:
        raise Conflict("Reactivate the user before inviting them.")
    if user.has_usable_password():
        raise Conflict("This user has already set a password; use a password reset instead.")
    _invite(actor=actor, user=user, resent=True)
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, data: dict) -> User:
    """Edit full name, department and role (API-AUTH-12). Admins only.

    A role managed by the identity provider is 409 ROLE_MANAGED_BY_IDP; demoting the last active
    administrator is 409 BUSINESS_RULE_VIOLATION. The role change is audited by user_set_role,
    the other fields as governance.user.updated.
    """
    _require_admin(actor)
    user = _lock(user)
    role = data.get("role")
    if role is not None and role != user.role:
        if user.role_managed_by == AuthSource.SSO:
            raise Conflict("This user's role is managed by the identity provider.", code="ROLE_MANAGED_BY_IDP")
        user = user_set_role(actor=actor, user=user, role=role)
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in UPDATE_FIELDS}
    if "full_name" in values and not values["full_name"]:
        raise ValidationFailed(fields={"full_name": ["This field may not be blank."]})
    before = snapshot(user, UPDATE_FIELDS)
    user, changed = model_update(instance=user, data=values, fields=UPDATE_FIELDS)
    if changed:
        audit.record(actor=actor, event_type=events.USER_UPDATED, target=user, before=before,
                     after=snapshot(user, UPDATE_FIELDS))  # fmt: skip
        bus.publish_on_commit(events.USER_UPDATED, user_id=user.pk)
    return user


@transaction.atomic
def user_deactivate(*, actor: User, user: User, reason: str = "") -> User:
    """Deactivate an account (API-AUTH-13): ends its sessions, API login tokens and API tokens at once.

    Refused (409) for oneself and for the last active administrator. Deactivating an inactive
    user changes nothing. Audited as governance.user.deactivated.
    """
    _require_admin(actor)
    if user.pk == actor.pk:
        raise Conflict("You cannot deactivate your own account.")
    user = _lock(user)
    if not user.is_active:
        return user
    if user.role == Role.ADMIN:
        refuse_removing_last_admin(user)
    now = timezone.now()
    before = snapshot(user, ["is_active", "deactivated_at", "deactivated_by"])
    user.is_active = False
    user.deactivated_at = now
    user.deactivated_by = actor
    user.save(update_fields=["is_active", "deactivated_at", "deactivated_by", "updated_at"])
    sessions = end_user_sessions(user)
    login_tokens = _revoke_login_tokens(user, now)
    api_tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor, revoke_reason="User deactivated", updated_at=now
    )
    audit.record(
        actor=actor, event_type=events.USER_DEACTIVATED, target=user, before=before,
        after=snapshot(user, ["is_active", "deactivated_at", "deactivated_by"]), message=reason,
        metadata={"sessions_ended": sessions, "auth_tokens_revoked": login_tokens, "api_tokens_revoked": api_tokens},
    )  # fmt: skip
    bus.publish_on_commit(events.USER_DEACTIVATED, user_id=user.pk)
    return user


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> User:
    """Reactivate an account (API-AUTH-14). Revoked tokens stay revoked. Audited as governance.user.reactivated."""
    _require_admin(actor)
    user = _lock(user)
    if user.is_active:
        return user
    before = snapshot(user, ["is_active", "deactivated_at", "deactivated_by"])
    user.is_active = True
    user.deactivated_at = None
    user.deactivated_by = None
    user.save(update_fields=["is_active", "deactivated_at", "deactivated_by", "updated_at"])
    audit.record(actor=actor, event_type=events.USER_REACTIVATED, target=user, before=before,
                 after=snapshot(user, ["is_active", "deactivated_at", "deactivated_by"]))  # fmt: skip
    bus.publish_on_commit(events.USER_REACTIVATED, user_id=user.pk)
    return user


@transaction.atomic
def user_unlock(*, actor: User, user: User) -> User:
    """Clear a lockout (API-AUTH-15, ACC-18). Delegates to the lockout module's service when present."""
    _require_admin(actor)
    if _lockout_user_unlock is not None:
        result = _lockout_user_unlock(actor=actor, user=user)
        return result if isinstance(result, User) else User.objects.get(pk=user.pk)
    user = _lock(user)
    if user.failed_login_count == 0 and user.locked_until is None:
        return user
    before = snapshot(user, ["failed_login_count", "locked_until"])
    user.failed_login_count = 0
    user.locked_until = None
    user.save(update_fields=["failed_login_count", "locked_until", "updated_at"])
    audit.record(actor=actor, event_type=USER_UNLOCKED, target=user, before=before,
                 after=snapshot(user, ["failed_login_count", "locked_until"]))  # fmt: skip
    bus.publish_on_commit(USER_UNLOCKED, user_id=user.pk)
    return user


@transaction.atomic
def user_reset_password(*, actor: User, user: User, new_password: str) -> User:
    """Set a new password for a local account (API-AUTH-16); ends its sessions and API login tokens.

    SSO-only accounts are 409 SSO_ONLY_ACCOUNT, service accounts 409 (they have no password);
    a password against the policy is 400. API tokens stay valid (ACC-17). Audited without the password.
    """
    _require_admin(actor)
    user = _lock(user)
    if user.auth_source == AuthSource.SSO:
        raise Conflict("This account signs in through SSO only.", code="SSO_ONLY_ACCOUNT")
    if user.is_service_account:
        raise Conflict("Service accounts have no password; they authenticate with API tokens.")
    try:
        validate_password(new_password or "", user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "The password does not meet the policy.", fields={"new_password": exc.messages}
        ) from None
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    now = timezone.now()
    sessions = end_user_sessions(user)
    login_tokens = _revoke_login_tokens(user, now)
    audit.record(actor=actor, event_type=events.USER_PASSWORD_RESET, target=user,
                 metadata={"sessions_ended": sessions, "auth_tokens_revoked": login_tokens})  # fmt: skip
    bus.publish_on_commit(events.USER_PASSWORD_RESET, user_id=user.pk)
    return user
