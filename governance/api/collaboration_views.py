"""Decisions, action items and notifications (API-SOP-13…16, API-GOV-01…04, API-GOV-24…27).

Thin callers of governance.services.decisions / action_items / notifications over the selectors.
Writes check the permission before reading the body, so a refused caller gets 403, not a 400 about
the body it was never allowed to send.
"""

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from genxsop.api.filters import FilterSetSchemaBackend
from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.errors import NotFound, ValidationFailed
from genxsop.services import require_perm
from governance import selectors
from governance.choices import ActionItemPriority, ActionItemStatus, DecisionCategory
from governance.filtersets import ActionItemFilterSet, DecisionFilterSet
from governance.models import ActionItem, Decision, Notification
from governance.services import action_items as action_item_services
from governance.services import decisions as decision_services
from governance.services import notifications as notification_services

User = get_user_model()


def _user_ref(pk, field: str):
    """An active user by id, or 400 on the field (the services check the role rules)."""
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ValidationFailed(fields={field: ["Unknown user."]})
    return user


# Decisions -----------------------------------------------------------------------------------


class DecisionSerializer(serializers.ModelSerializer):
    cycle_id = serializers.IntegerField(allow_null=True)
    decided_by_id = serializers.IntegerField()
    decided_by_name = serializers.CharField(source="decided_by.full_name")
    superseded_by_id = serializers.IntegerField(allow_null=True)
    created_by_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "cycle_id",
            "step_number",
            "title",
            "description",
            "category",
            "decided_by_id",
            "decided_by_name",
            "decided_at",
            "related_type",
            "related_id",
            "status",
            "superseded_by_id",
            "created_by_id",
            "created_at",
            "updated_at",
        ]


class ActionItemSerializer(serializers.ModelSerializer):
    cycle_id = serializers.IntegerField(allow_null=True)
    decision_id = serializers.IntegerField(allow_null=True)
    owner_id = serializers.IntegerField()
    owner_name = serializers.CharField(source="owner.full_name")
    created_by_id = serializers.IntegerField(allow_null=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "cycle_id",
            "decision_id",
            "title",
            "description",
            "notes",
            "owner_id",
            "owner_name",
            "due_date",
            "priority",
            "status",
            "completed_at",
            "overdue",
            "created_by_id",
            "related_type",
            "related_id",
            "created_at",
            "updated_at",
        ]

    def get_overdue(self, item) -> bool:
        return item.status in ("open", "in_progress") and item.due_date < timezone.localdate()


class DecisionDetailSerializer(DecisionSerializer):
    action_items = ActionItemSerializer(many=True, read_only=True)

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "action_items"]


class DecisionInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    category = serializers.ChoiceField(choices=DecisionCategory.choices)
    step_number = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    decided_by_id = serializers.IntegerField(required=False, min_value=1, help_text="Default: the caller.")
    decided_at = serializers.DateTimeField(required=False)
    related_type = serializers.CharField(required=False, allow_blank=True, max_length=50)
    related_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    supersedes_id = serializers.IntegerField(required=False, min_value=1, help_text="Marks that decision superseded.")


class DecisionListView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = DecisionSerializer
    filter_backends = [FilterSetSchemaBackend]
    filterset_class = DecisionFilterSet
    queryset = Decision.objects.none()  # schema only: the rows come from the selector

    @extend_schema(
        summary="Decisions",
        description="Newest first (API-GOV-03).",
        responses={200: DecisionSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.decision_list(user=request.user, filters=request.query_params))
        return self.get_paginated_response(DecisionSerializer(page, many=True).data)


class DecisionDetailView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = DecisionDetailSerializer
    queryset = Decision.objects.none()

    @extend_schema(
        summary="A decision with its action items",
        parameters=[ID_PARAMETER],
        responses={200: DecisionDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        return Response(DecisionDetailSerializer(selectors.decision_get(user=request.user, pk=pk)).data)


class CycleDecisionsView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = DecisionSerializer
    queryset = Decision.objects.none()
    pagination_class = None  # the cycle's decisions come as a plain list

    @extend_schema(
        summary="Decisions of a cycle",
        parameters=[ID_PARAMETER],
        responses={200: DecisionSerializer(many=True), **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        decisions = selectors.decision_list(user=request.user).filter(cycle=cycle)
        return Response(DecisionSerializer(decisions, many=True).data)

    @extend_schema(
        summary="Record a decision in a cycle",
        description="EXEC_C. `supersedes_id` marks that decision superseded (WF-52); a completed or cancelled "
        "cycle is 409 ENTITY_LOCKED.",
        parameters=[ID_PARAMETER],
        request=DecisionInputSerializer,
        responses={201: DecisionSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        require_perm(request.user, decision_services.ADD_DECISION)
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        data = validated_body(DecisionInputSerializer, request.data)
        data["decided_by"] = _user_ref(data.pop("decided_by_id", None), "decided_by_id")
        supersedes = None
        if "supersedes_id" in data:
            try:
                supersedes = selectors.decision_get(user=request.user, pk=data.pop("supersedes_id"))
            except NotFound:
                raise ValidationFailed(fields={"supersedes_id": ["Unknown decision."]}) from None
        decision = decision_services.decision_record(actor=request.user, cycle=cycle, data=data, supersedes=supersedes)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


# Action items --------------------------------------------------------------------------------


class ActionItemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    owner_id = serializers.IntegerField(min_value=1)
    due_date = serializers.DateField()
    priority = serializers.ChoiceField(choices=ActionItemPriority.choices, required=False)
    decision_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    related_type = serializers.CharField(required=False, allow_blank=True, max_length=50)
    related_id = serializers.CharField(required=False, allow_blank=True, max_length=64)


class ActionItemUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ActionItemStatus.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    due_date = serializers.DateField(required=False, help_text="EXEC_C only.")
    owner_id = serializers.IntegerField(required=False, min_value=1, help_text="EXEC_C only.")
    priority = serializers.ChoiceField(choices=ActionItemPriority.choices, required=False, help_text="EXEC_C only.")


class CycleActionItemQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ActionItemStatus.choices, required=False)
    owner_id = serializers.IntegerField(required=False, min_value=1)


class ActionItemListView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = ActionItemSerializer
    filter_backends = [FilterSetSchemaBackend]
    filterset_class = ActionItemFilterSet
    queryset = ActionItem.objects.none()

    @extend_schema(
        summary="Action items",
        description="By due date (API-GOV-01); `owner_id` defaults to the caller.",
        responses={200: ActionItemSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        filters = request.query_params.copy()
        filters.setdefault("owner_id", str(request.user.pk))
        page = self.paginate_queryset(selectors.action_item_list(user=request.user, filters=filters))
        return self.get_paginated_response(ActionItemSerializer(page, many=True).data)


class ActionItemDetailView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = ActionItemSerializer
    queryset = ActionItem.objects.none()

    @extend_schema(
        summary="An action item",
        parameters=[ID_PARAMETER],
        responses={200: ActionItemSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        return Response(ActionItemSerializer(selectors.action_item_get(user=request.user, pk=pk)).data)

    @extend_schema(
        summary="Change an action item",
        description="The owner changes status and notes; EXEC_C also due date, owner and priority. Status follows "
        "WF-51 (open → in_progress → done; open, in_progress → cancelled; done, cancelled → open): other moves "
        "are 409 INVALID_STATE_TRANSITION.",
        parameters=[ID_PARAMETER],
        request=ActionItemUpdateSerializer,
        responses={200: ActionItemSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, pk):
        item = selectors.action_item_get(user=request.user, pk=pk)
        data = validated_body(ActionItemUpdateSerializer, request.data)
        if "owner_id" in data:
            data["owner"] = _user_ref(data.pop("owner_id"), "owner_id")
        item = action_item_services.action_item_update(actor=request.user, item=item, data=data)
        return Response(ActionItemSerializer(item).data)


class CycleActionItemsView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = ActionItemSerializer
    queryset = ActionItem.objects.none()
    pagination_class = None  # the cycle's action items come as a plain list

    @extend_schema(
        summary="Action items of a cycle",
        parameters=[ID_PARAMETER, CycleActionItemQuerySerializer],
        responses={200: ActionItemSerializer(many=True), **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        query = validated_query(CycleActionItemQuerySerializer, request)
        items = selectors.action_item_list(user=request.user).filter(cycle=cycle, **query)
        return Response(ActionItemSerializer(items, many=True).data)

    @extend_schema(
        summary="Create an action item in a cycle",
        description="EXEC_C, or an owner of one of the cycle's steps. The owner is notified (`assignment`). "
        "A completed or cancelled cycle is 409 ENTITY_LOCKED.",
        parameters=[ID_PARAMETER],
        request=ActionItemInputSerializer,
        responses={201: ActionItemSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        action_item_services.action_item_create_check(actor=request.user, cycle=cycle)
        data = validated_body(ActionItemInputSerializer, request.data)
        data["owner"] = _user_ref(data.pop("owner_id"), "owner_id")
        decision_id = data.pop("decision_id", None)
        if decision_id is not None:
            try:
                data["decision"] = selectors.decision_get(user=request.user, pk=decision_id)
            except NotFound:
                raise ValidationFailed(fields={"decision_id": ["Unknown decision."]}) from None
        item = action_item_services.action_item_create(actor=request.user, cycle=cycle, data=data)
        return Response(ActionItemSerializer(item).data, status=status.HTTP_201_CREATED)


# Notifications -------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="GOV-13: mention, assignment, approval_request, action_item_due, …")

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "entity_type", "entity_id", "url", "read_at", "created_at"]


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class UpdatedCountSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


class NotificationListView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()

    @extend_schema(
        summary="My notifications",
        description="Newest first; `unread=true` for the unread ones only.",
        parameters=[NotificationQuerySerializer],
        responses={200: NotificationSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        query = validated_query(NotificationQuerySerializer, request)
        page = self.paginate_queryset(selectors.notification_list(user=request.user, unread=query.get("unread")))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationUnreadCountView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = UnreadCountSerializer

    @extend_schema(
        summary="How many of my notifications are unread",
        responses={200: UnreadCountSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        return Response({"unread": selectors.notification_unread_count(user=request.user)})


class NotificationReadView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = NotificationSerializer

    @extend_schema(
        summary="Mark one of my notifications read",
        parameters=[ID_PARAMETER],
        request=None,
        description="Idempotent; another user's notification is 404.",
        responses={200: NotificationSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def post(self, request, pk):
        notification = notification_services.notification_mark_read(actor=request.user, pk=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = UpdatedCountSerializer

    @extend_schema(
        summary="Mark all my notifications read",
        request=None,
        responses={200: UpdatedCountSerializer, **error_responses(*READ_ERRORS)},
    )
    def post(self, request):
        return Response({"updated": notification_services.notification_mark_all_read(actor=request.user)})
