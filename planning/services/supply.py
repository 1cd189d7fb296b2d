"""Supply plan services (PLN-05, WF-11, WF-12, WF-13): the only write path for supply plans.

The lifecycle is the shared plan engine (`planning.services.plans`); this module adds what is
particular to supply: the (product, period, location) key and the active-location rule (PLN-03).
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from genxsop.errors import Conflict, InvalidStateTransition, ValidationFailed
from genxsop.services import require_perm
from planning import permissions as perms
from planning.choices import PlanSource, PlanStatus
from planning.models import DEFAULT_LOCATION_CODE, Location, Product, SupplyPlan
from planning.services import plans
from planning.services.plans import PlanKind, normalise_period

__all__ = [
    "SUPPLY_PLAN",
    "SUPPLY_PLAN_CONTENT_FIELDS",
    "supply_gap_close",
    "supply_plan_allowed_actions",
    "supply_plan_approve",
    "supply_plan_bulk_transition",
    "supply_plan_create",
    "supply_plan_delete",
    "supply_plan_reject",
    "supply_plan_reopen",
    "supply_plan_submit",
    "supply_plan_unlock",
    "supply_plan_update",
    "supply_plan_withdraw",
]

SUPPLY_PLAN_CONTENT_FIELDS = [
    "planned_prod_qty", "capacity_max", "capacity_used", "supplier_name", "lead_time_days", "cost_per_unit",
    "constraints",
]  # fmt: skip
SUPPLY_PLAN = PlanKind(
    model=SupplyPlan,
    name="supply_plan",
    label="supply plan",
    key_fields=("product_id", "period", "location_id"),
    content_fields=tuple(SUPPLY_PLAN_CONTENT_FIELDS),
    actual_field="actual_prod_qty",
    add_perm=perms.ADD_SUPPLY_PLAN,
    change_perm=perms.CHANGE_SUPPLY_PLAN,
    delete_perm=perms.DELETE_SUPPLY_PLAN,
    submit_perm=perms.SUBMIT_SUPPLY_PLAN,
    approve_perm=perms.APPROVE_SUPPLY_PLAN,
    text_fields=("supplier_name", "constraints"),
)


def _active_location_guard(plan: SupplyPlan) -> None:
    """PLN-03: a deactivated location stays readable but accepts no new rows."""
    if not plan.location.is_active:
        raise Conflict(f"Location {plan.location.code} is deactivated and accepts no new supply plans.")


@transaction.atomic
def supply_plan_create(*, actor, product: Product, location: Location, data: dict,
                       source: str = PlanSource.MANUAL) -> SupplyPlan:  # fmt: skip
    """Create a draft supply plan, version 1 (WF-11 create). Needs add_supplyplan in the product's and
    location's scope.

    Refuses a discontinued product (409 BUSINESS_RULE_VIOLATION), a deactivated location (409
    BUSINESS_RULE_VIOLATION) and a business key that already has a current row (409
    DUPLICATE_ENTITY). Emits planning.supply_plan.created.
    """
    plan = SupplyPlan(
        product_id=product.pk,
        location=location,
        period=normalise_period(data["period"]),
        source=source,
        change_reason=data.get("change_reason") or "",
        **{k: data.get(k) for k in (*SUPPLY_PLAN_CONTENT_FIELDS, "actual_prod_qty")},
    )
    return plans.plan_create(SUPPLY_PLAN, actor=actor, plan=plan, guard=_active_location_guard)


@transaction.atomic
def supply_plan_update(*, actor, plan: SupplyPlan, data: dict, expected_version: int | None = None,
                       source: str = PlanSource.MANUAL) -> SupplyPlan:  # fmt: skip
    """Edit a supply plan's content and/or record its actual production (WF-11, WF-12).

    Content changes are allowed in draft and rejected and keep the previous values as a history
    row; `actual_prod_qty` alone is allowed in every status and makes no version. Needs
    change_supplyplan in scope. Emits planning.supply_plan.updated and/or .actual_recorded.
    """
    return plans.plan_update(SUPPLY_PLAN, actor=actor, plan=plan, data=data, expected_version=expected_version,
                             source=source)  # fmt: skip


@transaction.atomic
def supply_plan_submit(*, actor, plan: SupplyPlan, comment: str = "", expected_version: int | None = None):
    """draft → submitted. Needs submit_supplyplan. Emits planning.supply_plan.submitted."""
    return plans.plan_transition(SUPPLY_PLAN, "submit", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def supply_plan_withdraw(*, actor, plan: SupplyPlan, comment: str = "", expected_version: int | None = None):
    """submitted → draft. Needs submit_supplyplan. Emits planning.supply_plan.withdrawn."""
    return plans.plan_transition(SUPPLY_PLAN, "withdraw", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def supply_plan_approve(*, actor, plan: SupplyPlan, comment: str = "", expected_version: int | None = None):
    """submitted → approved; records the approver. Needs approve_supplyplan; the submitter cannot
    approve (ACC-05). Emits planning.supply_plan.approved."""
    return plans.plan_transition(SUPPLY_PLAN, "approve", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def supply_plan_reject(*, actor, plan: SupplyPlan, comment: str = "", expected_version: int | None = None):
    """submitted → rejected, comment kept in the audit log (default "Rejected"). Needs approve_supplyplan.
    Emits planning.supply_plan.rejected."""
    return plans.plan_transition(SUPPLY_PLAN, "reject", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def supply_plan_reopen(*, actor, plan: SupplyPlan, reason: str, expected_version: int | None = None):
    """approved → draft with a required reason. Needs approve_supplyplan. Emits planning.supply_plan.reopened."""
    return plans.plan_transition(SUPPLY_PLAN, "reopen", actor=actor, plan=plan, comment=reason,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def supply_plan_delete(*, actor, plan: SupplyPlan, expected_version: int | None = None) -> None:
    """Hard-delete a draft or rejected, never-approved supply plan and its history rows (WF-11).
    Needs delete_supplyplan. Emits planning.supply_plan.deleted."""
    plans.plan_delete(SUPPLY_PLAN, actor=actor, plan=plan, expected_version=expected_version)


@transaction.atomic
def supply_plan_unlock(*, actor, plan: SupplyPlan, justification: str, override_freeze: bool = False,
                      expected_version: int | None = None) -> SupplyPlan:  # fmt: skip
    """locked → draft (WF-11 unlock). Needs approve_supplyplan and a justification; inside the
    freeze window of the publishing lane also `override_freeze`. Emits planning.supply_plan.unlocked."""
    from governance.services.publishing import plan_unlock  # governance imports this module

    return plan_unlock(SUPPLY_PLAN, actor=actor, plan=plan, justification=justification,
                       override_freeze=override_freeze, expected_version=expected_version)  # fmt: skip


def supply_plan_bulk_transition(*, actor, action: str, ids: list, comment: str = "") -> dict:
    """WF-13 / API-SUP-13: submit, withdraw, approve or reject many plans, each in its own transaction."""
    from planning.selectors import supply_plan_get

    return plans.plan_bulk_transition(SUPPLY_PLAN, action, actor=actor, ids=ids, comment=comment,
                                      get=supply_plan_get)  # fmt: skip


def supply_plan_allowed_actions(*, user, plan: SupplyPlan) -> list[str]:
    """WF-04: the actions `user` may take on `plan` now (role, change scope, state, ACC-05)."""
    return plans.plan_allowed_actions(SUPPLY_PLAN, user=user, plan=plan)


def _units(qty) -> str:
    return f"{qty.normalize():,f}"


@transaction.atomic
def supply_gap_close(*, actor, product: Product, period, location: Location | None = None,
                     planned_prod_qty=None, expected_version: int | None = None) -> SupplyPlan:  # fmt: skip
    """Write the supply that closes or adjusts a product-period's gap (UI-05 "Close Gap" / "Adjust Plan").

    The gap is FRM-02 over the actor's scope; a product-period without demand or in balance is 409
    BUSINESS_RULE_VIOLATION. The new `planned_prod_qty` of the product's current supply row at
    `location` (default: the location whose row plans the most, else Main) is the given quantity,
    else the proposal of `gap_close_proposal`: max(0, planned - plan gap), i.e. planned + |plan gap|
    for a shortage and planned - plan gap for an excess. It is written through supply_plan_update
    when that row is draft or rejected (a new version whose change_reason names the gap), through
    supply_plan_create (a draft) when there is none. A submitted, approved or locked row is 409
    INVALID_STATE_TRANSITION (withdraw or reopen it first); a quantity the row already plans is 409
    BUSINESS_RULE_VIOLATION. Needs change_supplyplan (and add_supplyplan to create). Emits what
    those services emit.
    """
    from planning.selectors import gap_close_proposal

    require_perm(actor, perms.CHANGE_SUPPLY_PLAN)
    period = normalise_period(period)
    proposal = gap_close_proposal(user=actor, product=product, period=period, location=location)
    item, location, row = proposal["item"], proposal["location"], proposal["row"]
    if item is None or proposal["action"] is None:
        why = "it has no demand" if item is None else "supply and demand are balanced"
        raise Conflict(f"There is no coverage gap to close for {product.sku} in {period:%b %Y}: {why}.")
    if location is None:
        raise ValidationFailed(fields={"location": [f"Unknown location {DEFAULT_LOCATION_CODE}."]})
    if planned_prod_qty is None:
        planned = proposal["proposed_qty"]
    else:
        try:
            planned = Decimal(str(planned_prod_qty))
            if planned.is_finite() and planned >= 0:
                planned = planned.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            raise ValidationFailed(fields={"planned_prod_qty": ["Enter a number."]}) from None
        if not planned.is_finite() or planned < 0:
            raise ValidationFailed(fields={"planned_prod_qty": ["Must be zero or more."]})
    verb = "Closes the shortfall" if proposal["action"] == "close" else "Adjusts the excess"
    reason = (
        f"{verb} of {product.sku} in {period:%b %Y}: plan gap {_units(item['plan_gap_qty'])} units "
        f"(demand {_units(item['demand_qty'])}, coverage {item['coverage_gap_pct']:.1f} %, {item['status']})."
    )
    if row is None:
        data = {"period": period, "planned_prod_qty": planned, "change_reason": reason}
        return supply_plan_create(actor=actor, product=product, location=location, data=data)
    if row.status not in (PlanStatus.DRAFT, PlanStatus.REJECTED):
        raise InvalidStateTransition(
            f"The supply plan of {product.sku} for {period:%b %Y} at {location.code} is "
            f"{row.get_status_display().lower()}; withdraw or reopen it before closing the gap.",
            context={"current_status": row.status, "action": "edit", "allowed_actions": plans.allowed_by_state(row)},
        )
    if planned == (row.planned_prod_qty or 0):
        raise Conflict(
            f"The supply plan of {product.sku} for {period:%b %Y} at {location.code} already plans "
            f"{_units(planned)} units; there is nothing to change."
        )
    return supply_plan_update(actor=actor, plan=row, expected_version=expected_version,
                              data={"planned_prod_qty": planned, "change_reason": reason})  # fmt: skip
