"""Scenario API serializers (PLN-11, API-SCN-01…17): shapes only; rules live in planning.services.scenarios."""

from rest_framework import serializers

from genxsop.filters import MAX_ID
from planning.models import Scenario
from planning.services.scenarios import scenario_allowed_actions

_MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True, "allow_null": True}


def _name(user) -> str | None:
    return user.full_name if user is not None else None


class ScenarioSerializer(serializers.ModelSerializer):
    """A scenario: PLN-11 fields, `parameters`, `scope` and `results` as JSON objects, display names and
    the caller's `allowed_actions`."""

    scenario_type_display = serializers.CharField(source="get_scenario_type_display", read_only=True)
    status = serializers.CharField(read_only=True, help_text="draft, completed, submitted, approved or rejected.")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    parameters = serializers.JSONField(read_only=True, help_text="FRM-30 parameters, with `period`.")
    scope = serializers.JSONField(read_only=True, help_text="`{category_ids, location_codes}`; `{}` is company-wide.")
    results = serializers.JSONField(read_only=True, allow_null=True, help_text="FRM-30/31 results; null until run.")
    revenue_impact = serializers.DecimalField(**_MONEY)
    margin_impact = serializers.DecimalField(**_MONEY)
    inventory_impact = serializers.DecimalField(**_MONEY)
    service_level_impact = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True, allow_null=True)
    composite_score = serializers.SerializerMethodField()
    base_publication_id = serializers.IntegerField(read_only=True, allow_null=True)
    cloned_from_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_by_name = serializers.SerializerMethodField()
    run_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    run_by_name = serializers.SerializerMethodField()
    submitted_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    submitted_by_name = serializers.SerializerMethodField()
    approved_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    approved_by_name = serializers.SerializerMethodField()
    rejected_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    rejected_by_name = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Scenario
        fields = [
            "id", "name", "description", "scenario_type", "scenario_type_display", "period", "parameters", "scope",
            "results", "revenue_impact", "margin_impact", "inventory_impact", "service_level_impact",
            "composite_score", "status", "status_display", "is_operating_plan", "base_publication_id",
            "base_demand_version", "base_supply_version", "cloned_from_id", "created_by_id", "created_by_name",
            "run_by_id", "run_by_name", "run_at", "submitted_by_id", "submitted_by_name", "submitted_at",
            "approved_by_id", "approved_by_name", "approved_at", "rejected_by_id", "rejected_by_name", "rejected_at",
            "created_at", "updated_at", "allowed_actions",
        ]  # fmt: skip
        read_only_fields = fields

    def get_composite_score(self, obj) -> float | None:
        return ((obj.results or {}).get("tradeoff") or {}).get("composite_score")

    def get_created_by_name(self, obj) -> str | None:
        return _name(obj.created_by)

    def get_run_by_name(self, obj) -> str | None:
        return _name(obj.run_by)

    def get_submitted_by_name(self, obj) -> str | None:
        return _name(obj.submitted_by)

    def get_approved_by_name(self, obj) -> str | None:
        return _name(obj.approved_by)

    def get_rejected_by_name(self, obj) -> str | None:
        return _name(obj.rejected_by)

    def get_allowed_actions(self, obj) -> list[str]:
        request = self.context.get("request")
        return scenario_allowed_actions(user=getattr(request, "user", None), scenario=obj)


class ScenarioScopeInputSerializer(serializers.Serializer):
    category_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    location_codes = serializers.ListField(child=serializers.CharField(max_length=50), required=False)


class _ScenarioContentInput(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    scenario_type = serializers.CharField(
        required=False, max_length=20,
        help_text="what_if, baseline, stress_test, best_case, worst_case (aliases optimistic, pessimistic, base).",
    )  # fmt: skip
    parameters = serializers.JSONField(
        required=False,
        help_text="FRM-30: period (YYYY-MM), demand_change_pct, supply_capacity_pct, price_change_pct (-100..500), "
        "inventory_release_pct (-100..100), inventory_carry_rate_pct (0..100, 18), stockout_penalty_per_unit (>= 0), "
        "service_weight, cost_weight, cash_weight (0..1).",
    )
    assumptions = serializers.JSONField(required=False, help_text="Alias of `parameters`.")
    scope = serializers.JSONField(required=False, allow_null=True, help_text="`{category_ids, location_codes}`.")


class ScenarioCreateInputSerializer(_ScenarioContentInput):
    name = serializers.CharField(max_length=255)


class ScenarioUpdateInputSerializer(_ScenarioContentInput):
    name = serializers.CharField(max_length=255, required=False)


class ScenarioActionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    comments = serializers.CharField(required=False, allow_blank=True, max_length=10_000,
                                     help_text="Alias of `comment`.")  # fmt: skip


class ScenarioCloneInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=255,
                                 help_text='Default: the original name + " (copy)".')  # fmt: skip


class ScenarioCompareInputSerializer(serializers.Serializer):
    scenario_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=2, max_length=6
    )


class _FiguresSerializer(serializers.Serializer):
    demand_qty = serializers.FloatField(required=False)
    supply_qty = serializers.FloatField(required=False)
    inventory_available_qty = serializers.FloatField(required=False)
    effective_supply_qty = serializers.FloatField(required=False)
    revenue = serializers.FloatField(required=False)
    margin = serializers.FloatField(required=False)
    inventory_value = serializers.FloatField(required=False)
    service_level = serializers.FloatField(required=False)


class _DeltasSerializer(serializers.Serializer):
    demand_qty = serializers.FloatField(allow_null=True)
    supply_qty = serializers.FloatField(allow_null=True)
    revenue = serializers.FloatField(allow_null=True)
    margin = serializers.FloatField(allow_null=True)
    inventory_value = serializers.FloatField(allow_null=True)
    service_level = serializers.FloatField(allow_null=True)
    composite_score = serializers.FloatField(allow_null=True)


class _TradeoffSerializer(serializers.Serializer):
    inventory_carrying_cost = serializers.FloatField(allow_null=True)
    stockout_penalty_cost = serializers.FloatField(allow_null=True)
    working_capital_delta = serializers.FloatField(allow_null=True)
    composite_score = serializers.FloatField(allow_null=True)
    open_inventory_exceptions = serializers.IntegerField(allow_null=True)
    high_risk_exception_count = serializers.IntegerField(allow_null=True)


class ScenarioCompareItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    scenario_type = serializers.CharField()
    scenario_type_display = serializers.CharField()
    period = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    status_display = serializers.CharField()
    is_operating_plan = serializers.BooleanField()
    revenue_impact = serializers.FloatField(allow_null=True)
    margin_impact = serializers.FloatField(allow_null=True)
    inventory_impact = serializers.FloatField(allow_null=True)
    service_level_impact = serializers.FloatField(allow_null=True)
    composite_score = serializers.FloatField(allow_null=True)
    baseline = _FiguresSerializer()
    scenario = _FiguresSerializer()
    tradeoff = serializers.DictField(help_text="The FRM-31 trade-off of the run; `{}` when not run.")
    deltas = _DeltasSerializer(help_text="Scenario figures minus those of the first scenario; null when either "
                                         "has no results.")  # fmt: skip


class _ServiceLevelSerializer(serializers.Serializer):
    baseline = serializers.FloatField(allow_null=True)
    scenario = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True)


class ScenarioTradeoffSummarySerializer(serializers.Serializer):
    scenario_id = serializers.IntegerField()
    status = serializers.CharField()
    period = serializers.DateField(required=False, help_text="Only when the scenario has results.")
    message = serializers.CharField(required=False, help_text="Only when the scenario has no results yet.")
    tradeoff = _TradeoffSerializer(allow_null=True)
    service_level = _ServiceLevelSerializer(required=False)
