"""GOV-61 must-pass gates and GOV-62 scored checks: each refuses with its reason and evidence, and
passes once the data is fixed (the ready company is in test_readiness_world.py)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.choices import EvaluationOutcome, Role, StepStatus
from governance.models import Publication, PublicationItem, ReadinessEvaluation, SopCycle, SopCycleStep
from governance.services.readiness import plan_fingerprint, plans_in_scope, publication_items_sha256
from planning.models import DemandPlan, Inventory, InventoryPolicyException, Product, Scenario, SupplyPlan
from tests.factories import ProductFactory
from tests.governance.test_readiness_world import World, check, gate


@pytest.fixture
def world(users):
    return World(users[Role.ADMIN])


def _failed(evaluation) -> list[str]:
    return [g["gate"] for g in evaluation.must_pass if not g["passed"]]


# Data integrity ----------------------------------------------------------------------------------------------------


def test_product_master_complete_names_the_products_missing_master_data(world):
    Product.objects.filter(pk=world.product.pk).update(unit_cost=None, lead_time_days=0)

    evaluation = world.evaluate()
    result = gate(evaluation, "product_master_complete")
    assert result["passed"] is False
    assert result["overridable"] is True
    assert result["section"] == "Data integrity"
    assert result["evidence"]["count"] == 1
    assert result["evidence"]["keys"] == [{"sku": "A-100", "product_id": world.product.pk,
                                           "missing": "unit_cost, lead_time_days"}]  # fmt: skip
    assert evaluation.outcome == EvaluationOutcome.NO_GO

    Product.objects.filter(pk=world.product.pk).update(unit_cost=Decimal("10.00"), lead_time_days=7)
    assert gate(world.evaluate(), "product_master_complete")["passed"] is True


def test_product_master_ignores_products_without_plan_rows_in_scope(world):
    ProductFactory(sku="NO-PLANS", category=None, status="discontinued")
    assert gate(world.evaluate(), "product_master_complete")["passed"] is True


def test_inventory_snapshot_current_refuses_stale_snapshots(world):
    old = timezone.now() - datetime.timedelta(hours=100)  # monthly lane: 72 h at most
    Inventory.objects.filter(pk=world.inventory.pk).update(snapshot_at=old)

    result = gate(world.evaluate(), "inventory_snapshot_current")
    assert result["passed"] is False
    assert result["evidence"]["total"] == 1
    assert result["evidence"]["fresh"] == 0
    assert result["evidence"]["keys"][0]["sku"] == "A-100"
    assert "0.00% of 1 inventory rows" in result["detail"]

    Inventory.objects.filter(pk=world.inventory.pk).update(snapshot_at=timezone.now())
    assert gate(world.evaluate(), "inventory_snapshot_current")["passed"] is True


def test_inventory_snapshot_current_uses_the_lane_age_limit(world):
    Inventory.objects.filter(pk=world.inventory.pk).update(snapshot_at=timezone.now() - datetime.timedelta(hours=48))
    assert gate(world.evaluate("weekly"), "inventory_snapshot_current")["passed"] is False  # 24 h
    assert gate(world.evaluate("monthly"), "inventory_snapshot_current")["passed"] is True  # 72 h


def test_demand_actuals_current_needs_actuals_for_the_last_closed_month(world):
    DemandPlan.objects.filter(pk=world.history.pk).update(actual_qty=None)

    result = gate(world.evaluate(), "demand_actuals_current")
    assert result["passed"] is False
    assert result["evidence"]["period"] == world.closed.isoformat()
    assert result["evidence"]["keys"] == [{"sku": "A-100", "period": world.closed.isoformat(),
                                           "rows_without_actual": 1}]  # fmt: skip

    DemandPlan.objects.filter(pk=world.history.pk).update(actual_qty=90)
    assert gate(world.evaluate(), "demand_actuals_current")["passed"] is True


def test_calendar_alignment_names_missing_demand_and_supply(world):
    period = world.periods[2]
    DemandPlan.objects.filter(pk=world.demand[period].pk).delete()
    other = ProductFactory(sku="B-200")
    world.demand_row(other, world.periods[0])  # demand > 0 without supply, and no demand in the other periods

    result = gate(world.evaluate(), "calendar_alignment")
    assert result["passed"] is False
    keys = result["evidence"]["keys"]
    assert {"sku": "A-100", "period": period.isoformat(), "missing": "demand"} in keys
    assert {"sku": "B-200", "period": world.periods[0].isoformat(), "missing": "supply"} in keys
    assert result["evidence"]["missing_supply"] == 1
    assert result["evidence"]["missing_demand"] == 1 + (len(world.periods) - 1)

    world.demand[period] = world.demand_row(world.product, period)
    Product.objects.filter(pk=other.pk).update(status="discontinued")
    DemandPlan.objects.filter(product=other).update(forecast_qty=0)
    assert gate(world.evaluate(), "calendar_alignment")["passed"] is True


def test_calendar_alignment_refuses_a_monthly_horizon_that_is_too_short(world):
    late = world.periods[3:]
    DemandPlan.objects.filter(period__in=late).delete()
    SupplyPlan.objects.filter(period__in=late).delete()

    evaluation = world.evaluate()
    result = gate(evaluation, "calendar_alignment")
    assert result["passed"] is False
    assert result["evidence"]["long_enough"] is False
    assert "too short" in result["detail"]
    assert evaluation.period_to == world.periods[2]

    for period in late:
        world.demand_row(world.product, period)
        world.supply_row(world.product, period)
    assert gate(world.evaluate(), "calendar_alignment")["passed"] is True


# Governance --------------------------------------------------------------------------------------------------------


def test_plans_approved_lists_rows_that_are_not_approved_or_locked(world):
    plan = world.supply[world.periods[1]]
    SupplyPlan.objects.filter(pk=plan.pk).update(status="submitted")

    result = gate(world.evaluate(), "plans_approved")
    assert result["passed"] is False
    assert result["section"] == "Governance"
    assert result["evidence"]["by_status"] == {"submitted": 1}
    assert result["evidence"]["keys"] == [{"plan_type": "supply", "plan_id": plan.pk, "sku": "A-100",
                                           "period": world.periods[1].isoformat(), "status": "submitted"}]  # fmt: skip

    SupplyPlan.objects.filter(pk=plan.pk).update(status="approved")
    assert gate(world.evaluate(), "plans_approved")["passed"] is True


def test_operating_plan_scenario_must_be_approved_and_designated(world):
    Scenario.objects.filter(pk=world.scenario.pk).update(is_operating_plan=False)

    result = gate(world.evaluate(), "operating_plan_scenario")
    assert result["passed"] is False
    assert result["detail"] == f"No approved operating-plan scenario for {world.month:%Y-%m}"

    Scenario.objects.filter(pk=world.scenario.pk).update(is_operating_plan=True)
    assert gate(world.evaluate(), "operating_plan_scenario")["passed"] is True


def test_operating_plan_scenario_of_the_monthly_period_from(world):
    later = world.periods[1]
    assert gate(world.evaluate(period_from=later), "operating_plan_scenario")["passed"] is False
    Scenario.objects.create(name="Next", period=later, status="approved", is_operating_plan=True)
    assert gate(world.evaluate(period_from=later), "operating_plan_scenario")["passed"] is True
    # The weekly lane always asks for the current month's operating plan
    assert gate(world.evaluate("weekly"), "operating_plan_scenario")["passed"] is True


def test_sop_step_gates_monthly_needs_step_five_with_steps_one_to_four_cleared(world):
    SopCycleStep.objects.filter(cycle=world.cycle, step_number=4).update(status=StepStatus.IN_PROGRESS)
    SopCycle.objects.filter(pk=world.cycle.pk).update(current_step=4)

    result = gate(world.evaluate(), "sop_step_gates")
    assert result["passed"] is False
    assert result["evidence"]["keys"] == [{"cycle_id": world.cycle.pk, "step": 4, "status": "in_progress"}]
    assert "not 5" in result["detail"]
    # The weekly lane needs steps 1-3 only
    assert gate(world.evaluate("weekly"), "sop_step_gates")["passed"] is True

    SopCycleStep.objects.filter(cycle=world.cycle, step_number=4).update(status=StepStatus.SKIPPED)
    SopCycle.objects.filter(pk=world.cycle.pk).update(current_step=5)
    assert gate(world.evaluate(), "sop_step_gates")["passed"] is True


def test_sop_step_gates_weekly_needs_steps_one_to_three(world):
    SopCycleStep.objects.filter(cycle=world.cycle, step_number=3).update(status=StepStatus.PENDING)
    result = gate(world.evaluate("weekly"), "sop_step_gates")
    assert result["passed"] is False
    assert result["evidence"]["keys"][0]["step"] == 3

    SopCycleStep.objects.filter(cycle=world.cycle, step_number=3).update(status=StepStatus.COMPLETED)
    assert gate(world.evaluate("weekly"), "sop_step_gates")["passed"] is True


def test_sop_step_gates_refuse_without_a_cycle(world):
    SopCycle.objects.filter(pk=world.cycle.pk).update(overall_status="cancelled")
    result = gate(world.evaluate("weekly"), "sop_step_gates")
    assert result["passed"] is False
    assert result["detail"] == f"No S&OP cycle for {world.month:%Y-%m}"


# Safety ------------------------------------------------------------------------------------------------------------


def publish(world, lane="monthly", *, evaluation=None) -> Publication:
    """A current publication of every plan row in scope, its items holding the live values (as the publish
    service stores them)."""
    evaluation = evaluation or world.evaluate(lane)
    demand, supply = plans_in_scope_of(evaluation)
    publication = Publication.objects.create(
        version_stamp=f"{lane[0].upper()}-{evaluation.period_from:%Y%m}-v1", lane=lane,
        period_from=evaluation.period_from, period_to=evaluation.period_to, evaluation=evaluation, outcome="go",
        published_by=world.admin, published_at=timezone.now(), snapshot_sha256="",
    )  # fmt: skip
    items = [PublicationItem(publication=publication, plan_type="demand", plan_id=p.pk, plan_version=p.version,
                             product=p.product, period=p.period, region=p.region, channel=p.channel,
                             values={"forecast_qty": str(p.forecast_qty), "adjusted_qty": None,
                                     "consensus_qty": None, "status": p.status}) for p in demand]  # fmt: skip
    items += [PublicationItem(publication=publication, plan_type="supply", plan_id=p.pk, plan_version=p.version,
                              product=p.product, period=p.period, location=p.location,
                              values={"planned_prod_qty": str(p.planned_prod_qty),
                                      "capacity_max": str(p.capacity_max), "status": p.status})
              for p in supply]  # fmt: skip
    PublicationItem.objects.bulk_create(items)
    saved = list(PublicationItem.objects.filter(publication=publication))
    Publication.objects.filter(pk=publication.pk).update(item_count=len(saved),
                                                         snapshot_sha256=publication_items_sha256(saved))  # fmt: skip
    publication.refresh_from_db()
    return publication


def plans_in_scope_of(evaluation: ReadinessEvaluation):
    window = {"is_current": True, "period__gte": evaluation.period_from, "period__lte": evaluation.period_to}
    return (list(DemandPlan.objects.filter(**window).order_by("id")),
            list(SupplyPlan.objects.filter(**window).order_by("id")))  # fmt: skip


def test_freeze_window_respected_names_published_rows_that_changed(world):
    publication = publish(world)
    frozen = world.demand[world.periods[0]]  # monthly: the first period is frozen
    thawed = world.demand[world.periods[3]]
    DemandPlan.objects.filter(pk__in=[frozen.pk, thawed.pk]).update(forecast_qty=150)

    result = gate(world.evaluate(), "freeze_window_respected")
    assert result["passed"] is False
    assert result["section"] == "Safety"
    assert result["overridable"] is True
    assert result["evidence"]["publication"] == publication.version_stamp
    assert result["evidence"]["keys"] == [
        {"plan_type": "demand", "plan_id": frozen.pk, "sku": "A-100", "period": world.periods[0].isoformat(),
         "fields": "forecast_qty"}]  # fmt: skip

    DemandPlan.objects.filter(pk=frozen.pk).update(forecast_qty=100)
    result = gate(world.evaluate(), "freeze_window_respected")
    assert result["passed"] is True
    assert result["evidence"]["checked"] == 2  # the frozen period's demand and supply rows


def test_freeze_window_respected_without_a_publication_passes(world):
    result = gate(world.evaluate(), "freeze_window_respected")
    assert result["passed"] is True
    assert result["detail"] == "The lane has no current publication"


def test_version_stamping_refuses_a_changed_plan_set_and_cannot_be_overridden(world):
    seen = world.evaluate().plan_fingerprint
    DemandPlan.objects.filter(pk=world.demand[world.periods[1]].pk).update(version=2)

    evaluation = world.evaluate(dry_run=False, expected_fingerprint=seen)
    result = gate(evaluation, "version_stamping")
    assert result["passed"] is False
    assert result["overridable"] is False
    assert result["evidence"]["stale"] is True
    assert result["evidence"]["expected_fingerprint"] == seen
    assert evaluation.plan_fingerprint != seen
    assert "changed since the evaluation" in result["detail"]

    again = world.evaluate(dry_run=False, expected_fingerprint=evaluation.plan_fingerprint)
    assert gate(again, "version_stamping")["passed"] is True
    assert again.dry_run is False


def test_version_stamping_refuses_locked_rows_without_their_publication(world):
    plan = world.demand[world.periods[1]]
    DemandPlan.objects.filter(pk=plan.pk).update(status="locked")

    result = gate(world.evaluate(), "version_stamping")
    assert result["passed"] is False
    assert result["evidence"]["keys"] == [{"plan_type": "demand", "plan_id": plan.pk, "sku": "A-100",
                                           "period": world.periods[1].isoformat(),
                                           "problem": "locked without a publication"}]  # fmt: skip

    publication = publish(world)
    DemandPlan.objects.filter(pk=plan.pk).update(locked_by_publication=publication)
    assert gate(world.evaluate(), "version_stamping")["passed"] is True


def test_rollback_ready_verifies_the_current_publication_snapshot(world):
    publication = publish(world)
    assert gate(world.evaluate(), "rollback_ready")["passed"] is True

    item = PublicationItem.objects.filter(publication=publication).first()
    PublicationItem.objects.filter(pk=item.pk).update(values={**item.values, "forecast_qty": "1.00"})
    result = gate(world.evaluate(), "rollback_ready")
    assert result["passed"] is False
    assert result["overridable"] is False
    assert result["detail"] == f"{publication.version_stamp}: the snapshot checksum does not match"
    assert result["evidence"]["keys"] == [{"publication": publication.version_stamp, "publication_id": publication.pk}]

    PublicationItem.objects.filter(pk=item.pk).update(values=item.values)
    assert gate(world.evaluate(), "rollback_ready")["passed"] is True

    PublicationItem.objects.filter(pk=item.pk).delete()
    result = gate(world.evaluate(), "rollback_ready")
    assert result["passed"] is False
    assert f"{publication.item_count - 1} item(s) stored, {publication.item_count} published" in result["detail"]


def test_rollback_ready_only_looks_at_the_lane_of_the_publication(world):
    publication = publish(world, "monthly")
    Publication.objects.filter(pk=publication.pk).update(snapshot_sha256="0" * 64)
    assert gate(world.evaluate("monthly"), "rollback_ready")["passed"] is False
    assert gate(world.evaluate("weekly"), "rollback_ready")["passed"] is True


# Scored checks -----------------------------------------------------------------------------------------------------


def test_accuracy_scores_zero_above_the_mape_threshold(world):
    from forecasting.models import ForecastAccuracyPoint

    ForecastAccuracyPoint.objects.filter(lag=3).update(ape=Decimal("45"))  # monthly: lag 3, threshold 30

    result = check(world.evaluate(), "accuracy")
    assert result == {**result, "passed": False, "value": "45.00", "threshold": "30.00"}
    assert result["keys"][0] == {"sku": "A-100", "layer": "consensus", "points": 3, "mape": "45.00"}
    assert check(world.evaluate("weekly"), "accuracy")["passed"] is True  # lag 1 is still at 10 %

    ForecastAccuracyPoint.objects.filter(lag=3).update(ape=Decimal("25"))
    assert check(world.evaluate(), "accuracy")["passed"] is True


def test_accuracy_prefers_the_consensus_layer_and_needs_three_points(world):
    from forecasting.models import ForecastAccuracyPoint

    world.accuracy_points(world.product, lag=3, ape=Decimal("90"), error=Decimal("2"), layer="statistical")
    assert check(world.evaluate(), "accuracy")["value"] == "10.00"  # consensus wins

    ForecastAccuracyPoint.objects.filter(layer="consensus").delete()
    assert check(world.evaluate(), "accuracy")["value"] == "90.00"  # statistical where no consensus

    ForecastAccuracyPoint.objects.filter(period=world.closed).delete()  # two points left
    result = check(world.evaluate(), "accuracy")
    assert (result["passed"], result["value"], result["detail"]) == (False, None, "insufficient accuracy history")


def test_accuracy_counts_a_class_products_only(world):
    from forecasting.models import ForecastAccuracyPoint

    b_item = ProductFactory(sku="B-1", abc_class="B")
    world.accuracy_points(b_item, lag=3, ape=Decimal("99"), error=Decimal("2"))
    assert check(world.evaluate(), "accuracy")["value"] == "10.00"
    ForecastAccuracyPoint.objects.filter(product=world.product).delete()
    assert check(world.evaluate(), "accuracy")["detail"] == "insufficient accuracy history"


def test_bias_is_volume_weighted_over_the_same_points(world):
    from forecasting.models import ForecastAccuracyPoint

    ForecastAccuracyPoint.objects.filter(lag=3).update(error=Decimal("-15"))  # threshold 10 %

    result = check(world.evaluate(), "bias")
    assert (result["passed"], result["value"], result["threshold"]) == (False, "-15.00", "10.00")
    assert "under-forecast" in result["detail"]

    ForecastAccuracyPoint.objects.filter(lag=3).update(error=Decimal("8"))
    result = check(world.evaluate(), "bias")
    assert (result["passed"], result["value"]) == (True, "8.00")


def test_supply_feasibility_refuses_critical_gaps(world):
    period = world.periods[4]
    SupplyPlan.objects.filter(pk=world.supply[period].pk).update(planned_prod_qty=10)  # 10 + 50 on hand vs 100

    result = check(world.evaluate(), "supply_feasibility")
    assert (result["passed"], result["value"], result["critical_gaps"]) == (False, 1, 1)
    assert result["keys"] == [{"sku": "A-100", "period": period.isoformat(), "coverage_gap_pct": "-40.00"}]

    SupplyPlan.objects.filter(pk=world.supply[period].pk).update(planned_prod_qty=40)  # -10 %: a shortage only
    assert check(world.evaluate(), "supply_feasibility")["passed"] is True


def test_supply_feasibility_refuses_overloaded_rows_in_the_freeze_window(world):
    frozen, later = world.supply[world.periods[0]], world.supply[world.periods[5]]
    SupplyPlan.objects.filter(pk__in=[frozen.pk, later.pk]).update(capacity_max=80)  # 125 % load

    result = check(world.evaluate(), "supply_feasibility")
    assert (result["passed"], result["overloaded"]) == (False, 1)  # only the frozen month counts
    assert result["keys"] == [{"plan_type": "supply", "plan_id": frozen.pk, "sku": "A-100",
                               "period": world.periods[0].isoformat(), "load_pct": "125.00"}]  # fmt: skip

    SupplyPlan.objects.filter(pk=frozen.pk).update(capacity_max=100)  # exactly 100 %
    assert check(world.evaluate(), "supply_feasibility")["passed"] is True


def test_inventory_risk_needs_an_owned_exception_on_every_critical_row(world):
    Inventory.objects.filter(pk=world.inventory.pk).update(status="critical")

    result = check(world.evaluate(), "inventory_risk")
    assert (result["passed"], result["value"], result["uncovered_critical"]) == (False, 1, 1)
    assert result["keys"][0]["problem"] == "critical without an owned exception"

    exception = InventoryPolicyException.objects.create(
        inventory=world.inventory, exception_type="stockout_risk", severity="medium", recommended_action="Expedite",
    )  # fmt: skip
    assert check(world.evaluate(), "inventory_risk")["passed"] is False  # no owner, no due date

    InventoryPolicyException.objects.filter(pk=exception.pk).update(
        owner=world.admin, due_date=world.today + datetime.timedelta(days=5)
    )
    assert check(world.evaluate(), "inventory_risk")["passed"] is True


def test_inventory_risk_refuses_overdue_high_severity_stockout_risks(world):
    exception = InventoryPolicyException.objects.create(
        inventory=world.inventory, exception_type="stockout_risk", severity="high", recommended_action="Expedite",
        owner=world.admin, due_date=world.today - datetime.timedelta(days=1),
    )  # fmt: skip

    result = check(world.evaluate(), "inventory_risk")
    assert (result["passed"], result["overdue"]) == (False, 1)
    assert result["keys"] == [{"sku": "A-100", "location": world.location.code, "exception_id": exception.pk,
                               "due_date": (world.today - datetime.timedelta(days=1)).isoformat(),
                               "problem": "overdue stockout risk"}]  # fmt: skip

    InventoryPolicyException.objects.filter(pk=exception.pk).update(status="resolved")
    assert check(world.evaluate(), "inventory_risk")["passed"] is True


# Fingerprint -------------------------------------------------------------------------------------------------------


def test_the_fingerprint_is_stable_and_follows_versions(world):
    first, second = world.evaluate(), world.evaluate()
    assert first.plan_fingerprint == second.plan_fingerprint
    assert len(first.plan_fingerprint) == 64

    demand, supply = plans_in_scope_of(first)
    assert plan_fingerprint(list(reversed(demand)), supply) == first.plan_fingerprint  # order does not matter
    assert plan_fingerprint(demand, supply[1:]) != first.plan_fingerprint  # every row counts
    assert plan_fingerprint(supply[:1], []) != plan_fingerprint([], supply[:1])  # and its plan type

    DemandPlan.objects.filter(pk=demand[0].pk).update(version=3)
    assert world.evaluate().plan_fingerprint != first.plan_fingerprint


def test_plans_in_scope_are_current_rows_of_the_horizon_by_id(world):
    from governance.models import PublishPolicy
    from governance.services.readiness import lane_horizon

    horizon = lane_horizon(PublishPolicy.objects.get(lane="monthly"))
    live = world.demand[world.periods[1]]
    DemandPlan.objects.filter(pk=live.pk).update(version=2)
    old = DemandPlan.objects.create(product=world.product, period=live.period, forecast_qty=90, version=1,
                                    is_current=False, history_of=live, status="approved")  # fmt: skip
    demand, supply = plans_in_scope(horizon)
    assert list(demand.values_list("id", flat=True)) == sorted(world.demand[p].pk for p in world.periods)
    assert old.pk not in set(demand.values_list("id", flat=True))
    assert supply.count() == len(world.periods)
    assert world.history.pk not in set(demand.values_list("id", flat=True))  # before period_from


def test_an_evaluation_runs_a_fixed_number_of_queries_whatever_the_number_of_rows(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world.evaluate()  # loads the actor's permissions and content types once
    with CaptureQueriesContext(connection) as small:
        world.evaluate()
    for n in range(15):
        product = ProductFactory(sku=f"BULK-{n}", abc_class="A")
        for period in world.periods:
            world.demand_row(product, period)
            world.supply_row(product, period)
        world.accuracy_points(product, lag=3, ape=Decimal("12"), error=Decimal("1"))
    with CaptureQueriesContext(connection) as large:
        evaluation = world.evaluate()
    assert evaluation.plan_counts["total"] == 16 * 2 * len(world.periods)
    assert len(large.captured_queries) == len(small.captured_queries)
