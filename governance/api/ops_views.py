"""SLO report (API-OPS-04, OPS-53): a thin caller of governance.slo; EXEC_C or a token with ops:read."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import READ_ERRORS, error_responses
from governance import slo
from governance.permissions import VIEW_SERVICE_METRICS


class SliDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.FloatField(allow_null=True, help_text="The SLI over that UTC day; null without events.")


class SliSerializer(serializers.Serializer):
    name = serializers.ChoiceField(
        choices=["availability", "latency_p95_non_ml", "forecast_job_success", "publish_gate_validated"]
    )
    unit = serializers.CharField(help_text="percent, or ms for the latency.")
    target = serializers.FloatField(help_text="OPS-54: at least this percentage; for the latency, below this many ms.")
    value = serializers.FloatField(allow_null=True, help_text="Over the window; null without events.")
    status = serializers.ChoiceField(choices=["met", "at_risk", "breached"])
    error_budget_remaining_pct = serializers.FloatField(
        allow_null=True,
        help_text="1 - bad / ((1 - target) x total), in percent (negative once overspent); null for the latency and "
        "the 100 % publish gate, which have no budget. at_risk below 25 %.",
    )
    daily = SliDaySerializer(many=True)


class SloReportSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    window_from = serializers.DateTimeField(source="from")
    window_to = serializers.DateTimeField(source="to")
    slis = SliSerializer(many=True)


class SloReportView(APIView):
    permission_classes = [HasActionPermission]
    action = "read"
    action_permissions = {"read": VIEW_SERVICE_METRICS}

    @extend_schema(
        summary="SLO report",
        description="EXEC_C, or an API token with ops:read (OPS-53): availability, non-ML API p95 latency, forecast "
        "job success and gate-validated publications over the last `days` days, each with its target, status, "
        "error budget and daily values.",
        parameters=[OpenApiParameter("days", int, description="Window in days, 1 to 90 (default 30).")],
        responses={200: SloReportSerializer, **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        report = slo.slo_report(user=request.user, days=slo.parse_days(request.query_params.get("days")))
        return Response(SloReportSerializer(report).data)
