"""Users, roles and API tokens: the only write path for these rows."""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions as drf

from genxsop.errors import PermissionDenied, ValidationFailed
from genxsop.services import snapshot, validate_instance
from governance import audit, bus, events, tokens
from governance.choices import Role
from governance.models import ApiToken, User
from governance.roles import sync_user_group

MANAGE_USERS = "governance.add_user"
MANAGE_TOKENS = "governance.add_apitoken"


def _require_admin(actor) -> None:
    if actor is not None and (not actor.is_active or actor.role != Role.ADMIN):
        raise PermissionDenied("Only administrators can manage users.")


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    role: str = Role.VIEWER,
    department: str = "",
    password: str | None = None,
    is_service_account: bool = False,
) -> User:
    """Create a user with exactly one role. Admins only (`actor=None` is the system, e.g. demo data)."""
    _require_admin(actor)
    user = User(
        email=(email or "").strip().lower(),
        full_name=(full_name or "").strip(),
        role=role,
        department=department,
        is_service_account=is_service_account,
    )
    if password and not is_service_account:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(
                "The password does not meet the policy.", fields={"password": exc.messages}
            ) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    validate_instance(user, exclude=["password"])
    user.save()
    sync_user_group(user)
    audit.record(actor=actor, event_type=events.USER_CREATED, target=user, after=snapshot(user))
    bus.publish_on_commit(events.USER_CREATED, user_id=user.pk)
    return user


@transaction.atomic
def user_set_role(*, actor: User | None, user: User, role: str) -> User:
    """Change a user's role (and so their group). Admins only; audited as role_changed.

    The last active administrator cannot be demoted (409). Moving to an unrestricted role drops
    the user's object scopes, each revocation audited.
    """
    _require_admin(actor)
    if role not in Role.values:
        raise ValidationFailed(fields={"role": [f"Unknown role {role!r}."]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role == role:
        return user
    if user.role == Role.ADMIN and user.is_active:
        from governance.services.admin_users import refuse_removing_last_admin

        refuse_removing_last_admin(user)
    before = snapshot(user, ["role"])
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    sync_user_group(user)
    audit.record(
        actor=actor, event_type=events.USER_ROLE_CHANGED, target=user, before=before, after=snapshot(user, ["role"])
    )
    from governance.services.scopes import UNRESTRICTED_ROLES, user_scopes_clear

    if role in UNRESTRICTED_ROLES:
        user_scopes_clear(actor=actor, user=user)  # ACC-09: these roles are never scoped
    bus.publish_on_commit(events.USER_ROLE_CHANGED, user_id=user.pk)
    return user


def _validate_token_input(scopes, expires_in_days, allowed_ips) -> tuple[list[str], int, list[str]]:
    errors = {}
    scopes = list(dict.fromkeys(scopes or []))
    unknown = [s for s in scopes if s not in tokens.SCOPES]
    if not scopes:
        errors["scopes"] = ["At least one scope is required."]
    elif unknown:
        errors["scopes"] = [f"Unknown scope: {', '.join(unknown)}."]
    days = settings.API_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not isinstance(days, int) or days < 1 or days > settings.API_TOKEN_MAX_DAYS:
        errors["expires_in_days"] = [f"Must be between 1 and {settings.API_TOKEN_MAX_DAYS}."]
    networks = []
    for cidr in allowed_ips or []:
        try:
            networks.append(str(ipaddress.ip_network(str(cidr), strict=False)))
        except ValueError:
            errors.setdefault("allowed_ips", []).append(f"{cidr!r} is not a valid network.")
    if errors:
        raise ValidationFailed(fields=errors)
    return scopes, days, networks


@transaction.atomic
def api_token_create(
    *,
    actor: User | None,
    user: User,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    allowed_ips: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for `user`; returns the row and the plaintext, which is never retrievable again.

    Anyone may create their own tokens; only admins create tokens for other users.
    """
    if actor is not None:
        if not actor.is_active:
            raise PermissionDenied()
        if actor.pk != user.pk and actor.role != Role.ADMIN:
            raise PermissionDenied("Only administrators can create tokens for other users.")
    scopes, days, networks = _validate_token_input(scopes, expires_in_days, allowed_ips)
    if not (name or "").strip():
        raise ValidationFailed(fields={"name": ["This field is required."]})
    key, secret, plaintext = tokens.new_token()
    now = timezone.now()
    token = ApiToken.objects.create(
        key=key,
        digest=tokens.digest(secret),
        last4=secret[-4:],
        name=name.strip()[:100],
        user=user,
        scopes=scopes,
        allowed_ips=networks,
        expires_at=now + timedelta(days=days),
        created_by=actor,
    )
    audit.record(
        actor=actor,
        event_type=events.API_TOKEN_CREATED,
        target=token,
        after={"name": token.name, "prefix": token.prefix, "user_id": user.pk, "scopes": scopes,
               "expires_at": token.expires_at.isoformat(), "allowed_ips": networks},
    )  # fmt: skip
    bus.publish_on_commit(events.API_TOKEN_CREATED, api_token_id=token.pk)
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke a token (owner or admin); takes effect on the next request. Revoking twice is a no-op."""
    if not actor.is_active or (actor.pk != token.user_id and actor.role != Role.ADMIN):
        raise PermissionDenied()
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.revoke_reason = reason[:255]
    token.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    audit.record(actor=actor, event_type=events.API_TOKEN_REVOKED, target=token, message=reason,
                 after={"revoked_at": token.revoked_at.isoformat()})  # fmt: skip
    bus.publish_on_commit(events.API_TOKEN_REVOKED, api_token_id=token.pk)
    return token


def api_token_authenticate(*, raw: str, ip: str) -> ApiToken:
    """Resolve a presented token or raise 401; stamps last use at most once a minute (ACC-24)."""
    parsed = tokens.parse(raw)
    if parsed is None:
        raise drf.AuthenticationFailed("Invalid token.")
    key, secret = parsed
    token = ApiToken.objects.select_related("user").filter(key=key).first()
    if token is None or not tokens.matches(secret, token.digest):
        raise drf.AuthenticationFailed("Invalid token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise drf.AuthenticationFailed("Token has been revoked.")
    if token.expires_at <= now:
        expired = drf.AuthenticationFailed("Token has expired.")
        expired.error_code = "TOKEN_EXPIRED"
        raise expired
    if not token.user.is_active:
        raise drf.AuthenticationFailed("User account is disabled.")
    if token.allowed_ips:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            raise drf.AuthenticationFailed("Token is not valid from this network.") from None
        if not any(address in ipaddress.ip_network(net) for net in token.allowed_ips):
            raise drf.AuthenticationFailed("Token is not valid from this network.")
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        # Bookkeeping, not a state change: no audit row, and a plain UPDATE keeps it cheap.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip[:45])
    return token
