"""The S&OP cycle API (API-SOP-01…11): representations, errors, roles and the audit rows of its writes."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from governance.choices import Role
from governance.models import AuditEvent, Decision, SopCycle, SopCycleStep
from governance.services import cycles
from governance.services.action_items import action_item_create
from governance.services.decisions import decision_record
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
PERIOD = date(2031, 3, 1)
JUSTIFICATION = "Executive agreed to go on with partial data."


@pytest.fixture
def api(users, api_client_for):
    clients = {}

    def get(role):
        if role not in clients:
            clients[role] = api_client_for(users[role])
        return clients[role]

    return get


@pytest.fixture
def cycle(users):
    coord = users[Role.SOP_COORDINATOR]
    owners = {
        1: coord,
        2: users[Role.DEMAND_PLANNER],
        3: users[Role.SUPPLY_PLANNER],
        4: coord,
        5: users[Role.EXECUTIVE],
    }
    return cycles.cycle_create(
        actor=coord, data={"period": PERIOD, "steps": {n: {"owner": u} for n, u in owners.items()}}
    )


def test_create_answers_201_with_the_full_representation(users, api):
    coord, planner = users[Role.SOP_COORDINATOR], users[Role.DEMAND_PLANNER]
    body = {
        "period": "2031-05-14",
        "step_2_owner_id": planner.pk,
        "step_1_owner_id": coord.pk,
        "step_3_due_date": "2031-05-20",
        "notes": "First cycle",
    }
    response = api(Role.SOP_COORDINATOR).post(f"{API}/sop-cycles", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["cycle_name"] == "May 2031 S&OP Cycle"
    assert data["period"] == "2031-05-01"
    assert data["current_step"] == 1
    assert data["overall_status"] == "active"
    assert data["step_1_status"] == "in_progress"
    assert data["step_2_status"] == "pending"
    assert data["step_1_due_date"] == "2031-05-06"
    assert data["step_3_due_date"] == "2031-05-20"
    assert data["step_5_due_date"] == "2031-05-26"
    assert data["step_2_owner_id"] == planner.pk
    assert data["step_4_owner_id"] is None
    assert [s["step"] for s in data["steps"]] == [1, 2, 3, 4, 5]
    step2 = data["steps"][1]
    assert step2["name"] == "Demand Review"
    assert step2["owner_name"] == planner.full_name
    assert step2["overdue"] is False
    assert data["decisions"] == ""
    assert data["action_items"] == ""
    assert data["decision_count"] == 0
    assert data["open_action_items"] == 0
    assert data["allowed_actions"] == ["edit", "advance", "cancel"]
    assert AuditEvent.objects.filter(event_type="governance.sop_cycle.created", target_id=str(data["id"])).exists()
    again = api(Role.SOP_COORDINATOR).post(f"{API}/sop-cycles/", {"period": "2031-05-01"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "DUPLICATE_ENTITY"


def test_create_refuses_other_roles_and_bad_owners(users, api):
    response = api(Role.EXECUTIVE).post(f"{API}/sop-cycles", {"period": "2031-05-01"}, format="json")
    assert response.status_code == 403
    response = api(Role.SOP_COORDINATOR).post(
        f"{API}/sop-cycles", {"period": "2031-05-01", "step_2_owner_id": users[Role.VIEWER].pk}, format="json"
    )
    assert response.status_code == 400
    assert "step_2_owner_id" in response.json()["detail"]["fields"]
    response = api(Role.SOP_COORDINATOR).post(
        f"{API}/sop-cycles", {"period": "2031-05-01", "step_2_owner_id": 999999}, format="json"
    )
    assert response.status_code == 400
    assert not SopCycle.objects.exists()


def test_list_detail_and_active(cycle, users, api):
    decision_record(actor=users[Role.EXECUTIVE], cycle=cycle, data={"title": "Hold prices", "category": "financial"})
    action_item_create(
        actor=users[Role.SOP_COORDINATOR],
        cycle=cycle,
        data={"title": "Call supplier", "owner": users[Role.SUPPLY_PLANNER], "due_date": date(2031, 3, 20)},
    )
    listing = api(Role.FINANCE_ANALYST).get(f"{API}/sop-cycles")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["items"]] == [cycle.pk]
    assert listing.json()["items"][0]["allowed_actions"] == []
    assert api(Role.VIEWER).get(f"{API}/sop-cycles").status_code == 403
    assert api(Role.FINANCE_ANALYST).get(f"{API}/sop-cycles?overall_status=completed").json()["items"] == []
    detail = api(Role.EXECUTIVE).get(f"{API}/sop-cycles/{cycle.pk}/").json()
    assert detail["decision_count"] == 1
    assert detail["open_action_items"] == 1
    assert detail["decisions"].startswith(f"- Hold prices ({users[Role.EXECUTIVE].full_name}, ")
    assert detail["action_items"] == (
        f"- [open] Call supplier — {users[Role.SUPPLY_PLANNER].full_name}, due 2031-03-20"
    )
    assert detail["allowed_actions"] == ["advance_override", "skip_step"]
    active = api(Role.DEMAND_PLANNER).get(f"{API}/sop-cycles/active").json()
    assert active["active"] is True
    assert active["id"] == cycle.pk
    cycles.cycle_cancel(actor=users[Role.SOP_COORDINATOR], cycle=cycle, reason="Not needed")
    assert api(Role.DEMAND_PLANNER).get(f"{API}/sop-cycles/active").json() == {
        "active": False,
        "message": "No S&OP cycle is active.",
    }
    assert api(Role.DEMAND_PLANNER).get(f"{API}/sop-cycles/999999").status_code == 404


def test_patch_edits_and_legacy_text_and_locked_cycles_answer_409(cycle, users, api):
    client = api(Role.SOP_COORDINATOR)
    finance = users[Role.FINANCE_ANALYST]
    body = {
        "cycle_name": "March review",
        "step_4_owner_id": finance.pk,
        "step_4_due_date": "2031-03-21",
        "decisions": "Keep safety stock\n",
        "action_items": "- Review gaps",
    }
    response = client.patch(f"{API}/sop-cycles/{cycle.pk}", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["cycle_name"] == "March review"
    assert data["step_4_owner_id"] == finance.pk
    assert data["step_4_due_date"] == "2031-03-21"
    assert data["decision_count"] == 1
    assert data["open_action_items"] == 1
    assert api(Role.EXECUTIVE).patch(f"{API}/sop-cycles/{cycle.pk}", {"notes": "x"}, format="json").status_code == 403
    bad = client.put(f"{API}/sop-cycles/{cycle.pk}", {"overall_status": "completed"}, format="json")
    assert bad.status_code == 400
    client.post(f"{API}/sop-cycles/{cycle.pk}/cancel", {"reason": "Replaced"}, format="json")
    locked = client.patch(f"{API}/sop-cycles/{cycle.pk}", {"notes": "late"}, format="json")
    assert locked.status_code == 409
    assert locked.json()["error"]["code"] == "ENTITY_LOCKED"
    assert Decision.objects.filter(cycle=cycle).count() == 1


def test_gates_answer_the_checks_and_advance_refuses_with_gate_failed(cycle, api):
    product = ProductFactory(sku="GATE-1")
    response = api(Role.VIEWER).get(f"{API}/sop-cycles/{cycle.pk}/gates")
    assert response.status_code == 403
    data = api(Role.FINANCE_ANALYST).get(f"{API}/sop-cycles/{cycle.pk}/gates").json()
    assert data["step"] == 1
    assert data["passed"] is False
    forecast = next(c for c in data["checks"] if c["check"] == "forecast_coverage")
    assert set(forecast) == {"check", "passed", "value", "threshold", "detail", "evidence"}
    assert forecast["evidence"] == [product.sku]
    step2 = api(Role.FINANCE_ANALYST).get(f"{API}/sop-cycles/{cycle.pk}/gates?step=2").json()
    assert step2["step"] == 2
    assert "GATE-1" in next(c for c in step2["checks"] if c["check"] == "demand_plan_coverage")["detail"]
    assert api(Role.FINANCE_ANALYST).get(f"{API}/sop-cycles/{cycle.pk}/gates?step=9").status_code == 400
    refused = api(Role.SOP_COORDINATOR).post(f"{API}/sop-cycles/{cycle.pk}/advance", {}, format="json")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "GATE_FAILED"
    assert {c["check"] for c in error["details"]["checks"]} == {
        "actuals_coverage",
        "inventory_freshness",
        "forecast_coverage",
    }
    assert "warnings" in error["details"]
    assert SopCycle.objects.get(pk=cycle.pk).current_step == 1


def test_advance_with_override_needs_exec_and_a_long_justification(cycle, api, users):
    ProductFactory()
    coord = api(Role.SOP_COORDINATOR)
    override = {"override": {"justification": JUSTIFICATION}}
    assert coord.post(f"{API}/sop-cycles/{cycle.pk}/advance", override, format="json").status_code == 403
    short = api(Role.EXECUTIVE).post(
        f"{API}/sop-cycles/{cycle.pk}/advance", {"override": {"justification": "short"}}, format="json"
    )
    assert short.status_code == 400
    response = api(Role.EXECUTIVE).post(f"{API}/sop-cycles/{cycle.pk}/advance", override, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["current_step"] == 2
    assert data["step_1_status"] == "completed"
    assert data["steps"][0]["gate_result"]["passed"] is False
    assert data["steps"][1]["status"] == "in_progress"
    event = AuditEvent.objects.get(event_type="governance.sop_cycle.advanced", target_id=str(cycle.pk))
    assert event.metadata["override_justification"] == JUSTIFICATION


def test_skip_complete_and_cancel_rules(cycle, api):
    exec_ = api(Role.EXECUTIVE)
    assert (
        api(Role.SOP_COORDINATOR)
        .post(f"{API}/sop-cycles/{cycle.pk}/skip-step", {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    assert exec_.post(f"{API}/sop-cycles/{cycle.pk}/skip-step", {}, format="json").status_code == 400
    early = exec_.post(f"{API}/sop-cycles/{cycle.pk}/complete", {}, format="json")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "INVALID_STATE_TRANSITION"
    for _ in range(4):
        response = exec_.post(f"{API}/sop-cycles/{cycle.pk}/skip-step", {"reason": "Fast track"}, format="json")
        assert response.status_code == 200
    assert response.json()["current_step"] == 5
    at_five = api(Role.SOP_COORDINATOR).post(f"{API}/sop-cycles/{cycle.pk}/advance", {}, format="json")
    assert at_five.status_code == 409
    assert at_five.json()["error"]["code"] == "INVALID_STATE_TRANSITION"
    assert "use complete" in at_five.json()["error"]["message"]
    failing = exec_.post(f"{API}/sop-cycles/{cycle.pk}/complete", {}, format="json")
    assert failing.status_code == 409
    assert failing.json()["error"]["code"] == "GATE_FAILED"
    done = exec_.post(
        f"{API}/sop-cycles/{cycle.pk}/complete", {"override": {"justification": JUSTIFICATION}}, format="json"
    )
    assert done.status_code == 200
    assert done.json()["overall_status"] == "completed"
    assert done.json()["allowed_actions"] == []
    cancel = api(Role.SOP_COORDINATOR).post(f"{API}/sop-cycles/{cycle.pk}/cancel", {"reason": "x"}, format="json")
    assert cancel.status_code == 409
    events = set(
        AuditEvent.objects.filter(target_id=str(cycle.pk), target_type="sop_cycle").values_list("event_type", flat=True)
    )
    assert {"governance.sop_cycle.step_skipped", "governance.sop_cycle.completed"} <= events


def test_step_patch_by_coord_and_by_the_owner(cycle, users, api):
    response = api(Role.SOP_COORDINATOR).patch(
        f"{API}/sop-cycles/{cycle.pk}/steps/1", {"notes": "Collect", "due_date": "2031-03-04"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "Collect"
    assert response.json()["due_date"] == "2031-03-04"
    assert response.json()["allowed_actions"] == ["edit", "edit_notes"]
    owner = api(Role.DEMAND_PLANNER)
    assert (
        owner.patch(f"{API}/sop-cycles/{cycle.pk}/steps/2", {"due_date": "2031-03-09"}, format="json").status_code
        == 403
    )
    assert (
        api(Role.FINANCE_ANALYST)
        .patch(f"{API}/sop-cycles/{cycle.pk}/steps/2", {"notes": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        owner.patch(f"{API}/sop-cycles/{cycle.pk}/steps/2", {"status": "in_progress"}, format="json").status_code == 409
    )
    cycles.cycle_advance(actor=users[Role.SOP_COORDINATOR], cycle=cycle)  # the empty database passes step 1
    response = owner.patch(f"{API}/sop-cycles/{cycle.pk}/steps/2", {"notes": "Reviewing"}, format="json")
    assert response.status_code == 200
    assert response.json()["notes"] == "Reviewing"
    assert api(Role.SOP_COORDINATOR).patch(f"{API}/sop-cycles/{cycle.pk}/steps/7", {}, format="json").status_code == 400
    updated = AuditEvent.objects.filter(event_type="governance.sop_cycle_step.updated").count()
    assert updated == 2


def test_overdue_steps_are_flagged(cycle, api):
    SopCycleStep.objects.filter(cycle=cycle, step_number=1).update(due_date=timezone.localdate() - timedelta(days=1))
    data = api(Role.EXECUTIVE).get(f"{API}/sop-cycles/{cycle.pk}").json()
    assert data["steps"][0]["overdue"] is True
    assert data["steps"][1]["overdue"] is False
    assert data["overdue_steps"] == [1]
