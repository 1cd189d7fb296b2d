"""Event names of the governance app (GOV-41); also the audit `event_type` values."""

USER_CREATED = "governance.user.created"
USER_ROLE_CHANGED = "governance.user.role_changed"
USER_UPDATED = "governance.user.updated"
API_TOKEN_CREATED = "governance.api_token.created"  # noqa: S105  (an event name)
API_TOKEN_REVOKED = "governance.api_token.revoked"  # noqa: S105
LOGIN_SUCCEEDED = "governance.login.succeeded"
LOGIN_FAILED = "governance.login.failed"
LOGOUT = "governance.login.logged_out"
