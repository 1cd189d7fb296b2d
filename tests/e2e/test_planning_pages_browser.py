"""Planning pages in a real browser: an inventory manager overrides a policy (UI-08), a supply planner edits
Planned Qty in the supply grid (UI-05), and an executive, who approves but does not edit, gets no inputs."""

from datetime import date
from decimal import Decimal

import pytest

from governance.choices import Role
from governance.services import user_create
from planning import services
from planning.models import Inventory, SupplyPlan
from tests.e2e.console import csp_violations, sign_in
from tests.e2e.test_demand_browser import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MANAGER = "e2e-stock@example.test"
SUPPLY_PLANNER = "e2e-supply@example.test"
EXECUTIVE = "e2e-exec-pages@example.test"


@pytest.fixture
def world():
    admin = user_create(actor=None, email="e2e-pages-admin@example.test", full_name="Ada Admin", role=Role.ADMIN,
                        password=PASSWORD)  # fmt: skip
    for email, name, role in ((MANAGER, "Ivy Inventory", Role.INVENTORY_MANAGER),
                              (SUPPLY_PLANNER, "Sam Supply", Role.SUPPLY_PLANNER),
                              (EXECUTIVE, "Eve Exec", Role.EXECUTIVE)):  # fmt: skip
        user_create(actor=None, email=email, full_name=name, role=role, password=PASSWORD)
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category})
    plant = services.location_create(actor=admin, data={"code": "PLANT-A", "name": "Plant A", "location_type": "plant"})
    stock = services.inventory_create(actor=admin, product=product, location=plant, data={
        "on_hand_qty": Decimal("100"), "safety_stock": Decimal("10"), "reorder_point": Decimal("20")})  # fmt: skip
    march = date(2026, 3, 1)
    demand = services.demand_plan_create(actor=admin, product=product,
                                         data={"period": march, "forecast_qty": Decimal("90")})  # fmt: skip
    supply = services.supply_plan_create(actor=admin, product=product, location=plant,
                                         data={"period": march, "planned_prod_qty": Decimal("100")})  # fmt: skip
    return {"stock": stock, "demand": demand, "supply": supply}


def assert_no_csp_violations(page) -> None:
    assert csp_violations(page) == []
    assert page.csp_reports == []


def test_inventory_manager_overrides_a_policy_and_sees_the_new_status(page, world):
    stock = world["stock"]
    assert stock.status == "normal"
    # Given an inventory manager on the Inventory page
    sign_in(page, MANAGER, PASSWORD)
    page.get_by_role("link", name="Inventory", exact=True).click()
    page.wait_for_url("**/inventory/")
    row = page.locator(f'tr[data-inventory="{stock.pk}"]')
    assert row.get_attribute("data-status") == "normal"

    # When they override the policy above the stock on hand, with a reason
    row.get_by_role("link", name="Override").click()
    page.wait_for_url(f"**/inventory/{stock.pk}/override/")
    page.get_by_label("Safety stock", exact=True).fill("150")
    page.get_by_label("Reorder point", exact=True).fill("200")
    page.get_by_label("Reason", exact=True).fill("Promotion in May")
    with page.expect_navigation():
        page.get_by_role("button", name="Override policy").click()

    # Then the row page shows the overridden levels, their source and the critical status
    page.wait_for_url(f"**/inventory/{stock.pk}/")
    assert page.get_by_role("status").filter(has_text="Policy of SPK-1 at PLANT-A overridden.").count() == 1
    assert page.locator("#inventory-status").inner_text() == "Critical"
    assert page.locator("#policy-source").inner_text() == "Override"
    policy = page.locator("section", has=page.get_by_role("heading", name="Policy")).inner_text()
    assert "150.00" in policy
    assert "200.00" in policy
    # and the history tab carries the reason
    page.get_by_role("link", name="History").click()
    page.wait_for_url("**?tab=history")
    assert page.get_by_text("Promotion in May").count() >= 1
    saved = Inventory.objects.get(pk=stock.pk)
    assert (saved.safety_stock, saved.policy_source, saved.status) == (Decimal("150"), "override", "critical")
    assert_no_csp_violations(page)


def test_supply_planner_edits_planned_qty_in_the_grid_and_sees_the_new_version(page, world):
    plan = world["supply"]
    # Given a supply planner on the Supply Planning grid, filtered to the plant
    sign_in(page, SUPPLY_PLANNER, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Supply Planning", exact=True).click()
    page.wait_for_url("**/supply/")
    page.goto("/supply/?location=PLANT-A")
    row = page.locator(f'#supply-plan-table tr[data-plan="{plan.pk}"]')
    assert "v1" in row.inner_text()

    # When they type a new Planned Qty in the row and save it
    row.get_by_label("Planned qty of SPK-1 Mar 2026 at PLANT-A", exact=True).fill("150")
    with page.expect_navigation():
        row.get_by_role("button", name="Save planned qty of SPK-1 Mar 2026 at PLANT-A").click()

    # Then they are back on the same filtered grid, told the new version, and the row shows it
    page.wait_for_url("**/supply/?location=PLANT-A")
    message = "Supply plan SPK-1 Mar 2026 at PLANT-A: planned qty 150 saved (version 2, draft)."
    assert page.get_by_role("status").filter(has_text=message).count() == 1
    row = page.locator(f'#supply-plan-table tr[data-plan="{plan.pk}"]')
    assert "v2" in row.inner_text()
    assert row.get_by_label("Planned qty of SPK-1 Mar 2026 at PLANT-A", exact=True).input_value() == "150"
    saved = SupplyPlan.objects.get(pk=plan.pk)
    assert (saved.planned_prod_qty, saved.version) == (Decimal("150"), 2)
    assert_no_csp_violations(page)


def test_an_executive_sees_no_inline_inputs(page, world):
    sign_in(page, EXECUTIVE, PASSWORD)
    for grid, table, plan in (("/demand/", "#demand-plan-table", world["demand"]),
                              ("/supply/", "#supply-plan-table", world["supply"])):  # fmt: skip
        page.goto(grid)
        row = page.locator(f'{table} tr[data-plan="{plan.pk}"]')
        row.wait_for()
        assert page.locator("[data-inline-qty]").count() == 0, grid
        assert page.locator(f'{table} input[type="number"]').count() == 0, grid
    assert "100" in page.locator(f'#supply-plan-table tr[data-plan="{world["supply"].pk}"]').inner_text()
    assert_no_csp_violations(page)
