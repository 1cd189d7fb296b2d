"""Gap analysis (FRM-02, API-SUP-15) and closing a gap (UI-05 "Close gap") on a worked example.

The expected numbers are worked out by hand in the comments, never by calling the code under test.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from genxsop import errors
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import selectors, services
from planning.models import SupplyPlan
from tests.planning import supply_world
from tests.planning.supply_world import APRIL, MARCH, demand, stock, supply

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def w(users):
    w = supply_world.build(users)
    # Speaker, March: three detail rows -> consensus 80 + adjusted 70 + forecast 50 = demand 200 (mixed).
    demand(w, region="EU", channel="Retail", forecast_qty=D(100), adjusted_qty=D(90), consensus_qty=D(80))
    demand(w, region="US", channel="Retail", forecast_qty=D(60), adjusted_qty=D(70))
    demand(w, region="US", channel="Online", forecast_qty=D(50))
    # Supply at two locations: planned 100 + 30 = 130; actual 40 + nothing = 40.
    w.speaker_plant = supply(w, planned_prod_qty=D(100), actual_prod_qty=D(40))
    w.speaker_dc = supply(w, location=w.dc, planned_prod_qty=D(30))
    # Stock: plant 50 - 20 + 10 = 40; DC 5 - 15 + 0 = -10 counts as 0. Available 40.
    stock(w, on_hand_qty=D(50), allocated_qty=D(20), in_transit_qty=D(10))
    stock(w, location=w.dc, on_hand_qty=D(5), allocated_qty=D(15))
    # Mower, March: consensus 100, planned 75, no stock -> coverage -25 % (critical).
    demand(w, product=w.mower, forecast_qty=D(90), consensus_qty=D(100))
    supply(w, product=w.mower, planned_prod_qty=D(75))
    # Radio: March forecast 100 vs planned 100 (balanced); April forecast 100 vs planned 130 (+30 %, excess).
    demand(w, product=w.radio, forecast_qty=D(100))
    supply(w, product=w.radio, planned_prod_qty=D(100))
    demand(w, product=w.radio, period=APRIL, forecast_qty=D(100))
    supply(w, product=w.radio, period=APRIL, planned_prod_qty=D(130))
    return w


def gaps(w, user=None, **params):
    return selectors.gap_analysis(user=user or w.planner, params={"period": "2026-03", **params})


def test_the_worked_example_gives_every_field_of_frm_02(w):
    speaker = next(item for item in gaps(w) if item["sku"] == "SPK-1")
    assert speaker == {
        "product_id": w.speaker.pk, "sku": "SPK-1", "product_name": "Speaker", "period": MARCH,
        "demand_qty": D("200.00"), "consensus_demand_qty": D("200.00"), "demand_source": "mixed",
        "planned_production_qty": D("130.00"), "planned_supply_qty": D("130.00"),
        "actual_production_qty": D("40.00"), "inventory_available_qty": D("40.00"),
        "effective_supply_qty": D("170.00"), "additional_prod_required_qty": D("160.00"),  # 200 - 40
        "plan_gap_qty": D("-70.00"), "plan_gap_pct": D("-35.00"),  # -70 / 200
        "actual_gap_qty": D("-160.00"), "actual_gap_pct": D("-80.00"),  # -160 / 200
        "coverage_gap_qty": D("-30.00"), "coverage_gap_pct": D("-15.00"),  # 170 - 200
        "status": "shortage", "supply_qty": D("170.00"), "gap": D("-30.00"), "gap_pct": D("-15.00"),
        "supply_plan_ids": sorted([w.speaker_plant.pk, w.speaker_dc.pk]), "locations": ["DC-B", "PLANT-A"],
    }  # fmt: skip


def test_items_are_ordered_by_period_then_coverage_and_carry_each_status(w):
    items = gaps(w, period_to="2026-04")
    assert [(i["sku"], i["period"], i["coverage_gap_pct"], i["status"], i["demand_source"]) for i in items] == [
        ("MOW-1", MARCH, D("-25.00"), "critical", "consensus"),
        ("SPK-1", MARCH, D("-15.00"), "shortage", "mixed"),
        ("RAD-1", MARCH, D("0.00"), "balanced", "forecast"),
        ("RAD-1", APRIL, D("30.00"), "excess", "forecast"),
    ]  # fmt: skip


def test_filters_narrow_the_items(w):
    assert [i["sku"] for i in gaps(w, category_id=str(w.audio.pk))] == ["SPK-1", "RAD-1"]
    assert [i["sku"] for i in gaps(w, product_id=str(w.mower.pk))] == ["MOW-1"]
    assert [i["sku"] for i in gaps(w, period_to="2026-04", status="critical,excess")] == ["MOW-1", "RAD-1"]
    assert gaps(w, period="2026-05") == []


def test_the_default_period_is_the_current_month(w, monkeypatch):
    monkeypatch.setattr("planning.selectors.supply.planning_today", lambda: date(2026, 4, 17))
    assert [(i["sku"], i["period"]) for i in selectors.gap_analysis(user=w.planner, params={})] == [
        ("RAD-1", APRIL)]  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [{"period": "2026-13"}, {"period": "2026-03", "period_to": "2026-02"},
     {"period": "2026-01", "period_to": "2028-01"}, {"status": "bad"}, {"product_id": "x"}],
)  # fmt: skip
def test_bad_parameters_are_400(w, params):
    with pytest.raises(errors.ValidationFailed) as caught:
        selectors.gap_analysis(user=w.planner, params=params)
    assert caught.value.code == "INVALID_PARAMETER"


def test_twenty_four_periods_are_allowed(w):
    assert len(gaps(w, period="2026-01", period_to="2027-12")) == 4


def test_a_scoped_user_sees_sums_over_in_scope_rows_only(w, make_user):
    scoped = make_user("supply_planner")
    scopes = [{"type": "category", "id": w.audio.pk, "access": "view"},
              {"type": "location", "id": w.plant.pk, "access": "view"}]  # fmt: skip
    user_scopes_set(actor=w.admin, user=scoped, scopes=scopes)
    speaker = next(item for item in gaps(w, user=scoped) if item["sku"] == "SPK-1")
    # Only PLANT-A: planned 100, stock 40 -> effective 140, gap -60 (-30 %).
    assert (speaker["planned_production_qty"], speaker["inventory_available_qty"], speaker["locations"]) == (
        D("100.00"), D("40.00"), ["PLANT-A"])  # fmt: skip
    assert (speaker["coverage_gap_pct"], speaker["status"]) == (D("-30.00"), "critical")
    assert "MOW-1" not in [item["sku"] for item in gaps(w, user=scoped)]


def test_the_viewer_may_not_read_it(w):
    with pytest.raises(errors.PermissionDenied):
        gaps(w, user=w.viewer)


def test_the_query_count_does_not_grow_with_rows(w):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            gaps(w, period_to="2026-12")
        return len(captured)

    few = count()
    for month in range(5, 13):
        demand(w, product=w.radio, period=date(2026, month, 1))
        supply(w, product=w.radio, period=date(2026, month, 1))
    assert count() == few <= 6


# Closing a gap -----------------------------------------------------------------------------


def test_close_gap_raises_the_largest_location_by_the_plan_gap_with_a_new_version(w):
    # Speaker: plan gap 130 - 200 = -70, so the plant row (planned 100, the largest) proposes
    # 100 + |-70| = 170, as version 2; planned total 170 + 30 = 200 = demand.
    proposal = selectors.gap_close_proposal(user=w.planner, product=w.speaker, period=MARCH)
    assert (proposal["action"], proposal["location"].code, proposal["current_qty"], proposal["proposed_qty"]) == (
        "close", "PLANT-A", D("100.00"), D("170.00"))  # fmt: skip
    # At the DC (planned 30) the same gap would propose 30 + 70 = 100.
    assert [(o["row"].location.code, o["proposed_qty"], o["selected"]) for o in proposal["rows"]] == [
        ("PLANT-A", D("170.00"), True), ("DC-B", D("100.00"), False)]  # fmt: skip
    plan = services.supply_gap_close(actor=w.planner, product=w.speaker, period=MARCH)
    assert (plan.pk, plan.location.code, plan.planned_prod_qty, plan.version) == (
        w.speaker_plant.pk, "PLANT-A", D("170.00"), 2)  # fmt: skip
    assert plan.change_reason == (
        "Closes the shortfall of SPK-1 in Mar 2026: plan gap -70 units (demand 200, coverage -15.0 %, shortage)."
    )
    event = AuditEvent.objects.filter(event_type="planning.supply_plan.updated", target_id=str(plan.pk)).get()
    assert (event.before["planned_prod_qty"], event.after["planned_prod_qty"]) == ("100.00", "170.00")
    # Now planned 200 + stock 40 = 240 against 200: coverage +20 %, balanced (not above 20).
    assert next(i for i in gaps(w) if i["sku"] == "SPK-1")["status"] == "balanced"
    with pytest.raises(errors.Conflict) as caught:
        services.supply_gap_close(actor=w.planner, product=w.speaker, period=MARCH)
    assert caught.value.code == "BUSINESS_RULE_VIOLATION"
    assert caught.value.message == (
        "There is no coverage gap to close for SPK-1 in Mar 2026: supply and demand are balanced."
    )


def test_adjust_plan_lowers_an_excess_by_the_plan_gap(w):
    # Radio April: planned 130 against forecast 100, plan gap +30 -> max(0, 130 - 30) = 100.
    proposal = selectors.gap_close_proposal(user=w.planner, product=w.radio, period=APRIL)
    assert (proposal["action"], proposal["proposed_qty"]) == ("adjust", D("100.00"))
    plan = services.supply_gap_close(actor=w.planner, product=w.radio, period=APRIL)
    assert (plan.planned_prod_qty, plan.version) == (D("100.00"), 2)
    assert plan.change_reason == (
        "Adjusts the excess of RAD-1 in Apr 2026: plan gap 30 units (demand 100, coverage 30.0 %, excess)."
    )


def test_adjust_plan_never_proposes_below_zero(w):
    # Radio April at the DC with nothing planned: max(0, 0 - 30) = 0, a draft of 0 units.
    proposal = selectors.gap_close_proposal(user=w.planner, product=w.radio, period=APRIL, location=w.dc)
    assert (proposal["row"], proposal["current_qty"], proposal["proposed_qty"]) == (None, D("0.00"), D("0.00"))


def test_an_explicit_quantity_replaces_the_proposal(w):
    plan = services.supply_gap_close(actor=w.planner, product=w.speaker, period=MARCH, location=w.dc,
                                     planned_prod_qty=D("45"))  # fmt: skip
    assert (plan.pk, plan.planned_prod_qty, plan.version) == (w.speaker_dc.pk, D("45.00"), 2)
    with pytest.raises(errors.ValidationFailed) as caught:
        services.supply_gap_close(actor=w.planner, product=w.speaker, period=MARCH, planned_prod_qty=D("-1"))
    assert caught.value.fields == {"planned_prod_qty": ["Must be zero or more."]}
    with pytest.raises(
        errors.Conflict
    ) as caught:  # planned 145 + stock 40 = 185 < 200: still a shortage, the DC already plans 45
        services.supply_gap_close(actor=w.planner, product=w.speaker, period=MARCH, location=w.dc,
                                  planned_prod_qty=D("45"))  # fmt: skip
    assert "already plans 45 units" in caught.value.message


def test_close_gap_at_a_location_without_a_plan_creates_a_draft(w):
    plan = services.supply_gap_close(actor=w.planner, product=w.mower, period=MARCH, location=w.main)
    # Mower plan gap 75 - 100 = -25; Main plans nothing, so 0 + 25 = 25 as a new draft at Main.
    assert (plan.location.code, plan.planned_prod_qty, plan.version, plan.status) == ("Main", D("25.00"), 1, "draft")
    assert plan.change_reason.startswith("Closes the shortfall of MOW-1 in Mar 2026: plan gap -25 units")
    assert AuditEvent.objects.filter(event_type="planning.supply_plan.created", target_id=str(plan.pk)).exists()


def test_close_gap_without_any_plan_uses_main(w):
    demand(w, product=w.mower, period=APRIL, forecast_qty=D(40))
    plan = services.supply_gap_close(actor=w.planner, product=w.mower, period=APRIL)
    assert (plan.location.code, plan.planned_prod_qty) == ("Main", D("40.00"))


def test_close_gap_refuses_a_submitted_plan_and_a_reader(w):
    services.supply_plan_submit(actor=w.planner, plan=w.speaker_plant)
    before = SupplyPlan.objects.filter(pk=w.speaker_plant.pk).values().get()
    with pytest.raises(errors.InvalidStateTransition) as caught:
        services.supply_gap_close(actor=w.planner, product=w.speaker, period=MARCH)
    assert caught.value.message == ("The supply plan of SPK-1 for Mar 2026 at PLANT-A is submitted; withdraw or "
                                    "reopen it before closing the gap.")  # fmt: skip
    with pytest.raises(errors.PermissionDenied):
        services.supply_gap_close(actor=w.exec, product=w.speaker, period=MARCH, location=w.dc)
    assert SupplyPlan.objects.filter(pk=w.speaker_plant.pk).values().get() == before
    assert SupplyPlan.objects.filter(history_of__isnull=False).count() == 0


def test_close_gap_without_demand_or_in_balance_has_nothing_to_close(w):
    with pytest.raises(errors.Conflict) as caught:
        services.supply_gap_close(actor=w.planner, product=w.radio, period=MARCH)  # balanced
    assert caught.value.code == "BUSINESS_RULE_VIOLATION"
    with pytest.raises(errors.Conflict) as caught:
        services.supply_gap_close(actor=w.planner, product=w.radio, period=date(2026, 9, 1))
    assert caught.value.message == "There is no coverage gap to close for RAD-1 in Sep 2026: it has no demand."


# Demand history (API-DEM-16) ---------------------------------------------------------------


def test_demand_history_sums_the_product_total_and_keeps_the_least_advanced_status(w, monkeypatch):
    monkeypatch.setattr("planning.selectors.supply.planning_today", lambda: date(2026, 4, 2))
    eu = services.demand_plan_update(actor=w.admin, plan=w.speaker.demand_plans.get(region="EU"),
                                     data={"actual_qty": D(75)})  # fmt: skip
    services.demand_plan_submit(actor=w.admin, plan=eu)
    services.demand_plan_update(actor=w.admin, plan=w.speaker.demand_plans.get(region="US", channel="Online"),
                                data={"actual_qty": D(45)})  # fmt: skip
    demand(w, period=date(2025, 12, 1), region="EU", channel="Retail", forecast_qty=D(10))  # before the window
    total = selectors.demand_history(user=w.demand_planner, params={"product_id": str(w.speaker.pk), "months": "3"})
    # March: forecast 100 + 60 + 50 = 210, actual 75 + 45 = 120, consensus 80, demand 200; statuses
    # submitted, draft, draft -> draft.
    assert total == [{
        "period": MARCH, "forecast_qty": D("210.00"), "actual_qty": D("120.00"), "consensus_qty": D("80.00"),
        "demand_qty": D("200.00"), "region": "Global", "channel": "All", "status": "draft",
    }]  # fmt: skip
    series = selectors.demand_history(user=w.demand_planner, params={
        "product_id": str(w.speaker.pk), "region": "EU", "channel": "Retail", "months": "12"})  # fmt: skip
    assert [(p["period"], p["status"], p["actual_qty"]) for p in series] == [
        (date(2025, 12, 1), "draft", None), (MARCH, "submitted", D("75.00"))]  # fmt: skip
    params = {"product_id": str(w.speaker.pk), "region": "EU", "channel": "Retail", "months": "12",
              "only_actuals": "true"}  # fmt: skip
    only = selectors.demand_history(user=w.demand_planner, params=params)
    assert [p["period"] for p in only] == [MARCH]


@pytest.mark.parametrize("params", [{}, {"product_id": "x"}, {"product_id": "1", "months": "121"},
                                    {"product_id": "1", "only_actuals": "maybe"}])  # fmt: skip
def test_demand_history_refuses_bad_parameters(w, params):
    with pytest.raises(errors.ValidationFailed):
        selectors.demand_history(user=w.demand_planner, params=params)
