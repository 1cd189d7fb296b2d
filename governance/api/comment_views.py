"""Comments on an entity (API-GOV-20): the decisions and remarks attached to plans and other entities."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from genxsop.api.fields import StrictCharField
from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import READ_ERRORS, error_responses
from genxsop.api.validation import validated_query
from governance import selectors
from governance.models import Comment


class CommentQuerySerializer(serializers.Serializer):
    entity_type = StrictCharField(max_length=50, help_text="e.g. demand_plan, supply_plan")
    entity_id = StrictCharField(max_length=64)


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    user_id = serializers.IntegerField()
    user_name = serializers.CharField(source="user.full_name")
    content = serializers.SerializerMethodField()
    kind = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    mentions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.SerializerMethodField()

    def get_content(self, comment) -> str:
        return "[deleted]" if comment.deleted_at else comment.content

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_mentions(self, comment) -> list[dict]:
        return [{"id": u.pk, "full_name": u.full_name} for u in comment.mentions.all()]

    def get_deleted(self, comment) -> bool:
        return comment.deleted_at is not None


class CommentListView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = CommentSerializer
    queryset = Comment.objects.none()  # schema only: the rows come from the selector

    @extend_schema(
        summary="Comments on an entity",
        description="Oldest first. Approval, rejection and return comments are recorded by the workflow "
        "actions; 404 when the entity does not exist or the caller may not read it.",
        parameters=[CommentQuerySerializer],
        responses={200: CommentSerializer(many=True), **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request):
        query = validated_query(CommentQuerySerializer, request)
        comments = selectors.comment_list(user=request.user, **query)
        page = self.paginate_queryset(comments)
        return self.get_paginated_response(CommentSerializer(page, many=True).data)
