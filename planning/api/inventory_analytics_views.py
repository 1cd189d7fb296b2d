"""Inventory exceptions and analytics API (API-INV-08, 09, 15, 17…21): thin adapters over
planning.selectors.inventory_analytics and planning.services.exceptions."""

from functools import cached_property

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from genxsop.api.schema import READ_ERRORS, ROW_LIMITED_LIST_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.errors import ValidationFailed
from genxsop.row_limits import list_max_rows
from planning import permissions as perms
from planning.api.supply_views import GatedView
from planning.choices import ExceptionStatus
from planning.selectors import inventory_analytics as sel
from planning.services import exceptions as exc_services
from planning.services.inventory_analytics import SERVICE_LEVEL_METHODS

_DEC = {"max_digits": 18, "decimal_places": 2}


class PolicyExceptionSerializer(serializers.Serializer):
    """ExceptionView: an inventory policy exception (PLN-09) with the caller's allowed WF-61 actions."""

    id = serializers.IntegerField()
    inventory_id = serializers.IntegerField()
    product_id = serializers.IntegerField(source="inventory.product_id")
    sku = serializers.CharField(source="inventory.product.sku")
    location = serializers.CharField(source="inventory.location.code", help_text="Location code.")
    exception_type = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    recommended_action = serializers.CharField()
    owner_user_id = serializers.IntegerField(source="owner_id", allow_null=True)
    owner_name = serializers.SerializerMethodField()
    due_date = serializers.DateField(allow_null=True)
    notes = serializers.CharField()
    resolution_note = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    run_id = serializers.SerializerMethodField(help_text="The optimisation run that raised it; null when by hand.")
    overdue = serializers.SerializerMethodField(help_text="Open or in progress and past the due date.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    allowed_actions = serializers.SerializerMethodField(help_text="WF-61 actions the caller may take.")

    def get_owner_name(self, obj) -> str:
        return sel.display_name(obj.owner)

    def get_run_id(self, obj) -> str | None:
        return obj.run.run_id if obj.run_id else None

    # One serializer instance renders every row of a list: today and the caller's change permission
    # are read once, not once per row.
    @cached_property
    def _today(self):
        return timezone.localdate()

    @cached_property
    def _can_change(self) -> bool:
        return self.context["request"].user.has_perm(perms.CHANGE_POLICY_EXCEPTION)

    def get_overdue(self, obj) -> bool:
        return bool(
            obj.status in (ExceptionStatus.OPEN, ExceptionStatus.IN_PROGRESS)
            and obj.due_date is not None
            and obj.due_date < self._today
        )

    def get_allowed_actions(self, obj) -> list[str]:
        user = self.context["request"].user
        return exc_services.policy_exception_allowed_actions(user, obj, can_change=self._can_change)


class PolicyExceptionUpdateInputSerializer(serializers.Serializer):
    """API-INV-09; every field optional. The owner may send only `status`, `notes` and `resolution_note`."""

    owner_user_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    due_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    status = serializers.ChoiceField(
        choices=ExceptionStatus.choices, required=False, help_text="Transition shorthand (WF-61)."
    )
    resolution_note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required to resolve or dismiss."
    )


class EscalationSerializer(serializers.Serializer):
    exception_id = serializers.IntegerField()
    inventory_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.CharField()
    exception_type = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    owner_user_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)
    escalation_level = serializers.ChoiceField(choices=["L1", "L2"])
    escalation_reason = serializers.CharField()
    days_overdue = serializers.IntegerField()


class DataQualitySerializer(serializers.Serializer):
    inventory_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.CharField()
    completeness_score = serializers.DecimalField(max_digits=5, decimal_places=4)
    freshness_score = serializers.DecimalField(max_digits=5, decimal_places=4)
    consistency_score = serializers.DecimalField(max_digits=5, decimal_places=4)
    overall_score = serializers.DecimalField(max_digits=5, decimal_places=4)
    quality_tier = serializers.ChoiceField(choices=["high", "medium", "low"])


class DataQualityQuerySerializer(serializers.Serializer):
    product_id = serializers.IntegerField(required=False, min_value=1)
    location = serializers.CharField(required=False, help_text="Location code.")


class WorkingCapitalSerializer(serializers.Serializer):
    total_inventory_value = serializers.DecimalField(**_DEC)
    estimated_carrying_cost_annual = serializers.DecimalField(**_DEC)
    estimated_carrying_cost_monthly = serializers.DecimalField(**_DEC)
    excess_inventory_value = serializers.DecimalField(**_DEC)
    low_stock_exposure_value = serializers.DecimalField(**_DEC)
    excess_above_max_value = serializers.DecimalField(**_DEC)
    inventory_health_index = serializers.DecimalField(max_digits=6, decimal_places=1)
    carrying_rate_pct = serializers.DecimalField(max_digits=5, decimal_places=1)


class ScorecardAreaSerializer(serializers.Serializer):
    area = serializers.CharField()
    yes_count = serializers.IntegerField()
    total_count = serializers.IntegerField()
    score_0_to_3 = serializers.IntegerField()
    rag = serializers.ChoiceField(choices=["green", "amber", "red"])


class ScorecardSerializer(serializers.Serializer):
    total_yes = serializers.IntegerField()
    total_checks = serializers.IntegerField()
    maturity_level = serializers.CharField()
    areas = ScorecardAreaSerializer(many=True)


class RebalanceQuerySerializer(serializers.Serializer):
    product_id = serializers.IntegerField(required=False, min_value=1)
    min_transfer_qty = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default="1.0")


class RebalanceSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    from_inventory_id = serializers.IntegerField()
    from_location = serializers.CharField()
    to_inventory_id = serializers.IntegerField()
    to_location = serializers.CharField()
    transfer_qty = serializers.DecimalField(max_digits=14, decimal_places=2)
    estimated_service_uplift_pct = serializers.DecimalField(max_digits=5, decimal_places=2)


class ServiceLevelInputSerializer(serializers.Serializer):
    inventory_id = serializers.IntegerField(required=False, min_value=1)
    product_id = serializers.IntegerField(required=False, min_value=1)
    location = serializers.CharField(required=False, help_text="Location code, with product_id.")
    target_service_level = serializers.FloatField(default=0.95, min_value=0.5, max_value=0.999)
    method = serializers.ChoiceField(choices=SERVICE_LEVEL_METHODS, default="analytical")
    simulation_runs = serializers.IntegerField(default=5000, min_value=100, max_value=50000)
    demand_std_override = serializers.FloatField(required=False, allow_null=True, min_value=0)
    lead_time_std_override = serializers.FloatField(required=False, allow_null=True, min_value=0)
    bucket_count = serializers.IntegerField(default=20, min_value=5, max_value=50)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, help_text="Default 42.")


class _MeanStd(serializers.Serializer):
    mean = serializers.FloatField()
    std = serializers.FloatField()


class _Demand(_MeanStd):
    source = serializers.ChoiceField(choices=["actuals", "open_orders"])


class _Current(serializers.Serializer):
    safety_stock = serializers.FloatField()
    reorder_point = serializers.FloatField()


class _CurvePoint(serializers.Serializer):
    target = serializers.FloatField()
    z = serializers.FloatField()
    safety_stock = serializers.FloatField()
    reorder_point = serializers.FloatField()


class _Bucket(serializers.Serializer):
    label = serializers.CharField()
    lo = serializers.FloatField()
    hi = serializers.FloatField()
    midpoint = serializers.FloatField()
    probability = serializers.FloatField()


class ServiceLevelSerializer(serializers.Serializer):
    """FRM-17 result."""

    inventory_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.CharField()
    method = serializers.CharField()
    target_service_level = serializers.FloatField()
    demand = _Demand()
    lead_time = _MeanStd()
    dlt = _MeanStd(help_text="Demand during the lead time.")
    current = _Current()
    cycle_service_level = serializers.FloatField()
    fill_rate = serializers.FloatField()
    stockout_probability = serializers.FloatField()
    expected_shortage = serializers.FloatField()
    recommended_safety_stock = serializers.FloatField()
    recommended_reorder_point = serializers.FloatField()
    curve = _CurvePoint(many=True)
    distribution = _Bucket(many=True)


_EXCEPTION_FILTERS = [
    OpenApiParameter("product_id", OpenApiTypes.INT),
    OpenApiParameter("location", OpenApiTypes.STR, description="Location code(s), comma-separated."),
    OpenApiParameter(
        "status", OpenApiTypes.STR, description="open, in_progress, resolved, dismissed; comma-separated."
    ),
    OpenApiParameter("owner_user_id", OpenApiTypes.INT),
    OpenApiParameter("exception_type", OpenApiTypes.STR, description="Comma-separated."),
    OpenApiParameter("severity", OpenApiTypes.STR, description="low, medium, high; comma-separated."),
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="Open or in progress and past due."),
]


class PolicyExceptionListView(GatedView):
    permission = perms.VIEW_POLICY_EXCEPTION

    @extend_schema(
        summary="List inventory exceptions",
        description="Exceptions on the inventory rows in the caller's category and location scope, earliest due "
        "date first (none last), as a plain array. More than 10,000 matching rows is 400: narrow the filters.",
        parameters=_EXCEPTION_FILTERS,
        responses={200: PolicyExceptionSerializer(many=True), **ROW_LIMITED_LIST_ERRORS},
    )
    def get(self, request):
        rows = sel.policy_exception_list(user=request.user, filters=request.query_params, limit=list_max_rows())
        return Response(PolicyExceptionSerializer(rows, many=True, context={"request": request}).data)


class PolicyExceptionDetailView(GatedView):
    # The owner may work an exception without the change permission (ACC-04): the service decides.
    permission = perms.VIEW_POLICY_EXCEPTION

    @extend_schema(
        summary="Update an inventory exception",
        description="INV_W (in change scope) may change owner, due date, notes and status; the owner only status "
        "and notes. `status` moves along WF-61 (open → in_progress; open, in_progress → resolved | dismissed, "
        "with `resolution_note`; resolved, dismissed → open); any other move is 409 INVALID_STATE_TRANSITION "
        "with `allowed_actions`. A new owner is notified.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=PolicyExceptionUpdateInputSerializer,
        responses={200: PolicyExceptionSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, pk):
        row = sel.policy_exception_get(user=request.user, pk=pk)
        data = validated_body(PolicyExceptionUpdateInputSerializer, request.data)
        if "owner_user_id" in data:
            owner_id = data.pop("owner_user_id")
            owner = None
            if owner_id is not None:
                owner = get_user_model().objects.filter(pk=owner_id).first()
                if owner is None:
                    raise ValidationFailed(fields={"owner_user_id": ["Unknown user."]})
            data["owner"] = owner
        exc_services.policy_exception_update(actor=request.user, exception=row, data=data)
        row = sel.policy_exception_get(user=request.user, pk=pk)
        return Response(PolicyExceptionSerializer(row, context={"request": request}).data)


class EscalationsView(GatedView):
    permission = perms.VIEW_POLICY_EXCEPTION

    @extend_schema(
        summary="Exception escalations",
        description="FRM-14 over the open and in-progress exceptions in scope: L2 when high severity is due or "
        "undated, or overdue by 3 days or more; L1 when overdue by a day or more, or high severity not yet due. "
        "L2 first, then the most overdue first.",
        responses={200: EscalationSerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        return Response(EscalationSerializer(sel.inventory_escalations(user=request.user), many=True).data)


class DataQualityView(GatedView):
    permission = perms.VIEW_INVENTORY

    @extend_schema(
        summary="Inventory data quality",
        description="FRM-10 per row in scope: completeness, freshness, consistency, overall score and tier.",
        parameters=[DataQualityQuerySerializer],
        responses={200: DataQualitySerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        params = validated_query(DataQualityQuerySerializer, request)
        rows = sel.inventory_data_quality(user=request.user, **params)
        return Response(DataQualitySerializer(rows, many=True).data)


class WorkingCapitalView(GatedView):
    permission = perms.VIEW_INVENTORY

    @extend_schema(
        summary="Inventory working capital",
        description="FRM-12 over the rows in scope; the carrying rate is INVENTORY_CARRYING_RATE_PCT (default 18).",
        responses={200: WorkingCapitalSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        return Response(WorkingCapitalSerializer(sel.inventory_working_capital(user=request.user)).data)


class ScorecardView(GatedView):
    permission = perms.VIEW_INVENTORY

    @extend_schema(
        summary="Optimisation assessment scorecard",
        description="FRM-16: five areas of three yes/no checks over the rows in scope, a RAG per area and the "
        "maturity level.",
        responses={200: ScorecardSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        return Response(ScorecardSerializer(sel.inventory_assessment_scorecard(user=request.user)).data)


class RebalanceView(GatedView):
    permission = perms.VIEW_INVENTORY

    @extend_schema(
        summary="Rebalance suggestions",
        description="FRM-15: transfers from excess rows to low or critical rows of the same product at other "
        "locations in scope. A donor's surplus is drawn down by each suggestion, never allocated twice.",
        parameters=[RebalanceQuerySerializer],
        responses={200: RebalanceSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        params = validated_query(RebalanceQuerySerializer, request)
        rows = sel.inventory_rebalance(user=request.user, **params)
        return Response(RebalanceSerializer(rows, many=True).data)


class ServiceLevelView(GatedView):
    permission = perms.VIEW_INVENTORY

    @extend_schema(
        summary="Service level under uncertainty",
        description="FRM-17 for one row (by `inventory_id`, or `product_id` + `location`): analytical or Monte "
        "Carlo (numpy default_rng(seed), seed 42 by default, so a repeated call gives the same answer). Writes "
        "nothing. Neither an id nor product and location is 400.",
        request=ServiceLevelInputSerializer,
        responses={200: ServiceLevelSerializer, **error_responses(400, *READ_ERRORS, 404)},
    )
    def post(self, request):
        params = validated_body(ServiceLevelInputSerializer, request.data)
        return Response(ServiceLevelSerializer(sel.inventory_service_level(user=request.user, params=params)).data)
