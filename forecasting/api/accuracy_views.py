"""Accuracy API (API-FC-17…20): thin adapters over forecasting.selectors.accuracy.

Every report reads the materialised accuracy points (FC-53) in the caller's category scope; a
role without the module's read permission (viewer) gets 403.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from forecasting import permissions as perms
from forecasting.api import accuracy_serializers as s
from forecasting.selectors import accuracy as selectors
from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import READ_ERRORS, error_responses
from genxsop.api.validation import validated_query

_ERRORS = error_responses(400, *READ_ERRORS)
_LAG = OpenApiParameter("lag", OpenApiTypes.INT, description="1..24; default FORECAST_ACCURACY_LAG (FC-52).")
_PRODUCT = OpenApiParameter("product_id", OpenApiTypes.INT)
_PERIODS = [
    OpenApiParameter("period_from", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD."),
    OpenApiParameter("period_to", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD."),
]
_LAYER = OpenApiParameter("layer", OpenApiTypes.STR, enum=s.LAYERS,
                          description="statistical (default), consensus, naive or all.")  # fmt: skip


class AccuracyView(APIView):
    """Read-only accuracy reports, gated by the accuracy read permission."""

    permission_classes = [HasActionPermission]
    action = "read"
    action_permissions = {"read": perms.VIEW_ACCURACY}


class AccuracyReportView(AccuracyView):
    @extend_schema(
        summary="Forecast accuracy per layer and model",
        description="FC-51 over the accuracy points at `lag`: FRM-20…25 per (layer, model), 4 dp, with "
        "`period_count`, `sample_count` and `interval_coverage_pct`. With `product_id` the rows describe that "
        "series (the product total unless `region`/`channel` are given); without it each metric is the simple "
        "average across products (`product_id: 0`) and `wape_pooled`/`bias_pooled` pool every point.",
        parameters=[_PRODUCT, OpenApiParameter("region", OpenApiTypes.STR),
                    OpenApiParameter("channel", OpenApiTypes.STR), _LAG, _LAYER, *_PERIODS],
        responses={200: s.AccuracyRowSerializer(many=True), **_ERRORS},
    )  # fmt: skip
    def get(self, request):
        params = validated_query(s.AccuracyQuerySerializer, request)
        return Response(s.AccuracyRowSerializer(selectors.accuracy_report(user=request.user, **params), many=True).data)


class AccuracyTrendView(AccuracyView):
    @extend_schema(
        summary="Forecast accuracy by month",
        description="API-FC-18: WAPE, MAPE and bias per closed month over the last `months` (1..36, default 12), "
        "pooled over the series with a point in that month.",
        parameters=[_PRODUCT, _LAG, _LAYER, OpenApiParameter("months", OpenApiTypes.INT, description="1..36, 12.")],
        responses={200: s.TrendRowSerializer(many=True), **_ERRORS},
    )
    def get(self, request):
        params = validated_query(s.TrendQuerySerializer, request)
        return Response(s.TrendRowSerializer(selectors.accuracy_trend(user=request.user, **params), many=True).data)


class FvaReportView(AccuracyView):
    @extend_schema(
        summary="Forecast value added",
        description="FC-54 / FRM-27 over the points where the naive, statistical and consensus layers all exist: "
        "WAPE, MAE and bias per layer and `fva_vs_previous_pct` = WAPE(previous) - WAPE(layer) in the order "
        "naive -> statistical -> consensus (positive = the step added value), overall and per product. "
        "`category_id` includes the category's subtree.",
        parameters=[_PRODUCT, OpenApiParameter("category_id", OpenApiTypes.INT), _LAG, *_PERIODS],
        responses={200: s.FvaReportSerializer, **_ERRORS},
    )
    def get(self, request):
        params = validated_query(s.FvaQuerySerializer, request)
        return Response(s.FvaReportSerializer(selectors.fva_report(user=request.user, **params)).data)


class DriftAlertsView(AccuracyView):
    @extend_schema(
        summary="Forecast drift alerts",
        description="FC-55 per series and statistical model at `lag` (default 1): mean APE of the last window "
        "against the window before it (window = max(3, min(6, n // 2)), n points with actual != 0, at least "
        "`min_points` and 2 windows). Alerts where the degradation is at least `threshold_pct`; `high` from twice "
        "the threshold. Sorted by degradation descending.",
        parameters=[OpenApiParameter("threshold_pct", OpenApiTypes.NUMBER, description="0..100, default 10."),
                    OpenApiParameter("min_points", OpenApiTypes.INT, description="3..60, default 6."),
                    OpenApiParameter("lag", OpenApiTypes.INT, description="1..24, default 1.")],
        responses={200: s.DriftAlertSerializer(many=True), **_ERRORS},
    )  # fmt: skip
    def get(self, request):
        params = validated_query(s.DriftQuerySerializer, request)
        return Response(s.DriftAlertSerializer(selectors.drift_alerts(user=request.user, **params), many=True).data)
