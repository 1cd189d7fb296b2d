"""Auth API, sign-in side (API-AUTH-01…03, 06…08): login tokens, refresh, logout, password, sign-up, providers.

Thin adapters over governance.services.api_login. The public endpoints take no credentials at all
(a stray cookie or bearer header neither helps nor hurts) and are rate limited per client address.
"""

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.fields import StrictCharField
from genxsop.api.parsers import StrictJSONParser
from genxsop.api.schema import error_responses
from genxsop.api.throttling import LoginThrottle
from genxsop.api.validation import validated_body
from governance.api.serializers import MeSerializer
from governance.models import AuthToken
from governance.services import api_login as login_service

TOKEN_TYPE = "bearer"  # noqa: S105  (the OAuth 2 token type name, RFC 6750: not a credential)  # nosec B105

# Serializers ---------------------------------------------------------------------------------


class LoginInputSerializer(serializers.Serializer):
    email = StrictCharField(required=False, max_length=254, help_text="JSON clients.")
    username = StrictCharField(required=False, max_length=254, help_text="Form clients (OAuth2 password style).")
    password = StrictCharField(max_length=4096, trim_whitespace=False)
    otp_code = StrictCharField(
        required=False, allow_blank=True, max_length=64, help_text="TOTP or recovery code, when MFA is enrolled."
    )

    def to_internal_value(self, data):
        # `email` or `username` is required; report it beside any other missing field.
        errors = {}
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors, attrs = dict(exc.detail), {}
        email = (attrs.get("email") or attrs.get("username") or "").strip()
        if not email and "email" not in errors and "username" not in errors:
            errors["email"] = ["This field is required."]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["email"] = email
        return attrs


class RefreshInputSerializer(serializers.Serializer):
    refresh_token = StrictCharField(max_length=200)


class LogoutInputSerializer(serializers.Serializer):
    refresh_token = StrictCharField(required=False, allow_blank=True, max_length=200)


class ChangePasswordInputSerializer(serializers.Serializer):
    current_password = StrictCharField(max_length=4096, trim_whitespace=False)
    new_password = StrictCharField(max_length=4096, trim_whitespace=False)


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=4096, trim_whitespace=False)
    full_name = StrictCharField(max_length=255)
    department = StrictCharField(required=False, allow_blank=True, max_length=100, default="")
    role = StrictCharField(required=False, allow_blank=True, max_length=30, help_text="Only `viewer` is accepted.")


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField(help_text="`gxa_…`; send as `Authorization: Bearer <token>`.")
    refresh_token = serializers.CharField(help_text="`gxr_…`; single use, for POST /auth/refresh.")
    token_type = serializers.CharField(help_text="Always `bearer`.")
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
    refresh_expires_in = serializers.IntegerField(help_text="Seconds until the refresh token expires.")
    user = MeSerializer()


def _token_response(issued: login_service.IssuedTokens) -> Response:
    body = {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": TOKEN_TYPE,
        "expires_in": issued.expires_in,
        "refresh_expires_in": issued.refresh_expires_in,
        "user": MeSerializer(issued.user).data,
    }
    response = Response(body)
    response["Cache-Control"] = "no-store"  # credentials: never cached by anyone
    response["Pragma"] = "no-cache"
    return response


class PublicAuthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]


# Views ---------------------------------------------------------------------------------------


class LoginView(PublicAuthView):
    parser_classes = [StrictJSONParser, FormParser, MultiPartParser]

    @extend_schema(
        summary="Sign in with email and password",
        description=(
            "Returns an access token (ACCESS_TOKEN_EXPIRE_MINUTES) and a single-use refresh token "
            "(REFRESH_TOKEN_EXPIRE_DAYS). Accounts with TOTP must send `otp_code`. 403 API_LOGIN_DISABLED "
            "when the deployment has switched API password login off; 429 TOO_MANY_ATTEMPTS while the "
            "account is locked, RATE_LIMITED past AUTH_THROTTLE_RATE per client address."
        ),
        request=LoginInputSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 403, 415, 429)},
        auth=[],
    )
    def post(self, request):
        login_service.require_api_login_enabled(password=True)
        data = validated_body(LoginInputSerializer, request.data)
        issued = login_service.api_login(
            request=request._request, email=data["email"], password=data["password"], otp_code=data.get("otp_code")
        )
        return _token_response(issued)


class RefreshView(PublicAuthView):
    @extend_schema(
        summary="Exchange a refresh token for a new pair",
        description=(
            "Each refresh token works once. Presenting a used one again revokes every token of that "
            "sign-in (reuse detection) and answers 401."
        ),
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 403, 415, 429)},
        auth=[],
    )
    def post(self, request):
        login_service.require_api_login_enabled()
        data = validated_body(RefreshInputSerializer, request.data)
        return _token_response(login_service.api_token_refresh(raw_refresh_token=data["refresh_token"]))


class LogoutView(APIView):
    @extend_schema(
        summary="Sign out: revoke the token family",
        description="Revokes the tokens of the sign-in the access token (or the given refresh token) belongs to.",
        request=LogoutInputSerializer,
        responses={204: None, **error_responses(400, 401, 403, 415, 429)},
    )
    def post(self, request):
        data = validated_body(LogoutInputSerializer, request.data)
        current = request.auth if isinstance(request.auth, AuthToken) else None
        login_service.api_logout(actor=request.user, current=current, raw_refresh_token=data.get("refresh_token"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangePasswordView(APIView):
    @extend_schema(
        summary="Change your password",
        description=(
            "Local accounts only. Ends your other console sessions and API sign-ins; API tokens are unaffected."
        ),
        request=ChangePasswordInputSerializer,
        responses={
            200: inline_serializer("PasswordChanged", {"message": serializers.CharField()}),
            **error_responses(400, 401, 403, 415, 429),
        },
    )
    def post(self, request):
        data = validated_body(ChangePasswordInputSerializer, request.data)
        current = request.auth if isinstance(request.auth, AuthToken) else None
        django_request = request._request
        session = getattr(django_request, "session", None)
        user = login_service.password_change(
            actor=request.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
            keep_family=current.family_id if current is not None else None,
            keep_session_key=session.session_key if session is not None and current is None else None,
        )
        if current is None and session is not None and session.session_key:
            update_session_auth_hash(django_request, user)  # this console session stays signed in
        return Response({"message": "Password changed successfully"})


class RegisterView(PublicAuthView):
    @extend_schema(
        summary="Create your own account (when enabled)",
        description="403 REGISTRATION_DISABLED unless SELF_REGISTRATION_ENABLED; creates active viewers only.",
        request=RegisterInputSerializer,
        responses={201: MeSerializer, **error_responses(400, 403, 409, 415, 429)},
        auth=[],
    )
    def post(self, request):
        if not settings.SELF_REGISTRATION_ENABLED:
            raise login_service.RegistrationDisabled()
        data = validated_body(RegisterInputSerializer, request.data)
        user = login_service.user_register(
            email=data["email"],
            password=data["password"],
            full_name=data["full_name"],
            department=data.get("department", ""),
            role=data.get("role"),
        )
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class ProvidersView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="How to sign in here",
        responses={
            200: inline_serializer(
                "AuthProviders",
                {
                    "local_login_enabled": serializers.BooleanField(),
                    "api_login_enabled": serializers.BooleanField(),
                    "sso_enabled": serializers.BooleanField(),
                    "sso_login_url": serializers.CharField(allow_null=True),
                    "self_registration_enabled": serializers.BooleanField(),
                },
            ),
            **error_responses(429),
        },
        auth=[],
    )
    def get(self, request):
        return Response(
            {
                "local_login_enabled": settings.LOCAL_LOGIN_ENABLED,
                "api_login_enabled": settings.API_LOGIN_ENABLED and settings.LOCAL_LOGIN_ENABLED,
                "sso_enabled": settings.OIDC_ENABLED,
                "sso_login_url": _sso_login_url() if settings.OIDC_ENABLED else None,
                "self_registration_enabled": settings.SELF_REGISTRATION_ENABLED,
            }
        )


def _sso_login_url() -> str | None:
    for name in ("oidc_authentication_init", "governance:sso_login", "sso_login"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None
