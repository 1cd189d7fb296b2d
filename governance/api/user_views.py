"""User administration API (API-AUTH-09…18): thin adapters over governance.selectors and
governance.services.admin_users / scopes. API tokens cannot call these (ACC-25)."""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from genxsop.api.fields import StrictCharField
from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.errors import PermissionDenied
from governance import selectors
from governance.choices import Role
from governance.models import User
from governance.services import admin_users, scopes

VIEW_USERS = "governance.view_user"
MANAGE_USERS = "governance.change_user"

# Serializers ------------------------------------------------------------------------------


class UserDirectorySerializer(serializers.ModelSerializer):
    """The reduced row every NV role sees (API-AUTH-09)."""

    class Meta:
        model = User
        fields = ["id", "full_name", "email", "role", "department", "is_active"]
        read_only_fields = fields


class UserAdminSerializer(serializers.ModelSerializer):
    """The full user an administrator sees (API-AUTH-09/11)."""

    role_label = serializers.CharField(read_only=True)
    role_managed_by = serializers.CharField(read_only=True, help_text="`local` or `sso` (ACC-30).")
    mfa_enabled = serializers.SerializerMethodField()
    scope_count = serializers.SerializerMethodField()
    token_count = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id", "email", "full_name", "role", "role_label", "department", "is_active", "is_service_account",
            "auth_source", "role_managed_by", "last_login", "locked_until", "failed_login_count", "deactivated_at",
            "created_at", "updated_at", "mfa_enabled", "scope_count", "token_count",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_mfa_enabled(self, user) -> bool:
        return bool(getattr(user, "mfa_enabled", False))

    @extend_schema_field(serializers.IntegerField())
    def get_scope_count(self, user) -> int:
        return int(getattr(user, "scope_count", 0) or 0)

    @extend_schema_field(serializers.IntegerField())
    def get_token_count(self, user) -> int:
        return int(getattr(user, "token_count", 0) or 0)


class UserListQuerySerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    search = serializers.CharField(required=False, allow_blank=True, max_length=255)


class _NoUnknownFields(serializers.Serializer):
    def validate(self, attrs):
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["This field cannot be set here."] for name in unknown})
        return attrs


class UserCreateInputSerializer(_NoUnknownFields):
    email = serializers.EmailField(max_length=254)
    full_name = StrictCharField(max_length=255)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)
    department = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    password = StrictCharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False)
    is_service_account = serializers.BooleanField(required=False, default=False)


class UserUpdateInputSerializer(_NoUnknownFields):
    full_name = StrictCharField(max_length=255, required=False)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    department = StrictCharField(max_length=100, required=False, allow_blank=True)


class UserDeactivateInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class UserResetPasswordInputSerializer(serializers.Serializer):
    new_password = StrictCharField(trim_whitespace=False, write_only=True)


class ScopeEntrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=scopes.SCOPE_TYPES)
    id = serializers.IntegerField(min_value=1)
    access = serializers.ChoiceField(choices=scopes.ACCESS_LEVELS)


class ScopeSerializer(ScopeEntrySerializer):
    code_or_name = serializers.CharField()


class ScopesInputSerializer(serializers.Serializer):
    scopes = ScopeEntrySerializer(many=True)


class UserMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


# Views ------------------------------------------------------------------------------------

_ADMIN_WRITE = {200: UserAdminSerializer, **error_responses(*WRITE_ERRORS, 404, 409)}


@extend_schema_view(
    list=extend_schema(
        summary="List users",
        description="Every role but viewer. Administrators get the full row; others `{id, full_name, email, role, "
        "department, is_active}`. Ordered by full name.",
        parameters=[UserListQuerySerializer],
        responses={200: UserAdminSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    create=extend_schema(
        summary="Create a user or service account",
        description="Without a password the account gets an unusable one; a person (not a service account) is then "
        "e-mailed an invitation with a set-password link, audited as `governance.user.invited`.",
        request=UserCreateInputSerializer,
        responses={201: UserAdminSerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    retrieve=extend_schema(
        summary="Get a user",
        parameters=[ID_PARAMETER],
        responses={200: UserAdminSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    partial_update=extend_schema(
        summary="Update a user",
        description="Role changes are audited; a role managed by the identity provider is 409 ROLE_MANAGED_BY_IDP.",
        parameters=[ID_PARAMETER],
        request=UserUpdateInputSerializer,
        responses=_ADMIN_WRITE,
    ),
    deactivate=extend_schema(
        summary="Deactivate a user",
        description="Ends the user's sessions, API login tokens and API tokens at once. 409 for yourself or the "
        "last active administrator.",
        parameters=[ID_PARAMETER],
        request=UserDeactivateInputSerializer,
        responses=_ADMIN_WRITE,
    ),
    reactivate=extend_schema(summary="Reactivate a user", parameters=[ID_PARAMETER], request=None,
                             responses=_ADMIN_WRITE),
    unlock=extend_schema(summary="Clear a login lockout", parameters=[ID_PARAMETER], request=None,
                         responses=_ADMIN_WRITE),
    invite=extend_schema(
        summary="Resend the invitation",
        description="E-mails a fresh set-password link to a person who has no password yet. 409 for service "
        "accounts, SSO accounts (SSO_ONLY_ACCOUNT), inactive users and users who already set a password.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: UserMessageSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    reset_password=extend_schema(
        summary="Set a new password",
        description="Ends the user's sessions and API login tokens. 409 SSO_ONLY_ACCOUNT for SSO accounts.",
        parameters=[ID_PARAMETER],
        request=UserResetPasswordInputSerializer,
        responses={200: UserMessageSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
)  # fmt: skip
class UserViewSet(viewsets.GenericViewSet):
    """Users, roles, service accounts and object scopes (ACC-03: administrators; the directory: NV)."""

    permission_classes = [HasActionPermission]
    serializer_class = UserAdminSerializer
    lookup_value_regex = r"\d+"
    action_permissions = {
        "list": VIEW_USERS,
        "create": MANAGE_USERS,
        "retrieve": MANAGE_USERS,
        "partial_update": MANAGE_USERS,
        "deactivate": MANAGE_USERS,
        "reactivate": MANAGE_USERS,
        "unlock": MANAGE_USERS,
        "invite": MANAGE_USERS,
        "reset_password": MANAGE_USERS,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a real caller
            return User.objects.none()
        query = validated_query(UserListQuerySerializer, self.request)
        return selectors.user_list(user=self.request.user, filters=query)

    def _target(self, pk) -> User:
        return selectors.user_get(user=self.request.user, pk=pk)

    def _render(self, user: User, status_code=status.HTTP_200_OK) -> Response:
        fresh = selectors.user_admin_get(user=self.request.user, pk=user.pk)
        return Response(UserAdminSerializer(fresh).data, status=status_code)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        serializer = UserAdminSerializer if request.user.role == Role.ADMIN else UserDirectorySerializer
        return self.get_paginated_response(serializer(page, many=True).data)

    def create(self, request):
        data = validated_body(UserCreateInputSerializer, request.data)
        user = admin_users.admin_user_create(
            actor=request.user,
            email=data["email"],
            full_name=data["full_name"],
            role=data["role"],
            department=data.get("department", ""),
            password=data.get("password") or None,
            is_service_account=data["is_service_account"],
        )
        return self._render(user, status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        return self._render(self._target(pk))

    def partial_update(self, request, pk):
        user = self._target(pk)
        data = validated_body(UserUpdateInputSerializer, request.data)
        return self._render(admin_users.user_update(actor=request.user, user=user, data=data))

    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk):
        user = self._target(pk)
        reason = validated_body(UserDeactivateInputSerializer, request.data)["reason"]
        return self._render(admin_users.user_deactivate(actor=request.user, user=user, reason=reason))

    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk):
        return self._render(admin_users.user_reactivate(actor=request.user, user=self._target(pk)))

    @action(detail=True, methods=["post"])
    def unlock(self, request, pk):
        return self._render(admin_users.user_unlock(actor=request.user, user=self._target(pk)))

    @action(detail=True, methods=["post"])
    def invite(self, request, pk):
        user = admin_users.user_invite(actor=request.user, user=self._target(pk))
        return Response({"message": f"Invitation sent to {user.email}."})

    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk):
        user = self._target(pk)
        data = validated_body(UserResetPasswordInputSerializer, request.data)
        admin_users.user_reset_password(actor=request.user, user=user, new_password=data["new_password"])
        return Response({"message": "Password reset; the user's sessions were ended."})

    @extend_schema(
        methods=["GET"],
        summary="A user's object scopes",
        description="Administrators, or the user themself.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: ScopeSerializer(many=True), **error_responses(*READ_ERRORS, 404)},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Replace a user's object scopes",
        description="400 for the always-unrestricted roles (admin, executive, sop_coordinator).",
        parameters=[ID_PARAMETER],
        request=ScopesInputSerializer,
        responses={200: ScopeSerializer(many=True), **error_responses(*WRITE_ERRORS, 404)},
    )
    @action(detail=True, methods=["get", "put"], url_path="scopes")
    def scopes(self, request, pk):
        if request.method == "GET":
            return Response(selectors.user_scope_list(user=request.user, pk=pk))
        if not request.user.has_perm(MANAGE_USERS):
            raise PermissionDenied()
        user = self._target(pk)
        data = validated_body(ScopesInputSerializer, request.data)
        entries = [dict(entry) for entry in data["scopes"]]
        return Response(scopes.user_scopes_set(actor=request.user, user=user, scopes=entries))
