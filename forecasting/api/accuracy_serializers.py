"""Shapes of the accuracy API (API-FC-17…20): query parameters in, report rows out."""

from rest_framework import serializers

from forecasting.choices import AccuracyLayer
from forecasting.models import MAX_HORIZON

PERIOD_FORMATS = ["%Y-%m", "%Y-%m-%d"]
_PERIOD_HELP = "YYYY-MM or YYYY-MM-DD."
LAYERS = [*AccuracyLayer.values, "all"]


def _metric(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text or None)


class _PeriodRangeMixin(serializers.Serializer):
    period_from = serializers.DateField(
        required=False, input_formats=PERIOD_FORMATS, help_text="YYYY-MM or YYYY-MM-DD."
    )
    period_to = serializers.DateField(required=False, input_formats=PERIOD_FORMATS, help_text="YYYY-MM or YYYY-MM-DD.")

    def validate(self, attrs):
        for name in ("period_from", "period_to"):
            if attrs.get(name):
                attrs[name] = attrs[name].replace(day=1)
        if attrs.get("period_from") and attrs.get("period_to") and attrs["period_from"] > attrs["period_to"]:
            raise serializers.ValidationError({"period_to": ["Must not be before period_from."]})
        return attrs


class AccuracyQuerySerializer(_PeriodRangeMixin):
    product_id = serializers.IntegerField(required=False, min_value=1)
    region = serializers.CharField(required=False, max_length=100)
    channel = serializers.CharField(required=False, max_length=100)
    lag = serializers.IntegerField(required=False, min_value=1, max_value=MAX_HORIZON)
    layer = serializers.ChoiceField(choices=LAYERS, required=False, default=AccuracyLayer.STATISTICAL.value)


class TrendQuerySerializer(serializers.Serializer):
    product_id = serializers.IntegerField(required=False, min_value=1)
    lag = serializers.IntegerField(required=False, min_value=1, max_value=MAX_HORIZON)
    layer = serializers.ChoiceField(choices=LAYERS, required=False, default=AccuracyLayer.STATISTICAL.value)
    months = serializers.IntegerField(required=False, min_value=1, max_value=36, default=12)


class FvaQuerySerializer(_PeriodRangeMixin):
    product_id = serializers.IntegerField(required=False, min_value=1)
    category_id = serializers.IntegerField(required=False, min_value=1)
    lag = serializers.IntegerField(required=False, min_value=1, max_value=MAX_HORIZON)


class DriftQuerySerializer(serializers.Serializer):
    threshold_pct = serializers.FloatField(required=False, min_value=0, max_value=100, default=10.0)
    min_points = serializers.IntegerField(required=False, min_value=3, max_value=60, default=6)
    lag = serializers.IntegerField(required=False, min_value=1, max_value=MAX_HORIZON, default=1)


class AccuracyRowSerializer(serializers.Serializer):
    """FC-51: FRM-20…25 over the matched points of one (layer, model), 4 dp (FRM-26); null = undefined."""

    layer = serializers.ChoiceField(choices=AccuracyLayer.values)
    model_type = serializers.CharField(help_text="The model (statistical), `seasonal_naive` or `consensus`.")
    lag = serializers.IntegerField()
    product_id = serializers.IntegerField(help_text="0 when the row averages across products.")
    region = serializers.CharField(allow_null=True)
    channel = serializers.CharField(allow_null=True)
    mape = _metric("FRM-20 MAPE %; averaged across products without product_id.")
    smape = _metric()
    wape = _metric()
    rmse = _metric()
    nrmse_pct = _metric()
    mae = _metric()
    mdae = _metric()
    r2 = _metric()
    bias = _metric("mean(e / A) x 100; positive = over-forecast.")
    hit_rate = _metric()
    tracking_signal = _metric()
    score = _metric("FRM-25 composite score (lower is better).")
    period_count = serializers.IntegerField(help_text="Matched points (summed across products).")
    sample_count = serializers.IntegerField(help_text="Series the row is computed over (1 with product_id).")
    interval_coverage_pct = _metric("FRM-23: share of points with lower <= actual <= upper (statistical only).")
    avg_mape = _metric("Without product_id: the averaged MAPE again.")
    wape_pooled = _metric("Without product_id: WAPE over all points together (volume-weighted).")
    bias_pooled = _metric("Without product_id: sum(e) / sum|A| x 100 over all points.")


class TrendRowSerializer(serializers.Serializer):
    period = serializers.DateField()
    layer = serializers.ChoiceField(choices=AccuracyLayer.values)
    wape = _metric()
    mape = _metric()
    bias = _metric()
    sample_count = serializers.IntegerField(help_text="Points (series) in the period.")


class FvaLayerSerializer(serializers.Serializer):
    layer = serializers.ChoiceField(choices=AccuracyLayer.values)
    wape = _metric()
    mae = _metric()
    bias = _metric()
    point_count = serializers.IntegerField()
    fva_vs_previous_pct = _metric("WAPE(previous layer) - WAPE(layer), naive -> statistical -> consensus.")


class FvaStepSerializer(serializers.Serializer):
    step = serializers.CharField(
        help_text="naive, statistical, baseline, sales_override, marketing_uplift, finance_adjustment, consensus."
    )
    wape = _metric()
    mae = _metric()
    bias = _metric()
    point_count = serializers.IntegerField()
    fva_vs_previous_pct = _metric("WAPE(previous step) - WAPE(step); positive = the step added value.")


class FvaProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    region = serializers.CharField()
    channel = serializers.CharField()
    point_count = serializers.IntegerField()
    layers = FvaLayerSerializer(many=True)


class FvaReportSerializer(serializers.Serializer):
    lag = serializers.IntegerField()
    point_count = serializers.IntegerField(help_text="(series, period) points where all three layers exist.")
    layers = FvaLayerSerializer(many=True)
    stair_steps = FvaStepSerializer(
        many=True, help_text="The same points with the consensus split into its override streams (FRM-28 order)."
    )
    by_product = FvaProductSerializer(many=True)


class DriftAlertSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    region = serializers.CharField()
    channel = serializers.CharField()
    model_type = serializers.CharField()
    previous_mape = serializers.FloatField()
    recent_mape = serializers.FloatField()
    degradation_pct = serializers.FloatField()
    severity = serializers.ChoiceField(choices=["medium", "high"])
