"""The Inventory console (UI-08 overview and stock): health cards, alerts, the stock grid, the row page
with its history, the edit and override forms, over the same selectors and services as the API."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import events, services
from planning.models import Inventory
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

LIST = reverse("planning:inventory_list")
D = Decimal


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio,
                                                         "unit_cost": D("10.00")})  # fmt: skip
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden,
                                                       "unit_cost": D("2.50")})  # fmt: skip
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    dc = services.location_create(actor=admin, data={"code": "DC", "name": "Distribution centre"})
    return SimpleNamespace(admin=admin, users=users, manager=users[Role.INVENTORY_MANAGER], speaker=speaker,
                           mower=mower, main=main, dc=dc, audio=audio, garden=garden)  # fmt: skip


def stock(w, product=None, location=None, **data):
    data = {"on_hand_qty": D("100"), "safety_stock": D("10"), "reorder_point": D("20"), **data}
    return services.inventory_create(actor=w.admin, product=product or w.speaker, location=location or w.main,
                                     data=data)  # fmt: skip


def url(name, row):
    return reverse(f"planning:{name}", args=[row.pk])


def login(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Access -------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={LIST}"


@pytest.mark.parametrize("role", [Role.DEMAND_PLANNER, Role.VIEWER])
def test_roles_without_inventory_access_get_403_everywhere(client, w, role):
    row = stock(w)
    login(client, w.users[role])
    for target in (LIST, url("inventory_detail", row), url("inventory_edit", row), url("inventory_override", row)):
        response = client.get(target)
        assert response.status_code == 403, target
        assert b"Access denied. Insufficient permissions." in response.content
    assert client.post(url("inventory_edit", row), {"on_hand_qty": "1"}).status_code == 403
    assert "Inventory" not in [item["label"] for item in client.get("/").context["nav_items"]]


def test_read_only_roles_see_no_write_actions_and_cannot_open_the_forms(client, w):
    row = stock(w)
    login(client, w.users[Role.FINANCE_ANALYST])
    html = client.get(LIST).content.decode()
    assert "SPK-1" in html
    assert url("inventory_edit", row) not in html
    assert url("inventory_override", row) not in html
    detail = client.get(url("inventory_detail", row)).content.decode()
    assert "Edit quantities" not in detail
    assert "Override policy" not in detail
    assert client.get(url("inventory_edit", row)).status_code == 403
    body = {"safety_stock": "1", "reorder_point": "2", "reason": "why", "expected_version": 1}
    assert client.post(url("inventory_override", row), body).status_code == 403
    assert Inventory.objects.get(pk=row.pk).version == 1


def test_writers_see_the_actions(client, w):
    row = stock(w)
    for role in (Role.INVENTORY_MANAGER, Role.SUPPLY_PLANNER, Role.ADMIN):
        login(client, w.users[role])
        html = client.get(LIST).content.decode()
        assert url("inventory_edit", row) in html, role
        assert url("inventory_override", row) in html, role


# The list: health, alerts, grid -----------------------------------------------------------------


def test_list_shows_health_cards_with_counts_percentages_and_value(client, w):
    stock(w)  # normal, 100 x 10.00
    stock(w, location=w.dc, on_hand_qty=D("5"))  # critical, 5 x 10.00
    stock(w, product=w.mower, max_stock=D("50"))  # excess, 100 x 2.50
    login(client, w.manager)
    response = client.get(LIST)
    assert response.status_code == 200
    health = response.context["health"]
    assert (health["total_products"], health["normal_count"], health["critical_count"], health["excess_count"]) == (
        3, 1, 1, 1,
    )  # fmt: skip
    html = response.content.decode()
    # 1000 + 50 + 250 = 1 300.00 in the installation currency; 1 of 3 rows = 33.3 %.
    assert 'stat-card__value">$1,300</span>' in html  # whole currency units on the summary card
    assert "33.3% of rows" in html
    assert "0.0% of rows" in html  # low


def test_alerts_panel_links_to_the_rows(client, w):
    critical = stock(w, on_hand_qty=D("5"))
    low = stock(w, location=w.dc, reorder_point=D("150"))
    normal = stock(w, product=w.mower)
    login(client, w.manager)
    response = client.get(LIST)
    alerts = {status: [a["id"] for a in rows] for status, _, rows, _ in response.context["alerts"]}
    assert alerts == {"critical": [critical.pk], "low": [low.pk], "excess": []}
    html = response.content.decode()
    panel = html[html.index('id="inventory-alerts"') :]
    assert url("inventory_detail", critical) in panel
    assert url("inventory_detail", low) in panel
    assert "No excess stock." in panel
    assert f'href="{url("inventory_detail", normal)}"' not in panel.split("</section>")[0]


def test_alerts_panel_shows_the_first_ten_and_links_to_all(client, w):
    for n in range(11):
        location = services.location_create(actor=w.admin, data={"code": f"S{n:02d}", "name": f"Store {n}"})
        stock(w, location=location, on_hand_qty=D("1"))
    login(client, w.manager)
    response = client.get(LIST)
    critical = next(item for item in response.context["alerts"] if item[0] == "critical")
    assert (len(critical[2]), critical[3]) == (10, 11)
    assert "All 11 critical rows" in response.content.decode()


def test_grid_filters_and_colours_statuses(client, w):
    critical = stock(w, on_hand_qty=D("5"))
    dc = stock(w, location=w.dc)
    mower = stock(w, product=w.mower)
    login(client, w.manager)

    def shown(query):
        return [item["row"].pk for item in client.get(LIST + query).context["rows"]]

    assert shown("") == [mower.pk, dc.pk, critical.pk]
    assert shown("?status=critical") == [critical.pk]
    assert shown("?location=DC") == [dc.pk]
    assert shown(f"?category_id={w.garden.pk}") == [mower.pk]
    assert shown("?search=speak") == [dc.pk, critical.pk]
    html = client.get(LIST).content.decode()
    assert 'class="badge badge--stock-critical">Critical' in html
    assert 'class="badge badge--stock-normal">Normal' in html
    response = client.get(LIST + "?status=bogus")
    assert response.status_code == 200
    assert response.context["filter_error"]


def test_grid_query_count_does_not_grow_with_rows(client, w):
    login(client, w.manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    stock(w)
    few = queries()
    for n in range(6):
        location = services.location_create(actor=w.admin, data={"code": f"S{n}", "name": f"Store {n}"})
        stock(w, location=location)
        stock(w, product=w.mower, location=location, on_hand_qty=D("1"))
    assert queries() == few


# Detail and history ------------------------------------------------------------------------------


def test_detail_shows_quantities_derived_values_policy_and_history(client, w):
    row = stock(w, allocated_qty=D("30"), in_transit_qty=D("5"))
    services.inventory_policy_override(actor=w.manager, inventory=row, data={"safety_stock": D("15")},
                                       reason="Supplier strike")  # fmt: skip
    login(client, w.manager)
    html = client.get(url("inventory_detail", row)).content.decode()
    assert "Main plant" in html
    assert "70.00" in html  # available 100 - 30
    assert "75.00" in html  # position 70 + 5
    assert "$1,000.00" in html
    assert "(no demand signal)" in html
    assert 'id="policy-source">Override' in html
    history = client.get(url("inventory_detail", row) + "?tab=history")
    assert history.status_code == 200
    text = history.content.decode()
    assert "Policy overridden" in text
    assert "Supplier strike" in text
    assert "Created" in text


def test_a_row_outside_the_location_scope_is_404_and_a_view_scope_cannot_edit(client, w, make_user):
    here = stock(w)
    there = stock(w, location=w.dc)
    user = make_user(Role.INVENTORY_MANAGER)
    user_scopes_set(actor=w.admin, user=user, scopes=[{"type": "location", "id": w.main.pk, "access": "view"}])
    login(client, user)
    response = client.get(LIST)
    assert [item["row"].pk for item in response.context["rows"]] == [here.pk]
    assert url("inventory_edit", here) not in response.content.decode()
    assert client.get(url("inventory_detail", there)).status_code == 404
    assert client.get(url("inventory_edit", there)).status_code == 404
    assert client.get(url("inventory_edit", here)).status_code == 403
    body = {"on_hand_qty": "1", "allocated_qty": "0", "in_transit_qty": "0", "safety_stock": "0",
            "reorder_point": "0", "expected_version": 1}  # fmt: skip
    assert client.post(url("inventory_edit", here), body).status_code == 403
    assert Inventory.objects.get(pk=here.pk).on_hand_qty == D("100")


# Edit ------------------------------------------------------------------------------------------


def form_body(row, **changes):
    body = {"on_hand_qty": row.on_hand_qty, "allocated_qty": row.allocated_qty, "in_transit_qty": row.in_transit_qty,
            "safety_stock": row.safety_stock, "reorder_point": row.reorder_point, "max_stock": row.max_stock or "",
            "last_receipt_date": "", "last_issue_date": "", "expected_version": row.version}  # fmt: skip
    return {**body, **changes}


def test_edit_saves_recomputes_and_audits(client, w):
    row = stock(w)
    login(client, w.manager)
    page = client.get(url("inventory_edit", row))
    assert page.status_code == 200
    assert page.context["form"].initial["expected_version"] == 1
    response = client.post(url("inventory_edit", row), form_body(row, allocated_qty="95",
                                                                 last_receipt_date="2026-03-01"))  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == url("inventory_detail", row)
    saved = Inventory.objects.get(pk=row.pk)
    assert (saved.allocated_qty, saved.status, saved.version) == (D("95"), "critical", 2)
    assert str(saved.last_receipt_date) == "2026-03-01"
    event = AuditEvent.objects.get(event_type=events.INVENTORY_UPDATED)
    assert (event.actor_id, event.source) == (w.manager.pk, "ui")
    followed = client.get(response["Location"])
    assert "Inventory SPK-1 at MAIN saved." in messages_of(followed)


def test_a_stale_edit_shows_a_message_and_writes_nothing(client, w):
    row = stock(w)
    login(client, w.manager)
    services.inventory_update(actor=w.admin, inventory=row, data={"on_hand_qty": D("90")})
    response = client.post(url("inventory_edit", row), form_body(row, on_hand_qty="1", expected_version=1))
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    saved = Inventory.objects.get(pk=row.pk)
    assert (saved.on_hand_qty, saved.version) == (D("90"), 2)
    assert AuditEvent.objects.filter(event_type=events.INVENTORY_UPDATED).count() == 1


def test_policy_levels_out_of_order_are_shown_on_the_field(client, w):
    row = stock(w)
    login(client, w.manager)
    response = client.post(url("inventory_edit", row), form_body(row, reorder_point="5"))
    assert response.status_code == 200
    assert response.context["form"].errors["reorder_point"] == ["The reorder point cannot be below the safety stock."]
    assert Inventory.objects.get(pk=row.pk).version == 1


# Override ----------------------------------------------------------------------------------------


def test_override_requires_a_reason(client, w):
    row = stock(w)
    login(client, w.manager)
    body = {"safety_stock": "30", "reorder_point": "60", "max_stock": "", "reason": "", "expected_version": 1}
    response = client.post(url("inventory_override", row), body)
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert Inventory.objects.get(pk=row.pk).policy_source == "manual"


def test_override_sets_the_policy_with_the_reason_in_the_history(client, w):
    row = stock(w)
    login(client, w.manager)
    assert client.get(url("inventory_override", row)).context["form"].initial["safety_stock"] == D("10")
    body = {"safety_stock": "30", "reorder_point": "60", "max_stock": "", "reason": "Promotion in May",
            "expected_version": 1}  # fmt: skip
    response = client.post(url("inventory_override", row), body)
    assert response.status_code == 302
    saved = Inventory.objects.get(pk=row.pk)
    assert (saved.safety_stock, saved.reorder_point, saved.policy_source) == (D("30"), D("60"), "override")
    event = AuditEvent.objects.get(event_type=events.INVENTORY_POLICY_OVERRIDDEN)
    assert (event.message, event.actor_id) == ("Promotion in May", w.manager.pk)


# CSP ---------------------------------------------------------------------------------------------


def test_inventory_pages_have_no_inline_script_or_style(client, w):
    row = stock(w, on_hand_qty=D("5"))
    services.inventory_update(actor=w.admin, inventory=row, data={"on_hand_qty": D("6")})
    login(client, w.admin)
    for target in (LIST, LIST + "?status=critical&location=MAIN", url("inventory_detail", row),
                   url("inventory_detail", row) + "?tab=history", url("inventory_edit", row),
                   url("inventory_override", row)):  # fmt: skip
        response = client.get(target)
        assert response.status_code == 200, target
        assert_csp_clean(response.content.decode(), target)


# Django admin ------------------------------------------------------------------------------------


def test_admin_lists_rows_and_saves_changes_through_the_service(client, w):
    row = stock(w)
    services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 1, 1))
    login(client, w.admin)
    assert client.get(reverse("admin:planning_inventory_changelist")).status_code == 200
    assert client.get(reverse("admin:planning_inventorysnapshot_changelist")).status_code == 200
    change = reverse("admin:planning_inventory_change", args=[row.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()  # derived: shown, never an input
    body = {"on_hand_qty": "100", "allocated_qty": "95", "in_transit_qty": "0", "last_receipt_date": "",
            "last_issue_date": "", "safety_stock": "10", "reorder_point": "20", "max_stock": ""}  # fmt: skip
    assert client.post(change, body).status_code == 302
    saved = Inventory.objects.get(pk=row.pk)
    assert (saved.allocated_qty, saved.status, saved.version) == (D("95"), "critical", 2)
    assert AuditEvent.objects.get(event_type=events.INVENTORY_UPDATED).source == "admin"
