"""The versioned-plan engine that demand and supply plans share (WF-10, WF-11, WF-12, WF-13).

A `PlanKind` describes one plan entity: its model, business key, content fields, actual field,
permissions and event names. The functions here implement the lifecycle once; `demand.py` and
`supply.py` are the named services callers use. Every service checks the permission (and the
actor's object scope), locks the row, re-checks the transition map, writes, records the audit
event in the same transaction and publishes its domain event after commit.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from genxsop.errors import (
    Conflict,
    DomainError,
    EntityLocked,
    InUse,
    InvalidStateTransition,
    NotFound,
    SelfApprovalForbidden,
    StaleVersion,
    ValidationFailed,
)
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from governance.choices import CommentKind
from governance.models import AuditEvent
from governance.services.comments import comment_record
from planning.choices import PLAN_SYSTEM_ACTIONS, PLAN_TRANSITIONS, PlanSource, PlanStatus, ProductStatus
from planning.models import Product, VersionedPlan

PERIOD_MIN = datetime.date(2000, 1, 1)
PERIOD_MAX = datetime.date(2100, 12, 1)
DEFAULT_REJECTION_COMMENT = "Rejected"
BULK_ACTIONS = ("submit", "withdraw", "approve", "reject")
BULK_MAX_IDS = 500
_PAST = {
    "edit": "edited", "submit": "submitted", "withdraw": "withdrawn", "approve": "approved", "reject": "rejected",
    "reopen": "reopened", "delete": "deleted", "lock": "locked", "unlock": "unlocked", "restore": "restored",
    "release": "released", "cycle_reopen": "cycle_reopened",
}  # fmt: skip
_LOCK_FIELDS = ["status", "locked_at", "locked_by_publication_id"]
_STATUS_FIELDS = [
    "status", "version", "submitted_by", "submitted_at", "approved_by", "approved_at", "rejected_by", "rejected_at",
]  # fmt: skip
_PROVENANCE_FIELDS = ["status", "version", "source", "change_reason", "created_by_id", "updated_by_id"]


@dataclass(frozen=True)
class PlanKind:
    model: type[VersionedPlan]
    name: str  # "demand_plan": event names planning.<name>.<past action>, bus kwarg <name>_id
    label: str  # "demand plan", for messages
    key_fields: tuple[str, ...]  # attnames of the business key (without version)
    content_fields: tuple[str, ...]  # WF-12: a change of one of these makes a new version
    actual_field: str  # a fact, never versioned
    add_perm: str
    change_perm: str
    delete_perm: str
    submit_perm: str  # submit and withdraw
    approve_perm: str  # approve, reject, reopen
    text_fields: tuple[str, ...] = ()  # content fields where None means ""

    def event(self, action: str) -> str:
        past = {"actual": "actual_recorded", "create": "created", "update": "updated"}.get(action) or _PAST[action]
        return f"planning.{self.name}.{past}"

    def publish(self, event: str, plan) -> None:
        # The product id too: after a delete the plan row is gone, and subscribers work per product.
        bus.publish_on_commit(event, **{f"{self.name}_id": plan.pk}, product_id=plan.product_id)

    @property
    def versioned_fields(self) -> list[str]:
        return [*self.key_fields, *self.content_fields, self.actual_field, *_PROVENANCE_FIELDS]


def normalise_period(value: datetime.date) -> datetime.date:
    """CNV-01: any day stands for its month; months outside 2000-01…2100-12 are refused."""
    period = value.replace(day=1)
    if not PERIOD_MIN <= period <= PERIOD_MAX:
        raise ValidationFailed(fields={"period": ["Periods lie between 2000-01 and 2100-12."]})
    return period


def allowed_by_state(plan: VersionedPlan) -> list[str]:
    return [a for a, moves in PLAN_TRANSITIONS.items() if plan.status in moves and a not in PLAN_SYSTEM_ACTIONS]


def _transition_validate(kind: PlanKind, plan: VersionedPlan, action: str) -> str | None:
    """WF-02: the target status of `action` on `plan`, or 409 INVALID_STATE_TRANSITION (ENTITY_LOCKED on
    history and locked rows, which no content action may touch)."""
    context = {"current_status": plan.status, "action": action, "allowed_actions": allowed_by_state(plan)}
    if not plan.is_current:
        raise EntityLocked(f"History rows of a {kind.label} never change.", context={**context, "allowed_actions": []})
    moves = PLAN_TRANSITIONS[action]
    if plan.status not in moves:
        if plan.status == PlanStatus.LOCKED and action in ("edit", "delete"):
            raise EntityLocked("The plan is locked by a publication; unlock it first.", context=context)
        raise InvalidStateTransition(f"A {plan.status} {kind.label} cannot be {_PAST[action]}.", context=context)
    return moves[plan.status]


def _check_version(plan: VersionedPlan, expected_version: int | None) -> None:
    """WF-05: an `If-Match` / `expected_version` that is not the current version is 409 STALE_VERSION."""
    if expected_version is not None and expected_version != plan.version:
        raise StaleVersion(context={"current_version": plan.version, "expected_version": expected_version})


def _lock(kind: PlanKind, plan: VersionedPlan) -> VersionedPlan:
    return kind.model.objects.select_related("product").select_for_update(of=("self",)).get(pk=plan.pk)


def plan_create(kind: PlanKind, *, actor, plan: VersionedPlan, guard: Callable[[VersionedPlan], None] | None = None):
    """WF-10 create: a draft at version 1. The caller builds the unsaved row; this checks and writes it.

    Runs inside the caller's transaction. Refuses a discontinued product (409
    BUSINESS_RULE_VIOLATION) and a business key that already has a current row (409
    DUPLICATE_ENTITY); `guard` adds the kind's own rules (granularity, active location).
    """
    require_perm(actor, kind.add_perm)
    # Lock order: product, then plans. Serialises the key checks of one product.
    plan.product = Product.objects.select_for_update().get(pk=plan.product_id)
    plan.period = normalise_period(plan.period)
    plan.created_by = plan.updated_by = actor
    require_perm(actor, kind.add_perm, plan)  # the product (and location) must lie in the actor's change scope
    if plan.product.status == ProductStatus.DISCONTINUED:
        raise Conflict(f"A {kind.label} cannot be made for a discontinued product.")
    if getattr(plan, kind.actual_field) is not None:
        plan.actual_updated_at = timezone.now()
    for field in kind.text_fields:
        if getattr(plan, field) is None:
            setattr(plan, field, "")
    validate_instance(plan, exclude=["created_by", "updated_by"])
    if guard is not None:
        guard(plan)
    save_or_conflict(plan)
    event = kind.event("create")
    audit.record(actor=actor, event_type=event, target=plan, after=snapshot(plan))
    kind.publish(event, plan)
    return plan


def _refuse_status_change(data: dict, current: str) -> None:
    """WF-01: a status in an update body is ignored when unchanged, otherwise refused."""
    if "status" in data and data["status"] != current:
        message = "Status changes use the action endpoints."
        raise ValidationFailed(message, fields={"status": [message]})


def _differs(kind: PlanKind, current, new, field: str) -> bool:
    if field in kind.text_fields:
        return (current or "") != (new or "")
    if current is None or new is None:
        return current is not new
    if isinstance(current, (int, Decimal, float)) or isinstance(new, (int, Decimal, float)):
        return Decimal(str(current)) != Decimal(str(new))
    return current != new


def plan_update(kind: PlanKind, *, actor, plan: VersionedPlan, data: dict, expected_version: int | None = None,
                source: str = PlanSource.MANUAL) -> VersionedPlan:  # fmt: skip
    """WF-10 edit and record_actual, WF-12. Runs inside the caller's transaction.

    Content fields change only in draft or rejected (a rejected plan returns to draft: the
    "revise" step); the previous values are kept as a history row and the version goes up by one.
    The actual alone is a fact: allowed in every status, no new version. History rows and locked
    rows are 409 ENTITY_LOCKED; a wrong `expected_version` is 409 STALE_VERSION.
    """
    require_perm(actor, kind.change_perm, plan)
    plan = _lock(kind, plan)
    if not plan.is_current:
        raise EntityLocked(f"History rows of a {kind.label} never change.")
    _check_version(plan, expected_version)
    _refuse_status_change(data, plan.status)
    for field in kind.key_fields:
        if field in data and data[field] != getattr(plan, field):
            message = f"The business key of a {kind.label} cannot change; create a new plan."
            raise ValidationFailed(message, fields={field: [message]})
    content = {k: data[k] for k in kind.content_fields if k in data and _differs(kind, getattr(plan, k), data[k], k)}
    actual = kind.actual_field
    actual_changed = actual in data and _differs(kind, getattr(plan, actual), data[actual], actual)
    if not content and not actual_changed:
        return plan  # WF-12: an edit that changes nothing makes no version
    before = snapshot(plan)
    if content:
        new_status = _transition_validate(kind, plan, "edit")
        history = kind.model(**{k: getattr(plan, k) for k in kind.versioned_fields}, is_current=False, history_of=plan)
        old_times = (plan.created_at, plan.updated_at)
        for key, value in content.items():
            setattr(plan, key, "" if value is None and key in kind.text_fields else value)
        plan.status = new_status
        plan.version += 1
        plan.source = source
        plan.change_reason = data.get("change_reason") or ""
    if actual_changed:
        setattr(plan, actual, data[actual])
        plan.actual_updated_at = timezone.now()
    plan.updated_by = actor
    validate_instance(plan, exclude=["product", "location", "created_by", "updated_by", "history_of"])
    # The live row moves to the next version first: the history row then takes the old number.
    save_or_conflict(plan)
    if content:
        save_or_conflict(history)
        kind.model.objects.filter(pk=history.pk).update(created_at=old_times[0], updated_at=old_times[1])
    after = snapshot(plan)
    if content:
        event = kind.event("update")
        audit.record(actor=actor, event_type=event, target=plan, before=before, after=after,
                     message=plan.change_reason, metadata={"version": plan.version, "source": source})  # fmt: skip
        kind.publish(event, plan)
    if actual_changed:
        event = kind.event("actual")
        audit.record(actor=actor, event_type=event, target=plan, before={actual: before[actual]},
                     after={actual: after[actual]}, metadata={"source": source})  # fmt: skip
        kind.publish(event, plan)
    return plan


def _self_approval(actor, plan: VersionedPlan) -> bool:
    return plan.submitted_by_id is not None and plan.submitted_by_id == actor.pk


def _apply_submit(actor, plan):
    plan.submitted_by, plan.submitted_at = actor, timezone.now()


def _apply_withdraw(actor, plan):
    plan.submitted_by, plan.submitted_at = None, None


def _apply_approve(actor, plan):
    """ACC-05: with ENFORCE_SEGREGATION_OF_DUTIES the submitter cannot approve the version they
    submitted (403 SELF_APPROVAL_FORBIDDEN); without it the audit event says `self_approved: true`."""
    extra = {}
    if _self_approval(actor, plan):
        if settings.ENFORCE_SEGREGATION_OF_DUTIES:
            raise SelfApprovalForbidden()
        extra = {"self_approved": True}
    plan.approved_by, plan.approved_at = actor, timezone.now()
    plan.rejected_by, plan.rejected_at = None, None
    return extra


def _apply_reject(actor, plan):
    plan.rejected_by, plan.rejected_at = actor, timezone.now()


def _apply_reopen(actor, plan):
    plan.approved_by, plan.approved_at = None, None
    plan.submitted_by, plan.submitted_at = None, None


_TRANSITIONS = {
    # action: (perm attribute of PlanKind, apply, kind of the comment that records the decision, GOV-12)
    "submit": ("submit_perm", _apply_submit, CommentKind.COMMENT),
    "withdraw": ("submit_perm", _apply_withdraw, CommentKind.COMMENT),
    "approve": ("approve_perm", _apply_approve, CommentKind.APPROVAL),
    "reject": ("approve_perm", _apply_reject, CommentKind.REJECTION),
    "reopen": ("approve_perm", _apply_reopen, CommentKind.RETURN),
}


def plan_transition(kind: PlanKind, action: str, *, actor, plan: VersionedPlan, comment: str = "",
                    expected_version: int | None = None) -> VersionedPlan:  # fmt: skip
    """WF-03: lock, re-check the map, write, audit with before/after status and the comment, publish on
    commit. Runs inside the caller's transaction. The comment is the audit message and a Comment row of
    the action's kind (never the notes); reject defaults it to "Rejected" and reopen requires it."""
    perm_attr, apply, comment_kind = _TRANSITIONS[action]
    comment = (comment or "").strip()
    if action == "reject":
        comment = comment or DEFAULT_REJECTION_COMMENT
    if action == "reopen" and not comment:
        raise ValidationFailed(fields={"reason": ["A reason is required to reopen an approved plan."]})
    require_perm(actor, getattr(kind, perm_attr), plan)
    plan = _lock(kind, plan)
    to_status = _transition_validate(kind, plan, action)
    _check_version(plan, expected_version)
    before = snapshot(plan, _STATUS_FIELDS)
    extra = apply(actor, plan) or {}
    plan.status = to_status
    plan.updated_by = actor
    after = snapshot(plan, _STATUS_FIELDS)
    changed = [plan._meta.get_field(k.removesuffix("_id")).name for k in after if after[k] != before.get(k)]
    plan.save(update_fields=[*dict.fromkeys([*changed, "status", "updated_by", "updated_at"])])
    metadata = {**extra, "action": action, "comment_kind": str(comment_kind)}
    event = kind.event(action)
    audit.record(actor=actor, event_type=event, target=plan, before=before, after=after, message=comment,
                 metadata=metadata)  # fmt: skip
    # The decision's comment is structured data on the plan (GOV-80), never appended to its notes.
    comment_record(actor=actor, target=plan, kind=comment_kind, content=comment)
    kind.publish(event, plan)
    return plan


def _was_ever_approved(kind: PlanKind, plan: VersionedPlan) -> bool:
    return AuditEvent.objects.filter(
        event_type=kind.event("approve"), target_type=audit.entity_type_of(plan), target_id=str(plan.pk)
    ).exists()


def plan_delete(kind: PlanKind, *, actor, plan: VersionedPlan, expected_version: int | None = None) -> None:
    """WF-10 delete: hard-delete a draft or rejected plan with its history rows, inside the caller's
    transaction. A plan that was ever approved is 409 IN_USE (its values may be in a publication);
    the audit event keeps the before snapshot."""
    require_perm(actor, kind.delete_perm, plan)
    plan = _lock(kind, plan)
    _transition_validate(kind, plan, "delete")
    _check_version(plan, expected_version)
    if _was_ever_approved(kind, plan):
        raise InUse("The plan was approved before; its history must be kept.")
    before = snapshot(plan)
    pk = plan.pk
    plan.delete()  # history rows go with it (CASCADE)
    plan.pk = pk
    event = kind.event("delete")
    audit.record(actor=actor, event_type=event, target=plan, before=before)
    kind.publish(event, plan)


def plan_allowed_actions(kind: PlanKind, *, user, plan: VersionedPlan) -> list[str]:
    """WF-04: the actions `user` may take on `plan` now: role, change scope, state and ACC-05.

    Data-dependent guards (delete of a once-approved plan) are evaluated when invoked. No query
    once the caller's permissions and scope are cached, so lists stay at a constant query count.
    """
    if not plan.is_current or not object_in_scope(user, plan, change=True):
        return []
    checks = {
        "edit": kind.change_perm,
        "record_actual": kind.change_perm,
        "submit": kind.submit_perm,
        "withdraw": kind.submit_perm,
        "approve": kind.approve_perm,
        "reject": kind.approve_perm,
        "reopen": kind.approve_perm,
        "unlock": kind.approve_perm,  # WF-10: the freeze-window guard is checked when invoked
        "delete": kind.delete_perm,
    }
    actions = []
    for action, perm in checks.items():
        if action != "record_actual" and plan.status not in PLAN_TRANSITIONS[action]:
            continue
        if not user.has_perm(perm):
            continue
        if action == "approve" and settings.ENFORCE_SEGREGATION_OF_DUTIES and _self_approval(user, plan):
            continue
        actions.append(action)
    return actions


def plan_bulk_transition(kind: PlanKind, action: str, *, actor, ids: list, comment: str = "",
                         get: Callable) -> dict:  # fmt: skip
    """WF-13: apply `action` to each id in its own transaction; each reports its own result.

    `get(user=, pk=)` is the kind's scoped selector, so an id outside the actor's read scope reports
    NOT_FOUND exactly like the detail endpoint. Returns `{results, succeeded, failed}`.
    """
    if action not in BULK_ACTIONS:
        raise NotFound(f"Unknown bulk action {action!r}; use one of {', '.join(BULK_ACTIONS)}.")
    if not ids or len(ids) > BULK_MAX_IDS:
        raise ValidationFailed(fields={"ids": [f"Give between 1 and {BULK_MAX_IDS} ids."]})
    require_perm(actor, getattr(kind, _TRANSITIONS[action][0]))
    results = []
    for pk in dict.fromkeys(ids):
        try:
            with transaction.atomic():
                plan = plan_transition(kind, action, actor=actor, plan=get(user=actor, pk=pk), comment=comment)
            results.append({"id": pk, "ok": True, "status": plan.status})
        except DomainError as exc:
            results.append({"id": pk, "ok": False, "error": {"code": exc.code, "message": exc.message}})
    succeeded = sum(1 for r in results if r["ok"])
    return {"results": results, "succeeded": succeeded, "failed": len(results) - succeeded}


def plans_status_move(kind: PlanKind, action: str, *, actor, plans: list[VersionedPlan], publication=None,
                      message: str = "", metadata: dict | None = None) -> None:  # fmt: skip
    """The set-based status moves of publishing and S&OP cycles (WF-10 lock, release, cycle_reopen, unlock).

    No permission check here: the governance service that calls this has checked its own (publish,
    rollback, the cycle's step start, unlock) and holds the row locks in a fixed order inside its
    transaction. Every row must be a current row in a state the map allows (else 409, nothing
    written); `lock` stamps `locked_at` and `locked_by_publication`, the other moves clear them.
    Writes one UPDATE per call and one audit row per plan, in bulk, carrying `metadata`.
    """
    if not plans:
        return
    moves = PLAN_TRANSITIONS[action]
    for plan in plans:
        if not plan.is_current or plan.status not in moves:
            context = {"current_status": plan.status, "action": action, "allowed_actions": allowed_by_state(plan)}
            raise InvalidStateTransition(f"A {plan.status} {kind.label} cannot be {_PAST[action]}.", context=context)
    now = timezone.now()
    locking = action == "lock"
    values = {"status": None, "locked_at": now if locking else None,
              "locked_by_publication_id": publication.pk if locking and publication is not None else None}  # fmt: skip
    entries = []
    by_target: dict[str, list[int]] = {}
    for plan in plans:
        before = snapshot(plan, _LOCK_FIELDS)
        target = moves[plan.status]
        by_target.setdefault(target, []).append(plan.pk)
        plan.status, plan.locked_at = target, values["locked_at"]
        plan.locked_by_publication_id = values["locked_by_publication_id"]
        plan.updated_by = actor
        entries.append({"actor": actor, "event_type": kind.event(action), "target": plan, "before": before,
                        "after": snapshot(plan, _LOCK_FIELDS), "message": message,
                        "metadata": {**(metadata or {}), "action": action, "version": plan.version}})  # fmt: skip
    for target, ids in by_target.items():
        kind.model.objects.filter(pk__in=ids).update(
            status=target, locked_at=values["locked_at"], locked_by_publication_id=values["locked_by_publication_id"],
            updated_by=actor, updated_at=now,
        )  # fmt: skip
    audit.record_many(entries)
    for plan in plans:
        kind.publish(kind.event(action), plan)


def plan_restore(kind: PlanKind, *, actor, plan: VersionedPlan, values: dict, publication,
                 reason: str = "") -> VersionedPlan:  # fmt: skip
    """WF-10 restore (GOV-66): the restored publication's values become a new version of the live row
    (`source = rollback`), locked by that publication. The caller (rollback) holds the row lock.

    The previous values stay as a history row like any content change (WF-12); when the values
    already equal the live ones no version is made and only the lock moves.
    """
    moves = PLAN_TRANSITIONS["restore"]
    if not plan.is_current or plan.status not in moves:
        context = {"current_status": plan.status, "action": "restore", "allowed_actions": allowed_by_state(plan)}
        raise InvalidStateTransition(f"A {plan.status} {kind.label} cannot be restored.", context=context)
    before = snapshot(plan)
    content = {
        k: values[k] for k in kind.content_fields if k in values and _differs(kind, getattr(plan, k), values[k], k)
    }
    if content:
        history = kind.model(**{k: getattr(plan, k) for k in kind.versioned_fields}, is_current=False, history_of=plan)
        old_times = (plan.created_at, plan.updated_at)
        for key, value in content.items():
            setattr(plan, key, "" if value is None and key in kind.text_fields else value)
        plan.version += 1
        plan.source = PlanSource.ROLLBACK
        plan.change_reason = reason[:500]
    plan.status = moves[plan.status]
    plan.locked_at = timezone.now()
    plan.locked_by_publication = publication
    plan.updated_by = actor
    save_or_conflict(plan)
    if content:
        save_or_conflict(history)
        kind.model.objects.filter(pk=history.pk).update(created_at=old_times[0], updated_at=old_times[1])
    event = kind.event("restore")
    audit.record(actor=actor, event_type=event, target=plan, before=before, after=snapshot(plan), message=reason,
                 metadata={"version": plan.version, "source": PlanSource.ROLLBACK, "publication_id": publication.pk,
                           "new_version": bool(content)})  # fmt: skip
    kind.publish(event, plan)
    return plan
