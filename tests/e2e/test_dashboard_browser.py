"""The dashboard on the demo data in a real browser (issue item 6 "done when"): every card and chart is
filled, and the figures agree with the pages they summarise (the inventory page's total value and
alert counts, the plan grids' counts); no CSP violation on the way."""

import re

import pytest
from django.core.management import call_command

from planning.models import KpiMetric
from tests.e2e.console import csp_violations, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "Password123!"
EXECUTIVE = "executive@genxsop.com"
PLANNER = "supply@genxsop.com"


def _sign_out(page):
    page.context.clear_cookies()


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def _card(page, key):
    return page.locator(f'[data-card="{key}"]')


def _inventory_page_figures(page) -> dict:
    with page.expect_navigation():
        _card(page, "inventory_value").click()
    assert "/inventory/" in page.url
    total = page.locator('[data-health="total_value"] .stat-card__value').inner_text()
    low = page.locator('[data-health="low"] .stat-card__value').inner_text()
    critical = page.locator('[data-health="critical"] .stat-card__value').inner_text()
    page.go_back()
    return {"total_value": _number(total), "alerts": int(_number(low)) + int(_number(critical))}


def _grid_count(page, tile) -> tuple[int, int]:
    """(the tile's count, the "N plans total" of the grid it opens)."""
    shown = int(page.locator(f'[data-tile="{tile}"] .dash-tile__value').get_attribute("data-value"))
    with page.expect_navigation():
        page.locator(f'[data-tile="{tile}"]').click()
    kicker = page.locator(".page-kicker").first.inner_text()
    match = re.search(r"([\d,]+) plans? total", kicker, re.IGNORECASE)
    assert match, kicker
    page.go_back()
    return shown, int(match.group(1).replace(",", ""))


def _check_home(page):
    """What every non-viewer's dashboard must show with the demo data."""
    for key in ("forecast_accuracy", "otif", "inventory_value", "cycle"):
        assert _card(page, key).count() == 1
    assert "Stage: " in _card(page, "cycle").inner_text()
    inventory = _inventory_page_figures(page)
    value = _card(page, "inventory_value")
    assert _number(value.locator(".stat-card__value").inner_text()) == inventory["total_value"]
    assert int(value.locator("[data-low-stock]").get_attribute("data-low-stock")) == inventory["alerts"]
    assert f"{inventory['alerts']:,} low stock alert" in value.inner_text()
    for tile in ("demand", "supply"):
        shown, grid = _grid_count(page, tile)
        assert shown == grid, tile
        assert shown > 0, tile
    assert int(page.locator('[data-tile="products"] .dash-tile__value').get_attribute("data-value")) > 0
    # Charts: the inventory status bar, the demand vs supply bars; the alert list and the activity feed.
    assert page.locator("#inventory-status-chart .share-bar__part").count() >= 2
    assert page.locator("#demand-supply-chart .chart__bar--demand").count() == 12
    assert page.locator("#demand-supply-chart .chart__bar--supply").count() > 0
    assert page.locator(".dash-alert").count() > 0
    assert 1 <= page.locator(".dash-activity li").count() <= 10
    assert page.locator('[data-lane="monthly"]').count() == 1


def _check_kpis(page) -> bool:
    """The contract of the KPI cards and strip: each shows the latest KpiMetric value of its code. False when
    the demo provides no KPI rows (planning/demo_kpis.py)."""
    if not KpiMetric.objects.exists():
        return False
    for code in ("forecast_accuracy", "otif"):
        latest = KpiMetric.objects.filter(metric_name=code).order_by("-period").first()
        assert latest is not None, f"the demo has no {code} value"
        shown = _card(page, code).locator(".stat-card__value").get_attribute("data-value")
        assert shown, code
        assert float(shown) == float(latest.value), code
    assert page.locator(".kpi-strip__item svg.sparkline").count() >= 4
    assert page.locator("#kpi-trend-chart polyline").count() >= 1
    return True


def test_the_dashboard_is_filled_from_the_demo_and_agrees_with_the_pages(page, live_server):
    call_command("load_demo", verbosity=0)

    sign_in(page, EXECUTIVE, PASSWORD)
    _check_home(page)
    has_kpis = _check_kpis(page)
    with page.expect_navigation():
        _card(page, "cycle").click()
    assert "/sop-cycle/" in page.url
    page.go_back()
    assert csp_violations(page) == []

    _sign_out(page)
    sign_in(page, PLANNER, PASSWORD)
    _check_home(page)
    # The supply planner approves nothing: My work says so instead of listing queues.
    assert "Your role approves nothing." in page.locator("#work-heading").locator("..").inner_text()
    assert csp_violations(page) == []
    assert page.csp_reports == []

    if not has_kpis:
        pytest.xfail("The demo has no KPI values yet (planning/demo_kpis.py): the KPI cards' contract is unchecked.")
