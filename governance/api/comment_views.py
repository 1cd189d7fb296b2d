"""Comments on an entity (API-GOV-20…23): the decisions and remarks attached to plans and other entities."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from genxsop.api.fields import StrictCharField
from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.services import require_perm
from governance import selectors
from governance.models import Comment
from governance.services import comments as comment_services


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


class CommentInputSerializer(serializers.Serializer):
    entity_type = StrictCharField(max_length=50)
    entity_id = serializers.CharField(max_length=64)
    content = serializers.CharField(max_length=comment_services.MAX_CONTENT, trim_whitespace=True)
    parent_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    mentions = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=100,
        help_text="User ids; `@email` tokens in the content are resolved too.",
    )


class CommentEditSerializer(serializers.Serializer):
    # Optional here so that a caller who may not edit the comment gets 403, not 400 (the service checks it).
    content = serializers.CharField(required=False, allow_blank=True, max_length=comment_services.MAX_CONTENT)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class CommentCreatedSerializer(CommentSerializer):
    unnotified_mentions = UserRefSerializer(many=True, help_text="Mentioned users who cannot read the entity.")


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

    @extend_schema(
        summary="Comment on an entity",
        description="Every role but viewer, on an entity it can read (404 otherwise). `parent_id` replies in a "
        "thread of the same entity. Mentioned users (`mentions` ids and `@email` tokens) who can read the entity "
        "get a `mention` notification; the others are listed in `unnotified_mentions`.",
        request=CommentInputSerializer,
        responses={201: CommentCreatedSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def post(self, request):
        require_perm(request.user, comment_services.ADD_COMMENT)
        data = validated_body(CommentInputSerializer, request.data)
        comment, unnotified = comment_services.comment_create(
            actor=request.user,
            entity_type=data["entity_type"],
            entity_id=data["entity_id"],
            content=data["content"],
            parent_id=data.get("parent_id"),
            mention_ids=data.get("mentions"),
        )
        body = CommentSerializer(comment).data
        body["unnotified_mentions"] = [{"id": u.pk, "full_name": u.full_name} for u in unnotified]
        return Response(body, status=status.HTTP_201_CREATED)


class CommentDetailView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = CommentSerializer
    queryset = Comment.objects.none()

    @extend_schema(
        summary="Edit my comment",
        description="The author only; sets `edited_at`. Approval, rejection, return, override and system comments "
        "are immutable (409), as are deleted ones.",
        parameters=[ID_PARAMETER],
        request=CommentEditSerializer,
        responses={200: CommentSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, pk):
        data = validated_body(CommentEditSerializer, request.data)
        comment = comment_services.comment_edit(actor=request.user, pk=pk, content=data.get("content", ""))
        return Response(CommentSerializer(comment).data)

    @extend_schema(
        summary="Delete a comment (soft)",
        description='The author or an administrator; the comment stays in its thread as "[deleted]". '
        "Decision comments (approval, rejection, return, override, system) are 409.",
        parameters=[ID_PARAMETER],
        responses={204: None, **error_responses(*READ_ERRORS, 404, 409)},
    )
    def delete(self, request, pk):
        comment_services.comment_delete(actor=request.user, pk=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
