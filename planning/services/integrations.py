"""ERP outbox services (PLN-21, INT-09…11, WF-81) and batch retention.

Only published plans leave GenXSOP (INT-09): publications and rollbacks (GOV-63, GOV-66) create
their outbound messages through `outbound_message_for_publication`, and the per-plan endpoints
re-send a plan only while it is locked by the current publication of a lane.
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
    "outbound_message_for_publication",
    "outbound_message_publish_plan",
    "outbound_message_retry",
]

_STATUS_FIELDS = ["status", "attempts", "next_attempt_at", "last_error", "acknowledged_at", "acknowledged_by",
                  "external_reference"]  # fmt: skip


# INT-10 item fields after plan_type, plan_id, version, sku and period.
DEMAND_ITEM_FIELDS = ("region", "channel", "forecast_qty", "adjusted_qty", "consensus_qty", "demand_qty")
SUPPLY_ITEM_FIELDS = ("location", "planned_prod_qty", "capacity_max", "supplier_name", "lead_time_days",
                      "cost_per_unit")  # fmt: skip


def _item(plan_type: str, plan_id: int, version: int, sku: str, period, values) -> dict:
    fields = DEMAND_ITEM_FIELDS if plan_type == "demand" else SUPPLY_ITEM_FIELDS
    item = {"plan_type": plan_type, "plan_id": plan_id, "version": version, "sku": sku, "period": period.isoformat()}
    return item | {name: to_json_value(values(name)) for name in fields}


def _plan_item(plan) -> dict:
    """INT-10 item of one live plan version."""
    if isinstance(plan, DemandPlan):
        return _item("demand", plan.pk, plan.version, plan.product.sku, plan.period, lambda f: getattr(plan, f))
    return _item("supply", plan.pk, plan.version, plan.product.sku, plan.period,
                 lambda f: plan.location.code if f == "location" else getattr(plan, f))  # fmt: skip


def publication_item_payload(item) -> dict:
    """INT-10 item of one publication item (GOV-17): the values frozen in the snapshot."""
    values = item.values or {}
    if item.plan_type == "demand":
        getter = {"region": item.region, "channel": item.channel}.get
        return _item("demand", item.plan_id, item.plan_version, item.product.sku, item.period,
                     lambda f: getter(f, values.get(f)))  # fmt: skip
    code = item.location.code if item.location_id else None
    return _item("supply", item.plan_id, item.plan_version, item.product.sku, item.period,
                 lambda f: code if f == "location" else values.get(f))  # fmt: skip


def _sha256(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _payload(message: OutboundMessage, publication, items: list[dict], **extra) -> dict:
    return {
        "message_id": str(message.message_id), "kind": message.kind, "version_stamp": publication.version_stamp,
        "lane": publication.lane, "period_from": publication.period_from.isoformat(),
        "period_to": publication.period_to.isoformat(), "published_at": to_json_value(publication.published_at),
        "published_by": publication.published_by.email, "outcome": publication.outcome, **extra, "items": items,
    }  # fmt: skip


def _message_save(*, actor, message: OutboundMessage, payload: dict, related) -> OutboundMessage:
    message.payload, message.payload_sha256 = payload, _sha256(payload)
    message.save()
    audit.record(actor=actor, event_type=events.OUTBOUND_MESSAGE_CREATED, target=message, related=related,
                 after=snapshot(message, ["message_id", "kind", "status", "target_system", "payload_sha256"]),
                 metadata={"version_stamp": payload["version_stamp"], "items": len(payload["items"])})  # fmt: skip
    bus.publish_on_commit(events.OUTBOUND_MESSAGE_CREATED, outbound_message_id=message.pk)
    return message


def outbound_message_for_publication(*, actor, publication, kind: str = OutboundKind.PUBLICATION,
                                     rolled_back=None) -> OutboundMessage:  # fmt: skip
    """INT-09/10: the outbound message of a publication (kind `publication`) or of a rollback (kind
    `rollback`, `publication` being the restored one or None, with `rolled_back_stamp`).

    Runs inside the publishing service's transaction, which checked its own permission; the items are
    the publication's snapshot. Emits planning.outbound_message.created.
    """
    message = OutboundMessage(kind=kind, created_by=actor)
    if publication is not None:
        rows = publication.items.select_related("product", "location").order_by("plan_type", "plan_id")
        items = [publication_item_payload(item) for item in rows]
    if kind == OutboundKind.ROLLBACK:
        extra = {"rolled_back_stamp": rolled_back.version_stamp}
        if publication is None:  # nothing to reinstate: the ERP keeps no published plan of the lane
            payload = {
                "message_id": str(message.message_id), "kind": message.kind, "version_stamp": None,
                "lane": rolled_back.lane, "period_from": None, "period_to": None, "published_at": None,
                "published_by": None, "outcome": None, **extra, "items": [],
            }  # fmt: skip
            return _message_save(actor=actor, message=message, payload=payload, related=rolled_back)
        return _message_save(actor=actor, message=message, payload=_payload(message, publication, items, **extra),
                             related=rolled_back)  # fmt: skip
    return _message_save(actor=actor, message=message, payload=_payload(message, publication, items),
                         related=publication)  # fmt: skip


def current_publication_of_plan(plan: DemandPlan | SupplyPlan):
    """The current publication (of either lane) that holds `plan` locked, or None (INT-09).

    The publication that locked the row is preferred; a row locked earlier and included as it was
    by a later publication (GOV-63 step 5) is held by that one."""
    from governance.choices import PublicationStatus
    from governance.models import Publication

    if not plan.is_current or plan.status != PlanStatus.LOCKED:
        return None
    plan_type = "demand" if isinstance(plan, DemandPlan) else "supply"
    current = Publication.objects.filter(status=PublicationStatus.PUBLISHED, items__plan_type=plan_type,
                                         items__plan_id=plan.pk).select_related("published_by")  # fmt: skip
    return next(iter(sorted(current, key=lambda p: (p.pk != plan.locked_by_publication_id, -p.pk))), None)


@transaction.atomic
def outbound_message_publish_plan(*, actor, plan: DemandPlan | SupplyPlan) -> OutboundMessage:
    """API-INT-05/06: re-send a published plan version to the ERP (INT-09, INT-10 payload).

    Needs add_outboundmessage and the plan in the actor's change scope. Only a plan locked by the
    current publication of a lane is sent, under that publication's version stamp; any other plan
    is 409 NOT_PUBLISHED. Emits planning.outbound_message.created.
    """
    require_perm(actor, perms.ADD_OUTBOUND_MESSAGE, plan)
    publication = current_publication_of_plan(plan)
    if publication is None:
        raise Conflict("plan must be published through the publish gate first", code="NOT_PUBLISHED",
                       context={"current_status": plan.status})  # fmt: skip
    message = OutboundMessage(kind=OutboundKind.PUBLICATION, created_by=actor)
    payload = _payload(message, publication, [_plan_item(plan)])
    return _message_save(actor=actor, message=message, payload=payload, related=plan)


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
    from genxsop import metrics

    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.INTEGRATION_BATCH_RETENTION_DAYS)
    with transaction.atomic():
        doomed = IntegrationBatch.objects.filter(created_at__lt=cutoff)
        # Their items stay counted in /metrics (genxsop_integration_items_total never goes down).
        metrics.carry_add(metrics.INTEGRATION_ITEMS, metrics.integration_item_counts(doomed))
        deleted, _ = doomed.delete()
    return deleted
