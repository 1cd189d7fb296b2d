"""Supply planning API serializers (API-SUP, FRM-02, API-DEM-16): shapes only; rules live in services."""

from rest_framework import serializers

from genxsop.api.fields import StrictCharField
from planning.api.serializers import PeriodField, PlanSerializer, PlanVersionSerializer, _qty_field
from planning.choices import SupplyPlanStatus
from planning.models import SupplyPlan
from planning.services import supply_plan_allowed_actions

_CAPACITY_USED = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 100}


class SupplyPlanSerializer(PlanSerializer):
    """A supply plan row, live or history (API-SUP representation)."""

    allowed_actions_of = staticmethod(supply_plan_allowed_actions)

    location = serializers.CharField(source="location.code", read_only=True, help_text="Location code.")
    location_name = serializers.CharField(source="location.name", read_only=True)
    load_pct = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True,
        help_text="planned_prod_qty / capacity_max x 100; null without both or with zero capacity; may exceed 100.",
    )  # fmt: skip

    class Meta:
        model = SupplyPlan
        fields = [
            "id", "product_id", "sku", "product_name", "period", "location", "location_name", "planned_prod_qty",
            "actual_prod_qty", "capacity_max", "capacity_used", "load_pct", "supplier_name", "lead_time_days",
            "cost_per_unit", "constraints", *PlanSerializer.WORKFLOW_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class SupplyPlanContentSerializer(serializers.Serializer):
    planned_prod_qty = _qty_field(required=False, allow_null=True)
    actual_prod_qty = _qty_field(required=False, allow_null=True, help_text="Alone: record_actual, any status.")
    capacity_max = _qty_field(required=False, allow_null=True)
    capacity_used = serializers.DecimalField(**_CAPACITY_USED, required=False, allow_null=True,
                                             help_text="Reported utilisation, 0..100 %.")  # fmt: skip
    supplier_name = StrictCharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    lead_time_days = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    cost_per_unit = _qty_field(required=False, allow_null=True)
    constraints = StrictCharField(required=False, allow_blank=True, allow_null=True)
    change_reason = StrictCharField(max_length=500, required=False, allow_blank=True)


class SupplyPlanCreateInputSerializer(SupplyPlanContentSerializer):
    product_id = serializers.IntegerField(min_value=1)
    period = PeriodField(help_text="YYYY-MM-DD or YYYY-MM; stored as the first of the month (2000-01…2100-12).")
    location = StrictCharField(max_length=50, required=False, help_text="Location code, default Main.")


class SupplyPlanUpdateInputSerializer(SupplyPlanContentSerializer):
    status = serializers.ChoiceField(
        choices=SupplyPlanStatus.choices,
        required=False,
        help_text="Ignored when equal to the current status; otherwise refused (use the action endpoints).",
    )
    location = StrictCharField(max_length=50, required=False, help_text="Part of the business key: cannot change.")
    expected_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Optimistic concurrency (WF-05), like If-Match."
    )


class SupplyPlanActualInputSerializer(serializers.Serializer):
    actual_prod_qty = _qty_field(allow_null=True)
    expected_version = serializers.IntegerField(min_value=1, required=False)


class SupplyPlanVersionSerializer(PlanVersionSerializer):
    planned_prod_qty = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    capacity_max = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    capacity_used = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    supplier_name = serializers.CharField()
    lead_time_days = serializers.IntegerField(allow_null=True)
    cost_per_unit = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    constraints = serializers.CharField()
    actual_prod_qty = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    load_pct = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


def _dec(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class GapAnalysisItemSerializer(serializers.Serializer):
    """FRM-02, one product and period."""

    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    period = serializers.DateField()
    demand_qty = _dec(help_text="Σ FRM-01 over the product's current demand rows of the period.")
    consensus_demand_qty = _dec(help_text="Same as demand_qty.")
    demand_source = serializers.ChoiceField(choices=["consensus", "adjusted", "forecast", "mixed"])
    planned_production_qty = _dec(help_text="Σ planned_prod_qty over the current supply rows (all locations).")
    planned_supply_qty = _dec(help_text="Same as planned_production_qty.")
    actual_production_qty = _dec()
    inventory_available_qty = _dec(help_text="Σ max(0, on hand - allocated + in transit) over the product's stock.")
    effective_supply_qty = _dec(help_text="Planned production + inventory available.")
    additional_prod_required_qty = _dec(help_text="max(demand - inventory available, 0).")
    plan_gap_qty = _dec()
    plan_gap_pct = _dec()
    actual_gap_qty = _dec()
    actual_gap_pct = _dec()
    coverage_gap_qty = _dec(help_text="Effective supply - demand.")
    coverage_gap_pct = _dec()
    status = serializers.ChoiceField(choices=["critical", "shortage", "balanced", "excess"])
    supply_qty = _dec(help_text="Legacy alias of effective_supply_qty.")
    gap = _dec(help_text="Legacy alias of coverage_gap_qty.")
    gap_pct = _dec(help_text="Legacy alias of coverage_gap_pct.")
    supply_plan_ids = serializers.ListField(child=serializers.IntegerField())
    locations = serializers.ListField(child=serializers.CharField(), help_text="Location codes of the supply rows.")


class GapCloseInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    period = PeriodField()
    location = StrictCharField(
        max_length=50, required=False,
        help_text="Location code; default: the location whose row plans the most, else Main.",
    )  # fmt: skip
    planned_prod_qty = _qty_field(
        required=False,
        help_text="The new planned quantity at the location; default the UI-05 proposal max(0, planned - plan gap).",
    )
    expected_version = serializers.IntegerField(min_value=1, required=False)


class DemandHistoryPointSerializer(serializers.Serializer):
    period = serializers.DateField()
    forecast_qty = _dec()
    actual_qty = _dec(allow_null=True)
    consensus_qty = _dec(allow_null=True)
    demand_qty = _dec()
    region = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField(help_text="For the product total, the least advanced status of the month.")
