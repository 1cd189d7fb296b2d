"""SSO role mapping API (API-AUTH-22/23): thin adapter over governance.services.sso.

Administrators only; API tokens cannot call it (ACC-25: tokens do not manage users).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from governance.choices import Role
from governance.services import sso


class IsAdministrator(IsAuthenticatedWithTokenScope):
    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        if request.user.role != Role.ADMIN:
            raise exceptions.PermissionDenied()
        return True


class SsoRoleMappingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    claim_value = serializers.CharField(max_length=255)
    role = serializers.CharField()


class SsoRoleMappingItemInputSerializer(serializers.Serializer):
    # Shape only; unknown roles and duplicates are the service's 400 (one message per item).
    claim_value = serializers.CharField(max_length=255, trim_whitespace=True)
    role = serializers.CharField()


class SsoRoleMappingReplaceInputSerializer(serializers.Serializer):
    mappings = SsoRoleMappingItemInputSerializer(many=True, allow_empty=True)


class SsoRoleMappingView(APIView):
    """The claim-value → role rules applied at SSO login (ACC-29)."""

    permission_classes = [IsAdministrator]

    @extend_schema(
        summary="List SSO role mappings",
        responses={200: SsoRoleMappingSerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        return Response(SsoRoleMappingSerializer(sso.sso_role_mapping_list(), many=True).data)

    @extend_schema(
        summary="Replace the SSO role mappings",
        description="Replaces the whole set. 400 for an unknown role or a duplicate claim value.",
        request=SsoRoleMappingReplaceInputSerializer,
        responses={200: SsoRoleMappingSerializer(many=True), **error_responses(*WRITE_ERRORS)},
    )
    def put(self, request):
        data = validated_body(SsoRoleMappingReplaceInputSerializer, request.data)
        rows = sso.sso_role_mappings_replace(actor=request.user, mappings=[dict(m) for m in data["mappings"]])
        return Response(SsoRoleMappingSerializer(rows, many=True).data)
