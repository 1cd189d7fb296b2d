"""Reading the audit log: search, entity history, export and chain verification (API-GOV-30…35, UI-17)."""

import csv
import io
import json

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from genxsop import context
from governance import audit
from governance.choices import Role
from governance.models import AuditEvent
from planning.services import category_create, product_create, product_update
from tests.governance.audit_helpers import audit_triggers_lifted

pytestmark = pytest.mark.django_db

API = "/api/v1/audit"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def product(admin_user):
    with context.bound_context(request_id="req-create", source="api"):
        category = category_create(actor=admin_user, name="Audio")
        return product_create(actor=admin_user, data={"sku": "AU-1", "name": "Speaker", "category": category})


def test_executives_search_the_log_newest_first_with_filters(users, admin_user, product):
    product_update(actor=admin_user, product=product, data={"name": "Loud speaker"})
    client = client_for(users[Role.EXECUTIVE])

    body = client.get(f"{API}/logs", {"event_type": "planning.product"}).json()
    assert [e["event_type"] for e in body["items"]] == ["planning.product.updated", "planning.product.created"]
    assert body["total"] == 2
    assert body["items"][0]["chain_seq"] > body["items"][1]["chain_seq"]

    by_alias = client.get(f"{API}/logs", {"entity_type": "product", "entity_id": product.pk, "action": "planning"})
    assert by_alias.json()["total"] == 2
    by_request = client.get(f"{API}/logs", {"request_id": "req-create"}).json()
    assert {e["event_type"] for e in by_request["items"]} == {"planning.category.created", "planning.product.created"}
    assert client.get(f"{API}/logs", {"actor_id": admin_user.pk, "source": "api"}).json()["total"] == 2
    assert client.get(f"{API}/logs", {"from": "2000-01-01", "to": "2000-12-31"}).json()["total"] == 0
    assert client.get(f"{API}/logs", {"source": "nowhere"}).status_code == 400

    one = body["items"][0]
    detail = client.get(f"{API}/logs/{one['id']}").json()
    assert (detail["before"]["name"], detail["after"]["name"]) == ("Speaker", "Loud speaker")
    assert "name" in detail["changed_fields"]


def test_planners_may_not_search_the_log(users):
    response = client_for(users[Role.DEMAND_PLANNER]).get(f"{API}/logs")
    assert response.status_code == 403


def test_entity_history_is_for_whoever_can_read_the_entity(users, admin_user, product):
    # A child event (related to the product) appears in the product's history too.
    with transaction.atomic():
        audit.record(actor=admin_user, event_type="planning.inventory.updated", target=admin_user,
                     target_type="inventory", related=product)  # fmt: skip
    body = client_for(users[Role.DEMAND_PLANNER]).get(f"{API}/entity/product/{product.pk}").json()
    assert [e["event_type"] for e in body["items"]] == ["planning.inventory.updated", "planning.product.created"]
    assert client_for(users[Role.VIEWER]).get(f"{API}/entity/product/{product.pk}").status_code == 404
    assert client_for(users[Role.DEMAND_PLANNER]).get(f"{API}/entity/product/999999").status_code == 404
    assert client_for(users[Role.DEMAND_PLANNER]).get(f"{API}/entity/nothing_known/1").status_code == 404


def test_admins_export_the_log_as_csv_and_the_export_is_audited(admin_user, product):
    response = client_for(admin_user).get(f"{API}/export", {"format": "csv", "event_type": "planning.product"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["event_type"] for r in rows] == ["planning.product.created"]
    assert json.loads(rows[0]["after"])["sku"] == "AU-1"
    exported = AuditEvent.objects.get(event_type="governance.audit_log.exported")
    assert exported.actor == admin_user
    assert exported.metadata["filters"] == {"event_type": "planning.product"}
    assert exported.metadata["rows"] == 1
    assert exported.metadata["format"] == "csv"


def test_json_lines_export_keeps_the_exact_values(admin_user, product):
    response = client_for(admin_user).get(f"{API}/export", {"format": "jsonl", "target_type": "product"})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert len(lines) == 1
    stored = AuditEvent.objects.get(pk=lines[0]["id"])
    assert (lines[0]["after"], lines[0]["chain_hash"]) == (stored.after, stored.chain_hash)


def test_only_admins_export(users):
    assert client_for(users[Role.EXECUTIVE]).get(f"{API}/export").status_code == 403
    assert client_for(users[Role.ADMIN]).get(f"{API}/export", {"format": "xml"}).status_code == 400


def test_chain_verification_through_the_api_names_the_first_problem(admin_user, product):
    client = client_for(admin_user)
    assert client.get(f"{API}/chain/verify").json()["ok"] is True
    victim = AuditEvent.objects.get(event_type="planning.product.created")
    with audit_triggers_lifted():
        AuditEvent.objects.filter(pk=victim.pk).update(target_repr="Something else")
    body = client.get(f"{API}/chain/verify").json()
    assert body["ok"] is False
    assert body["first_problem"]["kind"] == "changed"
    assert body["first_problem"]["row_id"] == victim.pk
    verified = AuditEvent.objects.filter(event_type="governance.audit_chain.verified").order_by("-id")
    assert [e.after["ok"] for e in verified] == [False, True]


# Console (UI-17) ------------------------------------------------------------------------------


def test_the_console_audit_log_lists_and_filters(client, users, product):
    client.force_login(users[Role.SOP_COORDINATOR])
    page = client.get("/audit/", {"event_type": "planning.product"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "planning.product.created" in html
    assert "planning.category.created" not in html
    assert "Export CSV" not in html  # exports are for admins
    event = AuditEvent.objects.get(event_type="planning.product.created")
    detail = client.get(f"/audit/{event.pk}/").content.decode()
    assert "AU-1" in detail


def test_the_console_audit_log_is_refused_to_planners(client, users):
    client.force_login(users[Role.DEMAND_PLANNER])
    assert client.get("/audit/").status_code == 403


def test_admins_export_and_verify_from_the_console(client, admin_user, product):
    client.force_login(admin_user)
    html = client.get("/audit/", {"source": "api"}).content.decode()
    assert "Export CSV" in html
    assert "format=csv&amp;source=api" in html
    response = client.post("/audit/verify/", follow=True)
    assert "The audit chain verifies" in response.content.decode()
