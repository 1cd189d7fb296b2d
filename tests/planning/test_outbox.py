"""Handing published plans to the ERP: re-send, outbox, acknowledge, retry (API-INT-05…09, INT-09, WF-81)."""

from datetime import date
from types import SimpleNamespace

import pytest

from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.choices import OutboundStatus
from planning.models import OutboundMessage

pytestmark = pytest.mark.django_db

API = "/api/v1/integrations/erp"


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker"})
    main = services.location_create(actor=admin, data={"code": "Main", "name": "Main plant"})
    planner = users[Role.SUPPLY_PLANNER]
    data = {"period": date(2026, 3, 1), "forecast_qty": 100, "adjusted_qty": 90}
    demand = services.demand_plan_create(actor=planner, product=speaker, data=data)
    supply = services.supply_plan_create(actor=planner, product=speaker, location=main,
                                         data={"period": date(2026, 3, 1), "planned_prod_qty": 80,
                                               "supplier_name": "ACME"})  # fmt: skip
    return SimpleNamespace(admin=admin, planner=planner, exec=users[Role.EXECUTIVE], demand=demand, supply=supply,
                           erp=api_client_for(users[Role.SOP_COORDINATOR], scopes=["integrations:write"]),
                           coord=users[Role.SOP_COORDINATOR], client_for=api_client_for, users=users)  # fmt: skip


def _approve_demand(w):
    services.demand_plan_submit(actor=w.planner, plan=w.demand)
    return services.demand_plan_approve(actor=w.exec, plan=w.demand)


def _publish(w):
    """Publish the March horizon through the gate; this bare company is No-Go, so an approver overrides."""
    from governance.services.publishing import publication_publish

    return publication_publish(actor=w.exec, lane="monthly", period_from=date(2026, 3, 1),
                               override_justification="Outbox tests publish a bare company")  # fmt: skip


def _publish_demand(w):
    _approve_demand(w)
    publication = _publish(w)
    OutboundMessage.objects.all().delete()  # keep only what the endpoint under test sends
    return publication


@pytest.mark.parametrize("stage", ["draft", "submitted", "approved", "unlocked", "rolled_back"])
def test_a_plan_that_is_not_locked_by_a_current_publication_is_not_sent(w, stage):
    if stage != "draft":
        services.demand_plan_submit(actor=w.planner, plan=w.demand)
    if stage in ("approved", "unlocked", "rolled_back"):
        services.demand_plan_approve(actor=w.exec, plan=w.demand)
    if stage in ("unlocked", "rolled_back"):
        publication = _publish(w)
        if stage == "unlocked":
            services.demand_plan_unlock(actor=w.exec, plan=w.demand, justification="Customer change",
                                        override_freeze=True)  # fmt: skip
        else:
            from governance.services.publishing import publication_rollback

            publication_rollback(actor=w.exec, publication=publication, reason="The ERP refused the batch")
        OutboundMessage.objects.all().delete()
    response = w.erp.post(f"{API}/publish/demand-plan/{w.demand.pk}")
    assert response.status_code == 409
    body = response.json()["error"]
    assert body["code"] == "NOT_PUBLISHED"
    assert body["message"] == "plan must be published through the publish gate first"
    assert OutboundMessage.objects.count() == 0


def test_a_published_demand_plan_is_sent_again_under_its_publication_stamp(w):
    publication = _publish_demand(w)
    response = w.erp.post(f"{API}/publish/demand-plan/{w.demand.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["success"], body["message"]) == (True, "queued for ERP delivery")
    message = OutboundMessage.objects.get(message_id=body["message_id"])
    payload = message.payload
    assert payload["version_stamp"] == publication.version_stamp == "M-202603-v1"
    assert (payload["lane"], payload["outcome"]) == ("monthly", "no_go_overridden")
    assert (payload["published_by"], payload["kind"], payload["message_id"]) == (w.exec.email, "publication",
                                                                                   body["message_id"])  # fmt: skip
    assert payload["items"] == [{
        "plan_type": "demand", "plan_id": w.demand.pk, "version": 1, "sku": "SPK-1", "period": "2026-03-01",
        "region": "Global", "channel": "All", "forecast_qty": "100.00", "adjusted_qty": "90.00",
        "consensus_qty": None, "demand_qty": "90.00",
    }]  # fmt: skip
    assert AuditEvent.objects.filter(event_type="planning.outbound_message.created",
                                     target_id=str(message.pk)).exists()  # fmt: skip


def test_a_published_supply_plan_is_sent_again(w):
    services.supply_plan_submit(actor=w.planner, plan=w.supply)
    services.supply_plan_approve(actor=w.exec, plan=w.supply)
    _publish(w)
    body = w.erp.post(f"{API}/publish/supply-plan/{w.supply.pk}").json()
    item = OutboundMessage.objects.get(message_id=body["message_id"]).payload["items"][0]
    assert (item["plan_type"], item["location"], item["planned_prod_qty"], item["supplier_name"]) == (
        "supply", "Main", "80.00", "ACME")  # fmt: skip
    assert w.erp.post(f"{API}/publish/supply-plan/999999").status_code == 404


def test_outbox_lists_pending_messages_then_ack_is_idempotent(w):
    _publish_demand(w)
    message_id = w.erp.post(f"{API}/publish/demand-plan/{w.demand.pk}").json()["message_id"]
    listed = w.erp.get(f"{API}/outbox").json()
    assert [m["message_id"] for m in listed["items"]] == [message_id]
    assert listed["items"][0]["payload"]["version_stamp"].startswith("M-")
    response = w.erp.post(f"{API}/outbox/{message_id}/ack", {"external_reference": "SAP-42"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["external_reference"]) == ("acknowledged", "SAP-42")
    again = w.erp.post(f"{API}/outbox/{message_id}/ack", {}, format="json")
    assert again.status_code == 200
    assert again.json()["external_reference"] == "SAP-42"
    assert AuditEvent.objects.filter(event_type="planning.outbound_message.acknowledged").count() == 1
    assert w.erp.get(f"{API}/outbox").json()["total"] == 0
    assert w.erp.get(f"{API}/outbox", {"status": "acknowledged"}).json()["total"] == 1


def test_failed_message_cannot_be_acked_but_can_be_retried(w):
    _publish_demand(w)
    message_id = w.erp.post(f"{API}/publish/demand-plan/{w.demand.pk}").json()["message_id"]
    assert w.erp.post(f"{API}/outbox/{message_id}/retry").status_code == 409
    OutboundMessage.objects.filter(message_id=message_id).update(status=OutboundStatus.FAILED, attempts=5,
                                                                 last_error="timeout")  # fmt: skip
    response = w.erp.post(f"{API}/outbox/{message_id}/ack", {}, format="json")
    assert response.status_code == 409
    response = w.erp.post(f"{API}/outbox/{message_id}/retry")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"], response.json()["last_error"]) == ("pending", 0,
                                                                                                       "")  # fmt: skip
    assert w.erp.post(f"{API}/outbox/00000000-0000-0000-0000-000000000000/ack", {}, format="json").status_code == 404


def test_outbox_is_for_integ_roles(w):
    planner = w.client_for(w.planner)
    assert planner.get(f"{API}/outbox").status_code == 403
    _publish_demand(w)
    assert planner.post(f"{API}/publish/demand-plan/{w.demand.pk}").status_code == 403
