"""Consensus services (FC-03, FC-30…34, WF-20, FRM-28): the only write path for consensus rows.

A consensus row sits on a run and one of its periods. Content edits keep the previous values as a
history row (the plan engine's WF-12 scheme); status moves only through CONSENSUS_TRANSITIONS.
Approval pushes the final quantity into demand plans (FC-32) in the same transaction.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from forecasting import permissions as perms
from forecasting.choices import CONSENSUS_TRANSITIONS, ConsensusStatus
from forecasting.models import Forecast, ForecastConsensus, ForecastRun
from forecasting.services.promotion import (
    PROMOTION_SKIPPED_STATES,
    actual_weights,
    current_plans,
    money,
    plan_targets,
    write_target,
)
from genxsop.errors import (
    DuplicateEntity,
    EntityLocked,
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
from governance.services.comments import comment_record
from planning.choices import PlanSource, PlanStatus
from planning.services import plans
from planning.services.demand import demand_plan_kind_authorised_by
from planning.services.plans import normalise_period

__all__ = [
    "CONSENSUS_CONTENT_FIELDS",
    "consensus_allowed_actions",
    "consensus_approve",
    "consensus_create",
    "consensus_delete",
    "consensus_freeze_for_plans",
    "consensus_propose",
    "consensus_quantities",
    "consensus_return",
    "consensus_update",
    "consensus_withdraw",
]

CONSENSUS_CONTENT_FIELDS = ("baseline_qty", "sales_override_qty", "marketing_uplift_qty", "finance_adjustment_qty",
                            "constraint_cap_qty", "notes")  # fmt: skip
_QTY_FIELDS = CONSENSUS_CONTENT_FIELDS[:-1]
_PAST = {"create": "created", "edit": "updated", "propose": "proposed", "return": "returned", "approve": "approved",
         "supersede": "superseded", "freeze": "frozen", "delete": "deleted", "withdraw": "withdrawn"}  # fmt: skip
_STATUS_FIELDS = ["status", "version", "proposed_by", "proposed_at", "approved_by", "approved_at", "frozen_at",
                  "pushed_to"]  # fmt: skip
_VERSIONED_FIELDS = [
    "forecast_run_id", "product_id", "region", "channel", "period", *CONSENSUS_CONTENT_FIELDS, "pre_consensus_qty",
    "final_consensus_qty", "status", "version", "proposed_by_id", "proposed_at", "approved_by_id", "approved_at",
    "frozen_at", "created_by_id", "updated_by_id", "pushed_to",
]  # fmt: skip
# Actions a user may be offered (WF-04); supersede and freeze belong to the system.
_USER_ACTIONS = {
    "edit": perms.CHANGE_CONSENSUS,
    "propose": perms.PROPOSE_CONSENSUS,
    "return": perms.APPROVE_CONSENSUS,
    "approve": perms.APPROVE_CONSENSUS,
    "delete": perms.DELETE_CONSENSUS,
}


def event_name(action: str) -> str:
    return f"forecasting.consensus.{_PAST[action]}"


def consensus_quantities(*, baseline, sales_override=0, marketing_uplift=0, finance_adjustment=0,
                         constraint_cap=None) -> tuple[Decimal, Decimal]:  # fmt: skip
    """FRM-28: (pre, final). pre = max(0, baseline + sales + marketing + finance); final = max(0,
    min(pre, cap)) when a cap is set, else pre; 2 dp."""
    total = sum(Decimal(str(v or 0)) for v in (baseline, sales_override, marketing_uplift, finance_adjustment))
    pre = money(max(Decimal(0), total))
    final = pre if constraint_cap is None else money(max(Decimal(0), min(pre, Decimal(str(constraint_cap)))))
    return pre, final


def _recompute(row: ForecastConsensus) -> None:
    row.pre_consensus_qty, row.final_consensus_qty = consensus_quantities(
        baseline=row.baseline_qty, sales_override=row.sales_override_qty, marketing_uplift=row.marketing_uplift_qty,
        finance_adjustment=row.finance_adjustment_qty, constraint_cap=row.constraint_cap_qty,
    )  # fmt: skip


def _publish(action: str, row: ForecastConsensus) -> None:
    bus.publish_on_commit(event_name(action), consensus_id=row.pk, product_id=row.product_id)


def allowed_by_state(row: ForecastConsensus) -> list[str]:
    if not row.is_current:
        return []
    return [a for a in _USER_ACTIONS if row.status in CONSENSUS_TRANSITIONS[a]]


def _transition_validate(row: ForecastConsensus, action: str) -> str | None:
    """WF-02: the target status of `action`, or 409 INVALID_STATE_TRANSITION (ENTITY_LOCKED on history rows)."""
    context = {"current_status": row.status, "action": action, "allowed_actions": allowed_by_state(row)}
    if not row.is_current:
        raise EntityLocked("History rows of a consensus never change.", context={**context, "allowed_actions": []})
    moves = CONSENSUS_TRANSITIONS[action]
    if row.status not in moves:
        raise InvalidStateTransition(f"A {row.status} consensus cannot be {_PAST[action]}.", context=context)
    return moves[row.status]


def _check_version(row: ForecastConsensus, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != row.version:
        raise StaleVersion(context={"current_version": row.version, "expected_version": expected_version})


def _lock(row: ForecastConsensus) -> ForecastConsensus:
    return (
        ForecastConsensus.objects.select_related("product", "forecast_run")
        .select_for_update(of=("self",))
        .get(pk=row.pk)
    )


def _dimension(value, name: str, default: str) -> str:
    if value is None:
        return default
    value = str(value).strip()
    if not value:
        raise ValidationFailed(fields={name: ["This field may not be blank."]})
    return value


# Create and edit ----------------------------------------------------------------------------------


@transaction.atomic
def consensus_create(*, actor, data: dict) -> ForecastConsensus:
    """WF-20 create: a draft at version 1 on `data["forecast_run_audit_id"]` (API-FC-30).

    Unknown run (or outside the actor's scope) is 404; a product, region or channel other than the
    run's, or a period that is not one of its forecast periods, is 400; a current row for (run,
    period) is 409 DUPLICATE_ENTITY. `baseline_qty` defaults to the run's prediction; FRM-28 is
    computed. `status: "proposed"` proposes the new row in the same transaction.
    """
    require_perm(actor, perms.ADD_CONSENSUS)
    run_id = data.get("forecast_run_audit_id")
    run = ForecastRun.objects.for_user(actor).select_related("product").filter(pk=run_id).first()
    if run is None:
        raise NotFound("Forecast run not found.")
    require_perm(actor, perms.ADD_CONSENSUS, run)
    mismatch = {}
    if data.get("product_id") is not None and int(data["product_id"]) != run.product_id:
        mismatch["product_id"] = ["Must be the run's product."]
    region = _dimension(data.get("region"), "region", run.region)
    channel = _dimension(data.get("channel"), "channel", run.channel)
    if region != run.region:
        mismatch["region"] = ["Must be the run's region."]
    if channel != run.channel:
        mismatch["channel"] = ["Must be the run's channel."]
    if "period" not in data or data["period"] is None:
        mismatch["period"] = ["This field is required."]
    if mismatch:
        raise ValidationFailed("The consensus must match its run's series.", fields=mismatch)
    period = normalise_period(data["period"])
    result = Forecast.objects.filter(run=run, period=period).first()
    if result is None:
        raise ValidationFailed(fields={"period": ["Not one of the run's forecast periods."]})
    status = data.get("status") or ConsensusStatus.DRAFT
    if status not in (ConsensusStatus.DRAFT, ConsensusStatus.PROPOSED):
        raise ValidationFailed(fields={"status": ["A new consensus is draft or proposed."]})
    if ForecastConsensus.objects.filter(forecast_run=run, period=period, is_current=True).exists():
        raise DuplicateEntity("This run already has a consensus for that period.")
    baseline = data.get("baseline_qty")
    row = ForecastConsensus(
        forecast_run=run, product_id=run.product_id, region=run.region, channel=run.channel, period=period,
        baseline_qty=money(result.predicted_qty if baseline is None else baseline),
        sales_override_qty=data.get("sales_override_qty") or 0,
        marketing_uplift_qty=data.get("marketing_uplift_qty") or 0,
        finance_adjustment_qty=data.get("finance_adjustment_qty") or 0,
        constraint_cap_qty=data.get("constraint_cap_qty"), notes=data.get("notes") or "",
        created_by=actor, updated_by=actor,
    )  # fmt: skip
    _recompute(row)
    validate_instance(row, exclude=["forecast_run", "product", "created_by", "updated_by", "history_of"])
    save_or_conflict(row)
    audit.record(actor=actor, event_type=event_name("create"), target=row, after=snapshot(row))
    _publish("create", row)
    if status == ConsensusStatus.PROPOSED:
        row = consensus_propose(actor=actor, consensus=row)
    return row


def _differs(current, new) -> bool:
    if current is None or new is None:
        return current is not new
    if isinstance(current, str) or (isinstance(new, str) and not isinstance(current, Decimal)):
        return str(current) != str(new)
    return Decimal(str(current)) != Decimal(str(new))


@transaction.atomic
def consensus_update(*, actor, consensus: ForecastConsensus, data: dict,
                     expected_version: int | None = None) -> ForecastConsensus:  # fmt: skip
    """WF-20 edit (API-FC-31): content changes keep the previous values as a history row, version + 1,
    FRM-28 recomputed; a proposed row returns to draft. A `status` in `data` is the WF-20 shorthand:
    "proposed" proposes (after any content change), "draft" on a proposed row withdraws it to draft,
    the current status is ignored and anything else is 400. A change of nothing makes no version."""
    require_perm(actor, perms.CHANGE_CONSENSUS, consensus)
    status = data.get("status")
    if status is not None and status not in (ConsensusStatus.DRAFT, ConsensusStatus.PROPOSED):
        message = "Status changes other than proposed and draft use the action endpoints."
        raise ValidationFailed(message, fields={"status": [message]})
    row = _lock(consensus)
    _check_version(row, expected_version)
    if "notes" in data and data["notes"] is None:
        data = {**data, "notes": ""}
    content = {k: data[k] for k in CONSENSUS_CONTENT_FIELDS if k in data and _differs(getattr(row, k), data[k])}
    if "baseline_qty" in content and content["baseline_qty"] is None:
        raise ValidationFailed(fields={"baseline_qty": ["This field may not be null."]})
    if content:
        row = _edit(actor, row, content)
    if status == ConsensusStatus.PROPOSED and row.status != ConsensusStatus.PROPOSED:
        row = consensus_propose(actor=actor, consensus=row)
    elif status == ConsensusStatus.DRAFT and row.status == ConsensusStatus.PROPOSED:
        row = consensus_withdraw(actor=actor, consensus=row)
    elif status is not None and status != row.status:
        _transition_validate(row, "edit")  # e.g. draft/proposed on an approved row: 409
    return row


def _edit(actor, row: ForecastConsensus, content: dict) -> ForecastConsensus:
    new_status = _transition_validate(row, "edit")
    before = snapshot(row)
    history = ForecastConsensus(**{k: getattr(row, k) for k in _VERSIONED_FIELDS}, is_current=False, history_of=row)
    old_times = (row.created_at, row.updated_at)
    for key, value in content.items():
        setattr(row, key, (value or "") if key == "notes" else value)
    _recompute(row)
    if new_status != row.status:
        row.proposed_by, row.proposed_at = None, None
    row.status = new_status
    row.version += 1
    row.updated_by = actor
    validate_instance(row, exclude=["forecast_run", "product", "created_by", "updated_by", "history_of",
                                    "proposed_by", "approved_by"])  # fmt: skip
    # The live row takes the next version first: the history row then keeps the old number.
    save_or_conflict(row)
    save_or_conflict(history)
    ForecastConsensus.objects.filter(pk=history.pk).update(created_at=old_times[0], updated_at=old_times[1])
    audit.record(actor=actor, event_type=event_name("edit"), target=row, before=before, after=snapshot(row),
                 metadata={"version": row.version})  # fmt: skip
    _publish("edit", row)
    return row


# Transitions -------------------------------------------------------------------------------------


def _status_change(actor, row: ForecastConsensus, action: str, *, to_status: str, comment: str = "",
                   comment_kind: str | None = CommentKind.COMMENT, metadata: dict | None = None,
                   apply=None) -> ForecastConsensus:  # fmt: skip
    before = snapshot(row, _STATUS_FIELDS)
    if apply is not None:
        apply(row)
    row.status = to_status
    row.updated_by = actor
    save_or_conflict(row)
    after = snapshot(row, _STATUS_FIELDS)
    audit.record(actor=actor, event_type=event_name(action), target=row, before=before, after=after, message=comment,
                 metadata={"action": action, **(metadata or {})})  # fmt: skip
    if comment_kind and actor is not None:
        comment_record(actor=actor, target=row, kind=comment_kind, content=comment)
    _publish(action, row)
    return row


@transaction.atomic
def consensus_propose(*, actor, consensus: ForecastConsensus, comment: str = "",
                      expected_version: int | None = None) -> ForecastConsensus:  # fmt: skip
    """draft → proposed (API-FC-32). Needs propose_forecastconsensus. Sets proposed_by/_at; OPS are told
    through the `forecasting.consensus.proposed` event."""
    require_perm(actor, perms.PROPOSE_CONSENSUS, consensus)
    row = _lock(consensus)
    to_status = _transition_validate(row, "propose")
    _check_version(row, expected_version)

    def apply(r):
        r.proposed_by, r.proposed_at = actor, timezone.now()

    return _status_change(actor, row, "propose", to_status=to_status, comment=(comment or "").strip(), apply=apply)


@transaction.atomic
def consensus_withdraw(*, actor, consensus: ForecastConsensus, expected_version: int | None = None):
    """proposed → draft by its editor (the WF-20 PATCH shorthand `status: "draft"`): no new version."""
    require_perm(actor, perms.CHANGE_CONSENSUS, consensus)
    row = _lock(consensus)
    _check_version(row, expected_version)
    if not row.is_current:
        _transition_validate(row, "edit")  # 409 ENTITY_LOCKED
    if row.status != ConsensusStatus.PROPOSED:
        raise InvalidStateTransition(f"A {row.status} consensus cannot be withdrawn.", context={
            "current_status": row.status, "action": "withdraw", "allowed_actions": allowed_by_state(row)})  # fmt: skip

    def apply(r):
        r.proposed_by, r.proposed_at = None, None

    return _status_change(actor, row, "withdraw", to_status=ConsensusStatus.DRAFT, apply=apply)


@transaction.atomic
def consensus_return(*, actor, consensus: ForecastConsensus, comment: str,
                     expected_version: int | None = None) -> ForecastConsensus:  # fmt: skip
    """proposed → draft (API-FC-33). Needs approve_forecastconsensus (OPS). The comment is required and is
    stored as a `return` comment; the proposer is told through `forecasting.consensus.returned`."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(fields={"comment": ["A comment is required to return a consensus."]})
    require_perm(actor, perms.APPROVE_CONSENSUS, consensus)
    row = _lock(consensus)
    to_status = _transition_validate(row, "return")
    _check_version(row, expected_version)
    proposer = row.proposed_by_id

    def apply(r):
        r.proposed_by, r.proposed_at = None, None

    return _status_change(actor, row, "return", to_status=to_status, comment=comment, comment_kind=CommentKind.RETURN,
                          metadata={"proposed_by": proposer}, apply=apply)  # fmt: skip


def _self_approval(actor, row: ForecastConsensus) -> bool:
    return row.proposed_by_id is not None and row.proposed_by_id == actor.pk


def change_reason(row: ForecastConsensus) -> str:
    return f"Consensus {row.forecast_run_id}/{row.period:%Y-%m} v{row.version} approved"


@transaction.atomic
def consensus_approve(*, actor, consensus: ForecastConsensus, notes: str = "",
                      expected_version: int | None = None) -> ForecastConsensus:  # fmt: skip
    """proposed → approved (API-FC-34), pushing the final quantity into demand plans (FC-32).

    Needs approve_forecastconsensus; the proposer cannot approve (403 SELF_APPROVAL_FORBIDDEN, ACC-05).
    Every target plan row must be draft, rejected or submitted (submitted rows are withdrawn to draft
    first); an approved or locked one is 409 ENTITY_LOCKED listing the plans, and nothing is written.
    Each target gets a new version with source `consensus`; `pushed_to` records them. Any other
    current approved or frozen consensus of the same series-period becomes superseded.
    """
    require_perm(actor, perms.APPROVE_CONSENSUS, consensus)
    row = _lock(consensus)
    to_status = _transition_validate(row, "approve")
    _check_version(row, expected_version)
    extra = {}
    if _self_approval(actor, row):
        if settings.ENFORCE_SEGREGATION_OF_DUTIES:
            raise SelfApprovalForbidden("The user who proposed a consensus cannot approve it.")
        extra["self_approved"] = True
    rows = current_plans(row.product_id, [row.period], lock=True).get(row.period, [])
    targets = plan_targets(
        product_id=row.product_id,
        region=row.region,
        channel=row.channel,
        period=row.period,
        qty=row.final_consensus_qty,
        rows=rows,
        weights=actual_weights([row.product_id]),
    )
    blocked = [t.plan for t in targets if t.plan is not None and t.plan.status in (PlanStatus.APPROVED,
                                                                                  PlanStatus.LOCKED)]  # fmt: skip
    if blocked:
        raise EntityLocked(
            "Target demand plans are approved or locked; reopen or unlock them first.",
            context={"plans": [{"plan_id": p.pk, "status": p.status, "region": p.region, "channel": p.channel,
                                "period": p.period.isoformat()} for p in blocked]},
        )  # fmt: skip
    _supersede_others(row)
    kind = demand_plan_kind_authorised_by(perms.APPROVE_CONSENSUS)
    reason = change_reason(row)
    pushed = []
    for target in targets:
        if target.plan is not None and target.plan.status in PROMOTION_SKIPPED_STATES:  # submitted
            target.plan = plans.plan_transition(kind, "withdraw", actor=actor, plan=target.plan,
                                                comment=f"Withdrawn to draft by the system: {reason}.")  # fmt: skip
        plan = write_target(kind, actor=actor, product=row.product, target=target,
                            update={"consensus_qty": target.qty},
                            create={"forecast_qty": money(row.baseline_qty), "consensus_qty": target.qty},
                            source=PlanSource.CONSENSUS, change_reason=reason)  # fmt: skip
        pushed.append({"plan_id": plan.pk, "version": plan.version, "qty": str(target.qty)})

    def apply(r):
        r.approved_by, r.approved_at = actor, timezone.now()
        r.pushed_to = pushed

    return _status_change(
        actor,
        row,
        "approve",
        to_status=to_status,
        comment=(notes or "").strip(),
        comment_kind=CommentKind.APPROVAL,
        metadata={**extra, "pushed_to": pushed},
        apply=apply,
    )


def _supersede_others(row: ForecastConsensus) -> None:
    """WF-20 supersede (system): the series-period's previous approved or frozen consensus gives way."""
    others = (
        ForecastConsensus.objects.select_for_update()
        .filter(product_id=row.product_id, region=row.region, channel=row.channel, period=row.period,
                is_current=True, status__in=list(CONSENSUS_TRANSITIONS["supersede"]))
        .exclude(pk=row.pk)
    )  # fmt: skip
    for other in others:
        _status_change(None, other, "supersede", to_status=ConsensusStatus.SUPERSEDED, comment_kind=None,
                       metadata={"superseded_by": row.pk})  # fmt: skip


def consensus_freeze_for_plans(*, plan_ids: list[int], actor=None) -> int:
    """FC-34 (system, inside the publication's transaction): approved consensus rows pushed to any of
    `plan_ids` become frozen. Returns how many were frozen. Set-based: two reads, one update, one
    bulk audit insert."""
    from planning.models import DemandPlan

    plan_ids = {int(p) for p in plan_ids}
    if not plan_ids:
        return 0
    keys = set(DemandPlan.objects.filter(pk__in=plan_ids).values_list("product_id", "period"))
    if not keys:
        return 0
    candidates = ForecastConsensus.objects.select_for_update().filter(
        is_current=True, status=ConsensusStatus.APPROVED, product_id__in={k[0] for k in keys},
        period__in={k[1] for k in keys},
    )  # fmt: skip
    frozen = [c for c in candidates if any(int(p.get("plan_id", 0)) in plan_ids for p in c.pushed_to or [])]
    if not frozen:
        return 0
    now = timezone.now()
    ForecastConsensus.objects.filter(pk__in=[c.pk for c in frozen]).update(
        status=ConsensusStatus.FROZEN, frozen_at=now, updated_at=now
    )
    entries = []
    for c in frozen:
        before = snapshot(c, ["status", "frozen_at"])
        c.status, c.frozen_at = ConsensusStatus.FROZEN, now
        entries.append({"actor": actor, "event_type": event_name("freeze"), "target": c, "before": before,
                        "after": snapshot(c, ["status", "frozen_at"]),
                        "metadata": {"action": "freeze", "plan_ids": sorted(plan_ids)}})  # fmt: skip
        _publish("freeze", c)
    audit.record_many(entries)
    return len(frozen)


@transaction.atomic
def consensus_delete(*, actor, consensus: ForecastConsensus, expected_version: int | None = None) -> None:
    """WF-20 delete (API-FC-35): a draft row goes with its history rows; other states are 409."""
    require_perm(actor, perms.DELETE_CONSENSUS, consensus)
    row = _lock(consensus)
    _transition_validate(row, "delete")
    _check_version(row, expected_version)
    before = snapshot(row)
    pk = row.pk
    row.delete()  # history rows go with it (CASCADE)
    row.pk = pk
    audit.record(actor=actor, event_type=event_name("delete"), target=row, before=before)
    _publish("delete", row)


def consensus_action_perms(user) -> frozenset[str]:
    """The WF-04 action permissions `user` holds: checked once for a list, not once per row."""
    return frozenset(perm for perm in set(_USER_ACTIONS.values()) if user.has_perm(perm))


def consensus_allowed_actions(*, user, consensus: ForecastConsensus,
                              held_perms: frozenset[str] | None = None) -> list[str]:  # fmt: skip
    """WF-04: the actions `user` may take now: role, change scope, state and segregation of duties.
    Data-dependent guards (locked target plans) are evaluated when invoked. `held_perms`: the
    caller's consensus_action_perms, when already known."""
    if not consensus.is_current or not object_in_scope(user, consensus, change=True):
        return []
    out = []
    for action in allowed_by_state(consensus):
        perm = _USER_ACTIONS[action]
        if not (user.has_perm(perm) if held_perms is None else perm in held_perms):
            continue
        if action == "approve" and settings.ENFORCE_SEGREGATION_OF_DUTIES and _self_approval(user, consensus):
            continue
        out.append(action)
    return out
