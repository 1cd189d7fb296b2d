"""Demo data of inventory exceptions (DEMO-09).

Every critical inventory row has an open stockout-risk exception owned by the inventory manager with
a due date (publish readiness reads that). Excess rows get excess-risk exceptions worded as an
optimisation run words them (FRM-06 step 7): two medium ones are already overdue, so escalations
and the control tower have something to show, and every third one has no owner yet, so there is
triage work. The demo optimisation run (demo_optimization) then claims the active ones.
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
    created += _excess_exceptions(actor=actor, owner=owner, today=today)
    if created:
        report.created["inventory exceptions"] = created
    return created


def _excess_exceptions(*, actor, owner, today) -> int:
    covered = set(
        InventoryPolicyException.objects.filter(
            exception_type=ExceptionType.EXCESS_RISK, status__in=EXCEPTION_ACTIVE_STATUSES
        ).values_list("inventory_id", flat=True)
    )
    rows = Inventory.objects.filter(status=InventoryStatus.EXCESS, max_stock__gt=0).select_related(
        "product", "location"
    )
    created = overdue = 0
    for index, row in enumerate(rows.order_by("pk")):
        if row.pk in covered:
            continue
        above = row.on_hand_qty - row.max_stock
        severity = ExceptionSeverity.HIGH if row.on_hand_qty > 2 * row.max_stock else ExceptionSeverity.MEDIUM
        if severity == ExceptionSeverity.MEDIUM and overdue < 2:
            due, who = today - timedelta(days=4 - 2 * overdue), owner  # 4 and 2 days overdue
            overdue += 1
        else:
            due = today + timedelta(days=2 if severity == ExceptionSeverity.HIGH else 5)
            who = None if index % 3 == 2 else owner
        policy_exception_create(
            actor=actor, inventory=row, exception_type=ExceptionType.EXCESS_RISK, severity=severity, owner=who,
            due_date=due, recommended_action=f"Reduce or rebalance {above:,.0f} units above max stock",
        )  # fmt: skip
        created += 1
    return created
