"""Forecast job API shapes (API-FC-04…10): inputs are type and range checks; the rules are the services'."""

from rest_framework import serializers

from forecasting.models import MAX_HORIZON, ForecastJob
from genxsop.api.fields import StrictCharField


class StrictIntegerField(serializers.IntegerField):
    """An integer field that refuses booleans and numeric strings (JSON numbers only)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class GenerateJobInputSerializer(serializers.Serializer):
    product_id = StrictIntegerField(required=False, min_value=1, help_text="One series: a `generate` job.")
    product_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1), required=False, min_length=1, max_length=100000,
        help_text="Several products: a `batch_generate` job over their series.",
    )  # fmt: skip
    all_active = serializers.BooleanField(required=False, default=False,
                                          help_text="Every active product in your scope: a batch job.")  # fmt: skip
    region = StrictCharField(required=False, allow_blank=True, max_length=100, help_text="Default: Global (total).")
    channel = StrictCharField(required=False, allow_blank=True, max_length=100, help_text="Default: All (total).")
    horizon = StrictIntegerField(required=False, min_value=1, max_value=MAX_HORIZON,
                                 help_text="Months, 1..24 (default FORECAST_DEFAULT_HORIZON).")  # fmt: skip
    model_type = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=50,
                                 help_text="Model id (API-FC-01); omit for automatic selection.")  # fmt: skip
    model_params = serializers.DictField(required=False, allow_null=True, help_text="Validated per model (FC-21).")


class CleanupInputSerializer(serializers.Serializer):
    retention_days = StrictIntegerField(required=False, min_value=1, max_value=3650,
                                        help_text="Default FORECAST_JOB_RETENTION_DAYS.")  # fmt: skip
    dry_run = serializers.BooleanField(required=False, default=False, help_text="Count only; delete nothing.")


class CleanupResultSerializer(serializers.Serializer):
    retention_days = serializers.IntegerField()
    cutoff = serializers.DateTimeField(help_text="Terminal jobs finished before this moment are deleted.")
    deleted_jobs = serializers.IntegerField(help_text="Deleted (or, on a dry run, deletable) jobs.")
    dry_run = serializers.BooleanField()


class _ByStatusSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class JobMetricsSerializer(serializers.Serializer):
    """FC-75."""

    total_jobs = serializers.IntegerField()
    by_status = _ByStatusSerializer()
    avg_processing_time_ms = serializers.FloatField(allow_null=True, help_text="Completed jobs; null without any.")
    p95_processing_time_ms = serializers.FloatField(allow_null=True, help_text="Linear interpolation between ranks.")
    failed_last_24h = serializers.IntegerField()
    oldest_queued_age_seconds = serializers.IntegerField(allow_null=True, help_text="Null when nothing is queued.")
    cancel_requested_running = serializers.IntegerField()
    stale_running = serializers.IntegerField(help_text="Running with a heartbeat older than 3 heartbeat intervals.")
    success_rate_30d_pct = serializers.FloatField(
        allow_null=True, help_text="completed / (completed + failed) over the last 30 days, INSUFFICIENT_DATA "
        "failures excluded; null when no job finished.",
    )  # fmt: skip


class JobSerializer(serializers.ModelSerializer):
    """A forecast job (FC-04) as the job list shows it."""

    product_id = serializers.IntegerField(read_only=True, allow_null=True)
    requested_by = serializers.IntegerField(source="requested_by_id", read_only=True)
    requested_by_name = serializers.SerializerMethodField()
    retry_of = serializers.SlugRelatedField(
        slug_field="job_id", read_only=True, allow_null=True, help_text="job_id of the source job; null if none."
    )

    class Meta:
        model = ForecastJob
        fields = ["job_id", "kind", "status", "product_id", "scope", "horizon", "model_type", "model_params",
                  "requested_by", "requested_by_name", "created_at", "started_at", "completed_at", "error",
                  "error_code", "attempt", "max_attempts", "retry_of", "progress_pct", "series_total", "series_done",
                  "series_failed", "cancel_requested_at"]  # fmt: skip
        read_only_fields = fields

    def get_requested_by_name(self, job) -> str:
        return str(job.requested_by)


class JobDetailSerializer(JobSerializer):
    """The job with its result (FC-73): the run for `generate`, every series for `batch_generate`."""

    result = serializers.JSONField(source="result_json", read_only=True, allow_null=True)

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "result"]
        read_only_fields = fields
