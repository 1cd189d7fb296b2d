"""Consensus, promotion and anomaly API (API-FC-23…35, 37): thin adapters over forecasting selectors and services."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasting import permissions as perms
from forecasting.api import consensus_serializers as s
from forecasting.selectors import anomalies as anomaly_selectors
from forecasting.selectors import consensus as selectors
from forecasting.series import SeriesKey
from forecasting.services import anomalies as anomaly_services
from forecasting.services import consensus as services
from forecasting.services.promotion import forecast_promote
from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import (
    ID_PARAMETER,
    IF_MATCH_PARAMETER,
    READ_ERRORS,
    ROW_LIMITED_LIST_ERRORS,
    WRITE_ERRORS,
    error_responses,
)
from genxsop.api.validation import validated_body
from genxsop.api.viewsets import ServiceViewSet, VersionedRowMixin
from genxsop.errors import NotFound, ValidationFailed
from genxsop.row_limits import list_max_rows
from governance import audit
from planning.fileio.exports import ExportTarget, export_format
from planning.fileio.writer import CONTENT_TYPES, file_name, file_response
from planning.selectors import product_get

_TRANSITION = {200: s.ConsensusSerializer, **error_responses(*READ_ERRORS, 400, 404, 409)}
_ID = [ID_PARAMETER, IF_MATCH_PARAMETER]
_LIST_PARAMETERS = [
    OpenApiParameter("product_id", OpenApiTypes.INT),
    OpenApiParameter("region", OpenApiTypes.STR),
    OpenApiParameter("channel", OpenApiTypes.STR),
    OpenApiParameter("forecast_run_audit_id", OpenApiTypes.INT),
    OpenApiParameter("status", OpenApiTypes.STR, description="Comma-separated statuses."),
    OpenApiParameter("period_from", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD."),
    OpenApiParameter("period_to", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD."),
    OpenApiParameter("include_history", OpenApiTypes.BOOL, description="Also list history rows (false)."),
]
CONSENSUS_EXPORTED = "forecasting.consensus.exported"


def _product(user, pk):
    try:
        return product_get(user=user, pk=pk)
    except NotFound:
        raise ValidationFailed(fields={"product_id": ["Product not found."]}) from None


@extend_schema_view(
    list=extend_schema(
        summary="List consensus rows",
        description="Current rows in the caller's scope (`include_history=true` adds history rows), ordered by "
        "period ascending, version descending, as a plain array. More than 10,000 matching rows is 400: narrow "
        "the filters (the export has no such limit).",
        parameters=_LIST_PARAMETERS,
        responses={200: s.ConsensusSerializer(many=True), **ROW_LIMITED_LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a consensus row", description='Carries `ETag: W/"<version>"` (WF-05).',
        parameters=[ID_PARAMETER], responses={200: s.ConsensusSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    versions=extend_schema(
        summary="Versions of a consensus row", parameters=[ID_PARAMETER],
        description="Every version, newest first, with `changed_fields` relative to the previous one.",
        responses={200: s.ConsensusVersionSerializer(many=True), **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a consensus row on a run",
        description="WF-20 create: draft (or proposed) at version 1; `baseline_qty` defaults to the run's "
        "prediction; pre and final quantities follow FRM-28. Unknown run is 404; a product, series or period "
        "other than the run's is 400; an existing current row for (run, period) is 409 DUPLICATE_ENTITY.",
        request=s.ConsensusCreateInputSerializer,
        responses={201: s.ConsensusSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    partial_update=extend_schema(
        summary="Edit a consensus row",
        description="Quantities and notes make a new version (history row, version + 1) and return a proposed row "
        "to draft. `status: proposed` proposes and `status: draft` withdraws a proposed row (WF-20 shorthand); "
        "approved, frozen or superseded in the body are 400; editing an approved, frozen or superseded row is "
        "409 INVALID_STATE_TRANSITION.",
        parameters=_ID, request=s.ConsensusUpdateInputSerializer,
        responses={200: s.ConsensusSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    destroy=extend_schema(
        summary="Delete a draft consensus row", description="Deletes the live row and its history rows.",
        parameters=_ID, responses={204: None, **error_responses(*READ_ERRORS, 404, 409)},
    ),
    propose=extend_schema(summary="Propose a draft consensus row", parameters=_ID,
                          request=s.ConsensusActionInputSerializer, responses=_TRANSITION),
    return_=extend_schema(summary="Return a proposed consensus row to draft", parameters=_ID,
                          description="The comment is required and kept as a `return` comment.",
                          request=s.ConsensusReturnInputSerializer, responses=_TRANSITION),
    approve=extend_schema(
        summary="Approve a proposed consensus row",
        description="Pushes the final quantity into demand plans (FC-32) as new plan versions (source `consensus`); "
        "submitted target rows are withdrawn to draft first. An approved or locked target is 409 ENTITY_LOCKED "
        "listing the plans, and nothing is written. The proposer cannot approve (403 SELF_APPROVAL_FORBIDDEN). "
        "Any other approved or frozen consensus of the series-period becomes superseded.",
        parameters=_ID, request=s.ConsensusApproveInputSerializer,
        responses={**_TRANSITION, **error_responses(403)},
    ),
)  # fmt: skip
class ConsensusViewSet(VersionedRowMixin, ServiceViewSet):
    """Consensus rows (FC-03) and their lifecycle (WF-20)."""

    list_selector = staticmethod(selectors.consensus_list)
    get_selector = staticmethod(selectors.consensus_get)
    serializer_class = s.ConsensusSerializer
    filterset_class = selectors.ConsensusFilterSet
    pagination_class = None
    action_permissions = {
        "list": perms.VIEW_CONSENSUS, "retrieve": perms.VIEW_CONSENSUS, "versions": perms.VIEW_CONSENSUS,
        "create": perms.ADD_CONSENSUS, "partial_update": perms.CHANGE_CONSENSUS, "destroy": perms.DELETE_CONSENSUS,
        "propose": perms.PROPOSE_CONSENSUS, "return_": perms.APPROVE_CONSENSUS, "approve": perms.APPROVE_CONSENSUS,
    }  # fmt: skip

    def list(self, request):
        rows = selectors.consensus_list(user=request.user, filters=request.query_params, limit=list_max_rows())
        return Response(self.get_serializer(rows, many=True).data)

    def _reload(self, row, status_code=status.HTTP_200_OK) -> Response:
        return self._render(self.get_selector(user=self.request.user, pk=row.pk), status_code)

    def create(self, request):
        data = validated_body(s.ConsensusCreateInputSerializer, request.data)
        row = services.consensus_create(actor=request.user, data=data)
        return self._reload(row, status.HTTP_201_CREATED)

    def partial_update(self, request, pk):
        row = self.get_object()
        data = validated_body(s.ConsensusUpdateInputSerializer, request.data)
        expected = self._expected_version(data)
        row = services.consensus_update(actor=request.user, consensus=row, data=data, expected_version=expected)
        return self._reload(row)

    def destroy(self, request, pk):
        row = self.get_object()
        services.consensus_delete(actor=request.user, consensus=row, expected_version=self._expected_version({}))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["get"])
    def versions(self, request, pk):
        return Response(s.ConsensusVersionSerializer(selectors.consensus_versions(user=request.user, pk=pk),
                                                     many=True).data)  # fmt: skip

    def _transition(self, serializer_class, service, text_field: str) -> Response:
        row = self.get_object()
        data = validated_body(serializer_class, self.request.data or {})
        expected = self._expected_version(data)
        text = {text_field: data.get(text_field, "")}
        return self._reload(service(actor=self.request.user, consensus=row, expected_version=expected, **text))

    @action(detail=True, methods=["post"])
    def propose(self, request, pk):
        return self._transition(s.ConsensusActionInputSerializer, services.consensus_propose, "comment")

    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk):
        return self._transition(s.ConsensusReturnInputSerializer, services.consensus_return, "comment")

    @action(detail=True, methods=["post"])
    def approve(self, request, pk):
        return self._transition(s.ConsensusApproveInputSerializer, services.consensus_approve, "notes")


class _FormatIsAQueryParameter(DefaultContentNegotiation):
    """`?format=csv|xlsx` names the file format, not a DRF renderer; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


_FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The file, CSV or XLSX as `format` asks.")
EXPORT_COLUMNS = [
    ("id", "pk"), ("forecast_run_id", "forecast_run_id"), ("product_id", "product_id"), ("sku", "product.sku"),
    ("product_name", "product.name"), ("region", "region"), ("channel", "channel"), ("period", "period"),
    ("baseline_qty", "baseline_qty"), ("sales_override_qty", "sales_override_qty"),
    ("marketing_uplift_qty", "marketing_uplift_qty"), ("finance_adjustment_qty", "finance_adjustment_qty"),
    ("constraint_cap_qty", "constraint_cap_qty"), ("pre_consensus_qty", "pre_consensus_qty"),
    ("final_consensus_qty", "final_consensus_qty"), ("status", "status"), ("version", "version"),
    ("is_current", "is_current"), ("notes", "notes"), ("proposed_at", "proposed_at"),
    ("approved_at", "approved_at"), ("frozen_at", "frozen_at"), ("updated_at", "updated_at"),
]  # fmt: skip


def _read(row, path: str):
    for part in path.split("."):
        row = getattr(row, part)
    return row


class ConsensusExportView(APIView):
    permission_classes = [HasActionPermission]
    content_negotiation_class = _FormatIsAQueryParameter
    action = "export"
    action_permissions = {"export": perms.VIEW_CONSENSUS}

    @extend_schema(
        operation_id="forecasting_consensus_export",
        summary="Export consensus rows",
        description="The consensus list for the same filters and the caller's scope, as CSV or XLSX (INT-21); text "
        "cells beginning with = + - @ get a leading single quote (INT-23). Audited with the filters and row count.",
        parameters=[OpenApiParameter("format", str, enum=["csv", "xlsx"], description="File format (default csv)."),
                    *_LIST_PARAMETERS],
        responses={(200, CONTENT_TYPES["csv"].split(";")[0]): _FILE, (200, CONTENT_TYPES["xlsx"]): _FILE,
                   **error_responses(400, *READ_ERRORS)},
    )  # fmt: skip
    def get(self, request):
        fmt = export_format(request.query_params.get("format"))
        params = {k: v for k, v in request.query_params.items() if k not in ("format", "page", "page_size")}
        rows = selectors.consensus_list(user=request.user, filters=params)
        count = rows.count()
        name = file_name("forecast_consensus", fmt)
        with transaction.atomic():
            audit.record(actor=request.user, event_type=CONSENSUS_EXPORTED, target=ExportTarget("forecast_consensus"),
                         target_type="export", message=f"Consensus exported as {fmt.upper()} ({count} rows).",
                         metadata={"dataset": "forecast_consensus", "format": fmt, "filters": params,
                                   "row_count": count, "file_name": name})  # fmt: skip
        body = ([_read(row, path) for _, path in EXPORT_COLUMNS] for row in rows.iterator(chunk_size=2000))
        return file_response(dataset="forecast_consensus", fmt=fmt, header=[c for c, _ in EXPORT_COLUMNS], rows=body,
                             name=name)  # fmt: skip


class PromoteView(APIView):
    permission_classes = [HasActionPermission]
    action = "promote"
    action_permissions = {"promote": perms.PROMOTE}

    @extend_schema(
        operation_id="forecasting_promote",
        summary="Promote forecast results into demand plans",
        description="FC-33: the run `run_id`, or the latest non-discarded run of the series whose model is "
        "`selected_model`, writes its first `horizon` periods into demand plans as new versions (source "
        "`promotion`): `forecast_qty`, `confidence` and, with `set_consensus`, `consensus_qty`; product totals "
        "are split across detail rows by FRM-29. Submitted, approved and locked rows are never changed and are "
        "listed in `skipped`; missing rows are created as drafts. 404 when there are no results for the model.",
        request=s.PromoteInputSerializer,
        responses={200: s.PromoteResponseSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request):
        data = validated_body(s.PromoteInputSerializer, request.data)
        product = _product(request.user, data.pop("product_id"))
        return Response(s.PromoteResponseSerializer(forecast_promote(actor=request.user, product=product, **data)).data)


class AnomalyDetectView(APIView):
    permission_classes = [HasActionPermission]
    action = "detect"
    action_permissions = {"detect": perms.DETECT_ANOMALIES}

    @extend_schema(
        operation_id="forecasting_anomalies_detect",
        summary="Detect anomalies in a series' actuals",
        description="FC-56 on the raw actuals: `zscore` (default; population sigma, at least 6 points, |z| > "
        "threshold, default 2.5; high when |z| > 3.5) or `iqr` (linear-interpolation quartiles, outside "
        "[Q1 - k*IQR, Q3 + k*IQR], k default 1.5; high beyond 3*IQR). Results are upserted (WF-22: open and "
        "acknowledged rows are refreshed, dismissed ones never reopen) and returned.",
        request=s.AnomalyDetectInputSerializer,
        responses={200: s.AnomalyDetectedSerializer(many=True), **error_responses(*WRITE_ERRORS, 404)},
    )
    def post(self, request):
        data = validated_body(s.AnomalyDetectInputSerializer, request.data)
        product = _product(request.user, data["product_id"])
        key = SeriesKey(product.pk, (data.get("region") or "").strip() or "Global",
                        (data.get("channel") or "").strip() or "All")  # fmt: skip
        rows = anomaly_services.anomalies_detect(actor=request.user, key=key, method=data["method"],
                                                 threshold=data.get("threshold"))  # fmt: skip
        return Response(s.AnomalyDetectedSerializer(rows, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="List anomalies",
        description="Paginated, newest period first; `status` and `severity` take comma-separated values.",
        parameters=[OpenApiParameter("product_id", OpenApiTypes.INT),
                    OpenApiParameter("status", OpenApiTypes.STR), OpenApiParameter("severity", OpenApiTypes.STR),
                    OpenApiParameter("period_from", OpenApiTypes.STR), OpenApiParameter("period_to", OpenApiTypes.STR)],
        responses={200: s.AnomalySerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    partial_update=extend_schema(
        summary="Triage an anomaly",
        description="WF-22: `acknowledged` (from open), `corrected` (from open or acknowledged; `corrected_value` "
        ">= 0 required), `dismissed` (from open or acknowledged; `notes` required), `open` (reopen, from corrected "
        "or dismissed). Other moves are 409 INVALID_STATE_TRANSITION.",
        parameters=[ID_PARAMETER], request=s.AnomalyUpdateInputSerializer,
        responses={200: s.AnomalySerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
)  # fmt: skip
class AnomalyViewSet(ServiceViewSet):
    """Detected anomalies (FC-05) and their triage (WF-22)."""

    list_selector = staticmethod(anomaly_selectors.anomaly_list)
    get_selector = staticmethod(anomaly_selectors.anomaly_get)
    serializer_class = s.AnomalySerializer
    filterset_class = anomaly_selectors.AnomalyFilterSet
    action_permissions = {"list": perms.VIEW_ANOMALY, "partial_update": perms.TRIAGE_ANOMALY}

    def partial_update(self, request, pk):
        row = self.get_object()
        data = validated_body(s.AnomalyUpdateInputSerializer, request.data)
        anomaly_services.anomaly_transition(actor=request.user, anomaly=row, status=data["status"],
                                            corrected_value=data.get("corrected_value"),
                                            notes=data.get("notes", ""))  # fmt: skip
        return self._render(self.get_selector(user=request.user, pk=row.pk))
