"""Forecasting entities (spec §2.2): runs and their frozen results, consensus, jobs, anomalies, accuracy.

Runs and their result rows are immutable snapshots: a new generation writes a new run, so accuracy
at a lag can always be measured against what was forecast at the time (FC-50). Only discarding
(FC-60) touches a result row afterwards.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from forecasting.choices import (
    ENGINE_VERSION,
    TOTAL_CHANNEL,
    TOTAL_REGION,
    AccuracyLayer,
    AnomalyDirection,
    AnomalyMethod,
    AnomalySeverity,
    AnomalyStatus,
    ConsensusStatus,
    DemandPattern,
    IntervalMethod,
    JobKind,
    JobStatus,
    RunSource,
)
from genxsop.scoping import ObjectScopedModel, ScopedQuerySet
from planning.models import Product

MAX_HORIZON = 24


def new_job_id() -> str:
    return str(uuid.uuid4())


# Index names: Django caps them at 30 characters, so the spec's longer ix_forecast_jobs_* and
# ix_forecast_runs_* names are spelt ix_fc_jobs_* and ix_fc_runs_*.


def _qty(**kwargs):
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def _user_fk(related_name: str = "+", on_delete=models.SET_NULL, null: bool = True):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=null, blank=null, on_delete=on_delete, related_name=related_name
    )


class SeriesScoped(ObjectScopedModel):
    scope_category_path = "product__category"


class ForecastJob(models.Model):
    """FC-04: durable background forecasting work; the row, not the broker, is the source of truth."""

    job_id = models.CharField(max_length=64, unique=True, default=new_job_id, editable=False)
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scope = models.JSONField(default=dict, blank=True)
    horizon = models.PositiveSmallIntegerField()
    model_type = models.CharField(max_length=50, null=True, blank=True)
    model_params = models.JSONField(default=dict, blank=True)
    requested_by = _user_fk("forecast_jobs", on_delete=models.PROTECT, null=False)
    request_id = models.CharField(max_length=128, blank=True, default="")
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(default=1)
    max_attempts = models.PositiveSmallIntegerField(default=2)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    progress_pct = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    series_total = models.PositiveIntegerField(default=0)
    series_done = models.PositiveIntegerField(default=0)
    series_failed = models.PositiveIntegerField(default=0)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = _user_fk()
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=128, blank=True, default="")
    error = models.TextField(blank=True, default="")
    error_code = models.CharField(max_length=40, blank=True, default="")
    result_json = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "forecast_jobs"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("manage_forecastjob", "List, cancel, retry and clean up forecast jobs; read job metrics"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="ck_forecast_jobs_status"),
            models.CheckConstraint(condition=Q(kind__in=JobKind.values), name="ck_forecast_jobs_kind"),
            models.CheckConstraint(
                condition=Q(horizon__gte=1) & Q(horizon__lte=MAX_HORIZON), name="ck_forecast_jobs_horizon"
            ),
            models.CheckConstraint(
                condition=Q(progress_pct__gte=0) & Q(progress_pct__lte=100), name="ck_forecast_jobs_progress"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=["completed", "failed", "cancelled"], completed_at__isnull=False)
                    | (~Q(status__in=["completed", "failed", "cancelled"]) & Q(completed_at__isnull=True))
                ),
                name="ck_forecast_jobs_completed",
            ),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="ck_forecast_jobs_attempt"),
            models.UniqueConstraint(
                fields=["requested_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="uq_forecast_jobs_idempotency",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="ix_fc_jobs_status_created"),
            models.Index(fields=["requested_by", "created_at"], name="ix_fc_jobs_requester_created"),
            models.Index(fields=["product"], name="ix_forecast_jobs_product"),
        ]

    def __str__(self):
        return f"{self.kind} job {self.job_id} ({self.status})"


class ForecastRun(SeriesScoped, models.Model):
    """FC-01: one successful engine execution for one series; immutable (no updated_at)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="forecast_runs")
    region = models.CharField(max_length=100, default=TOTAL_REGION)
    channel = models.CharField(max_length=100, default=TOTAL_CHANNEL)
    user = _user_fk()
    job = models.ForeignKey(ForecastJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    requested_model = models.CharField(max_length=50, null=True, blank=True)
    selected_model = models.CharField(max_length=50)
    model_used = models.CharField(max_length=50)
    horizon = models.PositiveSmallIntegerField()
    model_params = models.JSONField(default=dict, blank=True)
    advisor_enabled = models.BooleanField(default=False)
    fallback_used = models.BooleanField(default=False)
    fallback_chain = models.JSONField(default=list, blank=True)
    advisor_confidence = models.DecimalField(max_digits=6, decimal_places=4, default=0)
    selection_reason = models.TextField(blank=True, default="")
    history_months = models.PositiveIntegerField()
    history_start = models.DateField()
    history_end = models.DateField()
    as_of_period = models.DateField()
    demand_pattern = models.CharField(max_length=20, choices=DemandPattern.choices)
    adi = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    cv2 = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    records_created = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    candidate_metrics = models.JSONField(default=list, blank=True)  # FC-41 rows: the backtest table
    data_quality_flags = models.JSONField(default=list, blank=True)
    engine_version = models.CharField(max_length=50, default=ENGINE_VERSION)
    source = models.CharField(max_length=20, choices=RunSource.choices, default=RunSource.INTERACTIVE)
    request_id = models.CharField(max_length=128, blank=True, default="")
    discarded_at = models.DateTimeField(null=True, blank=True)  # every result row discarded (FC-60)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "forecast_run_audits"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(horizon__gte=1) & Q(horizon__lte=MAX_HORIZON), name="ck_forecast_runs_horizon"
            ),
            models.CheckConstraint(
                condition=Q(advisor_confidence__gte=0) & Q(advisor_confidence__lte=1),
                name="ck_forecast_runs_confidence",
            ),
            models.CheckConstraint(
                condition=Q(demand_pattern__in=DemandPattern.values), name="ck_forecast_runs_pattern"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "created_at"], name="ix_fc_runs_product_created"),
            models.Index(fields=["fallback_used", "created_at"], name="ix_fc_runs_fallback_created"),
            models.Index(fields=["product", "region", "channel", "as_of_period"], name="ix_fc_runs_series_asof"),
        ]

    def __str__(self):
        return f"Run {self.pk} {self.product_id}/{self.region}/{self.channel} as of {self.as_of_period:%Y-%m}"


class Forecast(SeriesScoped, models.Model):
    """FC-02: the frozen result rows of a run; never overwritten, only discarded."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="results")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="forecasts")
    region = models.CharField(max_length=100, default=TOTAL_REGION)
    channel = models.CharField(max_length=100, default=TOTAL_CHANNEL)
    model_type = models.CharField(max_length=50)
    period = models.DateField()
    lag = models.PositiveSmallIntegerField()
    predicted_qty = _qty()
    lower_bound = _qty()  # 95 %
    upper_bound = _qty()
    lower_80 = _qty(null=True, blank=True)
    upper_80 = _qty(null=True, blank=True)
    interval_level = models.DecimalField(max_digits=5, decimal_places=2, default=95)
    interval_method = models.CharField(max_length=20, choices=IntervalMethod.choices, default=IntervalMethod.BAND)
    confidence = models.DecimalField(max_digits=5, decimal_places=2)
    mape = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    rmse = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    features_used = models.JSONField(default=dict, blank=True)
    model_version = models.CharField(max_length=50, default=ENGINE_VERSION)
    training_date = models.DateTimeField()
    discarded_at = models.DateTimeField(null=True, blank=True)
    discarded_by = _user_fk()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "forecasts"
        ordering = ["period", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "period"], name="uq_forecasts_run_period"),
            models.CheckConstraint(
                condition=Q(predicted_qty__gte=0) & Q(lower_bound__gte=0) & Q(upper_bound__gte=0),
                name="ck_forecasts_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(lower_bound__lte=F("predicted_qty")) & Q(predicted_qty__lte=F("upper_bound")),
                name="ck_forecasts_band",
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=100), name="ck_forecasts_confidence"
            ),
            models.CheckConstraint(condition=Q(lag__gte=1) & Q(lag__lte=MAX_HORIZON), name="ck_forecasts_lag"),
        ]
        indexes = [
            models.Index(fields=["product", "period"], name="ix_forecasts_product_period"),
            models.Index(fields=["model_type", "period"], name="ix_forecasts_model_period"),
            models.Index(fields=["product", "region", "channel", "period", "lag"], name="ix_forecasts_series_lag"),
        ]

    def __str__(self):
        return f"{self.model_type} {self.period:%Y-%m} = {self.predicted_qty}"


class ForecastConsensus(SeriesScoped, models.Model):
    """FC-03: consensus quantities on top of a run, live and history rows in one table (as PLN-04)."""

    forecast_run = models.ForeignKey(ForecastRun, on_delete=models.PROTECT, related_name="consensus")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="forecast_consensus")
    region = models.CharField(max_length=100, default=TOTAL_REGION)
    channel = models.CharField(max_length=100, default=TOTAL_CHANNEL)
    period = models.DateField()
    baseline_qty = _qty(validators=[MinValueValidator(0)])
    sales_override_qty = _qty(default=0)
    marketing_uplift_qty = _qty(default=0)
    finance_adjustment_qty = _qty(default=0)
    constraint_cap_qty = _qty(null=True, blank=True, validators=[MinValueValidator(0)])
    pre_consensus_qty = _qty(default=0)
    final_consensus_qty = _qty(default=0)
    status = models.CharField(max_length=20, choices=ConsensusStatus.choices, default=ConsensusStatus.DRAFT)
    notes = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    is_current = models.BooleanField(default=True)
    history_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="versions")
    proposed_by = _user_fk()
    proposed_at = models.DateTimeField(null=True, blank=True)
    approved_by = _user_fk()
    approved_at = models.DateTimeField(null=True, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    created_by = _user_fk()
    updated_by = _user_fk()
    pushed_to = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "forecast_consensus"
        ordering = ["period", "-version"]
        permissions = [
            ("propose_forecastconsensus", "Propose consensus rows"),
            ("approve_forecastconsensus", "Approve or return consensus rows"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["forecast_run", "period", "version"], name="uq_forecast_consensus_run_period_version"
            ),
            models.UniqueConstraint(
                fields=["forecast_run", "period"], condition=Q(is_current=True), name="uq_forecast_consensus_current"
            ),
            models.UniqueConstraint(
                fields=["product", "region", "channel", "period"],
                condition=Q(is_current=True, status__in=["approved", "frozen"]),
                name="uq_forecast_consensus_approved_series",
            ),
            models.CheckConstraint(condition=Q(status__in=ConsensusStatus.values), name="ck_forecast_consensus_status"),
            models.CheckConstraint(
                condition=Q(baseline_qty__gte=0)
                & Q(pre_consensus_qty__gte=0)
                & Q(final_consensus_qty__gte=0)
                & (Q(constraint_cap_qty__isnull=True) | Q(constraint_cap_qty__gte=0)),
                name="ck_forecast_consensus_nonneg",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="ck_forecast_consensus_version"),
        ]
        indexes = [
            models.Index(fields=["forecast_run", "period"], name="ix_forecast_consensus_run"),
            models.Index(fields=["product", "period"], name="ix_forecast_consensus_product"),
            models.Index(fields=["status", "period"], name="ix_forecast_consensus_status"),
        ]

    def __str__(self):
        return f"Consensus {self.product_id} {self.period:%Y-%m} v{self.version} ({self.status})"


class ForecastAnomaly(SeriesScoped, models.Model):
    """FC-05: a detected anomaly in a series' history, triaged by WF-22."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="forecast_anomalies")
    region = models.CharField(max_length=100, default=TOTAL_REGION)
    channel = models.CharField(max_length=100, default=TOTAL_CHANNEL)
    period = models.DateField()
    value = _qty()
    expected = _qty()
    z_score = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    method = models.CharField(max_length=10, choices=AnomalyMethod.choices, default=AnomalyMethod.ZSCORE)
    direction = models.CharField(max_length=10, choices=AnomalyDirection.choices)
    severity = models.CharField(max_length=10, choices=AnomalySeverity.choices)
    status = models.CharField(max_length=20, choices=AnomalyStatus.choices, default=AnomalyStatus.OPEN)
    corrected_value = _qty(null=True, blank=True, validators=[MinValueValidator(0)])
    suggested_action = models.CharField(max_length=200, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    detected_at = models.DateTimeField()
    detected_by = _user_fk()
    job = models.ForeignKey(ForecastJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_by = _user_fk()
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "forecast_anomalies"
        ordering = ["-period", "product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "region", "channel", "period", "method"], name="uq_forecast_anomalies_key"
            ),
            models.CheckConstraint(
                condition=~Q(status="corrected") | Q(corrected_value__isnull=False),
                name="ck_forecast_anomalies_corrected",
            ),
            models.CheckConstraint(
                condition=Q(corrected_value__isnull=True) | Q(corrected_value__gte=0),
                name="ck_forecast_anomalies_corrected_nonneg",
            ),
            models.CheckConstraint(condition=Q(status__in=AnomalyStatus.values), name="ck_forecast_anomalies_status"),
        ]
        indexes = [
            models.Index(fields=["status", "period"], name="ix_forecast_anomalies_status"),
            models.Index(fields=["product", "period"], name="ix_forecast_anomalies_product"),
        ]

    def __str__(self):
        return f"{self.direction} {self.period:%Y-%m} ({self.severity}, {self.status})"


class ForecastAccuracyPoint(SeriesScoped, models.Model):
    """FC-06: the materialised error of one layer's forecast of record at one lag (rebuilt by FC-53)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    region = models.CharField(max_length=100, default=TOTAL_REGION)
    channel = models.CharField(max_length=100, default=TOTAL_CHANNEL)
    period = models.DateField()
    lag = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_HORIZON)])
    layer = models.CharField(max_length=20, choices=AccuracyLayer.choices)
    model_type = models.CharField(max_length=50)
    forecast_qty = _qty()
    actual_qty = _qty()
    error = _qty()
    abs_error = _qty()
    ape = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    lower_bound = _qty(null=True, blank=True)
    upper_bound = _qty(null=True, blank=True)
    in_interval = models.BooleanField(null=True, blank=True)
    run = models.ForeignKey(ForecastRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    consensus = models.ForeignKey(ForecastConsensus, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "forecast_accuracy_points"
        ordering = ["period", "lag", "layer"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "region", "channel", "period", "lag", "layer", "model_type"],
                name="uq_accuracy_points_key",
            ),
            models.CheckConstraint(condition=Q(layer__in=AccuracyLayer.values), name="ck_accuracy_points_layer"),
            models.CheckConstraint(condition=Q(lag__gte=1) & Q(lag__lte=MAX_HORIZON), name="ck_accuracy_points_lag"),
        ]
        indexes = [
            models.Index(fields=["period", "lag", "layer"], name="ix_accuracy_points_period"),
            models.Index(fields=["product", "period"], name="ix_accuracy_points_product"),
        ]

    def __str__(self):
        return f"{self.layer} lag {self.lag} {self.period:%Y-%m}: {self.forecast_qty} vs {self.actual_qty}"
