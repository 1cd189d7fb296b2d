"""The audit log API (API-GOV-30…32, 35, GOV-34): search, one event, an entity's history, export, chain check."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.pagination import EnvelopePagination
from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, error_responses
from genxsop.api.validation import validated_query
from genxsop.downloads import attachment
from genxsop.errors import ValidationFailed
from governance import selectors
from governance.choices import Source
from governance.filtersets import AuditEventFilterSet
from governance.permissions import EXPORT_AUDIT_EVENT, VERIFY_AUDIT_EVENT, VIEW_AUDIT_EVENT
from governance.services import audit_log


class AuditEventSerializer(serializers.Serializer):
    """GOV-07 fields, plus the row's place in the hash chain."""

    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor_type = serializers.CharField()
    actor_name = serializers.CharField()
    api_token_id = serializers.IntegerField(allow_null=True)
    api_token_prefix = serializers.CharField()
    source = serializers.CharField()
    request_id = serializers.CharField()
    ip_address = serializers.CharField()
    user_agent = serializers.CharField()
    event_type = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target_repr = serializers.CharField()
    related_type = serializers.CharField()
    related_id = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    changed_fields = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()
    metadata = serializers.JSONField()
    chain_seq = serializers.IntegerField(allow_null=True)
    chain_hash = serializers.CharField()


_PAGE = [
    OpenApiParameter("page", int, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("page_size", int, OpenApiParameter.QUERY, required=False),
]
_FILTERS = [
    OpenApiParameter("target_type", str, OpenApiParameter.QUERY, required=False, description="Alias `entity_type`."),
    OpenApiParameter("target_id", str, OpenApiParameter.QUERY, required=False, description="Alias `entity_id`."),
    OpenApiParameter("actor_id", int, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("actor", str, OpenApiParameter.QUERY, required=False, description="Actor e-mail contains."),
    OpenApiParameter("event_type", str, OpenApiParameter.QUERY, required=False,
                     description="Prefix match, e.g. `planning.demand_plan`; alias `action`."),
    OpenApiParameter("source", str, OpenApiParameter.QUERY, required=False, enum=Source.values),
    OpenApiParameter("request_id", str, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("from", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=False,
                     description="Occurred at or after (a date means its start)."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=False,
                     description="Occurred at or before (a date means its end)."),
]  # fmt: skip


class _AuditView(APIView):
    """First layer: the view's `permission` (services and selectors check again)."""

    permission = VIEW_AUDIT_EVENT

    def get_permissions(self):
        return [IsAuthenticatedWithTokenScope()]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.permission and not request.user.has_perm(self.permission):
            raise exceptions.PermissionDenied()


def _paginated(view, queryset) -> Response:
    paginator = EnvelopePagination()
    page = paginator.paginate_queryset(queryset, view.request, view)
    return paginator.get_paginated_response(AuditEventSerializer(page, many=True).data)


class AuditLogListView(_AuditView):
    filterset_class = AuditEventFilterSet
    pagination_class = EnvelopePagination  # tells the schema that the list comes in the paginated envelope

    @extend_schema(
        summary="Search the audit log",
        description="API-GOV-30: every audit event, newest first (EXEC_C).",
        parameters=[*_FILTERS, *_PAGE],
        responses={200: AuditEventSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        return _paginated(self, selectors.audit_event_list(user=request.user, filters=request.query_params))


class AuditLogDetailView(_AuditView):
    @extend_schema(
        summary="One audit event",
        description="API-GOV-31 (EXEC_C).",
        parameters=[ID_PARAMETER],
        responses={200: AuditEventSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, pk: int):
        return Response(AuditEventSerializer(selectors.audit_event_get(user=request.user, pk=pk)).data)


class AuditEntityView(_AuditView):
    permission = None  # whoever can read the entity (checked by the selector)
    pagination_class = EnvelopePagination  # tells the schema that the list comes in the paginated envelope

    @extend_schema(
        summary="History of one entity",
        description="API-GOV-32: the entity's events and those of its children, newest first; 404 when the "
        "entity does not exist or the caller may not read it.",
        parameters=[
            OpenApiParameter("entity_type", str, OpenApiParameter.PATH, description="e.g. product, demand_plan"),
            OpenApiParameter("entity_id", str, OpenApiParameter.PATH),
            *_PAGE,
        ],
        responses={200: AuditEventSerializer(many=True), **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request, entity_type: str, entity_id: str):
        events = selectors.audit_entity_events(user=request.user, entity_type=entity_type, entity_id=entity_id)
        return _paginated(self, events)


class _FormatIsAQueryParameter(DefaultContentNegotiation):
    """`?format=csv|jsonl` names the file format here, not a DRF renderer; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


_FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The file, CSV or JSON Lines as `format` asks.")
_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


class AuditExportView(_AuditView):
    permission = EXPORT_AUDIT_EVENT
    content_negotiation_class = _FormatIsAQueryParameter

    @extend_schema(
        summary="Export the audit log",
        description="API-GOV-35 (ADMIN): the filtered log, oldest first, streamed as CSV or JSON Lines. The "
        "export is itself audited (`governance.audit_log.exported`, with the filters and the row count). JSON "
        "Lines carries the exact stored values (CSV prefixes text beginning with = + - @ with a quote).",
        parameters=[
            OpenApiParameter("format", str, OpenApiParameter.QUERY, enum=list(audit_log.EXPORT_FORMATS),
                             description="File format (default csv)."),
            *_FILTERS,
        ],
        responses={(200, "text/csv"): _FILE, (200, "application/x-ndjson"): _FILE,
                   **error_responses(400, *READ_ERRORS)},
    )  # fmt: skip
    def get(self, request):
        fmt = request.query_params.get("format") or "csv"
        if fmt not in audit_log.EXPORT_FORMATS:
            raise ValidationFailed("Invalid query parameter.", fields={"format": ["Must be csv or jsonl."]},
                                   code="INVALID_PARAMETER")  # fmt: skip
        filters = {k: v for k, v in request.query_params.items() if k not in ("format", "page", "page_size")}
        queryset, _ = audit_log.audit_log_export(actor=request.user, filters=filters, fmt=fmt)
        response = StreamingHttpResponse(audit_log.export_lines(queryset.order_by("occurred_at", "id"), fmt),
                                         content_type=_CONTENT_TYPES[fmt])  # fmt: skip
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return attachment(response, f"audit_log_{stamp}.{fmt}")


class ChainVerifyQuerySerializer(serializers.Serializer):
    from_seq = serializers.IntegerField(min_value=1, required=False, default=1)


ChainVerificationSerializer = inline_serializer(
    "AuditChainVerification",
    {
        "ok": serializers.BooleanField(),
        "rows_checked": serializers.IntegerField(),
        "first_seq": serializers.IntegerField(allow_null=True),
        "last_seq": serializers.IntegerField(allow_null=True),
        "head_seq": serializers.IntegerField(help_text="Where the chain head says the log ends."),
        "triggers": serializers.BooleanField(help_text="The append-only triggers exist and are enabled."),
        "first_problem": inline_serializer(
            "AuditChainProblem",
            {
                "kind": serializers.CharField(help_text="changed | inserted | deleted"),
                "message": serializers.CharField(),
                "row_id": serializers.IntegerField(allow_null=True),
                "seq": serializers.IntegerField(allow_null=True),
            },
            allow_null=True,
        ),
    },
)


class AuditChainVerifyView(_AuditView):
    permission = VERIFY_AUDIT_EVENT

    @extend_schema(
        summary="Verify the audit hash chain",
        description="ADMIN. Recomputes the chain (ADR 0015) and names the first changed, inserted or deleted row; "
        "the verification is audited (`governance.audit_chain.verified`). A long log takes a while: pass "
        "`from_seq` to start after a point already verified.",
        parameters=[ChainVerifyQuerySerializer],
        responses={200: ChainVerificationSerializer, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        query = validated_query(ChainVerifyQuerySerializer, request)
        result = audit_log.audit_chain_verify(actor=request.user, from_seq=query["from_seq"])
        return Response(result.as_dict())
