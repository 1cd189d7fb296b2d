"""Quantities edited in place in the plans grids (UI-04, UI-05) and on their own pages (Adjust, Record actual).

The grid rows post one quantity with the version the user saw to the demand or supply update service:
a stale version or a bad number writes nothing, roles that may not edit see plain numbers and are
refused by the server too.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import events, services
from planning.models import DemandPlan, SupplyPlan
from tests.planning import supply_world
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

D = Decimal
DEMAND_GRID = reverse("planning:demand_plan_list")
SUPPLY_GRID = reverse("planning:supply_plan_list")
MARCH = supply_world.MARCH


@pytest.fixture
def w(users):
    return supply_world.build(users)


def demand(w, **data):
    data = {"period": MARCH, "forecast_qty": D("100"), **data}
    return services.demand_plan_create(actor=w.demand_planner, product=data.pop("product", w.speaker), data=data)


def approved(w, plan):
    services.demand_plan_submit(actor=w.demand_planner, plan=plan)
    return services.demand_plan_approve(actor=w.exec, plan=plan)


def url(name, plan):
    return reverse(f"planning:{name}", args=[plan.pk])


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def row_html(html: str, plan) -> str:
    start = html.index(f'data-plan="{plan.pk}"')
    return html[start : html.index("</tr>", start)]


def stored(plan):
    return type(plan).objects.filter(pk=plan.pk).values().get()


# What the grid offers ------------------------------------------------------------------------------------


def test_demand_planner_gets_inline_adjusted_and_actual_inputs_on_a_draft_row(client, w):
    plan = demand(w, adjusted_qty=D("110"))
    html = login(client, w.demand_planner).get(DEMAND_GRID, {"status": "draft"}).content.decode()
    row = row_html(html, plan)
    assert f'action="{url("demand_plan_adjust", plan)}"' in row
    assert f'action="{url("demand_plan_record_actual", plan)}"' in row
    assert 'name="adjusted_qty" value="110"' in row
    assert 'name="expected_version" value="1"' in row
    # The form returns to this very grid page, filters included.
    assert 'name="next" value="/demand/?status=draft"' in row
    assert 'aria-label="Adjusted qty of SPK-1 Mar 2026"' in row
    assert_csp_clean(html, DEMAND_GRID)


def test_a_submitted_row_offers_only_the_actual_and_an_approved_one_too(client, w):
    submitted = demand(w)
    services.demand_plan_submit(actor=w.demand_planner, plan=submitted)
    done = approved(w, demand(w, product=w.mower))
    html = login(client, w.demand_planner).get(DEMAND_GRID).content.decode()
    for plan in (submitted, done):
        row = row_html(html, plan)
        assert 'name="adjusted_qty"' not in row
        assert 'name="actual_qty"' in row


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.FINANCE_ANALYST])
def test_readers_and_approvers_see_plain_numbers(client, w, role):
    plan = demand(w, adjusted_qty=D("1250"))
    supply_world.supply(w)
    user = w.users[role]
    login(client, user)
    for grid in (DEMAND_GRID, SUPPLY_GRID):
        html = client.get(grid).content.decode()
        assert "data-inline-qty" not in html, (role, grid)
        assert 'type="number"' not in html
    assert "1,250" in row_html(client.get(DEMAND_GRID).content.decode(), plan)


def test_supply_planner_gets_inline_planned_and_actual_inputs(client, w):
    plan = supply_world.supply(w)
    html = login(client, w.planner).get(SUPPLY_GRID).content.decode()
    row = row_html(html, plan)
    assert f'action="{url("supply_plan_adjust", plan)}"' in row
    assert 'name="planned_prod_qty" value="100"' in row
    assert 'name="actual_prod_qty" value=""' in row
    assert 'aria-label="Planned qty of SPK-1 Mar 2026 at PLANT-A"' in row
    # A demand planner reads supply but does not write it.
    html = login(client, w.demand_planner).get(SUPPLY_GRID).content.decode()
    assert "data-inline-qty" not in html


def test_a_row_outside_the_change_scope_shows_plain_numbers(client, w):
    plan = demand(w)
    scoped = w.users[Role.DEMAND_PLANNER]
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.audio.pk, "access": "view"}])
    html = login(client, scoped).get(DEMAND_GRID).content.decode()
    assert "data-inline-qty" not in row_html(html, plan)
    before = stored(plan)
    body = {"adjusted_qty": "5", "expected_version": "1"}
    assert client.post(url("demand_plan_adjust", plan), body).status_code == 403
    assert stored(plan) == before


@pytest.mark.parametrize("rows", [3, 20])
def test_the_grid_with_inline_forms_stays_within_its_query_budget(client, w, django_assert_max_num_queries, rows):
    for month in range(rows):
        demand(w, period=date(2024 + month // 12, month % 12 + 1, 1))
    login(client, w.demand_planner)
    # Each filled user reference (creator, updater, ...) is one small query of its own, not a join.
    with django_assert_max_num_queries(12):
        response = client.get(DEMAND_GRID, {"page_size": "25"})
    assert response.content.decode().count("data-inline-qty") == 2 * min(rows, 25)


def test_the_supply_grid_query_count_does_not_grow_with_its_rows(client, w, django_assert_max_num_queries):
    for month in range(1, 13):
        supply_world.supply(w, period=date(2025, month, 1))
        supply_world.supply(w, period=date(2025, month, 1), location=w.dc)
    login(client, w.planner)
    with django_assert_max_num_queries(12):
        response = client.get(SUPPLY_GRID)
    assert response.content.decode().count("data-inline-qty") == 2 * 24


# Saving from the grid ------------------------------------------------------------------------------------


def test_adjusting_from_the_grid_makes_a_version_and_returns_to_the_same_page(client, w):
    plan = demand(w)
    login(client, w.demand_planner)
    grid = f"{DEMAND_GRID}?status=draft&page=1"
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "120.5", "expected_version": "1",
                                                             "next": grid})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == grid
    saved = DemandPlan.objects.get(pk=plan.pk)
    assert (saved.adjusted_qty, saved.forecast_qty, saved.version) == (D("120.5"), D("100"), 2)
    assert saved.updated_by == w.demand_planner
    event = AuditEvent.objects.get(event_type=events.DEMAND_PLAN_UPDATED, target_id=str(plan.pk))
    assert event.after["adjusted_qty"] == "120.5"
    page = client.get(grid)
    assert "Demand plan SPK-1 Mar 2026: adjusted qty 120.50 saved (version 2, draft)." in messages_of(page)
    assert 'name="expected_version" value="2"' in row_html(page.content.decode(), plan)


def test_adjusting_a_rejected_plan_revises_it_to_draft(client, w):
    plan = demand(w)
    services.demand_plan_submit(actor=w.demand_planner, plan=plan)
    services.demand_plan_reject(actor=w.exec, plan=plan, comment="Too high")
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "80", "expected_version": "1",
                                                             "next": DEMAND_GRID}, follow=True)  # fmt: skip
    saved = DemandPlan.objects.get(pk=plan.pk)
    assert (saved.status, saved.version, saved.adjusted_qty) == ("draft", 2, D("80"))
    assert "Demand plan SPK-1 Mar 2026: adjusted qty 80 saved (version 2, draft)." in messages_of(response)


def test_a_blank_adjusted_qty_clears_it_and_an_unchanged_one_makes_no_version(client, w):
    plan = demand(w, adjusted_qty=D("90"))
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "90.00", "expected_version": "1",
                                                             "next": DEMAND_GRID}, follow=True)  # fmt: skip
    assert "Demand plan SPK-1 Mar 2026: adjusted qty unchanged (version 1, draft)." in messages_of(response)
    assert DemandPlan.objects.get(pk=plan.pk).version == 1
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "", "expected_version": "1",
                                                             "next": DEMAND_GRID}, follow=True)  # fmt: skip
    saved = DemandPlan.objects.get(pk=plan.pk)
    assert (saved.adjusted_qty, saved.version) == (None, 2)
    assert "Demand plan SPK-1 Mar 2026: adjusted qty cleared (version 2, draft)." in messages_of(response)


def test_recording_an_actual_on_an_approved_plan_makes_no_version(client, w):
    plan = approved(w, demand(w))
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_record_actual", plan), {"actual_qty": "97", "expected_version": "1",
                                                                    "next": DEMAND_GRID}, follow=True)  # fmt: skip
    saved = DemandPlan.objects.get(pk=plan.pk)
    assert (saved.actual_qty, saved.version, saved.status) == (D("97"), 1, "approved")
    assert saved.actual_updated_at is not None
    assert AuditEvent.objects.filter(event_type=events.DEMAND_PLAN_ACTUAL_RECORDED, target_id=str(plan.pk)).exists()
    assert "Demand plan SPK-1 Mar 2026: actual qty 97 recorded (version 1, approved)." in messages_of(response)


def test_supply_planner_saves_planned_and_actual_from_the_grid(client, w):
    plan = supply_world.supply(w)
    login(client, w.planner)
    response = client.post(url("supply_plan_adjust", plan), {"planned_prod_qty": "150", "expected_version": "1",
                                                             "next": SUPPLY_GRID}, follow=True)  # fmt: skip
    assert response.redirect_chain[-1][0] == SUPPLY_GRID
    assert "Supply plan SPK-1 Mar 2026 at PLANT-A: planned qty 150 saved (version 2, draft)." in messages_of(response)
    response = client.post(url("supply_plan_record_actual", plan), {"actual_prod_qty": "140", "expected_version": "2",
                                                                    "next": SUPPLY_GRID}, follow=True)  # fmt: skip
    saved = SupplyPlan.objects.get(pk=plan.pk)
    assert (saved.planned_prod_qty, saved.actual_prod_qty, saved.version) == (D("150"), D("140"), 2)
    assert "Supply plan SPK-1 Mar 2026 at PLANT-A: actual qty 140 recorded (version 2, draft)." in messages_of(response)
    assert AuditEvent.objects.filter(event_type=events.SUPPLY_PLAN_UPDATED, target_id=str(plan.pk)).count() == 1


def test_a_next_to_another_site_returns_to_the_plan_instead(client, w):
    plan = demand(w)
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "5", "expected_version": "1",
                                                             "next": "https://evil.example/"})  # fmt: skip
    assert response["Location"] == url("demand_plan_detail", plan)


# Refusals write nothing ------------------------------------------------------------------------------------


def test_a_stale_row_says_someone_else_changed_it_and_writes_nothing(client, w):
    plan = demand(w)
    services.demand_plan_update(actor=w.coord, plan=plan, data={"forecast_qty": D("130")})  # now version 2
    before = stored(plan)
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "120", "expected_version": "1",
                                                             "next": DEMAND_GRID})  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert "Demand plan SPK-1 Mar 2026 was changed by someone else (now version 2); nothing was saved." in html
    assert "Reload" in html
    assert f'href="{url("demand_plan_adjust", plan)}?next=%2Fdemand%2F"' in html
    assert stored(plan) == before
    assert not AuditEvent.objects.filter(actor=w.demand_planner, event_type=events.DEMAND_PLAN_UPDATED).exists()
    # Reloading shows the current version; saving then succeeds and returns to the grid.
    reloaded = client.get(f"{url('demand_plan_adjust', plan)}?next=%2Fdemand%2F")
    assert reloaded.context["form"].initial["expected_version"] == 2
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "120", "expected_version": "2",
                                                             "next": DEMAND_GRID})  # fmt: skip
    assert response["Location"] == DEMAND_GRID
    assert DemandPlan.objects.get(pk=plan.pk).version == 3


def test_a_stale_actual_is_refused_too(client, w):
    plan = supply_world.supply(w)
    services.supply_plan_update(actor=w.coord, plan=plan, data={"planned_prod_qty": D("120")})
    login(client, w.planner)
    response = client.post(url("supply_plan_record_actual", plan), {"actual_prod_qty": "5", "expected_version": "1"})
    assert "was changed by someone else (now version 2)" in response.content.decode()
    assert SupplyPlan.objects.get(pk=plan.pk).actual_prod_qty is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("abc", "Enter a number."),
        ("-5", "Ensure this value is greater than or equal to 0."),
        ("12.345", "Ensure that there are no more than 2 decimal places."),
        ("1e20", "Ensure that there are no more than 12 digits in total."),
    ],
)
def test_a_bad_number_shows_the_field_error(client, w, value, error):
    plan = demand(w)
    before = stored(plan)
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": value, "expected_version": "1",
                                                             "next": DEMAND_GRID})  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors["adjusted_qty"] == [error]
    html = response.content.decode()
    assert 'id="id_adjusted_qty_error"' in html
    # The page keeps the way back to the grid page the user came from.
    assert f'name="next" value="{DEMAND_GRID}"' in html
    assert stored(plan) == before


def test_an_actual_cannot_be_blank(client, w):
    plan = demand(w)
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_record_actual", plan), {"actual_qty": "", "expected_version": "1"})
    assert response.context["form"].errors["actual_qty"] == ["This field is required."]
    assert DemandPlan.objects.get(pk=plan.pk).actual_qty is None


def test_a_missing_version_is_refused(client, w):
    plan = demand(w)
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "5"})
    assert response.status_code == 200
    assert "expected_version" in response.context["form"].errors
    assert DemandPlan.objects.get(pk=plan.pk).version == 1


def test_adjusting_a_plan_submitted_meanwhile_shows_the_refusal(client, w):
    plan = demand(w)
    services.demand_plan_submit(actor=w.coord, plan=plan)  # the version stays 1: only content makes versions
    login(client, w.demand_planner)
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "5", "expected_version": "1"})
    assert response.status_code == 200
    assert "cannot be edited" in response.content.decode()
    assert DemandPlan.objects.get(pk=plan.pk).adjusted_qty is None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.FINANCE_ANALYST, Role.EXECUTIVE])
def test_roles_that_may_not_edit_are_refused_by_the_server(client, w, role):
    plan = demand(w)
    supply_plan = supply_world.supply(w)
    before, supply_before = stored(plan), stored(supply_plan)
    login(client, w.users[role])
    for target, body in (
        (url("demand_plan_adjust", plan), {"adjusted_qty": "5", "expected_version": "1"}),
        (url("demand_plan_record_actual", plan), {"actual_qty": "5", "expected_version": "1"}),
        (url("supply_plan_adjust", supply_plan), {"planned_prod_qty": "5", "expected_version": "1"}),
        (url("supply_plan_record_actual", supply_plan), {"actual_prod_qty": "5", "expected_version": "1"}),
    ):
        assert client.post(target, body).status_code == 403, (role, target)
        assert client.get(target).status_code == 403, (role, target)
    assert (stored(plan), stored(supply_plan)) == (before, supply_before)


def test_a_demand_planner_cannot_write_supply_quantities(client, w):
    plan = supply_world.supply(w)
    before = stored(plan)
    login(client, w.demand_planner)
    body = {"planned_prod_qty": "5", "expected_version": "1"}
    assert client.post(url("supply_plan_adjust", plan), body).status_code == 403
    assert stored(plan) == before


def test_anonymous_visitors_go_to_the_login_page(client, w):
    plan = demand(w)
    target = url("demand_plan_adjust", plan)
    response = client.post(target, {"adjusted_qty": "5", "expected_version": "1"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.post(reverse("planning:demand_plan_adjust", args=[999999])).status_code == 302


def test_an_unknown_plan_is_the_404_page(client, w):
    login(client, w.demand_planner)
    body = {"adjusted_qty": "5", "expected_version": "1"}
    assert client.post(reverse("planning:demand_plan_adjust", args=[999999]), body).status_code == 404


# The plan page: Adjust and Record actual ------------------------------------------------------------------


def test_the_plan_page_offers_adjust_and_record_actual_and_their_pages_work(client, w):
    plan = demand(w, adjusted_qty=D("90"))
    login(client, w.demand_planner)
    detail = client.get(url("demand_plan_detail", plan)).content.decode()
    assert f'href="{url("demand_plan_adjust", plan)}"' in detail
    assert f'href="{url("demand_plan_record_actual", plan)}"' in detail
    page = client.get(url("demand_plan_adjust", plan))
    html = page.content.decode()
    assert page.context["form"].initial == {"adjusted_qty": D("90"), "expected_version": 1}
    assert "Saving a change makes version 2." in html
    assert_csp_clean(html, url("demand_plan_adjust", plan))
    response = client.post(url("demand_plan_adjust", plan), {"adjusted_qty": "95", "expected_version": "1"})
    assert response["Location"] == url("demand_plan_detail", plan)
    html = client.get(url("demand_plan_record_actual", plan)).content.decode()
    assert "recording it makes no new version" in html
    assert_csp_clean(html, url("demand_plan_record_actual", plan))


def test_adjust_on_an_approved_plan_returns_to_it_with_the_reason(client, w):
    plan = approved(w, demand(w))
    login(client, w.demand_planner)
    detail = client.get(url("demand_plan_detail", plan)).content.decode()
    assert url("demand_plan_adjust", plan) not in detail
    assert url("demand_plan_record_actual", plan) in detail
    response = client.get(url("demand_plan_adjust", plan), follow=True)
    assert response.redirect_chain[-1][0] == url("demand_plan_detail", plan)
    assert "Demand plan SPK-1 Mar 2026 is approved; its adjusted qty cannot be changed now." in messages_of(response)


def test_executive_sees_neither_button_on_the_plan_page(client, w):
    plan = demand(w)
    html = login(client, w.exec).get(url("demand_plan_detail", plan)).content.decode()
    assert url("demand_plan_adjust", plan) not in html
    assert url("demand_plan_record_actual", plan) not in html
