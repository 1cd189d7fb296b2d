"""UI-10 console pages: the card grid, form, detail page with results, comments and history, the workflow
buttons and the comparison with its charts and data tables."""

import re

import pytest
from django.test import Client

from governance.choices import Role
from governance.models import AuditEvent
from planning import events
from planning.models import DemandPlan, Scenario
from planning.services import scenarios as svc
from tests.planning.test_scenarios_world import audio_scope, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(users):
    return build_world(users)


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def run(w, name, **params):
    scenario = svc.scenario_create(actor=w.demand, data={"name": name, "scope": audio_scope(w),
                                                         "parameters": {"period": "2026-03", **params}})  # fmt: skip
    return svc.scenario_run(actor=w.demand, scenario=scenario)


def test_the_card_grid_shows_status_type_impacts_and_allowed_buttons(w):
    shortage = run(w, "Supplier disruption", demand_change_pct=-10, supply_capacity_pct=-20, price_change_pct=5,
                   inventory_release_pct=50)  # fmt: skip
    svc.scenario_create(actor=w.demand, data={"name": "Price increase", "scenario_type": "stress_test"})
    page = browser(w.demand).get("/scenarios/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Supplier disruption" in html
    assert "Price increase" in html
    assert "Stress Test" in html
    assert "What-If Analysis" in html
    assert "badge--completed" in html
    assert "\u2212$154" in html  # revenue impact, with a minus sign
    for tile in ("Carrying Cost", "Working Capital Δ", "Composite"):
        assert tile in html
    assert f"/scenarios/{shortage.pk}/submit/" in html
    assert f"/scenarios/{shortage.pk}/approve/" not in html  # planners never see Approve


def test_roles_without_scenario_access_get_403(w):
    assert browser(w.viewer).get("/scenarios/").status_code == 403
    assert browser(w.inventory).get("/scenarios/").status_code == 403
    assert browser(w.exec).get("/scenarios/new/").status_code == 403


def test_create_edit_and_run_through_the_console(w):
    c = browser(w.demand)
    response = c.post("/scenarios/new/", {"name": "Holiday promotion +12 %", "scenario_type": "what_if",
                                          "period": "2026-03", "demand_change_pct": "12",
                                          "categories": [str(w.audio.pk)], "service_weight": "0.5"})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    scenario = Scenario.objects.get(name="Holiday promotion +12 %")
    assert scenario.parameters == {"period": "2026-03-01", "demand_change_pct": 12, "service_weight": 0.5}
    assert scenario.scope == {"category_ids": [w.audio.pk]}
    # An out-of-range value is shown on its input and nothing is written.
    response = c.post("/scenarios/new/", {"name": "Bad", "scenario_type": "what_if", "demand_change_pct": "900"})
    assert response.status_code == 200
    assert "Demand change % must be between -100 and 500" in response.content.decode()
    assert not Scenario.objects.filter(name="Bad").exists()

    response = c.post(f"/scenarios/{scenario.pk}/run/")
    assert response.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == "completed"
    page = c.get(f"/scenarios/{scenario.pk}/").content.decode()
    assert 'id="results-table"' in page
    assert "Baseline" in page

    response = c.post(f"/scenarios/{scenario.pk}/edit/", {"name": "Holiday promotion", "scenario_type": "what_if",
                                                          "period": "2026-03", "demand_change_pct": "15"})  # fmt: skip
    assert response.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == "draft"
    assert scenario.results is None
    assert scenario.parameters["demand_change_pct"] == 15


def test_workflow_buttons_act_and_refusals_return_with_a_message(w):
    scenario = run(w, "Decide me")
    svc.scenario_submit(actor=w.demand, scenario=scenario)
    approver = browser(w.exec)
    page = approver.get(f"/scenarios/{scenario.pk}/").content.decode()
    assert f"/scenarios/{scenario.pk}/approve/" in page
    response = approver.post(f"/scenarios/{scenario.pk}/approve/", {"reason": "Looks right"})
    assert response.status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == "approved"
    response = approver.post(f"/scenarios/{scenario.pk}/designate-operating-plan/", {"reason": "March"}, follow=True)
    assert "designated as the operating plan" in response.content.decode()
    scenario.refresh_from_db()
    assert scenario.is_operating_plan
    # Approving again is refused with the reason on the page.
    response = approver.post(f"/scenarios/{scenario.pk}/approve/", follow=True)
    assert "cannot be approved" in response.content.decode()
    # A planner cannot approve at all.
    assert browser(w.demand).post(f"/scenarios/{scenario.pk}/reject/").status_code == 403
    comments = browser(w.demand).get(f"/scenarios/{scenario.pk}/?tab=comments").content.decode()
    assert "Looks right" in comments
    history = browser(w.demand).get(f"/scenarios/{scenario.pk}/?tab=history").content.decode()
    assert "Approved" in history
    assert "Run" in history
    types = set(AuditEvent.objects.filter(target_type="scenario", target_id=str(scenario.pk))
                .values_list("event_type", flat=True))  # fmt: skip
    assert {events.SCENARIO_APPROVED, events.SCENARIO_DESIGNATED} <= types


def test_clone_and_delete_from_the_console(w):
    scenario = run(w, "Original")
    c = browser(w.demand)
    response = c.post(f"/scenarios/{scenario.pk}/clone/")
    copy = Scenario.objects.get(name="Original (copy)")
    assert response.url == f"/scenarios/{copy.pk}/"
    response = c.post(f"/scenarios/{copy.pk}/delete/", {"next": f"/scenarios/{copy.pk}/"})
    assert response.url == "/scenarios/"
    assert not Scenario.objects.filter(pk=copy.pk).exists()


def test_compare_page_shows_side_by_side_deltas_and_charts_with_tables(w):
    first = run(w, "Shortage", demand_change_pct=-10, supply_capacity_pct=-20, price_change_pct=5,
                inventory_release_pct=50)  # fmt: skip
    second = run(w, "Excess", supply_capacity_pct=50)
    before = list(DemandPlan.objects.values_list("pk", "version", "updated_at"))
    page = browser(w.finance).get(f"/scenarios/compare/?ids={first.pk}&ids={second.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="compare-table"' in html
    assert 'id="impact-chart"' in html
    assert 'id="service-chart"' in html
    assert 'id="impact-table"' in html
    assert "Δ against Shortage" in html
    assert "chart__bar--s0" in html
    assert "chart__bar--s1" in html
    assert "+105" in html  # supply delta of Excess against Shortage
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script (CSP)
    assert not re.search(r'\sstyle="', html)
    assert list(DemandPlan.objects.values_list("pk", "version", "updated_at")) == before
    # Fewer than two picks: the page explains instead of failing.
    page = browser(w.finance).get(f"/scenarios/compare/?ids={first.pk}")
    assert "Compare 2 to 6 scenarios" in page.content.decode()


def test_scoped_planner_sees_only_scenarios_within_their_scope(w):
    from governance.services import user_create
    from governance.services.scopes import user_scopes_set

    planner = user_create(actor=w.admin, email="garden@example.test", full_name="Garden Planner",
                          role=Role.DEMAND_PLANNER)  # fmt: skip
    user_scopes_set(actor=w.admin, user=planner, scopes=[{"type": "category", "id": w.garden.pk, "access": "change"}])
    audio = run(w, "Audio only")
    page = browser(planner).get("/scenarios/").content.decode()
    assert "Audio only" not in page
    assert browser(planner).get(f"/scenarios/{audio.pk}/").status_code == 404
