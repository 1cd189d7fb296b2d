"""UI-06 in a real browser: a supply planner generates a schedule, confirms a regeneration, releases and
reorders slots, and sees the diagnostics and the timeline without CSP violations.

The world: one approved plan at PLANT-A for March 2026, planned 100, capacity 80. Two workcenters x one
line x Shift-A, Shift-B → four slots of 100 / 4 = 25.00; utilisation 100 / 80 x 100 = 125.0 %, overloaded.
"""

from datetime import date
from decimal import Decimal

import pytest

from governance.choices import Role
from governance.services import user_create
from planning import services
from planning.models import ProductionSchedule
from tests.e2e.console import csp_violations, sign_in
from tests.e2e.test_demand_browser import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLANNER = "e2e-supply@example.test"


@pytest.fixture
def plan():
    admin = user_create(actor=None, email="e2e-admin@example.test", full_name="Ada Admin", role=Role.ADMIN,
                        password=PASSWORD)  # fmt: skip
    planner = user_create(actor=None, email=PLANNER, full_name="Sam Supply", role=Role.SUPPLY_PLANNER,
                          password=PASSWORD)  # fmt: skip
    approver = user_create(actor=None, email="e2e-exec@example.test", full_name="Eve Exec", role=Role.EXECUTIVE,
                           password=PASSWORD)  # fmt: skip
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category})
    plant = services.location_create(actor=admin, data={"code": "PLANT-A", "name": "Plant A", "location_type": "plant"})
    plan = services.supply_plan_create(actor=planner, product=product, location=plant, data={
        "period": date(2026, 3, 1), "planned_prod_qty": Decimal("100"), "capacity_max": Decimal("80")})  # fmt: skip
    services.supply_plan_submit(actor=planner, plan=plan)
    return services.supply_plan_approve(actor=approver, plan=plan)


def test_planner_generates_confirms_regeneration_releases_and_reorders(page, plan):
    # Given a supply planner on Production Scheduling
    sign_in(page, PLANNER, PASSWORD)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Production Scheduling", exact=True
        ).click()
    assert page.get_by_role("heading", name="Generate Schedule").is_visible()

    # When they generate over WC-1, WC-2 with the default shifts A and B
    page.get_by_label("Workcenters").fill("WC-1, WC-2")
    with page.expect_navigation():
        page.get_by_role("button", name="Generate").click()

    # Then four slots, the overloaded diagnostics, the group chart and the timeline appear
    assert page.locator("#slot-table tbody tr").count() == 4
    assert page.locator('[data-stat="utilization"]').inner_text() == "125.0%"
    assert page.locator('[data-stat="status"]').inner_text() == "Overloaded"
    assert page.locator("#capacity-chart rect.chart__bar--over").count() == 4
    assert page.locator("#slot-timeline rect.timeline__bar").count() == 4

    # When they release slot 1 and move slot 4 up
    first = page.locator("#slot-table tbody tr").nth(0)
    first.get_by_label("New status of slot 1").select_option("released")
    with page.expect_navigation():
        first.get_by_role("button", name="Set").click()
    assert "Slot 1 is now released." in page.content()
    with page.expect_navigation():
        page.get_by_role("button", name="Move slot 4 up").click()
    order = list(ProductionSchedule.objects.filter(supply_plan=plan).order_by("sequence_order")
                 .values_list("workcenter", "shift", "status"))  # fmt: skip
    assert order == [("WC-1", "Shift-A", "released"), ("WC-1", "Shift-B", "draft"), ("WC-2", "Shift-B", "draft"),
                     ("WC-2", "Shift-A", "draft")]  # fmt: skip

    # When they generate again, they are warned first, and only the confirmation replaces the slots
    page.get_by_label("Workcenters").fill("WC-3")
    with page.expect_navigation():
        page.get_by_role("button", name="Generate").click()
    assert "already has 4 slots" in page.locator("#regenerate-confirm").inner_text()
    assert ProductionSchedule.objects.filter(supply_plan=plan).count() == 4
    with page.expect_navigation():
        page.get_by_role("button", name="Replace 4 slots").click()
    assert page.locator("#slot-table tbody tr").count() == 2
    assert set(ProductionSchedule.objects.filter(supply_plan=plan).values_list("workcenter", flat=True)) == {"WC-3"}
    assert csp_violations(page) == []
