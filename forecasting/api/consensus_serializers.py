"""Consensus, promotion and anomaly API serializers (API-FC-23…35, 37)."""

from functools import cached_property

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from forecasting.choices import AnomalyMethod
from forecasting.models import ForecastAnomaly, ForecastConsensus
from forecasting.services.anomalies import anomaly_allowed_actions
from forecasting.services.consensus import consensus_action_perms, consensus_allowed_actions
from genxsop.api.fields import StrictCharField
from planning.api.serializers import PeriodField


def _qty(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def _name(user) -> str | None:
    return user.full_name if user is not None else None


class ConsensusSerializer(serializers.ModelSerializer):
    """FC-03: a consensus row, live or history."""

    forecast_run_id = serializers.IntegerField(read_only=True)
    forecast_run_audit_id = serializers.IntegerField(source="forecast_run_id", read_only=True)
    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    history_of = serializers.IntegerField(source="history_of_id", allow_null=True, read_only=True)
    proposed_by = serializers.IntegerField(source="proposed_by_id", allow_null=True, read_only=True)
    approved_by = serializers.IntegerField(source="approved_by_id", allow_null=True, read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True, read_only=True)
    updated_by = serializers.IntegerField(source="updated_by_id", allow_null=True, read_only=True)
    proposed_by_name = serializers.SerializerMethodField()
    approved_by_name = serializers.SerializerMethodField()
    created_by_name = serializers.SerializerMethodField()
    updated_by_name = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True, help_text="draft | proposed | approved | frozen | superseded.")
    pushed_to = serializers.SerializerMethodField(help_text="`[{plan_id, version, qty}]` written on approval (FC-32).")
    allowed_actions = serializers.SerializerMethodField(help_text="Actions the caller may take now (WF-04).")

    class Meta:
        model = ForecastConsensus
        fields = [
            "id", "forecast_run_id", "forecast_run_audit_id", "product_id", "sku", "product_name", "region",
            "channel", "period", "baseline_qty", "sales_override_qty", "marketing_uplift_qty",
            "finance_adjustment_qty", "constraint_cap_qty", "pre_consensus_qty", "final_consensus_qty", "status",
            "notes", "version", "is_current", "history_of", "proposed_by", "proposed_by_name", "proposed_at",
            "approved_by", "approved_by_name", "approved_at", "frozen_at", "created_by", "created_by_name",
            "updated_by", "updated_by_name", "pushed_to", "created_at", "updated_at", "allowed_actions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_proposed_by_name(self, row) -> str | None:
        return _name(row.proposed_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_approved_by_name(self, row) -> str | None:
        return _name(row.approved_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by_name(self, row) -> str | None:
        return _name(row.created_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_updated_by_name(self, row) -> str | None:
        return _name(row.updated_by)

    @extend_schema_field(
        {"type": "array", "items": {"type": "object", "properties": {
            "plan_id": {"type": "integer"}, "version": {"type": "integer"}, "qty": {"type": "string"}}}}
    )  # fmt: skip
    def get_pushed_to(self, row) -> list:
        return row.pushed_to or []

    @cached_property
    def _held_perms(self) -> frozenset[str]:
        # One serializer instance renders every row of a list: the caller's permissions are read once.
        return consensus_action_perms(self.context["request"].user)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, row) -> list[str]:
        return consensus_allowed_actions(user=self.context["request"].user, consensus=row, held_perms=self._held_perms)


class ConsensusVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    is_current = serializers.BooleanField()
    baseline_qty = _qty()
    sales_override_qty = _qty()
    marketing_uplift_qty = _qty()
    finance_adjustment_qty = _qty()
    constraint_cap_qty = _qty(allow_null=True)
    pre_consensus_qty = _qty()
    final_consensus_qty = _qty()
    notes = serializers.CharField()
    status_at_version = serializers.CharField()
    changed_fields = serializers.ListField(child=serializers.CharField())
    changed_by = serializers.IntegerField(allow_null=True)
    changed_by_name = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField()


_ADJUSTMENT = {"max_digits": 12, "decimal_places": 2, "required": False}


class ConsensusCreateInputSerializer(serializers.Serializer):
    forecast_run_audit_id = serializers.IntegerField(min_value=1, help_text="The run the consensus sits on.")
    product_id = serializers.IntegerField(min_value=1, required=False, help_text="Must be the run's product.")
    region = StrictCharField(max_length=100, required=False, help_text="Must be the run's region.")
    channel = StrictCharField(max_length=100, required=False, help_text="Must be the run's channel.")
    period = PeriodField(help_text="One of the run's forecast periods (YYYY-MM or YYYY-MM-DD).")
    baseline_qty = serializers.DecimalField(min_value=0, allow_null=True, **_ADJUSTMENT,
                                            help_text="Default: the run's prediction for the period.")  # fmt: skip
    sales_override_qty = serializers.DecimalField(**_ADJUSTMENT)
    marketing_uplift_qty = serializers.DecimalField(**_ADJUSTMENT)
    finance_adjustment_qty = serializers.DecimalField(**_ADJUSTMENT)
    constraint_cap_qty = serializers.DecimalField(min_value=0, allow_null=True, **_ADJUSTMENT)
    notes = StrictCharField(required=False, allow_blank=True)
    status = StrictCharField(required=False, help_text="draft (default) or proposed.")


class ConsensusUpdateInputSerializer(serializers.Serializer):
    baseline_qty = serializers.DecimalField(min_value=0, **_ADJUSTMENT)
    sales_override_qty = serializers.DecimalField(**_ADJUSTMENT)
    marketing_uplift_qty = serializers.DecimalField(**_ADJUSTMENT)
    finance_adjustment_qty = serializers.DecimalField(**_ADJUSTMENT)
    constraint_cap_qty = serializers.DecimalField(min_value=0, allow_null=True, **_ADJUSTMENT)
    notes = StrictCharField(required=False, allow_blank=True, allow_null=True)
    status = StrictCharField(
        required=False,
        help_text="WF-20 shorthand: proposed proposes, draft withdraws a proposed row; approved, frozen and "
        "superseded are 400.",
    )  # fmt: skip
    expected_version = serializers.IntegerField(min_value=1, required=False)


class ConsensusActionInputSerializer(serializers.Serializer):
    comment = StrictCharField(required=False, allow_blank=True)
    expected_version = serializers.IntegerField(min_value=1, required=False)


class ConsensusReturnInputSerializer(serializers.Serializer):
    comment = StrictCharField(help_text="Why the consensus goes back to draft (required).")
    expected_version = serializers.IntegerField(min_value=1, required=False)


class ConsensusApproveInputSerializer(serializers.Serializer):
    notes = StrictCharField(required=False, allow_blank=True, help_text="Kept as an approval comment.")
    expected_version = serializers.IntegerField(min_value=1, required=False)


# Promotion ---------------------------------------------------------------------------------------


class PromoteInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    selected_model = StrictCharField(max_length=50)
    horizon = serializers.IntegerField(min_value=1, max_value=24, required=False, default=6)
    notes = StrictCharField(required=False, allow_blank=True, default="")
    region = StrictCharField(max_length=100, required=False, allow_null=True)
    channel = StrictCharField(max_length=100, required=False, allow_null=True)
    run_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    set_consensus = serializers.BooleanField(required=False, default=False)


class PromoteSkippedSerializer(serializers.Serializer):
    period = serializers.DateField()
    plan_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class PromoteResponseSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    selected_model = serializers.CharField()
    run_id = serializers.IntegerField()
    records_promoted = serializers.IntegerField(help_text="Demand plan rows written (new versions or new drafts).")
    periods = serializers.ListField(child=serializers.DateField())
    skipped = PromoteSkippedSerializer(many=True)


# Anomalies ---------------------------------------------------------------------------------------


class AnomalyDetectInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    region = StrictCharField(max_length=100, required=False, allow_null=True)
    channel = StrictCharField(max_length=100, required=False, allow_null=True)
    method = serializers.ChoiceField(choices=AnomalyMethod.choices, required=False, default=AnomalyMethod.ZSCORE)
    threshold = serializers.FloatField(required=False, allow_null=True, min_value=0.0001, max_value=1000,
                                       help_text="zscore: |z| limit (2.5); iqr: k (1.5).")  # fmt: skip


_ANOMALY_STATUS = "open | acknowledged | corrected | dismissed (WF-22)."
_SEVERITY = "medium | high."


class AnomalyDetectedSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text=_ANOMALY_STATUS)
    severity = serializers.CharField(read_only=True, help_text=_SEVERITY)

    class Meta:
        model = ForecastAnomaly
        fields = ["id", "period", "value", "expected", "severity", "z_score", "direction", "status", "method",
                  "suggested_action"]  # fmt: skip
        read_only_fields = fields


class AnomalySerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    detected_by = serializers.IntegerField(source="detected_by_id", allow_null=True, read_only=True)
    resolved_by = serializers.IntegerField(source="resolved_by_id", allow_null=True, read_only=True)
    job_id = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True, help_text=_ANOMALY_STATUS)
    severity = serializers.CharField(read_only=True, help_text=_SEVERITY)
    allowed_actions = serializers.SerializerMethodField(help_text="WF-22 actions the caller may take now.")

    class Meta:
        model = ForecastAnomaly
        fields = [
            "id", "product_id", "sku", "product_name", "region", "channel", "period", "value", "expected", "z_score",
            "method", "direction", "severity", "status", "corrected_value", "suggested_action", "notes",
            "detected_at", "detected_by", "job_id", "resolved_by", "resolved_at", "updated_at", "allowed_actions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_job_id(self, row) -> str | None:
        return row.job.job_id if row.job_id else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, row) -> list[str]:
        return anomaly_allowed_actions(user=self.context["request"].user, anomaly=row)


class AnomalyUpdateInputSerializer(serializers.Serializer):
    status = StrictCharField(help_text="The target status: " + _ANOMALY_STATUS)
    corrected_value = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True,
                                               help_text="Required (>= 0) to correct.")  # fmt: skip
    notes = StrictCharField(required=False, allow_blank=True, help_text="Required to dismiss.")
