"""First-layer API gates: authenticated, active and, for integration tokens, in scope (ACC-25)."""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from governance.tokens import required_scope

API_PREFIX = "/api/v1"


class IsAuthenticatedWithTokenScope(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User account is disabled.")
        token = request.auth
        if token is not None and hasattr(token, "scopes"):
            path = request.path[len(API_PREFIX) :] if request.path.startswith(API_PREFIX) else request.path
            path = path.rstrip("/") or "/"
            if path.startswith("/auth") and not (path == "/auth/me" and request.method in ("GET", "HEAD")):
                denied = exceptions.PermissionDenied("API tokens cannot manage users or tokens.")
                denied.error_code = "TOKEN_SCOPE_INSUFFICIENT"
                raise denied
            needed = required_scope(path, request.method)
            if needed is not None and needed not in token.scopes:
                denied = exceptions.PermissionDenied(f"This token lacks the {needed} scope.")
                denied.error_code = "TOKEN_SCOPE_INSUFFICIENT"
                raise denied
        return True


class HasActionPermission(IsAuthenticatedWithTokenScope):
    """Adds the role gate of ACC-03: `view.action_permissions[view.action]` must be held.

    A first layer only (services check again): it answers 403 before the body is validated, so a
    caller without the right gets 403 whatever they send, never a 400 about the body.
    """

    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        needed = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if needed and not request.user.has_perm(needed):
            raise exceptions.PermissionDenied()
        return True
