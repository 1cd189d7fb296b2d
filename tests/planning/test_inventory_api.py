"""Inventory API (API-INV-01…04, 22…24): what an integration or the console sees over HTTP."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import events, services
from planning.models import Inventory

pytestmark = pytest.mark.django_db

API = "/api/v1/inventory"
D = Decimal


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    speakers = services.category_create(actor=admin, name="Speakers", parent=audio)
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": speakers,
                                                         "unit_cost": D("10.00")})  # fmt: skip
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden,
                                                       "unit_cost": D("2.50")})  # fmt: skip
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    dc = services.location_create(actor=admin, data={"code": "DC", "name": "Distribution centre"})
    manager = users[Role.INVENTORY_MANAGER]
    return SimpleNamespace(
        users=users, admin=admin, manager=manager, audio=audio, garden=garden, speaker=speaker, mower=mower,
        main=main, dc=dc, api=api_client_for(manager), client_for=api_client_for,
    )  # fmt: skip


def stock(w, product=None, location=None, policy_source="manual", **data):
    data = {"on_hand_qty": D("100"), "safety_stock": D("10"), "reorder_point": D("20"), **data}
    return services.inventory_create(actor=w.admin, product=product or w.speaker, location=location or w.main,
                                     data=data, policy_source=policy_source)  # fmt: skip


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]["code"] == code
    return body["detail"]


def ids(client, query="") -> list[int]:
    response = client.get(f"{API}?{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


# Reads ----------------------------------------------------------------------------------------


def test_detail_answers_the_representation_with_an_etag(w):
    row = stock(w, allocated_qty=D("30"), in_transit_qty=D("5"), max_stock=D("500"))
    response = w.api.get(f"{API}/{row.pk}")
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"1"'
    body = response.json()
    assert (body["product_id"], body["sku"], body["product_name"]) == (w.speaker.pk, "SPK-1", "Speaker")
    assert (body["location"], body["location_name"]) == ("MAIN", "Main plant")
    # available = 100 - 30 = 70; position = 70 + 5 = 75; valuation 100 x 10.00
    assert (body["on_hand_qty"], body["available_qty"], body["inventory_position"]) == ("100.00", "70.00", "75.00")
    assert (body["valuation"], body["status"], body["days_of_supply"]) == ("1000.00", "normal", None)
    assert (body["policy_source"], body["open_exception_count"], body["version"]) == ("manual", 0, 1)
    assert body["max_stock"] == "500.00"


def test_list_orders_by_sku_then_location_and_filters(w):
    spk_main = stock(w)
    spk_dc = stock(w, location=w.dc, on_hand_qty=D("5"))  # available 5 < SS 10: critical
    mow_main = stock(w, product=w.mower, max_stock=D("50"))  # 100 > 50: excess
    assert ids(w.api) == [mow_main.pk, spk_dc.pk, spk_main.pk]  # MOW-1 < SPK-1; DC < MAIN
    assert ids(w.api, f"product_id={w.speaker.pk}") == [spk_dc.pk, spk_main.pk]
    assert ids(w.api, f"category_id={w.audio.pk}") == [spk_dc.pk, spk_main.pk]  # subtree: Speakers is a child
    assert ids(w.api, "location=MAIN") == [mow_main.pk, spk_main.pk]
    assert ids(w.api, "location=MAIN,DC") == [mow_main.pk, spk_dc.pk, spk_main.pk]
    assert ids(w.api, "status=critical,excess") == [mow_main.pk, spk_dc.pk]
    assert ids(w.api, "search=mow") == [mow_main.pk]
    assert ids(w.api, "search=speak") == [spk_dc.pk, spk_main.pk]
    assert ids(w.api, "ordering=-on_hand_qty,sku") == [mow_main.pk, spk_main.pk, spk_dc.pk]
    assert_error(w.api.get(f"{API}?status=bogus"), 400, "INVALID_PARAMETER")
    assert_error(w.api.get(f"{API}?product_id=abc"), 400, "INVALID_PARAMETER")


def test_list_query_count_does_not_grow_with_rows(w):
    def count_queries() -> int:
        client = w.client_for(w.manager)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(API).status_code == 200
        return len(ctx.captured_queries)

    stock(w)
    few = count_queries()
    for n in range(8):
        location = services.location_create(actor=w.admin, data={"code": f"L{n}", "name": f"Store {n}"})
        stock(w, location=location)
        stock(w, product=w.mower, location=location)
    assert count_queries() == few


def test_health_counts_each_status_with_percentages_and_the_total_value(w):
    # 7 rows: 3 normal, 2 low, 1 critical, 1 excess -> 42.857 -> 42.9, 28.571 -> 28.6, 14.286 -> 14.3, 14.3.
    locations = [w.main, w.dc, *[services.location_create(actor=w.admin, data={"code": f"S{n}", "name": f"S{n}"})
                                 for n in range(2)]]  # fmt: skip
    for location in locations[:3]:
        stock(w, location=location)  # normal, 100 x 10.00
    stock(w, location=locations[3], in_transit_qty=D("0"), reorder_point=D("150"))  # low
    stock(w, product=w.mower, location=w.main, reorder_point=D("150"))  # low, 100 x 2.50
    stock(w, product=w.mower, location=w.dc, on_hand_qty=D("4"))  # critical, 4 x 2.50
    stock(w, product=w.mower, location=locations[2], max_stock=D("60"))  # excess
    response = w.api.get(f"{API}/health")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "total_products": 7, "normal_count": 3, "low_count": 2, "critical_count": 1, "excess_count": 1,
        # 4 x 1000.00 + 250.00 + 10.00 + 250.00
        "total_value": "4510.00",
        "normal_pct": "42.9", "low_pct": "28.6", "critical_pct": "14.3", "excess_pct": "14.3",
    }  # fmt: skip


def test_health_is_all_zero_without_rows(w):
    assert w.api.get(f"{API}/health").json() == {
        "total_products": 0, "normal_count": 0, "low_count": 0, "critical_count": 0, "excess_count": 0,
        "total_value": "0.00", "normal_pct": "0.0", "low_pct": "0.0", "critical_pct": "0.0", "excess_pct": "0.0",
    }  # fmt: skip


def test_alerts_list_critical_low_and_excess_rows(w):
    critical = stock(w, on_hand_qty=D("5"))
    low = stock(w, location=w.dc, reorder_point=D("150"))
    excess = stock(w, product=w.mower, max_stock=D("50"))
    stock(w, product=w.mower, location=w.dc)  # normal: not an alert
    body = w.api.get(f"{API}/alerts").json()
    assert [(a["id"], a["sku"], a["location"], a["on_hand_qty"]) for a in body["critical"]] == [
        (critical.pk, "SPK-1", "MAIN", "5.00")
    ]
    assert [a["id"] for a in body["low"]] == [low.pk]
    assert [(a["id"], a["product_id"]) for a in body["excess"]] == [(excess.pk, w.mower.pk)]


def test_snapshots_list_filters_by_product_location_and_period(w):
    stock(w)
    stock(w, location=w.dc)
    services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 1, 1))
    services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 2, 1))
    response = w.api.get(f"{API}/snapshots")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [(s["period"], s["location"]) for s in items] == [
        ("2026-02-01", "DC"), ("2026-02-01", "MAIN"), ("2026-01-01", "DC"), ("2026-01-01", "MAIN"),
    ]  # fmt: skip
    assert items[0]["sku"] == "SPK-1"
    assert items[0]["source"] == "month_close"
    filtered = w.api.get(f"{API}/snapshots?location=MAIN&period_from=2026-02&period_to=2026-02").json()["items"]
    assert [(s["period"], s["location"]) for s in filtered] == [("2026-02-01", "MAIN")]
    assert w.api.get(f"{API}/snapshots?product_id={w.mower.pk}").json()["items"] == []
    assert_error(w.api.get(f"{API}/snapshots?period_from=2026-13"), 400, "INVALID_PARAMETER")


# Update (API-INV-23) --------------------------------------------------------------------------


def test_patch_writes_quantities_recomputes_and_bumps_the_version(w):
    row = stock(w)
    response = w.api.patch(f"{API}/{row.pk}", {"allocated_qty": "95", "last_issue_date": "2026-03-02"},
                           format="json", HTTP_IF_MATCH='W/"1"')  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    # available 100 - 95 = 5 < SS 10: critical
    assert (body["allocated_qty"], body["available_qty"], body["status"]) == ("95.00", "5.00", "critical")
    assert (body["version"], body["last_issue_date"], response["ETag"]) == (2, "2026-03-02", 'W/"2"')
    event = AuditEvent.objects.get(event_type=events.INVENTORY_UPDATED)
    assert (event.actor_id, event.target_id) == (w.manager.pk, str(row.pk))
    assert event.before["status"] == "normal"
    assert event.after["status"] == "critical"


def test_put_is_partial_and_a_policy_change_marks_the_source_manual(w):
    row = stock(w, policy_source="demo")
    assert w.api.get(f"{API}/{row.pk}").json()["policy_source"] == "demo"
    response = w.api.put(f"{API}/{row.pk}", {"reorder_point": "40", "max_stock": None}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["on_hand_qty"], body["reorder_point"], body["max_stock"]) == ("100.00", "40.00", None)
    assert body["policy_source"] == "manual"


@pytest.mark.parametrize("how", ["header", "body"])
def test_a_stale_version_is_409_and_nothing_is_written(w, how):
    row = stock(w)
    services.inventory_update(actor=w.admin, inventory=row, data={"on_hand_qty": D("90")})
    kwargs = {"HTTP_IF_MATCH": 'W/"1"'} if how == "header" else {}
    body = {"on_hand_qty": "10", **({"expected_version": 1} if how == "body" else {})}
    detail = assert_error(w.api.patch(f"{API}/{row.pk}", body, format="json", **kwargs), 409, "STALE_VERSION")
    assert detail["context"] == {"current_version": 2, "expected_version": 1}
    assert Inventory.objects.get(pk=row.pk).on_hand_qty == D("90")


@pytest.mark.parametrize("field", ["status", "valuation", "days_of_supply"])
def test_derived_fields_in_a_body_are_refused(w, field):
    row = stock(w)
    response = w.api.patch(f"{API}/{row.pk}", {"on_hand_qty": "1", field: "5"}, format="json")
    detail = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in detail["fields"]
    assert Inventory.objects.get(pk=row.pk).on_hand_qty == D("100")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"reorder_point": "5"}, "reorder_point"), ({"max_stock": "15"}, "max_stock"),
     ({"safety_stock": "25"}, "reorder_point")],
)  # fmt: skip
def test_policy_levels_out_of_order_are_400_naming_the_field(w, body, field):
    row = stock(w)  # SS 10, ROP 20
    detail = assert_error(w.api.patch(f"{API}/{row.pk}", body, format="json"), 400, "VALIDATION_ERROR")
    assert field in detail["fields"]
    assert Inventory.objects.get(pk=row.pk).version == 1


@pytest.mark.parametrize("body", [{"on_hand_qty": "-1"}, {"on_hand_qty": None}, {"allocated_qty": "abc"},
                                  {"last_receipt_date": "yesterday"}])  # fmt: skip
def test_bad_values_are_400(w, body):
    row = stock(w)
    assert_error(w.api.patch(f"{API}/{row.pk}", body, format="json"), 400, "VALIDATION_ERROR")


# Policy override (API-INV-24) -----------------------------------------------------------------


def test_override_sets_the_policy_and_records_the_reason(w):
    row = stock(w)
    body = {"safety_stock": "30", "reorder_point": "60", "reason": "Promotion in May"}
    response = w.api.put(f"{API}/policies/{row.pk}/override", body, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["safety_stock"], body["reorder_point"], body["policy_source"], body["version"]) == (
        "30.00", "60.00", "override", 2,
    )  # fmt: skip
    event = AuditEvent.objects.get(event_type=events.INVENTORY_POLICY_OVERRIDDEN)
    assert (event.message, event.actor_id, event.target_id) == ("Promotion in May", w.manager.pk, str(row.pk))
    assert (event.before["safety_stock"], event.after["safety_stock"]) == ("10.00", "30.00")


@pytest.mark.parametrize("reason", [None, "", "ab", "x" * 501])
def test_override_without_a_proper_reason_is_400(w, reason):
    row = stock(w)
    body = {"safety_stock": "30", "reorder_point": "60", **({"reason": reason} if reason is not None else {})}
    detail = assert_error(w.api.put(f"{API}/policies/{row.pk}/override", body, format="json"), 400,
                          "VALIDATION_ERROR")  # fmt: skip
    assert "reason" in detail["fields"]
    assert Inventory.objects.get(pk=row.pk).policy_source == "manual"
    assert not AuditEvent.objects.filter(event_type=events.INVENTORY_POLICY_OVERRIDDEN).exists()


def test_override_needs_a_policy_level_and_keeps_the_order(w):
    row = stock(w)
    url = f"{API}/policies/{row.pk}/override"
    assert_error(w.api.put(url, {"reason": "nothing to set"}, format="json"), 400, "VALIDATION_ERROR")
    detail = assert_error(w.api.put(url, {"reorder_point": "5", "reason": "too low"}, format="json"), 400,
                          "VALIDATION_ERROR")  # fmt: skip
    assert "reorder_point" in detail["fields"]
    assert_error(w.api.put(url, {"safety_stock": "1", "reason": "stale", "expected_version": 3}, format="json"),
                 409, "STALE_VERSION")  # fmt: skip


def test_fixed_paths_are_not_read_as_row_ids(w):
    stock(w)
    for path in ("health", "alerts", "snapshots"):
        assert w.api.get(f"{API}/{path}").status_code == 200, path
        assert w.api.get(f"{API}/{path}/").status_code == 200, path
    assert w.api.get(f"{API}/999999").status_code == 404


# Roles and scopes -----------------------------------------------------------------------------


def test_anonymous_is_401_and_roles_without_inventory_access_are_403(w, anon_client):
    row = stock(w)
    assert_error(anon_client.get(API), 401, "AUTHENTICATION_REQUIRED")
    for role in (Role.DEMAND_PLANNER, Role.VIEWER):
        client = w.client_for(w.users[role])
        for url in (API, f"{API}/{row.pk}", f"{API}/health", f"{API}/alerts", f"{API}/snapshots"):
            assert_error(client.get(url), 403, "PERMISSION_DENIED")
    for role in (Role.EXECUTIVE, Role.FINANCE_ANALYST, Role.SOP_COORDINATOR):
        client = w.client_for(w.users[role])
        assert client.get(f"{API}/{row.pk}").status_code == 200
        assert_error(client.patch(f"{API}/{row.pk}", {"on_hand_qty": "1"}, format="json"), 403, "PERMISSION_DENIED")
        assert_error(client.put(f"{API}/policies/{row.pk}/override", {"safety_stock": "1", "reason": "why"},
                                format="json"), 403, "PERMISSION_DENIED")  # fmt: skip
    supply = w.client_for(w.users[Role.SUPPLY_PLANNER])
    assert supply.patch(f"{API}/{row.pk}", {"on_hand_qty": "1"}, format="json").status_code == 200


@pytest.fixture
def scoped(w, make_user, api_client_for):
    def build(access: str):
        user = make_user(Role.INVENTORY_MANAGER)
        user_scopes_set(actor=w.admin, user=user, scopes=[{"type": "location", "id": w.main.pk, "access": access}])
        return api_client_for(user)

    return build


def test_a_location_scoped_manager_sees_and_writes_only_their_location(w, scoped):
    here = stock(w)
    there = stock(w, location=w.dc, on_hand_qty=D("5"))
    services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 1, 1))
    client = scoped("change")
    assert ids(client) == [here.pk]
    assert [s["location"] for s in client.get(f"{API}/snapshots").json()["items"]] == ["MAIN"]
    assert client.get(f"{API}/health").json()["total_products"] == 1
    assert client.get(f"{API}/alerts").json()["critical"] == []  # the critical row lies at DC
    assert_error(client.get(f"{API}/{there.pk}"), 404, "NOT_FOUND")
    assert_error(client.patch(f"{API}/{there.pk}", {"on_hand_qty": "1"}, format="json"), 404, "NOT_FOUND")
    assert_error(client.put(f"{API}/policies/{there.pk}/override", {"safety_stock": "1", "reason": "why"},
                            format="json"), 404, "NOT_FOUND")  # fmt: skip
    assert client.patch(f"{API}/{here.pk}", {"on_hand_qty": "1"}, format="json").status_code == 200
    assert Inventory.objects.get(pk=there.pk).on_hand_qty == D("5")


def test_a_view_scope_reads_but_may_not_write(w, scoped):
    here = stock(w)
    client = scoped("view")
    assert client.get(f"{API}/{here.pk}").status_code == 200
    assert_error(client.patch(f"{API}/{here.pk}", {"on_hand_qty": "1"}, format="json"), 403, "PERMISSION_DENIED")
    assert Inventory.objects.get(pk=here.pk).on_hand_qty == D("100")
