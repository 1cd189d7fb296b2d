"""The Supply Planning console (UI-05): grid with bulk bar, detail tabs, forms with the version guard,
the gap analysis with "Close gap"; and the bulk bar and status labels on the demand pages (UI-04)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import AuditEvent
from planning import services
from planning.choices import PlanStatus
from planning.models import DemandPlan, SupplyPlan
from tests.planning import supply_world
from tests.planning.supply_world import APRIL, MARCH, demand, supply
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

GRID = reverse("planning:supply_plan_list")
GAPS = reverse("planning:supply_gap_analysis")


@pytest.fixture
def w(users):
    return supply_world.build(users)


def url(name, plan):
    return reverse(f"planning:{name}", args=[plan.pk])


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Access --------------------------------------------------------------------------------------


def test_anonymous_goes_to_login_and_the_viewer_gets_403_everywhere(client, w):
    plan = supply(w)
    assert client.get(GRID)["Location"] == f"/accounts/login/?next={GRID}"
    login(client, w.viewer)
    for target in (GRID, GAPS, reverse("planning:supply_plan_create"), url("supply_plan_detail", plan),
                   url("supply_plan_edit", plan)):  # fmt: skip
        response = client.get(target)
        assert response.status_code == 403, target
        assert b"Access denied. Insufficient permissions." in response.content
    assert client.post(url("supply_plan_submit", plan)).status_code == 403
    assert client.post(reverse("planning:supply_plan_bulk"), {"action": "submit", "ids": [plan.pk]}).status_code == 403
    assert SupplyPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


def test_navigation_links_supply_planning_for_readers(client, w):
    login(client, w.finance)
    assert GRID in client.get("/").content.decode()


def test_the_executive_sees_approve_but_no_edit_no_new_plan_and_no_submit_bulk(client, w):
    plan = supply(w)
    services.supply_plan_submit(actor=w.planner, plan=plan)
    supply(w, period=APRIL)
    login(client, w.exec)
    html = client.get(GRID).content.decode()
    assert 'aria-label="Approve SPK-1 Mar 2026"' in html
    assert ">Edit</a>" not in html
    assert "New Plan" not in html
    assert 'data-bulk-action="approve"' in html
    assert 'data-bulk-action="reject"' in html
    assert 'data-bulk-action="submit"' not in html
    assert client.get(reverse("planning:supply_plan_create")).status_code == 403
    response = client.post(url("supply_plan_approve", plan), {"next": GRID}, follow=True)
    assert "Supply plan SPK-1 Mar 2026 at PLANT-A approved." in messages_of(response)


def test_a_finance_reader_sees_the_grid_without_any_action(client, w):
    supply(w)
    login(client, w.finance)
    html = client.get(GRID).content.decode()
    assert "SPK-1" in html
    assert "bulk-form" not in html
    assert ">Submit</button>" not in html
    assert "New Plan" not in html


# Planner: create, edit with the version guard, submit ---------------------------------------------


def test_planner_creates_a_plan_at_main_by_default(client, w):
    login(client, w.planner)
    form = client.get(reverse("planning:supply_plan_create")).content.decode()
    assert '<option value="Main" selected>' in form
    response = client.post(reverse("planning:supply_plan_create"), {
        "product": w.speaker.pk, "period": "2026-05", "location": "Main", "planned_prod_qty": "250",
        "capacity_max": "200", "supplier_name": "Acme", "lead_time_days": "", "cost_per_unit": "", "constraints": "",
    }, follow=True)  # fmt: skip
    plan = SupplyPlan.objects.get(product=w.speaker, location=w.main)
    assert response.redirect_chain[-1][0] == url("supply_plan_detail", plan)
    assert "Supply plan for SPK-1 May 2026 at Main created." in messages_of(response)
    html = response.content.decode()
    assert "125.0%" in html
    assert "(overloaded)" in html
    assert "data-overload" in html
    assert AuditEvent.objects.filter(event_type="planning.supply_plan.created", target_id=str(plan.pk)).exists()


def test_edit_guards_the_version_and_a_locked_state_refuses(client, w):
    plan = supply(w)
    login(client, w.planner)
    form = client.get(url("supply_plan_edit", plan)).content.decode()
    assert 'name="expected_version" value="1"' in form
    services.supply_plan_update(actor=w.admin, plan=plan, data={"planned_prod_qty": Decimal("130")})
    response = client.post(url("supply_plan_edit", plan), {"planned_prod_qty": "999", "expected_version": "1"})
    assert "The entity was changed by someone else; reload and try again." in response.content.decode()
    response = client.post(url("supply_plan_edit", plan), {"planned_prod_qty": "140", "expected_version": "2"},
                           follow=True)  # fmt: skip
    assert "saved (version 3)" in messages_of(response)[0]
    services.supply_plan_submit(actor=w.planner, plan=plan)
    response = client.get(url("supply_plan_edit", plan), follow=True)
    assert "This supply plan is submitted; it cannot be edited." in messages_of(response)
    assert SupplyPlan.objects.get(pk=plan.pk).planned_prod_qty == Decimal("140")


def test_grid_filters_and_marks_overloads(client, w):
    a = supply(w, capacity_max=Decimal("50"))  # load 200 %
    b = supply(w, location=w.dc, capacity_max=Decimal("400"))  # load 25 %
    c = supply(w, product=w.mower, period=APRIL)
    services.supply_plan_submit(actor=w.planner, plan=c)
    login(client, w.planner)

    def shown(query=""):
        return [row["plan"].pk for row in client.get(GRID + query).context["rows"]]

    assert shown() == [c.pk, b.pk, a.pk]
    assert shown("?location=DC-B") == [b.pk]
    assert shown(f"?category_id={w.garden.pk}") == [c.pk]
    assert shown("?status=submitted") == [c.pk]
    assert shown("?period_from=2026-03&period_to=2026-03&search=spk") == [b.pk, a.pk]
    html = client.get(GRID).content.decode()
    assert html.count("data-overload") == 1
    assert "200.0%" in html
    assert "25.0%" in html
    assert 'class="badge badge--submitted"' in html
    assert 'class="badge badge--draft"' in html


def test_grid_query_count_does_not_grow_with_rows(client, w):
    login(client, w.planner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(GRID).status_code == 200
        return len(captured)

    supply(w)
    few = queries()
    for month in range(5, 13):
        supply(w, period=MARCH.replace(month=month))
    assert queries() == few


def test_detail_tabs_show_versions_and_history_with_labels(client, w):
    plan = supply(w, planned_prod_qty=Decimal("100"))
    services.supply_plan_update(actor=w.planner, plan=plan, data={"planned_prod_qty": Decimal("175")})
    services.supply_plan_submit(actor=w.planner, plan=plan, comment="Ready")
    login(client, w.planner)
    versions = client.get(url("supply_plan_detail", plan) + "?tab=versions")
    assert versions.context["versions"][0]["cells"][0] == {"value": Decimal("175.00"), "changed": True}
    history = client.get(url("supply_plan_detail", plan) + "?tab=history").content.decode()
    assert "Submitted" in history
    assert "Ready" in history
    assert ">submitted<" not in history
    assert ">draft<" not in history
    assert "PLANT-A" in history  # the location shown by its code, not its id


# Bulk bar -----------------------------------------------------------------------------------------


def test_bulk_submit_from_the_supply_grid_summarises_each_row(client, w):
    ok = supply(w)
    submitted = supply(w, period=APRIL)
    services.supply_plan_submit(actor=w.planner, plan=submitted)
    login(client, w.planner)
    html = client.get(GRID).content.decode()
    assert 'form="bulk-form"' in html
    assert 'data-bulk-action="submit"' in html
    assert 'data-bulk-action="approve"' not in html
    response = client.post(reverse("planning:supply_plan_bulk"),
                           {"action": "submit", "ids": [ok.pk, submitted.pk], "next": GRID}, follow=True)  # fmt: skip
    assert response.redirect_chain[-1][0] == GRID
    [message] = messages_of(response)
    assert message.startswith("Submit: 1 succeeded, 1 failed.")
    assert "SPK-1 Apr 2026 at PLANT-A: A submitted supply plan cannot be submitted." in message
    assert SupplyPlan.objects.get(pk=ok.pk).status == PlanStatus.SUBMITTED


def test_bulk_approve_from_the_demand_grid(client, w):
    plans = [demand(w), demand(w, period=APRIL)]
    for plan in plans:
        services.demand_plan_submit(actor=w.planner, plan=plan)
    login(client, w.exec)
    grid = reverse("planning:demand_plan_list")
    html = client.get(grid).content.decode()
    assert 'data-bulk-action="approve"' in html
    assert 'data-bulk-action="submit"' not in html
    response = client.post(reverse("planning:demand_plan_bulk"),
                           {"action": "approve", "ids": [p.pk for p in plans]}, follow=True)  # fmt: skip
    assert messages_of(response) == ["Approve: 2 succeeded, 0 failed."]
    assert set(DemandPlan.objects.values_list("status", flat=True)) == {PlanStatus.APPROVED}
    response = client.post(reverse("planning:demand_plan_bulk"), {"action": "approve"}, follow=True)
    assert messages_of(response) == ["Select at least one plan first."]


def test_demand_history_tab_shows_status_labels(client, w):
    plan = demand(w)
    services.demand_plan_submit(actor=w.planner, plan=plan)
    login(client, w.planner)
    html = client.get(url("demand_plan_detail", plan) + "?tab=history").content.decode()
    assert "Submitted" in html
    assert ">submitted<" not in html


# Gap analysis ---------------------------------------------------------------------------------


@pytest.fixture
def gaps(w):
    demand(w, forecast_qty=Decimal("150"))  # speaker: planned 100 -> -33.3 %, critical
    w.speaker_plan = supply(w)
    demand(w, product=w.radio, forecast_qty=Decimal("100"))  # radio: planned 110 -> +10 %, balanced
    supply(w, product=w.radio, planned_prod_qty=Decimal("110"))
    return w


def test_gap_page_colours_rows_and_offers_close_gap_to_supply_writers(client, gaps):
    w = gaps
    login(client, w.planner)
    response = client.get(GAPS + "?period=2026-03")
    html = response.content.decode()
    statuses = [(i["sku"], i["status"]) for i in response.context["items"]]
    assert statuses == [("SPK-1", "critical"), ("RAD-1", "balanced")]
    assert 'class="gap-row gap-row--critical"' in html
    assert 'class="gap-row gap-row--balanced"' in html
    assert html.count(">Close Gap</a>") == 1
    assert 'aria-label="Close Gap of SPK-1 Mar 2026"' in html
    login(client, w.exec)
    assert ">Close Gap</a>" not in client.get(GAPS + "?period=2026-03").content.decode()
    close = reverse("planning:supply_gap_close") + f"?product={w.speaker.pk}&period=2026-03"
    assert client.get(close).status_code == 403
    assert client.post(close, {"location": w.plant.pk, "planned_prod_qty": "150"}).status_code == 403


def test_close_gap_from_the_page_names_the_plan_and_returns(client, gaps):
    w = gaps
    login(client, w.planner)
    back = GAPS + "?period=2026-03"
    close = reverse("planning:supply_gap_close") + f"?product={w.speaker.pk}&period=2026-03"
    response = client.post(close, {"location": w.plant.pk, "planned_prod_qty": "150", "next": back}, follow=True)
    assert response.redirect_chain[-1][0] == back
    assert messages_of(response) == ["Supply plan SPK-1 Mar 2026 at PLANT-A now plans 150 units (version 2, draft)."]
    assert next((i["sku"], i["status"]) for i in response.context["items"]) == ("SPK-1", "balanced")
    response = client.get(close)
    assert "SPK-1 is balanced in Mar 2026: there is no gap to close or adjust." in response.content.decode()


def test_close_gap_on_a_submitted_plan_shows_the_refusal(client, gaps):
    w = gaps
    services.supply_plan_submit(actor=w.planner, plan=w.speaker_plan)
    login(client, w.planner)
    close = reverse("planning:supply_gap_close") + f"?product={w.speaker.pk}&period=2026-03"
    response = client.post(close, {"location": w.plant.pk, "planned_prod_qty": "150"})
    assert response.status_code == 200
    assert "withdraw or reopen it before closing the gap" in response.content.decode()
    assert SupplyPlan.objects.get(pk=w.speaker_plan.pk).version == 1


def test_gap_page_filters_by_category_and_reports_a_bad_range(client, gaps):
    w = gaps
    login(client, w.planner)
    items = client.get(GAPS + f"?period=2026-03&category_id={w.garden.pk}").context["items"]
    assert items == []
    response = client.get(GAPS + "?period=2026-03&period_to=2026-01")
    assert "Must not be before period." in response.content.decode()


def test_supply_pages_have_no_inline_script_or_style(client, gaps):
    w = gaps
    services.supply_plan_update(actor=w.planner, plan=w.speaker_plan, data={"planned_prod_qty": Decimal("120")})
    login(client, w.admin)
    plan = w.speaker_plan
    for target in (GRID, GRID + "?status=draft&location=PLANT-A", reverse("planning:supply_plan_create"),
                   url("supply_plan_detail", plan), url("supply_plan_detail", plan) + "?tab=versions",
                   url("supply_plan_detail", plan) + "?tab=history", url("supply_plan_edit", plan),
                   GAPS + "?period=2026-03"):  # fmt: skip
        response = client.get(target)
        assert response.status_code == 200, target
        assert_csp_clean(response.content.decode(), target)
