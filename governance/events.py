"""Event names of the governance app (GOV-41); also the audit `event_type` values."""

USER_CREATED = "governance.user.created"
USER_ROLE_CHANGED = "governance.user.role_changed"
USER_UPDATED = "governance.user.updated"
API_TOKEN_CREATED = "governance.api_token.created"  # noqa: S105  (an event name)
API_TOKEN_REVOKED = "governance.api_token.revoked"  # noqa: S105
LOGIN_SUCCEEDED = "governance.login.succeeded"
LOGIN_FAILED = "governance.login.failed"
LOGOUT = "governance.login.logged_out"
AUTH_TOKEN_REVOKED = "governance.auth_token.revoked"  # noqa: S105  (API login tokens, GOV-04)
SCOPE_GRANTED = "governance.scope.granted"
SCOPE_REVOKED = "governance.scope.revoked"
USER_DEACTIVATED = "governance.user.deactivated"
USER_REACTIVATED = "governance.user.reactivated"
USER_PASSWORD_RESET = "governance.user.password_reset"  # noqa: S105  (an event name)
LOGIN_LOCKED_OUT = "governance.login.locked_out"
USER_UNLOCKED = "governance.user.unlocked"
USER_PASSWORD_CHANGED = "governance.user.password_changed"  # noqa: S105  (an event name)
MFA_ENABLED = "governance.mfa.enabled"
MFA_DISABLED = "governance.mfa.disabled"
MFA_RECOVERY_CODES_REGENERATED = "governance.mfa.recovery_codes_regenerated"
SSO_LOGIN = "governance.sso.login"
SSO_PROVISIONED = "governance.sso.provisioned"
SSO_LINKED = "governance.sso.linked"
SSO_REFUSED = "governance.sso.refused"
SSO_ROLE_MAPPINGS_SEEDED = "governance.sso.role_mappings_seeded"
SSO_ROLE_MAPPINGS_REPLACED = "governance.sso.role_mappings_replaced"
