"""OpenID Connect single sign-on (ACC-27…31) on mozilla-django-oidc, made strict.

mozilla-django-oidc 5.0.2 matches users by email, skips the ID token's `aud` and never checks
`iss` (docs: stack-notes §2). `StrictOIDCBackend` verifies aud (list aware, azp), exact iss, the
signature with the provider's JWKS and the nonce, then hands the claims to
`governance.services.sso.sso_login`, which identifies users by (issuer, subject) only.

The views wrap mozilla's so that SSO answers 404 while OIDC_ENABLED is false and every refusal
(bad token, policy, provider down) lands on the login page with a message instead of a 500.
`OidcBearerAuthentication` lets API clients send the provider's JWT access tokens.
"""

import logging
import threading
import time
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from governance.services import sso
from governance.tokens import SCOPES

logger = logging.getLogger("genxsop.security")

JWKS_CACHE_SECONDS = 300
JWKS_MIN_REFRESH_SECONDS = 30  # an unknown kid refetches the keys (rotation), at most this often
_jwks_cache: dict[str, tuple[float, dict]] = {}
_jwks_lock = threading.Lock()


def fetch_jwks(uri: str) -> dict:
    """The provider's JSON Web Key Set (tests replace this function)."""
    response = requests.get(uri, timeout=settings.OIDC_TIMEOUT)
    response.raise_for_status()
    return response.json()


def _jwks(uri: str, *, refresh: bool = False) -> dict:
    now = time.monotonic()
    with _jwks_lock:
        cached = _jwks_cache.get(uri)
        if cached is not None:
            age = now - cached[0]
            if age < JWKS_CACHE_SECONDS and not (refresh and age >= JWKS_MIN_REFRESH_SECONDS):
                return cached[1]
    keys = fetch_jwks(uri)
    with _jwks_lock:
        _jwks_cache[uri] = (now, keys)
    return keys


def clear_jwks_cache() -> None:
    with _jwks_lock:
        _jwks_cache.clear()


def signing_key(token: str) -> jwt.PyJWK:
    """The JWKS key matching the token's kid and the configured algorithm; unknown kid → refetch once."""
    header = jwt.get_unverified_header(token)
    algorithm = settings.OIDC_RP_SIGN_ALGO
    if header.get("alg") != algorithm:
        raise jwt.InvalidAlgorithmError(f"token algorithm {header.get('alg')!r} is not {algorithm}")
    for refresh in (False, True):
        for jwk in _jwks(settings.OIDC_OP_JWKS_ENDPOINT, refresh=refresh).get("keys", []):
            if header.get("kid") is not None and jwk.get("kid") != header.get("kid"):
                continue
            if jwk.get("use", "sig") != "sig" or jwk.get("alg", algorithm) != algorithm:
                continue
            return jwt.PyJWK(jwk, algorithm=algorithm)
    raise jwt.InvalidKeyError("no provider key matches the token")


def _unverified(token: str) -> dict:
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


def check_id_token_claims(payload: dict) -> None:
    """ACC-27 checks mozilla-django-oidc leaves out: aud == client id, azp, exact iss, sub and exp present."""
    client_id = settings.OIDC_RP_CLIENT_ID
    aud = payload.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise SuspiciousOperation("ID token audience does not include the client id")
    if (len(audiences) > 1 or "azp" in payload) and payload.get("azp") != client_id:
        raise SuspiciousOperation("ID token azp is not the client id")
    if payload.get("iss") != settings.OIDC_OP_ISSUER:
        raise SuspiciousOperation("ID token issuer is not the configured issuer")
    if not payload.get("sub") or "exp" not in payload:
        raise SuspiciousOperation("ID token lacks sub or exp")


class StrictOIDCBackend(OIDCAuthenticationBackend):
    """The authorization-code callback's backend; answers None to every other kind of login."""

    def authenticate(self, request, **kwargs):
        # Only the SSO callback passes exactly these credentials; password logins are not ours.
        if not settings.OIDC_ENABLED or request is None or set(kwargs) != {"nonce", "code_verifier"}:
            return None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token):
        return signing_key(token)

    def verify_token(self, token, **kwargs):
        try:
            payload = super().verify_token(token, **kwargs)
            check_id_token_claims(payload)
        except (SuspiciousOperation, jwt.PyJWTError) as exc:
            claimed = _unverified(token)
            logger.warning("sso_id_token_rejected", extra={"reason": str(exc)})
            sso.sso_refusal_record(
                issuer=str(claimed.get("iss") or "")[:255],
                subject=str(claimed.get("sub") or "")[:255],
                reason="invalid_id_token",
                detail=str(exc),
            )
            raise sso.SsoLoginRefused(sso.SSO_FAILED, reason="invalid_id_token") from None
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload["sub"]:
            sso.sso_refusal_record(issuer=payload["iss"], subject=payload["sub"], reason="userinfo_subject_mismatch")
            raise sso.SsoLoginRefused(sso.SSO_FAILED, reason="userinfo_subject_mismatch")
        # Identity and authentication facts come from the verified ID token, profile claims from userinfo.
        claims = {**payload, **userinfo}
        for key in ("iss", "sub", "acr", "amr", "auth_time"):
            if key in payload:
                claims[key] = payload[key]
            else:
                claims.pop(key, None)
        return sso.sso_login(claims=claims, issuer=payload["iss"])

    def get_user(self, user_id):
        if not settings.OIDC_ENABLED:
            return None  # switching SSO off ends the sessions it started
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


class SsoAuthenticateView(OIDCAuthenticationRequestView):
    """GET /oidc/authenticate/: redirect to the provider with state, nonce and PKCE (404 when SSO is off)."""

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        return super().get(request)

    def get_extra_params(self, request):
        params = dict(super().get_extra_params(request))
        if settings.OIDC_REQUIRED_ACR:
            params["acr_values"] = " ".join(settings.OIDC_REQUIRED_ACR)
        return params


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """GET /oidc/callback/: finish the login, or go back to the login page saying why not."""

    @property
    def failure_url(self):
        return resolve_url(settings.LOGIN_URL)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        try:
            return super().get(request)
        except sso.SsoLoginRefused as exc:
            return self._refused(exc.message)
        except SuspiciousOperation as exc:  # unknown or replayed state
            logger.warning("sso_callback_rejected", extra={"reason": str(exc)})
            return self._refused(sso.SSO_FAILED)
        except requests.RequestException as exc:
            logger.warning("sso_provider_unreachable", extra={"reason": type(exc).__name__})
            return self._refused("The identity provider could not be reached. Try again later.")

    def _refused(self, message: str):
        for key in ("oidc_id_token", "oidc_access_token"):
            self.request.session.pop(key, None)
        messages.error(self.request, message)
        return HttpResponseRedirect(self.failure_url)

    def login_failure(self):
        messages.error(self.request, "Single sign-on did not complete. Try again.")
        return HttpResponseRedirect(self.failure_url)


def provider_logout_url(request) -> str:
    """Where console logout goes (ACC-31): the provider's end-session endpoint for SSO sessions.

    Local sessions (no ID token in the session) and installations without an end-session
    endpoint get the local logout redirect. Called while the user is still signed in.
    """
    local = resolve_url(settings.LOGOUT_REDIRECT_URL)
    id_token = request.session.get("oidc_id_token")
    endpoint = settings.OIDC_OP_LOGOUT_ENDPOINT
    if not (settings.OIDC_ENABLED and endpoint and id_token):
        return local
    params = {
        "id_token_hint": id_token,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(local),
    }
    return f"{endpoint}?{urlencode(params)}"


class OidcAccessToken:
    """request.auth for an IdP access token: the user's own rights, but like any token no /auth/* management."""

    scopes = tuple(SCOPES)
    prefix = "oidc"

    def __init__(self, claims: dict):
        self.claims = claims


class OidcBearerAuthentication:
    """`Authorization: Bearer <JWT>` from the identity provider (issue 5 item 3).

    Only when OIDC_ENABLED and OIDC_API_BEARER_ENABLED. The JWT is verified with the provider's
    JWKS (cached), exact issuer, audience OIDC_API_AUDIENCE (default: the client id) and expiry;
    the subject must already be linked to an active user: the API never provisions accounts.
    """

    keyword = b"bearer"

    def authenticate(self, request):
        if not (settings.OIDC_ENABLED and settings.OIDC_API_BEARER_ENABLED):
            return None
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != self.keyword:
            return None
        raw = header[1].decode(errors="replace")
        if raw.startswith("gxs_") or raw.count(".") != 2:
            return None
        issuer = settings.OIDC_OP_ISSUER
        try:
            claims = jwt.decode(
                raw,
                signing_key(raw),
                algorithms=[settings.OIDC_RP_SIGN_ALGO],
                audience=settings.OIDC_API_AUDIENCE or settings.OIDC_RP_CLIENT_ID,
                issuer=issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=30,
            )
        except (jwt.PyJWTError, requests.RequestException, ValueError) as exc:
            logger.info("oidc_bearer_rejected", extra={"reason": type(exc).__name__})
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if "nonce" in claims:  # an ID token is proof of a login, not an access token
            raise exceptions.AuthenticationFailed("Invalid token.")
        user = sso.sso_user_for_subject(issuer=issuer, subject=str(claims["sub"]))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active or user.is_service_account:
            raise exceptions.AuthenticationFailed("User account is disabled.")
        return user, OidcAccessToken(claims)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class OidcBearerScheme(OpenApiAuthenticationExtension):
    target_class = "governance.oidc.OidcBearerAuthentication"
    name = "oidcAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The identity provider's JWT access token (SSO enabled; the user signed in once).",
        }
