"""Bulk transitions (WF-13, API-DEM-14, API-SUP-13): each id in its own transaction, its own result."""

from decimal import Decimal

import pytest

from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import services
from planning.choices import PlanStatus
from planning.models import DemandPlan, SupplyPlan
from tests.planning import supply_world
from tests.planning.supply_world import APRIL, MARCH, demand, supply

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(users, api_client_for):
    w = supply_world.build(users)
    w.client_for = api_client_for
    return w


def test_supply_bulk_submit_reports_each_id(w, make_user):
    scoped = make_user("supply_planner")
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.audio.pk, "access": "change"}])
    ok = supply(w)
    also_ok = supply(w, period=APRIL)
    submitted = supply(w, location=w.dc)
    services.supply_plan_submit(actor=w.planner, plan=submitted)
    outside = supply(w, product=w.mower)  # Garden: outside the scoped planner's categories

    response = w.client_for(scoped).post("/api/v1/supply/plans/bulk/submit",
                                         {"ids": [ok.pk, submitted.pk, outside.pk, also_ok.pk, ok.pk]},
                                         format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (2, 2)
    by_id = {r["id"]: r for r in body["results"]}
    assert [r["id"] for r in body["results"]] == [ok.pk, submitted.pk, outside.pk, also_ok.pk]  # duplicates once
    assert by_id[ok.pk] == {"id": ok.pk, "ok": True, "status": "submitted"}
    assert by_id[submitted.pk]["error"]["code"] == "INVALID_STATE_TRANSITION"
    assert by_id[outside.pk]["error"]["code"] == "NOT_FOUND"
    statuses = dict(SupplyPlan.objects.values_list("pk", "status"))
    assert (statuses[ok.pk], statuses[also_ok.pk], statuses[outside.pk]) == ("submitted", "submitted", "draft")
    assert AuditEvent.objects.filter(event_type="planning.supply_plan.submitted", actor=scoped).count() == 2


def test_demand_bulk_approve_and_reject_by_the_executive(w):
    a = demand(w)
    b = demand(w, period=APRIL)
    draft = demand(w, product=w.mower)
    for plan in (a, b):
        services.demand_plan_submit(actor=w.planner, plan=plan)
    api = w.client_for(w.exec)
    body = api.post("/api/v1/demand/plans/bulk/approve", {"ids": [a.pk, draft.pk], "comments": "OK"},
                    format="json").json()  # fmt: skip
    assert (body["succeeded"], body["failed"]) == (1, 1)
    assert body["results"][1]["error"]["code"] == "INVALID_STATE_TRANSITION"
    body = api.post("/api/v1/demand/plans/bulk/reject", {"ids": [b.pk], "comment": "Too high"}, format="json").json()
    assert body == {"results": [{"id": b.pk, "ok": True, "status": "rejected"}], "succeeded": 1, "failed": 0}
    assert DemandPlan.objects.get(pk=a.pk).status == PlanStatus.APPROVED
    assert AuditEvent.objects.get(event_type="planning.demand_plan.rejected").message == "Too high"


def test_the_role_gate_is_the_actions_own(w):
    plan = supply(w)
    planner, executive = w.client_for(w.planner), w.client_for(w.exec)
    assert executive.post("/api/v1/supply/plans/bulk/submit", {"ids": [plan.pk]}, format="json").status_code == 403
    assert planner.post("/api/v1/supply/plans/bulk/approve", {"ids": [plan.pk]}, format="json").status_code == 403
    assert planner.post("/api/v1/supply/plans/bulk/withdraw", {"ids": [plan.pk]}, format="json").status_code == 200
    reader = w.client_for(w.finance)
    assert reader.post("/api/v1/demand/plans/bulk/submit", {"ids": [1]}, format="json").status_code == 403
    assert SupplyPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [("bulk/submit", {"ids": []}, 400, "VALIDATION_ERROR"), ("bulk/submit", {}, 400, "VALIDATION_ERROR"),
     ("bulk/submit", {"ids": list(range(1, 502))}, 400, "VALIDATION_ERROR"),
     ("bulk/explode", {"ids": [1]}, 404, "NOT_FOUND")],
)  # fmt: skip
def test_bad_bulk_calls_are_refused_whole(w, path, body, status, code):
    plan = supply(w)
    response = w.client_for(w.planner).post(f"/api/v1/supply/plans/{path}", body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["detail"]["code"] == code
    assert SupplyPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


def test_bulk_does_not_shadow_the_detail_route(w):
    plan = supply(w, planned_prod_qty=Decimal("5"))
    api = w.client_for(w.planner)
    assert api.get(f"/api/v1/supply/plans/{plan.pk}").json()["period"] == MARCH.isoformat()
    assert api.get("/api/v1/supply/plans/bulk/submit").status_code == 405
