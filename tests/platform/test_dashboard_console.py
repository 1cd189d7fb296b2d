"""The console home (UI-03): what each role sees, and that the page's numbers are the API's."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from forecasting.series import add_months
from governance.choices import Role
from governance.services.cycles import cycle_create
from planning.choices import KpiStatus, KpiTrend
from tests.planning import test_dashboard_api as api_tests
from tests.planning.test_dashboard_api import _overdue_item, define, get, metric, scoped_planner

pytestmark = pytest.mark.django_db

w = api_tests.w  # the API tests' world: two categories, stock, plans

D = Decimal


def page(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response, response.content.decode()


def card(html: str, key: str) -> str:
    match = re.search(rf'<(a|div) class="stat-card dash-card[^"]*" data-card="{key}".*?</\1>', html, re.DOTALL)
    assert match, f"card {key} missing"
    return match.group(0)


def kpis(w):
    define("forecast_accuracy", "Forecast accuracy", category="demand", target=D("85"))
    define("otif", "OTIF", target=D("95"))
    # Accuracy 80 -> 88 over two months: up and improving; OTIF 96 -> 94: down and declining.
    metric("forecast_accuracy", add_months(w.month, -2), 80, target=85, status=KpiStatus.WARNING, category="demand")
    metric("forecast_accuracy", add_months(w.month, -1), 88, target=85, trend=KpiTrend.IMPROVING, category="demand")
    metric("otif", add_months(w.month, -2), 96, target=95)
    metric("otif", add_months(w.month, -1), 94, target=95, trend=KpiTrend.DECLINING)


def test_executive_sees_every_block_with_the_api_numbers(w, client):
    kpis(w)
    cycle = cycle_create(actor=w.admin, data={"period": w.month})
    _overdue_item(w)
    executive = w.users[Role.EXECUTIVE]
    summary = get(w, Role.EXECUTIVE, "summary")
    alerts = get(w, Role.EXECUTIVE, "alerts")
    response, html = page(client, executive)

    value = card(html, "inventory_value")
    assert f'data-value="{summary["inventory_health"]["total_value"]}"' in value  # 1,010.00
    assert "$1,010" in value or "1,010" in value
    assert "1 low stock alert" in value  # the critical mower row
    assert f'href="{reverse("planning:inventory_list")}"' in value

    accuracy = card(html, "forecast_accuracy")
    assert "88.0%" in accuracy
    assert 'data-arrow="up"' in accuracy
    assert 'data-trend="improving"' in accuracy
    assert f'href="{reverse("forecasting:accuracy")}"' in accuracy
    otif = card(html, "otif")
    assert "94.0%" in otif
    assert 'data-arrow="down"' in otif
    assert 'data-trend="declining"' in otif

    cycle_card = card(html, "cycle")
    step = cycle.steps.get(step_number=1)
    assert escape(cycle.cycle_name) in cycle_card
    assert f"Stage: {step.name}" in cycle_card
    assert f'href="{reverse("governance:cycle_detail", args=[cycle.pk])}"' in cycle_card

    assert f'data-alert-total="{alerts["total_alerts"]}"' in html
    assert "Critical stock" in html
    assert "Overdue action" in html
    assert f'data-tile="demand" href="{reverse("planning:demand_plan_list")}?period_from=' in html
    assert re.search(rf'data-tile="demand".*?data-value="{summary["demand_plans"]["total"]}"', html, re.DOTALL)
    assert re.search(rf'data-tile="supply".*?data-value="{summary["supply_plans"]["total"]}"', html, re.DOTALL)
    assert 'id="inventory-status-chart"' in html
    assert 'id="kpi-trend-chart"' in html
    assert 'id="demand-supply-chart"' in html
    assert "Publish readiness" in html
    assert "Check readiness" in html
    assert "My work" in html
    assert "Recent Activity" in html
    first = get(w, Role.EXECUTIVE, "activity", limit=1)[0]
    line = response.context["activity"][0]
    assert (line["event_type"], line["target_id"], line["action"]) == (
        first["event_type"],
        first["target_id"],
        first["action"],
    )
    assert response.context["summary"]["products_tracked"] == summary["products_tracked"]


def test_viewer_sees_only_the_cards_the_strip_the_cycle_and_the_alert_count(w, client):
    kpis(w)
    cycle_create(actor=w.admin, data={"period": w.month})
    response, html = page(client, w.users[Role.VIEWER])
    assert response.context["full"] is False
    assert "Inventory Value" in html
    assert "Active S&amp;OP Cycle" in html
    assert 'data-kpi="forecast_accuracy"' in html  # KPI strip
    assert "data-alert-total" in html
    for hidden in ("Planning Status", "Publish readiness", "My work", "Recent Activity", "demand-supply-chart"):
        assert hidden not in html
    # Links only to pages the viewer can open: not inventory, forecasting or the cycle.
    for url in (reverse("planning:inventory_list"), reverse("forecasting:accuracy"), "/sop-cycle/"):
        assert f'href="{url}' not in html.split("<main", 1)[-1]


def test_a_role_without_inventory_read_sees_the_value_but_no_inventory_links(w, client):
    _response, html = page(client, w.users[Role.DEMAND_PLANNER])
    value = card(html, "inventory_value")
    assert value.startswith("<div")  # no link
    assert "1 low stock alert" in value  # aggregates for every role (ACC-06)
    assert "Critical stock" not in html  # no inventory rows in the alert list


def test_scoped_user_sees_counts_of_their_category_only(w, client, make_user):
    planner = scoped_planner(w, make_user, w.audio)
    response, html = page(client, planner)
    assert response.context["summary"]["demand_plans"]["total"] == 2
    assert 'data-value="1000.00"' in card(html, "inventory_value")


def test_empty_alerts_say_so(w, client):
    response, html = page(client, w.users[Role.DEMAND_PLANNER])
    assert response.context["alert_total"] == 0
    assert "No active alerts" in html


def test_view_all_alerts_lists_more_than_six(w, client):
    _overdue_items = [_overdue_item(w, days) for days in range(1, 9)]  # 8 overdue items + 1 critical stock row
    response, html = page(client, w.users[Role.EXECUTIVE])
    assert len(response.context["alerts"]) == 6
    assert "View all" in html
    client.force_login(w.users[Role.EXECUTIVE])
    response = client.get("/?alerts=all")
    assert len(response.context["alerts"]) == 9 == len(_overdue_items) + 1


def test_a_run_of_the_same_action_is_one_activity_line(w, client):
    from planning import services

    for i in range(3):
        services.product_create(actor=w.admin, data={"sku": f"RUN-{i}", "name": f"Run {i}", "category": w.audio})
    response, html = page(client, w.users[Role.EXECUTIVE])
    line = response.context["activity"][0]
    # The three product creations, newest first, are one line: RUN-2 "and 2 more".
    assert (line["action"], line["more"]) == ("created product", 2)
    assert "and 2 more" in html


def test_the_page_costs_a_bounded_number_of_queries(w, client, django_assert_max_num_queries):
    kpis(w)
    cycle_create(actor=w.admin, data={"period": w.month})
    for days in range(1, 6):
        _overdue_item(w, days)
    client.force_login(w.users[Role.EXECUTIVE])
    with django_assert_max_num_queries(60):  # 45 with the demo data
        assert client.get("/").status_code == 200
