"""The Inventory console's optimisation parts (UI-08): Stock actions, Optimization Runs and Recommendations
tabs, control-tower cards and funnel; maker-checker through the console."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from governance.choices import Role
from planning import services
from planning.models import InventoryPolicyRecommendation, InventoryPolicyRun
from planning.services import optimization as opt
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

LIST = reverse("planning:inventory_list")
D = Decimal


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    cat = services.category_create(actor=admin, name="Audio")
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": cat})
    row = services.inventory_create(actor=admin, product=speaker, location=main, data={
        "on_hand_qty": D("8"), "in_transit_qty": D("40"), "safety_stock": D("10"),
        "reorder_point": D("40")})  # fmt: skip

    def client(role):
        c = Client()
        c.force_login(users[role])
        return c

    return SimpleNamespace(admin=admin, users=users, row=row, client=client,
                           maker=users[Role.INVENTORY_MANAGER], checker=users[Role.SUPPLY_PLANNER])  # fmt: skip


def test_stock_tab_shows_optimisation_actions_only_to_writers(w):
    page = w.client(Role.INVENTORY_MANAGER).get(LIST)
    html = page.content.decode()
    assert 'id="run-optimization"' in html
    assert 'id="generate-recommendations"' in html
    assert 'id="auto-apply"' in html
    assert 'id="control-tower"' in html
    assert 'id="recommendation-funnel"' in html
    assert_csp_clean(html, LIST)
    reader = w.client(Role.FINANCE_ANALYST).get(LIST).content.decode()
    assert 'id="run-optimization"' not in reader
    assert 'id="auto-apply"' not in reader
    assert 'id="control-tower"' in reader
    assert "Optimization Runs" not in reader
    assert "?tab=recommendations" in reader
    viewer = w.client(Role.VIEWER).get(LIST)
    assert viewer.status_code in (200, 403)
    if viewer.status_code == 200:
        assert 'id="control-tower"' not in viewer.content.decode()


def test_run_from_the_console_and_read_its_detail(w):
    c = w.client(Role.INVENTORY_MANAGER)
    response = c.post(reverse("planning:inventory_run_create"), {
        "method": "coverage", "service_level_target": "0.95", "lead_time_days": "14", "review_period_days": "7",
        "lot_size_units": "10"})  # fmt: skip
    run = InventoryPolicyRun.objects.get()
    assert response.status_code == 302
    assert run.run_id in response["Location"]
    assert run.parameters["lot_size_units"] == "10"
    page = c.get(response["Location"]).content.decode()
    assert 'id="run-detail"' in page
    assert 'id="run-parameters"' in page
    # d = 40 / 7 = 5.714; SS = 35.28; ROP = 80 + 35.28 = 115.28 -> lot 10: 120.00
    assert "120.00" in page
    assert "Expedite replenishment" in page
    assert c.get(f"{LIST}?tab=runs&run=nope").status_code == 404


def test_run_form_errors_write_nothing(w):
    c = w.client(Role.INVENTORY_MANAGER)
    response = c.post(
        reverse("planning:inventory_run_create"),
        {"method": "coverage", "service_level_target": "2", "lead_time_days": "14", "review_period_days": "7"},
    )
    assert response.status_code == 302
    assert not InventoryPolicyRun.objects.exists()
    assert w.client(Role.FINANCE_ANALYST).post(reverse("planning:inventory_run_create"), {}).status_code == 403


def test_recommendations_tab_and_maker_checker_in_the_console(w):
    maker, checker = w.client(Role.INVENTORY_MANAGER), w.client(Role.SUPPLY_PLANNER)
    maker.post(
        reverse("planning:inventory_recommendations_generate"),
        {"min_confidence": "0.55", "max_items": "100", "min_quality_score": "0.6", "enforce_quality_gate": "on"},
    )
    rec = InventoryPolicyRecommendation.objects.get()
    assert rec.high_impact
    assert rec.generated_by == w.maker
    page = maker.get(f"{LIST}?tab=recommendations").content.decode()
    assert f'data-recommendation="{rec.pk}"' in page
    assert "High impact" in page
    assert "awaiting a second approver" in page
    assert 'value="approve"' not in page
    assert 'value="apply"' not in page
    assert 'value="reject"' in page
    url = reverse("planning:inventory_recommendation_decision", args=[rec.pk])
    # the generator posts approve and apply anyway: refused, nothing changes
    for action in ("approve", "apply"):
        response = maker.post(url, {"action": action}, follow=True)
        assert response.status_code == 200
    rec.refresh_from_db()
    assert rec.status == "pending"
    w.row.refresh_from_db()
    assert w.row.reorder_point == D("40.00")
    checker_page = checker.get(f"{LIST}?tab=recommendations").content.decode()
    assert 'value="approve"' in checker_page
    assert 'value="apply"' not in checker_page
    checker.post(url, {"action": "approve", "notes": "second pair of eyes"})
    rec.refresh_from_db()
    assert rec.status == "accepted"
    assert rec.accepted_by == w.checker
    maker.post(url, {"action": "apply"})
    rec.refresh_from_db()
    assert rec.status == "applied"
    w.row.refresh_from_db()
    assert w.row.reorder_point == D("58.00")
    assert w.client(Role.FINANCE_ANALYST).post(url, {"action": "reject"}).status_code == 403


def test_auto_apply_preview_then_apply(w):
    opt.policy_recommendation_generate(actor=w.maker)
    rec = InventoryPolicyRecommendation.objects.get()
    opt.policy_recommendation_approve(actor=w.checker, recommendation=rec)
    c = w.client(Role.INVENTORY_MANAGER)
    params = {"min_confidence": "0.5", "max_demand_pressure": "10", "max_items": "10", "min_quality_score": "0"}
    response = c.post(reverse("planning:inventory_recommendations_auto_apply"), params)
    assert response.status_code == 302
    assert "preview=1" in response["Location"]
    page = c.get(response["Location"]).content.decode()
    assert 'id="auto-apply-preview"' in page
    assert "Apply 1 recommendation" in page
    rec.refresh_from_db()
    assert rec.status == "accepted"  # the preview wrote nothing
    c.post(reverse("planning:inventory_recommendations_auto_apply"), {**params, "confirm": "apply"})
    rec.refresh_from_db()
    assert rec.status == "applied"
    assert rec.applied_via == "auto"
    overview = c.get(LIST).content.decode()
    assert 'data-tower="applied"' in overview


def test_admin_shows_recommendations_read_only(w, client):
    opt.policy_recommendation_generate(actor=w.maker)
    rec = InventoryPolicyRecommendation.objects.get()
    client.force_login(w.admin)
    base = f"/admin/planning/inventorypolicyrecommendation/{rec.pk}"
    assert client.get(f"{base}/change/").status_code == 200  # view only
    response = client.post(f"{base}/change/", {"status": "applied"})
    assert response.status_code == 403
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    rec.refresh_from_db()
    assert rec.status == "pending"
    assert client.get("/admin/planning/inventorypolicyrun/").status_code == 200


def test_runs_and_recommendations_tabs_are_csp_clean(w):
    opt.policy_run_create(actor=w.maker, params={})
    opt.policy_recommendation_generate(actor=w.maker)
    c = w.client(Role.INVENTORY_MANAGER)
    run_id = InventoryPolicyRun.objects.get().run_id
    for url in (f"{LIST}?tab=runs&run={run_id}", f"{LIST}?tab=recommendations"):
        response = c.get(url)
        assert response.status_code == 200
        assert_csp_clean(response.content.decode(), url)
