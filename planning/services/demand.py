"""Demand plan services (PLN-04, WF-10, WF-12, WF-13): the only write path for demand plans.

The lifecycle is the shared plan engine (`planning.services.plans`); this module adds what is
particular to demand: the (product, period, region, channel) key and the granularity rule (PLN-22).
"""

import dataclasses

from django.db import transaction

from genxsop.errors import GranularityConflict, ValidationFailed
from planning import permissions as perms
from planning.choices import PlanSource
from planning.models import TOTAL_CHANNEL, TOTAL_REGION, DemandPlan, Product
from planning.services import plans
from planning.services.plans import PlanKind, normalise_period

__all__ = [
    "DEMAND_PLAN",
    "DEMAND_PLAN_CONTENT_FIELDS",
    "demand_plan_allowed_actions",
    "demand_plan_approve",
    "demand_plan_bulk_transition",
    "demand_plan_create",
    "demand_plan_delete",
    "demand_plan_kind_authorised_by",
    "demand_plan_reject",
    "demand_plan_reopen",
    "demand_plan_submit",
    "demand_plan_unlock",
    "demand_plan_update",
    "demand_plan_withdraw",
    "normalise_period",
]

# WF-12: the fields whose change makes a new version. `actual_qty` is a fact, never versioned.
DEMAND_PLAN_CONTENT_FIELDS = ["forecast_qty", "adjusted_qty", "consensus_qty", "confidence", "notes"]
DEMAND_PLAN = PlanKind(
    model=DemandPlan,
    name="demand_plan",
    label="demand plan",
    key_fields=("product_id", "period", "region", "channel"),
    content_fields=tuple(DEMAND_PLAN_CONTENT_FIELDS),
    actual_field="actual_qty",
    add_perm=perms.ADD_DEMAND_PLAN,
    change_perm=perms.CHANGE_DEMAND_PLAN,
    delete_perm=perms.DELETE_DEMAND_PLAN,
    submit_perm=perms.SUBMIT_DEMAND_PLAN,
    approve_perm=perms.APPROVE_DEMAND_PLAN,
    text_fields=("notes",),
)


def demand_plan_kind_authorised_by(perm: str) -> PlanKind:
    """The demand-plan kind for another app's service whose own permission covers writing plan rows.

    Consensus approval (FC-32) and forecast promotion (FC-33) write demand plans on behalf of roles
    that may not hold the demand-plan permissions (a finance analyst promotes a forecast). Passing
    this kind to `plans.plan_create/plan_update/plan_transition` checks `perm` (and the actor's
    change scope on the row) in place of the create, change and submit/withdraw permissions; every
    other rule of the engine (states, versions, audit with the real actor, events) is unchanged.
    Approving, rejecting and deleting plans keep their own permissions.
    """
    return dataclasses.replace(DEMAND_PLAN, add_perm=perm, change_perm=perm, submit_perm=perm)


def _dimension(value, field: str, default: str) -> str:
    """CNV-06: dimension strings are trimmed; blank is invalid."""
    if value is None:
        return default
    value = str(value).strip()
    if not value:
        raise ValidationFailed(fields={field: ["This field may not be blank."]})
    return value


def check_granularity(*, product_id: int, period, region: str, channel: str) -> None:
    """PLN-22: a product-period has one total row (Global/All) or detail rows, never both."""
    current = DemandPlan.objects.filter(product_id=product_id, period=period, is_current=True)
    total = current.filter(region=TOTAL_REGION, channel=TOTAL_CHANNEL)
    if region == TOTAL_REGION and channel == TOTAL_CHANNEL:
        if current.exclude(pk__in=total.values("pk")).exists():
            raise GranularityConflict("This product-period is planned by region/channel; it cannot also have a total.")
    elif total.exists():
        raise GranularityConflict("This product-period is planned as one total row (Global/All); remove it first.")


def _granularity_guard(plan: DemandPlan) -> None:
    check_granularity(product_id=plan.product_id, period=plan.period, region=plan.region, channel=plan.channel)


@transaction.atomic
def demand_plan_create(*, actor, product: Product, data: dict, source: str = PlanSource.MANUAL) -> DemandPlan:
    """Create a draft demand plan, version 1 (WF-10 create). Needs add_demandplan in the product's scope.

    Refuses a discontinued product (409 BUSINESS_RULE_VIOLATION), a business key that already has a
    current row (409 DUPLICATE_ENTITY) and a row mixing total and detail granularity (409
    GRANULARITY_CONFLICT). Emits planning.demand_plan.created.
    """
    plan = DemandPlan(
        product_id=product.pk,
        period=normalise_period(data["period"]),
        region=_dimension(data.get("region"), "region", TOTAL_REGION),
        channel=_dimension(data.get("channel"), "channel", TOTAL_CHANNEL),
        notes=data.get("notes") or "",
        source=source,
        change_reason=data.get("change_reason") or "",
        **{k: data.get(k) for k in ("forecast_qty", "adjusted_qty", "actual_qty", "consensus_qty", "confidence")},
    )
    return plans.plan_create(DEMAND_PLAN, actor=actor, plan=plan, guard=_granularity_guard)


@transaction.atomic
def demand_plan_update(*, actor, plan: DemandPlan, data: dict, expected_version: int | None = None,
                       source: str = PlanSource.MANUAL) -> DemandPlan:  # fmt: skip
    """Edit a plan's content and/or record its actual (WF-10 edit and record_actual, WF-12).

    Content fields (forecast, adjusted, consensus, confidence, notes) change only in draft or
    rejected; the previous values are kept as a history row and the version goes up by one.
    `actual_qty` alone is a fact: allowed in every status, no new version. Needs
    change_demandplan in the plan's scope. Emits planning.demand_plan.updated and/or
    planning.demand_plan.actual_recorded.
    """
    return plans.plan_update(DEMAND_PLAN, actor=actor, plan=plan, data=data, expected_version=expected_version,
                             source=source)  # fmt: skip


@transaction.atomic
def demand_plan_submit(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """draft → submitted. Needs submit_demandplan. Sets submitted_by/_at. Emits planning.demand_plan.submitted."""
    return plans.plan_transition(DEMAND_PLAN, "submit", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def demand_plan_withdraw(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """submitted → draft. Needs submit_demandplan. Clears the submitted fields. Emits planning.demand_plan.withdrawn."""
    return plans.plan_transition(DEMAND_PLAN, "withdraw", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def demand_plan_approve(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """submitted → approved. Needs approve_demandplan; the submitter cannot approve (ACC-05).
    The optional comment is the audit message, of kind `approval`. Emits planning.demand_plan.approved."""
    return plans.plan_transition(DEMAND_PLAN, "approve", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def demand_plan_reject(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """submitted → rejected. Needs approve_demandplan. The comment (default "Rejected") is the audit
    message with `comment_kind: rejection`, never appended to the notes. Emits planning.demand_plan.rejected."""
    return plans.plan_transition(DEMAND_PLAN, "reject", actor=actor, plan=plan, comment=comment,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def demand_plan_reopen(*, actor, plan: DemandPlan, reason: str, expected_version: int | None = None):
    """approved → draft, with a required reason. Needs approve_demandplan. Clears the approval fields.
    Emits planning.demand_plan.reopened."""
    return plans.plan_transition(DEMAND_PLAN, "reopen", actor=actor, plan=plan, comment=reason,
                                 expected_version=expected_version)  # fmt: skip


@transaction.atomic
def demand_plan_delete(*, actor, plan: DemandPlan, expected_version: int | None = None) -> None:
    """Hard-delete a draft or rejected plan with its history rows (WF-10 delete); a plan that was ever
    approved is 409 IN_USE. Needs delete_demandplan. Emits planning.demand_plan.deleted."""
    plans.plan_delete(DEMAND_PLAN, actor=actor, plan=plan, expected_version=expected_version)


@transaction.atomic
def demand_plan_unlock(*, actor, plan: DemandPlan, justification: str, override_freeze: bool = False,
                      expected_version: int | None = None) -> DemandPlan:  # fmt: skip
    """locked → draft (WF-10 unlock). Needs approve_demandplan and a justification; inside the
    freeze window of the publishing lane also `override_freeze`. Emits planning.demand_plan.unlocked."""
    from governance.services.publishing import plan_unlock  # governance imports this module

    return plan_unlock(DEMAND_PLAN, actor=actor, plan=plan, justification=justification,
                       override_freeze=override_freeze, expected_version=expected_version)  # fmt: skip


def demand_plan_bulk_transition(*, actor, action: str, ids: list, comment: str = "") -> dict:
    """WF-13 / API-DEM-14: submit, withdraw, approve or reject many plans, each in its own transaction."""
    from planning.selectors import demand_plan_get

    return plans.plan_bulk_transition(DEMAND_PLAN, action, actor=actor, ids=ids, comment=comment,
                                      get=demand_plan_get)  # fmt: skip


def demand_plan_allowed_actions(*, user, plan: DemandPlan) -> list[str]:
    """WF-04: the actions `user` may take on `plan` now (role, change scope, state, ACC-05)."""
    return plans.plan_allowed_actions(DEMAND_PLAN, user=user, plan=plan)
