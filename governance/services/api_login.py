"""API login tokens (ACC-16…20, GOV-04): password login, refresh rotation, logout, password change, sign-up.

Access and refresh tokens are opaque `gxa_…` / `gxr_…` strings of which only an HMAC digest is
stored (governance.tokens). One login starts a token *family*; each refresh uses up its refresh
token and issues a new pair in the same family, and presenting a used refresh token again revokes
the whole family (reuse detection). Password checks go through `django.contrib.auth.authenticate`
with the Django request, so the console's lockout (django-axes, ACC-18) applies to the API too:
that is why `api_login` takes the request, unlike other services.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import authenticate, user_login_failed
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from genxsop import context
from genxsop.errors import DomainError, DuplicateEntity, PermissionDenied, ValidationFailed
from governance import audit, bus, events, tokens
from governance.choices import AuthSource, Role
from governance.models import AuditEvent, AuthToken, User

BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}
INVALID_CREDENTIALS = "Invalid email or password."


class AuthenticationError(DomainError):
    """401 from the login endpoints; `code` tells which (AUTHENTICATION_FAILED, MFA_REQUIRED, …)."""

    status_code = 401
    code = "AUTHENTICATION_FAILED"
    default_message = INVALID_CREDENTIALS
    headers = BEARER_CHALLENGE


class LoginLocked(DomainError):
    """429 TOO_MANY_ATTEMPTS while the account is locked (ACC-18); never says whether the password was right."""

    status_code = 429
    code = "TOO_MANY_ATTEMPTS"
    default_message = "Too many failed sign-in attempts; the account is temporarily locked."

    def __init__(self, retry_after: int):
        super().__init__(context={"retry_after": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


class LoginDisabled(DomainError):
    status_code = 403
    code = "API_LOGIN_DISABLED"
    default_message = "API password login is disabled on this deployment; use an API token or single sign-on."


class RegistrationDisabled(DomainError):
    status_code = 403
    code = "REGISTRATION_DISABLED"
    default_message = "Self-registration is disabled; ask an administrator for an account."


@dataclass(frozen=True)
class IssuedTokens:
    """What a login or refresh hands back; the plaintexts exist only here."""

    user: User
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    family_id: uuid.UUID


class _UnknownAccount:
    """Audit target of a failed login naming no existing user (the address tried, nothing else)."""

    pk = ""

    def __init__(self, email: str):
        self.email = email

    def __str__(self) -> str:
        return self.email[:255]


# Settings read at call time (tests and operators change them without re-importing) -----------


def access_lifetime() -> timedelta:
    return timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)


def refresh_lifetime() -> timedelta:
    return timedelta(days=settings.REFRESH_TOKEN_EXPIRE_DAYS)


def require_api_login_enabled(*, password: bool = False) -> None:
    """Refuse the login endpoints on SSO-only deployments (API_LOGIN_ENABLED=false)."""
    if not settings.API_LOGIN_ENABLED:
        raise LoginDisabled()
    if password and not settings.LOCAL_LOGIN_ENABLED:
        raise LoginDisabled("Password login is disabled on this deployment; use single sign-on.")


# Login ---------------------------------------------------------------------------------------


def api_login(*, request: HttpRequest, email: str, password: str, otp_code: str | None = None) -> IssuedTokens:
    """Exchange email and password (and a TOTP code when enrolled) for an access and a refresh token.

    Errors: 401 AUTHENTICATION_FAILED (same message whether or not the email exists; also for
    inactive users and service accounts), MFA_REQUIRED, SSO_ONLY_ACCOUNT; 429 TOO_MANY_ATTEMPTS
    while locked; 403 API_LOGIN_DISABLED. Audits governance.login.succeeded / .failed (source api).
    Sets last_login and clears the lockout counters, without Django's user_logged_in signal: its
    receivers (axes' access log, the console's session stamps) would open a session for an API call.
    """
    require_api_login_enabled(password=True)
    email = (email or "").strip()
    candidate = User.objects.filter(email__iexact=email).first() if email else None
    if candidate is not None and candidate.auth_source == AuthSource.SSO:
        _login_failed(email, candidate, "sso_only")
        raise AuthenticationError("This account signs in with single sign-on only.", code="SSO_ONLY_ACCOUNT")
    if candidate is not None and candidate.locked_until is not None and candidate.locked_until > timezone.now():
        _login_failed(email, candidate, "locked")
        raise LoginLocked(_seconds_until(candidate.locked_until))

    user = authenticate(request=request, email=email, password=password)
    if getattr(request, "axes_locked_out", False):
        # Answer with the API's own 429 body: clearing the flag keeps axes' middleware from
        # replacing this response with its console lockout page.
        request.axes_locked_out = False
        _login_failed(email, candidate, "locked")
        raise LoginLocked(_lockout_seconds(request, candidate))
    if user is None:
        _login_failed(email, candidate, "invalid_credentials")
        raise AuthenticationError()
    if user.is_service_account:
        _login_failed(email, user, "service_account")
        raise AuthenticationError("Service accounts authenticate with API tokens only.")

    mfa_used = _check_second_factor(request=request, user=user, email=email, otp_code=otp_code)
    _login_succeeded(request=request, user=user, email=email, mfa=mfa_used)
    return _issue(user=user, family_id=uuid.uuid4(), parent=None)


def _login_succeeded(*, request, user: User, email: str, mfa: bool) -> None:
    """What a console sign-in's user_logged_in receivers do, minus the session: last_login, counters, audit."""
    from governance.services.sessions import login_success_record

    update_last_login(None, user)
    if apps.is_installed("axes") and getattr(settings, "AXES_RESET_ON_SUCCESS", False):
        from axes.helpers import get_client_username
        from axes.utils import reset

        reset(username=get_client_username(request, {"email": email}))
    login_success_record(user=user, method="password+totp" if mfa else "password")


def _check_second_factor(*, request, user: User, email: str, otp_code: str | None) -> bool:
    """True when a TOTP/recovery code was checked; raises MFA_REQUIRED when one is needed and missing or wrong."""
    totp, recovery = _mfa_authenticators(user)
    if totp is None:
        if user.role in getattr(settings, "MFA_REQUIRED_ROLES", ()):
            _login_failed(email, user, "mfa_not_enrolled")
            raise AuthenticationError(
                "Your role requires two-factor authentication: enrol it in the console first.", code="MFA_REQUIRED"
            )
        return False
    code = (otp_code or "").strip()
    if not code:
        _login_failed(email, user, "mfa_missing")
        raise AuthenticationError("A one-time code (otp_code) is required for this account.", code="MFA_REQUIRED")
    with transaction.atomic():
        used = _otp_matches(totp, recovery, code)
        if used is not None:
            used.record_usage()
    if used is None:
        # A wrong code counts as a failed sign-in for the lockout, like a wrong password.
        user_login_failed.send(sender=__name__, credentials={"email": email}, request=request)
        if getattr(request, "axes_locked_out", False):
            request.axes_locked_out = False
            _login_failed(email, user, "locked")
            raise LoginLocked(_lockout_seconds(request, user))
        _login_failed(email, user, "mfa_invalid")
        raise AuthenticationError("The one-time code is not valid.", code="MFA_REQUIRED")
    return True


def _mfa_authenticators(user: User):
    """(TOTP, recovery codes) authenticators of `user`; (None, None) without allauth.mfa."""
    if not apps.is_installed("allauth.mfa"):
        return None, None
    from allauth.mfa.models import Authenticator

    found = {a.type: a for a in Authenticator.objects.filter(user=user)}
    return found.get(Authenticator.Type.TOTP), found.get(Authenticator.Type.RECOVERY_CODES)


def _otp_matches(totp, recovery, code: str):
    """The authenticator that accepts `code` (a TOTP code, else an unused recovery code), or None."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    if TOTP(totp).validate_code(code):
        return totp
    if recovery is not None and RecoveryCodes(recovery).validate_code(code):
        return recovery
    return None


def _already_audited(event_type: str) -> bool:
    """True when this request already has an `event_type` row.

    Django's authenticate() sends user_login_failed for the API as for the console, and the
    console's receivers may already have audited the attempt; one row per attempt.
    """
    request_id = context.current().request_id
    return request_id != "-" and AuditEvent.objects.filter(request_id=request_id, event_type=event_type).exists()


def _login_failed(email: str, user: User | None, reason: str) -> None:
    if _already_audited(events.LOGIN_FAILED):
        return
    with transaction.atomic():
        audit.record(
            actor=None,
            event_type=events.LOGIN_FAILED,
            target=user if user is not None else _UnknownAccount(email),
            target_type="user",
            metadata={"method": "password", "reason": reason, "email": email.lower()},
            message=f"API sign-in refused ({reason}).",
        )


def _seconds_until(moment) -> int:
    return max(1, int((moment - timezone.now()).total_seconds()) + 1)


def _lockout_seconds(request, user: User | None) -> int:
    if user is not None:
        user.refresh_from_db(fields=["locked_until"])
        if user.locked_until is not None and user.locked_until > timezone.now():
            return _seconds_until(user.locked_until)
    if apps.is_installed("axes"):
        from axes.helpers import get_cool_off

        cool_off = get_cool_off(request)
        if cool_off:
            return max(1, int(cool_off.total_seconds()))
    return settings.LOGIN_LOCKOUT_MINUTES * 60


@transaction.atomic
def _issue(*, user: User, family_id: uuid.UUID, parent: AuthToken | None) -> IssuedTokens:
    now = timezone.now()
    ctx = context.current()
    plaintexts = {}
    for kind, lifetime in ((AuthToken.Kind.ACCESS, access_lifetime()), (AuthToken.Kind.REFRESH, refresh_lifetime())):
        key, secret, plaintext = tokens.new_login_token(kind)
        AuthToken.objects.create(
            key=key,
            digest=tokens.digest(secret),
            kind=kind,
            user=user,
            family_id=family_id,
            parent=parent,
            expires_at=now + lifetime,
            ip=ctx.ip_address[:45],
            user_agent=ctx.user_agent[:255],
        )
        plaintexts[kind] = plaintext
    return IssuedTokens(
        user=user,
        access_token=plaintexts[AuthToken.Kind.ACCESS],
        refresh_token=plaintexts[AuthToken.Kind.REFRESH],
        expires_in=int(access_lifetime().total_seconds()),
        refresh_expires_in=int(refresh_lifetime().total_seconds()),
        family_id=family_id,
    )


# Using tokens ----------------------------------------------------------------------------------


def _lookup(raw: str, kind: str, *, lock: bool = False) -> AuthToken | None:
    parsed = tokens.parse_login(raw, kind)
    if parsed is None:
        return None
    key, secret = parsed
    rows = AuthToken.objects.select_related("user").filter(key=key, kind=kind)
    if lock:
        rows = rows.select_for_update(of=("self",))
    token = rows.first()
    if token is None or not tokens.matches(secret, token.digest):
        return None
    return token


def access_token_authenticate(*, raw: str) -> AuthToken:
    """Resolve a presented `gxa_…` access token or raise 401 (TOKEN_EXPIRED when expired).

    The user row is loaded afresh on every request, so role changes and deactivation apply at once.
    """
    token = _lookup(raw, AuthToken.Kind.ACCESS)
    if token is None:
        raise AuthenticationError("Invalid token.")
    if token.revoked_at is not None:
        raise AuthenticationError("Token has been revoked.")
    if token.expires_at <= timezone.now():
        raise AuthenticationError("Token has expired.", code="TOKEN_EXPIRED")
    if not token.user.is_active:
        raise AuthenticationError("User account is disabled.")
    return token


def api_token_refresh(*, raw_refresh_token: str) -> IssuedTokens:
    """Use up a refresh token and issue a new pair in its family (rotation).

    A refresh token presented a second time means it leaked: the whole family is revoked
    (audited as governance.auth_token.revoked, reason reuse_detected) and the call is 401.
    """
    require_api_login_enabled()
    outcome = _refresh(raw_refresh_token)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


@transaction.atomic
def _refresh(raw: str) -> IssuedTokens | DomainError:
    # Returns the refusal instead of raising it so that a reuse revocation still commits.
    token = _lookup(raw, AuthToken.Kind.REFRESH, lock=True)
    if token is None:
        return AuthenticationError("Invalid refresh token.")
    if token.revoked_at is not None:
        return AuthenticationError("Refresh token has been revoked.")
    if token.used_at is not None:
        _revoke_family(actor=None, token=token, reason="reuse_detected")
        return AuthenticationError("Refresh token was already used; every token of this sign-in has been revoked.")
    now = timezone.now()
    if token.expires_at <= now:
        return AuthenticationError("Refresh token has expired.", code="TOKEN_EXPIRED")
    if not token.user.is_active:
        return AuthenticationError("User account is disabled.")
    token.used_at = now
    token.save(update_fields=["used_at"])
    return _issue(user=token.user, family_id=token.family_id, parent=token)


def _revoke_family(*, actor: User | None, token: AuthToken, reason: str) -> int:
    """Revoke every live token of `token`'s family; audited once per family (no secrets)."""
    count = AuthToken.objects.filter(family_id=token.family_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if count:
        audit.record(
            actor=actor,
            event_type=events.AUTH_TOKEN_REVOKED,
            target=token,
            related=token.user,
            after={"family_id": str(token.family_id), "revoked_count": count, "reason": reason},
            message=f"API sign-in tokens revoked ({reason}).",
        )
        bus.publish_on_commit(events.AUTH_TOKEN_REVOKED, user_id=token.user_id)
    return count


@transaction.atomic
def api_logout(*, actor: User, current: AuthToken | None = None, raw_refresh_token: str | None = None) -> int:
    """Revoke the family of the access token in use and/or of the given refresh token (the caller's own only).

    Returns how many tokens were revoked; an unknown or foreign refresh token is ignored (204 either way).
    """
    families = {}
    if isinstance(current, AuthToken):
        families[current.family_id] = current
    if raw_refresh_token:
        token = _lookup(raw_refresh_token, AuthToken.Kind.REFRESH)
        if token is not None and token.user_id == actor.pk:
            families.setdefault(token.family_id, token)
    return sum(_revoke_family(actor=actor, token=token, reason="logout") for token in families.values())


# Passwords and sign-up -----------------------------------------------------------------------


@transaction.atomic
def password_change(
    *,
    actor: User,
    current_password: str,
    new_password: str,
    keep_family: uuid.UUID | None = None,
    keep_session_key: str | None = None,
) -> User:
    """Change the caller's own password (local accounts only, ACC-17).

    Errors: 401 SSO_ONLY_ACCOUNT; 400 INVALID_PASSWORD (current password wrong); 400
    VALIDATION_ERROR on `new_password` (policy). Revokes the caller's other API login tokens (not
    API tokens); the new hash also ends other console sessions. Audited as governance.user.password_changed.
    """
    if actor.auth_source == AuthSource.SSO or actor.is_service_account or not actor.has_usable_password():
        raise AuthenticationError(
            "This account has no local password; it signs in with single sign-on.", code="SSO_ONLY_ACCOUNT"
        )
    user = User.objects.select_for_update().get(pk=actor.pk)
    if not user.check_password(current_password or ""):
        raise ValidationFailed(
            "The current password is not correct.",
            fields={"current_password": ["The current password is not correct."]},
            code="INVALID_PASSWORD",
        )
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "The new password does not meet the policy.", fields={"new_password": exc.messages}
        ) from None
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    from governance.services.sessions import sessions_revoke_for_user

    sessions = sessions_revoke_for_user(user=user, keep_session_key=keep_session_key)
    logins = AuthToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_family is not None:
        logins = logins.exclude(family_id=keep_family)
    logins = logins.update(revoked_at=timezone.now())
    audit.record(
        actor=user, event_type=events.USER_PASSWORD_CHANGED, target=user, message="Password changed through the API.",
        metadata={"sessions_revoked": sessions, "api_logins_revoked": logins},
    )  # fmt: skip
    bus.publish_on_commit(events.USER_PASSWORD_CHANGED, user_id=user.pk)
    actor.password = user.password
    return user


def user_register(*, email: str, password: str, full_name: str, department: str = "", role: str | None = None) -> User:
    """Self-registration (ACC-20): only when SELF_REGISTRATION_ENABLED, and only as an active viewer.

    Errors: 403 REGISTRATION_DISABLED; 403 PERMISSION_DENIED when another role is asked for; 409
    DUPLICATE_ENTITY for a taken email; 400 on the password policy.
    """
    from governance.services.users import user_create

    if not settings.SELF_REGISTRATION_ENABLED:
        raise RegistrationDisabled()
    if role not in (None, "", Role.VIEWER):
        raise PermissionDenied("Self-registration creates viewer accounts only; roles are given by administrators.")
    if User.objects.filter(email__iexact=(email or "").strip()).exists():
        raise DuplicateEntity("A user with this email already exists.", fields={"email": ["Already registered."]})
    return user_create(
        actor=None, email=email, full_name=full_name, department=department, role=Role.VIEWER, password=password
    )
