"""DEMO-13 schedules: the demo loader schedules five PLANT-01 supply plans of the anchor month."""

from decimal import Decimal

import pytest

from governance.models import AuditEvent
from planning.models import ProductionSchedule
from tests.planning.test_demo import ANCHOR_DATE, run_loader, wipe

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            yield run_loader()
        finally:
            wipe()


def layout() -> list[tuple]:
    return sorted(ProductionSchedule.objects.values_list("product__sku", "workcenter", "line", "shift",
                                                         "sequence_order", "planned_qty", "status"))  # fmt: skip


def test_five_plant_01_plans_of_the_anchor_month_are_scheduled_by_the_supply_planner(loaded):
    slots = ProductionSchedule.objects.select_related("supply_plan__location", "created_by")
    plans = {s.supply_plan for s in slots}
    assert len(plans) == 5
    assert slots.count() == 20
    assert {(p.location.code, p.period, p.is_current) for p in plans} == {("PLANT-01", ANCHOR_DATE, True)}
    assert {s.created_by.email for s in slots} == {"supply@genxsop.com"}
    for plan in plans:
        rows = sorted((s for s in slots if s.supply_plan_id == plan.pk), key=lambda s: s.sequence_order)
        assert [(s.workcenter, s.line, s.shift) for s in rows] == [
            ("WC-1", "Line-1", "Shift-A"), ("WC-1", "Line-1", "Shift-B"),
            ("WC-2", "Line-1", "Shift-A"), ("WC-2", "Line-1", "Shift-B"),
        ]  # fmt: skip
        assert sum(s.planned_qty for s in rows) == plan.planned_prod_qty
        assert max(s.planned_qty for s in rows) - min(s.planned_qty for s in rows) <= Decimal("0.01")
    generated = AuditEvent.objects.filter(event_type="planning.production_schedule.generated")
    assert generated.count() == 20
    assert set(generated.values_list("source", flat=True)) == {"cli"}
    assert "5 production schedules" in loaded
    assert "20 production slots" in loaded


def test_a_second_load_adds_no_slot_and_a_reset_brings_the_same_ones_back(loaded):
    before = layout()
    run_loader()
    assert layout() == before
    assert AuditEvent.objects.filter(event_type="planning.production_schedule.generated").count() == 20
    output = run_loader("--reset")
    assert "20 production slots" in output
    assert AuditEvent.objects.filter(event_type="planning.production_schedule.bulk_deleted").count() == 1
    assert layout() == before
