"""FRM-30 simulation and FRM-31 trade-off, every figure against values worked out by hand
(the world is described in test_scenarios_world.py)."""

from decimal import Decimal

import pytest

from genxsop.errors import ValidationFailed
from planning.models import DemandPlan, Inventory, Scenario, SupplyPlan
from planning.services.scenarios import (
    parameters_validate,
    scenario_create,
    scenario_run,
    scenario_simulate,
)
from tests.planning.test_scenarios_world import MARCH, audio_scope, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(users):
    return build_world(users)


def test_the_world_holds_the_valuations_the_hand_figures_use(w):
    values = {(r.product.sku): r.valuation for r in Inventory.objects.select_related("product")}
    assert values == {"A-1": Decimal("180.00"), "B-1": Decimal("120.00"), "G-1": Decimal("100.00")}


def test_baseline_and_scenario_with_a_shortage(w):
    # d = -10 %, s = -20 %, p = +5 %, r = +50 %; carry 18 % and penalty 25 % of the average price (defaults).
    results = scenario_simulate(
        user=w.admin,
        period=MARCH,
        scope=audio_scope(w),
        parameters={
            "demand_change_pct": -10,
            "supply_capacity_pct": -20,
            "price_change_pct": 5,
            "inventory_release_pct": 50,
        },
    )

    # Baseline: demand 120 + 0 + 80 = 200; revenue 120x10 + 80x20 = 2 800; cost 720 + 960 = 1 680.
    # supply 90 + 60 = 150; available max(0, 30-5+5) + max(0, 10-20) = 30; effective 180; value 180 + 120.
    assert results["baseline"] == {
        "demand_qty": 200,
        "supply_qty": 150,
        "inventory_available_qty": 30,
        "effective_supply_qty": 180,
        "revenue": 2800,
        "margin": 1120,
        "inventory_value": 300,
        "service_level": 90,
    }
    # Scenario: demand 180; supply 120; available 45; effective 165; price 14 x 1.05 = 14.7; avg cost 8.4.
    # revenue 180 x 14.7 = 2 646; margin 180 x 6.3 = 1 134; value 300 + (165 - 180) x 8.4 = 174;
    # service 165 / 180 = 91.666…
    assert results["scenario"] == {
        "demand_qty": 180,
        "supply_qty": 120,
        "inventory_available_qty": 45,
        "effective_supply_qty": 165,
        "revenue": 2646,
        "margin": 1134,
        "inventory_value": 174,
        "service_level": 91.67,
    }
    assert results["revenue_impact"] == -154
    assert results["margin_impact"] == 14
    assert results["inventory_impact"] == -126
    assert results["service_level_impact"] == 1.67
    assert results["capacity_utilization_change"] == -20
    # shortage 15, penalty 3.5 → 52.5; no excess; WC delta -126; service score 1.666…;
    # composite 0.45 x 1.666… + 0.30 x (-0.0525) + 0.25 x 0.126 = 0.76575 → 0.77.
    assert results["tradeoff"] == {
        "inventory_carrying_cost": 0,
        "stockout_penalty_cost": 52.5,
        "working_capital_delta": -126,
        "service_score": 1.67,
        "cost_score": -0.05,
        "cash_score": 0.13,
        "composite_score": 0.77,
        "open_inventory_exceptions": 2,
        "high_risk_exception_count": 1,
        "medium_risk_exception_count": 1,
    }
    assert results["data_points"] == {"demand_plan_count": 3, "supply_plan_count": 2, "inventory_record_count": 2}
    assert results["period"] == "2026-03-01"
    assert results["inputs"]["stockout_penalty_per_unit"] == 3.5
    assert results["inputs"]["stockout_penalty_defaulted"] is True
    assert results["inputs"]["inventory_carry_rate_pct"] == 18


def test_excess_supply_costs_carrying_and_working_capital(w):
    results = scenario_simulate(user=w.admin, period=MARCH, scope=audio_scope(w),
                                parameters={"supply_capacity_pct": 50})  # fmt: skip
    # supply 225, effective 255 against demand 200: excess 55; carrying 55 x 8.4 x 18 % = 83.16;
    # value 300 + 55 x 8.4 = 762 → WC delta 462; service 100 (capped) → +10.
    assert results["scenario"]["effective_supply_qty"] == 255
    assert results["scenario"]["service_level"] == 100
    assert results["revenue_impact"] == 0
    assert results["margin_impact"] == 0
    assert results["inventory_impact"] == 462
    assert results["service_level_impact"] == 10
    # composite 0.45 x 10 + 0.30 x (-0.08316) + 0.25 x (-0.462) = 4.359552 → 4.36
    assert results["tradeoff"]["inventory_carrying_cost"] == 83.16
    assert results["tradeoff"]["stockout_penalty_cost"] == 0
    assert results["tradeoff"]["working_capital_delta"] == 462
    assert results["tradeoff"]["cost_score"] == -0.08
    assert results["tradeoff"]["cash_score"] == -0.46
    assert results["tradeoff"]["composite_score"] == 4.36


def test_given_penalty_carry_rate_and_weights_are_used_as_given(w):
    results = scenario_simulate(user=w.admin, period=MARCH, scope=audio_scope(w), parameters={
        "demand_change_pct": 50, "stockout_penalty_per_unit": 2, "inventory_carry_rate_pct": 0,
        "service_weight": 1, "cost_weight": 1, "cash_weight": 0})  # fmt: skip
    # demand 300, effective 180: shortage 120 x 2 = 240; service 60 → -30; value max(0, 300 - 120 x 8.4) = 0.
    assert results["scenario"]["demand_qty"] == 300
    assert results["scenario"]["service_level"] == 60
    assert results["scenario"]["inventory_value"] == 0
    assert results["tradeoff"]["stockout_penalty_cost"] == 240
    # composite 1 x (-30) + 1 x (-0.24) + 0 = -30.24
    assert results["tradeoff"]["composite_score"] == -30.24
    assert results["inputs"]["stockout_penalty_defaulted"] is False


def test_company_wide_scope_counts_every_row(w):
    results = scenario_simulate(user=w.admin, period=MARCH, scope={}, parameters={})
    # Audio plus Garden: demand 210; revenue 2 800 + 1 000; supply 155; available 32; value 400.
    assert results["baseline"]["demand_qty"] == 210
    assert results["baseline"]["revenue"] == 3800
    assert results["baseline"]["margin"] == 1620
    assert results["baseline"]["supply_qty"] == 155
    assert results["baseline"]["inventory_available_qty"] == 32
    assert results["baseline"]["inventory_value"] == 400
    assert results["revenue_impact"] == 0
    # Even unchanged, FRM-31 prices the gap: shortage 210 - 187 = 23 at 25 % of 3 800 / 210 → 104.05;
    # value' = 400 - 23 x 2 180 / 210 = 161.24 → WC delta -238.76;
    # composite 0.30 x (-0.10405) + 0.25 x 0.23876 = 0.0285 → 0.03.
    assert results["tradeoff"]["stockout_penalty_cost"] == 104.05
    assert results["tradeoff"]["working_capital_delta"] == -238.76
    assert results["tradeoff"]["composite_score"] == 0.03


def test_location_scope_limits_supply_and_stock_but_not_demand(w):
    results = scenario_simulate(user=w.admin, period=MARCH, scope={"location_codes": ["L2"]}, parameters={})
    assert results["baseline"]["demand_qty"] == 210  # demand rows carry no location
    assert results["baseline"]["supply_qty"] == 5
    assert results["baseline"]["inventory_value"] == 100
    assert results["data_points"]["inventory_record_count"] == 1


def test_empty_period_gives_zero_figures_and_full_service(w):
    from datetime import date

    results = scenario_simulate(user=w.admin, period=date(2030, 1, 1), scope={}, parameters={"demand_change_pct": 10})
    assert results["baseline"]["demand_qty"] == 0
    assert results["baseline"]["service_level"] == 100
    assert results["scenario"]["service_level"] == 100
    # No price anywhere: the penalty defaults to 1.
    assert results["inputs"]["stockout_penalty_per_unit"] == 1


@pytest.mark.parametrize(("name", "value"), [
    ("demand_change_pct", -101), ("demand_change_pct", 501), ("supply_capacity_pct", 600),
    ("price_change_pct", -100.5), ("inventory_release_pct", 101), ("inventory_carry_rate_pct", -1),
    ("inventory_carry_rate_pct", 101), ("stockout_penalty_per_unit", -0.01), ("service_weight", 1.5),
    ("cost_weight", -0.1), ("cash_weight", 2), ("demand_change_pct", "ten"), ("unknown_knob", 1),
])  # fmt: skip
def test_parameters_out_of_range_or_unknown_are_refused(name, value):
    with pytest.raises(ValidationFailed):
        parameters_validate({name: value})


def test_parameters_at_their_bounds_are_accepted():
    clean, period = parameters_validate(
        {
            "demand_change_pct": -100,
            "supply_capacity_pct": 500,
            "inventory_release_pct": 100,
            "service_weight": 0,
            "period": "2026-03",
        }
    )
    assert clean == {"demand_change_pct": -100, "supply_capacity_pct": 500, "inventory_release_pct": 100,
                     "service_weight": 0}  # fmt: skip
    assert period == MARCH


def test_a_run_stores_results_and_impacts_and_leaves_live_plans_unchanged(w):
    def live():
        return (
            sorted(DemandPlan.objects.values_list("pk", "version", "status", "forecast_qty", "adjusted_qty",
                                                  "consensus_qty", "is_current", "updated_at")),
            sorted(SupplyPlan.objects.values_list("pk", "version", "status", "planned_prod_qty", "is_current",
                                                  "updated_at")),
            sorted(Inventory.objects.values_list("pk", "on_hand_qty", "valuation", "updated_at")),
        )  # fmt: skip

    before = live()
    scenario = scenario_create(actor=w.demand, data={
        "name": "Shortage", "parameters": {"period": "2026-03", "demand_change_pct": -10, "supply_capacity_pct": -20,
                                           "price_change_pct": 5, "inventory_release_pct": 50},
        "scope": audio_scope(w)})  # fmt: skip
    scenario = scenario_run(actor=w.demand, scenario=scenario)
    assert live() == before
    scenario.refresh_from_db()
    assert scenario.status == "completed"
    assert scenario.revenue_impact == Decimal("-154.00")
    assert scenario.margin_impact == Decimal("14.00")
    assert scenario.inventory_impact == Decimal("-126.00")
    assert scenario.service_level_impact == Decimal("1.67")
    assert scenario.results["tradeoff"]["composite_score"] == 0.77
    assert scenario.run_by == w.demand
    assert scenario.run_at is not None
    assert set(scenario.results) == {
        "period",
        "inputs",
        "baseline",
        "scenario",
        "data_points",
        "revenue_impact",
        "margin_impact",
        "inventory_impact",
        "service_level_impact",
        "capacity_utilization_change",
        "tradeoff",
    }
    assert Scenario.objects.count() == 1


def test_the_default_period_is_the_latest_with_current_demand_rows(w):
    scenario = scenario_create(actor=w.admin, data={"name": "Default period"})
    assert scenario.period.isoformat() == "2026-04-01"
    assert scenario.parameters == {"period": "2026-04-01"}
