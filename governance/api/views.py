"""Auth API (API-AUTH-04, 19…21): the signed-in user and their integration tokens."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.errors import NotFound, ValidationFailed
from governance import selectors, services
from governance.api import serializers as s
from governance.models import ApiToken


class MeView(APIView):
    @extend_schema(summary="The signed-in user", responses={200: s.MeSerializer, **error_responses(401, 429)})
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


@extend_schema_view(
    list=extend_schema(
        summary="List API tokens",
        description="The caller's tokens; administrators may pass `user_id`. Revoked tokens only on request.",
        parameters=[s.ApiTokenListQuerySerializer],
        responses={200: s.ApiTokenSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    create=extend_schema(
        summary="Create an API token",
        description="The response carries the plaintext `token`; it is never shown again.",
        request=s.ApiTokenCreateInputSerializer,
        responses={201: s.ApiTokenCreatedSerializer, **error_responses(*WRITE_ERRORS)},
    ),
    destroy=extend_schema(
        summary="Revoke an API token",
        description="Also 204 when the token was already revoked.",
        parameters=[ID_PARAMETER],
        request=s.ApiTokenRevokeInputSerializer,
        responses={204: None, **error_responses(*READ_ERRORS, 404, 415)},
    ),
)
class ApiTokenViewSet(viewsets.GenericViewSet):
    """Integration tokens (ACC-22…25). Tokens themselves cannot call these endpoints."""

    serializer_class = s.ApiTokenSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a real caller
            return ApiToken.objects.none()
        query = validated_query(s.ApiTokenListQuerySerializer, self.request)
        return selectors.api_token_list(
            user=self.request.user, owner_id=query.get("user_id"), include_revoked=query["include_revoked"]
        )

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request):
        data = validated_body(s.ApiTokenCreateInputSerializer, request.data)
        owner = request.user
        if data.get("user_id") not in (None, request.user.pk):
            try:
                owner = selectors.user_get(user=request.user, pk=data["user_id"])
            except NotFound:
                raise ValidationFailed(fields={"user_id": ["User not found."]}) from None
        token, plaintext = services.api_token_create(
            actor=request.user,
            user=owner,
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data.get("expires_in_days"),
            allowed_ips=data.get("allowed_ips"),
        )
        token.plaintext = plaintext
        return Response(s.ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk):
        token = selectors.api_token_get(user=request.user, pk=pk)
        reason = validated_body(s.ApiTokenRevokeInputSerializer, request.data)["reason"]
        services.api_token_revoke(actor=request.user, token=token, reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)
