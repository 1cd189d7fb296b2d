"""Production scheduling API (API-PS-01…05): shapes, errors, scope and audit over HTTP."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import services
from planning.models import ProductionSchedule
from tests.planning import supply_world
from tests.planning.supply_world import supply

pytestmark = pytest.mark.django_db

API = "/api/v1/production-scheduling"


@pytest.fixture
def w(users, api_client_for):
    w = supply_world.build(users)
    w.api = api_client_for(w.planner)
    w.exec_api = api_client_for(w.exec)
    w.client_for = api_client_for
    return w


def approved(w, **data):
    plan = supply(w, **data)
    services.supply_plan_submit(actor=w.planner, plan=plan)
    return services.supply_plan_approve(actor=w.exec, plan=plan)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response.json()["detail"]["code"] == code
    return response.json()["detail"]


def post_generate(w, plan, client=None, **body):
    return (client or w.api).post(f"{API}/generate", {"supply_plan_id": plan.pk, **body}, format="json")


def test_generate_with_the_defaults_answers_201_and_the_slots(w):
    plan = approved(w, planned_prod_qty=Decimal("100.01"))
    response = post_generate(w, plan)
    assert response.status_code == 201, response.content
    assert "X-Schedule-Warnings" not in response
    body = response.json()
    # Defaults: WC-1 x Line-1 x Shift-A, Shift-B → two slots; 100.01 / 2 = 50.005 → 50.00 each, one cent over.
    assert [(s["sequence_order"], s["workcenter"], s["line"], s["shift"], s["planned_qty"]) for s in body] == [
        (1, "WC-1", "Line-1", "Shift-A", "50.01"), (2, "WC-1", "Line-1", "Shift-B", "50.00"),
    ]  # fmt: skip
    first = body[0]
    # Shift-A 06:00 UTC on the period date, eight hours by default
    assert (first["planned_start_at"], first["planned_end_at"]) == ("2026-03-01T06:00:00.000000Z",
                                                                    "2026-03-01T14:00:00.000000Z")  # fmt: skip
    assert (first["supply_plan_id"], first["sku"], first["product_name"], first["location"], first["period"],
            first["status"], first["created_by_name"], first["released_by"]) == (
        plan.pk, "SPK-1", "Speaker", "PLANT-A", "2026-03-01", "draft", w.planner.full_name, None)  # fmt: skip
    assert first["allowed_actions"] == ["release", "resequence"]
    assert first["allowed_statuses"] == ["released"]
    events = AuditEvent.objects.filter(event_type="planning.production_schedule.generated")
    assert sorted(int(e.target_id) for e in events) == sorted(s["id"] for s in body)
    assert set(events.values_list("source", flat=True)) == {"api"}


def test_generate_reports_an_unknown_shift_in_a_header(w):
    plan = approved(w)
    response = post_generate(w, plan, workcenters=[" WC-1 ", "WC-1"], lines=["L1"], shifts=["Shift-C", "Late"],
                             duration_hours_per_slot=2)  # fmt: skip
    assert response.status_code == 201, response.content
    warning = "Late is not in the shift calendar; its slots start at 06:00."
    assert json.loads(response["X-Schedule-Warnings"]) == [warning]
    # Shift-C 22:00 + 2 h ends at midnight; the unknown shift starts at 06:00 on the same (first) day
    assert [(s["shift"], s["planned_start_at"], s["planned_end_at"]) for s in response.json()] == [
        ("Shift-C", "2026-03-01T22:00:00.000000Z", "2026-03-02T00:00:00.000000Z"),
        ("Late", "2026-03-01T06:00:00.000000Z", "2026-03-01T08:00:00.000000Z"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [({"workcenters": [" ", ""]}, "workcenters"), ({"lines": []}, "lines"), ({"shifts": ["  "]}, "shifts"),
     ({"duration_hours_per_slot": 25}, "duration_hours_per_slot"),
     ({"duration_hours_per_slot": 0}, "duration_hours_per_slot"), ({"supply_plan_id": None}, "supply_plan_id"),
     ({"supply_plan_id": 999999}, "supply_plan_id"), ({"workcenters": "WC-1"}, "workcenters")],
)  # fmt: skip
def test_generate_bad_bodies_are_400(w, body, field):
    plan = approved(w)
    detail = assert_error(post_generate(w, plan, **body), 400, "VALIDATION_ERROR")
    assert field in detail["fields"]
    assert not ProductionSchedule.objects.exists()


def test_generate_without_planned_quantity_is_400_and_an_unapproved_plan_409(w):
    empty = approved(w, planned_prod_qty=None)
    detail = assert_error(post_generate(w, empty), 400, "VALIDATION_ERROR")
    assert "no planned quantity" in detail["message"]
    draft = supply(w, product=w.radio)
    detail = assert_error(post_generate(w, draft), 409, "BUSINESS_RULE_VIOLATION")
    assert detail["context"]["current_status"] == "draft"
    assert not ProductionSchedule.objects.exists()


def test_regeneration_after_work_started_is_409_in_use(w):
    plan = approved(w)
    slot_id = post_generate(w, plan).json()[0]["id"]
    for status in ("released", "in_progress"):
        assert w.api.patch(f"{API}/schedules/{slot_id}/status", {"status": status}, format="json").status_code == 200
    detail = assert_error(post_generate(w, plan, workcenters=["WC-7"]), 409, "IN_USE")
    assert detail["context"] == {"started_slot_ids": [slot_id]}
    assert set(ProductionSchedule.objects.values_list("workcenter", flat=True)) == {"WC-1"}


def test_role_gates(w, anon_client):
    plan = approved(w)
    assert_error(anon_client.get(f"{API}/schedules"), 401, "AUTHENTICATION_REQUIRED")
    assert_error(post_generate(w, plan, client=w.exec_api), 403, "PERMISSION_DENIED")
    for role in (Role.VIEWER, Role.DEMAND_PLANNER, Role.FINANCE_ANALYST, Role.INVENTORY_MANAGER):
        client = w.client_for(w.users[role])
        assert_error(client.get(f"{API}/schedules"), 403, "PERMISSION_DENIED")
        assert_error(client.get(f"{API}/capacity-summary", {"supply_plan_id": plan.pk}), 403, "PERMISSION_DENIED")
    assert w.exec_api.get(f"{API}/schedules/").status_code == 200


def test_list_filters_order_and_scope(w, make_user):
    plan = approved(w)
    post_generate(w, plan, workcenters=["WC-1", "WC-2"])
    mower = approved(w, product=w.mower)
    post_generate(w, mower, shifts=["Shift-C"])
    body = w.exec_api.get(f"{API}/schedules").json()
    # period, then each plan's sequence; the speaker plan was made first
    assert [(s["supply_plan_id"], s["sequence_order"]) for s in body] == [
        (plan.pk, 1), (plan.pk, 2), (plan.pk, 3), (plan.pk, 4), (mower.pk, 1),
    ]  # fmt: skip
    assert body[0]["allowed_actions"] == ["release"]  # executives set statuses but do not resequence
    listed = w.api.get(f"{API}/schedules", {"workcenter": "WC-2", "shift": "Shift-A,Shift-C"}).json()
    assert [(s["workcenter"], s["shift"]) for s in listed] == [("WC-2", "Shift-A")]
    assert len(w.api.get(f"{API}/schedules", {"period": "2026-03", "product_id": w.mower.pk}).json()) == 1
    assert len(w.api.get(f"{API}/schedules", {"supply_plan_id": plan.pk, "status": "draft"}).json()) == 4
    assert_error(w.api.get(f"{API}/schedules", {"status": "done"}), 400, "INVALID_PARAMETER")
    assert_error(w.api.get(f"{API}/schedules", {"period": "soon"}), 400, "INVALID_PARAMETER")
    # A planner scoped to Garden sees only the mower's slot, and the speaker's is 404 to them
    scoped = make_user(Role.SUPPLY_PLANNER)
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.garden.pk, "access": "change"}])
    client = w.client_for(scoped)
    assert [s["supply_plan_id"] for s in client.get(f"{API}/schedules").json()] == [mower.pk]
    speaker_slot = ProductionSchedule.objects.filter(supply_plan=plan).first()
    assert_error(client.patch(f"{API}/schedules/{speaker_slot.pk}/status", {"status": "released"}, format="json"),
                 404, "NOT_FOUND")  # fmt: skip
    assert_error(client.post(f"{API}/schedules/{speaker_slot.pk}/resequence", {"direction": "up"}, format="json"),
                 404, "NOT_FOUND")  # fmt: skip
    assert_error(client.get(f"{API}/capacity-summary", {"supply_plan_id": plan.pk}), 404, "NOT_FOUND")
    assert_error(post_generate(w, plan, client=client), 400, "VALIDATION_ERROR")


def test_list_query_count_does_not_grow_with_the_slots(w):
    plan = approved(w)
    post_generate(w, plan, workcenters=["WC-1"], shifts=["Shift-A"])
    w.exec_api.get(f"{API}/schedules")  # warm the caches of the token and permissions
    with CaptureQueriesContext(connection) as one:
        assert len(w.exec_api.get(f"{API}/schedules").json()) == 1
    post_generate(w, plan, workcenters=["WC-1", "WC-2", "WC-3"], lines=["L1", "L2"])
    with CaptureQueriesContext(connection) as twelve:
        assert len(w.exec_api.get(f"{API}/schedules").json()) == 12
    assert len(twelve.captured_queries) == len(one.captured_queries)


def test_status_endpoint_moves_along_the_map_and_refuses_other_moves(w):
    plan = approved(w)
    slot_id = post_generate(w, plan).json()[0]["id"]
    url = f"{API}/schedules/{slot_id}/status"
    response = w.exec_api.patch(url, {"status": "released"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["released_by"], body["released_by_name"], body["allowed_statuses"]) == (
        "released", w.exec.pk, w.exec.full_name, ["draft", "in_progress"])  # fmt: skip
    assert body["released_at"].endswith("Z")
    detail = assert_error(w.api.patch(url + "/", {"status": "completed"}, format="json"), 409,
                          "INVALID_STATE_TRANSITION")  # fmt: skip
    assert detail["context"] == {"current_status": "released", "action": "complete",
                                 "allowed_actions": ["start", "unrelease"]}  # fmt: skip
    assert_error(w.api.patch(url, {"status": "paused"}, format="json"), 400, "VALIDATION_ERROR")
    assert_error(w.api.patch(url, {}, format="json"), 400, "VALIDATION_ERROR")
    assert_error(w.api.patch(f"{API}/schedules/999999/status", {"status": "draft"}, format="json"), 404, "NOT_FOUND")
    released = AuditEvent.objects.get(event_type="planning.production_schedule.released", target_id=str(slot_id))
    assert (released.actor_id, released.before["status"], released.after["status"]) == (w.exec.pk, "draft",
                                                                                       "released")  # fmt: skip


def test_resequence_answers_the_whole_plan_in_order(w):
    plan = approved(w)
    slots = post_generate(w, plan, workcenters=["WC-1", "WC-2"]).json()
    response = w.api.post(f"{API}/schedules/{slots[3]['id']}/resequence", {"direction": "up"}, format="json")
    assert response.status_code == 200, response.content
    assert [(s["id"], s["sequence_order"]) for s in response.json()] == [
        (slots[0]["id"], 1), (slots[1]["id"], 2), (slots[3]["id"], 3), (slots[2]["id"], 4),
    ]  # fmt: skip
    assert AuditEvent.objects.filter(event_type="planning.production_schedule.resequenced").count() == 2
    # At the top nothing moves and nothing is written
    response = w.api.post(f"{API}/schedules/{slots[0]['id']}/resequence/", {"direction": "up"}, format="json")
    assert [s["sequence_order"] for s in response.json()] == [1, 2, 3, 4]
    assert AuditEvent.objects.filter(event_type="planning.production_schedule.resequenced").count() == 2
    w.api.patch(f"{API}/schedules/{slots[1]['id']}/status", {"status": "released"}, format="json")
    w.api.patch(f"{API}/schedules/{slots[1]['id']}/status", {"status": "in_progress"}, format="json")
    detail = assert_error(w.api.post(f"{API}/schedules/{slots[1]['id']}/resequence", {"direction": "down"},
                                     format="json"), 409, "INVALID_STATE_TRANSITION")  # fmt: skip
    assert detail["context"]["current_status"] == "in_progress"
    assert_error(w.api.post(f"{API}/schedules/{slots[0]['id']}/resequence", {"direction": "left"}, format="json"),
                 400, "VALIDATION_ERROR")  # fmt: skip
    assert_error(w.exec_api.post(f"{API}/schedules/{slots[0]['id']}/resequence", {"direction": "down"},
                                 format="json"), 403, "PERMISSION_DENIED")  # fmt: skip


def test_capacity_summary(w):
    # 120.00 planned over capacity 100.00 → 120.00 %, overloaded; two slots of 60.00
    plan = approved(w, planned_prod_qty=Decimal("120"), capacity_max=Decimal("100"))
    post_generate(w, plan)
    response = w.exec_api.get(f"{API}/capacity-summary/", {"supply_plan_id": plan.pk})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "supply_plan_id": plan.pk, "slot_count": 2, "planned_total_qty": "120.00", "capacity_max_qty": "100.00",
        "utilization_pct": "120.00", "overloaded": True,
        "groups": [
            {"workcenter": "WC-1", "line": "Line-1", "shift": "Shift-A", "slot_count": 1, "total_planned_qty": "60.00"},
            {"workcenter": "WC-1", "line": "Line-1", "shift": "Shift-B", "slot_count": 1, "total_planned_qty": "60.00"},
        ],
    }  # fmt: skip
    assert_error(w.api.get(f"{API}/capacity-summary"), 400, "INVALID_PARAMETER")
    assert_error(w.api.get(f"{API}/capacity-summary", {"supply_plan_id": "abc"}), 400, "INVALID_PARAMETER")
    assert_error(w.api.get(f"{API}/capacity-summary", {"supply_plan_id": 999999}), 404, "NOT_FOUND")
