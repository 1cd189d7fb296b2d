"""Demand plan workflow in a real browser (issue 3 item 9): planner edits and submits, an executive
approves in a second browser context, and the planner then finds the plan approved and read-only."""

from datetime import date
from decimal import Decimal

import pytest

from governance.choices import Role
from governance.services import user_create
from planning import services
from planning.models import DemandPlan
from tests.e2e.console import csp_violations, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Test-Pass-42"
PLANNER = "e2e-planner@example.test"
EXECUTIVE = "e2e-exec@example.test"


@pytest.fixture
def plan():
    admin = user_create(actor=None, email="e2e-admin@example.test", full_name="Ada Admin", role=Role.ADMIN,
                        password=PASSWORD)  # fmt: skip
    planner = user_create(actor=None, email=PLANNER, full_name="Pat Planner", role=Role.DEMAND_PLANNER,
                          password=PASSWORD)  # fmt: skip
    user_create(actor=None, email=EXECUTIVE, full_name="Eve Exec", role=Role.EXECUTIVE, password=PASSWORD)
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category})
    return services.demand_plan_create(
        actor=planner, product=product, data={"period": date(2026, 3, 1), "forecast_qty": Decimal("100")}
    )


def _watch(page):
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(f"{message.type}: {message.text}"))
    page.csp_reports = []
    page.on("request", lambda request: "/csp-report" in request.url and page.csp_reports.append(request.url))
    return page


def test_planner_submits_executive_approves_and_the_plan_becomes_read_only(page, browser, live_server, plan):
    # Given a demand planner signed in on the Demand Planning grid
    sign_in(page, PLANNER, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Demand Planning", exact=True).click()
    page.wait_for_url("**/demand/")
    row = page.locator(f'#demand-plan-table tr[data-plan="{plan.pk}"]')
    assert row.get_attribute("data-status") == "draft"

    # When they edit the forecast and submit the plan
    row.get_by_role("link", name="Edit SPK-1 Mar 2026").click()
    page.get_by_label("Forecast qty").fill("140")
    with page.expect_navigation():
        page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("status").filter(has_text="saved (version 2)").count() == 1
    assert page.get_by_role("button", name="Approve SPK-1 Mar 2026").count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Submit SPK-1 Mar 2026").click()
    assert page.locator("#plan-status").inner_text() == "Submitted"

    # Then an executive, in a second browser context, approves it
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    try:
        executive = _watch(context.new_page())
        sign_in(executive, EXECUTIVE, PASSWORD)
        executive.goto(f"/demand/{plan.pk}/")
        with executive.expect_navigation():
            executive.get_by_role("button", name="Approve SPK-1 Mar 2026").click()
        assert executive.locator("#plan-status").inner_text() == "Approved"
        assert csp_violations(executive) == []
        assert executive.csp_reports == []
    finally:
        context.close()

    # And back as the planner the plan shows Approved with no Edit button
    page.reload()
    assert page.locator("#plan-status").inner_text() == "Approved"
    assert page.get_by_role("link", name="Edit SPK-1 Mar 2026").count() == 0

    # and opening the edit URL directly returns to the plan with the refusal, nothing editable
    page.goto(f"/demand/{plan.pk}/edit/")
    page.wait_for_url(f"**/demand/{plan.pk}/")
    assert page.get_by_text("cannot be edited").count() == 1
    assert page.locator("#id_forecast_qty").count() == 0
    stored = DemandPlan.objects.get(pk=plan.pk)
    assert (stored.status, stored.forecast_qty, stored.version) == ("approved", Decimal("140"), 2)

    assert csp_violations(page) == []
    assert page.csp_reports == []
