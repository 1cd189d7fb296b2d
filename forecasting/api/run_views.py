"""Generation, runs, results and comparison API (API-FC-01…03, 11…16, 21, 22, 36): adapters over
forecasting.selectors.runs and forecasting.services (generate, results, compare)."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from forecasting import permissions as perms
from forecasting.api import serializers_runs as s
from forecasting.models import Forecast, ForecastRun
from forecasting.selectors import runs as selectors
from forecasting.services import compare as compare_services
from forecasting.services import generate as generate_services
from forecasting.services import results as result_services
from genxsop.api.schema import (
    ID_PARAMETER,
    READ_ERRORS,
    ROW_LIMITED_LIST_ERRORS,
    WRITE_ERRORS,
    ErrorResponseSerializer,
    error_responses,
)
from genxsop.api.validation import validated_body
from genxsop.api.viewsets import ServiceViewSet
from genxsop.errors import ValidationFailed
from genxsop.services import require_perm
from governance import audit
from planning import events as planning_events
from planning.fileio.exports import ExportTarget, export_format
from planning.fileio.writer import CONTENT_TYPES, file_name, file_response
from planning.selectors import product_get

_422 = OpenApiResponse(ErrorResponseSerializer, description="INSUFFICIENT_DATA: not enough history (FC-12).")
PRODUCT_ID_PARAMETER = OpenApiParameter("product_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                        description="Product id.")  # fmt: skip
_FORMAT_PARAMETER = OpenApiParameter("format", str, OpenApiParameter.QUERY, enum=["csv", "xlsx"],
                                     description="File format (default csv).")  # fmt: skip
_FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The result rows as CSV or XLSX.")
_FILE_RESPONSES = {(200, CONTENT_TYPES["csv"].split(";")[0]): _FILE, (200, CONTENT_TYPES["xlsx"]): _FILE}


def _filter_parameters(filterset) -> list[OpenApiParameter]:
    return [OpenApiParameter(name, str, OpenApiParameter.QUERY, required=False,
                             description=str(getattr(f, "label", "") or ""))
            for name, f in filterset.base_filters.items()]  # fmt: skip


_COMPARE_QUERY = [
    OpenApiParameter("product_id", OpenApiTypes.INT, required=True),
    OpenApiParameter("region", str),
    OpenApiParameter("channel", str),
    OpenApiParameter("test_months", OpenApiTypes.INT, description="1..24 (default 6)."),
    OpenApiParameter("min_train_months", OpenApiTypes.INT, description="3..60 (default 6)."),
    OpenApiParameter("horizon", OpenApiTypes.INT, description="Steps forecast at each origin, 1..24."),
    OpenApiParameter("models", str, many=True, description="Repeatable or comma-separated model ids."),
    OpenApiParameter(
        "parameter_grid", str, description='JSON object, e.g. {"ewma": [{"alpha": 0.2}, {"alpha": 0.5}]}.'
    ),
    OpenApiParameter("include_parameter_results", OpenApiTypes.BOOL),
]
_GENERATE_QUERY = [
    OpenApiParameter(name, kind, description="May be given in the query string instead of the body (API-04).")
    for name, kind in (("product_id", OpenApiTypes.INT), ("region", str), ("channel", str),
                       ("horizon", OpenApiTypes.INT), ("model_type", str), ("model_params", str))
]  # fmt: skip


def merged_parameters(request, names) -> dict:
    """API-04: parameters from the query string and the JSON body; the same one given differently is 400."""
    body = request.data if isinstance(request.data, dict) else {}
    out = {}
    conflicts = {}
    for name in names:
        in_query = name in request.query_params
        in_body = name in body
        if in_query and in_body and str(request.query_params.get(name)) != _as_text(body[name]):
            conflicts[name] = ["Given in the query string and the body with different values."]
        if in_body:
            out[name] = body[name]
        elif in_query:
            out[name] = request.query_params.get(name)
    if conflicts:
        raise ValidationFailed(fields=conflicts)
    return out


def _as_text(value) -> str:
    import json

    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _series_args(data: dict) -> dict:
    return {"region": data.get("region") or None, "channel": data.get("channel") or None}


class _FormatIsAQueryParameter(DefaultContentNegotiation):
    """`?format=csv|xlsx` names the export's file format, not a DRF renderer; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema_view(
    models=extend_schema(
        summary="List forecasting models",
        description="The model catalogue (FC-20) with each model's parameters, minimum history and fallback; "
        "`available` is false when the optional library behind a model is not installed.",
        responses={200: s.ModelSerializer(many=True), **error_responses(*READ_ERRORS)},
    ),
    generate=extend_schema(
        summary="Generate a forecast",
        description="Forecasts one series (the product total unless `region` and `channel` are given) for "
        "`horizon` months after its last closed month with an actual, and stores the run and its result rows "
        "(FC-01/02). Without `model_type` the model is selected by backtest (FC-24); with one, that model runs "
        "along its fallback chain (FC-22). Parameters may come in the query string or the body (API-04). 400 for "
        "an unknown model or invalid parameters (FC-21); 422 INSUFFICIENT_DATA below 3 history months.",
        parameters=_GENERATE_QUERY,
        request=s.GenerateInputSerializer,
        responses={201: s.GenerateResponseSerializer, **error_responses(*WRITE_ERRORS, 404), 422: _422},
    ),
    recommendation=extend_schema(
        summary="Recommend a model",
        description="Runs the selection of a generation (FC-24) and returns its diagnostics without storing "
        "anything (FC-26).",
        parameters=_GENERATE_QUERY,
        request=s.RecommendationInputSerializer,
        responses={200: s.RecommendationSerializer, **error_responses(*WRITE_ERRORS, 404), 422: _422},
    ),
    comparison=extend_schema(
        summary="Compare models on a series",
        description="Walk-forward backtest (FC-40) of the requested models (default: every available one and the "
        "ensemble) over the last `test_months` origins with at least `min_train_months` of training; rows ranked by "
        "score (FRM-25, lower is better). A `parameter_grid` backtests each parameter set and keeps the best "
        "(`best_params`). 400 for a bad grid; 422 when the series is too short.",
        parameters=_COMPARE_QUERY,
        responses={200: s.ComparisonSerializer, **error_responses(400, *READ_ERRORS, 404), 422: _422},
    ),
    compare=extend_schema(
        summary="Compare models on a series (JSON body)",
        description="The same comparison as GET /forecasting/model-comparison with the parameters in the body "
        "(`parameter_grid` as an object).",
        request=s.CompareInputSerializer,
        responses={200: s.ComparisonSerializer, **error_responses(*WRITE_ERRORS, 404), 422: _422},
    ),
)
class ForecastingActionViewSet(ServiceViewSet):
    """Model catalogue, generation, recommendation and comparison."""

    serializer_class = s.GenerateResponseSerializer
    pagination_class = None
    filter_backends = []
    action_permissions = {
        "models": perms.VIEW_RUN,
        "generate": perms.GENERATE,
        "recommendation": perms.GENERATE,
        "comparison": perms.VIEW_RUN,
        "compare": perms.VIEW_RUN,
    }

    def get_queryset(self):  # schema generation only; reads go through the selectors
        return ForecastRun.objects.none()

    @action(detail=False, methods=["get"])
    def models(self, request):
        return Response(generate_services.model_catalogue())

    def _series_input(self, request, serializer_class):
        names = list(serializer_class().fields)
        return validated_body(serializer_class, merged_parameters(request, names))

    @action(detail=False, methods=["post"])
    def generate(self, request):
        data = self._series_input(request, s.GenerateInputSerializer)
        product = product_get(user=request.user, pk=data["product_id"])
        run = generate_services.forecast_generate(
            actor=request.user, product=product, horizon=data.get("horizon"), model_type=data.get("model_type"),
            model_params=data.get("model_params"), **_series_args(data),
        )  # fmt: skip
        run = ForecastRun.objects.select_related("product").get(pk=run.pk)
        return Response(s.GenerateResponseSerializer(run).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"])
    def recommendation(self, request):
        data = self._series_input(request, s.RecommendationInputSerializer)
        product = product_get(user=request.user, pk=data["product_id"])
        answer = generate_services.forecast_recommend(
            actor=request.user, product=product, horizon=data.get("horizon"), model_type=data.get("model_type"),
            model_params=data.get("model_params"), **_series_args(data),
        )  # fmt: skip
        return Response(answer)

    def _compare(self, request, data):
        product = product_get(user=request.user, pk=data["product_id"])
        result = compare_services.forecast_compare(
            actor=request.user, product=product, test_months=data.get("test_months"),
            min_train_months=data.get("min_train_months"), models=data.get("models"),
            parameter_grid=data.get("parameter_grid"), horizon=data.get("horizon"),
            include_parameter_results=data.get("include_parameter_results", False), **_series_args(data),
        )  # fmt: skip
        return Response(result)

    @action(detail=False, methods=["get"])
    def comparison(self, request):
        params = request.query_params
        raw = {key: params.get(key) for key in params if key != "models"}
        models = [m.strip() for value in params.getlist("models") for m in value.split(",") if m.strip()]
        if models:
            raw["models"] = models
        serializer = s.CompareInputSerializer(data=raw)
        if not serializer.is_valid():
            fields = {name: [str(m) for m in msgs] for name, msgs in serializer.errors.items()}
            raise ValidationFailed("Invalid query parameter.", fields=fields, code="INVALID_PARAMETER")
        return self._compare(request, dict(serializer.validated_data))

    @action(detail=False, methods=["post"])
    def compare(self, request):
        return self._compare(request, validated_body(s.CompareInputSerializer, request.data))


@extend_schema_view(
    list=extend_schema(
        summary="List forecast runs",
        description="Runs in the caller's scope, newest first; `as_of_from`/`as_of_to` take YYYY-MM or YYYY-MM-DD.",
        responses={200: s.RunSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a forecast run",
        description="The run with its diagnostics (FC-24) and result rows.",
        parameters=[ID_PARAMETER],
        responses={200: s.RunDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
)
class ForecastRunViewSet(ServiceViewSet):
    """Forecast runs (FC-01): immutable records of each engine execution."""

    list_selector = staticmethod(selectors.run_list)
    get_selector = staticmethod(selectors.run_get)
    serializer_class = s.RunSerializer
    detail_serializer_class = s.RunDetailSerializer
    filterset_class = selectors.RunFilterSet
    action_permissions = {"list": perms.VIEW_RUN, "retrieve": perms.VIEW_RUN}


@extend_schema_view(
    list=extend_schema(
        summary="List forecast results",
        description="Result rows in the caller's scope ordered by period, as a plain array. By default only the "
        "rows of the latest non-discarded run per series and model (`current_only`, default false when `run_id` "
        "is given) and no discarded rows (`include_discarded`). More than 10,000 matching rows is 400: narrow the "
        "filters (the export has no such limit).",
        responses={200: s.ResultSerializer(many=True), **ROW_LIMITED_LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a forecast result",
        parameters=[ID_PARAMETER],
        responses={200: s.ResultSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    destroy=extend_schema(
        summary="Discard a forecast result",
        description="Marks the row discarded (FC-60); its run is marked too once all its rows are. Discarded rows "
        "leave the results list, promotion and accuracy. Discarding a discarded row changes nothing.",
        parameters=[ID_PARAMETER],
        responses={204: None, **error_responses(*READ_ERRORS, 404)},
    ),
    by_product=extend_schema(
        summary="Discard every forecast result of a product",
        description="Discards all result rows of the product (every series) and deletes its draft and proposed "
        "consensus rows; approved, frozen and superseded consensus rows are kept and counted (FC-60).",
        parameters=[PRODUCT_ID_PARAMETER],
        responses={200: s.ProductDiscardSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    export=extend_schema(
        summary="Export forecast results",
        description="The rows the results list shows for the same filters (without its row limit), as CSV or "
        "XLSX; text cells beginning with = + - @ get a leading single quote. Audited.",
        parameters=[_FORMAT_PARAMETER, *_filter_parameters(selectors.ResultFilterSet)],
        responses={**_FILE_RESPONSES, **error_responses(400, *READ_ERRORS)},
    ),
)
class ForecastResultViewSet(ServiceViewSet):
    """Forecast result rows (FC-02): frozen snapshots, only ever discarded."""

    list_selector = staticmethod(selectors.result_list)
    get_selector = staticmethod(selectors.result_get)
    serializer_class = s.ResultSerializer
    filterset_class = selectors.ResultFilterSet
    pagination_class = None
    action_permissions = {
        "list": perms.VIEW_RESULT,
        "retrieve": perms.VIEW_RESULT,
        "export": perms.VIEW_RESULT,
        "destroy": perms.DISCARD_RESULT,
        "by_product": perms.DISCARD_RESULT,
    }

    def get_content_negotiator(self):
        if getattr(self, "action", None) == "export":
            return _FormatIsAQueryParameter()
        return super().get_content_negotiator()

    def list(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def destroy(self, request, pk):
        result_services.result_discard(actor=request.user, result=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["delete"])
    def by_product(self, request, product_id):
        product = product_get(user=request.user, pk=product_id)
        answer = result_services.results_discard_product(actor=request.user, product=product)
        return Response(s.ProductDiscardSerializer(answer).data)

    @action(detail=False, methods=["get"])
    def export(self, request):
        require_perm(request.user, perms.VIEW_RESULT)
        fmt = export_format(request.query_params.get("format"))
        rows = selectors.result_list(user=request.user, filters=request.query_params, limit=None)
        count = rows.count()
        name = file_name("forecasts", fmt)
        filters = {k: v for k, v in request.query_params.items() if k != "format" and str(v).strip()}
        with transaction.atomic():
            audit.record(
                actor=request.user, event_type=planning_events.DATA_EXPORTED, target=ExportTarget("forecasts"),
                target_type="export", message=f"Forecast results exported as {fmt.upper()} ({count} rows).",
                metadata={"dataset": "forecasts", "format": fmt, "filters": filters, "row_count": count,
                          "file_name": name},
            )  # fmt: skip
        body = ([getattr_path(row, path) for _, path in EXPORT_COLUMNS] for row in rows.iterator(chunk_size=2000))
        return file_response(dataset="forecasts", fmt=fmt, header=[c for c, _ in EXPORT_COLUMNS], rows=body, name=name)


EXPORT_COLUMNS = [
    ("id", "id"), ("run_id", "run_id"), ("product_id", "product_id"), ("sku", "product.sku"),
    ("product_name", "product.name"), ("region", "region"), ("channel", "channel"), ("model_type", "model_type"),
    ("period", "period"), ("lag", "lag"), ("predicted_qty", "predicted_qty"), ("lower_bound", "lower_bound"),
    ("upper_bound", "upper_bound"), ("lower_80", "lower_80"), ("upper_80", "upper_80"),
    ("interval_level", "interval_level"), ("interval_method", "interval_method"), ("confidence", "confidence"),
    ("mape", "mape"), ("rmse", "rmse"), ("as_of_period", "run.as_of_period"), ("created_at", "created_at"),
    ("discarded_at", "discarded_at"),
]  # fmt: skip


def getattr_path(row: Forecast, path: str):
    value = row
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value
