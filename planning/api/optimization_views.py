"""Inventory optimisation runs, policy recommendations and the control-tower summary (API-INV-05…07,
10…14, 16): thin adapters over planning.services.optimization and planning.selectors.inventory_analytics."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from genxsop.api.schema import READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from planning import permissions as perms
from planning.api.inventory_analytics_views import PolicyExceptionSerializer
from planning.api.supply_views import GatedView
from planning.choices import PolicyRunMethod, PolicyRunStatus, RecommendationStatus
from planning.selectors import inventory_analytics as sel
from planning.services import optimization as svc

_QTY = {"max_digits": 12, "decimal_places": 2}


def _dec(**kwargs):
    for bound in ("min_value", "max_value"):
        if bound in kwargs:
            kwargs[bound] = Decimal(str(kwargs[bound]))
    return serializers.DecimalField(max_digits=14, decimal_places=4, **kwargs)


# Runs ---------------------------------------------------------------------------------------------


class PolicyRunInputSerializer(serializers.Serializer):
    def validate_method(self, value):
        if value not in PolicyRunMethod.values:
            raise serializers.ValidationError("One of coverage, statistical.")
        return value

    product_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    location = serializers.CharField(required=False, allow_blank=True, max_length=50, help_text="Location code.")
    method = serializers.CharField(default=PolicyRunMethod.COVERAGE, help_text="coverage or statistical.")
    service_level_target = _dec(default="0.95", min_value=0.80, max_value=0.999)
    lead_time_days = _dec(default="14", min_value=1, max_value=365)
    review_period_days = _dec(default="7", min_value=1, max_value=90)
    moq_units = _dec(required=False, allow_null=True, min_value=0)
    lot_size_units = _dec(required=False, allow_null=True, min_value=0.0001)
    capacity_max_units = _dec(required=False, allow_null=True, min_value=0)
    lead_time_variability_days = _dec(required=False, allow_null=True, min_value=0, max_value=365)


class PolicyRunSerializer(serializers.Serializer):
    """An optimisation run (PLN-08)."""

    run_id = serializers.CharField()
    status = serializers.CharField(help_text="running, completed or failed.")
    method = serializers.CharField(help_text="coverage or statistical.")
    product_id = serializers.IntegerField(allow_null=True)
    location = serializers.CharField(allow_null=True, source="location_or_none")
    requested_by = serializers.IntegerField(source="requested_by_id")
    processed_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField()
    exception_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    parameters = serializers.JSONField(help_text="The request's parameters; decimals as strings.")
    result = serializers.JSONField(help_text="`rows`: per-row outcome; `exceptions`: created/updated/resolved.")


class PolicyRunCreatedSerializer(serializers.Serializer):
    run_id = serializers.CharField()
    status = serializers.CharField(help_text="running, completed or failed.")
    processed_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField()
    exception_count = serializers.IntegerField()
    generated_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    exceptions = PolicyExceptionSerializer(many=True)


class PolicyRunQuerySerializer(serializers.Serializer):
    def validate_status(self, value):
        if value not in PolicyRunStatus.values:
            raise serializers.ValidationError("One of running, completed, failed.")
        return value

    limit = serializers.IntegerField(default=50, min_value=1, max_value=200)
    status = serializers.CharField(required=False, help_text="running, completed or failed.")


def _run_out(run):
    run.location_or_none = run.location or None
    return run


class PolicyRunListView(GatedView):
    permission = perms.ADD_POLICY_RUN

    def get_permissions(self):
        # Reading the history needs the same role as running (INV_W), by the view permission.
        if self.request.method == "GET":
            self.permission = perms.VIEW_POLICY_RUN
        return super().get_permissions()

    @extend_schema(
        summary="Run inventory policy optimisation",
        description="FRM-06 over the active rows in the caller's change scope (optionally one product and/or "
        "location), in one transaction: safety stock, reorder point and max per row (coverage or statistical), "
        "shaped by MOQ, lot size and capacity, an audit event per changed row, and the stockout, excess and "
        "data-quality exceptions upserted (WF-61). A run that fails records `status: failed` with `error` and "
        "changes no policy.",
        request=PolicyRunInputSerializer,
        responses={201: PolicyRunCreatedSerializer, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request):
        params = validated_body(PolicyRunInputSerializer, request.data)
        run = svc.policy_run_create(actor=request.user, params=params,
                                    request_id=getattr(request, "request_id", "") or "")  # fmt: skip
        exceptions = sel.policy_exception_list(user=request.user).filter(run=run, status__in=("open", "in_progress"))
        body = {
            "run_id": run.run_id, "status": run.status, "processed_count": run.processed_count,
            "updated_count": run.updated_count, "skipped_count": run.skipped_count,
            "exception_count": run.exception_count, "generated_at": run.completed_at, "error": run.error,
            "exceptions": list(exceptions),
        }  # fmt: skip
        data = PolicyRunCreatedSerializer(body, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="List optimisation runs",
        description="The newest runs first, at most `limit` (1..200, default 50), optionally by status.",
        parameters=[PolicyRunQuerySerializer],
        responses={200: PolicyRunSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        params = validated_query(PolicyRunQuerySerializer, request)
        runs = sel.policy_run_list(user=request.user, status=params.get("status"), limit=params["limit"])
        return Response(PolicyRunSerializer([_run_out(r) for r in runs], many=True).data)


class PolicyRunDetailView(GatedView):
    permission = perms.VIEW_POLICY_RUN

    @extend_schema(
        summary="Get an optimisation run",
        parameters=[OpenApiParameter("run_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: PolicyRunSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, run_id):
        return Response(PolicyRunSerializer(_run_out(sel.policy_run_get(user=request.user, run_id=run_id))).data)


# Recommendations -------------------------------------------------------------------------------------


class PolicyRecommendationSerializer(serializers.Serializer):
    """RecommendationView (PLN-10) with the caller's allowed WF-60 actions."""

    id = serializers.IntegerField()
    inventory_id = serializers.IntegerField()
    product_id = serializers.IntegerField(source="inventory.product_id")
    sku = serializers.CharField(source="inventory.product.sku")
    location = serializers.CharField(source="inventory.location.code")
    recommended_safety_stock = serializers.DecimalField(**_QTY)
    recommended_reorder_point = serializers.DecimalField(**_QTY)
    recommended_max_stock = serializers.DecimalField(**_QTY, allow_null=True)
    current_safety_stock = serializers.DecimalField(**_QTY, allow_null=True)
    current_reorder_point = serializers.DecimalField(**_QTY, allow_null=True)
    current_max_stock = serializers.DecimalField(**_QTY, allow_null=True)
    impact_pct = serializers.DecimalField(max_digits=8, decimal_places=2)
    high_impact = serializers.BooleanField()
    confidence_score = serializers.DecimalField(max_digits=5, decimal_places=4)
    rationale = serializers.CharField()
    signals = serializers.JSONField()
    status = serializers.CharField(help_text="pending, accepted, rejected or applied.")
    decision_notes = serializers.CharField()
    generated_by = serializers.IntegerField(source="generated_by_id", allow_null=True)
    accepted_by = serializers.IntegerField(source="accepted_by_id", allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    applied_by = serializers.IntegerField(source="applied_by_id", allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    applied_via = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    allowed_actions = serializers.SerializerMethodField(help_text="approve, apply (accept and apply), reject.")

    def get_allowed_actions(self, obj) -> list[str]:
        return svc.recommendation_allowed_actions(self.context["request"].user, obj)


class RecommendationGenerateInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    location = serializers.CharField(required=False, allow_blank=True, max_length=50)
    min_confidence = _dec(default="0.55", min_value=0, max_value=1)
    max_items = serializers.IntegerField(default=100, min_value=1, max_value=500)
    enforce_quality_gate = serializers.BooleanField(default=True)
    min_quality_score = _dec(default="0.60", min_value=0, max_value=1)


class RecommendationDecisionInputSerializer(serializers.Serializer):
    decision = serializers.CharField(help_text="accepted or rejected.")

    def validate_decision(self, value):
        if value not in (RecommendationStatus.ACCEPTED, RecommendationStatus.REJECTED):
            raise serializers.ValidationError("One of accepted, rejected.")
        return value

    apply_changes = serializers.BooleanField(default=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RecommendationApproveInputSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AutoApplyInputSerializer(serializers.Serializer):
    min_confidence = _dec(default="0.80", min_value=0, max_value=1)
    max_demand_pressure = _dec(default="1.20", min_value=0, max_value=10)
    max_items = serializers.IntegerField(default=100, min_value=1, max_value=1000)
    min_quality_score = _dec(default="0.60", min_value=0, max_value=1)
    dry_run = serializers.BooleanField(default=False)


class _Skipped(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()


class AutoApplySerializer(serializers.Serializer):
    eligible_count = serializers.IntegerField()
    applied_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField()
    recommendation_ids = serializers.ListField(child=serializers.IntegerField())
    skipped = _Skipped(many=True)
    dry_run = serializers.BooleanField()


class RecommendationQuerySerializer(serializers.Serializer):
    status = serializers.CharField(required=False, help_text="pending, accepted, rejected, applied; comma-separated.")
    inventory_id = serializers.IntegerField(required=False, min_value=1)
    product_id = serializers.IntegerField(required=False, min_value=1)
    location = serializers.CharField(required=False, help_text="Location code(s), comma-separated.")


def _recs(request, recs, many=True):
    return PolicyRecommendationSerializer(recs, many=many, context={"request": request}).data


class RecommendationListView(GatedView):
    permission = perms.VIEW_POLICY_RECOMMENDATION

    @extend_schema(
        summary="List policy recommendations",
        description="Recommendations on the rows in the caller's scope, newest first.",
        parameters=[RecommendationQuerySerializer],
        responses={200: PolicyRecommendationSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        return Response(_recs(request, sel.policy_recommendation_list(user=request.user, filters=request.query_params)))


class RecommendationGenerateView(GatedView):
    permission = perms.ADD_POLICY_RECOMMENDATION

    @extend_schema(
        summary="Generate policy recommendations",
        description="FRM-08/09 over the rows in the caller's change scope: at most `max_items`, highest confidence "
        "first, below `min_confidence` or (with the quality gate) `min_quality_score` left out. A row's pending "
        "recommendation is updated in place and the caller becomes its generator (maker).",
        request=RecommendationGenerateInputSerializer,
        responses={201: PolicyRecommendationSerializer(many=True), **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request):
        params = validated_body(RecommendationGenerateInputSerializer, request.data)
        recs = svc.policy_recommendation_generate(actor=request.user, **params)
        recs = sel.policy_recommendation_list(user=request.user).filter(pk__in=[r.pk for r in recs])
        recs = sorted(recs, key=lambda r: (-r.confidence_score, r.inventory_id))
        return Response(_recs(request, recs), status=status.HTTP_201_CREATED)


class _RecommendationWriteView(GatedView):
    permission = perms.CHANGE_POLICY_RECOMMENDATION


class RecommendationDecisionView(_RecommendationWriteView):
    @extend_schema(
        summary="Decide a policy recommendation",
        description="WF-60: `rejected` from pending or accepted; `accepted` with `apply_changes=false` approves "
        "(pending → accepted; the generator of a high-impact row may not: 403 SELF_APPROVAL_FORBIDDEN); `accepted` "
        "with `apply_changes=true` applies an accepted row, or a pending row that is not high-impact (409 "
        "APPROVAL_REQUIRED otherwise). Applying writes SS/ROP/max to the inventory row. Applied and rejected are "
        "terminal (409 INVALID_STATE_TRANSITION).",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=RecommendationDecisionInputSerializer,
        responses={200: PolicyRecommendationSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        rec = sel.policy_recommendation_get(user=request.user, pk=pk)
        data = validated_body(RecommendationDecisionInputSerializer, request.data)
        svc.policy_recommendation_decide(actor=request.user, recommendation=rec, **data)
        return Response(_recs(request, sel.policy_recommendation_get(user=request.user, pk=pk), many=False))


class RecommendationApproveView(_RecommendationWriteView):
    @extend_schema(
        summary="Approve a policy recommendation",
        description="WF-60 pending → accepted. The generator of a high-impact recommendation cannot approve it "
        "(403 SELF_APPROVAL_FORBIDDEN) while ENFORCE_SEGREGATION_OF_DUTIES is on.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=RecommendationApproveInputSerializer,
        responses={200: PolicyRecommendationSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        rec = sel.policy_recommendation_get(user=request.user, pk=pk)
        data = validated_body(RecommendationApproveInputSerializer, request.data)
        svc.policy_recommendation_approve(actor=request.user, recommendation=rec, notes=data.get("notes", ""))
        return Response(_recs(request, sel.policy_recommendation_get(user=request.user, pk=pk), many=False))


class RecommendationAutoApplyView(_RecommendationWriteView):
    @extend_schema(
        summary="Auto-apply recommendations (guardrails)",
        description="FRM-13: applies the pending and accepted recommendations in the caller's change scope with "
        "confidence ≥ `min_confidence`, demand pressure ≤ `max_demand_pressure` and quality ≥ "
        "`min_quality_score`, never a pending high-impact one, highest confidence first, at most `max_items`. "
        "`dry_run` lists what would be applied and writes nothing (`applied_count` 0).",
        request=AutoApplyInputSerializer,
        responses={200: AutoApplySerializer, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request):
        params = validated_body(AutoApplyInputSerializer, request.data)
        return Response(AutoApplySerializer(svc.policy_recommendation_auto_apply(actor=request.user, **params)).data)


# Control tower ------------------------------------------------------------------------------------


class ControlTowerSummarySerializer(serializers.Serializer):
    pending_recommendations = serializers.IntegerField()
    accepted_recommendations = serializers.IntegerField()
    applied_recommendations = serializers.IntegerField()
    rejected_recommendations = serializers.IntegerField()
    acceptance_rate_pct = serializers.DecimalField(max_digits=5, decimal_places=1)
    autonomous_applied_24h = serializers.IntegerField()
    open_exceptions = serializers.IntegerField()
    overdue_exceptions = serializers.IntegerField()
    recommendation_backlog_risk = serializers.CharField(help_text="low, medium or high.")


class ControlTowerSummaryView(GatedView):
    permission = perms.VIEW_INVENTORY

    @extend_schema(
        summary="Inventory control-tower summary",
        description="FRM-14 over the recommendations and exceptions in scope: counts by status, acceptance rate, "
        "autonomous applies in the last 24 h, open and overdue exceptions, backlog risk.",
        responses={200: ControlTowerSummarySerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        return Response(ControlTowerSummarySerializer(sel.inventory_control_tower_summary(user=request.user)).data)
