"""Publish readiness and publish policies (API-GOV-10, 11, 17, 18).

Thin callers of governance.services.readiness and governance.services.publish_policies. Writes
check the permission before reading the body, so a refused caller gets 403, not a 400.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from genxsop.errors import ValidationFailed
from genxsop.services import require_perm
from governance.choices import CycleStatus, EvaluationOutcome, Lane
from governance.models import PublishPolicy, ReadinessEvaluation, SopCycle
from governance.permissions import ADD_READINESS_EVALUATION, VIEW_PUBLISH_POLICY, VIEW_READINESS_EVALUATION
from governance.services import publish_policies, readiness

LANE_PARAMETER = OpenApiParameter("lane", OpenApiTypes.STR, OpenApiParameter.PATH, enum=Lane.values)
EVALUATION_PARAMETER = OpenApiParameter("evaluation_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


# Serializers -----------------------------------------------------------------------------------


class GateSerializer(serializers.Serializer):
    gate = serializers.CharField()
    section = serializers.ChoiceField(choices=list(readiness.SECTIONS))
    passed = serializers.BooleanField()
    overridable = serializers.BooleanField()
    detail = serializers.CharField()
    evidence = serializers.DictField(
        help_text="`count`, other figures of the gate and `keys`: up to 50 offending keys."
    )


class ScoredCheckSerializer(serializers.Serializer):
    check = serializers.CharField()
    passed = serializers.BooleanField()
    value = serializers.JSONField(help_text="A count, a percentage as a decimal string, or null without data.")
    threshold = serializers.JSONField()
    detail = serializers.CharField()
    keys = serializers.ListField(child=serializers.DictField(), required=False, help_text="Up to 50 offending keys.")


class ReadinessEvaluationSerializer(serializers.Serializer):
    """GOV-15; built from `readiness.evaluation_as_dict`."""

    id = serializers.IntegerField()
    evaluation_id = serializers.UUIDField()
    lane = serializers.ChoiceField(choices=Lane.choices)
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    sop_cycle_id = serializers.IntegerField(allow_null=True)
    outcome = serializers.ChoiceField(choices=EvaluationOutcome.choices)
    score = serializers.IntegerField()
    required_score = serializers.IntegerField()
    must_pass = GateSerializer(many=True)
    scored = ScoredCheckSerializer(many=True)
    failed_gates = serializers.ListField(child=serializers.CharField())
    non_overridable_failed = serializers.ListField(child=serializers.CharField())
    policy_snapshot = serializers.DictField()
    plan_fingerprint = serializers.CharField()
    plan_counts = serializers.DictField()
    evaluated_by = serializers.IntegerField(allow_null=True)
    evaluated_by_name = serializers.CharField()
    request_id = serializers.CharField()
    dry_run = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ReadinessResultSerializer(serializers.Serializer):
    overall = serializers.ChoiceField(choices=["go_both", "go_weekly_only", "go_monthly_only", "no_go"])
    evaluations = ReadinessEvaluationSerializer(many=True)


class ReadinessInputSerializer(serializers.Serializer):
    # A plain string: a second "lane" enum with "both" would collide with the Lane enum in the schema.
    lane = serializers.CharField(required=False, default="both", help_text="`weekly`, `monthly` or `both`.")
    period_from = serializers.DateField(
        required=False, allow_null=True, help_text="Monthly lane; any day of the month."
    )
    sop_cycle_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    def validate_lane(self, value):
        if value not in (*Lane.values, "both"):
            raise serializers.ValidationError("Use weekly, monthly or both.")
        return value


class PublishPolicySerializer(serializers.ModelSerializer):
    updated_by_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = PublishPolicy
        fields = [
            "lane", "horizon_unit", "horizon_min", "horizon_max", "freeze_days", "freeze_months", "required_score",
            "mape_threshold_pct", "bias_threshold_pct", "accuracy_lag", "accuracy_window_months",
            "inventory_max_age_hours", "inventory_freshness_min_pct", "actuals_coverage_min_pct", "is_active",
            "updated_by_id", "updated_at",
        ]  # fmt: skip


class PublishPolicyInputSerializer(serializers.Serializer):
    """PublishPolicy fields; those left out keep their value. `lane` and `horizon_unit` cannot change."""

    lane = serializers.ChoiceField(choices=Lane.choices, required=False)
    horizon_unit = serializers.CharField(required=False)
    horizon_min = serializers.IntegerField(required=False, min_value=1, max_value=60)
    horizon_max = serializers.IntegerField(required=False, min_value=1, max_value=60)
    freeze_days = serializers.IntegerField(required=False, min_value=0, max_value=366)
    freeze_months = serializers.IntegerField(required=False, min_value=0, max_value=24)
    required_score = serializers.IntegerField(required=False, min_value=0, max_value=4)
    mape_threshold_pct = serializers.DecimalField(required=False, max_digits=6, decimal_places=2)
    bias_threshold_pct = serializers.DecimalField(required=False, max_digits=6, decimal_places=2)
    accuracy_lag = serializers.IntegerField(required=False, min_value=1, max_value=24)
    accuracy_window_months = serializers.IntegerField(required=False, min_value=1, max_value=36)
    inventory_max_age_hours = serializers.IntegerField(required=False, min_value=1, max_value=24 * 366)
    inventory_freshness_min_pct = serializers.DecimalField(required=False, max_digits=5, decimal_places=2)
    actuals_coverage_min_pct = serializers.DecimalField(required=False, max_digits=5, decimal_places=2)
    is_active = serializers.BooleanField(required=False)


# Views -----------------------------------------------------------------------------------------


def _cycle(pk) -> SopCycle | None:
    if pk is None:
        return None
    cycle = SopCycle.objects.filter(pk=pk).exclude(overall_status=CycleStatus.CANCELLED).first()
    if cycle is None:
        raise ValidationFailed(fields={"sop_cycle_id": ["Unknown or cancelled cycle."]})
    return cycle


class ReadinessView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = ReadinessResultSerializer
    queryset = ReadinessEvaluation.objects.none()

    @extend_schema(
        summary="Check publish readiness (Go/No-Go)",
        description="Evaluates the must-pass gates and scored checks of one or both lanes (GOV-60…62) and stores "
        "each evaluation with `dry_run: true`.",
        request=ReadinessInputSerializer,
        responses={200: ReadinessResultSerializer, **error_responses(*WRITE_ERRORS, 409)},
    )
    def post(self, request):
        require_perm(request.user, ADD_READINESS_EVALUATION)
        data = validated_body(ReadinessInputSerializer, request.data)
        result = readiness.readiness_evaluate_lanes(
            actor=request.user,
            lane=data.get("lane") or "both",
            period_from=data.get("period_from"),
            sop_cycle=_cycle(data.get("sop_cycle_id")),
        )
        body = {
            "overall": result["overall"],
            "evaluations": [readiness.evaluation_as_dict(e) for e in result["evaluations"]],
        }
        return Response(ReadinessResultSerializer(body).data)


class ReadinessDetailView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = ReadinessEvaluationSerializer
    queryset = ReadinessEvaluation.objects.none()

    @extend_schema(
        summary="A readiness evaluation",
        parameters=[EVALUATION_PARAMETER],
        responses={200: ReadinessEvaluationSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, evaluation_id):
        require_perm(request.user, VIEW_READINESS_EVALUATION)
        evaluation = readiness.evaluation_get(evaluation_id)
        return Response(ReadinessEvaluationSerializer(readiness.evaluation_as_dict(evaluation)).data)


class PublishPolicyListView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = PublishPolicySerializer
    queryset = PublishPolicy.objects.none()
    pagination_class = None

    @extend_schema(
        summary="Publish policies",
        description="One per lane (GOV-14).",
        responses={200: PublishPolicySerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        require_perm(request.user, VIEW_PUBLISH_POLICY)
        return Response(PublishPolicySerializer(publish_policies.publish_policy_list(), many=True).data)


class PublishPolicyDetailView(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = PublishPolicySerializer
    queryset = PublishPolicy.objects.none()

    @extend_schema(
        summary="Change a publish policy",
        description="ADMIN. Fields left out keep their value; `horizon_min` ≤ `horizon_max`, `required_score` "
        "0…4 and positive thresholds, else 400. The change applies to the next evaluation.",
        parameters=[LANE_PARAMETER],
        request=PublishPolicyInputSerializer,
        responses={200: PublishPolicySerializer, **error_responses(*WRITE_ERRORS, 404)},
    )
    def put(self, request, lane):
        require_perm(request.user, publish_policies.CHANGE_POLICY)
        data = validated_body(PublishPolicyInputSerializer, request.data)
        if data.get("lane") not in (None, lane):
            raise ValidationFailed(fields={"lane": ["The lane of a policy cannot change."]})
        data.pop("lane", None)
        policy = publish_policies.publish_policy_update(actor=request.user, lane=lane, data=data)
        return Response(PublishPolicySerializer(policy).data)
