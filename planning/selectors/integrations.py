"""Read paths for integrations: batches (API-INT-10/11) and the ERP outbox (API-INT-07).

Batches and outbound messages are not object-scoped: they are the integration operators' (INTEG)
view of the system. The one exception is a file import, whose actor may read their own batch.
"""

import uuid

from django.db.models import QuerySet

from genxsop.errors import NotFound, PermissionDenied
from genxsop.filters import filter_queryset
from genxsop.services import require_perm
from planning import permissions as perms
from planning.choices import BatchChannel
from planning.filtersets import IntegrationBatchFilterSet, OutboundMessageFilterSet
from planning.models import IntegrationBatch, OutboundMessage

__all__ = [
    "integration_batch_get",
    "integration_batch_list",
    "outbound_message_get",
    "outbound_message_list",
    "plan_for_publish_get",
]


def integration_batch_list(*, user, filters: dict | None = None) -> QuerySet[IntegrationBatch]:
    """Newest first, without the item results (they can be large). Needs view_integrationbatch."""
    require_perm(user, perms.VIEW_INTEGRATION_BATCH)
    queryset = IntegrationBatch.objects.select_related("actor").defer("item_results", "response")
    return filter_queryset(IntegrationBatchFilterSet, filters or {}, queryset)


def integration_batch_get(*, user, batch_uuid) -> IntegrationBatch:
    """One batch with its item results: INTEG (unknown is 404), or the user who ran that file import.
    Anyone else is 403 whether or not the batch exists, so the answer reveals nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied("Authentication is required.")
    batch = _by_uuid(IntegrationBatch.objects.select_related("actor"), batch_uuid=batch_uuid)
    if user.has_perm(perms.VIEW_INTEGRATION_BATCH):
        if batch is None:
            raise NotFound("Batch not found.")
        return batch
    if batch is not None and batch.channel == BatchChannel.FILE and batch.actor_id == user.pk:
        return batch
    raise PermissionDenied()


def _by_uuid(queryset, **lookup):
    """The row with this UUID, or None (a malformed UUID is simply not found)."""
    try:
        return queryset.filter(**{k: uuid.UUID(str(v)) for k, v in lookup.items()}).first()
    except (ValueError, TypeError, AttributeError):
        return None


def outbound_message_list(*, user, filters: dict | None = None) -> QuerySet[OutboundMessage]:
    """API-INT-07: pending messages by default, oldest first so a puller works in order."""
    require_perm(user, perms.VIEW_OUTBOUND_MESSAGE)
    queryset = OutboundMessage.objects.order_by("created_at", "id")
    return filter_queryset(OutboundMessageFilterSet, filters or {}, queryset)


def outbound_message_get(*, user, message_id) -> OutboundMessage:
    require_perm(user, perms.VIEW_OUTBOUND_MESSAGE)
    message = _by_uuid(OutboundMessage.objects.all(), message_id=message_id)
    if message is None:
        raise NotFound("Outbound message not found.")
    return message


def plan_for_publish_get(*, user, plan_type: str, pk):
    """The demand or supply plan row an outbound message would carry, in the caller's read scope (else 404)."""
    from planning.selectors.catalog import demand_plan_get
    from planning.selectors.supply import supply_plan_get

    getter = demand_plan_get if plan_type == "demand" else supply_plan_get
    return getter(user=user, pk=pk)
