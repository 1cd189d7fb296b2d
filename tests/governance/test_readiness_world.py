"""A company that is ready to publish on both lanes, for the readiness tests to break one thing at a time.

Plan, inventory and accuracy rows are written directly: readiness only reads them, and their own
write paths have their own tests.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from forecasting.models import ForecastAccuracyPoint
from forecasting.series import add_months, last_closed_month
from governance.choices import CycleStatus, EvaluationOutcome, Role, StepStatus
from governance.models import AuditEvent, SopCycle, SopCycleStep
from governance.services.readiness import _planning_today, readiness_evaluate
from planning.models import DemandPlan, Inventory, Scenario, SupplyPlan
from tests.factories import LocationFactory, ProductFactory

FUTURE_MONTHS = 7  # current month + 6: long enough for the monthly lane (horizon_min 6) and the weekly one


class World:
    def __init__(self, admin):
        self.admin = admin
        self.today = _planning_today()
        self.month = self.today.replace(day=1)
        self.periods = [add_months(self.month, i) for i in range(FUTURE_MONTHS)]
        self.closed = last_closed_month(self.today)
        self.location = LocationFactory()
        self.product = ProductFactory(sku="A-100", abc_class="A")
        self.demand = {}
        self.supply = {}
        for period in self.periods:
            self.demand[period] = self.demand_row(self.product, period)
            self.supply[period] = self.supply_row(self.product, period)
        self.history = DemandPlan.objects.create(
            product=self.product, period=self.closed, forecast_qty=100, actual_qty=98, status="approved"
        )
        self.inventory = Inventory.objects.create(
            product=self.product, location=self.location, on_hand_qty=50, snapshot_at=timezone.now()
        )
        self.scenario = Scenario.objects.create(
            name="Operating plan", period=self.month, status="approved", is_operating_plan=True
        )
        self.cycle = SopCycle.objects.create(cycle_name="Cycle", period=self.month, current_step=5, created_by=admin)
        for number in range(1, 6):
            SopCycleStep.objects.create(
                cycle=self.cycle, step_number=number, name=f"Step {number}",
                status=StepStatus.COMPLETED if number < 5 else StepStatus.IN_PROGRESS,
            )  # fmt: skip
        for lag in (1, 3):
            self.accuracy_points(self.product, lag=lag, ape=Decimal("10"), error=Decimal("2"))

    def demand_row(self, product, period, **extra):
        values = {"forecast_qty": 100, "status": "approved", **extra}
        return DemandPlan.objects.create(product=product, period=period, **values)

    def supply_row(self, product, period, **extra):
        values = {"planned_prod_qty": 100, "capacity_max": 200, "status": "approved", "location": self.location,
                  **extra}  # fmt: skip
        return SupplyPlan.objects.create(product=product, period=period, **values)

    def accuracy_points(self, product, *, lag, ape, error, layer="consensus", count=3, actual=Decimal("100")):
        rows = []
        for i in range(count):
            period = add_months(self.closed, -i)
            rows.append(ForecastAccuracyPoint(
                product=product, period=period, lag=lag, layer=layer, model_type=layer, forecast_qty=actual + error,
                actual_qty=actual, error=error, abs_error=abs(error), ape=ape, computed_at=timezone.now(),
            ))  # fmt: skip
        ForecastAccuracyPoint.objects.bulk_create(rows)

    def evaluate(self, lane="monthly", **kwargs):
        return readiness_evaluate(actor=self.admin, lane=lane, **kwargs)


def gate(evaluation, name) -> dict:
    return next(g for g in evaluation.must_pass if g["gate"] == name)


def check(evaluation, name) -> dict:
    return next(c for c in evaluation.scored if c["check"] == name)


@pytest.fixture
def world(users):
    return World(users[Role.ADMIN])


def test_the_ready_company_is_go_on_both_lanes(world):
    for lane in ("weekly", "monthly"):
        evaluation = world.evaluate(lane)
        failed = [g for g in evaluation.must_pass if not g["passed"]] + [
            c for c in evaluation.scored if not c["passed"]
        ]
        assert failed == [], lane
        assert evaluation.outcome == EvaluationOutcome.GO
        assert evaluation.score == 4
        assert evaluation.dry_run is True
        assert AuditEvent.objects.filter(
            event_type="governance.readiness.evaluated", target_id=str(evaluation.pk)
        ).exists()


def test_a_completed_cycle_clears_the_step_gates(world):
    SopCycle.objects.filter(pk=world.cycle.pk).update(overall_status=CycleStatus.COMPLETED, current_step=5)
    SopCycleStep.objects.filter(cycle=world.cycle).update(status=StepStatus.PENDING)
    assert gate(world.evaluate("monthly"), "sop_step_gates")["passed"]
    assert gate(world.evaluate("weekly"), "sop_step_gates")["passed"]
