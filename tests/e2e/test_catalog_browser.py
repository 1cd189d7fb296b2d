"""The console in a real browser: sign in, search the catalog, and no CSP violation on the way."""

import pytest

from governance.choices import Role
from governance.services import user_create
from planning import services
from tests.e2e.console import csp_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "e2e-admin@example.test"
PASSWORD = "Browser-Test-Pass-42"
SCREENSHOT = "/tmp/console.png"  # noqa: S108  (a fixed, well-known path so people can look at the layout)
SCREENSHOT_DARK = "/tmp/console-dark.png"  # noqa: S108


@pytest.fixture
def catalog():
    admin = user_create(actor=None, email=EMAIL, full_name="Erin Admin", role=Role.ADMIN, password=PASSWORD)
    drinks = services.category_create(actor=admin, name="Beverages")
    snacks = services.category_create(actor=admin, name="Snacks")
    rows = [
        ("BEV-001", "Sparkling Water 500ml", drinks, "1.10", "2.49"),
        ("BEV-002", "Cola Classic 330ml", drinks, "0.45", "1.29"),
        ("BEV-003", "Orange Juice 1L", drinks, "1.80", "3.99"),
        ("SNK-001", "Sea Salt Crisps 150g", snacks, "0.90", "2.19"),
        ("SNK-002", "Dark Chocolate Bar 100g", snacks, "1.25", "2.99"),
    ]
    for sku, name, category, cost, price in rows:
        services.product_create(
            actor=admin,
            data={"sku": sku, "name": name, "category": category, "unit_cost": cost, "selling_price": price,
                  "product_family": category.name, "lead_time_days": 14},
        )  # fmt: skip
    services.location_create(actor=admin, data={"code": "DC-EAST", "name": "East distribution centre"})
    return admin


def test_sign_in_then_search_products_by_sku(page, catalog):
    # Given an anonymous visitor on a console page
    page.goto("/catalog/products/")
    # then they land on the sign-in form, which keeps where they were going
    assert "/accounts/login/" in page.url
    assert "next=" in page.url

    # When they sign in with the real form (after trying the show-password toggle)
    page.get_by_label("Email").fill(EMAIL)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Show password").click()
    assert page.locator("#id_password").get_attribute("type") == "text"
    page.get_by_role("button", name="Sign in").click()

    # Then the products page opens with the welcome banner and every product
    page.wait_for_url("**/catalog/products/")
    assert page.get_by_role("status").filter(has_text="Welcome back, Erin Admin").count() == 1
    assert page.locator("#product-table tbody tr").count() == 5

    # When they search for one SKU
    page.get_by_label("Search").fill("BEV-002")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**search=BEV-002**")

    # Then exactly the matching row is shown
    rows = page.locator("#product-table tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-sku") == "BEV-002"
    assert "Cola Classic 330ml" in rows.first.inner_text()

    page.screenshot(path=SCREENSHOT, full_page=False)
    assert csp_violations(page) == []
    assert page.csp_reports == []


def test_discontinue_asks_for_confirmation_and_records_the_reason(page, catalog):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

    page.goto("/catalog/products/?search=SNK-001")
    page.get_by_role("link", name="SNK-001", exact=True).click()
    page.get_by_role("button", name="Discontinue").click()

    # The confirmation dialog (our own <dialog>, not an inline handler) asks for an optional reason.
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    dialog.get_by_label("Reason (optional)").fill("Replaced by SNK-002")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Discontinue").click()

    assert page.get_by_role("status").filter(has_text="Product SNK-001 discontinued.").count() == 1
    assert page.locator(".page-title .badge").inner_text() == "Discontinued"

    page.get_by_role("link", name="History").click()
    history = page.locator(".timeline").inner_text()
    assert "Discontinued" in history
    assert "Replaced by SNK-002" in history

    # The theme toggle flips the page to dark and remembers it across pages.
    page.get_by_role("button", name="Switch to dark theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.goto("/")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.goto("/catalog/products/")
    page.screenshot(path=SCREENSHOT_DARK, full_page=False)

    assert csp_violations(page) == []
    assert page.csp_reports == []
