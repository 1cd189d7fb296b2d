"""Integrations API (API-INT-01…11): ERP/WMS sync, batches, publishing to the ERP outbox.

Thin adapters: the sync endpoints hand the envelope to the batch engine, the rest call the
integration selectors and services.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.pagination import EnvelopePagination
from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from planning import permissions as perms
from planning import selectors, services
from planning.choices import BatchChannel, BatchOperation
from planning.filtersets import IntegrationBatchFilterSet, OutboundMessageFilterSet
from planning.integrations.batch import HEADER_KEY, run_batch

# Schemas -------------------------------------------------------------------------------------


class IntegrationMetaSerializer(serializers.Serializer):
    source_system = serializers.CharField(max_length=100)
    batch_id = serializers.CharField(max_length=100, required=False)
    idempotency_key = serializers.CharField(max_length=128, required=False)
    dry_run = serializers.BooleanField(default=False)
    atomic = serializers.BooleanField(default=False)
    as_of = serializers.DateTimeField(required=False)
    snapshot_period = serializers.CharField(required=False, help_text="YYYY-MM (inventory sync).")
    create_missing_locations = serializers.BooleanField(required=False, help_text="Inventory sync; default true.")
    create_missing_plans = serializers.BooleanField(required=False, help_text="Actuals syncs; default true.")
    control_totals = inline_serializer("IntegrationControlTotals", {
        "items": serializers.IntegerField(required=False),
        "quantity_sum": serializers.DecimalField(max_digits=20, decimal_places=2, required=False),
    }, required=False)  # fmt: skip


def _envelope_schema(name: str, item_fields: dict):
    return inline_serializer(name, {
        "meta": IntegrationMetaSerializer(),
        "items": serializers.ListField(child=inline_serializer(f"{name}Item", item_fields)),
    })  # fmt: skip


_dec = {"max_digits": 14, "decimal_places": 2}
PRODUCT_ITEM = {
    "sku": serializers.CharField(), "name": serializers.CharField(),
    "category_name": serializers.CharField(required=False), "product_family": serializers.CharField(required=False),
    "lead_time_days": serializers.IntegerField(required=False),
    "unit_of_measure": serializers.CharField(required=False),
    "unit_cost": serializers.DecimalField(required=False, **_dec),
    "selling_price": serializers.DecimalField(required=False, **_dec),
    "min_order_qty": serializers.IntegerField(required=False), "status": serializers.CharField(required=False),
}  # fmt: skip
INVENTORY_ITEM = {
    "sku": serializers.CharField(), "location": serializers.CharField(),
    "on_hand_qty": serializers.DecimalField(**_dec), "allocated_qty": serializers.DecimalField(required=False, **_dec),
    "in_transit_qty": serializers.DecimalField(required=False, **_dec),
    "valuation": serializers.DecimalField(required=False, **_dec),
    "last_receipt_date": serializers.DateField(required=False),
    "last_issue_date": serializers.DateField(required=False),
}  # fmt: skip
DEMAND_ACTUAL_ITEM = {
    "sku": serializers.CharField(), "period": serializers.CharField(help_text="YYYY-MM"),
    "actual_qty": serializers.DecimalField(**_dec), "region": serializers.CharField(required=False),
    "channel": serializers.CharField(required=False),
}  # fmt: skip
SUPPLY_ACTUAL_ITEM = {
    "sku": serializers.CharField(), "period": serializers.CharField(help_text="YYYY-MM"),
    "location": serializers.CharField(required=False), "actual_prod_qty": serializers.DecimalField(**_dec),
}  # fmt: skip

ItemErrorSerializer = inline_serializer("IntegrationItemError", {
    "index": serializers.IntegerField(help_text="0-based position of the item."),
    "key": serializers.CharField(), "code": serializers.CharField(), "message": serializers.CharField(),
    "field": serializers.CharField(),
})  # fmt: skip
OperationResponseSerializer = inline_serializer("IntegrationOperationResponse", {
    "success": serializers.BooleanField(), "status": serializers.CharField(),
    "source_system": serializers.CharField(), "batch_id": serializers.CharField(),
    "batch_uuid": serializers.UUIDField(), "idempotency_key": serializers.CharField(allow_null=True),
    "processed": serializers.IntegerField(), "created": serializers.IntegerField(),
    "updated": serializers.IntegerField(), "skipped": serializers.IntegerField(), "failed": serializers.IntegerField(),
    "dry_run": serializers.BooleanField(), "replayed": serializers.BooleanField(), "message": serializers.CharField(),
    "errors": serializers.ListField(child=ItemErrorSerializer),
})  # fmt: skip
PublishResponseSerializer = inline_serializer("IntegrationPublishResponse", {
    "success": serializers.BooleanField(), "status": serializers.CharField(), "message": serializers.CharField(),
    "message_id": serializers.UUIDField(), "version_stamp": serializers.CharField(),
})  # fmt: skip


class IntegrationBatchSerializer(serializers.Serializer):
    batch_uuid = serializers.UUIDField()
    channel = serializers.CharField()
    operation = serializers.CharField()
    source_system = serializers.CharField()
    batch_id = serializers.CharField()
    idempotency_key = serializers.CharField(allow_null=True)
    dry_run = serializers.BooleanField()
    atomic = serializers.BooleanField()
    status = serializers.CharField()
    processed = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    file_name = serializers.CharField()
    file_format = serializers.CharField()
    file_size = serializers.IntegerField(allow_null=True)
    actor_email = serializers.SerializerMethodField()
    api_token_id = serializers.IntegerField(allow_null=True)
    request_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)

    def get_actor_email(self, obj) -> str | None:
        return obj.actor.email if obj.actor_id else None


class IntegrationBatchDetailSerializer(IntegrationBatchSerializer):
    request_hash = serializers.CharField()
    file_sha256 = serializers.CharField()
    item_results = serializers.ListField(child=inline_serializer("IntegrationItemResult", {
        "index": serializers.IntegerField(), "key": serializers.CharField(),
        "outcome": serializers.CharField(help_text="created | updated | skipped | failed | not_applied"),
        "code": serializers.CharField(), "message": serializers.CharField(), "field": serializers.CharField(),
    }))  # fmt: skip
    response = serializers.JSONField(allow_null=True)


class OutboundMessageSerializer(serializers.Serializer):
    message_id = serializers.UUIDField()
    target_system = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    external_reference = serializers.CharField()
    payload_sha256 = serializers.CharField()
    payload = serializers.JSONField()
    created_at = serializers.DateTimeField()


class AckInputSerializer(serializers.Serializer):
    external_reference = serializers.CharField(max_length=255, required=False, allow_blank=True)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)


# Views ---------------------------------------------------------------------------------------


class _IntegrationView(APIView):
    permission_classes = [HasActionPermission]
    action = "call"
    permission = ""

    @property
    def action_permissions(self):
        return {"call": self.permission} if self.permission else {}


class SyncView(_IntegrationView):
    """INT-01…04: the envelope goes to the batch engine as is, so it records rejected envelopes too."""

    permission = perms.ADD_INTEGRATION_BATCH
    operation = ""

    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        meta = data.get("meta")
        meta = dict(meta) if isinstance(meta, dict) else meta
        header = request.headers.get("Idempotency-Key")
        if header and isinstance(meta, dict):
            meta[HEADER_KEY] = header
        token = request.auth if hasattr(request.auth, "scopes") else None
        _, body, replayed = run_batch(actor=request.user, operation=self.operation, channel=BatchChannel.API,
                                      items=data.get("items"), meta=meta, api_token=token)  # fmt: skip
        response = Response(body)
        if replayed:
            response["Idempotent-Replay"] = "true"
        return response


_IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Instead of meta.idempotency_key (both given and different is 400).",
)  # fmt: skip
_SYNC_ERRORS = error_responses(*WRITE_ERRORS, 409)


def _sync_view(operation: str, summary: str, description: str, item_fields: dict, name: str):
    schema = extend_schema(
        summary=summary,
        description=description + " Answers 200 whenever the envelope is valid, even if items failed (INT-02); a "
        "repeated idempotency key with the same body returns the first answer with `Idempotent-Replay: true`.",
        parameters=[_IDEMPOTENCY_HEADER],
        request=_envelope_schema(name, item_fields),
        responses={200: OperationResponseSerializer, **_SYNC_ERRORS},
    )

    def post(self, request):  # a function per view: extend_schema annotates the function object itself
        return SyncView.post(self, request)

    return type(f"{name}View", (SyncView,), {"operation": operation, "post": schema(post)})


ProductsSyncView = _sync_view(BatchOperation.PRODUCTS_SYNC, "Sync products from the ERP",
                              "INT-05: upsert by SKU; the category is found by name or created.", PRODUCT_ITEM,
                              "ProductsSync")  # fmt: skip
InventorySyncView = _sync_view(BatchOperation.INVENTORY_SYNC, "Sync stock positions from the ERP/WMS",
                               "INT-06: upsert by (SKU, location); status, valuation and days of supply recomputed.",
                               INVENTORY_ITEM, "InventorySync")  # fmt: skip
DemandActualsSyncView = _sync_view(BatchOperation.DEMAND_ACTUALS_SYNC, "Sync demand actuals from the ERP",
                                   "INT-07: records the actual on the current demand row in any status.",
                                   DEMAND_ACTUAL_ITEM, "DemandActualsSync")  # fmt: skip
SupplyActualsSyncView = _sync_view(BatchOperation.SUPPLY_ACTUALS_SYNC, "Sync production actuals from the ERP",
                                   "INT-08: records actual production on the current supply row in any status.",
                                   SUPPLY_ACTUAL_ITEM, "SupplyActualsSync")  # fmt: skip


def _paginated(view, queryset, serializer_class) -> Response:
    paginator = EnvelopePagination()
    page = paginator.paginate_queryset(queryset, view.request, view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


_FROM_TO = [
    OpenApiParameter("from", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=False,
                     description="Created at or after (a date means its start)."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=False,
                     description="Created at or before (a date means its end)."),
]  # fmt: skip


class BatchListView(_IntegrationView):
    permission = perms.VIEW_INTEGRATION_BATCH
    filterset_class = IntegrationBatchFilterSet
    pagination_class = EnvelopePagination  # tells the schema that the list comes in the paginated envelope

    @extend_schema(
        summary="List integration batches",
        description="API-INT-10: sync calls and file imports, newest first, without `item_results`.",
        parameters=[
            OpenApiParameter("operation", str, OpenApiParameter.QUERY, required=False, enum=BatchOperation.values),
            OpenApiParameter("status", str, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("channel", str, OpenApiParameter.QUERY, required=False, enum=BatchChannel.values),
            OpenApiParameter("source_system", str, OpenApiParameter.QUERY, required=False),
            *_FROM_TO,
            OpenApiParameter("page", int, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("page_size", int, OpenApiParameter.QUERY, required=False),
        ],
        responses={200: IntegrationBatchSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        queryset = selectors.integration_batch_list(user=request.user, filters=request.query_params)
        return _paginated(self, queryset, IntegrationBatchSerializer)


class BatchDetailView(_IntegrationView):
    @extend_schema(
        summary="Get an integration batch with its item results",
        description="API-INT-11: INTEG roles, or the user who ran that file import.",
        parameters=[OpenApiParameter("batch_uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={200: IntegrationBatchDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, batch_uuid):
        batch = selectors.integration_batch_get(user=request.user, batch_uuid=batch_uuid)
        return Response(IntegrationBatchDetailSerializer(batch).data)


class PublishPlanView(_IntegrationView):
    permission = perms.ADD_OUTBOUND_MESSAGE
    plan_type = ""

    def post(self, request, pk):
        plan = selectors.plan_for_publish_get(user=request.user, plan_type=self.plan_type, pk=pk)
        message = services.outbound_message_publish_plan(actor=request.user, plan=plan)
        return Response({"success": True, "status": "completed", "message": "queued for ERP delivery",
                         "message_id": str(message.message_id),
                         "version_stamp": message.payload["version_stamp"]})  # fmt: skip


def _publish_view(plan_type: str, label: str):
    schema = extend_schema(
        summary=f"Hand an approved {label} plan to the ERP",
        description="API-INT-05/06: queues an outbound message carrying the plan version (INT-10). Plans that "
        "are not approved or locked are 409 NOT_PUBLISHED.",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: PublishResponseSerializer, **error_responses(*READ_ERRORS, 404, 409)},
    )

    def post(self, request, pk):
        return PublishPlanView.post(self, request, pk)

    attrs = {"plan_type": plan_type, "post": schema(post)}
    return type(f"Publish{label.title()}PlanView", (PublishPlanView,), attrs)


PublishDemandPlanView = _publish_view("demand", "demand")
PublishSupplyPlanView = _publish_view("supply", "supply")


class OutboxListView(_IntegrationView):
    permission = perms.VIEW_OUTBOUND_MESSAGE
    filterset_class = OutboundMessageFilterSet
    pagination_class = EnvelopePagination  # tells the schema that the list comes in the paginated envelope

    @extend_schema(
        summary="List the ERP outbox",
        description="API-INT-07: outbound messages with their payloads, oldest first; `status` defaults to pending.",
        parameters=[
            OpenApiParameter("status", str, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("target_system", str, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("kind", str, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("page", int, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("page_size", int, OpenApiParameter.QUERY, required=False),
        ],
        responses={200: OutboundMessageSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        queryset = selectors.outbound_message_list(user=request.user, filters=request.query_params)
        return _paginated(self, queryset, OutboundMessageSerializer)


_MESSAGE_ID = OpenApiParameter("message_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class OutboxAckView(_IntegrationView):
    permission = perms.CHANGE_OUTBOUND_MESSAGE

    @extend_schema(
        summary="Acknowledge an outbound message",
        description="API-INT-08: the ERP confirms it took the message; idempotent. A failed message is 409.",
        parameters=[_MESSAGE_ID],
        request=AckInputSerializer,
        responses={200: OutboundMessageSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, message_id):
        data = validated_body(AckInputSerializer, request.data or {})
        message = selectors.outbound_message_get(user=request.user, message_id=message_id)
        message = services.outbound_message_acknowledge(actor=request.user, message=message, **data)
        return Response(OutboundMessageSerializer(message).data)


class OutboxRetryView(_IntegrationView):
    permission = perms.CHANGE_OUTBOUND_MESSAGE

    @extend_schema(
        summary="Retry a failed outbound message",
        description="API-INT-09: failed → pending with the attempts reset; any other status is 409.",
        parameters=[_MESSAGE_ID],
        request=None,
        responses={200: OutboundMessageSerializer, **error_responses(*READ_ERRORS, 404, 409)},
    )
    def post(self, request, message_id):
        message = selectors.outbound_message_get(user=request.user, message_id=message_id)
        message = services.outbound_message_retry(actor=request.user, message=message)
        return Response(OutboundMessageSerializer(message).data)
