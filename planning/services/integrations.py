"""ERP outbox services (PLN-21, INT-09…11, WF-81) and batch retention.

Until governed publications exist (GOV-63), a plan version is handed to the ERP when it is
approved or locked: the message carries that version's figures, so what the ERP receives is
always a decided plan, never a draft.
"""

import datetime
import hashlib
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from genxsop.errors import Conflict, InvalidStateTransition
from genxsop.services import require_perm, snapshot, to_json_value
from governance import audit, bus
from planning import events
from planning import permissions as perms
from planning.choices import OutboundKind, OutboundStatus, PlanStatus
from planning.models import DemandPlan, IntegrationBatch, OutboundMessage, SupplyPlan

__all__ = [
    "integration_batch_purge",
    "outbound_message_acknowledge",
    "outbound_message_publish_plan",
    "outbound_message_retry",
]

PUBLISHABLE = (PlanStatus.APPROVED, PlanStatus.LOCKED)
_STATUS_FIELDS = ["status", "attempts", "next_attempt_at", "last_error", "acknowledged_at", "acknowledged_by",
                  "external_reference"]  # fmt: skip


def _plan_item(plan) -> dict:
    """INT-10 item of one plan version."""
    q = to_json_value
    if isinstance(plan, DemandPlan):
        return {
            "plan_type": "demand", "plan_id": plan.pk, "version": plan.version, "sku": plan.product.sku,
            "period": plan.period.isoformat(), "region": plan.region, "channel": plan.channel,
            "forecast_qty": q(plan.forecast_qty), "adjusted_qty": q(plan.adjusted_qty),
            "consensus_qty": q(plan.consensus_qty), "demand_qty": q(plan.demand_qty),
        }  # fmt: skip
    return {
        "plan_type": "supply", "plan_id": plan.pk, "version": plan.version, "sku": plan.product.sku,
        "period": plan.period.isoformat(), "location": plan.location.code, "planned_prod_qty": q(plan.planned_prod_qty),
        "capacity_max": q(plan.capacity_max), "supplier_name": plan.supplier_name,
        "lead_time_days": plan.lead_time_days, "cost_per_unit": q(plan.cost_per_unit),
    }  # fmt: skip


def _sha256(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@transaction.atomic
def outbound_message_publish_plan(*, actor, plan: DemandPlan | SupplyPlan) -> OutboundMessage:
    """API-INT-05/06: queue an approved or locked plan version for the ERP (INT-10 payload).

    Needs add_outboundmessage and the plan in the actor's change scope. A draft, submitted or
    rejected plan (or a history row) is 409 NOT_PUBLISHED. Emits planning.outbound_message.created.
    """
    require_perm(actor, perms.ADD_OUTBOUND_MESSAGE, plan)
    plan_type = "demand" if isinstance(plan, DemandPlan) else "supply"
    if not plan.is_current or plan.status not in PUBLISHABLE:
        raise Conflict("plan must be approved before it is handed to the ERP", code="NOT_PUBLISHED",
                       context={"current_status": plan.status})  # fmt: skip
    message = OutboundMessage(kind=OutboundKind.PUBLICATION, created_by=actor)
    now = timezone.now()
    payload = {
        "message_id": str(message.message_id), "kind": message.kind,
        "version_stamp": f"{plan_type}-{plan.pk}-v{plan.version}", "lane": plan_type,
        "period_from": plan.period.isoformat(), "period_to": plan.period.isoformat(),
        "published_at": to_json_value(now), "published_by": actor.email, "outcome": "published",
        "items": [_plan_item(plan)],
    }  # fmt: skip
    message.payload, message.payload_sha256 = payload, _sha256(payload)
    message.save()
    audit.record(actor=actor, event_type=events.OUTBOUND_MESSAGE_CREATED, target=message, related=plan,
                 after=snapshot(message, ["message_id", "kind", "status", "target_system", "payload_sha256"]),
                 metadata={"version_stamp": payload["version_stamp"]})  # fmt: skip
    bus.publish_on_commit(events.OUTBOUND_MESSAGE_CREATED, outbound_message_id=message.pk)
    return message


def _lock(message: OutboundMessage) -> OutboundMessage:
    return OutboundMessage.objects.select_for_update().get(pk=message.pk)


@transaction.atomic
def outbound_message_acknowledge(*, actor, message: OutboundMessage, external_reference: str = "",
                                 note: str = "") -> OutboundMessage:  # fmt: skip
    """API-INT-08 / WF-81: pending or delivered → acknowledged. Idempotent: acknowledging again
    changes nothing. A failed message is 409 (retry it first). Needs change_outboundmessage.
    Emits planning.outbound_message.acknowledged."""
    require_perm(actor, perms.CHANGE_OUTBOUND_MESSAGE)
    message = _lock(message)
    if message.status == OutboundStatus.ACKNOWLEDGED:
        return message
    if message.status == OutboundStatus.FAILED:
        raise InvalidStateTransition("A failed message cannot be acknowledged; retry it first.",
                                     context={"current_status": message.status})  # fmt: skip
    before = snapshot(message, _STATUS_FIELDS)
    message.status, message.acknowledged_at, message.acknowledged_by = (
        OutboundStatus.ACKNOWLEDGED,
        timezone.now(),
        actor,
    )
    message.external_reference = (external_reference or "")[:255]
    message.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "external_reference", "updated_at"])
    audit.record(actor=actor, event_type=events.OUTBOUND_MESSAGE_ACKNOWLEDGED, target=message, before=before,
                 after=snapshot(message, _STATUS_FIELDS), message=note or "")  # fmt: skip
    bus.publish_on_commit(events.OUTBOUND_MESSAGE_ACKNOWLEDGED, outbound_message_id=message.pk)
    return message


@transaction.atomic
def outbound_message_retry(*, actor, message: OutboundMessage) -> OutboundMessage:
    """API-INT-09 / WF-81: failed → pending with the attempts reset. Any other status is 409.
    Needs change_outboundmessage. Emits planning.outbound_message.retried."""
    require_perm(actor, perms.CHANGE_OUTBOUND_MESSAGE)
    message = _lock(message)
    if message.status != OutboundStatus.FAILED:
        raise InvalidStateTransition(
            "Only a failed message can be retried.", context={"current_status": message.status}
        )
    before = snapshot(message, _STATUS_FIELDS)
    message.status, message.attempts, message.next_attempt_at = OutboundStatus.PENDING, 0, None
    message.last_error = ""
    message.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "updated_at"])
    audit.record(actor=actor, event_type=events.OUTBOUND_MESSAGE_RETRIED, target=message, before=before,
                 after=snapshot(message, _STATUS_FIELDS))  # fmt: skip
    bus.publish_on_commit(events.OUTBOUND_MESSAGE_RETRIED, outbound_message_id=message.pk)
    return message


def integration_batch_purge(*, now: datetime.datetime | None = None) -> int:
    """INT-03 retention: delete batches (and so forget their keys) older than
    INTEGRATION_BATCH_RETENTION_DAYS. A system job; returns how many were deleted."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.INTEGRATION_BATCH_RETENTION_DAYS)
    deleted, _ = IntegrationBatch.objects.filter(created_at__lt=cutoff).delete()
    return deleted
