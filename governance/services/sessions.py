"""Sign-in, lockout, MFA policy and console sessions of local accounts (ACC-17…21, GOV-30).

allauth, axes and Django send signals; governance.receivers hands them to these services, which
keep User.failed_login_count / locked_until in step with axes and write the audit rows. Nothing
here ever sees or stores a password, a TOTP code or a recovery code.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from genxsop.errors import PermissionDenied, ValidationFailed
from genxsop.services import snapshot, validate_instance
from governance import audit, bus, events
from governance.choices import AuthSource, Role
from governance.models import AuthToken, User

PROFILE_FIELDS = ["full_name", "department"]


@dataclass(frozen=True)
class _AttemptedAccount:
    """Audit target for a sign-in attempt on an email that belongs to no account."""

    email: str
    pk: str = ""

    def __str__(self) -> str:
        return self.email


def _user_for(email: str | None) -> User | None:
    if not email:
        return None
    return User.objects.filter(email__iexact=email.strip()).first()


def _lockout_window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


# LOGIN, FAILURE, LOCKOUT
# ------------------------------------------------------------------------------


@transaction.atomic
def login_success_record(*, user: User, method: str = "password") -> User:
    """A completed local sign-in (password, plus MFA when enrolled): clears the failure count, audited."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.failed_login_count or user.locked_until:
        user.failed_login_count = 0
        user.locked_until = None
        user.save(update_fields=["failed_login_count", "locked_until", "updated_at"])
    audit.record(actor=user, event_type=events.LOGIN_SUCCEEDED, target=user, metadata={"method": method})
    return user


@transaction.atomic
def login_failure_record(*, email: str | None, failures: int | None = None, reason: str = "invalid_credentials"):
    """A refused sign-in attempt. Known account: counted on the user and audited with it as target.

    Unknown email: audited with actor_type anonymous and the attempted email in metadata (GOV-31).
    `failures` is axes' count inside the window, when it is known.
    """
    email = (email or "").strip().lower()
    user = _user_for(email)
    metadata = {"email": email, "reason": reason}
    if user is None:
        audit.record(
            actor=None, event_type=events.LOGIN_FAILED, target=_AttemptedAccount(email), target_type="user",
            metadata=metadata,
        )  # fmt: skip
        return None
    user = User.objects.select_for_update().get(pk=user.pk)
    if reason == "invalid_credentials":
        user.failed_login_count = failures if failures is not None else user.failed_login_count + 1
        user.save(update_fields=["failed_login_count", "updated_at"])
    metadata["failures"] = user.failed_login_count
    audit.record(actor=None, event_type=events.LOGIN_FAILED, target=user, metadata=metadata)
    return user


@transaction.atomic
def login_lockout_record(*, email: str | None):
    """The failure limit was reached: the account is locked for LOGIN_LOCKOUT_MINUTES; audited once per lockout."""
    email = (email or "").strip().lower()
    user = _user_for(email)
    now = timezone.now()
    metadata = {"email": email, "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES}
    if user is None:
        audit.record(
            actor=None, event_type=events.LOGIN_LOCKED_OUT, target=_AttemptedAccount(email), target_type="user",
            metadata=metadata,
        )  # fmt: skip
        return None
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.locked_until and user.locked_until > now:
        return user  # an attempt during the lockout: the failure is audited, the lockout already was
    user.locked_until = now + _lockout_window()
    user.failed_login_count = max(user.failed_login_count, settings.LOGIN_MAX_FAILURES)
    user.save(update_fields=["locked_until", "failed_login_count", "updated_at"])
    metadata["locked_until"] = user.locked_until.isoformat()
    audit.record(actor=None, event_type=events.LOGIN_LOCKED_OUT, target=user, metadata=metadata)
    bus.publish_on_commit(events.LOGIN_LOCKED_OUT, user_id=user.pk)
    return user


def lockout_seconds_remaining(email: str | None) -> int:
    """Seconds until a locked email may try again (at least 1; the whole window when unknown)."""
    from axes.models import AccessAttempt

    window = _lockout_window()
    now = timezone.now()
    last = (
        AccessAttempt.objects.filter(username=(email or "").strip().lower())
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    until = last + window if last else None
    user = _user_for(email)
    if user is not None and user.locked_until and (until is None or user.locked_until > until):
        until = user.locked_until
    if until is None:
        return int(window.total_seconds())
    return max(1, int((until - now).total_seconds()))


@transaction.atomic
def user_unlock(*, actor: User, user: User) -> User:
    """Lift a lockout (WF-53): clears axes' attempts and the user's counters. Admins only; audited."""
    if actor is None or not actor.is_active or actor.role != Role.ADMIN:
        raise PermissionDenied("Only administrators can unlock accounts.")
    from axes.models import AccessAttempt

    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"failed_login_count": user.failed_login_count, "locked_until": _iso(user.locked_until)}
    AccessAttempt.objects.filter(username=user.email.lower()).delete()
    user.failed_login_count = 0
    user.locked_until = None
    user.save(update_fields=["failed_login_count", "locked_until", "updated_at"])
    audit.record(
        actor=actor, event_type=events.USER_UNLOCKED, target=user, before=before,
        after={"failed_login_count": 0, "locked_until": None},
    )  # fmt: skip
    bus.publish_on_commit(events.USER_UNLOCKED, user_id=user.pk)
    return user


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def logout_record(*, user: User, reason: str = "user") -> None:
    """A console sign-out, by the user or by a session timeout (`reason`); audited."""
    audit.record(actor=user, event_type=events.LOGOUT, target=user, metadata={"reason": reason})


# SESSIONS AND PASSWORDS
# ------------------------------------------------------------------------------


def sessions_revoke_for_user(*, user: User, keep_session_key: str | None = None) -> int:
    """Delete every live console session of `user` except `keep_session_key`; returns how many.

    Sessions are opaque rows, so each live one is decoded (the same on SQLite and PostgreSQL).
    """
    user_id = str(user.pk)
    doomed = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        if session.session_key == keep_session_key:
            continue
        if str(session.get_decoded().get("_auth_user_id", "")) == user_id:
            doomed.append(session.session_key)
    if doomed:
        Session.objects.filter(session_key__in=doomed).delete()
    return len(doomed)


def _revoke_login_tokens(user: User) -> int:
    """API login tokens (not integration API tokens) end with a password change (ACC-17)."""
    return AuthToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def password_changed_record(*, user: User, keep_session_key: str | None = None) -> int:
    """The user changed their password: their other sessions and API login tokens end; audited."""
    revoked = sessions_revoke_for_user(user=user, keep_session_key=keep_session_key)
    tokens = _revoke_login_tokens(user)
    audit.record(
        actor=user, event_type=events.USER_PASSWORD_CHANGED, target=user,
        metadata={"sessions_revoked": revoked, "api_logins_revoked": tokens},
    )  # fmt: skip
    return revoked


@transaction.atomic
def password_reset_record(*, user: User) -> int:
    """A password set through the reset e-mail link: every session and API login token ends; audited.

    Following the link proved the mailbox, so the address counts as verified: allauth's token
    generator files it as an unverified EmailAddress, which would otherwise bar TOTP enrolment
    (ACC-19) for an invitee or anyone who reset their password.
    """
    from allauth.account.models import EmailAddress

    revoked = sessions_revoke_for_user(user=user)
    tokens = _revoke_login_tokens(user)
    locked = User.objects.select_for_update().get(pk=user.pk)
    verified = EmailAddress.objects.filter(user=locked, email__iexact=locked.email, verified=False).update(
        verified=True
    )
    audit.record(
        actor=None, event_type=events.USER_PASSWORD_RESET, target=locked,
        metadata={"sessions_revoked": revoked, "api_logins_revoked": tokens, "email_verified": bool(verified)},
    )  # fmt: skip
    return revoked


# MFA
# ------------------------------------------------------------------------------


def user_has_totp(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_enrolment_required(user: User) -> bool:
    """Local users whose role is in MFA_REQUIRED_ROLES and who have no TOTP yet (ACC-19).

    SSO users rely on their identity provider's MFA; service accounts never use the console.
    """
    if user.auth_source == AuthSource.SSO or user.is_service_account:
        return False
    if user.role not in settings.MFA_REQUIRED_ROLES:
        return False
    return not user_has_totp(user)


@transaction.atomic
def mfa_enabled_record(*, user: User, kind: str) -> None:
    audit.record(actor=user, event_type=events.MFA_ENABLED, target=user, metadata={"type": kind})


@transaction.atomic
def mfa_disabled_record(*, user: User, kind: str) -> None:
    audit.record(actor=user, event_type=events.MFA_DISABLED, target=user, metadata={"type": kind})


@transaction.atomic
def mfa_recovery_codes_regenerated_record(*, user: User) -> None:
    audit.record(
        actor=user, event_type=events.MFA_RECOVERY_CODES_REGENERATED, target=user, metadata={"type": "recovery_codes"}
    )


# PROFILE
# ------------------------------------------------------------------------------


@transaction.atomic
def user_update_profile(*, actor: User, user: User, full_name: str, department: str = "") -> User:
    """Change a user's full name and department (UI-19). The user themself or an admin; audited."""
    if actor is None or not actor.is_active or (actor.pk != user.pk and actor.role != Role.ADMIN):
        raise PermissionDenied("You can only change your own profile.")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, PROFILE_FIELDS)
    user.full_name = (full_name or "").strip()
    user.department = (department or "").strip()
    if not user.full_name:
        raise ValidationFailed(fields={"full_name": ["This field is required."]})
    validate_instance(user, exclude=["password"])
    after = snapshot(user, PROFILE_FIELDS)
    if after == before:
        return user
    user.save(update_fields=[*PROFILE_FIELDS, "updated_at"])
    audit.record(actor=actor, event_type=events.USER_UPDATED, target=user, before=before, after=after)
    bus.publish_on_commit(events.USER_UPDATED, user_id=user.pk)
    return user
