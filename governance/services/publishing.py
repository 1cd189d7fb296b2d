"""Publishing (GOV-63…67, WF-50), rollback (GOV-66) and unlocking a published plan (WF-10/11 unlock).

A publication is the only way a plan row becomes `locked` and the only source of what the ERP
receives (INT-09). `publication_publish` re-evaluates the readiness gates inside its own
transaction, after locking the rows in scope, so no publication exists without a fresh,
non-dry-run evaluation of exactly the rows it locks (GOV-67). The API, the console, the
management command and any future caller go through it; nothing else creates publications.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from genxsop import context
from genxsop.errors import (
    Conflict,
    EntityLocked,
    FreezeWindowViolation,
    InvalidStateTransition,
    NotFound,
    PermissionDenied,
    PublishGateFailed,
    StaleEvaluation,
    StaleVersion,
    ValidationFailed,
)
from genxsop.filters import filter_queryset
from genxsop.scoping import object_scope
from genxsop.services import require_perm, snapshot, to_json_value
from governance import audit, bus, events
from governance import permissions as gperms
from governance.choices import (
    CommentKind,
    CycleStatus,
    DecisionCategory,
    EvaluationOutcome,
    Lane,
    NotificationKind,
    PublicationOutcome,
    PublicationStatus,
    Role,
)
from governance.models import (
    Publication,
    PublicationItem,
    PublishPolicy,
    ReadinessEvaluation,
    SopCycle,
    SopCycleStep,
    User,
)
from governance.services.comments import comment_record
from governance.services.notifications import notification_create_many
from planning.choices import OutboundKind, PlanStatus, ScenarioStatus
from planning.models import DemandPlan, Scenario, SupplyPlan
from planning.services.demand import DEMAND_PLAN
from planning.services.plans import PLAN_TRANSITIONS, PlanKind, allowed_by_state, plan_restore, plans_status_move
from planning.services.supply import SUPPLY_PLAN

OVERRIDE_JUSTIFICATION_MIN = 20  # GOV-64
ROLLBACK_REASON_MIN = 10  # GOV-66
PUBLISH_URL = "/publish/{pk}/"  # the console page of a publication (UI-12)
_KINDS = {"demand": DEMAND_PLAN, "supply": SUPPLY_PLAN}
_PUBLICATION_FIELDS = [
    "version_stamp", "lane", "period_from", "period_to", "sop_cycle", "evaluation", "outcome", "failed_gates",
    "override_justification", "override_by", "status", "published_by", "published_at", "superseded_by",
    "superseded_at", "rolled_back_by", "rolled_back_at", "rollback_reason", "restored_publication", "item_count",
    "snapshot_sha256",
]  # fmt: skip
_STATUS_FIELDS = ["status", "superseded_by", "superseded_at", "rolled_back_by", "rolled_back_at", "rollback_reason",
                  "restored_publication"]  # fmt: skip


def _readiness():
    # Imported late: the readiness service reads plans, scenarios and cycles, and those apps' services
    # import this module's neighbours; a module-level import would make the import order matter.
    from governance.services import readiness

    return readiness


# Values snapshot (GOV-17) ----------------------------------------------------------------------


def plan_values(kind: PlanKind, plan) -> dict:
    """What a publication item keeps of a row: every content field, the derived quantities and the
    status before locking. JSON values (decimals as strings, CNV-02); the actual is a fact recorded
    after publishing too, so it is not part of the published plan."""
    values = {name: plan.serializable_value(name) for name in kind.content_fields}
    if kind is DEMAND_PLAN:
        values["demand_qty"] = plan.demand_qty
    values["status"] = plan.status
    return {k: to_json_value(v) for k, v in values.items()}


def _typed_values(kind: PlanKind, values: dict) -> dict:
    """A snapshot's content values back as the model's Python types, for `plan_restore`."""
    return {name: kind.model._meta.get_field(name).to_python(values[name]) for name in kind.content_fields
            if name in values}  # fmt: skip


def _item_for(kind_name: str, plan, publication: Publication) -> PublicationItem:
    kind = _KINDS[kind_name]
    return PublicationItem(
        publication=publication, plan_type=kind_name, plan_id=plan.pk, plan_version=plan.version,
        product_id=plan.product_id, period=plan.period, region=getattr(plan, "region", "") or "",
        channel=getattr(plan, "channel", "") or "", location_id=getattr(plan, "location_id", None),
        values=plan_values(kind, plan),
    )  # fmt: skip


def _checksum(items: list[PublicationItem]) -> str:
    return _readiness().publication_items_sha256(items)


# Reads -----------------------------------------------------------------------------------------


def current_publication(lane: str) -> Publication | None:
    """The lane's current (published) publication, or None (WF-50: at most one per lane)."""
    return (
        Publication.objects.select_related("published_by", "override_by", "evaluation")
        .filter(lane=lane, status=PublicationStatus.PUBLISHED)
        .first()
    )


def publication_list(*, user, filters: dict | None = None) -> QuerySet[Publication]:
    """Publications newest first (API-GOV-12): every role that reads publications (NV)."""
    from governance.api.publication_filters import PublicationFilterSet

    require_perm(user, gperms.VIEW_PUBLICATION)
    qs = Publication.objects.select_related(
        "published_by", "override_by", "rolled_back_by", "evaluation", "sop_cycle", "superseded_by",
        "restored_publication",
    ).order_by("-published_at", "-id")  # fmt: skip
    return filter_queryset(PublicationFilterSet, filters or {}, qs)


def publication_get(*, user, pk) -> Publication:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    publication = publication_list(user=user).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if publication is None:
        raise NotFound("Publication not found.")
    return publication


def publication_items(publication: Publication) -> QuerySet[PublicationItem]:
    return publication.items.select_related("product", "location").order_by("plan_type", "plan_id")


def publication_previous(publication: Publication) -> Publication | None:
    """The publication this one superseded (or, once rolled back, the one it reinstated)."""
    previous = Publication.objects.filter(superseded_by=publication).order_by("-published_at", "-id").first()
    return previous or publication.restored_publication


def publication_diff(publication: Publication, against: Publication | None = None) -> list[dict]:
    """API-GOV-15: the changed values between `against` (default: the publication this one superseded)
    and `publication`, one entry per (plan, field); a plan in only one of them shows None on the other
    side."""
    if against is None:
        against = publication_previous(publication)
    before = {(i.plan_type, i.plan_id): i for i in publication_items(against)} if against is not None else {}
    after = {(i.plan_type, i.plan_id): i for i in publication_items(publication)}
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        row = new or old
        old_values, new_values = (old.values if old else {}), (new.values if new else {})
        dims = row.location.code if row.location_id else f"{row.region}/{row.channel}"
        for field in sorted(set(old_values) | set(new_values)):
            if old is not None and new is not None and old_values.get(field) == new_values.get(field):
                continue
            changes.append({
                "plan_type": key[0], "plan_id": key[1], "product": row.product.sku, "period": row.period,
                "key": dims, "field": field, "before": old_values.get(field), "after": new_values.get(field),
            })  # fmt: skip
    return changes


def publication_delivery_status(publication: Publication) -> str | None:
    """The status of the newest outbound message carrying this publication's stamp (UI-12), or None."""
    from planning.models import OutboundMessage

    message = (
        OutboundMessage.objects.filter(payload__version_stamp=publication.version_stamp, kind=OutboundKind.PUBLICATION)
        .order_by("-created_at", "-id")
        .first()
    )
    return message.status if message is not None else None


# Publish (GOV-63, GOV-64, GOV-65) --------------------------------------------------------------


def _require_unscoped(actor, what: str) -> None:
    """Publishing is company-wide (GOV-60): a user limited to some categories or locations may not."""
    if not object_scope(actor).unrestricted:
        raise PermissionDenied(f"{what} is company-wide; users with an object scope cannot do it.")


def _policy(lane: str) -> PublishPolicy:
    if lane not in Lane.values:
        raise ValidationFailed(fields={"lane": [f"Choose one of {', '.join(Lane.values)}."]})
    policy = PublishPolicy.objects.filter(lane=lane).first()
    if policy is None or not policy.is_active:
        raise Conflict(f"The {lane} lane is not active.")
    return policy


@dataclass
class _Scope:
    demand: list[DemandPlan]
    supply: list[SupplyPlan]

    def rows(self):
        yield from (("demand", p) for p in self.demand)
        yield from (("supply", p) for p in self.supply)


def _lock_scope(horizon) -> _Scope:
    """GOV-63 step 2: the rows in scope, locked in one fixed order (demand, then supply, by id), so two
    publishes (or a publish and a plan edit) never deadlock."""
    demand_qs, supply_qs = _readiness().plans_in_scope(horizon)
    demand = list(demand_qs.select_related("product").select_for_update(of=("self",)).order_by("id"))
    supply = list(supply_qs.select_related("product", "location").select_for_update(of=("self",)).order_by("id"))
    return _Scope(demand=demand, supply=supply)


def _failed_gates(evaluation: ReadinessEvaluation) -> list[dict]:
    failed = [
        {"gate": g["gate"], "section": g.get("section", ""), "overridable": bool(g.get("overridable")),
         "detail": g.get("detail", "")}
        for g in evaluation.must_pass or [] if not g.get("passed")
    ]  # fmt: skip
    if evaluation.score < evaluation.required_score:
        detail = f"Score {evaluation.score}/4 is below the required {evaluation.required_score}."
        failed.append({"gate": "required_score", "section": "Scored checks", "overridable": True, "detail": detail})
    return failed


def _stamp(lane: str, period_from: datetime.date) -> str:
    """GOV-65: W-/M-YYYYMM-vN, N counting the lane's publications of that period_from from 1."""
    n = Publication.objects.filter(lane=lane, period_from=period_from).count() + 1
    return f"{'W' if lane == Lane.WEEKLY else 'M'}-{period_from:%Y%m}-v{n}"


def _recipients(cycle: SopCycle | None = None):
    """GOV-42: executives, coordinators and administrators (EXEC_C), and the step owners of the linked cycle."""
    people = Q(role__in=[Role.ADMIN, Role.EXECUTIVE, Role.SOP_COORDINATOR])
    if cycle is not None:
        people |= Q(pk__in=SopCycleStep.objects.filter(cycle=cycle, owner__isnull=False).values("owner_id"))
    return list(User.objects.filter(people, is_active=True, is_service_account=False).order_by("id"))


def _operating_plan_scenario(period: datetime.date) -> Scenario | None:
    return Scenario.objects.filter(period=period, is_operating_plan=True, status=ScenarioStatus.APPROVED).first()


def _decision(*, actor, cycle: SopCycle | None, title: str, description: str, related: Publication):
    from governance.services.decisions import decision_record

    # A decision joins the cycle only while the cycle takes decisions (WF-40); otherwise it stands alone.
    cycle = cycle if cycle is not None and cycle.overall_status == CycleStatus.ACTIVE else None
    return decision_record(actor=actor, cycle=cycle, data={
        "title": title[:200], "description": description, "category": DecisionCategory.PUBLISH,
        "related_type": "publication", "related_id": str(related.pk),
    })  # fmt: skip


def publication_publish(*, actor, lane: str, period_from: datetime.date | None = None,
                        period_to: datetime.date | None = None, sop_cycle: SopCycle | None = None,
                        evaluation_id=None, override_justification: str | None = None,
                        request_id: str | None = None) -> Publication:  # fmt: skip
    """Publish the plans of a lane's horizon (GOV-63). Needs add_publication (PUB) and an unscoped
    actor; an override (GOV-64) needs override_publication (APPR) and a justification of at least 20
    characters, and is allowed only when every failed gate is overridable.

    Refusals after the evaluation (STALE_EVALUATION, PUBLISH_GATE_FAILED with the evaluation in
    `context`, BUSINESS_RULE_VIOLATION "nothing to publish") keep the evaluation and write nothing
    else. Emits governance.publication.published (and .overridden), .superseded for the previous
    publication, planning.<kind>.locked per newly locked row, the consensus freeze (FC-34) and
    planning.outbound_message.created.
    """
    require_perm(actor, gperms.ADD_PUBLICATION)
    justification = None
    if override_justification is not None:
        require_perm(actor, gperms.OVERRIDE_PUBLICATION)
        justification = override_justification.strip()
        if len(justification) < OVERRIDE_JUSTIFICATION_MIN:
            message = f"An override needs a justification of at least {OVERRIDE_JUSTIFICATION_MIN} characters."
            raise ValidationFailed(message, fields={"override.justification": [message]})
    _require_unscoped(actor, "Publishing")
    policy = _policy(lane)
    request_id = (request_id or context.request_id() or "")[:128]
    # The publish runs in a durable transaction whose refusals are *returned*, not raised: when the
    # gates say No-Go the transaction still commits, and it then holds exactly one write, the
    # evaluation (GOV-63 step 4: "the evaluation is kept, nothing else is written"). Committing and
    # raising afterwards behaves the same on SQLite and PostgreSQL and needs no second connection or
    # savepoint tricks; `durable=True` guarantees no caller's outer transaction can roll the kept
    # evaluation back. A refusal found before the evaluation is raised inside and rolls back.
    publication, refusal = _publish_transaction(
        actor=actor, policy=policy, period_from=period_from, period_to=period_to, sop_cycle=sop_cycle,
        evaluation_id=evaluation_id, justification=justification, request_id=request_id,
    )  # fmt: skip
    if refusal is not None:
        raise refusal
    return publication


@transaction.atomic(durable=True)
def _publish_transaction(*, actor, policy, period_from, period_to, sop_cycle, evaluation_id, justification,
                         request_id):  # fmt: skip
    readiness = _readiness()
    lane = policy.lane
    horizon = readiness.lane_horizon(policy, period_from=period_from, sop_cycle=sop_cycle)
    if period_to is not None and period_to.replace(day=1) != horizon.period_to:
        message = f"The {lane} horizon ends in {horizon.period_to:%Y-%m} (GOV-60); period_to cannot change it."
        raise ValidationFailed(message, fields={"period_to": [message]})
    earlier = None
    if evaluation_id is not None:
        earlier = ReadinessEvaluation.objects.filter(evaluation_id=evaluation_id).first()
        if earlier is None:
            raise ValidationFailed(fields={"evaluation_id": ["Unknown readiness evaluation."]})
    scope = _lock_scope(horizon)  # step 2
    # Step 3. A stale fingerprint the caller saw also fails the non-overridable version_stamping gate.
    evaluation = readiness.readiness_evaluate(
        actor=actor, lane=lane, period_from=period_from, sop_cycle=sop_cycle, dry_run=False, request_id=request_id,
        expected_fingerprint=earlier.plan_fingerprint if earlier is not None else None,
    )  # fmt: skip
    locked_fingerprint = readiness.plan_fingerprint(scope.demand, scope.supply)
    if earlier is not None and (earlier.lane != lane or earlier.plan_fingerprint != evaluation.plan_fingerprint):
        fresh = readiness.evaluation_as_dict(evaluation)
        return None, StaleEvaluation(context={"evaluation_id": str(earlier.evaluation_id), "fresh_evaluation": fresh})
    if locked_fingerprint != evaluation.plan_fingerprint:  # cannot happen while the rows are locked
        return None, StaleEvaluation(context={"fresh_evaluation": readiness.evaluation_as_dict(evaluation)})
    # Step 4: the gate.
    failed = _failed_gates(evaluation)
    if evaluation.outcome == EvaluationOutcome.GO:
        outcome, failed, justification = PublicationOutcome.GO, [], None
    elif justification is None:
        return None, PublishGateFailed(
            f"The {lane} readiness evaluation is No-Go: {', '.join(g['gate'] for g in failed) or 'score'} failed.",
            context=readiness.evaluation_as_dict(evaluation),
        )
    elif blocking := [g["gate"] for g in failed if not g["overridable"]]:
        return None, PublishGateFailed(
            f"These gates cannot be overridden: {', '.join(blocking)}.",
            context=readiness.evaluation_as_dict(evaluation),
        )
    else:
        outcome = PublicationOutcome.NO_GO_OVERRIDDEN
    # Step 5: what is published.
    to_lock = {"demand": [], "supply": []}
    included, excluded = [], []
    for kind_name, plan in scope.rows():
        if plan.status == PlanStatus.APPROVED:
            to_lock[kind_name].append(plan)
            included.append((kind_name, plan))
        elif plan.status == PlanStatus.LOCKED:
            included.append((kind_name, plan))
        else:
            excluded.append({"plan_type": kind_name, "plan_id": plan.pk, "sku": plan.product.sku,
                             "period": plan.period.isoformat(), "status": plan.status,
                             "reason": f"{plan.status}: only approved or locked rows are published"})  # fmt: skip
    if not included:
        return None, Conflict("nothing to publish", context={"evaluation_id": str(evaluation.evaluation_id),
                                                             "excluded": excluded[:50]})  # fmt: skip
    # Step 6: the publication, its items and checksum; the previous one is superseded first, so the
    # one-current-per-lane constraint holds at every statement.
    now = timezone.now()
    previous = Publication.objects.select_for_update().filter(lane=lane, status=PublicationStatus.PUBLISHED).first()
    previous_before = snapshot(previous, _STATUS_FIELDS) if previous is not None else None
    if previous is not None:
        previous.status, previous.superseded_at = PublicationStatus.SUPERSEDED, now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
    publication = Publication(
        version_stamp=_stamp(lane, horizon.period_from), lane=lane, period_from=horizon.period_from,
        period_to=horizon.period_to, sop_cycle=sop_cycle or horizon.sop_cycle, evaluation=evaluation, outcome=outcome,
        failed_gates=failed, override_justification=justification or "",
        override_by=actor if justification else None,
        operating_plan_scenario=_operating_plan_scenario(horizon.period_from if lane == Lane.MONTHLY
                                                         else timezone.localdate().replace(day=1)),
        published_by=actor, published_at=now, excluded=excluded, request_id=request_id,
    )  # fmt: skip
    items = [_item_for(kind_name, plan, publication) for kind_name, plan in included]
    publication.item_count, publication.snapshot_sha256 = len(items), _checksum(items)
    publication.save()
    PublicationItem.objects.bulk_create(items, batch_size=1000)
    if previous is not None:
        previous.superseded_by = publication
        previous.save(update_fields=["superseded_by", "updated_at"])
    recipients = _recipients(publication.sop_cycle)
    overridden = outcome == PublicationOutcome.NO_GO_OVERRIDDEN
    title = f"Plans published{' with a No-Go override' if overridden else ''}: {publication.version_stamp}"
    notification_create_many(
        recipients=recipients, kind=NotificationKind.PUBLICATION, title=title,
        body=(f"{publication.item_count} plan rows of the {lane} horizon "
              f"{publication.period_from:%b %Y} to {publication.period_to:%b %Y} were published by {actor.email}."
              + (f" Overridden gates: {', '.join(g['gate'] for g in failed)}. Justification: {justification}"
                 if overridden else "")),
        target=publication, url=PUBLISH_URL.format(pk=publication.pk),
    )  # fmt: skip
    # Audited writes last (ADR 0015): the ERP message (step 7), the row locks, the consensus freeze
    # (FC-34), the override decision and the publication's own events (step 8).
    from forecasting.services.consensus import consensus_freeze_for_plans
    from planning.services.integrations import outbound_message_for_publication

    outbound_message_for_publication(actor=actor, publication=publication)
    lock_meta = {"publication_id": publication.pk, "version_stamp": publication.version_stamp}
    for kind_name, plans in to_lock.items():
        plans_status_move(_KINDS[kind_name], "lock", actor=actor, plans=plans, publication=publication,
                          message=publication.version_stamp, metadata=lock_meta)  # fmt: skip
    consensus_freeze_for_plans(plan_ids=[p.pk for k, p in included if k == "demand"], actor=actor)
    if overridden:
        gates = "; ".join(f"{g['gate']} ({g['detail']})" if g["detail"] else g["gate"] for g in failed)
        _decision(actor=actor, cycle=publication.sop_cycle, related=publication,
                  title=f"Publish {publication.version_stamp} with a No-Go override",
                  description=f"{justification}\n\nOverridden gates: {gates}")  # fmt: skip
    metadata = {
        "evaluation_id": str(evaluation.evaluation_id), "item_count": publication.item_count,
        "locked": sum(len(v) for v in to_lock.values()), "excluded": len(excluded),
        "notified": [u.pk for u in recipients], "superseded": previous.version_stamp if previous else None,
    }  # fmt: skip
    entries = []
    if previous is not None:
        entries.append({"actor": actor, "event_type": events.PUBLICATION_SUPERSEDED, "target": previous,
                        "before": previous_before, "after": snapshot(previous, _STATUS_FIELDS),
                        "related": publication})  # fmt: skip
    after = snapshot(publication, _PUBLICATION_FIELDS)
    entries.append({"actor": actor, "event_type": events.PUBLICATION_PUBLISHED, "target": publication,
                    "after": after, "message": publication.version_stamp, "metadata": metadata})  # fmt: skip
    if overridden:
        entries.append({"actor": actor, "event_type": events.PUBLICATION_OVERRIDDEN, "target": publication,
                        "after": after, "message": justification,
                        "metadata": {**metadata, "failed_gates": [g["gate"] for g in failed]}})  # fmt: skip
    audit.record_many(entries)
    # Step 9: subscribers (ERP delivery, caches) run after commit.
    bus.publish_on_commit(events.PUBLICATION_PUBLISHED, publication_id=publication.pk)
    if overridden:
        bus.publish_on_commit(events.PUBLICATION_OVERRIDDEN, publication_id=publication.pk)
    return publication, None


# Rollback (GOV-66) -----------------------------------------------------------------------------


def _lock_plans(kind_name: str, ids) -> dict:
    kind = _KINDS[kind_name]
    related = ("product", "location") if kind_name == "supply" else ("product",)
    rows = kind.model.objects.select_related(*related).select_for_update(of=("self",)).filter(pk__in=ids)
    return {p.pk: p for p in rows.order_by("id")}


@transaction.atomic(durable=True)
def publication_rollback(*, actor, publication: Publication, reason: str) -> dict:
    """Roll back the current publication of a lane (GOV-66). Needs rollback_publication (APPR) and an
    unscoped actor; the reason needs at least 10 characters; allowed inside freeze windows.

    The publication becomes `rolled_back`; the one it superseded (if any) is `published` again. Each
    plan of the rolled-back publication gets the restored publication's values as a new version
    (`source = rollback`, locked by the restored publication) when that one has it; otherwise a row
    this publication locked is released to approved. Nothing is deleted. Returns
    `{rolled_back, restored, restored_plans, released_plans}`. Emits governance.publication.rolled_back
    (and .reinstated), planning.<kind>.restored / .released and planning.outbound_message.created.
    """
    require_perm(actor, gperms.ROLLBACK_PUBLICATION)
    _require_unscoped(actor, "Rolling back a publication")
    reason = (reason or "").strip()
    if len(reason) < ROLLBACK_REASON_MIN:
        message = f"A rollback needs a reason of at least {ROLLBACK_REASON_MIN} characters."
        raise ValidationFailed(message, fields={"reason": [message]})
    publication = Publication.objects.select_for_update().select_related("published_by").get(pk=publication.pk)
    if publication.status != PublicationStatus.PUBLISHED:
        current = current_publication(publication.lane)
        raise Conflict(
            "Only the current publication of a lane can be rolled back.",
            context={"status": publication.status, "current_publication": current.version_stamp if current else None},
        )
    items = list(publication_items(publication))
    restored = (
        Publication.objects.select_for_update().filter(superseded_by=publication).order_by("-published_at").first()
    )
    restored_list = list(publication_items(restored)) if restored else []
    # The rollback gate (issue 6, GOV-61 rollback_ready): the values written back must be exactly the
    # ones that were published, so the reinstated snapshot must still match its checksum.
    if restored is not None and _checksum(restored_list) != restored.snapshot_sha256:
        raise PublishGateFailed(
            f"The snapshot of {restored.version_stamp} no longer matches its checksum; nothing was rolled back.",
            context={"gate": "rollback_ready", "publication": restored.version_stamp,
                     "snapshot_sha256": restored.snapshot_sha256},
        )  # fmt: skip
    restored_items = {(i.plan_type, i.plan_id): i for i in restored_list}
    plans = {name: _lock_plans(name, sorted(i.plan_id for i in items if i.plan_type == name)) for name in _KINDS}
    now = timezone.now()
    before = snapshot(publication, _STATUS_FIELDS)
    publication.status, publication.rolled_back_by, publication.rolled_back_at = (
        PublicationStatus.ROLLED_BACK,
        actor,
        now,
    )
    publication.rollback_reason, publication.restored_publication = reason, restored
    publication.save(update_fields=["status", "rolled_back_by", "rolled_back_at", "rollback_reason",
                                    "restored_publication", "updated_at"])  # fmt: skip
    restored_before = None
    if restored is not None:
        restored_before = snapshot(restored, _STATUS_FIELDS)
        restored.status, restored.superseded_by, restored.superseded_at = PublicationStatus.PUBLISHED, None, None
        restored.save(update_fields=["status", "superseded_by", "superseded_at", "updated_at"])
    recipients = _recipients(publication.sop_cycle)
    restored_label = restored.version_stamp if restored else "no publication"
    notification_create_many(
        recipients=recipients, kind=NotificationKind.ROLLBACK,
        title=f"Publication {publication.version_stamp} rolled back",
        body=f"{actor.email} rolled back {publication.version_stamp}; {restored_label} is in force. Reason: {reason}",
        target=publication, url=PUBLISH_URL.format(pk=publication.pk),
    )  # fmt: skip
    from planning.services.integrations import outbound_message_for_publication

    outbound_message_for_publication(actor=actor, publication=restored, kind=OutboundKind.ROLLBACK,
                                     rolled_back=publication)  # fmt: skip
    restored_plans, released_plans, untouched = [], [], []
    to_release = {name: [] for name in _KINDS}
    message = f"Rollback of {publication.version_stamp}: {reason}"
    for item in items:
        kind = _KINDS[item.plan_type]
        plan = plans[item.plan_type].get(item.plan_id)
        ref = {"plan_type": item.plan_type, "plan_id": item.plan_id}
        if plan is None or not plan.is_current:
            untouched.append({**ref, "reason": "the plan row no longer exists"})
            continue
        source = restored_items.get((item.plan_type, item.plan_id))
        if source is not None and plan.status in PLAN_TRANSITIONS["restore"]:
            plan = plan_restore(kind, actor=actor, plan=plan, values=_typed_values(kind, source.values),
                                publication=restored, reason=message)  # fmt: skip
            restored_plans.append({**ref, "version": plan.version})
        elif source is None and plan.status == PlanStatus.LOCKED and plan.locked_by_publication_id == publication.pk:
            to_release[item.plan_type].append(plan)
            released_plans.append(ref)
        else:
            # E.g. a row the other lane's current publication holds, or one unlocked and resubmitted since.
            untouched.append({**ref, "reason": f"{plan.status}, not locked by this publication"})
    release_meta = {"publication_id": publication.pk, "version_stamp": publication.version_stamp}
    for name, rows in to_release.items():
        plans_status_move(_KINDS[name], "release", actor=actor, plans=rows, message=message, metadata=release_meta)
    _decision(actor=actor, cycle=publication.sop_cycle, related=publication,
              title=f"Roll back {publication.version_stamp}",
              description=f"{reason}\n\nReinstated: {restored_label}.")  # fmt: skip
    metadata = {"restored": restored.version_stamp if restored else None, "restored_plans": len(restored_plans),
                "gates": {"rollback_ready": True, "current_publication": True},
                "released_plans": len(released_plans), "untouched": untouched[:50],
                "notified": [u.pk for u in recipients]}  # fmt: skip
    entries = [{"actor": actor, "event_type": events.PUBLICATION_ROLLED_BACK, "target": publication, "before": before,
                "after": snapshot(publication, _STATUS_FIELDS), "message": reason, "metadata": metadata}]  # fmt: skip
    if restored is not None:
        entries.append({"actor": actor, "event_type": events.PUBLICATION_REINSTATED, "target": restored,
                        "before": restored_before, "after": snapshot(restored, _STATUS_FIELDS), "message": reason,
                        "related": publication})  # fmt: skip
    audit.record_many(entries)
    bus.publish_on_commit(events.PUBLICATION_ROLLED_BACK, publication_id=publication.pk)
    if restored is not None:
        bus.publish_on_commit(events.PUBLICATION_REINSTATED, publication_id=restored.pk)
    return {"rolled_back": publication, "restored": restored, "restored_plans": restored_plans,
            "released_plans": released_plans}  # fmt: skip


# Unlock (WF-10 / WF-11) ------------------------------------------------------------------------


@transaction.atomic
def plan_unlock(kind: PlanKind, *, actor, plan, justification: str, override_freeze: bool = False,
                expected_version: int | None = None):  # fmt: skip
    """locked → draft (WF-10 unlock). Needs the kind's approve permission (APPR) on the row and a
    justification, stored as a Comment of kind `override`. Inside the freeze window of the lane that
    published the row, also `override_freeze` (else 409 FREEZE_WINDOW_VIOLATION); the audit event's
    metadata says `freeze_override`. The published values stay in the publication's snapshot.
    Emits planning.<kind>.unlocked."""
    justification = (justification or "").strip()
    if not justification:
        raise ValidationFailed(fields={"justification": ["A justification is required to unlock a published plan."]})
    require_perm(actor, kind.approve_perm, plan)
    related = ("product", "location") if kind is SUPPLY_PLAN else ("product",)
    plan = kind.model.objects.select_related(*related).select_for_update(of=("self",)).get(pk=plan.pk)
    context_ = {"current_status": plan.status, "action": "unlock", "allowed_actions": allowed_by_state(plan)}
    if not plan.is_current:
        raise EntityLocked(f"History rows of a {kind.label} never change.", context={**context_, "allowed_actions": []})
    if plan.status not in PLAN_TRANSITIONS["unlock"]:
        raise InvalidStateTransition(f"A {plan.status} {kind.label} cannot be unlocked.", context=context_)
    if expected_version is not None and expected_version != plan.version:
        raise StaleVersion(context={"current_version": plan.version, "expected_version": expected_version})
    publication = Publication.objects.filter(pk=plan.locked_by_publication_id).first()
    in_freeze = _readiness().freeze_window_contains(plan)
    if in_freeze and not override_freeze:
        raise FreezeWindowViolation(
            "The period lies in the freeze window of the publication that locked it; confirm the freeze override.",
            context={"publication": publication.version_stamp if publication else None,
                     "period": plan.period.isoformat()},
        )  # fmt: skip
    comment_record(actor=actor, target=plan, kind=CommentKind.OVERRIDE, content=justification)
    plans_status_move(kind, "unlock", actor=actor, plans=[plan], message=justification, metadata={
        "freeze_override": bool(in_freeze), "publication_id": publication.pk if publication else None,
        "version_stamp": publication.version_stamp if publication else None,
    })  # fmt: skip
    return plan


# A plan row's publications (GOV-70) ------------------------------------------------------------


def publications_of_plan(*, user, plan_type: str, plan_id) -> QuerySet[PublicationItem]:
    """The items that froze one plan row (`plan_type` demand or supply, the row's current id), newest
    publication first, each with its publication and publisher loaded: one query for the list.

    Empty for users who cannot read publications: the plan page shows no Publications tab to them, and
    a plan reader learns nothing about publishing from it."""
    if plan_type not in _KINDS:
        raise ValueError(f"unknown plan type {plan_type!r}")
    if not user.has_perm(gperms.VIEW_PUBLICATION):
        return PublicationItem.objects.none()
    return (
        PublicationItem.objects.filter(plan_type=plan_type, plan_id=plan_id)
        .select_related("publication", "publication__published_by")
        .order_by("-publication__published_at", "-publication_id")
    )
