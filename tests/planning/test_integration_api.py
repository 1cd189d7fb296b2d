"""ERP/WMS sync and batches over HTTP (API-INT-01…04, 10, 11)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.integrations.batch import run_batch
from planning.models import IntegrationBatch, Inventory

pytestmark = pytest.mark.django_db

API = "/api/v1/integrations"
LAST_MONTH = (timezone.localdate().replace(day=1) - timezone.timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio,
                                                         "unit_cost": Decimal("2.00")})  # fmt: skip
    services.location_create(actor=admin, data={"code": "WH1", "name": "Warehouse 1"})
    coord = users[Role.SOP_COORDINATOR]
    return SimpleNamespace(users=users, admin=admin, coord=coord, speaker=speaker, client_for=api_client_for,
                           erp=api_client_for(coord, scopes=["integrations:write"]))  # fmt: skip


def envelope(items, **meta):
    return {"meta": {"source_system": "SAP", **meta}, "items": items}


INVENTORY = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 40}]


def test_inventory_sync_answers_the_int02_body(w):
    response = w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key="k1"), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("success", "status", "processed", "created", "failed", "replayed", "errors")} == {
        "success": True, "status": "completed", "processed": 1, "created": 1, "failed": 0, "replayed": False,
        "errors": []}  # fmt: skip
    assert "Idempotent-Replay" not in response.headers
    row = Inventory.objects.get()
    assert (row.on_hand_qty, row.valuation) == (Decimal("40.00"), Decimal("80.00"))
    batch = IntegrationBatch.objects.get()
    assert batch.api_token_id is not None
    assert batch.actor == w.coord
    event = AuditEvent.objects.get(event_type="planning.inventory.created")
    assert (event.source, event.api_token_id, event.metadata["source"]) == ("api", batch.api_token_id, "erp")


def test_replay_sets_the_header_and_writes_nothing(w):
    first = w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY), format="json",
                       HTTP_IDEMPOTENCY_KEY="hdr-1")  # fmt: skip
    assert first.json()["idempotency_key"] == "hdr-1"
    audits = AuditEvent.objects.count()
    again = w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY), format="json", HTTP_IDEMPOTENCY_KEY="hdr-1")
    assert again.status_code == 200
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.json() == {**first.json(), "replayed": True}
    assert AuditEvent.objects.count() == audits
    assert IntegrationBatch.objects.count() == 1


def test_same_key_different_body_is_409(w):
    w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, batch_id="b1"), format="json")
    response = w.erp.post(f"{API}/erp/inventory/sync", envelope([{**INVENTORY[0], "on_hand_qty": 41}],
                                                                 batch_id="b1"), format="json")  # fmt: skip
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_header_disagreeing_with_the_body_key_is_400(w):
    response = w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key="a"), format="json",
                          HTTP_IDEMPOTENCY_KEY="b")  # fmt: skip
    assert response.status_code == 400
    assert IntegrationBatch.objects.get().status == "rejected"


@pytest.mark.parametrize("body", [{}, {"meta": {"source_system": "SAP", "idempotency_key": "k"}},
                                  {"meta": "x", "items": []}, [1, 2]])  # fmt: skip
def test_invalid_envelopes_are_400(w, body):
    response = w.erp.post(f"{API}/erp/products/sync", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_item_failures_still_answer_200(w):
    response = w.erp.post(f"{API}/erp/demand-actuals/sync", envelope([
        {"sku": "SPK-1", "period": LAST_MONTH, "actual_qty": 3}, {"sku": "X", "period": LAST_MONTH, "actual_qty": 1},
    ], idempotency_key="d1"), format="json")  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["success"], body["errors"][0]["code"]) == ("partial", False, "UNKNOWN_SKU")


def test_products_and_supply_actuals_endpoints(w):
    response = w.erp.post(f"{API}/erp/products/sync", envelope([{"sku": "N-1", "name": "New"}], idempotency_key="p"),
                          format="json")  # fmt: skip
    assert response.json()["created"] == 1
    response = w.erp.post(f"{API}/erp/supply-actuals/sync", envelope([
        {"sku": "SPK-1", "period": LAST_MONTH, "location": "WH1", "actual_prod_qty": 2}], idempotency_key="s"),
        format="json")  # fmt: skip
    assert response.json()["created"] == 1


def test_sync_needs_the_integrations_scope_and_role(w):
    read_only = w.client_for(w.coord, scopes=["planning:read"])
    response = read_only.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key="k"), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "TOKEN_SCOPE_INSUFFICIENT"
    planner = w.client_for(w.users[Role.DEMAND_PLANNER])
    response = planner.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key="k"), format="json")
    assert response.status_code == 403
    assert IntegrationBatch.objects.count() == 0


# Batches (API-INT-10/11) --------------------------------------------------------------------------------


def test_batch_list_filters_and_leaves_out_item_results(w, django_assert_max_num_queries):
    for n in range(3):
        w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key=f"k{n}"), format="json")
    w.erp.post(f"{API}/erp/products/sync", envelope([{"sku": "N", "name": "N"}], idempotency_key="p"), format="json")
    with django_assert_max_num_queries(8):
        response = w.erp.get(f"{API}/batches", {"operation": "inventory_sync", "page_size": 2})
    body = response.json()
    assert (body["total"], len(body["items"]), body["total_pages"]) == (3, 2, 2)
    assert "item_results" not in body["items"][0]
    assert body["items"][0]["actor_email"] == w.coord.email
    assert w.erp.get(f"{API}/batches", {"status": "rejected"}).json()["total"] == 0
    today = timezone.localdate().isoformat()
    assert w.erp.get(f"{API}/batches", {"from": today, "to": today}).json()["total"] == 4
    assert w.erp.get(f"{API}/batches", {"status": "nope"}).status_code == 400


def test_batch_detail_lists_item_results(w):
    body = w.erp.post(f"{API}/erp/inventory/sync", envelope([*INVENTORY, {"sku": "X", "location": "WH1",
                                                                          "on_hand_qty": 1}], idempotency_key="k"),
                      format="json").json()  # fmt: skip
    response = w.erp.get(f"{API}/batches/{body['batch_uuid']}")
    assert response.status_code == 200
    results = response.json()["item_results"]
    outcomes = [(r["index"], r["outcome"], r["code"]) for r in results]
    assert outcomes == [(0, "created", ""), (1, "failed", "UNKNOWN_SKU")]
    assert w.erp.get(f"{API}/batches/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_actor_of_a_file_import_reads_their_own_batch_only(w):
    planner = w.users[Role.DEMAND_PLANNER]
    batch, _, _ = run_batch(actor=planner, operation="import_demand_actuals", channel="file",
                            items=[{"sku": "SPK-1", "period": LAST_MONTH, "actual_qty": "1"}],
                            meta={"source_system": "file", "dry_run": True, "atomic": True})  # fmt: skip
    other, _, _ = run_batch(actor=w.admin, operation="import_demand_actuals", channel="file",
                            items=[{"sku": "SPK-1", "period": LAST_MONTH, "actual_qty": "1"}],
                            meta={"source_system": "file", "dry_run": True, "atomic": True})  # fmt: skip
    client = w.client_for(planner)
    assert client.get(f"{API}/batches/{batch.batch_uuid}").status_code == 200
    assert client.get(f"{API}/batches/{other.batch_uuid}").status_code == 403
    assert client.get(f"{API}/batches").status_code == 403


# Console (UI-13) ---------------------------------------------------------------------------------------


def test_console_lists_batches_and_shows_item_results_to_integ_roles(w, client):
    body = w.erp.post(f"{API}/erp/inventory/sync", envelope([*INVENTORY, {"sku": "GHOST", "location": "WH1",
                                                                          "on_hand_qty": 1}], idempotency_key="c1"),
                      format="json").json()  # fmt: skip
    client.force_login(w.coord)
    page = client.get("/integrations/", {"status": "partial"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Inventory sync" in html
    assert "Partial" in html
    assert body["batch_uuid"] in html
    detail = client.get(f"/integrations/batches/{body['batch_uuid']}/", {"show": "failed"}).content.decode()
    assert "UNKNOWN_SKU" in detail
    assert "GHOST/WH1" in detail
    assert "SPK-1/WH1" not in detail
    assert client.get("/integrations/outbox/").status_code == 200


def test_console_pages_are_forbidden_to_other_roles(w, client):
    body = w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key="c2"), format="json").json()
    client.force_login(w.users[Role.DEMAND_PLANNER])
    assert client.get("/integrations/").status_code == 403
    assert client.get(f"/integrations/batches/{body['batch_uuid']}/").status_code == 403
    assert client.get("/integrations/outbox/").status_code == 403


def test_the_daily_purge_forgets_keys_past_retention_so_they_can_be_used_again(w, settings):
    from planning.tasks import purge_integration_batches

    w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key="old-1"), format="json")
    w.erp.post(f"{API}/erp/inventory/sync", envelope(INVENTORY, idempotency_key="new-1"), format="json")
    past = timezone.now() - timezone.timedelta(days=settings.INTEGRATION_BATCH_RETENTION_DAYS + 1)
    IntegrationBatch.objects.filter(idempotency_key="old-1").update(created_at=past)

    assert purge_integration_batches() == 1
    assert list(IntegrationBatch.objects.values_list("idempotency_key", flat=True)) == ["new-1"]
    reused = w.erp.post(f"{API}/erp/inventory/sync", envelope([{**INVENTORY[0], "on_hand_qty": 41}],
                                                               idempotency_key="old-1"), format="json")  # fmt: skip
    assert (reused.status_code, reused.json()["replayed"]) == (200, False)
