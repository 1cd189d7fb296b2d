"""Dashboard API (API-DASH-01…05): thin adapters over planning.selectors.dashboard.

Every authenticated role may call them (ACC-06): the selectors compute aggregates over the caller's
object scope and leave lists from modules the caller cannot read empty.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import READ_ERRORS, error_responses
from genxsop.api.validation import validated_query
from genxsop.readcache import cached
from governance.choices import CycleStatus, Lane, StepStatus
from planning.choices import KpiCategory, KpiDirection, KpiStatus, KpiTrend, PlanStatus
from planning.selectors import dashboard as sel

_DEC = {"max_digits": 20, "decimal_places": 4}


class DashboardPlanCountsSerializer(serializers.Serializer):
    draft = serializers.IntegerField()
    submitted = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    locked = serializers.IntegerField()
    total = serializers.IntegerField()


class DashboardScenarioCountsSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="Draft, completed and submitted scenarios.")
    approved = serializers.IntegerField()
    operating_plan_id = serializers.IntegerField(allow_null=True, help_text="The latest operating-plan scenario.")


class DashboardInventoryHealthSerializer(serializers.Serializer):
    total_products = serializers.IntegerField(help_text="Inventory rows in scope (kept for compatibility).")
    normal = serializers.IntegerField()
    low = serializers.IntegerField()
    critical = serializers.IntegerField()
    excess = serializers.IntegerField()
    total_value = serializers.DecimalField(max_digits=18, decimal_places=2)


class DashboardKpiValuesSerializer(serializers.Serializer):
    forecast_accuracy = serializers.DecimalField(**_DEC, allow_null=True)
    otif = serializers.DecimalField(**_DEC, allow_null=True)
    fill_rate = serializers.DecimalField(**_DEC, allow_null=True)
    inventory_turns = serializers.DecimalField(**_DEC, allow_null=True)
    days_of_supply = serializers.DecimalField(**_DEC, allow_null=True)


class DashboardCycleBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    current_step = serializers.IntegerField()
    step_name = serializers.CharField()
    status = serializers.CharField(help_text=", ".join(CycleStatus.values) + ".")
    due_date = serializers.DateField(allow_null=True, help_text="Due date of the current step.")


class DashboardLastPublicationSerializer(serializers.Serializer):
    version_stamp = serializers.CharField()
    lane = serializers.CharField(help_text=", ".join(Lane.values) + ".")
    published_at = serializers.DateTimeField()


class DashboardSummarySerializer(serializers.Serializer):
    """API-DASH-01."""

    demand_plans = DashboardPlanCountsSerializer(help_text="Current rows for the current month and the next 11.")
    supply_plans = DashboardPlanCountsSerializer()
    period_from = serializers.DateField(help_text="First month of the plan-count window.")
    period_to = serializers.DateField(help_text="Last month of the plan-count window.")
    scenarios = DashboardScenarioCountsSerializer()
    inventory_health = DashboardInventoryHealthSerializer(help_text="FRM-11 over the caller's scope.")
    products_tracked = serializers.IntegerField(help_text="Active products in scope.")
    kpis = DashboardKpiValuesSerializer(help_text="The latest value of each KPI code, or null.")
    sop_cycle = DashboardCycleBriefSerializer(allow_null=True)
    last_publication = DashboardLastPublicationSerializer(allow_null=True, help_text="The latest current publication.")


class DashboardInventoryAlertSerializer(serializers.Serializer):
    inventory_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    location = serializers.CharField(help_text="Location code.")
    on_hand = serializers.DecimalField(max_digits=14, decimal_places=2)


class DashboardKpiAlertSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `kpi`.")
    severity = serializers.CharField(help_text="warning or critical (FRM-36).")
    message = serializers.CharField(help_text='"<name> is X% off target" (X = |variance_pct|, FRM-36).')
    metric = serializers.CharField(help_text="KPI code.")
    name = serializers.CharField()
    period = serializers.DateField()
    value = serializers.DecimalField(**_DEC)
    target = serializers.DecimalField(**_DEC, allow_null=True)
    direction = serializers.CharField()


class DashboardDriftAlertSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `drift`.")
    product_id = serializers.IntegerField()
    region = serializers.CharField()
    channel = serializers.CharField()
    model_type = serializers.CharField()
    previous_mape = serializers.FloatField()
    recent_mape = serializers.FloatField()
    degradation_pct = serializers.FloatField()
    severity = serializers.CharField(help_text="medium or high (FC-55).")


class DashboardAnomalyAlertSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `anomaly`.")
    severity = serializers.CharField()
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    period = serializers.DateField()
    region = serializers.CharField()
    channel = serializers.CharField()


class DashboardOverdueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    owner_id = serializers.IntegerField()
    owner_name = serializers.CharField()
    due_date = serializers.DateField()
    days_overdue = serializers.IntegerField()
    priority = serializers.CharField()
    status = serializers.CharField()


class DashboardAlertsSerializer(serializers.Serializer):
    """API-DASH-02."""

    inventory_critical = DashboardInventoryAlertSerializer(many=True)
    inventory_low = DashboardInventoryAlertSerializer(many=True)
    kpi_alerts = DashboardKpiAlertSerializer(
        many=True, help_text="Latest row of each KPI in warning or critical status."
    )
    forecast_alerts = DashboardDriftAlertSerializer(many=True, help_text="FC-55 drift alerts.")
    anomaly_alerts = DashboardAnomalyAlertSerializer(many=True, help_text="Open high-severity forecast anomalies.")
    overdue_action_items = DashboardOverdueItemSerializer(many=True)
    total_alerts = serializers.IntegerField(help_text="Every alert the caller may see, beyond the lists' limit.")


class DashboardAlertsQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=50,
        default=sel.ALERT_LIMIT,
        help_text="Rows per list (1..50, default 20).",
    )


class DashboardStepSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(help_text=", ".join(StepStatus.values) + ".")
    due_date = serializers.DateField(allow_null=True)
    owner_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField()


class DashboardSopStatusSerializer(serializers.Serializer):
    """API-DASH-03: either the active cycle, or `{active: false, message}`."""

    active = serializers.BooleanField()
    message = serializers.CharField(required=False, help_text='"No active S&OP cycle" when none is active.')
    id = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False)
    period = serializers.DateField(required=False)
    current_step = serializers.IntegerField(required=False)
    overall_status = serializers.CharField(required=False, help_text=", ".join(CycleStatus.values) + ".")
    steps = DashboardStepSerializer(many=True, required=False)


class DashboardSparkPointSerializer(serializers.Serializer):
    period = serializers.DateField()
    value = serializers.DecimalField(**_DEC)


class DashboardKpiOverviewSerializer(serializers.Serializer):
    """API-DASH-04: one KPI with its latest row and up to 12 values, oldest first."""

    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField(help_text=", ".join(KpiCategory.values) + ".")
    unit = serializers.CharField()
    direction = serializers.CharField(help_text=", ".join(KpiDirection.values) + ".")
    period = serializers.DateField(allow_null=True)
    value = serializers.DecimalField(**_DEC, allow_null=True)
    target = serializers.DecimalField(**_DEC, allow_null=True)
    target_low = serializers.DecimalField(**_DEC, allow_null=True)
    target_high = serializers.DecimalField(**_DEC, allow_null=True)
    variance_pct = serializers.DecimalField(**_DEC, allow_null=True)
    status = serializers.CharField(allow_null=True, help_text=", ".join(KpiStatus.values) + ".")
    trend = serializers.CharField(allow_null=True, help_text=", ".join(KpiTrend.values) + ".")
    sparkline = DashboardSparkPointSerializer(many=True)


class DashboardKpiOverviewQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=KpiCategory.choices, required=False)


class DashboardActivitySerializer(serializers.Serializer):
    """API-DASH-05."""

    occurred_at = serializers.DateTimeField()
    actor_name = serializers.CharField()
    event_type = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target_repr = serializers.CharField()
    action = serializers.CharField(help_text='The event type in words, e.g. "approved demand plan".')
    message = serializers.CharField(help_text="The event's message, or the action when it has none.")
    url = serializers.CharField(help_text="The entity's console page; empty when it has none.")


class DashboardActivityQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=50, default=sel.ACTIVITY_LIMIT, help_text="1..50, default 20."
    )


class DashboardView(APIView):
    permission_classes = [IsAuthenticatedWithTokenScope]


_STATUSES = ", ".join(PlanStatus.values)


class SummaryView(DashboardView):
    @extend_schema(
        summary="Dashboard summary",
        description="Plan counts by status (" + _STATUSES + ") over current rows of the current month and the "
        "next 11, scenarios, FRM-11 inventory health, active products, the latest value of five KPIs, the active "
        "S&OP cycle and the latest current publication. Aggregates over the caller's object scope (ACC-06).",
        responses={200: DashboardSummarySerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        user = request.user
        summary = cached("dashboard.summary", user, lambda: sel.dashboard_summary(user=user))
        return Response(DashboardSummarySerializer(summary).data)


class AlertsView(DashboardView):
    @extend_schema(
        summary="Dashboard alerts",
        description="Critical and low inventory, KPI alerts (FRM-36 status), forecast drift (FC-55), open "
        "high-severity anomalies and overdue action items. Lists from modules the caller cannot read are empty; "
        "`total_alerts` counts only what the caller may see.",
        parameters=[DashboardAlertsQuerySerializer],
        responses={200: DashboardAlertsSerializer, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        params = validated_query(DashboardAlertsQuerySerializer, request)
        user, limit = request.user, params["limit"]
        alerts = cached("dashboard.alerts", user, lambda: sel.dashboard_alerts(user=user, limit=limit), params=(limit,))
        return Response(DashboardAlertsSerializer(alerts).data)


class SopStatusView(DashboardView):
    @extend_schema(
        summary="Dashboard S&OP status",
        description="The active cycle of the latest period with its five steps, or "
        '`{active: false, message: "No active S&OP cycle"}`.',
        responses={200: DashboardSopStatusSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        user = request.user
        status = cached("dashboard.sop_status", user, lambda: sel.dashboard_sop_status(user=user))
        return Response(DashboardSopStatusSerializer(status).data)


class KpiOverviewView(DashboardView):
    @extend_schema(
        summary="Dashboard KPI overview",
        description="Every active KPI (optionally of one category) with its latest stored value, FRM-36 status, "
        "trend and variance, and a sparkline of its last 12 values, oldest first.",
        parameters=[DashboardKpiOverviewQuerySerializer],
        responses={200: DashboardKpiOverviewSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        params = validated_query(DashboardKpiOverviewQuerySerializer, request)
        user, category = request.user, params.get("category")
        rows = cached("dashboard.kpi_overview", user, lambda: sel.dashboard_kpi_overview(user=user, category=category),
                      params=(category,))  # fmt: skip
        return Response(DashboardKpiOverviewSerializer(rows, many=True).data)


class ActivityView(DashboardView):
    @extend_schema(
        summary="Dashboard recent activity",
        description="The newest audit events on entities the caller can read (the entity-history rule of "
        "API-GOV-32), newest first. Account and security events are left to the audit log.",
        parameters=[DashboardActivityQuerySerializer],
        responses={200: DashboardActivitySerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        params = validated_query(DashboardActivityQuerySerializer, request)
        user, limit = request.user, params["limit"]
        rows = cached(
            "dashboard.activity", user, lambda: sel.dashboard_activity(user=user, limit=limit), params=(limit,)
        )
        return Response(DashboardActivitySerializer(rows, many=True).data)
