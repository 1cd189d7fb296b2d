"""Governance services, one module per concern.

`users` (accounts, roles, integration tokens), `sessions` (console logins, lockout, MFA policy,
session revocation), `api_login` (short-lived API login tokens), `sso` (OIDC identities and role
mapping), `scopes` (object scopes), `admin_users` (administrators' user management) and
`audit_log` (audit exports and chain verification). The most
used entry points are re-exported here. Each follows the house pattern: permission check,
validation, write, audit row in the same transaction, event after commit.
"""

from governance.services.sessions import (
    sessions_revoke_for_user,
    user_unlock,
    user_update_profile,
)
from governance.services.users import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    user_create,
    user_set_role,
)

__all__ = [
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "sessions_revoke_for_user",
    "user_create",
    "user_set_role",
    "user_unlock",
    "user_update_profile",
]
