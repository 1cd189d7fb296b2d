"""Demand plan services (PLN-04, WF-10, WF-12): the only write path for demand plans.

Every service checks the permission (and the actor's object scope), locks the row, re-checks the
transition map, writes, records the audit event in the same transaction and publishes its domain
event after commit. Content changes keep the previous values as a history row (WF-12).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from genxsop.errors import (
    Conflict,
    EntityLocked,
    GranularityConflict,
    InUse,
    InvalidStateTransition,
    SelfApprovalForbidden,
    StaleVersion,
    ValidationFailed,
)
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from governance.models import AuditEvent
from planning import events
from planning import permissions as perms
from planning.choices import DEMAND_PLAN_TRANSITIONS, DemandPlanStatus, PlanSource, ProductStatus
from planning.models import TOTAL_CHANNEL, TOTAL_REGION, DemandPlan, Product

__all__ = [
    "DEMAND_PLAN_CONTENT_FIELDS",
    "demand_plan_allowed_actions",
    "demand_plan_approve",
    "demand_plan_create",
    "demand_plan_delete",
    "demand_plan_reject",
    "demand_plan_reopen",
    "demand_plan_submit",
    "demand_plan_update",
    "demand_plan_withdraw",
    "normalise_period",
]

# WF-12: the fields whose change makes a new version. `actual_qty` is a fact, never versioned.
DEMAND_PLAN_CONTENT_FIELDS = ["forecast_qty", "adjusted_qty", "consensus_qty", "confidence", "notes"]
# Copied into a history row: the content, plus what the version was and who made it.
_VERSIONED_FIELDS = [
    "product_id", "period", "region", "channel", *DEMAND_PLAN_CONTENT_FIELDS, "actual_qty", "status", "version",
    "source", "change_reason", "created_by_id", "updated_by_id",
]  # fmt: skip
_STATUS_FIELDS = [
    "status", "version", "submitted_by", "submitted_at", "approved_by", "approved_at", "rejected_by", "rejected_at",
]  # fmt: skip
PERIOD_MIN = datetime.date(2000, 1, 1)
PERIOD_MAX = datetime.date(2100, 12, 1)
DEFAULT_REJECTION_COMMENT = "Rejected"
_PAST = {
    "edit": "edited", "submit": "submitted", "withdraw": "withdrawn", "approve": "approved", "reject": "rejected",
    "reopen": "reopened", "delete": "deleted",
}  # fmt: skip


def normalise_period(value: datetime.date) -> datetime.date:
    """CNV-01: any day stands for its month; months outside 2000-01…2100-12 are refused."""
    period = value.replace(day=1)
    if not PERIOD_MIN <= period <= PERIOD_MAX:
        raise ValidationFailed(fields={"period": ["Periods lie between 2000-01 and 2100-12."]})
    return period


def _dimension(value, field: str, default: str) -> str:
    """CNV-06: dimension strings are trimmed; blank is invalid."""
    if value is None:
        return default
    value = str(value).strip()
    if not value:
        raise ValidationFailed(fields={field: ["This field may not be blank."]})
    return value


def _allowed(plan: DemandPlan) -> list[str]:
    return [a for a, moves in DEMAND_PLAN_TRANSITIONS.items() if plan.status in moves]


def _transition_validate(plan: DemandPlan, action: str) -> str | None:
    """WF-02: the target status of `action` on `plan`, or 409 INVALID_STATE_TRANSITION (ENTITY_LOCKED on
    history and locked rows, which no content action may touch)."""
    context = {"current_status": plan.status, "action": action, "allowed_actions": _allowed(plan)}
    if not plan.is_current:
        raise EntityLocked("History rows of a demand plan never change.", context={**context, "allowed_actions": []})
    moves = DEMAND_PLAN_TRANSITIONS[action]
    if plan.status not in moves:
        if plan.status == DemandPlanStatus.LOCKED and action in ("edit", "delete"):
            raise EntityLocked("The plan is locked by a publication; unlock it first.", context=context)
        raise InvalidStateTransition(f"A {plan.status} demand plan cannot be {_PAST[action]}.", context=context)
    return moves[plan.status]


def _check_version(plan: DemandPlan, expected_version: int | None) -> None:
    """WF-05: an `If-Match` / `expected_version` that is not the current version is 409 STALE_VERSION."""
    if expected_version is not None and expected_version != plan.version:
        raise StaleVersion(context={"current_version": plan.version, "expected_version": expected_version})


def _lock(plan: DemandPlan) -> DemandPlan:
    return DemandPlan.objects.select_related("product").select_for_update(of=("self",)).get(pk=plan.pk)


def _check_granularity(*, product: Product, period: datetime.date, region: str, channel: str) -> None:
    """PLN-22: a product-period has one total row (Global/All) or detail rows, never both."""
    current = DemandPlan.objects.filter(product=product, period=period, is_current=True)
    total = current.filter(region=TOTAL_REGION, channel=TOTAL_CHANNEL)
    if region == TOTAL_REGION and channel == TOTAL_CHANNEL:
        if current.exclude(pk__in=total.values("pk")).exists():
            raise GranularityConflict("This product-period is planned by region/channel; it cannot also have a total.")
    elif total.exists():
        raise GranularityConflict("This product-period is planned as one total row (Global/All); remove it first.")


@transaction.atomic
def demand_plan_create(*, actor, product: Product, data: dict, source: str = PlanSource.MANUAL) -> DemandPlan:
    """Create a draft demand plan, version 1 (WF-10 create). Needs add_demandplan in the product's scope.

    Refuses a discontinued product (409 BUSINESS_RULE_VIOLATION), a business key that already has a
    current row (409 DUPLICATE_ENTITY) and a row mixing total and detail granularity (409
    GRANULARITY_CONFLICT). Emits planning.demand_plan.created.
    """
    require_perm(actor, perms.ADD_DEMAND_PLAN)
    # Lock order: product, then plans. Serialises the key and granularity checks of one product.
    product = Product.objects.select_for_update().get(pk=product.pk)
    plan = DemandPlan(
        product=product,
        period=normalise_period(data["period"]),
        region=_dimension(data.get("region"), "region", TOTAL_REGION),
        channel=_dimension(data.get("channel"), "channel", TOTAL_CHANNEL),
        notes=data.get("notes") or "",
        source=source,
        change_reason=data.get("change_reason") or "",
        created_by=actor,
        updated_by=actor,
        **{k: data.get(k) for k in ("forecast_qty", "adjusted_qty", "actual_qty", "consensus_qty", "confidence")},
    )
    require_perm(actor, perms.ADD_DEMAND_PLAN, plan)  # the product must lie in the actor's change scope
    if product.status == ProductStatus.DISCONTINUED:
        raise Conflict("Demand cannot be planned for a discontinued product.")
    if plan.actual_qty is not None:
        plan.actual_updated_at = timezone.now()
    validate_instance(plan, exclude=["created_by", "updated_by"])
    _check_granularity(product=product, period=plan.period, region=plan.region, channel=plan.channel)
    save_or_conflict(plan)
    audit.record(actor=actor, event_type=events.DEMAND_PLAN_CREATED, target=plan, after=snapshot(plan))
    bus.publish_on_commit(events.DEMAND_PLAN_CREATED, demand_plan_id=plan.pk)
    return plan


def _refuse_status_change(data: dict, current: str) -> None:
    """WF-01: a status in an update body is ignored when unchanged, otherwise refused."""
    if "status" in data and data["status"] != current:
        message = "Status changes use the action endpoints."
        raise ValidationFailed(message, fields={"status": [message]})


@transaction.atomic
def demand_plan_update(*, actor, plan: DemandPlan, data: dict, expected_version: int | None = None,
                       source: str = PlanSource.MANUAL) -> DemandPlan:  # fmt: skip
    """Edit a plan's content and/or record its actual (WF-10 edit and record_actual, WF-12).

    Content fields (forecast, adjusted, consensus, confidence, notes) change only in draft or
    rejected (a rejected plan returns to draft: the "revise" step); the previous values are kept
    as a history row and the version goes up by one. `actual_qty` alone is a fact: allowed in every
    status, no new version. History rows and locked rows are 409 ENTITY_LOCKED; a wrong
    `expected_version` is 409 STALE_VERSION. Needs change_demandplan in the plan's scope.
    Emits planning.demand_plan.updated and/or planning.demand_plan.actual_recorded.
    """
    require_perm(actor, perms.CHANGE_DEMAND_PLAN, plan)
    plan = _lock(plan)
    if not plan.is_current:
        raise EntityLocked("History rows of a demand plan never change.")
    _check_version(plan, expected_version)
    _refuse_status_change(data, plan.status)
    for field in ("product_id", "period", "region", "channel"):
        if field in data and data[field] != getattr(plan, field):
            message = "The business key (product, period, region, channel) cannot change; create a new plan."
            raise ValidationFailed(message, fields={field: [message]})
    content = {k: data[k] for k in DEMAND_PLAN_CONTENT_FIELDS if k in data and _differs(getattr(plan, k), data[k], k)}
    actual_changed = "actual_qty" in data and _differs(plan.actual_qty, data["actual_qty"], "actual_qty")
    if not content and not actual_changed:
        return plan  # WF-12: an edit that changes nothing makes no version
    before = snapshot(plan)
    if content:
        new_status = _transition_validate(plan, "edit")
        history = DemandPlan(**{k: getattr(plan, k) for k in _VERSIONED_FIELDS}, is_current=False, history_of=plan)
        old_times = (plan.created_at, plan.updated_at)
        for key, value in content.items():
            setattr(plan, key, value if key != "notes" else (value or ""))
        plan.status = new_status
        plan.version += 1
        plan.source = source
        plan.change_reason = data.get("change_reason") or ""
    if actual_changed:
        plan.actual_qty = data["actual_qty"]
        plan.actual_updated_at = timezone.now()
    plan.updated_by = actor
    validate_instance(plan, exclude=["product", "created_by", "updated_by", "history_of"])
    # The live row moves to the next version first: the history row then takes the old number.
    save_or_conflict(plan)
    if content:
        save_or_conflict(history)
        DemandPlan.objects.filter(pk=history.pk).update(created_at=old_times[0], updated_at=old_times[1])
    after = snapshot(plan)
    if content:
        audit.record(actor=actor, event_type=events.DEMAND_PLAN_UPDATED, target=plan, before=before, after=after,
                     message=plan.change_reason, metadata={"version": plan.version})  # fmt: skip
        bus.publish_on_commit(events.DEMAND_PLAN_UPDATED, demand_plan_id=plan.pk)
    if actual_changed:
        audit.record(
            actor=actor,
            event_type=events.DEMAND_PLAN_ACTUAL_RECORDED,
            target=plan,
            before={"actual_qty": before["actual_qty"]},
            after={"actual_qty": after["actual_qty"]},
        )
        bus.publish_on_commit(events.DEMAND_PLAN_ACTUAL_RECORDED, demand_plan_id=plan.pk)
    return plan


def _differs(current, new, field: str) -> bool:
    if field == "notes":
        return (current or "") != (new or "")
    if current is None or new is None:
        return current is not new
    return Decimal(str(current)) != Decimal(str(new))


def _transition(*, actor, plan: DemandPlan, action: str, perm: str, event: str, comment: str,
                expected_version: int | None, apply, metadata: dict | None = None) -> DemandPlan:  # fmt: skip
    """WF-03: lock, re-check, write, audit with before/after status and the comment, publish on commit."""
    require_perm(actor, perm, plan)
    plan = _lock(plan)
    to_status = _transition_validate(plan, action)
    _check_version(plan, expected_version)
    before = snapshot(plan, _STATUS_FIELDS)
    extra = apply(plan) or {}
    plan.status = to_status
    plan.updated_by = actor
    plan.save(update_fields=[*_changed_fields(plan, before), "status", "updated_by", "updated_at"])
    audit.record(actor=actor, event_type=event, target=plan, before=before, after=snapshot(plan, _STATUS_FIELDS),
                 message=comment, metadata={**(metadata or {}), **extra, "action": action})  # fmt: skip
    bus.publish_on_commit(event, demand_plan_id=plan.pk)
    return plan


def _changed_fields(plan: DemandPlan, before: dict) -> list[str]:
    after = snapshot(plan, _STATUS_FIELDS)
    return [plan._meta.get_field(k.removesuffix("_id")).name for k in after if after[k] != before.get(k)
            and k != "status"]  # fmt: skip


@transaction.atomic
def demand_plan_submit(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """draft → submitted. Needs submit_demandplan. Sets submitted_by/_at. Emits planning.demand_plan.submitted."""

    def apply(p):
        p.submitted_by, p.submitted_at = actor, timezone.now()

    return _transition(actor=actor, plan=plan, action="submit", perm=perms.SUBMIT_DEMAND_PLAN,
                       event=events.DEMAND_PLAN_SUBMITTED, comment=comment, expected_version=expected_version,
                       apply=apply)  # fmt: skip


@transaction.atomic
def demand_plan_withdraw(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """submitted → draft. Needs submit_demandplan. Clears the submitted fields. Emits planning.demand_plan.withdrawn."""

    def apply(p):
        p.submitted_by, p.submitted_at = None, None

    return _transition(actor=actor, plan=plan, action="withdraw", perm=perms.SUBMIT_DEMAND_PLAN,
                       event=events.DEMAND_PLAN_WITHDRAWN, comment=comment, expected_version=expected_version,
                       apply=apply)  # fmt: skip


def _self_approval(actor, plan: DemandPlan) -> bool:
    return plan.submitted_by_id is not None and plan.submitted_by_id == actor.pk


@transaction.atomic
def demand_plan_approve(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """submitted → approved. Needs approve_demandplan.

    ACC-05: with ENFORCE_SEGREGATION_OF_DUTIES the submitter cannot approve the version they
    submitted (403 SELF_APPROVAL_FORBIDDEN); without it the audit event says `self_approved: true`.
    The optional comment is the audit message, of kind `approval`. Emits planning.demand_plan.approved.
    """

    def apply(p):
        if _self_approval(actor, p):
            if settings.ENFORCE_SEGREGATION_OF_DUTIES:
                raise SelfApprovalForbidden()
            extra = {"self_approved": True}
        else:
            extra = {}
        p.approved_by, p.approved_at = actor, timezone.now()
        p.rejected_by, p.rejected_at = None, None
        return extra

    return _transition(actor=actor, plan=plan, action="approve", perm=perms.APPROVE_DEMAND_PLAN,
                       event=events.DEMAND_PLAN_APPROVED, comment=comment, expected_version=expected_version,
                       apply=apply, metadata={"comment_kind": "approval"})  # fmt: skip


@transaction.atomic
def demand_plan_reject(*, actor, plan: DemandPlan, comment: str = "", expected_version: int | None = None):
    """submitted → rejected. Needs approve_demandplan. Sets rejected_by/_at.

    The comment (default "Rejected", WF-10) is kept as the audit event's message with
    `comment_kind: rejection`, never appended to the plan's notes. Emits planning.demand_plan.rejected.
    """

    def apply(p):
        p.rejected_by, p.rejected_at = actor, timezone.now()

    return _transition(actor=actor, plan=plan, action="reject", perm=perms.APPROVE_DEMAND_PLAN,
                       event=events.DEMAND_PLAN_REJECTED, comment=(comment or "").strip() or DEFAULT_REJECTION_COMMENT,
                       expected_version=expected_version, apply=apply,
                       metadata={"comment_kind": "rejection"})  # fmt: skip


@transaction.atomic
def demand_plan_reopen(*, actor, plan: DemandPlan, reason: str, expected_version: int | None = None):
    """approved → draft, with a required reason. Needs approve_demandplan. Clears the approval fields.
    Emits planning.demand_plan.reopened."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": ["A reason is required to reopen an approved plan."]})

    def apply(p):
        p.approved_by, p.approved_at = None, None
        p.submitted_by, p.submitted_at = None, None

    return _transition(actor=actor, plan=plan, action="reopen", perm=perms.APPROVE_DEMAND_PLAN,
                       event=events.DEMAND_PLAN_REOPENED, comment=reason, expected_version=expected_version,
                       apply=apply, metadata={"comment_kind": "reopen"})  # fmt: skip


def _was_ever_approved(plan: DemandPlan) -> bool:
    return AuditEvent.objects.filter(
        event_type=events.DEMAND_PLAN_APPROVED, target_type=audit.entity_type_of(plan), target_id=str(plan.pk)
    ).exists()


@transaction.atomic
def demand_plan_delete(*, actor, plan: DemandPlan, expected_version: int | None = None) -> None:
    """Hard-delete a draft or rejected plan with its history rows (WF-10 delete).

    A plan that was ever approved is 409 IN_USE (its values may be in a publication); the audit
    event keeps the before snapshot. Needs delete_demandplan. Emits planning.demand_plan.deleted.
    """
    require_perm(actor, perms.DELETE_DEMAND_PLAN, plan)
    plan = _lock(plan)
    _transition_validate(plan, "delete")
    _check_version(plan, expected_version)
    if _was_ever_approved(plan):
        raise InUse("The plan was approved before; its history must be kept.")
    before = snapshot(plan)
    pk = plan.pk
    plan.delete()  # history rows go with it (CASCADE)
    plan.pk = pk
    audit.record(actor=actor, event_type=events.DEMAND_PLAN_DELETED, target=plan, before=before)
    bus.publish_on_commit(events.DEMAND_PLAN_DELETED, demand_plan_id=pk)


def demand_plan_allowed_actions(*, user, plan: DemandPlan) -> list[str]:
    """WF-04: the actions `user` may take on `plan` now: role, change scope, state and ACC-05.

    Data-dependent guards (delete of a once-approved plan) are evaluated when invoked. No query
    once the caller's permissions and scope are cached, so lists stay at a constant query count.
    """
    if not plan.is_current or not object_in_scope(user, plan, change=True):
        return []
    status = plan.status
    checks = {
        "edit": perms.CHANGE_DEMAND_PLAN,
        "record_actual": perms.CHANGE_DEMAND_PLAN,
        "submit": perms.SUBMIT_DEMAND_PLAN,
        "withdraw": perms.SUBMIT_DEMAND_PLAN,
        "approve": perms.APPROVE_DEMAND_PLAN,
        "reject": perms.APPROVE_DEMAND_PLAN,
        "reopen": perms.APPROVE_DEMAND_PLAN,
        "delete": perms.DELETE_DEMAND_PLAN,
    }
    actions = []
    for action, perm in checks.items():
        if action != "record_actual" and status not in DEMAND_PLAN_TRANSITIONS[action]:
            continue
        if not user.has_perm(perm):
            continue
        if action == "approve" and settings.ENFORCE_SEGREGATION_OF_DUTIES and _self_approval(user, plan):
            continue
        actions.append(action)
    return actions
