"""Issue 7 in a real browser: a coordinator builds two scenarios and compares them side by side.

The world (built through the services, June 2026, one plant):
- P-1 price 10, cost 6: demand 100, supply 100, on hand 50 with 30 allocated → 20 available, value 300;
- P-2 price 20, cost 12: demand 100, supply 68, on hand 10 → 10 available, value 120.
Baseline (FRM-30): demand 200, supply 168, available 30, effective 198, revenue 3 000, margin 1 200
(average price 15, average cost 9), inventory value 420, service 198 / 200 = 99 %. The stockout penalty
defaults to 25 % of the average price, 3.75 a unit; the FRM-31 weights are 0.45 / 0.30 / 0.25.

- A, demand +10 %: demand 220, revenue 3 300, margin 1 320; shortage 22, value 420 - 22 x 9 = 222,
  service 90 %. Impacts +300, +120, -198, -9 points; penalty 82.5; composite
  0.45 x -9 + 0.30 x -0.0825 + 0.25 x 0.198 = -4.02525 → -4.03.
- B, supply -15 %: supply 142.8, effective 172.8, shortage 27.2, value 420 - 27.2 x 9 = 175.2,
  service 86.4 %. Impacts 0, 0, -244.8, -12.6 points; penalty 102; composite
  0.45 x -12.6 + 0.30 x -0.102 + 0.25 x 0.2448 = -5.6394 → -5.64.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from genxsop.context_processors import CURRENCY_SYMBOLS
from governance.choices import Role
from governance.services import user_create
from planning import services
from planning.choices import ScenarioStatus
from planning.models import DemandPlan, Inventory, Scenario, SupplyPlan
from tests.e2e.console import csp_violations, sign_in
from tests.e2e.test_demand_browser import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COORDINATOR = "e2e-coordinator@example.test"
JUNE = date(2026, 6, 1)
A = "Demand +10 %"
B = "Capacity \u221215 %"

# Every cell of the side-by-side table, by section and figure: [B, A], the grid's order (newest first),
# so the deltas are against B. Money is whole currency units, percentages one decimal, scores two.
SIDE_BY_SIDE = {
    ("Baseline", "Demand (units)"): ["200", "200"],
    ("Baseline", "Planned supply (units)"): ["168", "168"],
    ("Baseline", "Inventory available (units)"): ["30", "30"],
    ("Baseline", "Effective supply (units)"): ["198", "198"],
    ("Baseline", "Revenue"): ["$3,000", "$3,000"],
    ("Baseline", "Margin"): ["$1,200", "$1,200"],
    ("Baseline", "Inventory value"): ["$420", "$420"],
    ("Baseline", "Service level"): ["99.0%", "99.0%"],
    ("Scenario", "Demand (units)"): ["200", "220"],
    ("Scenario", "Planned supply (units)"): ["143", "168"],
    ("Scenario", "Inventory available (units)"): ["30", "30"],
    ("Scenario", "Effective supply (units)"): ["173", "198"],
    ("Scenario", "Revenue"): ["$3,000", "$3,300"],
    ("Scenario", "Margin"): ["$1,200", "$1,320"],
    ("Scenario", "Inventory value"): ["$175", "$222"],
    ("Scenario", "Service level"): ["86.4%", "90.0%"],
    ("Impacts", "Revenue impact"): ["$0", "+$300"],
    ("Impacts", "Margin impact"): ["$0", "+$120"],
    ("Impacts", "Inventory impact"): ["\u2212$245", "\u2212$198"],
    ("Impacts", "Service level impact"): ["\u221212.6%", "\u22129.0%"],
    ("Trade-off", "Carrying cost"): ["$0", "$0"],
    ("Trade-off", "Stockout penalty"): ["$102", "$83"],
    ("Trade-off", "Working capital Δ"): ["\u2212$245", "\u2212$198"],
    ("Trade-off", "Composite score"): ["\u22125.64", "\u22124.03"],
    ("Trade-off", "Open inventory exceptions"): ["0", "0"],
    ("Trade-off", "High-risk exceptions"): ["0", "0"],
    # A - B: demand 220 - 200, supply 168 - 142.8, value 222 - 175.2, service 90 - 86.4, composite -4.03 + 5.64.
    (f"Δ against {B}", "Demand Δ (units)"): ["0", "+20"],
    (f"Δ against {B}", "Supply Δ (units)"): ["0", "+25"],
    (f"Δ against {B}", "Revenue Δ"): ["$0", "+$300"],
    (f"Δ against {B}", "Margin Δ"): ["$0", "+$120"],
    (f"Δ against {B}", "Inventory value Δ"): ["$0", "+$47"],
    (f"Δ against {B}", "Service level Δ"): ["0.0%", "+3.6%"],
    (f"Δ against {B}", "Composite Δ"): ["0.00", "+1.61"],
}

# The side-by-side table as {(section, figure): [cell, ...]}; textContent, as the headings are upper-cased by CSS.
READ_TABLE = """(table) => {
  const cells = {};
  for (const body of table.tBodies) {
    const section = body.querySelector("th[scope=rowgroup]").textContent.trim();
    for (const row of body.querySelectorAll("tr")) {
      const head = row.querySelector("th[scope=row]");
      const values = [...row.querySelectorAll("td")].map(td => td.textContent.trim());
      if (head) cells[section + "|" + head.textContent.trim()] = values;
    }
  }
  return cells;
}"""


@pytest.fixture
def world():
    admin = user_create(actor=None, email="e2e-scenario-admin@example.test", full_name="Ada Admin",
                        role=Role.ADMIN, password=PASSWORD)  # fmt: skip
    user_create(actor=None, email=COORDINATOR, full_name="Cora Coordinator", role=Role.SOP_COORDINATOR,
                password=PASSWORD)  # fmt: skip
    category = services.category_create(actor=admin, name="Audio")
    plant = services.location_create(actor=admin, data={"code": "PLANT-1", "name": "Plant 1", "location_type": "plant"})
    for sku, price, cost, demand, supply, on_hand, allocated in (("P-1", 10, 6, 100, 100, 50, 30),
                                                                 ("P-2", 20, 12, 100, 68, 10, 0)):  # fmt: skip
        product = services.product_create(actor=admin, data={"sku": sku, "name": sku, "category": category,
                                                             "selling_price": Decimal(price),
                                                             "unit_cost": Decimal(cost)})  # fmt: skip
        services.demand_plan_create(actor=admin, product=product,
                                    data={"period": JUNE, "forecast_qty": Decimal(demand)})  # fmt: skip
        services.supply_plan_create(actor=admin, product=product, location=plant,
                                    data={"period": JUNE, "planned_prod_qty": Decimal(supply)})  # fmt: skip
        stock = {"on_hand_qty": Decimal(on_hand), "allocated_qty": Decimal(allocated)}
        services.inventory_create(actor=admin, product=product, location=plant, data=stock)
    # The hand figures above rest on the derived valuations (on hand x unit cost).
    assert sorted(Inventory.objects.values_list("valuation", flat=True)) == [Decimal("120.00"), Decimal("300.00")]


def _live_rows():
    """Every stored plan and stock row with all its columns: a scenario may only read them."""
    return (list(DemandPlan.objects.order_by("pk").values()), list(SupplyPlan.objects.order_by("pk").values()),
            list(Inventory.objects.order_by("pk").values()))  # fmt: skip


def _create(page, name, field, value, scenario_type):
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Scenarios", exact=True
    ).first.click()  # the side navigation
    page.wait_for_url("**/scenarios/")
    page.get_by_role("link", name="New Scenario").click()
    page.wait_for_url("**/scenarios/new/")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Type", exact=True).select_option(label=scenario_type)
    # Optional fields carry "(optional)" in their label.
    page.get_by_label("Scenario Period (optional)", exact=True).fill("2026-06")
    page.get_by_label(f"{field} (optional)", exact=True).fill(value)
    with page.expect_navigation():
        page.get_by_role("button", name="Create scenario").click()
    scenario = Scenario.objects.get(name=name)
    assert page.url.endswith(f"/scenarios/{scenario.pk}/")
    assert page.get_by_role("status").filter(has_text=f"Scenario “{name}” created as a draft.").count() == 1
    assert page.get_by_text("Scenario has no computed results yet.").count() == 1
    return scenario


def test_the_coordinator_builds_two_scenarios_and_compares_them_side_by_side(page, world):
    before = _live_rows()
    assert CURRENCY_SYMBOLS[settings.CURRENCY_CODE] == "$"  # the "$" in SIDE_BY_SIDE

    sign_in(page, COORDINATOR, PASSWORD)
    # A, created and run on its own page.
    a = _create(page, A, "Demand Change %", "10", "What-If Analysis")
    with page.expect_navigation():
        page.get_by_role("button", name=f"Run {A}").click()
    assert page.get_by_role("status").filter(has_text=f"Scenario “{A}” run.").count() == 1
    results = page.locator("#results-table").inner_text()
    assert "$3,300" in results
    assert "90.0%" in results

    # B, created, then run from its card in the grid.
    b = _create(page, B, "Supply Capacity Change %", "-15", "Stress Test")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Scenarios", exact=True
    ).first.click()  # the side navigation
    page.wait_for_url("**/scenarios/")
    with page.expect_navigation():
        page.locator(f'[data-scenario="{b.pk}"]').get_by_role("button", name=f"Run {B}").click()
    assert page.get_by_role("status").filter(has_text=f"Scenario “{B}” run.").count() == 1
    assert page.url.endswith("/scenarios/")  # the card's Run returns to the grid
    card = page.locator(f'[data-scenario="{b.pk}"]')
    assert "Not run yet." not in card.inner_text()
    assert card.get_by_role("definition").first.inner_text() == "$0"  # its revenue impact

    # The runs stored what FRM-30/31 give by hand.
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (ScenarioStatus.COMPLETED, ScenarioStatus.COMPLETED)
    assert (a.parameters["demand_change_pct"], b.parameters["supply_capacity_pct"]) == (10, -15)
    assert [a.results[k] for k in ("revenue_impact", "margin_impact", "inventory_impact", "service_level_impact")] == [
        300, 120, -198, -9]  # fmt: skip
    assert [b.results[k] for k in ("revenue_impact", "margin_impact", "inventory_impact", "service_level_impact")] == [
        0, 0, -244.8, -12.6]  # fmt: skip
    assert (a.results["tradeoff"]["composite_score"], b.results["tradeoff"]["composite_score"]) == (-4.03, -5.64)
    assert a.results["inputs"]["stockout_penalty_per_unit"] == 3.75

    # Tick both cards, A first, and compare. A form sends its boxes in page order, so the reference for the
    # deltas is B, the first card of the grid (newest first), and the page says so rather than "first ticked".
    page.locator(f'[data-scenario="{a.pk}"]').get_by_label("Compare").check()
    page.locator(f'[data-scenario="{b.pk}"]').get_by_label("Compare").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/scenarios/compare/?ids=*")
    assert page.get_by_role("heading", name="Compare scenarios").count() == 1
    legend = page.locator("#compare-pick legend").text_content()
    assert legend.endswith("(the first of them in this list, the newest, is the reference for the deltas)")
    picked = page.locator("#compare-pick input[name=ids]:checked")
    assert sorted(picked.evaluate_all("boxes => boxes.map(b => b.value)")) == sorted([str(a.pk), str(b.pk)])

    table = page.locator("#compare-table")
    heads = table.locator("thead th[scope=col] a").all_text_contents()
    assert heads == [B, A]
    assert table.locator("caption").text_content() == f"Scenarios side by side; deltas are against {B}"
    cells = {tuple(key.split("|", 1)): values for key, values in table.evaluate(READ_TABLE).items()}
    assert cells == SIDE_BY_SIDE

    # The charts carry a text alternative and the same numbers as a data table.
    money = page.get_by_role("img", name="Revenue, margin and inventory impact by scenario")
    assert money.get_attribute("id") == "impact-chart"
    assert page.get_by_role("img", name="Service level impact by scenario").count() == 1
    assert money.locator("rect.chart__bar").count() == 6  # three impacts x two scenarios
    assert page.locator("svg#service-chart rect.chart__bar").count() == 2
    assert page.locator(".chart-legend__item").first.text_content().strip() == B
    data = page.get_by_role("table", name="Impacts (data of the charts)")
    assert data.count() == 1
    assert [h.strip() for h in data.locator("thead th").all_text_contents()[1:]] == [B, A]
    rows = {r.locator("th").text_content(): [v.strip() for v in r.locator("td").all_text_contents()]
            for r in data.locator("tbody tr").all()}  # fmt: skip
    assert rows == {label: SIDE_BY_SIDE[("Impacts", label)] for section, label in SIDE_BY_SIDE if section == "Impacts"}

    # Building, running and comparing changed no live plan or stock row.
    assert _live_rows() == before
    assert csp_violations(page) == []
    assert page.csp_reports == []
