"""API authentication: integration tokens (Bearer gxs_…) and the console session (ACC-14/15)."""

from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, get_authorization_header

from genxsop import context


class ApiTokenAuthentication:
    """`Authorization: Bearer gxs_<key>_<secret>`; expired, revoked or foreign-network tokens are 401."""

    keyword = "bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid authorization header.")
        raw = header[1].decode(errors="replace")
        if not raw.startswith("gxs_"):
            return None
        from governance.services import api_token_authenticate

        token = api_token_authenticate(raw=raw, ip=context.current().ip_address)
        context.update_context(api_token_id=token.pk, api_token_prefix=token.prefix, source="api")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ConsoleSessionAuthentication(SessionAuthentication):
    """Same-origin calls from console pages; unsafe methods need the CSRF token (OPS-10a)."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            failure = exceptions.PermissionDenied(f"CSRF Failed: {exc.detail}")
            failure.error_code = "CSRF_FAILED"
            raise failure from None
