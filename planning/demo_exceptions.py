"""Demo data of inventory exceptions (DEMO-09, the part publish readiness reads): every critical
inventory row has an open stockout-risk exception owned by the inventory manager with a due date.

The optimisation run that raises exceptions from policies arrives with the inventory policy engine;
until then the loader opens them through the same service the run will use.
"""

from datetime import timedelta

from django.utils import timezone

from governance.models import User
from planning.choices import EXCEPTION_ACTIVE_STATUSES, ExceptionSeverity, ExceptionType, InventoryStatus
from planning.models import Inventory, InventoryPolicyException
from planning.services.exceptions import policy_exception_create

OWNER = "inventory@genxsop.com"


def load_into(report, *, actor) -> int:
    """Open the missing exceptions; rows that already have an active one are left alone."""
    owner = User.objects.filter(email__iexact=OWNER).first()
    covered = set(
        InventoryPolicyException.objects.filter(
            exception_type=ExceptionType.STOCKOUT_RISK, status__in=EXCEPTION_ACTIVE_STATUSES
        ).values_list("inventory_id", flat=True)
    )
    today = timezone.localdate()
    created = 0
    rows = Inventory.objects.filter(status=InventoryStatus.CRITICAL).select_related("product", "location")
    for index, row in enumerate(rows.order_by("pk")):
        if row.pk in covered:
            continue
        policy_exception_create(
            actor=actor, inventory=row, exception_type=ExceptionType.STOCKOUT_RISK,
            severity=ExceptionSeverity.HIGH if index % 2 == 0 else ExceptionSeverity.MEDIUM, owner=owner,
            due_date=today + timedelta(days=3 + index % 5),
            recommended_action=f"Expedite a replenishment of {row.product.sku} to {row.location.code}: "
            "on hand is below the safety stock.",
        )  # fmt: skip
        created += 1
    if created:
        report.created["inventory exceptions"] = created
    return created
