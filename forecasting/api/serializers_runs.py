"""Serializers of the generation, run, result and comparison API (API-FC-01…03, 11…16, 21, 22, 36).

Inputs check types and ranges only; the services own the rules (FC-12, FC-21). Representations
follow §4 "Forecasting": decimals as strings, product references with sku and name, result rows
with their run metadata unpacked from `features_used`.
"""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from forecasting.models import MAX_HORIZON, Forecast, ForecastRun
from genxsop.api.fields import StrictCharField


class JsonObjectField(serializers.JSONField):
    """A JSON object in a body, or a JSON-encoded object in a query string (API-04)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else None
            except ValueError:
                raise serializers.ValidationError("Must be a JSON object.") from None
        if data is not None and not isinstance(data, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return data


class _SeriesInput(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    region = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=100,
                             help_text="Omit with `channel` for the product total (Global/All).")  # fmt: skip
    channel = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=100)


class GenerateInputSerializer(_SeriesInput):
    """API-FC-02 (body or query string, API-04)."""

    horizon = serializers.IntegerField(
        min_value=1,
        max_value=MAX_HORIZON,
        required=False,
        allow_null=True,
        help_text="Months to forecast, 1..24 (default FORECAST_DEFAULT_HORIZON).",
    )
    model_type = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=50,
        help_text="A model id of GET /forecasting/models; omit for automatic selection.",
    )
    model_params = JsonObjectField(
        required=False,
        allow_null=True,
        help_text="Parameters of `model_type` (FC-21); a JSON string in a query string.",
    )


class RecommendationInputSerializer(GenerateInputSerializer):
    """API-FC-03: the same inputs as generate; nothing is written."""


class CompareInputSerializer(_SeriesInput):
    """API-FC-21/22: walk-forward backtest settings (FC-40)."""

    test_months = serializers.IntegerField(min_value=1, max_value=24, required=False, default=6)
    min_train_months = serializers.IntegerField(min_value=3, max_value=60, required=False, default=6)
    horizon = serializers.IntegerField(min_value=1, max_value=MAX_HORIZON, required=False, allow_null=True,
                                       help_text="Steps forecast at each origin (default FORECAST_DEFAULT_HORIZON); "
                                       "1 gives the one-step comparison.")  # fmt: skip
    models = serializers.ListField(child=serializers.CharField(max_length=50), required=False, allow_empty=True,
                                   help_text="Model ids; default every available model and the ensemble. Unknown "
                                   "ids are ignored and listed in `ignored_models`.")  # fmt: skip
    parameter_grid = JsonObjectField(
        required=False, allow_null=True, help_text="`{model_id: [{params}, ...]}`; the best set is `best_params`."
    )
    include_parameter_results = serializers.BooleanField(required=False, default=False)


# ---------------------------------------------------------------- catalogue


class ModelParameterSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField(help_text="int | float | bool | enum")
    default = serializers.JSONField(allow_null=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), allow_null=True)
    aliases = serializers.ListField(child=serializers.CharField())


class ModelSerializer(serializers.Serializer):
    """A catalogue entry (FC-20)."""

    id = serializers.CharField()
    name = serializers.CharField()
    family = serializers.CharField()
    min_data_months = serializers.IntegerField()
    available = serializers.BooleanField()
    parameters = ModelParameterSerializer(many=True)
    fallback = serializers.CharField(allow_null=True)


# ---------------------------------------------------------------- metrics and diagnostics


class SeriesPointSerializer(serializers.Serializer):
    period = serializers.DateField()
    actual_qty = serializers.FloatField()
    predicted_qty = serializers.FloatField(allow_null=True)


class StepMetricSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    count = serializers.IntegerField()
    mae = serializers.FloatField(allow_null=True)
    rmse = serializers.FloatField(allow_null=True)
    wape = serializers.FloatField(allow_null=True)
    mase = serializers.FloatField(allow_null=True)


class CandidateMetricSerializer(serializers.Serializer):
    """An FC-41 metric row; metrics are rounded to 4 dp (FRM-26), null when undefined."""

    model_type = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    mape = serializers.FloatField(allow_null=True)
    smape = serializers.FloatField(allow_null=True)
    wape = serializers.FloatField(allow_null=True)
    rmse = serializers.FloatField(allow_null=True)
    nrmse_pct = serializers.FloatField(allow_null=True)
    mae = serializers.FloatField(allow_null=True)
    mdae = serializers.FloatField(allow_null=True)
    r2 = serializers.FloatField(allow_null=True)
    bias = serializers.FloatField(allow_null=True)
    hit_rate = serializers.FloatField(allow_null=True)
    mase = serializers.FloatField(allow_null=True)
    tracking_signal = serializers.FloatField(allow_null=True)
    period_count = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True, help_text="Lower is better.")
    best_params = serializers.DictField(allow_null=True)
    parameter_results = serializers.ListField(child=serializers.DictField(), required=False)
    series = SeriesPointSerializer(
        many=True, required=False, help_text="One-step-ahead backtest predictions (comparison only)."
    )
    by_step = StepMetricSerializer(many=True, required=False, help_text="Metrics per horizon step (comparison only).")


class DiagnosticsSerializer(serializers.Serializer):
    """FC-24 selection diagnostics."""

    selected_model = serializers.CharField()
    model_used = serializers.CharField()
    selection_reason = serializers.CharField()
    advisor_confidence = serializers.FloatField()
    advisor_enabled = serializers.BooleanField()
    fallback_used = serializers.BooleanField()
    fallback_chain = serializers.ListField(child=serializers.CharField())
    selected_model_params = serializers.DictField()
    warnings = serializers.ListField(child=serializers.CharField())
    history_months = serializers.IntegerField()
    demand_pattern = serializers.CharField()
    candidate_metrics = CandidateMetricSerializer(many=True)
    data_quality_flags = serializers.ListField(child=serializers.CharField())
    run_audit_id = serializers.IntegerField(allow_null=True)


def run_diagnostics(run: ForecastRun) -> dict:
    return {
        "selected_model": run.selected_model,
        "model_used": run.model_used,
        "selection_reason": run.selection_reason,
        "advisor_confidence": float(run.advisor_confidence),
        "advisor_enabled": run.advisor_enabled,
        "fallback_used": run.fallback_used,
        "fallback_chain": run.fallback_chain,
        "selected_model_params": run.model_params,
        "warnings": run.warnings,
        "history_months": run.history_months,
        "demand_pattern": run.demand_pattern,
        "candidate_metrics": run.candidate_metrics,
        "data_quality_flags": run.data_quality_flags,
        "run_audit_id": run.pk,
    }


# ---------------------------------------------------------------- results


class ForecastPointSerializer(serializers.ModelSerializer):
    """One forecast period of a run (GenerateResponse.forecasts)."""

    class Meta:
        model = Forecast
        fields = ["period", "predicted_qty", "lower_bound", "upper_bound", "lower_80", "upper_80", "interval_level",
                  "interval_method", "confidence", "model_type", "lag"]  # fmt: skip
        read_only_fields = fields


class ResultSerializer(serializers.ModelSerializer):
    """A result row (FC-02) with its run's metadata unpacked from `features_used`."""

    run_id = serializers.IntegerField(read_only=True)
    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    run_audit_id = serializers.IntegerField(source="run_id", read_only=True)
    selection_reason = serializers.SerializerMethodField()
    advisor_confidence = serializers.SerializerMethodField()
    advisor_enabled = serializers.SerializerMethodField()
    fallback_used = serializers.SerializerMethodField()
    model_params = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    discarded = serializers.SerializerMethodField()

    class Meta:
        model = Forecast
        fields = [
            "id", "run_id", "product_id", "sku", "product_name", "region", "channel", "model_type", "period", "lag",
            "predicted_qty", "lower_bound", "upper_bound", "lower_80", "upper_80", "interval_level",
            "interval_method", "confidence", "mape", "rmse", "run_audit_id", "selection_reason",
            "advisor_confidence", "advisor_enabled", "fallback_used", "model_params", "warnings", "created_at",
            "discarded", "discarded_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _feature(self, row, name, default=None):
        return (row.features_used or {}).get(name, default)

    def get_selection_reason(self, row) -> str:
        return self._feature(row, "selection_reason", row.run.selection_reason)

    @extend_schema_field(serializers.FloatField())
    def get_advisor_confidence(self, row) -> float:
        value = self._feature(row, "advisor_confidence", None)
        return float(row.run.advisor_confidence if value is None else value)

    def get_advisor_enabled(self, row) -> bool:
        return bool(self._feature(row, "advisor_enabled", False))

    def get_fallback_used(self, row) -> bool:
        return bool(self._feature(row, "fallback_used", row.run.fallback_used))

    @extend_schema_field(serializers.DictField())
    def get_model_params(self, row) -> dict:
        return self._feature(row, "model_params", row.run.model_params)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, row) -> list:
        return self._feature(row, "warnings", row.run.warnings)

    def get_discarded(self, row) -> bool:
        return row.discarded_at is not None


class ProductDiscardSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    deleted = serializers.IntegerField(help_text="forecasts_deleted + consensus_deleted.")
    forecasts_deleted = serializers.IntegerField(help_text="Result rows discarded.")
    consensus_deleted = serializers.IntegerField(help_text="Draft and proposed consensus rows deleted.")
    consensus_retained = serializers.IntegerField(help_text="Approved, frozen and superseded rows kept.")


# ---------------------------------------------------------------- runs


class RunSerializer(serializers.ModelSerializer):
    """A forecast run (FC-01)."""

    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    user_id = serializers.IntegerField(read_only=True, allow_null=True)
    user_name = serializers.SerializerMethodField()
    job_id = serializers.SerializerMethodField(help_text="Public id of the job that produced the run.")
    source = serializers.CharField(read_only=True, help_text="interactive | job | schedule | demo")

    class Meta:
        model = ForecastRun
        fields = [
            "id", "product_id", "sku", "product_name", "region", "channel", "user_id", "user_name", "job_id",
            "requested_model", "selected_model", "model_used", "horizon", "model_params", "advisor_enabled",
            "fallback_used", "fallback_chain", "advisor_confidence", "selection_reason", "history_months",
            "history_start", "history_end", "as_of_period", "demand_pattern", "adi", "cv2", "records_created",
            "warnings", "data_quality_flags", "engine_version", "source", "request_id", "created_at", "discarded_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_user_name(self, run) -> str | None:
        user = run.user
        return (getattr(user, "full_name", "") or getattr(user, "email", "")) if user is not None else None

    def get_job_id(self, run) -> str | None:
        return run.job.job_id if run.job_id and run.job is not None else None


class RunDetailSerializer(RunSerializer):
    """A run with its diagnostics and result rows (API-FC-12)."""

    diagnostics = serializers.SerializerMethodField()
    candidate_metrics = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "candidate_metrics", "diagnostics", "results"]
        read_only_fields = fields

    @extend_schema_field(DiagnosticsSerializer)
    def get_diagnostics(self, run) -> dict:
        return run_diagnostics(run)

    @extend_schema_field(CandidateMetricSerializer(many=True))
    def get_candidate_metrics(self, run) -> list:
        return run.candidate_metrics

    @extend_schema_field(ResultSerializer(many=True))
    def get_results(self, run) -> list:
        rows = run.results.select_related("product", "run").order_by("period")
        return ResultSerializer(rows, many=True).data


class GenerateResponseSerializer(serializers.Serializer):
    """API-FC-02 GenerateResponse, read from the stored run."""

    product_id = serializers.IntegerField()
    region = serializers.CharField()
    channel = serializers.CharField()
    model_type = serializers.CharField(source="model_used")
    horizon = serializers.IntegerField()
    run_id = serializers.IntegerField(source="pk")
    diagnostics = serializers.SerializerMethodField()
    forecasts = serializers.SerializerMethodField()

    @extend_schema_field(DiagnosticsSerializer)
    def get_diagnostics(self, run) -> dict:
        return run_diagnostics(run)

    @extend_schema_field(ForecastPointSerializer(many=True))
    def get_forecasts(self, run) -> list:
        return ForecastPointSerializer(run.results.order_by("period"), many=True).data


class RecommendationSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    region = serializers.CharField()
    channel = serializers.CharField()
    diagnostics = DiagnosticsSerializer()


class ComparisonSerializer(serializers.Serializer):
    """FC-43 comparison object."""

    product_id = serializers.IntegerField()
    region = serializers.CharField()
    channel = serializers.CharField()
    history_months = serializers.IntegerField()
    test_months = serializers.IntegerField()
    min_train_months = serializers.IntegerField()
    horizon = serializers.IntegerField()
    parameter_grid_used = serializers.DictField()
    data_quality_flags = serializers.ListField(child=serializers.CharField())
    demand_pattern = serializers.CharField()
    ignored_models = serializers.ListField(child=serializers.CharField())
    models = CandidateMetricSerializer(many=True)
