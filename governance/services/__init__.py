"""Governance services, one module per concern; import them from here.

`users` holds users, roles and integration tokens. Each module follows the house pattern:
permission check, validation, write, audit row in the same transaction, event after commit.
"""

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
    "user_create",
    "user_set_role",
]
