"""WF-30 scenario lifecycle through the API: transitions, illegal moves, segregation of duties, the
operating-plan flag, deletion rules, scope rules (ACC-13), notifications, comments and audit rows."""

from datetime import date

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance.choices import CommentKind, NotificationKind, Role
from governance.models import AuditEvent, Comment, Decision, Notification, Publication, ReadinessEvaluation
from governance.services import user_create
from governance.services.scopes import user_scopes_set
from planning import events
from planning.models import Scenario
from planning.services import scenarios as svc
from tests.planning.test_scenarios_world import audio_scope, build_world

pytestmark = pytest.mark.django_db
API = "/api/v1/scenarios"


@pytest.fixture
def w(users):
    return build_world(users)


def client(user) -> APIClient:
    c = APIClient()
    c.force_login(user)
    return c


def audit_types(scenario_id) -> list[str]:
    return list(AuditEvent.objects.filter(target_type="scenario", target_id=str(scenario_id))
                .order_by("id").values_list("event_type", flat=True))  # fmt: skip


def submitted(w, *, by=None, name="Holiday", period="2026-03", **params):
    by = by or w.demand
    scenario = svc.scenario_create(actor=by, data={"name": name, "parameters": {"period": period, **params}})
    scenario = svc.scenario_run(actor=by, scenario=scenario)
    return svc.scenario_submit(actor=by, scenario=scenario)


def approved(w, **kwargs):
    return svc.scenario_approve(actor=w.exec, scenario=submitted(w, **kwargs))


def test_the_whole_lifecycle_through_the_api_with_audit_rows(w):
    planner, executive = client(w.demand), client(w.exec)
    # Create with the `assumptions` alias and a type alias.
    response = planner.post(
        API,
        {
            "name": "Holiday promotion",
            "scenario_type": "optimistic",
            "assumptions": {"period": "2026-03", "demand_change_pct": 12},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    sid = body["id"]
    assert body["status"] == "draft"
    assert body["scenario_type"] == "best_case"
    assert body["scenario_type_display"] == "Best case"
    assert body["parameters"] == {"period": "2026-03-01", "demand_change_pct": 12}
    assert body["period"] == "2026-03-01"
    assert body["results"] is None
    assert body["created_by_name"] == w.demand.full_name
    assert set(body["allowed_actions"]) == {"edit", "run", "clone", "delete"}

    response = planner.post(f"{API}/{sid}/run")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed"
    assert isinstance(body["results"], dict)
    assert body["results"]["baseline"]["demand_qty"] == 210
    assert body["revenue_impact"] is not None
    assert "submit" in body["allowed_actions"]

    response = planner.post(f"{API}/{sid}/submit", {"comment": "Ready for review"}, format="json")
    assert response.json()["status"] == "submitted"
    # The approvers are told; the submitter is not.
    notified = set(Notification.objects.filter(kind=NotificationKind.APPROVAL_REQUEST, entity_id=str(sid))
                   .values_list("recipient__role", flat=True))  # fmt: skip
    assert notified == {Role.ADMIN, Role.EXECUTIVE}

    response = executive.post(f"{API}/{sid}/approve", {"comments": "Go"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["approved_by_name"] == w.exec.full_name
    assert Comment.objects.get(entity_type="scenario", entity_id=str(sid), kind=CommentKind.APPROVAL).content == "Go"

    response = executive.post(f"{API}/{sid}/designate-operating-plan", {"comment": "March plan"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["is_operating_plan"] is True
    assert svc.operating_plan_scenario(date(2026, 3, 1)).pk == sid
    decision = Decision.objects.get(related_type="scenario", related_id=str(sid))
    assert decision.category == "scenario"

    response = executive.post(f"{API}/{sid}/undesignate-operating-plan")
    assert response.status_code == 200
    assert response.json()["is_operating_plan"] is False
    assert svc.operating_plan_scenario(date(2026, 3, 1)) is None

    response = planner.post(f"{API}/{sid}/clone", {}, format="json")
    assert response.status_code == 201
    copy = response.json()
    assert copy["name"] == "Holiday promotion (copy)"
    assert copy["status"] == "draft"
    assert copy["cloned_from_id"] == sid
    assert copy["parameters"] == {"period": "2026-03-01", "demand_change_pct": 12}

    assert audit_types(sid) == [
        events.SCENARIO_CREATED, events.SCENARIO_RUN, events.SCENARIO_SUBMITTED, events.SCENARIO_APPROVED,
        events.SCENARIO_DESIGNATED, events.SCENARIO_UNDESIGNATED,
    ]  # fmt: skip
    assert audit_types(copy["id"]) == [events.SCENARIO_CLONED]


def test_reject_notifies_the_submitter_and_reopen_clears_results(w):
    scenario = submitted(w)
    response = client(w.exec).post(f"{API}/{scenario.pk}/reject", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert Comment.objects.get(entity_type="scenario", entity_id=str(scenario.pk),
                               kind=CommentKind.REJECTION).content == "Rejected"  # fmt: skip
    note = Notification.objects.get(kind=NotificationKind.APPROVAL_DECISION, entity_id=str(scenario.pk))
    assert note.recipient == w.demand
    response = client(w.demand).post(f"{API}/{scenario.pk}/reopen")
    body = response.json()
    assert body["status"] == "draft"
    assert body["results"] is None
    assert body["revenue_impact"] is None
    assert audit_types(scenario.pk)[-2:] == [events.SCENARIO_REJECTED, events.SCENARIO_REOPENED]


@pytest.mark.parametrize(("setup", "action", "role"), [
    ("draft", "submit", Role.DEMAND_PLANNER),
    ("draft", "approve", Role.EXECUTIVE),
    ("draft", "reopen", Role.DEMAND_PLANNER),
    ("completed", "approve", Role.EXECUTIVE),
    ("submitted", "run", Role.DEMAND_PLANNER),
    ("submitted", "reopen", Role.DEMAND_PLANNER),
    ("approved", "run", Role.DEMAND_PLANNER),
    ("approved", "reject", Role.EXECUTIVE),
    ("approved", "undesignate-operating-plan", Role.EXECUTIVE),
    ("rejected", "submit", Role.DEMAND_PLANNER),
])  # fmt: skip
def test_illegal_transitions_are_409_with_the_allowed_actions(w, setup, action, role):
    scenario = svc.scenario_create(actor=w.demand, data={"name": "S", "parameters": {"period": "2026-03"}})
    if setup != "draft":
        scenario = svc.scenario_run(actor=w.demand, scenario=scenario)
    if setup in ("submitted", "approved", "rejected"):
        scenario = svc.scenario_submit(actor=w.demand, scenario=scenario)
    if setup == "approved":
        scenario = svc.scenario_approve(actor=w.exec, scenario=scenario)
    if setup == "rejected":
        scenario = svc.scenario_reject(actor=w.exec, scenario=scenario)
    before = audit_types(scenario.pk)
    response = client(w.users[role]).post(f"{API}/{scenario.pk}/{action}", {}, format="json")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "INVALID_STATE_TRANSITION"
    assert error["details"]["current_status"] == setup
    assert isinstance(error["details"]["allowed_actions"], list)
    assert audit_types(scenario.pk) == before


def test_approved_scenarios_are_immutable(w):
    scenario = approved(w)
    planner = client(w.demand)
    response = planner.patch(f"{API}/{scenario.pk}", {"description": "changed"}, format="json")
    assert response.status_code == 409
    assert planner.delete(f"{API}/{scenario.pk}").status_code == 409
    scenario.refresh_from_db()
    assert scenario.description == ""


def test_segregation_of_duties_refuses_self_approval(w, settings):
    scenario = submitted(w, by=w.admin)
    response = client(w.admin).post(f"{API}/{scenario.pk}/approve", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "SELF_APPROVAL_FORBIDDEN"
    assert "approve" not in client(w.admin).get(f"{API}/{scenario.pk}").json()["allowed_actions"]
    settings.ENFORCE_SEGREGATION_OF_DUTIES = False
    response = client(w.admin).post(f"{API}/{scenario.pk}/approve", {}, format="json")
    assert response.status_code == 200
    event = AuditEvent.objects.get(event_type=events.SCENARIO_APPROVED, target_id=str(scenario.pk))
    assert event.metadata["self_approved"] is True


def test_designating_clears_the_flag_of_the_other_scenario_of_the_period(w):
    first = approved(w, name="First")
    second = approved(w, name="Second")
    other_month = approved(w, name="April", period="2026-04")
    svc.scenario_designate_operating_plan(actor=w.exec, scenario=first)
    svc.scenario_designate_operating_plan(actor=w.exec, scenario=other_month)
    response = client(w.exec).post(f"{API}/{second.pk}/designate-operating-plan", {}, format="json")
    assert response.status_code == 200
    flags = dict(Scenario.objects.values_list("name", "is_operating_plan"))
    assert flags == {"First": False, "Second": True, "April": True}
    assert audit_types(first.pk)[-1] == events.SCENARIO_UNDESIGNATED
    assert Decision.objects.filter(category="scenario").count() == 3


def _publication(w, scenario, status="published"):
    evaluation = ReadinessEvaluation.objects.create(
        lane="monthly", period_from=date(2026, 3, 1), period_to=date(2026, 8, 1), outcome="go", score=4,
        required_score=3, plan_fingerprint="f" * 64)  # fmt: skip
    return Publication.objects.create(
        version_stamp=f"M-{scenario.pk}-{status}", lane="monthly", period_from=date(2026, 3, 1),
        period_to=date(2026, 8, 1), evaluation=evaluation, outcome="go", operating_plan_scenario=scenario,
        status=status, published_by=w.exec, published_at=timezone.now(), snapshot_sha256="0" * 64)  # fmt: skip


def test_undesignating_the_operating_plan_of_a_current_publication_is_in_use(w):
    scenario = svc.scenario_designate_operating_plan(actor=w.exec, scenario=approved(w))
    _publication(w, scenario)
    response = client(w.exec).post(f"{API}/{scenario.pk}/undesignate-operating-plan")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IN_USE"
    scenario.refresh_from_db()
    assert scenario.is_operating_plan is True


def test_a_run_records_the_publication_in_force(w):
    scenario = svc.scenario_designate_operating_plan(actor=w.exec, scenario=approved(w))
    publication = _publication(w, scenario)
    draft = svc.scenario_create(actor=w.demand, data={"name": "Next", "parameters": {"period": "2026-03"}})
    draft = svc.scenario_run(actor=w.demand, scenario=draft)
    assert draft.base_publication == publication


def test_delete_draft_and_rejected_only_and_never_a_referenced_one(w):
    planner = client(w.demand)
    draft = svc.scenario_create(actor=w.demand, data={"name": "Draft"})
    assert planner.delete(f"{API}/{draft.pk}").status_code == 204
    assert not Scenario.objects.filter(pk=draft.pk).exists()
    assert audit_types(draft.pk) == [events.SCENARIO_CREATED, events.SCENARIO_DELETED]

    completed = svc.scenario_run(actor=w.demand, scenario=svc.scenario_create(actor=w.demand, data={"name": "C"}))
    assert planner.delete(f"{API}/{completed.pk}").status_code == 409

    rejected = svc.scenario_reject(actor=w.exec, scenario=submitted(w, name="R"))
    _publication(w, rejected, status="superseded")
    response = planner.delete(f"{API}/{rejected.pk}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IN_USE"


def test_edit_returns_to_draft_clears_results_and_type_changes_only_in_draft(w):
    planner = client(w.demand)
    scenario = svc.scenario_run(actor=w.demand, scenario=svc.scenario_create(actor=w.demand, data={
        "name": "E", "parameters": {"period": "2026-03"}}))  # fmt: skip
    response = planner.patch(f"{API}/{scenario.pk}", {"scenario_type": "stress_test"}, format="json")
    assert response.status_code == 409
    response = planner.put(f"{API}/{scenario.pk}", {"parameters": {"period": "2026-03", "price_change_pct": 3}},
                           format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["results"] is None
    assert body["margin_impact"] is None
    assert body["parameters"] == {"period": "2026-03-01", "price_change_pct": 3}
    response = planner.patch(f"{API}/{scenario.pk}", {"scenario_type": "pessimistic"}, format="json")
    assert response.json()["scenario_type"] == "worst_case"
    assert audit_types(scenario.pk)[-2:] == [events.SCENARIO_UPDATED, events.SCENARIO_UPDATED]


@pytest.mark.parametrize("body", [
    {"name": "X", "scenario_type": "fantasy"},
    {"name": "X", "parameters": {"demand_change_pct": 501}},
    {"name": "X", "parameters": {"inventory_release_pct": -101}},
    {"name": "X", "parameters": {"turbo": 1}},
    {"name": "X", "parameters": {"period": "March"}},
    {"name": "X", "scope": {"category_ids": [999999]}},
    {"name": ""},
])  # fmt: skip
def test_create_refuses_bad_input_with_400(w, body):
    response = client(w.demand).post(API, body, format="json")
    assert response.status_code == 400, response.content
    assert not Scenario.objects.exists()


def test_roles_without_scenario_access_get_403(w):
    assert client(w.inventory).get(API).status_code == 403
    assert client(w.viewer).get(API).status_code == 403
    assert client(w.exec).post(API, {"name": "X"}, format="json").status_code == 403
    scenario = submitted(w)
    assert client(w.finance).post(f"{API}/{scenario.pk}/approve", {}, format="json").status_code == 403


@pytest.fixture
def scoped_planner(w):
    user = user_create(actor=w.admin, email="audio.planner@example.test", full_name="Audio Planner",
                       role=Role.DEMAND_PLANNER)  # fmt: skip
    user_scopes_set(actor=w.admin, user=user, scopes=[{"type": "category", "id": w.audio.pk, "access": "change"}])
    return user


def test_scope_rules_for_a_scoped_planner(w, scoped_planner):
    planner = client(scoped_planner)
    # Naming no scope gives their own; one outside it is 403.
    response = planner.post(API, {"name": "Mine", "parameters": {"period": "2026-03"}}, format="json")
    assert response.status_code == 201, response.content
    mine = response.json()
    assert mine["scope"] == {"category_ids": [w.audio.pk]}
    response = planner.post(API, {"name": "Garden", "scope": {"category_ids": [w.garden.pk]}}, format="json")
    assert response.status_code == 403
    # The run is computed over the scope: Audio only (demand 200, not 210).
    response = planner.post(f"{API}/{mine['id']}/run")
    assert response.status_code == 200
    assert response.json()["results"]["baseline"]["demand_qty"] == 200
    # Company-wide and Garden scenarios are invisible to them; they cannot run them either.
    company = svc.scenario_create(actor=w.admin, data={"name": "Company"})
    garden = svc.scenario_create(actor=w.admin, data={"name": "Garden", "scope": {"category_ids": [w.garden.pk]}})
    audio = svc.scenario_create(actor=w.admin, data={"name": "Audio", "scope": audio_scope(w)})
    names = [s["name"] for s in planner.get(API).json()["items"]]
    assert sorted(names) == ["Audio", "Mine"]
    assert planner.get(f"{API}/{company.pk}").status_code == 404
    assert planner.post(f"{API}/{garden.pk}/run").status_code == 404
    assert planner.post(f"{API}/{audio.pk}/run").status_code == 200
    # An unscoped scenario can only be run by unscoped users (ACC-13), even through the service.
    from genxsop.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        svc.scenario_run(actor=scoped_planner, scenario=company)
    # Unscoped users see everything.
    assert len(client(w.finance).get(API).json()["items"]) == 4


def test_list_filters_and_order(w):
    first = svc.scenario_create(actor=w.demand, data={"name": "One", "scenario_type": "baseline",
                                                      "parameters": {"period": "2026-03"}})  # fmt: skip
    svc.scenario_create(actor=w.demand, data={"name": "Two", "parameters": {"period": "2026-04"}})
    svc.scenario_run(actor=w.demand, scenario=first)
    reader = client(w.finance)
    assert [s["name"] for s in reader.get(API).json()["items"]] == ["Two", "One"]
    assert [s["name"] for s in reader.get(f"{API}?status=completed").json()["items"]] == ["One"]
    assert [s["name"] for s in reader.get(f"{API}?scenario_type=base").json()["items"]] == ["One"]
    assert [s["name"] for s in reader.get(f"{API}?period=2026-04").json()["items"]] == ["Two"]
    assert len(reader.get(f"{API}?is_operating_plan=false").json()["items"]) == 2
    assert reader.get(f"{API}?status=nope").status_code == 400
