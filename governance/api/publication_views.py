"""Publications (API-GOV-12…16, 19): thin callers of governance.services.publishing.

Writes check the permission before reading the body, so a refused caller gets 403, not a 400 about
the body it was never allowed to send.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from genxsop.api.fields import StrictCharField
from genxsop.api.filters import FilterSetSchemaBackend
from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, XLSX_MEDIA_TYPE, error_responses
from genxsop.api.validation import validated_body
from genxsop.errors import NotFound, ValidationFailed
from genxsop.services import require_perm
from governance import permissions as gperms
from governance import selectors
from governance.api.publication_filters import PublicationFilterSet
from governance.choices import Lane
from governance.models import Publication, PublicationItem
from governance.services import publishing


class PublicationItemSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    location = serializers.SerializerMethodField()
    values = serializers.DictField()

    class Meta:
        model = PublicationItem
        fields = ["plan_type", "plan_id", "plan_version", "product_id", "sku", "product_name", "period", "region",
                  "channel", "location", "values"]  # fmt: skip

    def get_location(self, item) -> str | None:
        return item.location.code if item.location_id else None


class PublicationSerializer(serializers.ModelSerializer):
    sop_cycle_id = serializers.IntegerField(allow_null=True)
    evaluation_id = serializers.UUIDField(source="evaluation.evaluation_id")
    override_by = serializers.IntegerField(source="override_by_id", allow_null=True)
    override_by_name = serializers.SerializerMethodField()
    operating_plan_scenario_id = serializers.IntegerField(allow_null=True)
    published_by = serializers.IntegerField(source="published_by_id")
    published_by_name = serializers.CharField(source="published_by.full_name")
    superseded_by = serializers.IntegerField(source="superseded_by_id", allow_null=True)
    rolled_back_by = serializers.IntegerField(source="rolled_back_by_id", allow_null=True)
    restored_publication = serializers.IntegerField(source="restored_publication_id", allow_null=True)
    failed_gates = serializers.ListField(child=serializers.DictField())
    excluded = serializers.ListField(child=serializers.DictField())
    # Plain strings: the status and outcome enums of other entities share these field names.
    status = serializers.CharField(help_text="published, superseded or rolled_back (WF-50).")
    outcome = serializers.CharField(help_text="go or no_go_overridden (GOV-64).")
    evaluation_outcome = serializers.CharField(source="evaluation.outcome", help_text="go or no_go.")
    allowed_actions = serializers.SerializerMethodField(help_text="Actions the caller may take now (WF-04).")

    class Meta:
        model = Publication
        fields = [
            "id", "version_stamp", "lane", "period_from", "period_to", "sop_cycle_id", "evaluation_id",
            "evaluation_outcome", "outcome", "failed_gates", "override_justification", "override_by",
            "override_by_name", "operating_plan_scenario_id", "status", "published_by", "published_by_name",
            "published_at", "superseded_by", "superseded_at", "rolled_back_by", "rolled_back_at", "rollback_reason",
            "restored_publication", "item_count", "snapshot_sha256", "excluded", "request_id", "allowed_actions",
        ]  # fmt: skip

    def get_override_by_name(self, publication) -> str | None:
        return publication.override_by.full_name if publication.override_by_id else None

    def get_allowed_actions(self, publication) -> list[str]:
        user = self.context["request"].user
        rollback = publication.status == "published" and user.has_perm(gperms.ROLLBACK_PUBLICATION)
        return ["rollback"] if rollback else []


class PublicationDetailSerializer(PublicationSerializer):
    evaluation = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()

    class Meta(PublicationSerializer.Meta):
        fields = [*PublicationSerializer.Meta.fields, "evaluation", "items"]

    def get_evaluation(self, publication) -> dict:
        from governance.services.readiness import evaluation_as_dict

        return evaluation_as_dict(publication.evaluation)

    def get_items(self, publication) -> list[dict] | None:
        if not self.context.get("include_items"):
            return None
        return PublicationItemSerializer(publishing.publication_items(publication), many=True).data


class OverrideInputSerializer(serializers.Serializer):
    justification = StrictCharField(max_length=5000, help_text="At least 20 characters (GOV-64).")


class PublishInputSerializer(serializers.Serializer):
    lane = serializers.ChoiceField(choices=Lane.choices)
    period_from = serializers.DateField(required=False, help_text="Monthly lane: first period (default GOV-60).")
    period_to = serializers.DateField(required=False, help_text="Must equal the lane's computed horizon end.")
    sop_cycle_id = serializers.IntegerField(required=False, min_value=1)
    evaluation_id = serializers.UUIDField(required=False, help_text="The evaluation the caller saw (GOV-63 step 3).")
    override = OverrideInputSerializer(required=False, help_text="APPR only: publish a No-Go (GOV-64).")


class RollbackInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=5000, help_text="At least 10 characters (GOV-66).")


class RollbackResponseSerializer(serializers.Serializer):
    rolled_back = PublicationSerializer()
    restored = PublicationSerializer(allow_null=True)
    restored_plans = serializers.ListField(child=serializers.DictField())
    released_plans = serializers.ListField(child=serializers.DictField())


class PublicationDiffSerializer(serializers.Serializer):
    plan_type = serializers.CharField()
    plan_id = serializers.IntegerField()
    product = serializers.CharField(help_text="SKU")
    period = serializers.DateField()
    key = serializers.CharField(help_text="region/channel (demand) or location code (supply)")
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class _Base(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    queryset = Publication.objects.none()  # schema only: the rows come from the selector


class PublicationListView(_Base):
    serializer_class = PublicationSerializer
    filter_backends = [FilterSetSchemaBackend]
    filterset_class = PublicationFilterSet

    @extend_schema(
        summary="Publications",
        description="API-GOV-12: newest first; filters `lane`, `status` (comma-separated), `from`, `to` "
        "(publishing day).",
        responses={200: PublicationSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        page = self.paginate_queryset(publishing.publication_list(user=request.user, filters=request.query_params))
        return self.get_paginated_response(PublicationSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Publish a lane's plans",
        description="API-GOV-13 / GOV-63: PUB (an `override` needs APPR and a justification of at least 20 "
        "characters); the actor must have no object scope. The gates are evaluated afresh in the publish "
        "transaction: No-Go is 409 PUBLISH_GATE_FAILED with the evaluation in `context` (the evaluation is kept); "
        "a stale `evaluation_id` is 409 STALE_EVALUATION; no approved or locked row is 409 "
        "BUSINESS_RULE_VIOLATION.",
        request=PublishInputSerializer,
        responses={201: PublicationDetailSerializer, **error_responses(*WRITE_ERRORS, 409)},
    )
    def post(self, request):
        require_perm(request.user, gperms.ADD_PUBLICATION)
        data = validated_body(PublishInputSerializer, request.data)
        override = data.get("override")
        if override is not None:
            require_perm(request.user, gperms.OVERRIDE_PUBLICATION)
        cycle = None
        if "sop_cycle_id" in data:
            try:
                cycle = selectors.sop_cycle_get(user=request.user, pk=data["sop_cycle_id"])
            except NotFound:
                raise ValidationFailed(fields={"sop_cycle_id": ["Unknown S&OP cycle."]}) from None
        publication = publishing.publication_publish(
            actor=request.user, lane=data["lane"], period_from=data.get("period_from"),
            period_to=data.get("period_to"), sop_cycle=cycle, evaluation_id=data.get("evaluation_id"),
            override_justification=override["justification"] if override is not None else None,
        )  # fmt: skip
        publication = publishing.publication_get(user=request.user, pk=publication.pk)
        body = PublicationDetailSerializer(publication, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


_INCLUDE_ITEMS = OpenApiParameter("include_items", OpenApiTypes.BOOL, description="Add the items (default false).")


class PublicationDetailView(_Base):
    serializer_class = PublicationDetailSerializer

    @extend_schema(
        summary="A publication with its evaluation (and items)",
        description="API-GOV-14.",
        parameters=[ID_PARAMETER, _INCLUDE_ITEMS],
        responses={200: PublicationDetailSerializer, **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        publication = publishing.publication_get(user=request.user, pk=pk)
        include = _flag(request.query_params.get("include_items"), "include_items")
        context = {"request": request, "include_items": include}
        return Response(PublicationDetailSerializer(publication, context=context).data)


def _flag(value, name: str) -> bool:
    if value is None or value == "":
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValidationFailed(fields={name: ["Use true or false."]}, code="INVALID_PARAMETER")


class PublicationDiffView(_Base):
    serializer_class = PublicationDiffSerializer
    pagination_class = None  # every change in one plain list

    @extend_schema(
        summary="What changed between two publications",
        description="API-GOV-15 / GOV-65: one entry per changed (plan, field); `against` defaults to the "
        "publication this one superseded.",
        parameters=[ID_PARAMETER, OpenApiParameter("against", OpenApiTypes.INT, description="Publication id.")],
        responses={200: PublicationDiffSerializer(many=True), **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        publication = publishing.publication_get(user=request.user, pk=pk)
        against = None
        if request.query_params.get("against"):
            try:
                against = publishing.publication_get(user=request.user, pk=request.query_params["against"])
            except NotFound:
                raise ValidationFailed(fields={"against": ["Unknown publication."]}, code="INVALID_PARAMETER") from None
        changes = publishing.publication_diff(publication, against)
        return Response(PublicationDiffSerializer(changes, many=True).data)


class PublicationRollbackView(_Base):
    serializer_class = RollbackResponseSerializer

    @extend_schema(
        summary="Roll back the current publication of a lane",
        description="API-GOV-16 / GOV-66: APPR, reason of at least 10 characters. The publication it superseded "
        "is published again and its values restored as new plan versions; rows only in the rolled-back one are "
        "released to approved. A publication that is not its lane's current one is 409.",
        parameters=[ID_PARAMETER],
        request=RollbackInputSerializer,
        responses={200: RollbackResponseSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        require_perm(request.user, gperms.ROLLBACK_PUBLICATION)
        publication = publishing.publication_get(user=request.user, pk=pk)
        data = validated_body(RollbackInputSerializer, request.data)
        result = publishing.publication_rollback(actor=request.user, publication=publication, reason=data["reason"])
        return Response(RollbackResponseSerializer(result, context={"request": request}).data)


class _FileDownload(DefaultContentNegotiation):
    """A download answers whatever the client accepts; `format` picks the file type, not a renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


ITEM_COLUMNS = ["version_stamp", "plan_type", "plan_id", "plan_version", "sku", "product_name", "period", "region",
                "channel", "location", "status_before_lock", "forecast_qty", "adjusted_qty", "consensus_qty",
                "demand_qty", "confidence", "planned_prod_qty", "capacity_max", "capacity_used", "supplier_name",
                "lead_time_days", "cost_per_unit", "notes", "constraints"]  # fmt: skip


def publication_item_rows(publication):
    """The rows of the items export (API-GOV-19, UI-12 Download items)."""
    for item in publishing.publication_items(publication):
        values = item.values or {}
        fixed = {
            "version_stamp": publication.version_stamp, "plan_type": item.plan_type, "plan_id": item.plan_id,
            "plan_version": item.plan_version, "sku": item.product.sku, "product_name": item.product.name,
            "period": item.period, "region": item.region, "channel": item.channel,
            "location": item.location.code if item.location_id else "", "status_before_lock": values.get("status"),
        }  # fmt: skip
        yield [fixed[c] if c in fixed else values.get(c) for c in ITEM_COLUMNS]


def publication_export_response(publication, fmt: str):
    from planning.fileio.exports import export_format
    from planning.fileio.writer import file_response

    fmt = export_format(fmt)
    name = f"publication_{publication.version_stamp}.{fmt}"
    return file_response(dataset="publication_items", fmt=fmt, header=ITEM_COLUMNS,
                         rows=publication_item_rows(publication), name=name)  # fmt: skip


class PublicationExportView(_Base):
    content_negotiation_class = _FileDownload

    @extend_schema(
        summary="Download the items of a publication",
        description=f"API-GOV-19: CSV (default) or XLSX with the columns {', '.join(ITEM_COLUMNS)}.",
        parameters=[ID_PARAMETER, OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"])],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
                   (200, XLSX_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
                   **error_responses(400, *READ_ERRORS, 404)},
    )  # fmt: skip
    def get(self, request, pk):
        publication = publishing.publication_get(user=request.user, pk=pk)
        return publication_export_response(publication, request.query_params.get("format"))
