"""The Demand Planning console (UI-04, UI-22): thin pages over the demand plan selectors and services."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.choices import Role
from governance.models import AuditEvent
from planning import events, services
from planning.choices import DemandPlanStatus
from planning.models import DemandPlan
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

GRID = reverse("planning:demand_plan_list")
MARCH = date(2026, 3, 1)


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category})
    return SimpleNamespace(
        admin=admin, planner=users[Role.DEMAND_PLANNER], exec=users[Role.EXECUTIVE], viewer=users[Role.VIEWER],
        product=product, category=category,
    )  # fmt: skip


def make_plan(w, **data):
    data = {"period": MARCH, "forecast_qty": Decimal("100"), **data}
    return services.demand_plan_create(actor=w.planner, product=w.product, data=data)


def url(name, plan):
    return reverse(f"planning:{name}", args=[plan.pk])


def as_role(client, w, who):
    client.force_login(getattr(w, who))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Access -------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(GRID)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={GRID}"


def test_viewer_gets_403_on_every_demand_page(client, w):
    plan = make_plan(w)
    as_role(client, w, "viewer")
    for target in (GRID, reverse("planning:demand_plan_create"), url("demand_plan_detail", plan),
                   url("demand_plan_edit", plan)):  # fmt: skip
        response = client.get(target)
        assert response.status_code == 403, target
        assert b"Access denied. Insufficient permissions." in response.content
    assert client.post(url("demand_plan_submit", plan)).status_code == 403
    assert DemandPlan.objects.get(pk=plan.pk).status == DemandPlanStatus.DRAFT


def test_navigation_shows_demand_planning_to_planners_only(client, w):
    as_role(client, w, "planner")
    assert "Demand Planning" in client.get("/").content.decode()
    as_role(client, w, "viewer")
    assert "Demand Planning" not in client.get("/").content.decode()


def test_transition_urls_are_post_only(client, w):
    plan = make_plan(w)
    as_role(client, w, "planner")
    assert client.get(url("demand_plan_submit", plan)).status_code == 405


def test_unknown_plan_is_the_404_page(client, w):
    as_role(client, w, "planner")
    assert client.get(reverse("planning:demand_plan_detail", args=[999999])).status_code == 404


# Planner: create, edit, submit; no Approve -------------------------------------


def test_planner_creates_a_plan_through_the_form(client, w):
    as_role(client, w, "planner")
    form = client.get(reverse("planning:demand_plan_create"))
    assert 'type="month"' in form.content.decode()
    assert 'value="Global"' in form.content.decode()
    response = client.post(
        reverse("planning:demand_plan_create"),
        {"product": w.product.pk, "period": "2026-04", "region": "Global", "channel": "All",
         "forecast_qty": "250", "adjusted_qty": "", "confidence": "80", "notes": "Launch"},
    )  # fmt: skip
    plan = DemandPlan.objects.get(product=w.product, period=date(2026, 4, 1))
    assert response.status_code == 302
    assert response["Location"] == url("demand_plan_detail", plan)
    assert plan.forecast_qty == Decimal("250")
    assert plan.created_by == w.planner
    assert AuditEvent.objects.filter(event_type=events.DEMAND_PLAN_CREATED, target_id=str(plan.pk)).exists()


def test_duplicate_create_shows_the_refusal_on_the_form(client, w):
    make_plan(w)
    as_role(client, w, "planner")
    response = client.post(
        reverse("planning:demand_plan_create"),
        {"product": w.product.pk, "period": "2026-03", "region": "Global", "channel": "All", "forecast_qty": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert DemandPlan.objects.filter(product=w.product).count() == 1


def test_planner_edits_and_submits_but_sees_no_approve(client, w):
    plan = make_plan(w)
    as_role(client, w, "planner")
    detail = client.get(url("demand_plan_detail", plan)).content.decode()
    assert ">Edit</a>" in detail
    assert ">Submit</button>" in detail
    assert ">Approve</button>" not in detail

    response = client.post(url("demand_plan_edit", plan), {"forecast_qty": "120", "expected_version": "1"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.forecast_qty, plan.version) == (Decimal("120"), 2)

    response = client.post(url("demand_plan_submit", plan), follow=True)
    plan.refresh_from_db()
    assert plan.status == DemandPlanStatus.SUBMITTED
    assert ">Approve</button>" not in response.content.decode()
    # A forged approve is refused by the service: the 403 page, nothing changes.
    assert client.post(url("demand_plan_approve", plan)).status_code == 403
    plan.refresh_from_db()
    assert plan.status == DemandPlanStatus.SUBMITTED


def test_executive_approves_from_the_grid(client, w):
    plan = make_plan(w)
    services.demand_plan_submit(actor=w.planner, plan=plan)
    as_role(client, w, "exec")
    grid = client.get(GRID).content.decode()
    assert 'aria-label="Approve SPK-1 Mar 2026"' in grid
    response = client.post(url("demand_plan_approve", plan), {"next": GRID}, follow=True)
    plan.refresh_from_db()
    assert plan.status == DemandPlanStatus.APPROVED
    assert plan.approved_by == w.exec
    assert "Demand plan SPK-1 Mar 2026 approved." in messages_of(response)


def test_reject_records_the_reason_and_reopen_requires_one(client, w):
    plan = make_plan(w)
    services.demand_plan_submit(actor=w.planner, plan=plan)
    as_role(client, w, "exec")
    detail = client.get(url("demand_plan_detail", plan)).content.decode()
    assert "data-confirm-reason" in detail
    client.post(url("demand_plan_reject", plan), {"reason": "Too optimistic"})
    plan.refresh_from_db()
    assert plan.status == DemandPlanStatus.REJECTED
    event = AuditEvent.objects.get(event_type=events.DEMAND_PLAN_REJECTED, target_id=str(plan.pk))
    assert event.message == "Too optimistic"

    approved = make_plan(w, period=date(2026, 5, 1))
    services.demand_plan_submit(actor=w.planner, plan=approved)
    services.demand_plan_approve(actor=w.exec, plan=approved)
    response = client.post(url("demand_plan_reopen", approved), {"reason": ""}, follow=True)
    approved.refresh_from_db()
    assert approved.status == DemandPlanStatus.APPROVED
    assert any("reason is required" in m for m in messages_of(response))
    client.post(url("demand_plan_reopen", approved), {"reason": "New promotion"})
    approved.refresh_from_db()
    assert approved.status == DemandPlanStatus.DRAFT


def test_approved_plan_shows_no_edit_and_an_edit_post_is_refused(client, w):
    plan = make_plan(w)
    services.demand_plan_submit(actor=w.planner, plan=plan)
    services.demand_plan_approve(actor=w.exec, plan=plan)
    before = DemandPlan.objects.filter(pk=plan.pk).values().get()
    as_role(client, w, "planner")

    detail = client.get(url("demand_plan_detail", plan)).content.decode()
    assert ">Edit</a>" not in detail
    assert "Approved" in detail
    assert ">Edit</a>" not in client.get(GRID).content.decode()

    response = client.post(url("demand_plan_edit", plan), {"forecast_qty": "999", "expected_version": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == url("demand_plan_detail", plan)
    assert "This demand plan is approved; it cannot be edited." in messages_of(response)
    assert DemandPlan.objects.filter(pk=plan.pk).values().get() == before
    assert client.get(url("demand_plan_edit", plan)).status_code == 302


def test_stale_edit_shows_the_message_and_writes_nothing(client, w):
    plan = make_plan(w)
    as_role(client, w, "planner")
    form = client.get(url("demand_plan_edit", plan)).content.decode()
    assert 'name="expected_version" value="1"' in form
    # Someone else saves version 2 meanwhile.
    services.demand_plan_update(actor=w.admin, plan=plan, data={"forecast_qty": Decimal("130")})

    response = client.post(url("demand_plan_edit", plan), {"forecast_qty": "999", "expected_version": "1"})
    assert response.status_code == 200
    assert "The entity was changed by someone else; reload and try again." in response.content.decode()
    plan.refresh_from_db()
    assert (plan.forecast_qty, plan.version) == (Decimal("130"), 2)


def test_versions_tab_shows_the_old_value_newest_first_with_changes_marked(client, w):
    plan = make_plan(w, forecast_qty=Decimal("100"))
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": Decimal("175")})
    as_role(client, w, "planner")
    response = client.get(url("demand_plan_detail", plan) + "?tab=versions")
    html = response.content.decode()
    assert html.index('data-version="2"') < html.index('data-version="1"')
    old_row = html[html.index('data-version="1"') :]
    assert "100.00" in old_row
    assert "175.00" in html[: html.index('data-version="1"')]
    newest = response.context["versions"][0]
    assert newest["cells"][0] == {"value": Decimal("175.00"), "changed": True}
    assert newest["cells"][1]["changed"] is False


def test_history_tab_lists_the_audit_events(client, w):
    plan = make_plan(w)
    services.demand_plan_submit(actor=w.planner, plan=plan, comment="Ready")
    as_role(client, w, "planner")
    html = client.get(url("demand_plan_detail", plan) + "?tab=history").content.decode()
    assert "Submitted" in html
    assert "Created" in html
    assert "Ready" in html


# Grid --------------------------------------------------------------------------


def test_grid_filters_by_search_status_and_period(client, w):
    march = make_plan(w)
    april = make_plan(w, period=date(2026, 4, 1))
    services.demand_plan_submit(actor=w.planner, plan=april)
    as_role(client, w, "planner")

    def shown(query):
        return [row["plan"].pk for row in client.get(GRID + query).context["rows"]]

    assert sorted(shown("")) == sorted([march.pk, april.pk])
    assert shown("?status=submitted") == [april.pk]
    assert shown("?period_from=2026-04&period_to=2026-04") == [april.pk]
    assert shown("?search=nothing-like-this") == []
    assert sorted(shown("?search=spk&region=Global&channel=All")) == sorted([march.pk, april.pk])


def test_grid_query_count_does_not_grow_with_rows(client, w):
    as_role(client, w, "planner")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(GRID).status_code == 200
        return len(captured)

    for month in (1, 2, 3):
        make_plan(w, period=date(2025, month, 1))
    few = queries()
    for month in range(1, 13):
        make_plan(w, period=date(2024, month, 1))
    assert queries() == few


# CSP ---------------------------------------------------------------------------


def test_demand_pages_have_no_inline_script_or_style(client, w):
    plan = make_plan(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": Decimal("150")})
    as_role(client, w, "admin")
    for target in (GRID, GRID + "?status=draft&period_from=2026-01", reverse("planning:demand_plan_create"),
                   url("demand_plan_detail", plan), url("demand_plan_detail", plan) + "?tab=versions",
                   url("demand_plan_detail", plan) + "?tab=history", url("demand_plan_edit", plan)):  # fmt: skip
        response = client.get(target)
        assert response.status_code == 200, target
        assert_csp_clean(response.content.decode(), target)
    response = client.post(reverse("planning:demand_plan_create"), {"forecast_qty": "-1"})
    assert_csp_clean(response.content.decode(), "demand_plan_create (invalid)")
