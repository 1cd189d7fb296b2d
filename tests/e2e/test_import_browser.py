"""Demand plan import in a real browser (INT-20): an all-or-nothing apply with one bad row is refused with
the row and column named and writes nothing; the corrected file applies and its plans appear in the grid."""

import pytest

from governance.choices import Role
from governance.services import user_create
from planning import services
from planning.models import DemandPlan, IntegrationBatch
from tests.e2e.console import csp_violations, sign_in
from tests.e2e.test_demand_browser import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PLANNER = "e2e-import-planner@example.test"
HEADER = "sku,period,region,channel,forecast_qty,notes\n"
GOOD_ROWS = [
    "SPK-1,2026-04,Global,All,120,Spring",
    "RAD-1,2026-04,Global,All,{radio},",
    "SPK-1,2026-05,Global,All,130,",
]


def csv_file(radio: str) -> dict:
    body = HEADER + "\n".join(GOOD_ROWS).format(radio=radio) + "\n"
    return {"name": "demand-plans.csv", "mimeType": "text/csv", "buffer": body.encode()}


@pytest.fixture
def catalog():
    admin = user_create(actor=None, email="e2e-import-admin@example.test", full_name="Ada Admin", role=Role.ADMIN,
                        password=PASSWORD)  # fmt: skip
    user_create(actor=None, email=PLANNER, full_name="Pat Planner", role=Role.DEMAND_PLANNER, password=PASSWORD)
    category = services.category_create(actor=admin, name="Audio")
    for sku, name in (("SPK-1", "Speaker"), ("RAD-1", "Radio")):
        services.product_create(actor=admin, data={"sku": sku, "name": name, "category": category})


def upload(page, file: dict) -> None:
    page.locator("#id_file").set_input_files(files=[file])
    page.get_by_label("Apply", exact=True).check()
    page.get_by_label("All or nothing: apply only when every row is valid").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()


def test_a_bad_row_refuses_the_whole_file_and_the_fixed_file_fills_the_grid(page, catalog):
    # Given a demand planner on the import page, reached from the Demand Planning grid
    sign_in(page, PLANNER, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Demand Planning", exact=True).click()
    page.wait_for_url("**/demand/")
    page.locator("[data-io-import]").click()
    page.wait_for_url("**/import/demand_plans/")

    # When they apply, all or nothing, a file whose row 3 has a negative forecast
    upload(page, csv_file(radio="-5"))

    # Then the batch is refused, the row number and the column are named, and nothing is written
    result = page.locator("#import-result")
    assert result.get_attribute("data-status") == "failed"
    assert "no row was applied" in result.inner_text()
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 1
    assert [cell.strip() for cell in errors.first.locator("td").all_inner_texts()[:2]] == ["3", "forecast_qty"]
    assert "at least 0" in errors.first.inner_text()
    assert DemandPlan.objects.count() == 0
    assert IntegrationBatch.objects.get().status == "failed"

    # When they fix the row and apply again
    upload(page, csv_file(radio="45"))

    # Then the three plans are created and appear in the grid
    assert page.locator("#import-result").get_attribute("data-status") == "completed"
    assert page.locator('[data-count="created"]').inner_text() == "3"
    page.get_by_role("link", name="Back").click()
    page.wait_for_url("**/demand/")
    rows = page.locator("#demand-plan-table tr[data-plan]")
    rows.first.wait_for()
    assert rows.count() == 3
    radio = page.locator('#demand-plan-table tr[data-sku="RAD-1"]')
    assert "Apr 2026" in radio.inner_text()
    assert "45" in radio.inner_text()
    assert DemandPlan.objects.filter(is_current=True, source="import").count() == 3

    assert csp_violations(page) == []
    assert page.csp_reports == []
