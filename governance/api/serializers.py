"""Auth API serializers: the signed-in user and integration tokens."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from genxsop.api.fields import StrictCharField
from genxsop.filters import MAX_ID
from governance import selectors
from governance.models import ApiToken, User
from governance.tokens import SCOPES

TOKEN_STATUSES = ["active", "expired", "revoked"]


class MeScopeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["category", "location"])
    id = serializers.IntegerField()
    code_or_name = serializers.CharField()
    access = serializers.ChoiceField(choices=["view", "change"])


class MeSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(read_only=True)
    modules = serializers.SerializerMethodField(help_text="Modules the user may read (ACC-06).")
    capabilities = serializers.SerializerMethodField(help_text="Write capabilities of the user's role (ACC-03).")
    scopes = serializers.SerializerMethodField(help_text="Object scopes (ACC-08); empty: unrestricted.")

    class Meta:
        model = User
        fields = [
            "id", "email", "full_name", "role", "role_label", "department", "is_active", "is_service_account",
            "auth_source", "last_login", "created_at", "modules", "capabilities", "scopes",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_modules(self, user: User) -> list[str]:
        return selectors.user_modules(user=user)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_capabilities(self, user: User) -> list[str]:
        return selectors.user_capabilities(user=user)

    @extend_schema_field(MeScopeSerializer(many=True))
    def get_scopes(self, user: User) -> list[dict]:
        from governance.services.scopes import user_scopes

        return user_scopes(user)


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(read_only=True, help_text="`gxs_<key>`: identifies the token in listings.")
    user_id = serializers.IntegerField(read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=SCOPES), read_only=True)
    allowed_ips = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True, read_only=True)
    created_by_name = serializers.CharField(source="created_by.full_name", allow_null=True, read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "prefix", "last4", "user_id", "scopes", "allowed_ips", "created_at", "created_by",
            "created_by_name", "expires_at", "last_used_at", "last_used_ip", "revoked_at", "status",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=TOKEN_STATUSES))
    def get_status(self, token: ApiToken) -> str:
        if token.revoked_at is not None:
            return "revoked"
        return "expired" if token.expires_at <= timezone.now() else "active"


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        source="plaintext", read_only=True, help_text="The full token. Shown only in this response; store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenListQuerySerializer(serializers.Serializer):
    user_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Administrators: another user's tokens."
    )
    include_revoked = serializers.BooleanField(required=False, default=False)


class ApiTokenCreateInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=SCOPES), allow_empty=False)
    expires_in_days = serializers.IntegerField(
        required=False, allow_null=True, help_text="Default API_TOKEN_DEFAULT_DAYS (90), at most API_TOKEN_MAX_DAYS."
    )
    allowed_ips = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, help_text="CIDR networks allowed to use it."
    )
    user_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Administrators: issue the token to this user or service account."
    )


class ApiTokenRevokeInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
