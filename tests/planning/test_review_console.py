"""The review pages: demand history (UI-04 "Historical view") and the supply gap chart with the
"Close Gap" / "Adjust Plan" form (UI-05), on worked examples computed by hand in the comments."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import services
from planning.models import SupplyPlan
from tests.planning import supply_world
from tests.planning.supply_world import APRIL, MARCH, demand, stock, supply
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db
D = Decimal
HISTORY = reverse("planning:demand_history")
GAPS = reverse("planning:supply_gap_analysis")
CLOSE = reverse("planning:supply_gap_close")
FEB = date(2026, 2, 1)


@pytest.fixture
def w(users, monkeypatch):
    today = lambda: date(2026, 4, 10)  # noqa: E731
    monkeypatch.setattr("planning.selectors.supply.planning_today", today)
    monkeypatch.setattr("planning.selectors.planning_today", today)
    return supply_world.build(users)


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Demand history ------------------------------------------------------------------------------


@pytest.fixture
def history(w):
    # Speaker: Feb EU/Retail forecast 100, actual 90. Mar EU/Retail forecast 80, consensus 85, actual 70;
    # Mar US/Online forecast 20. Apr EU/Retail forecast 100.
    demand(w, period=FEB, region="EU", channel="Retail", forecast_qty=D(100), actual_qty=D(90))
    march = demand(w, region="EU", channel="Retail", forecast_qty=D(80), actual_qty=D(70))
    services.demand_plan_update(actor=w.admin, plan=march, data={"consensus_qty": D(85)})
    demand(w, region="US", channel="Online", forecast_qty=D(20))
    demand(w, period=APRIL, region="EU", channel="Retail", forecast_qty=D(100))
    demand(w, product=w.mower, forecast_qty=D(10))
    return w


def test_history_page_is_for_demand_readers(client, history):
    w = history
    assert client.get(HISTORY)["Location"] == f"/accounts/login/?next={HISTORY}"
    login(client, w.viewer)
    response = client.get(HISTORY)
    assert response.status_code == 403
    assert b"Access denied. Insufficient permissions." in response.content
    for user in (w.finance, w.exec, w.planner, w.demand_planner):
        login(client, user)
        assert client.get(HISTORY + f"?product={w.speaker.pk}").status_code == 200


def test_demand_plans_page_links_the_historical_view(client, history):
    login(client, history.demand_planner)
    html = client.get(reverse("planning:demand_plan_list")).content.decode()
    assert f'href="{HISTORY}">Historical view</a>' in html


def test_history_chart_and_table_of_the_product_total(client, history):
    w = history
    login(client, w.finance)
    response = client.get(HISTORY + f"?product={w.speaker.pk}&months=12")
    html = response.content.decode()
    # Product total per month: Feb forecast 100, actual 90, no consensus, demand 100; Mar forecast
    # 80 + 20 = 100, actual 70, consensus 85, demand 85 + 20 = 105; Apr forecast and demand 100.
    rows = re.findall(r'<tr data-period="(\d{4}-\d\d)"[^>]*>(.*?)</tr>', html, re.S)
    cells = [(period, re.findall(r">([^<>]+)</t[dh]>|>(—)<", body)) for period, body in rows]
    assert [(period, [a or b for a, b in found if (a or b).strip()]) for period, found in cells] == [
        ("2026-02", ["Feb 2026", "100", "90", "—", "100"]),
        ("2026-03", ["Mar 2026", "100", "70", "85", "105"]),
        ("2026-04", ["Apr 2026", "100", "—", "—", "100"]),
    ]
    assert '<tr data-period="2026-04" class="is-current" aria-current="date">' in html
    # The axis is the 12 months May 2025 .. Apr 2026: x step (696 - 64) / 11 = 57.45, so Feb is x 581.1,
    # Mar 638.5, Apr 696.0. The lines (not demand) go up to 100 -> ticks 0..100 by 20; y(v) = 260 - v / 100 x 244.
    assert [t["label"] for t in response.context["chart"].y_ticks] == ["0", "20", "40", "60", "80", "100"]
    assert 'class="chart__line chart__line--forecast" points="581.1,16.0 638.5,16.0 696.0,16.0"' in html
    # Actual 90 -> 40.4, 70 -> 89.2; consensus has one point only (Mar 85 -> 52.6), shown as a dot.
    assert 'class="chart__line chart__line--actual" points="581.1,40.4 638.5,89.2"' in html
    assert 'class="chart__dot chart__dot--consensus" cx="638.5" cy="52.6"' in html
    assert '<line x1="696.0" x2="696.0" y1="260" y2="16"></line>' in html  # the current month, April
    assert '<title id="history-chart-title">Demand history of SPK-1</title>' in html
    assert 'aria-labelledby="history-chart-title history-chart-desc"' in html
    assert [label for _, label in response.context["legend"]] == ["Actual", "Forecast", "Consensus"]
    assert f'href="/api/v1/demand/history/export?product_id={w.speaker.pk}&amp;months=12"' in html
    assert_csp_clean(html, HISTORY)


def test_history_series_range_and_only_actuals(client, history):
    w = history
    login(client, w.demand_planner)
    response = client.get(HISTORY + f"?product={w.speaker.pk}")
    assert response.context["series_choices"] == [("EU|Retail", "EU / Retail"), ("US|Online", "US / Online")]
    assert response.context["months"] == 24  # the default range
    response = client.get(HISTORY + f"?product={w.speaker.pk}&series=EU|Retail&months=36&only_actuals=true")
    # EU/Retail with actuals only: Feb (90) and Mar (70, consensus 85, demand 85).
    assert [(p["period"], p["actual_qty"], p["demand_qty"]) for p in response.context["points"]] == [
        (FEB, D("90.00"), D("100.00")), (MARCH, D("70.00"), D("85.00"))]  # fmt: skip
    html = response.content.decode()
    assert '<option value="EU|Retail" selected>EU / Retail</option>' in html
    assert '<option value="36" selected>36 months</option>' in html
    assert "checked" in re.search(r'<input type="checkbox" id="history-only-actuals"[^>]*>', html).group(0)
    assert (f'href="/api/v1/demand/history/export?product_id={w.speaker.pk}&amp;months=36&amp;region=EU&amp;'
            'channel=Retail&amp;only_actuals=true"') in html  # fmt: skip
    # An unknown series or range falls back to the product total over 24 months.
    response = client.get(HISTORY + f"?product={w.speaker.pk}&series=XX|YY&months=7")
    assert (response.context["series"], response.context["months"]) == ("", 24)
    # The export link answers the same rows as the page.
    csv = client.get(f"/api/v1/demand/history/export?product_id={w.speaker.pk}&months=36&region=EU&channel=Retail"
                     "&only_actuals=true")  # fmt: skip
    assert csv.status_code == 200
    assert len(b"".join(csv.streaming_content).decode().strip().splitlines()) == 3  # header + Feb + Mar


def test_history_product_selector_is_scoped_and_active_first(client, history, make_user):
    w = history
    services.product_discontinue(actor=w.admin, product=w.radio, reason="End of life")
    login(client, w.demand_planner)
    response = client.get(HISTORY)
    assert [p.sku for p in response.context["products"]] == ["MOW-1", "SPK-1", "RAD-1"]  # active first, by SKU
    assert response.context["product"] == w.mower  # the first one is shown by default
    scoped = make_user("demand_planner")
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.audio.pk, "access": "view"}])
    login(client, scoped)
    response = client.get(HISTORY)
    assert [p.sku for p in response.context["products"]] == ["SPK-1", "RAD-1"]
    assert "MOW-1" not in response.content.decode()
    assert client.get(HISTORY + f"?product={w.mower.pk}").status_code == 404
    assert client.get(HISTORY + "?product=999999").status_code == 404


def test_history_without_rows_says_so(client, w):
    login(client, w.demand_planner)
    html = client.get(HISTORY + f"?product={w.radio.pk}").content.decode()
    assert "No demand plans for RAD-1 (Product total) in the last 24 months." in html
    assert 'id="history-chart"' not in html


# Supply gap chart and Close Gap / Adjust Plan --------------------------------------------------


@pytest.fixture
def gaps(w):
    # Speaker, March: demand 200; planned PLANT-A 100 + DC-B 30 = 130; stock 40 -> effective 170,
    # plan gap -70, coverage -30 (-15 %, shortage). April: demand 100, planned PLANT-A 150, effective
    # 190, plan gap +50, coverage +90 (+90 %, excess).
    demand(w, forecast_qty=D(200))
    w.speaker_plant = supply(w, planned_prod_qty=D(100))
    w.speaker_dc = supply(w, location=w.dc, planned_prod_qty=D(30))
    stock(w, on_hand_qty=D(40))
    demand(w, period=APRIL, forecast_qty=D(100))
    w.speaker_april = supply(w, period=APRIL, planned_prod_qty=D(150))
    # Radio, March: demand 100 vs planned 100, balanced.
    demand(w, product=w.radio, forecast_qty=D(100))
    supply(w, product=w.radio, planned_prod_qty=D(100))
    return w


def test_gap_page_columns_chart_and_row_actions(client, gaps):
    w = gaps
    login(client, w.planner)
    response = client.get(GAPS + "?period=2026-03&period_to=2026-04")
    html = response.content.decode()
    headers = re.findall(r'<th scope="col"(?: class="num")?>([^<]+)</th>', html.split('id="gap-table"')[1])
    assert headers == [
        "Product", "Period", "Consensus Demand", "Planned Production", "Actual Production", "Inventory Available",
        "Effective Supply", "Additional Prod Required", "Plan Gap", "Plan Gap %", "Actual Gap", "Actual Gap %",
        "Coverage Gap", "Coverage Gap %", "Status"]  # fmt: skip
    assert '<td class="num gap--negative">-15.0%</td>' in html
    assert '<td class="num gap--positive">90.0%</td>' in html
    assert html.count(">Close Gap</a>") == 1
    assert html.count(">Adjust Plan</a>") == 1
    assert f"{CLOSE}?product={w.speaker.pk}&amp;period=2026-03&amp;next=" in html
    # The chart shows the first product (SPK-1) over March and April: demand 200/100 against
    # effective 170/190 -> ticks 0..200 by 50; coverage -15 % and +90 % -> raw step 21 -> 25, ticks -25..100.
    chart = response.context["chart"]
    assert response.context["chart_product"][1] == "SPK-1"
    assert [(b["key"], b["month"], b["value"]) for b in chart.bars] == [
        ("demand", MARCH, 200.0), ("supply", MARCH, 170.0),
        ("demand", APRIL, 100.0), ("supply", APRIL, 190.0)]  # fmt: skip
    assert [t["label"] for t in chart.right_ticks] == ["-25%", "0%", "25%", "50%", "75%", "100%"]
    # Coverage: y(p) = 260 - (p + 25) / 125 x 244 -> -15 % at 240.5, 90 % at 35.5; centres 212 and 508.
    assert 'class="chart__line chart__line--coverage" points="212.0,240.5 508.0,35.5"' in html
    assert 'class="chart__bar chart__bar--demand" x="108.4" y="16.0" width="103.6" height="244.0"' in html
    assert '<title id="gap-chart-title">Demand vs effective supply of SPK-1</title>' in html
    # Another product in the chart keeps the filters.
    radio = client.get(GAPS + f"?period=2026-03&period_to=2026-04&chart={w.radio.pk}").context
    assert (radio["chart_product"][1], len(radio["chart"].bars)) == ("RAD-1", 2)
    assert_csp_clean(html, GAPS)
    login(client, w.finance)
    html = client.get(GAPS + "?period=2026-03&period_to=2026-04").content.decode()
    assert "Close Gap" not in html
    assert "Adjust Plan" not in html
    assert 'id="gap-chart"' in html


def test_close_gap_form_is_prefilled_with_the_proposal(client, gaps):
    w = gaps
    login(client, w.planner)
    response = client.get(CLOSE + f"?product={w.speaker.pk}&period=2026-03")
    assert response.status_code == 200
    form = response.context["form"]
    # Plan gap -70 -> at PLANT-A (the largest row, 100): 100 + 70 = 170; at DC-B: 30 + 70 = 100.
    assert (form.initial["location"], form.initial["planned_prod_qty"]) == (w.plant.pk, D("170.00"))
    html = response.content.decode()
    assert '<h1 class="page-title">Close Gap · SPK-1 · Mar 2026</h1>' in html
    assert 'value="170.00"' in html
    assert f'<option value="{w.plant.pk}" selected>PLANT-A · Plant A</option>' in html
    assert [(o["row"].location.code, o["proposed_qty"]) for o in response.context["location_rows"]] == [
        ("PLANT-A", D("170.00")), ("DC-B", D("100.00"))]  # fmt: skip
    other = client.get(CLOSE + f"?product={w.speaker.pk}&period=2026-03&location=DC-B").context["form"]
    assert (other.initial["location"], other.initial["planned_prod_qty"]) == (w.dc.pk, D("100.00"))
    adjust = client.get(CLOSE + f"?product={w.speaker.pk}&period=2026-04")
    # April excess: plan gap +50 -> max(0, 150 - 50) = 100.
    assert adjust.context["form"].initial["planned_prod_qty"] == D("100.00")
    assert "Adjust Plan · SPK-1 · Apr 2026" in adjust.content.decode()
    assert_csp_clean(html, CLOSE)


def test_close_gap_submit_writes_a_new_version_and_returns(client, gaps):
    w = gaps
    login(client, w.planner)
    back = GAPS + "?period=2026-03"
    response = client.post(CLOSE + f"?product={w.speaker.pk}&period=2026-03",
                           {"location": w.plant.pk, "planned_prod_qty": "170", "next": back}, follow=True)  # fmt: skip
    assert response.redirect_chain[-1][0] == back
    assert messages_of(response) == ["Supply plan SPK-1 Mar 2026 at PLANT-A now plans 170 units (version 2, draft)."]
    plan = SupplyPlan.objects.get(pk=w.speaker_plant.pk)
    assert (plan.planned_prod_qty, plan.version) == (D("170.00"), 2)
    assert plan.change_reason == (
        "Closes the shortfall of SPK-1 in Mar 2026: plan gap -70 units (demand 200, coverage -15.0 %, shortage)."
    )
    assert SupplyPlan.objects.filter(history_of=plan, version=1, planned_prod_qty=D("100.00")).exists()
    event = AuditEvent.objects.filter(event_type="planning.supply_plan.updated", target_id=str(plan.pk)).get()
    assert event.after["planned_prod_qty"] == "170.00"
    # Edited quantity at a location without a plan: a new draft at Main.
    response = client.post(CLOSE + f"?product={w.speaker.pk}&period=2026-04",
                           {"location": w.main.pk, "planned_prod_qty": "0"}, follow=True)  # fmt: skip
    assert messages_of(response) == ["Supply plan SPK-1 Apr 2026 at Main now plans 0 units (version 1, draft)."]


def test_close_gap_refusals_are_shown_on_the_form(client, gaps):
    w = gaps
    services.supply_plan_submit(actor=w.planner, plan=w.speaker_plant)
    login(client, w.planner)
    page = CLOSE + f"?product={w.speaker.pk}&period=2026-03"
    html = client.get(page).content.decode()
    assert "The plan at PLANT-A is submitted; withdraw or reopen it before closing the gap" in html
    response = client.post(page, {"location": w.plant.pk, "planned_prod_qty": "170"})
    assert response.status_code == 200
    assert ("The supply plan of SPK-1 for Mar 2026 at PLANT-A is submitted; withdraw or reopen it before "
            "closing the gap.") in response.content.decode()  # fmt: skip
    assert SupplyPlan.objects.get(pk=w.speaker_plant.pk).version == 1
    response = client.post(page, {"location": w.dc.pk, "planned_prod_qty": "-5"})
    assert response.context["form"].errors == {"planned_prod_qty": ["Ensure this value is greater than or equal to 0."]}
    response = client.post(page, {"location": w.dc.pk, "planned_prod_qty": "30"})
    assert "already plans 30 units; there is nothing to change." in response.content.decode()
    html = client.get(CLOSE + f"?product={w.radio.pk}&period=2026-03").content.decode()
    assert "RAD-1 is balanced in Mar 2026: there is no gap to close or adjust." in html
    assert 'id="gap-close-form"' not in html
    response = client.post(CLOSE + f"?product={w.radio.pk}&period=2026-03",
                           {"location": w.plant.pk, "planned_prod_qty": "90"})  # fmt: skip
    assert "supply and demand are balanced" in response.content.decode()


def test_close_gap_form_is_for_supply_writers_in_scope(client, gaps, make_user):
    w = gaps
    page = CLOSE + f"?product={w.speaker.pk}&period=2026-03"
    for user in (w.finance, w.exec, w.demand_planner, w.viewer):
        login(client, user)
        assert client.get(page).status_code == 403, user
        assert client.post(page, {"location": w.plant.pk, "planned_prod_qty": "170"}).status_code == 403
    login(client, w.coord)
    assert client.get(page).status_code == 200
    scoped = make_user("supply_planner")
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.garden.pk, "access": "change"}])
    login(client, scoped)
    assert client.get(page).status_code == 404  # the speaker is outside the scope
    login(client, w.planner)
    assert client.get(CLOSE + f"?product={w.speaker.pk}&period=2026-13").status_code == 404
    assert SupplyPlan.objects.get(pk=w.speaker_plant.pk).version == 1


def test_close_gap_api_takes_a_location_and_a_quantity(gaps, api_client_for):
    w = gaps
    api = api_client_for(w.planner)
    response = api.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-03",
                                                              "location": "DC-B", "planned_prod_qty": "35"},
                        format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["location"], body["planned_prod_qty"], body["version"]) == (
        w.speaker_dc.pk, "DC-B", "35.00", 2)  # fmt: skip
    # Planned 135 + stock 40 = 175 < 200, still a shortage. The default proposal at the largest row:
    # plan gap 135 - 200 = -65 -> PLANT-A 100 + 65 = 165.
    body = api.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-03"},
                    format="json").json()  # fmt: skip
    assert (body["location"], body["planned_prod_qty"]) == ("PLANT-A", "165.00")
    bad = api.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-04",
                                                         "planned_prod_qty": "-1"}, format="json")  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["detail"]["code"] == "VALIDATION_ERROR"
    services.supply_plan_submit(actor=w.planner, plan=w.speaker_april)
    refused = api.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-04"},
                       format="json")  # fmt: skip
    assert refused.status_code == 409
    assert refused.json()["detail"]["code"] == "INVALID_STATE_TRANSITION"
