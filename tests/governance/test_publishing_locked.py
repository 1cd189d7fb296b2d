"""Locked plans refuse edits through every interface (WF-10 lock, WF-12), and nothing but the publish
gate locks a plan or creates a publication (GOV-63): API, bulk, console, file import, consensus,
promotion and ERP sync. ERP actuals are facts and are still recorded on locked rows."""

from decimal import Decimal

import pytest
from django.test import Client

from forecasting import services as forecasting
from governance.choices import Role
from governance.models import Publication
from planning.choices import PlanStatus
from planning.integrations.batch import run_batch
from planning.models import DemandPlan, SupplyPlan
from tests.forecasting.builders import make_run
from tests.governance.test_publishing_world import make_world, publish
from tests.planning.test_import_export_api import upload

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def world(users, api_client_for):
    w = make_world(users)
    w.planner = users[Role.DEMAND_PLANNER]
    w.supply_planner = users[Role.SUPPLY_PLANNER]
    w.api = {role: api_client_for(users[role]) for role in (Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER,
                                                             Role.EXECUTIVE, Role.ADMIN)}  # fmt: skip
    return w


@pytest.fixture
def locked(world):
    world.publication = publish(world)
    world.plan = DemandPlan.objects.get(pk=world.demand[world.periods[2]].pk)
    world.supply_plan = SupplyPlan.objects.get(pk=world.supply[world.periods[2]].pk)
    assert world.plan.status == world.supply_plan.status == PlanStatus.LOCKED
    return world


def unchanged(plan, version=1):
    fresh = type(plan).objects.get(pk=plan.pk)
    assert (fresh.status, fresh.version) == (PlanStatus.LOCKED, version)
    assert not type(plan).objects.filter(history_of=plan).exists()
    return fresh


def test_api_put_patch_and_adjust_are_entity_locked(locked):
    w = locked
    demand = w.api[Role.DEMAND_PLANNER]
    for method in ("put", "patch"):
        response = getattr(demand, method)(f"{API}/demand/plans/{w.plan.pk}", {"forecast_qty": 1}, format="json")
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "ENTITY_LOCKED"
    response = demand.post(f"{API}/demand/plans/{w.plan.pk}/adjust", {"adjusted_qty": 1}, format="json")
    assert response.json()["error"]["code"] == "ENTITY_LOCKED"
    response = w.api[Role.SUPPLY_PLANNER].patch(f"{API}/supply/plans/{w.supply_plan.pk}", {"planned_prod_qty": 1},
                                                format="json")  # fmt: skip
    assert response.json()["error"]["code"] == "ENTITY_LOCKED"
    assert demand.delete(f"{API}/demand/plans/{w.plan.pk}").status_code == 409
    unchanged(w.plan)
    unchanged(w.supply_plan)


def test_api_shows_the_publication_stamp_and_offers_unlock_to_approvers(locked):
    w = locked
    body = w.api[Role.EXECUTIVE].get(f"{API}/demand/plans/{w.plan.pk}").json()
    assert body["publication_stamp"] == w.publication.version_stamp
    assert "unlock" in body["allowed_actions"]
    assert "edit" not in body["allowed_actions"]
    assert "unlock" not in w.api[Role.DEMAND_PLANNER].get(f"{API}/demand/plans/{w.plan.pk}").json()["allowed_actions"]
    supply = w.api[Role.EXECUTIVE].get(f"{API}/supply/plans/{w.supply_plan.pk}").json()
    assert supply["publication_stamp"] == w.publication.version_stamp
    # The API unlock: a justification is required; outside the freeze window it suffices.
    assert w.api[Role.EXECUTIVE].post(f"{API}/demand/plans/{w.plan.pk}/unlock", {}, format="json").status_code == 400
    assert w.api[Role.DEMAND_PLANNER].post(f"{API}/demand/plans/{w.plan.pk}/unlock", {"justification": "x"},
                                           format="json").status_code == 403  # fmt: skip
    response = w.api[Role.EXECUTIVE].post(f"{API}/demand/plans/{w.plan.pk}/unlock",
                                          {"justification": "Customer raised the order"}, format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["publication_stamp"]) == ("draft", None)
    first = w.supply[w.periods[0]]
    frozen = w.api[Role.EXECUTIVE].post(f"{API}/supply/plans/{first.pk}/unlock", {"justification": "Line down"},
                                        format="json")  # fmt: skip
    assert frozen.status_code == 409
    assert frozen.json()["error"]["code"] == "FREEZE_WINDOW_VIOLATION"
    response = w.api[Role.EXECUTIVE].post(f"{API}/supply/plans/{first.pk}/unlock", {
        "justification": "Line down", "override_freeze": True}, format="json")  # fmt: skip
    assert response.status_code == 200


def test_bulk_actions_refuse_locked_rows_one_by_one(locked):
    w = locked
    response = w.api[Role.DEMAND_PLANNER].post(f"{API}/demand/plans/bulk/submit", {"ids": [w.plan.pk]}, format="json")
    result = response.json()["results"][0]
    assert (result["ok"], result["error"]["code"]) == (False, "INVALID_STATE_TRANSITION")
    response = w.api[Role.EXECUTIVE].post(f"{API}/supply/plans/bulk/approve", {"ids": [w.supply_plan.pk]},
                                          format="json")  # fmt: skip
    assert response.json()["failed"] == 1
    unchanged(w.plan)
    unchanged(w.supply_plan)


def test_console_inline_edit_and_edit_form_refuse_locked_rows(locked):
    w = locked
    client = Client()
    client.force_login(w.planner)
    response = client.post(f"/demand/{w.plan.pk}/adjust/", {"adjusted_qty": "5", "expected_version": "1"})
    assert response.status_code in (302, 200, 403)
    response = client.post(f"/demand/{w.plan.pk}/edit/", {"forecast_qty": "5", "expected_version": "1"})
    assert response.status_code in (302, 200, 403)
    unchanged(w.plan)
    executive = Client()
    executive.force_login(w.executive)
    page = executive.get(f"/demand/{w.plan.pk}/")
    assert w.publication.version_stamp.encode() in page.content
    assert b'name="override_freeze"' in page.content
    executive.post(f"/demand/{w.plan.pk}/unlock/", {"justification": ""})
    unchanged(w.plan)
    executive.post(f"/demand/{w.plan.pk}/unlock/", {"justification": "Customer raised the order"})
    assert DemandPlan.objects.get(pk=w.plan.pk).status == PlanStatus.DRAFT
    frozen = w.demand[w.periods[0]]
    executive.post(f"/demand/{frozen.pk}/unlock/", {"justification": "Customer raised the order"})
    unchanged(frozen)
    executive.post(f"/demand/{frozen.pk}/unlock/", {"justification": "Customer raised it", "override_freeze": "on"})
    assert DemandPlan.objects.get(pk=frozen.pk).status == PlanStatus.DRAFT


def test_file_import_does_not_change_a_locked_row(locked):
    w = locked
    content = f"SKU,Period,Forecast_Qty\nA-100,{w.periods[2]:%Y-%m},555\n".encode()
    response = upload(w.api[Role.ADMIN], "/demand/plans/import", content, mode="apply")
    assert response.status_code in (201, 400), response.content
    body = response.json()
    assert body.get("updated", 0) == 0
    unchanged(w.plan)


def _consensus(w, period):
    run = make_run(w.product, as_of=period, predictions=[120, 130])
    row = forecasting.consensus_create(actor=w.planner, data={"forecast_run_audit_id": run.pk, "period": period})
    return forecasting.consensus_propose(actor=w.planner, consensus=row)


def test_consensus_approval_to_a_locked_row_is_entity_locked(locked):
    w = locked
    row = _consensus(w, w.periods[2])
    response = w.api[Role.EXECUTIVE].post(f"{API}/forecasting/consensus/{row.pk}/approve", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ENTITY_LOCKED"
    unchanged(w.plan)


def test_promotion_skips_locked_rows(locked):
    w = locked
    run = make_run(w.product, as_of=w.periods[2], predictions=[120, 130])
    response = w.api[Role.DEMAND_PLANNER].post(f"{API}/forecasting/promote", {
        "product_id": w.product.pk, "selected_model": "exp_smoothing", "run_id": run.pk, "horizon": 2},
        format="json")  # fmt: skip
    assert response.status_code in (200, 201), response.content
    skipped = {s["plan_id"] for s in response.json()["skipped"]}
    assert w.plan.pk in skipped
    unchanged(w.plan)


def test_erp_actuals_are_recorded_on_locked_rows_but_never_content(locked):
    w = locked
    plan = w.demand[w.periods[0]]  # actuals exist up to the current month
    items = [{"sku": "A-100", "period": w.periods[0].isoformat(), "actual_qty": 77, "forecast_qty": 999}]
    _, body, _ = run_batch(actor=w.admin, operation="demand_actuals_sync", channel="api", items=items,
                           meta={"source_system": "SAP", "idempotency_key": "locked-1"})  # fmt: skip
    assert body["updated"] == 1, body
    fresh = unchanged(plan)
    assert fresh.actual_qty == Decimal("77.00")
    assert fresh.forecast_qty == Decimal("100.00")


def test_nothing_but_the_gate_locks_plans_or_creates_publications(world):
    """Consensus approval, promotion, imports and ERP syncs on an unpublished company lock nothing."""
    w = world
    DemandPlan.objects.filter(pk=w.demand[w.periods[3]].pk).update(status=PlanStatus.DRAFT)
    row = _consensus(w, w.periods[3])
    forecasting.consensus_approve(actor=w.executive, consensus=row)
    run = make_run(w.product, as_of=w.periods[4], predictions=[120])
    w.api[Role.DEMAND_PLANNER].post(f"{API}/forecasting/promote", {
        "product_id": w.product.pk, "selected_model": "exp_smoothing", "run_id": run.pk, "horizon": 1},
        format="json")  # fmt: skip
    upload(w.api[Role.ADMIN], "/demand/plans/import", f"SKU,Period,Forecast_Qty\nA-100,{w.periods[3]:%Y-%m},5\n"
           .encode(), mode="apply")  # fmt: skip
    run_batch(actor=w.admin, operation="demand_actuals_sync", channel="api", items=[
        {"sku": "A-100", "period": w.periods[1].isoformat(), "actual_qty": 7}],
        meta={"source_system": "SAP", "idempotency_key": "nothing-1"})  # fmt: skip
    assert Publication.objects.count() == 0
    assert not DemandPlan.objects.filter(status=PlanStatus.LOCKED).exists()
    assert not SupplyPlan.objects.filter(status=PlanStatus.LOCKED).exists()
