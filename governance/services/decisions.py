"""Decisions (GOV-10, WF-52, API-SOP-14): what an S&OP meeting or an approver decided.

EXEC_C (admin, executive, sop_coordinator) records them. A decision recorded with `supersedes`
marks the older one superseded in the same transaction.
"""

from django.db import transaction
from django.utils import timezone

from genxsop.errors import EntityLocked, InvalidStateTransition, ValidationFailed
from genxsop.services import require_perm, snapshot, validate_instance
from governance import audit, bus, events
from governance.choices import DECISION_TRANSITIONS, CycleStatus, DecisionStatus
from governance.models import Decision, SopCycle, User

ADD_DECISION = "governance.add_decision"


def cycle_writable_validate(cycle: SopCycle | None) -> None:
    """Completed and cancelled cycles refuse decisions and action items (409 ENTITY_LOCKED, WF-40)."""
    if cycle is not None and cycle.overall_status != CycleStatus.ACTIVE:
        raise EntityLocked(f"The cycle is {cycle.overall_status}; it takes no new decisions or action items.")


@transaction.atomic
def decision_record(*, actor: User, cycle: SopCycle | None, data: dict, supersedes: Decision | None = None) -> Decision:
    """Record a decision (needs governance.add_decision); emits governance.decision.recorded and, when
    `supersedes` is given, governance.decision.superseded for the older decision."""
    require_perm(actor, ADD_DECISION)
    if cycle is not None:
        cycle = SopCycle.objects.select_for_update().get(pk=cycle.pk)
    cycle_writable_validate(cycle)
    old = None
    if supersedes is not None:
        old = Decision.objects.select_for_update().get(pk=supersedes.pk)
        if DecisionStatus.SUPERSEDED not in DECISION_TRANSITIONS[old.status]:
            raise InvalidStateTransition("That decision is already superseded.")
        if cycle is not None and old.cycle_id not in (None, cycle.pk):
            raise ValidationFailed(fields={"supersedes_id": ["The decision belongs to another cycle."]})
    decision = Decision(
        cycle=cycle,
        step_number=data.get("step_number"),
        title=(data.get("title") or "").strip(),
        description=data.get("description") or "",
        category=data.get("category") or "",
        decided_by=data.get("decided_by") or actor,
        decided_at=data.get("decided_at") or timezone.now(),
        related_type=data.get("related_type") or "",
        related_id=str(data.get("related_id") or ""),
        created_by=actor,
    )
    validate_instance(decision)
    decision.save()
    if old is not None:
        before = snapshot(old)
        old.status, old.superseded_by = DecisionStatus.SUPERSEDED, decision
        old.save(update_fields=["status", "superseded_by", "updated_at"])
    entries = [
        {
            "actor": actor,
            "event_type": events.DECISION_RECORDED,
            "target": decision,
            "after": snapshot(decision),
            "related": cycle,
        }
    ]
    if old is not None:
        entries.append(
            {
                "actor": actor,
                "event_type": events.DECISION_SUPERSEDED,
                "target": old,
                "before": before,
                "after": snapshot(old),
                "related": cycle,
            }
        )
    audit.record_many(entries)
    bus.publish_on_commit(events.DECISION_RECORDED, decision_id=decision.pk)
    return decision
