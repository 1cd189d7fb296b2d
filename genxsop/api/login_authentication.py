"""API authentication with the access tokens of `/auth/login` (`Authorization: Bearer gxa_…`, ACC-14/16)."""

from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from genxsop.errors import DomainError


class LoginTokenAuthentication:
    """Short-lived access tokens; expired → 401 TOKEN_EXPIRED, revoked, unknown or inactive user → 401.

    The user is loaded with the token on every request, so a role change or deactivation applies at once.
    `request.auth` is the AuthToken row: it has no scopes, so the user's role alone decides (ACC-25 is
    about integration tokens).
    """

    keyword = b"bearer"
    prefix = "gxa_"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != self.keyword:
            return None
        raw = header[1].decode(errors="replace")
        if raw.startswith("gxr_"):
            raise exceptions.AuthenticationFailed("A refresh token only works on /auth/refresh; send the access token.")
        if not raw.startswith(self.prefix):
            return None
        from governance.services.api_login import access_token_authenticate

        try:
            token = access_token_authenticate(raw=raw)
        except DomainError as exc:
            failed = exceptions.AuthenticationFailed(exc.message)
            failed.error_code = exc.code
            raise failed from None
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
