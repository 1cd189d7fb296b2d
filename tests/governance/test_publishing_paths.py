"""No publish path skips the gate (GOV-63 "no code path…", GOV-67): the API, the console, the management
command, the ERP per-plan endpoint and the Django admin; the API and console pages of publications."""

import io

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from openpyxl import load_workbook

from governance.choices import Role
from governance.models import Publication, ReadinessEvaluation
from planning.choices import PlanStatus
from planning.models import DemandPlan, OutboundMessage, SupplyPlan
from tests.governance.test_publishing_world import make_world, publish

pytestmark = pytest.mark.django_db

API = "/api/v1/governance/publications"
JUSTIFICATION = "Late draft row is agreed in the executive meeting"


@pytest.fixture
def world(users, api_client_for):
    w = make_world(users)
    w.api = {role: api_client_for(users[role]) for role in (Role.SOP_COORDINATOR, Role.EXECUTIVE, Role.VIEWER,
                                                             Role.DEMAND_PLANNER, Role.ADMIN)}  # fmt: skip
    return w


def no_go(world):
    return world.demand_row(world.product, world.periods[1], region="West", status="draft")


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_gate_held():
    """After every refused path: the evaluations are kept, nothing is locked or published."""
    assert Publication.objects.count() == 0
    assert not DemandPlan.objects.filter(status=PlanStatus.LOCKED).exists()
    assert not SupplyPlan.objects.filter(status=PlanStatus.LOCKED).exists()
    assert OutboundMessage.objects.count() == 0


@pytest.fixture(autouse=True)
def _gate_validated_invariant():
    """GOV-67 after every path exercised here: each publication references the non-dry-run evaluation made
    in its own transaction (the SLI "publish actions with enforced gate validation" stays at 100 %)."""
    yield
    for publication in Publication.objects.select_related("evaluation"):
        evaluation = publication.evaluation
        assert evaluation.dry_run is False, publication.version_stamp
        assert evaluation.lane == publication.lane
        assert evaluation.created_at <= publication.published_at
        assert (evaluation.outcome == "go") == (publication.outcome == "go")


# API (API-GOV-13) ---------------------------------------------------------------------------------


def test_api_publish_refuses_a_no_go_with_the_evaluation_in_context(world):
    no_go(world)
    response = world.api[Role.SOP_COORDINATOR].post(API, {"lane": "monthly"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "PUBLISH_GATE_FAILED"
    context = response.json()["detail"]["context"]
    assert "plans_approved" in context["failed_gates"]
    assert ReadinessEvaluation.objects.filter(evaluation_id=context["evaluation_id"], dry_run=False).exists()
    assert_gate_held()


def test_api_override_by_a_non_approver_is_403(world):
    no_go(world)
    response = world.api[Role.SOP_COORDINATOR].post(API, {"lane": "monthly", "override": {
        "justification": JUSTIFICATION}}, format="json")  # fmt: skip
    assert response.status_code == 403
    assert world.api[Role.DEMAND_PLANNER].post(API, {"lane": "monthly"}, format="json").status_code == 403
    assert_gate_held()
    assert ReadinessEvaluation.objects.count() == 0


def test_api_publish_go_and_override(world):
    response = world.api[Role.SOP_COORDINATOR].post(API, {"lane": "monthly"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version_stamp"] == f"M-{world.periods[0]:%Y%m}-v1"
    assert (body["outcome"], body["status"], body["item_count"]) == ("go", "published", 14)
    assert body["evaluation"]["dry_run"] is False
    assert body["evaluation_id"] == body["evaluation"]["evaluation_id"]
    no_go(world)
    short = world.api[Role.EXECUTIVE].post(API, {"lane": "monthly", "override": {"justification": "short"}},
                                           format="json")  # fmt: skip
    assert short.status_code == 400
    response = world.api[Role.EXECUTIVE].post(API, {"lane": "monthly", "override": {
        "justification": JUSTIFICATION}}, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["outcome"] == "no_go_overridden"
    assert response.json()["override_by"] == world.executive.pk


def test_api_stale_evaluation_is_409(world):
    seen = world.api[Role.SOP_COORDINATOR].post("/api/v1/governance/publish/readiness", {"lane": "monthly"},
                                                format="json")  # fmt: skip
    evaluation_id = ReadinessEvaluation.objects.latest("created_at").evaluation_id
    assert seen.status_code in (200, 201), seen.content
    DemandPlan.objects.filter(pk=world.demand[world.periods[3]].pk).update(version=5)
    response = world.api[Role.SOP_COORDINATOR].post(API, {"lane": "monthly", "evaluation_id": str(evaluation_id)},
                                                    format="json")  # fmt: skip
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "STALE_EVALUATION"
    assert_gate_held()


def test_api_reads_list_detail_diff_export_and_rollback(world):
    first = publish(world)
    plan = world.demand[world.periods[-1]]
    DemandPlan.objects.filter(pk=plan.pk).update(status="approved", forecast_qty=150, version=2,
                                                 locked_by_publication=None)  # fmt: skip
    second = publish(world, actor=world.executive)
    api = world.api[Role.VIEWER]
    assert api.get(API).status_code == 403  # viewers do not read publications (NV)
    api = world.api[Role.DEMAND_PLANNER]
    listed = api.get(API, {"lane": "monthly", "status": "published,superseded"}).json()
    assert [p["version_stamp"] for p in listed["items"]] == [second.version_stamp, first.version_stamp]
    assert api.get(API, {"status": "rolled_back"}).json()["total"] == 0
    assert api.get(API, {"lane": "daily"}).status_code == 400
    detail = api.get(f"{API}/{second.pk}").json()
    assert detail["items"] is None
    assert detail["allowed_actions"] == []
    with_items = api.get(f"{API}/{second.pk}/", {"include_items": "true"}).json()
    assert len(with_items["items"]) == second.item_count
    diff = api.get(f"{API}/{second.pk}/diff").json()
    changed = [d for d in diff if d["plan_id"] == plan.pk]
    assert {(d["field"], d["before"], d["after"]) for d in changed} >= {("forecast_qty", "100.00", "150.00")}
    assert all(d["product"] == "A-100" for d in diff)
    against = api.get(f"{API}/{first.pk}/diff", {"against": second.pk}).json()
    assert {(d["field"], d["before"], d["after"]) for d in against if d["plan_id"] == plan.pk} >= {
        ("forecast_qty", "150.00", "100.00")}  # fmt: skip
    csv = api.get(f"{API}/{second.pk}/export")
    assert csv.status_code == 200
    text = b"".join(csv.streaming_content).decode()
    assert text.splitlines()[0].startswith("version_stamp,plan_type,plan_id")
    assert len(text.strip().splitlines()) == second.item_count + 1
    xlsx = api.get(f"{API}/{second.pk}/export", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.max_row == second.item_count + 1
    executive = world.api[Role.EXECUTIVE]
    assert executive.get(f"{API}/{second.pk}").json()["allowed_actions"] == ["rollback"]
    assert executive.post(f"{API}/{second.pk}/rollback", {"reason": "short"}, format="json").status_code == 400
    assert world.api[Role.SOP_COORDINATOR].post(f"{API}/{second.pk}/rollback", {"reason": "The ERP refused it"},
                                                format="json").status_code == 403  # fmt: skip
    refused = executive.post(f"{API}/{first.pk}/rollback", {"reason": "The ERP refused it"}, format="json")
    assert refused.status_code == 409
    response = executive.post(f"{API}/{second.pk}/rollback", {"reason": "The ERP refused it"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rolled_back"]["status"], body["restored"]["version_stamp"]) == ("rolled_back", first.version_stamp)
    assert {"plan_type": "demand", "plan_id": plan.pk} in [
        {"plan_type": p["plan_type"], "plan_id": p["plan_id"]} for p in body["restored_plans"]]  # fmt: skip


# Console (UI-12) ----------------------------------------------------------------------------------


def test_console_publish_page_check_and_refused_publish(world):
    no_go(world)
    client = console(world.executive)
    page = client.get("/publish/")
    assert page.status_code == 200
    assert b"Monthly lane" in page.content
    assert b"Check readiness" in page.content
    checked = client.post("/publish/check/", {"lane": "monthly"})
    assert checked.status_code == 200
    assert b"plans_approved" in checked.content
    assert b"Publish with override" in checked.content
    evaluation = ReadinessEvaluation.objects.filter(dry_run=True).latest("created_at")
    refused = client.post("/publish/publish/", {"lane": "monthly", "evaluation_id": str(evaluation.evaluation_id)})
    assert refused.status_code == 409
    assert b"Not published" in refused.content
    assert_gate_held()
    short = client.post("/publish/publish/", {"lane": "monthly", "override": "1", "justification": "short"})
    assert short.status_code == 302
    assert_gate_held()
    done = client.post("/publish/publish/", {"lane": "monthly", "override": "1", "justification": JUSTIFICATION})
    assert done.status_code == 302
    publication = Publication.objects.get()
    assert publication.outcome == "no_go_overridden"
    assert done["Location"] == f"/publish/{publication.pk}/"


def test_console_coordinator_sees_no_override_and_cannot_force_one(world):
    no_go(world)
    client = console(world.coordinator)
    checked = client.post("/publish/check/", {"lane": "monthly"})
    assert b"Publish with override" not in checked.content
    assert b"Only an approver" in checked.content
    response = client.post("/publish/publish/", {"lane": "monthly", "override": "1", "justification": JUSTIFICATION})
    assert response.status_code == 403
    assert_gate_held()
    assert console(world.users[Role.VIEWER]).get("/publish/").status_code == 403


def test_console_go_publish_view_download_and_rollback(world):
    client = console(world.coordinator)
    evaluation_page = client.post("/publish/check/", {"lane": "monthly"})
    assert b"Publish monthly" in evaluation_page.content
    done = client.post("/publish/publish/", {"lane": "monthly"})
    assert done.status_code == 302
    publication = Publication.objects.get()
    detail = client.get(f"/publish/{publication.pk}/")
    assert publication.version_stamp.encode() in detail.content
    assert b"Roll back" not in detail.content  # a coordinator does not roll back
    download = client.get(f"/publish/{publication.pk}/download/?format=csv")
    assert download.status_code == 200
    executive = console(world.executive)
    assert b"Roll back" in executive.get(f"/publish/{publication.pk}/").content
    unconfirmed = executive.post(f"/publish/{publication.pk}/rollback/", {"reason": "The ERP refused it"})
    assert unconfirmed.status_code == 302
    assert Publication.objects.get().status == "published"
    executive.post(f"/publish/{publication.pk}/rollback/", {"reason": "The ERP refused it", "confirm": "1"})
    assert Publication.objects.get().status == "rolled_back"
    page = client.get("/publish/")
    assert b"Rolled back" in page.content


# Management command ---------------------------------------------------------------------------------


def test_the_command_is_gated_too(world):
    no_go(world)
    with pytest.raises(CommandError, match="PUBLISH_GATE_FAILED"):
        call_command("publish_plans", "--lane", "monthly", "--actor", world.coordinator.email)
    with pytest.raises(CommandError, match="PERMISSION_DENIED"):
        call_command("publish_plans", "--lane", "monthly", "--actor", world.coordinator.email,
                     "--override-justification", JUSTIFICATION)  # fmt: skip
    with pytest.raises(CommandError, match="VALIDATION_ERROR"):
        call_command("publish_plans", "--lane", "monthly", "--actor", world.executive.email,
                     "--override-justification", "short")  # fmt: skip
    assert_gate_held()
    out = io.StringIO()
    call_command("publish_plans", "--lane", "monthly", "--actor", world.executive.email,
                 "--period-from", f"{world.periods[0]:%Y-%m}", "--override-justification", JUSTIFICATION,
                 stdout=out)  # fmt: skip
    publication = Publication.objects.get()
    assert publication.version_stamp in out.getvalue()
    assert publication.evaluation.dry_run is False
    event = publication.evaluation
    assert event.outcome == "no_go"


# ERP per-plan endpoint and the Django admin ---------------------------------------------------------


def test_the_erp_endpoint_refuses_an_approved_but_unpublished_plan(world, api_client_for):
    erp = api_client_for(world.coordinator, scopes=["integrations:write"])
    plan = world.demand[world.periods[0]]
    response = erp.post(f"/api/v1/integrations/erp/publish/demand-plan/{plan.pk}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "NOT_PUBLISHED"
    publication = publish(world)
    response = erp.post(f"/api/v1/integrations/erp/publish/demand-plan/{plan.pk}")
    assert response.status_code == 200
    assert response.json()["version_stamp"] == publication.version_stamp


def test_the_admin_cannot_add_publications_and_no_admin_action_locks_plans(world):
    from governance.models import PublicationItem

    request = RequestFactory().get("/admin/")
    request.user = world.admin
    for model in (Publication, PublicationItem):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.get_actions(request)
    for model in (DemandPlan, SupplyPlan):
        if model in admin.site._registry:
            names = " ".join(admin.site._registry[model].get_actions(request))
            assert "lock" not in names
            assert "publish" not in names
    client = console(world.admin)
    assert client.get("/admin/governance/publication/add/").status_code == 403
    publication = publish(world)
    assert client.get(f"/admin/governance/publication/{publication.pk}/change/").status_code == 200
    assert client.post(f"/admin/governance/publication/{publication.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Publication.objects.filter(pk=publication.pk).exists()
