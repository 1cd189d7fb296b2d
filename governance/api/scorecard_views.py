"""Executive scorecard and meeting pack of an S&OP cycle (API-SOP-12, API-SOP-17): thin callers of
governance.scorecard and governance.meeting_pack. Both need governance.view_executive_scorecard (EXEC_C)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, error_responses
from governance import meeting_pack, scorecard
from governance.permissions import VIEW_EXECUTIVE_SCORECARD

_MONEY = {"max_digits": 16, "decimal_places": 2}
_KPI = {"max_digits": 16, "decimal_places": 4, "allow_null": True}


class ScorecardScenarioSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    scenario_type = serializers.CharField()
    status = serializers.CharField(help_text="approved or completed.")
    is_operating_plan = serializers.BooleanField()
    period = serializers.DateField()
    run_at = serializers.DateTimeField(allow_null=True)
    run_by_name = serializers.CharField()


class ScorecardServiceSerializer(serializers.Serializer):
    baseline = serializers.DecimalField(**_MONEY, help_text="Baseline service level %, from the scenario results.")
    scenario = serializers.DecimalField(**_MONEY, help_text="Scenario service level %.")
    delta = serializers.DecimalField(**_MONEY, help_text="scenario - baseline, in percentage points.")


class ScorecardCostSerializer(serializers.Serializer):
    inventory_carrying_cost = serializers.DecimalField(**_MONEY)
    stockout_penalty_cost = serializers.DecimalField(**_MONEY)
    composite_score = serializers.DecimalField(**_MONEY)


class ScorecardCashSerializer(serializers.Serializer):
    working_capital_delta = serializers.DecimalField(**_MONEY)
    inventory_value_estimate = serializers.DecimalField(**_MONEY, help_text="The scenario's inventory value.")


class ScorecardRiskSerializer(serializers.Serializer):
    open_exceptions = serializers.IntegerField(help_text="Open and in-progress inventory policy exceptions.")
    high_risk = serializers.IntegerField(help_text="Those of them with severity high.")
    pending_recommendations = serializers.IntegerField(help_text="Inventory policy recommendations pending.")
    # A CharField: an enum of low/medium/high would collide with the exception severity enum in the schema.
    backlog_risk = serializers.CharField(
        help_text="low, medium or high. high: pending > 50 or high_risk > 20; medium: pending > 20 or "
        "high_risk > 5; else low."
    )


class ScorecardKpiSerializer(serializers.Serializer):
    code = serializers.CharField()
    period = serializers.DateField()
    value = serializers.DecimalField(**_KPI)
    target = serializers.DecimalField(**_KPI)
    status = serializers.CharField()
    trend = serializers.CharField(allow_null=True)
    unit = serializers.CharField()


class ScorecardKpisSerializer(serializers.Serializer):
    """The newest value of each KPI; null when the KPI has none."""

    forecast_accuracy = ScorecardKpiSerializer(allow_null=True)
    forecast_bias = ScorecardKpiSerializer(allow_null=True)
    otif = ScorecardKpiSerializer(allow_null=True)
    fill_rate = ScorecardKpiSerializer(allow_null=True)
    inventory_turns = ScorecardKpiSerializer(allow_null=True)
    days_of_supply = ScorecardKpiSerializer(allow_null=True)
    gross_margin = ScorecardKpiSerializer(allow_null=True)


class ScorecardReadinessEvaluationSerializer(serializers.Serializer):
    evaluation_id = serializers.CharField()
    lane = serializers.CharField()
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    outcome = serializers.CharField(help_text="go or no_go.")
    score = serializers.IntegerField()
    required_score = serializers.IntegerField()
    failed_gates = serializers.ListField(child=serializers.CharField())
    dry_run = serializers.BooleanField()
    evaluated_by_name = serializers.CharField()
    created_at = serializers.DateTimeField()


class ScorecardReadinessSerializer(serializers.Serializer):
    """The latest evaluation of each lane for the cycle period; null when there is none."""

    weekly = ScorecardReadinessEvaluationSerializer(allow_null=True)
    monthly = ScorecardReadinessEvaluationSerializer(allow_null=True)


class ScorecardPublicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version_stamp = serializers.CharField()
    lane = serializers.CharField()
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    outcome = serializers.CharField()
    sop_cycle_id = serializers.IntegerField(allow_null=True)
    published_at = serializers.DateTimeField()
    published_by_name = serializers.CharField()


class ExecutiveScorecardSerializer(serializers.Serializer):
    """FRM-35: the executive scorecard of one cycle."""

    cycle_id = serializers.IntegerField()
    cycle_name = serializers.CharField()
    period = serializers.DateField()
    scenario = ScorecardScenarioSerializer(
        allow_null=True,
        help_text="The approved operating plan of the cycle period, else its most recently run completed or "
        "approved scenario, else null. Never a scenario of another period.",
    )
    service = ScorecardServiceSerializer()
    cost = ScorecardCostSerializer()
    cash = ScorecardCashSerializer()
    risk = ScorecardRiskSerializer()
    decision_signal = serializers.ChoiceField(
        choices=[scorecard.RECOMMENDED, scorecard.NOT_RECOMMENDED, scorecard.REVIEW_REQUIRED],
        help_text="recommended: Δservice ≥ 1, composite ≥ 0 and backlog not high; not_recommended: Δservice < 0 "
        "and backlog high; otherwise review_required.",
    )
    notice = serializers.CharField(allow_null=True, help_text='"No scenario for this period" when scenario is null.')
    kpis = ScorecardKpisSerializer()
    readiness = ScorecardReadinessSerializer()
    publication = ScorecardPublicationSerializer(allow_null=True, help_text="The current monthly publication.")
    decisions_count = serializers.IntegerField()
    open_action_items = serializers.IntegerField()


class _ScorecardView(APIView):
    permission_classes = [HasActionPermission]
    action = "read"
    action_permissions = {"read": VIEW_EXECUTIVE_SCORECARD}


class ExecutiveScorecardView(_ScorecardView):
    @extend_schema(
        summary="Executive scorecard of an S&OP cycle",
        description="EXEC_C (API-SOP-12, FRM-35): the chosen scenario's service, cost and cash figures, inventory "
        "risk, the decision signal, the latest KPI values, the latest readiness evaluation per lane for the cycle "
        "period, the current monthly publication, and the cycle's decision and open action item counts. Reads only.",
        parameters=[ID_PARAMETER],
        responses={200: ExecutiveScorecardSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        card = scorecard.executive_scorecard(user=request.user, cycle=pk)
        return Response(ExecutiveScorecardSerializer(card).data)


class _FileDownload(DefaultContentNegotiation):
    """A download answers whatever the client accepts; `format` picks the file type, errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class MeetingPackView(_ScorecardView):
    content_negotiation_class = _FileDownload

    @extend_schema(
        summary="Meeting pack of an S&OP cycle (XLSX)",
        description="EXEC_C (API-SOP-17, INT-24): sheets "
        f"{', '.join(meeting_pack.SHEETS)}; the gaps are the {meeting_pack.TOP_GAPS} most under-covered "
        "product-periods of the review horizon, the scenarios the operating plan and the submitted or approved "
        "scenarios of the cycle period, the action items the open ones. The download is audited "
        "(planning.data.exported, dataset meeting_pack).",
        parameters=[
            ID_PARAMETER,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=list(meeting_pack.FORMATS),
                required=False,
                description="xlsx (default); any other value is 400.",
            ),
        ],
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The workbook."
            ),
            **error_responses(400, *READ_ERRORS, 404),
        },
    )
    def get(self, request, pk):
        return meeting_pack.meeting_pack_export(actor=request.user, cycle=pk, fmt=request.query_params.get("format"))
