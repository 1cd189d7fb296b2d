"""Inventory policy exceptions (PLN-09): a stockout, excess or data-quality risk on one inventory row
with an owner and a due date. Optimisation runs raise them; publish readiness (GOV-62 inventory
risk) checks that every critical row has one that somebody owns.
"""

import datetime

from django.db import transaction

from genxsop.errors import DuplicateEntity, ValidationFailed
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from governance.choices import NotificationKind
from planning import events
from planning import permissions as perms
from planning.choices import EXCEPTION_ACTIVE_STATUSES, ExceptionSeverity, ExceptionType
from planning.models import Inventory, InventoryPolicyException

__all__ = ["policy_exception_create"]


def _owner_validate(owner, inventory: Inventory) -> None:
    """ACC-04: an owner is an active user who can read the row."""
    if owner is None:
        return
    if not owner.is_active or not owner.has_perm(perms.VIEW_POLICY_EXCEPTION) or not object_in_scope(owner, inventory):
        message = "The owner must be an active user who can read this inventory row."
        raise ValidationFailed(message, fields={"owner_user_id": [message]})


@transaction.atomic
def policy_exception_create(*, actor, inventory: Inventory, exception_type: str, recommended_action: str,
                            severity: str = ExceptionSeverity.MEDIUM, owner=None,
                            due_date: datetime.date | None = None,
                            notes: str = "") -> InventoryPolicyException:  # fmt: skip
    """Open an exception on `inventory`. Needs change_inventorypolicyexception with the row in the
    actor's change scope. One active (open or in progress) exception per row and type: a second is
    409 DUPLICATE_ENTITY. The owner, when given, is notified (exception_assigned)."""
    require_perm(actor, perms.CHANGE_POLICY_EXCEPTION, inventory)
    inventory = Inventory.objects.select_for_update().select_related("product", "location").get(pk=inventory.pk)
    if exception_type not in ExceptionType.values:
        raise ValidationFailed(fields={"exception_type": [f"One of {', '.join(ExceptionType.values)}."]})
    _owner_validate(owner, inventory)
    if InventoryPolicyException.objects.filter(
        inventory=inventory, exception_type=exception_type, status__in=EXCEPTION_ACTIVE_STATUSES
    ).exists():
        raise DuplicateEntity(f"This row already has an active {exception_type.replace('_', ' ')} exception.")
    row = InventoryPolicyException(inventory=inventory, exception_type=exception_type, severity=severity,
                                   recommended_action=(recommended_action or "").strip(), owner=owner,
                                   due_date=due_date, notes=notes or "")  # fmt: skip
    validate_instance(row, exclude=["inventory", "owner", "resolved_by"])
    save_or_conflict(row)
    if owner is not None:
        from governance.services.notifications import notification_create_many

        notification_create_many(
            recipients=[owner],
            kind=NotificationKind.EXCEPTION_ASSIGNED,
            target=row,
            url="/inventory/",
            title=f"Exception assigned: {row.get_exception_type_display()} on {inventory.product.sku}",
            body=f"{inventory.product.sku} at {inventory.location.code}: {row.recommended_action}",
        )
    audit.record(actor=actor, event_type=events.POLICY_EXCEPTION_CREATED, target=row, after=snapshot(row),
                 related=inventory)  # fmt: skip
    bus.publish_on_commit(events.POLICY_EXCEPTION_CREATED, policy_exception_id=row.pk, inventory_id=inventory.pk)
    return row
