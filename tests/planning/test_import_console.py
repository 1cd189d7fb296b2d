"""The console's file toolbar and import page (INT-20, INT-21): what a planner sees and does."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from governance.choices import Role
from planning import services
from planning.models import DemandPlan, IntegrationBatch
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

IMPORT = reverse("planning:io_import", kwargs={"dataset": "demand_plans"})


@pytest.fixture
def w(users, client):
    admin = users[Role.ADMIN]
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category})
    planner = users[Role.DEMAND_PLANNER]
    plan = services.demand_plan_create(
        actor=planner, product=product, data={"period": date(2026, 3, 1), "forecast_qty": 100}
    )
    return SimpleNamespace(users=users, admin=admin, planner=planner, plan=plan, client=client)


def post_file(w, content: bytes, **fields):
    data = {"file": SimpleUploadedFile("plans.csv", content, content_type="text/csv"), "mode": "validate", **fields}
    return w.client.post(IMPORT, data)


def test_the_demand_grid_offers_exports_with_its_filters_and_the_import_page(w):
    w.client.force_login(w.planner)
    response = w.client.get(reverse("planning:demand_plan_list"), {"status": "draft", "page": "1"})
    html = response.content.decode()
    assert 'href="/api/v1/demand/plans/export?status=draft&amp;format=csv"' in html
    assert 'href="/api/v1/demand/plans/export?status=draft&amp;format=xlsx"' in html
    assert f'href="{IMPORT}"' in html
    assert_csp_clean(html, "demand grid")


def test_readers_get_exports_but_no_import_link(w):
    w.client.force_login(w.users[Role.EXECUTIVE])
    html = w.client.get(reverse("planning:demand_plan_list")).content.decode()
    assert "Export CSV" in html
    assert "data-io-import" not in html
    html = w.client.get(reverse("planning:product_list")).content.decode()
    assert "/api/v1/products/export?format=csv" in html
    assert "data-io-import" not in html  # products import is admin-only


@pytest.mark.parametrize("dataset", ["supply_plans", "inventory", "gap_analysis", "nonsense", ""])
def test_the_toolbar_renders_for_any_dataset_and_any_user(w, dataset):
    from django.contrib.auth.models import AnonymousUser

    template = Template('{% include "planning/_io_toolbar.html" with dataset=name %}')
    rendered = {}
    for label, user in (("anonymous", AnonymousUser()), ("viewer", w.users[Role.VIEWER]), ("admin", w.admin)):
        request = RequestFactory().get("/x", {"q": "a"})
        request.user = user
        rendered[label] = template.render(Context({"request": request, "name": dataset})).strip()
    assert rendered["anonymous"] == ""
    assert rendered["viewer"] == ""  # viewers read none of the planning modules
    if dataset in ("nonsense", ""):
        assert rendered["admin"] == ""
    else:
        assert "format=csv" in rendered["admin"]
        assert "q=a" in rendered["admin"]
        assert ("data-io-import" in rendered["admin"]) == (dataset != "gap_analysis")


def test_validate_shows_counts_warnings_and_writes_nothing(w):
    w.client.force_login(w.planner)
    response = post_file(w, b"sku,period,forecast_qty,colour\nSPK-1,2026-03,150,red\n")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-status="completed"' in html
    assert "Validation only" in html
    assert "colour" in html
    assert 'id="import-warnings"' in html
    w.plan.refresh_from_db()
    assert w.plan.version == 1
    assert IntegrationBatch.objects.get().dry_run is True


def test_an_atomic_apply_with_a_bad_row_lists_row_and_column_and_applies_nothing(w):
    w.client.force_login(w.planner)
    response = post_file(w, b"sku,period,forecast_qty\nSPK-1,2026-03,150\nGHOST,2026-03,5\n", mode="apply",
                         atomic="on")  # fmt: skip
    html = response.content.decode()
    assert 'data-status="failed"' in html
    assert 'id="import-errors"' in html
    assert '<td class="num">3</td><td class="mono">sku</td><td class="mono">UNKNOWN_SKU</td>' in html
    w.plan.refresh_from_db()
    assert (w.plan.forecast_qty, w.plan.version) == (100, 1)


def test_an_apply_creates_versions_and_whole_file_problems_show_on_the_form(w):
    w.client.force_login(w.planner)
    response = post_file(w, b"sku,period,forecast_qty\nSPK-1,2026-03,150\n", mode="apply", atomic="on")
    assert 'data-status="completed"' in response.content.decode()
    w.plan.refresh_from_db()
    assert w.plan.version == 2
    response = post_file(w, b"sku,forecast_qty\nSPK-1,1\n")
    assert response.status_code == 200
    assert "Required column missing: period." in response.content.decode()
    response = w.client.post(IMPORT, {"file": SimpleUploadedFile("x.pdf", b"%PDF", content_type="application/pdf"),
                                      "mode": "validate"})  # fmt: skip
    assert "Upload a CSV" in response.content.decode()
    assert DemandPlan.objects.filter(is_current=True).count() == 1


def test_the_import_page_offers_templates_and_the_actuals_import(w):
    w.client.force_login(w.planner)
    html = w.client.get(IMPORT).content.decode()
    assert "/api/v1/demand/plans/import-template?format=csv" in html
    assert "/api/v1/demand/plans/import-template?format=xlsx" in html
    assert reverse("planning:io_import", kwargs={"dataset": "demand_actuals"}) in html
    assert_csp_clean(html, IMPORT)


def test_the_import_page_is_for_writers_of_the_dataset_only(w):
    assert w.client.get(IMPORT).status_code == 302  # to the login page
    w.client.force_login(w.users[Role.EXECUTIVE])
    assert w.client.get(IMPORT).status_code == 403
    assert w.client.post(IMPORT, {}).status_code == 403
    w.client.force_login(w.planner)
    assert w.client.get(reverse("planning:io_import", kwargs={"dataset": "products"})).status_code == 403
    assert w.client.get(reverse("planning:io_import", kwargs={"dataset": "locations"})).status_code == 404
    assert w.client.get(reverse("planning:io_import", kwargs={"dataset": "nope"})).status_code == 404
