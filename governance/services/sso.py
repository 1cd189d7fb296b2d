"""Single sign-on accounts (ACC-27…32): who an OIDC login is, which role they get, and the mapping rules.

The OIDC backend (governance/oidc.py) verifies the ID token and then hands its claims to
`sso_login()`, the only write path for SSO identities, JIT-provisioned users and IdP-driven role
changes. Refusals raise `SsoLoginRefused` after an audit row of their own has been committed.

Role mapping rules live in `SsoRoleMapping` rows, edited by admins (API-AUTH-22/23). They are
seeded from `OIDC_ROLE_MAPPING` on first use — the first SSO login or the first read of the rules —
as long as nobody has configured them yet (no rows and no earlier seed or replace audit event), so
an admin who empties the set is never overruled by the environment on the next login.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from genxsop.errors import Conflict, DuplicateEntity, ValidationFailed
from genxsop.services import snapshot, validate_instance
from governance import audit, bus, events
from governance.choices import AuthSource, Role
from governance.models import AuditEvent, SsoIdentity, SsoRoleMapping, User
from governance.roles import sync_user_group
from governance.services.users import _require_admin

logger = logging.getLogger("genxsop.security")

# ACC-29: when several rules match, the earliest role here wins.
ROLE_PRECEDENCE = [
    Role.ADMIN,
    Role.EXECUTIVE,
    Role.SOP_COORDINATOR,
    Role.SUPPLY_PLANNER,
    Role.DEMAND_PLANNER,
    Role.INVENTORY_MANAGER,
    Role.FINANCE_ANALYST,
    Role.VIEWER,
]
NOT_PROVISIONED = "Your account has not been provisioned. Ask an administrator for access."
DEACTIVATED = "Your account has been deactivated. Contact an administrator."
MFA_REQUIRED = "Your identity provider did not confirm multi-factor authentication. Sign in again with MFA."
SSO_FAILED = "Single sign-on failed. Try again or contact an administrator."


class SsoLoginRefused(Exception):
    """An SSO login that must not proceed; `message` is safe to show on the login page."""

    def __init__(self, message: str, *, reason: str, role: str | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.role = role


class _Ref:
    """An audit target that is not a row: an (issuer, subject) that has no identity, or the rule set."""

    def __init__(self, pk: str, label: str):
        self.pk = pk
        self.label = label

    def __str__(self) -> str:
        return self.label


def role_claim_values(claims: dict) -> list[str]:
    """The values of the configured role claim; a string or a list of strings (ACC-29)."""
    raw = claims.get(settings.OIDC_ROLE_CLAIM)
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple):
        return [value for value in raw if isinstance(value, str)]
    return []


def _email_verified(claims: dict) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _seed_role_mappings() -> None:
    """Create the OIDC_ROLE_MAPPING rules once, unless the set has been configured before (see module doc)."""
    wanted = settings.OIDC_ROLE_MAPPING or {}
    if not wanted or SsoRoleMapping.objects.exists():
        return
    configured = AuditEvent.objects.filter(
        event_type__in=[events.SSO_ROLE_MAPPINGS_SEEDED, events.SSO_ROLE_MAPPINGS_REPLACED]
    )
    if configured.exists():
        return
    rows = [SsoRoleMapping(claim_value=claim.strip()[:255], role=role) for claim, role in sorted(wanted.items())]
    SsoRoleMapping.objects.bulk_create(rows, ignore_conflicts=True)
    audit.record(
        actor=None,
        event_type=events.SSO_ROLE_MAPPINGS_SEEDED,
        target=_Ref("all", "SSO role mappings"),
        target_type="sso_role_mappings",
        after={"mappings": [{"claim_value": r.claim_value, "role": r.role} for r in rows]},
        metadata={"via": "OIDC_ROLE_MAPPING"},
    )


def sso_role_mapping_list() -> list[SsoRoleMapping]:
    """Every mapping rule, ordered by claim value; seeds the rules on first use."""
    with transaction.atomic():
        _seed_role_mappings()
    return list(SsoRoleMapping.objects.order_by("claim_value"))


def sso_role_for_claims(claims: dict) -> str | None:
    """The highest-precedence role mapped from the role claim, or None when no rule matches."""
    values = role_claim_values(claims)
    if not values:
        return None
    roles = set(SsoRoleMapping.objects.filter(claim_value__in=values).values_list("role", flat=True))
    for role in ROLE_PRECEDENCE:
        if role in roles:
            return role.value
    return None


@transaction.atomic
def sso_role_mappings_replace(*, actor: User, mappings: list[dict]) -> list[SsoRoleMapping]:
    """Replace the whole rule set (API-AUTH-23). Admins only; unknown roles and duplicate claim values are 400."""
    _require_admin(actor)
    if actor is None:
        raise ValidationFailed("An administrator must replace the mappings.")
    errors: list[str] = []
    seen: set[str] = set()
    cleaned: list[tuple[str, str]] = []
    for index, item in enumerate(mappings):
        claim = str(item.get("claim_value") or "").strip()
        role = item.get("role")
        if not claim:
            errors.append(f"Item {index}: claim_value is required.")
        elif len(claim) > 255:
            errors.append(f"Item {index}: claim_value is longer than 255 characters.")
        elif claim in seen:
            errors.append(f"Item {index}: duplicate claim value {claim!r}.")
        if role not in Role.values:
            errors.append(f"Item {index}: unknown role {role!r}.")
        seen.add(claim)
        cleaned.append((claim, role))
    if errors:
        raise ValidationFailed(fields={"mappings": errors})
    before = [{"claim_value": m.claim_value, "role": m.role} for m in SsoRoleMapping.objects.order_by("claim_value")]
    SsoRoleMapping.objects.all().delete()
    rows = SsoRoleMapping.objects.bulk_create(
        [SsoRoleMapping(claim_value=claim, role=role, created_by=actor) for claim, role in sorted(cleaned)]
    )
    audit.record(
        actor=actor,
        event_type=events.SSO_ROLE_MAPPINGS_REPLACED,
        target=_Ref("all", "SSO role mappings"),
        target_type="sso_role_mappings",
        before={"mappings": before},
        after={"mappings": [{"claim_value": r.claim_value, "role": r.role} for r in rows]},
    )
    return list(SsoRoleMapping.objects.order_by("claim_value"))


def _sso_set_role(*, user: User, role: str, issuer: str, subject: str) -> User:
    """IdP-driven role change (ACC-30): a system change, so no admin actor; audited as role_changed via sso.

    The IdP never demotes the last active administrator: the role is kept, the skip is audited as
    governance.sso.role_sync_skipped and logged as a warning, and the login goes on.
    """
    if user.role == role:
        return user
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role == role:
        return user
    if user.role == Role.ADMIN and user.is_active:
        from governance.services.admin_users import refuse_removing_last_admin

        try:
            refuse_removing_last_admin(user)
        except Conflict:
            meta = {"via": "sso", "issuer": issuer, "subject": subject, "mapped_role": role,
                    "reason": "last_active_admin"}  # fmt: skip
            audit.record(actor=None, event_type=events.SSO_ROLE_SYNC_SKIPPED, target=user,
                         message="The last active administrator keeps the admin role.", metadata=meta)  # fmt: skip
            logger.warning("sso_role_sync_skipped", extra={"user_id": user.pk, "mapped_role": role,
                                                           "reason": "last_active_admin"})  # fmt: skip
            return user
    before = snapshot(user, ["role"])
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    sync_user_group(user)
    audit.record(
        actor=None,
        event_type=events.USER_ROLE_CHANGED,
        target=user,
        before=before,
        after=snapshot(user, ["role"]),
        metadata={"via": "sso", "issuer": issuer, "subject": subject},
    )
    bus.publish_on_commit(events.USER_ROLE_CHANGED, user_id=user.pk)
    return user


def _check_mfa(claims: dict) -> None:
    required_acr = settings.OIDC_REQUIRED_ACR
    if required_acr and claims.get("acr") not in required_acr:
        raise SsoLoginRefused(MFA_REQUIRED, reason="acr_not_satisfied")
    required_amr = settings.OIDC_REQUIRED_AMR
    if required_amr:
        amr = claims.get("amr")
        amr = [amr] if isinstance(amr, str) else (amr if isinstance(amr, list) else [])
        if not set(required_amr) & set(amr):
            raise SsoLoginRefused(MFA_REQUIRED, reason="amr_not_satisfied")


def _full_name(claims: dict, email: str) -> str:
    name = str(claims.get("name") or "").strip()
    if not name:
        name = " ".join(str(claims.get(k) or "").strip() for k in ("given_name", "family_name")).strip()
    return (name or email.split("@")[0] or "SSO user")[:255]


def _domain_allowed(email: str, claims: dict) -> bool:
    domains = settings.OIDC_ALLOWED_EMAIL_DOMAINS
    if not domains:
        return True
    # An allow-list is only meaningful for addresses the provider vouches for.
    return _email_verified(claims) and email.rsplit("@", 1)[-1] in domains


def _provision(*, claims: dict, email: str, role: str, issuer: str, subject: str) -> User:
    user = User(
        email=email,
        full_name=_full_name(claims, email),
        role=role,
        auth_source=AuthSource.SSO,
        role_managed_by=AuthSource.SSO,
    )
    user.set_unusable_password()
    validate_instance(user, exclude=["password"])
    user.save()
    sync_user_group(user)
    audit.record(actor=None, event_type=events.USER_CREATED, target=user, after=snapshot(user),
                 metadata={"via": "sso"})  # fmt: skip
    bus.publish_on_commit(events.USER_CREATED, user_id=user.pk)
    return user


def _last_claims(claims: dict) -> dict:
    """What GOV-06 keeps: name, email, email_verified and the role-claim values, never tokens."""
    kept = {k: claims[k] for k in ("name", "email", "email_verified") if k in claims}
    kept[settings.OIDC_ROLE_CLAIM] = role_claim_values(claims)
    return kept


def _identity_for(*, issuer: str, subject: str) -> SsoIdentity | None:
    return SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()


def _first_login(*, claims: dict, issuer: str, subject: str, email: str, role: str) -> tuple[SsoIdentity, bool]:
    """No identity yet for (issuer, subject): link by verified email or JIT-provision (ACC-28); True if provisioned."""
    audit_meta = {"issuer": issuer, "subject": subject, "role": role}
    # Locked, so two first logins linking the same account are serialised and the second sees the first's identity.
    existing = User.objects.select_for_update().filter(email__iexact=email).first() if email else None
    if existing is not None:
        raced = _identity_for(issuer=issuer, subject=subject)
        if raced is not None:  # a concurrent first login of this subject linked or created it while we waited
            return raced, False
        if not (settings.OIDC_LINK_BY_EMAIL and _email_verified(claims)):
            # Never take over an account on an address the provider does not vouch for (ACC-28).
            raise SsoLoginRefused(NOT_PROVISIONED, reason="email_in_use", role=role)
        if not existing.is_active:
            raise SsoLoginRefused(DEACTIVATED, reason="user_inactive", role=role)
        if existing.is_service_account:
            raise SsoLoginRefused(NOT_PROVISIONED, reason="service_account", role=role)
        if existing.sso_identities.filter(issuer=issuer).exists():
            # Already linked to another subject of this provider: a new subject is not the same person.
            raise SsoLoginRefused(NOT_PROVISIONED, reason="identity_conflict", role=role)
        user = existing
        identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject, email_at_link=email)
        if settings.OIDC_SYNC_ROLE_ON_LOGIN and user.role_managed_by != AuthSource.SSO:
            user.role_managed_by = AuthSource.SSO
            user.save(update_fields=["role_managed_by", "updated_at"])
        audit.record(actor=user, event_type=events.SSO_LINKED, target=user, metadata=audit_meta,
                     after={"issuer": issuer, "subject": subject, "email": email})  # fmt: skip
        return identity, False
    if not settings.OIDC_JIT_PROVISIONING:
        raise SsoLoginRefused(NOT_PROVISIONED, reason="jit_disabled", role=role)
    if not email:
        raise SsoLoginRefused(NOT_PROVISIONED, reason="no_email", role=role)
    if not _domain_allowed(email, claims):
        raise SsoLoginRefused(NOT_PROVISIONED, reason="domain_not_allowed", role=role)
    user = _provision(claims=claims, email=email, role=role, issuer=issuer, subject=subject)
    identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject, email_at_link=email)
    audit.record(actor=user, event_type=events.SSO_PROVISIONED, target=user, metadata=audit_meta,
                 after={"issuer": issuer, "subject": subject, "email": email, "role": role})  # fmt: skip
    return identity, True


def _login(*, claims: dict, issuer: str, subject: str) -> User:
    _check_mfa(claims)
    _seed_role_mappings()
    role = sso_role_for_claims(claims)
    if role is None:
        if settings.OIDC_DENY_UNMAPPED:
            raise SsoLoginRefused(NOT_PROVISIONED, reason="role_unmapped")
        role = settings.OIDC_DEFAULT_ROLE
    email = str(claims.get("email") or "").strip().lower()
    identity = _identity_for(issuer=issuer, subject=subject)
    provisioned = False
    if identity is None:
        try:
            # A savepoint: losing a race must leave the login's transaction usable (PostgreSQL aborts it otherwise).
            with transaction.atomic():
                identity, provisioned = _first_login(claims=claims, issuer=issuer, subject=subject, email=email,
                                                     role=role)  # fmt: skip
        except (IntegrityError, DuplicateEntity) as exc:
            # Another first login for this subject or email committed between our reads and our writes:
            # the same subject signs in to the winner's account; another subject is refused as usual.
            identity = _identity_for(issuer=issuer, subject=subject)
            logger.warning("sso_first_login_conflict", extra={"error": type(exc).__name__,
                                                              "winner_found": identity is not None})  # fmt: skip
            if identity is None:
                raise SsoLoginRefused(NOT_PROVISIONED, reason="provisioning_conflict", role=role) from None
        except ValidationFailed:
            raise SsoLoginRefused(NOT_PROVISIONED, reason="invalid_profile", role=role) from None
    user = identity.user
    if not user.is_active:
        raise SsoLoginRefused(DEACTIVATED, reason="user_inactive", role=role)
    if user.is_service_account:
        raise SsoLoginRefused(NOT_PROVISIONED, reason="service_account", role=role)
    if not provisioned and settings.OIDC_SYNC_ROLE_ON_LOGIN:
        user = _sso_set_role(user=user, role=role, issuer=issuer, subject=subject)
    identity.last_claims = _last_claims(claims)
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_claims", "last_login_at", "updated_at"])
    audit.record(actor=user, event_type=events.SSO_LOGIN, target=user,
                 metadata={"issuer": issuer, "subject": subject, "role": user.role})  # fmt: skip
    return user


def sso_refusal_record(*, issuer: str, subject: str, reason: str, role: str | None = None, detail: str = "") -> None:
    """Audit a refused SSO login in its own transaction (ACC-32): issuer, subject, mapped role, never tokens."""
    with transaction.atomic():
        identity = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        target = identity.user if identity is not None else _Ref(subject or "-", f"{issuer} {subject}".strip())
        audit.record(
            actor=None,
            event_type=events.SSO_REFUSED,
            target=target,
            target_type=None if identity is not None else "sso_identity",
            message=detail[:500],
            metadata={"issuer": issuer, "subject": subject, "role": role, "reason": reason},
        )


def sso_login(*, claims: dict, issuer: str) -> User:
    """Resolve a verified OIDC login to a user (ACC-28…30): by (issuer, subject) only.

    First login: link to the active user with the same email when OIDC_LINK_BY_EMAIL and the
    provider says `email_verified`; else JIT-provision (OIDC_JIT_PROVISIONING, domain allow-list).
    The mapped role is applied on provisioning and, with OIDC_SYNC_ROLE_ON_LOGIN, at every login.
    Role sync never demotes the last active administrator (governance.sso.role_sync_skipped).
    Two first logins racing: the loser's writes roll back to a savepoint; the same subject then
    signs in to the winner's account, another subject is refused (reason provisioning_conflict).
    Emits governance.sso.login / provisioned / linked, governance.user.role_changed (via sso) and,
    on refusal, governance.sso.refused before raising SsoLoginRefused.
    """
    subject = str(claims.get("sub") or "")
    try:
        if not subject:
            raise SsoLoginRefused(SSO_FAILED, reason="no_subject")
        with transaction.atomic():
            return _login(claims=claims, issuer=issuer, subject=subject)
    except SsoLoginRefused as exc:
        sso_refusal_record(issuer=issuer, subject=subject, reason=exc.reason, role=exc.role)
        raise


def sso_user_for_subject(*, issuer: str, subject: str) -> User | None:
    """The user linked to (issuer, subject), or None; no provisioning (used by API bearer tokens)."""
    identity = _identity_for(issuer=issuer, subject=subject)
    return identity.user if identity is not None else None
