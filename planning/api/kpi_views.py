"""KPI API (API-KPI-01…14): thin adapters over planning.selectors.kpis and planning.services.kpis.
Every role reads (ACC-06); EXEC records manual values, targets and definitions; EXEC_C refreshes.
The role gate answers 403 before any body is read."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.pagination import EnvelopePagination
from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import READ_ERRORS, WRITE_ERRORS, XLSX_MEDIA_TYPE, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.readcache import cached
from planning import permissions as perms
from planning.api.scenario_views import _FileDownload
from planning.api.serializers import PeriodField
from planning.choices import KpiCategory, KpiDirection, KpiSource, KpiStatus, KpiTrend
from planning.selectors import kpis as sel
from planning.services import kpis as svc


def _one_of(choices) -> str:
    return "One of " + ", ".join(choices.values) + "."


_CATEGORIES, _DIRECTIONS, _TRENDS = _one_of(KpiCategory), _one_of(KpiDirection), _one_of(KpiTrend)
_STATUSES, _SOURCES = _one_of(KpiStatus), _one_of(KpiSource)
_D4 = {"max_digits": 16, "decimal_places": 4, "allow_null": True}
_IN = {"max_digits": 16, "decimal_places": 4, "required": False, "allow_null": True,
       "coerce_to_string": False}  # fmt: skip


class KpiMetricSerializer(serializers.Serializer):
    """PLN-13 plus the definition's name, direction and range, and the FRM-36 achievement."""

    id = serializers.IntegerField()
    metric_name = serializers.CharField(help_text="The KPI definition code.")
    name = serializers.CharField(help_text="The definition's display name.")
    metric_category = serializers.CharField(help_text=_CATEGORIES)
    period = serializers.DateField()
    value = serializers.DecimalField(max_digits=16, decimal_places=4)
    unit = serializers.CharField()
    direction = serializers.CharField(help_text=_DIRECTIONS)
    target = serializers.DecimalField(**_D4)
    target_low = serializers.DecimalField(**_D4)
    target_high = serializers.DecimalField(**_D4)
    previous_value = serializers.DecimalField(**_D4)
    variance = serializers.DecimalField(**_D4)
    variance_pct = serializers.DecimalField(**_D4)
    trend = serializers.CharField(allow_null=True, help_text=_TRENDS)
    status = serializers.CharField(help_text=_STATUSES)
    achievement_pct = serializers.DecimalField(**_D4, help_text="FRM-36 achievement bar (null without target).")
    source = serializers.CharField(help_text=_SOURCES)
    inputs = serializers.DictField(help_text="Numerator, denominator and counts of a computed value.")
    computed_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _rep(row, definitions=None) -> dict:
    return KpiMetricSerializer(sel.kpi_representation(row, definitions or sel.kpi_definitions_by_code())).data


def _reps(rows) -> list[dict]:
    definitions = sel.kpi_definitions_by_code()
    return [_rep(r, definitions) for r in rows]


class KpiDefinitionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField(help_text=_CATEGORIES)
    unit = serializers.CharField()
    direction = serializers.CharField(help_text=_DIRECTIONS)
    target = serializers.DecimalField(**_D4)
    target_low = serializers.DecimalField(**_D4)
    target_high = serializers.DecimalField(**_D4)
    warning_threshold_pct = serializers.DecimalField(max_digits=6, decimal_places=2)
    critical_threshold_pct = serializers.DecimalField(max_digits=6, decimal_places=2)
    is_computed = serializers.BooleanField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()


class KpiMetricCreateInputSerializer(serializers.Serializer):
    metric_name = serializers.SlugField(max_length=100)
    metric_category = serializers.CharField(required=False, help_text=f"{_CATEGORIES} Required for a name not in "
                                            "the catalogue.")  # fmt: skip
    period = PeriodField()
    value = serializers.DecimalField(max_digits=16, decimal_places=4, coerce_to_string=False)
    target = serializers.DecimalField(**_IN)
    previous_value = serializers.DecimalField(**_IN)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    direction = serializers.CharField(required=False, help_text=f"{_DIRECTIONS} For a new custom KPI; default "
                                      "higher_is_better.")  # fmt: skip


class KpiMetricUpdateInputSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=16, decimal_places=4, required=False, coerce_to_string=False)
    target = serializers.DecimalField(**_IN)
    previous_value = serializers.DecimalField(**_IN)


class KpiTargetInputSerializer(serializers.Serializer):
    metric_name = serializers.CharField(max_length=100)
    target = serializers.DecimalField(**_IN)
    target_low = serializers.DecimalField(**_IN)
    target_high = serializers.DecimalField(**_IN)
    apply_to_history = serializers.BooleanField(default=False)


class KpiDefinitionUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    target = serializers.DecimalField(**_IN)
    target_low = serializers.DecimalField(**_IN)
    target_high = serializers.DecimalField(**_IN)
    warning_threshold_pct = serializers.DecimalField(max_digits=6, decimal_places=2, required=False,
                                                     coerce_to_string=False)  # fmt: skip
    critical_threshold_pct = serializers.DecimalField(max_digits=6, decimal_places=2, required=False,
                                                      coerce_to_string=False)  # fmt: skip
    direction = serializers.CharField(required=False, help_text=f"{_DIRECTIONS} Custom KPIs only.")


class KpiRefreshInputSerializer(serializers.Serializer):
    period_from = PeriodField(required=False, allow_null=True)
    period_to = PeriodField(required=False, allow_null=True)


class KpiRefreshSerializer(serializers.Serializer):
    periods = serializers.ListField(child=serializers.DateField())
    kpis_written = serializers.IntegerField()


class KpiRefreshQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status = serializers.CharField(help_text="Always `queued`.")
    periods = serializers.ListField(child=serializers.DateField())


class KpiDashboardSerializer(serializers.Serializer):
    demand_kpis = KpiMetricSerializer(many=True)
    supply_kpis = KpiMetricSerializer(many=True)
    inventory_kpis = KpiMetricSerializer(many=True)
    service_kpis = KpiMetricSerializer(many=True)
    financial_kpis = KpiMetricSerializer(many=True)


class KpiAlertSerializer(serializers.Serializer):
    metric_name = serializers.CharField()
    category = serializers.CharField(help_text=_CATEGORIES)
    value = serializers.DecimalField(max_digits=16, decimal_places=4)
    target = serializers.DecimalField(**_D4)
    variance_pct = serializers.DecimalField(**_D4)
    severity = serializers.CharField(help_text="warning or critical.")
    period = serializers.DateField()
    direction = serializers.CharField(help_text=_DIRECTIONS)


class _CategoryCounts(serializers.Serializer):
    category = serializers.CharField(help_text=_CATEGORIES)
    on_target = serializers.IntegerField()
    warning = serializers.IntegerField()
    critical = serializers.IntegerField()
    no_target = serializers.IntegerField()


class KpiSummarySerializer(serializers.Serializer):
    period = serializers.DateField(allow_null=True, help_text="The latest period with KPI values.")
    by_category = _CategoryCounts(many=True)
    worst = KpiMetricSerializer(many=True, help_text="The three KPIs with the largest adverse deviation.")


class _TrendPoint(serializers.Serializer):
    period = serializers.DateField()
    value = serializers.DecimalField(max_digits=16, decimal_places=4)
    target = serializers.DecimalField(**_D4)
    status = serializers.CharField(help_text=_STATUSES)


class _TrendSeries(serializers.Serializer):
    metric_name = serializers.CharField()
    points = _TrendPoint(many=True)


class KpiTrendsSerializer(serializers.Serializer):
    series = _TrendSeries(many=True)


class KpiTrendsQuerySerializer(serializers.Serializer):
    months = serializers.IntegerField(min_value=1, max_value=60, default=12)


class _KpiView(APIView):
    """Gated per HTTP method by `method_permissions` (the first layer; services check again)."""

    permission_classes = [HasActionPermission]
    method_permissions: dict[str, str] = {}

    @property
    def action(self) -> str:
        return self.request.method.lower() if getattr(self, "request", None) else "get"

    @property
    def action_permissions(self) -> dict[str, str]:
        return self.method_permissions


_READ = {"get": perms.VIEW_KPI_METRIC}
_LIST_PARAMETERS = [
    OpenApiParameter("category", OpenApiTypes.STR, description="demand, supply, inventory, service, financial; "
                     "comma-separated (alias `kpi_type`)."),
    OpenApiParameter("kpi_type", OpenApiTypes.STR, description="Alias of `category`."),
    OpenApiParameter("metric_name", OpenApiTypes.STR, description="KPI codes, comma-separated."),
    OpenApiParameter("source", OpenApiTypes.STR, description="computed, manual, import; comma-separated."),
    OpenApiParameter("period_from", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD (alias `period_start`)."),
    OpenApiParameter("period_to", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD (alias `period_end`)."),
    OpenApiParameter("period_start", OpenApiTypes.STR, description="Alias of `period_from`."),
    OpenApiParameter("period_end", OpenApiTypes.STR, description="Alias of `period_to`."),
    OpenApiParameter("ordering", OpenApiTypes.STR, description="Comma-separated from period, metric_name, "
                     "metric_category, value, status, source, updated_at, id (`-` descending); default -period."),
]  # fmt: skip
_METRIC_ID = OpenApiParameter("metric_id", OpenApiTypes.INT, OpenApiParameter.PATH)
_CODE = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The KPI code.")


class KpiMetricListView(_KpiView):
    method_permissions = {**_READ, "post": perms.ADD_KPI_METRIC}
    pagination_class = EnvelopePagination

    @extend_schema(
        summary="List KPI values",
        description="Newest period first (API-KPI-01), paginated.",
        parameters=_LIST_PARAMETERS,
        responses={200: KpiMetricSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        rows = sel.kpi_metric_list(user=request.user, filters=request.query_params)
        paginator = EnvelopePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(_reps(page))

    @extend_schema(
        summary="Record a manual KPI value",
        description='API-KPI-02: a KPI computed from data is 400 ("computed from data"); a value already recorded '
        "for the name and period is 409 DUPLICATE_ENTITY. An unknown name creates a custom manual KPI with the given "
        "category, unit and direction (default higher_is_better). Variance, trend and status follow FRM-36.",
        request=KpiMetricCreateInputSerializer,
        responses={201: KpiMetricSerializer, **error_responses(*WRITE_ERRORS, 409)},
    )
    def post(self, request):
        data = validated_body(KpiMetricCreateInputSerializer, request.data)
        row = svc.kpi_metric_create(actor=request.user, data=data)
        return Response(_rep(row), status=status.HTTP_201_CREATED)


class KpiMetricDetailView(_KpiView):
    method_permissions = {**_READ, "put": perms.CHANGE_KPI_METRIC, "patch": perms.CHANGE_KPI_METRIC,
                          "delete": perms.DELETE_KPI_METRIC}  # fmt: skip

    @extend_schema(summary="Get a KPI value", parameters=[_METRIC_ID],
                   responses={200: KpiMetricSerializer, **error_responses(*READ_ERRORS, 404)})  # fmt: skip
    def get(self, request, metric_id):
        return Response(_rep(sel.kpi_metric_get(user=request.user, pk=metric_id)))

    def _update(self, request, metric_id):
        row = sel.kpi_metric_get(user=request.user, pk=metric_id)
        data = validated_body(KpiMetricUpdateInputSerializer, request.data)
        row = svc.kpi_metric_update(actor=request.user, metric=row, data=data)
        return Response(_rep(row))

    _update_schema = extend_schema(
        summary="Change a manual KPI value",
        description="API-KPI-04: value, target, previous value of a manual row, re-evaluated (FRM-36); the next "
        "month's trend follows. A computed row is 409 BUSINESS_RULE_VIOLATION.",
        parameters=[_METRIC_ID], request=KpiMetricUpdateInputSerializer,
        responses={200: KpiMetricSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )  # fmt: skip

    @_update_schema
    def put(self, request, metric_id):
        return self._update(request, metric_id)

    @_update_schema
    def patch(self, request, metric_id):
        return self._update(request, metric_id)

    @extend_schema(
        summary="Delete a manual KPI value",
        description="API-KPI-05: manual rows only; a computed row is 409 BUSINESS_RULE_VIOLATION.",
        parameters=[_METRIC_ID],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(*READ_ERRORS, 404, 409)},
    )
    def delete(self, request, metric_id):
        row = sel.kpi_metric_get(user=request.user, pk=metric_id)
        svc.kpi_metric_delete(actor=request.user, metric=row)
        return Response(status=status.HTTP_204_NO_CONTENT)


class KpiDashboardView(_KpiView):
    method_permissions = _READ

    @extend_schema(summary="KPI dashboard", description="API-KPI-06: the ten most recent rows of each category.",
                   responses={200: KpiDashboardSerializer, **error_responses(*READ_ERRORS)})  # fmt: skip
    def get(self, request):
        def board():
            return {key: _reps(rows) for key, rows in sel.kpi_dashboard(user=request.user).items()}

        return Response(cached("kpi.dashboard", request.user, board))


class KpiAlertsView(_KpiView):
    method_permissions = _READ

    @extend_schema(summary="KPI alerts", description="API-KPI-07: the latest row of each KPI whose FRM-36 status "
                   "is warning or critical; critical first.",
                   responses={200: KpiAlertSerializer(many=True), **error_responses(*READ_ERRORS)})  # fmt: skip
    def get(self, request):
        user = request.user
        return Response(
            cached("kpi.alerts", user, lambda: KpiAlertSerializer(sel.kpi_alerts(user=user), many=True).data)
        )


class KpiTargetsView(_KpiView):
    method_permissions = {"post": perms.CHANGE_KPI_METRIC}

    @extend_schema(
        summary="Set a KPI target",
        description="API-KPI-08: the definition's target (or `target_low`/`target_high` of a range KPI) is updated "
        "and the latest row re-evaluated (every row with `apply_to_history`). Answers the latest row, or null while "
        "the KPI has no values. Unknown name 404.",
        request=KpiTargetInputSerializer,
        responses={200: KpiMetricSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def post(self, request):
        data = validated_body(KpiTargetInputSerializer, request.data)
        row = svc.kpi_target_set(actor=request.user, **data)
        return Response(_rep(row) if row is not None else None)


class KpiSummaryView(_KpiView):
    method_permissions = _READ

    @extend_schema(summary="KPI summary", description="API-KPI-09: status counts per category for the latest period "
                   "with values and the three KPIs furthest off target (FRM-36 adverse deviation).",
                   responses={200: KpiSummarySerializer, **error_responses(*READ_ERRORS)})  # fmt: skip
    def get(self, request):
        user = request.user
        return Response(cached("kpi.summary", user, lambda: KpiSummarySerializer(sel.kpi_summary(user=user)).data))


class KpiTrendsView(_KpiView):
    method_permissions = _READ

    @extend_schema(
        summary="KPI trends",
        description="API-KPI-10: per KPI its values over the last `months` months up to its newest value.",
        parameters=[
            OpenApiParameter(
                "metric_name", OpenApiTypes.STR, required=True, many=True, description="Repeatable, or comma-separated."
            ),
            KpiTrendsQuerySerializer,
        ],
        responses={200: KpiTrendsSerializer, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        params = validated_query(KpiTrendsQuerySerializer, request)
        names = [n.strip() for raw in request.query_params.getlist("metric_name") for n in raw.split(",") if n.strip()]
        return Response(KpiTrendsSerializer(sel.kpi_trends(user=request.user, names=names, **params)).data)


class KpiDefinitionListView(_KpiView):
    method_permissions = {"get": perms.VIEW_KPI_DEFINITION}

    @extend_schema(summary="KPI definitions", description="API-KPI-11: the FRM-37 catalogue and custom KPIs.",
                   responses={200: KpiDefinitionSerializer(many=True), **error_responses(*READ_ERRORS)})  # fmt: skip
    def get(self, request):
        return Response(KpiDefinitionSerializer(sel.kpi_definition_list(user=request.user), many=True).data)


class KpiDefinitionDetailView(_KpiView):
    method_permissions = {"put": perms.CHANGE_KPI_DEFINITION}

    @extend_schema(
        summary="Edit a KPI definition",
        description="API-KPI-12: name, target, range, thresholds (0 < warning ≤ critical); the direction of custom "
        "KPIs only. Every value of the KPI is re-evaluated. Bad values 400; unknown code 404.",
        parameters=[_CODE],
        request=KpiDefinitionUpdateInputSerializer,
        responses={200: KpiDefinitionSerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def put(self, request, code):
        data = validated_body(KpiDefinitionUpdateInputSerializer, request.data)
        definition = svc.kpi_definition_update(actor=request.user, code=code, data=data)
        return Response(KpiDefinitionSerializer(definition).data)


class KpiRefreshView(_KpiView):
    method_permissions = {"post": perms.REFRESH_KPI}

    @extend_schema(
        summary="Refresh computed KPIs",
        description="API-KPI-13 (FRM-38): closed months only (default the last three). Up to three months are "
        "computed in the request (200); a longer range is queued for a worker (202 with the task id).",
        request=KpiRefreshInputSerializer,
        responses={200: KpiRefreshSerializer, 202: KpiRefreshQueuedSerializer, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request):
        data = validated_body(KpiRefreshInputSerializer, request.data or {})
        body, queued = svc.kpi_refresh_request(actor=request.user, period_from=data.get("period_from"),
                                               period_to=data.get("period_to"))  # fmt: skip
        if queued:
            return Response(KpiRefreshQueuedSerializer(body).data, status=status.HTTP_202_ACCEPTED)
        return Response(KpiRefreshSerializer(body).data)


class KpiExportView(_KpiView):
    method_permissions = _READ
    content_negotiation_class = _FileDownload

    @extend_schema(
        summary="Export KPI values (CSV or XLSX)",
        description="API-KPI-14: the list filters of API-KPI-01; audited (planning.data.exported).",
        parameters=[*_LIST_PARAMETERS, OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"])],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The file."),
                   (200, XLSX_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
                   **error_responses(400, *READ_ERRORS)},
    )  # fmt: skip
    def get(self, request):
        return svc.kpi_export(actor=request.user, params=request.query_params)
