"""Rollback (GOV-66) and unlocking published plans (WF-10/11 unlock)."""

import pytest

from genxsop.errors import Conflict, FreezeWindowViolation, PermissionDenied, PublishGateFailed, ValidationFailed
from governance.choices import CommentKind, DecisionCategory, NotificationKind, PublicationStatus, Role
from governance.models import AuditEvent, Comment, Decision, Notification, Publication, PublicationItem
from governance.services import publishing
from planning import services
from planning.choices import OutboundKind, PlanSource, PlanStatus
from planning.models import DemandPlan, OutboundMessage, SupplyPlan
from tests.governance.test_publishing_world import make_world, publish

pytestmark = pytest.mark.django_db

REASON = "The ERP rejected the new volumes"


@pytest.fixture
def world(users):
    return make_world(users)


def _revise(world, plan, **data):
    """Unlock, edit, submit and approve a published row: the next publication carries the new values."""
    last = world.periods[-1]
    assert plan.period == last, "rows outside the freeze window unlock without an override"
    planner = world.users[Role.DEMAND_PLANNER]
    services.demand_plan_unlock(actor=world.executive, plan=plan, justification="Customer raised the order")
    plan = services.demand_plan_update(actor=planner, plan=plan, data=data)
    services.demand_plan_submit(actor=planner, plan=plan)
    return services.demand_plan_approve(actor=world.executive, plan=plan)


@pytest.fixture
def two(world):
    """v1 with the ready company; v2 after one row changed and one row was added."""
    world.v1 = publish(world)
    world.changed = _revise(world, world.demand[world.periods[-1]], forecast_qty=150)
    world.added = world.demand_row(world.product, world.periods[-1], region="North")
    world.v2 = publish(world)
    return world


def test_rollback_restores_the_previous_values_as_a_new_version_and_releases_the_rest(two):
    w = two
    assert w.v2.items.get(plan_type="demand", plan_id=w.changed.pk).values["forecast_qty"] == "150.00"
    result = publishing.publication_rollback(actor=w.executive, publication=w.v2, reason=REASON)
    w.v1.refresh_from_db()
    w.v2.refresh_from_db()
    assert (result["rolled_back"], result["restored"]) == (w.v2, w.v1)
    assert (w.v2.status, w.v2.rolled_back_by, w.v2.rollback_reason) == (PublicationStatus.ROLLED_BACK, w.executive,
                                                                        REASON)  # fmt: skip
    assert w.v2.restored_publication == w.v1
    assert w.v1.status == PublicationStatus.PUBLISHED
    assert publishing.current_publication("monthly") == w.v1
    changed = DemandPlan.objects.get(pk=w.changed.pk)
    assert (changed.forecast_qty, changed.source, changed.status) == (100, PlanSource.ROLLBACK, PlanStatus.LOCKED)
    assert changed.locked_by_publication == w.v1
    assert changed.version == w.changed.version + 1  # a new version, the 150 stays in the history
    assert DemandPlan.objects.filter(history_of=changed, forecast_qty=150).exists()
    added = DemandPlan.objects.get(pk=w.added.pk)
    assert (added.status, added.locked_by_publication) == (PlanStatus.APPROVED, None)
    assert {"plan_type": "demand", "plan_id": w.added.pk} in result["released_plans"]
    # Nothing is deleted: both snapshots stay.
    assert PublicationItem.objects.filter(publication=w.v2).count() == w.v2.item_count
    assert PublicationItem.objects.filter(publication=w.v1).count() == w.v1.item_count
    # The ERP gets the restored state; the decision, audit rows and notifications follow.
    message = OutboundMessage.objects.get(kind=OutboundKind.ROLLBACK)
    assert (message.payload["rolled_back_stamp"], message.payload["version_stamp"]) == (w.v2.version_stamp,
                                                                                       w.v1.version_stamp)  # fmt: skip
    assert len(message.payload["items"]) == w.v1.item_count
    decision = Decision.objects.get(related_type="publication", related_id=str(w.v2.pk))
    assert decision.category == DecisionCategory.PUBLISH
    assert REASON in decision.description
    assert AuditEvent.objects.filter(event_type="governance.publication.rolled_back", target_id=str(w.v2.pk)).exists()
    assert AuditEvent.objects.filter(event_type="governance.publication.reinstated", target_id=str(w.v1.pk)).exists()
    assert AuditEvent.objects.filter(event_type="planning.demand_plan.restored", target_id=str(changed.pk)).exists()
    assert AuditEvent.objects.filter(event_type="planning.demand_plan.released", target_id=str(added.pk)).exists()
    assert Notification.objects.filter(kind=NotificationKind.ROLLBACK, recipient=w.coordinator).exists()


def test_rollback_is_gated_on_the_integrity_of_the_snapshot_it_reinstates(two):
    w = two
    item = w.v1.items.get(plan_type="demand", plan_id=w.changed.pk)
    # PublicationItem has no update path in the product; a direct write stands for tampering.
    PublicationItem.objects.filter(pk=item.pk).update(values={**item.values, "forecast_qty": "999.00"})
    with pytest.raises(PublishGateFailed) as refused:
        publishing.publication_rollback(actor=w.executive, publication=w.v2, reason=REASON)
    assert refused.value.context["gate"] == "rollback_ready"
    assert refused.value.context["publication"] == w.v1.version_stamp
    w.v2.refresh_from_db()
    assert w.v2.status == PublicationStatus.PUBLISHED
    assert DemandPlan.objects.get(pk=w.changed.pk).forecast_qty == 150
    assert not AuditEvent.objects.filter(event_type="governance.publication.rolled_back").exists()
    PublicationItem.objects.filter(pk=item.pk).update(values=item.values)
    publishing.publication_rollback(actor=w.executive, publication=w.v2, reason=REASON)
    event = AuditEvent.objects.get(event_type="governance.publication.rolled_back")
    assert event.metadata["gates"] == {"rollback_ready": True, "current_publication": True}


def test_only_the_current_publication_of_a_lane_rolls_back(two):
    w = two
    with pytest.raises(Conflict) as refused:
        publishing.publication_rollback(actor=w.executive, publication=w.v1, reason=REASON)
    assert refused.value.context["current_publication"] == w.v2.version_stamp
    publishing.publication_rollback(actor=w.executive, publication=w.v2, reason=REASON)
    with pytest.raises(Conflict):
        publishing.publication_rollback(actor=w.executive, publication=w.v2, reason=REASON)


def test_rollback_needs_an_approver_and_a_reason(two):
    w = two
    with pytest.raises(PermissionDenied):
        publishing.publication_rollback(actor=w.coordinator, publication=w.v2, reason=REASON)
    with pytest.raises(ValidationFailed):
        publishing.publication_rollback(actor=w.executive, publication=w.v2, reason="too short")
    assert Publication.objects.get(pk=w.v2.pk).status == PublicationStatus.PUBLISHED


def test_rolling_back_the_first_publication_releases_its_rows(world):
    v1 = publish(world)
    result = publishing.publication_rollback(actor=world.executive, publication=v1, reason=REASON)
    assert result["restored"] is None
    assert len(result["released_plans"]) == v1.item_count
    assert not DemandPlan.objects.filter(status=PlanStatus.LOCKED).exists()
    assert not SupplyPlan.objects.filter(status=PlanStatus.LOCKED).exists()
    assert publishing.current_publication("monthly") is None
    message = OutboundMessage.objects.get(kind=OutboundKind.ROLLBACK)
    assert (message.payload["version_stamp"], message.payload["items"]) == (None, [])


def test_unlock_outside_the_freeze_window_needs_only_a_justification(world):
    publish(world)
    plan = world.demand[world.periods[-1]]
    with pytest.raises(ValidationFailed):
        services.demand_plan_unlock(actor=world.executive, plan=plan, justification="  ")
    with pytest.raises(PermissionDenied):
        services.demand_plan_unlock(actor=world.coordinator, plan=plan, justification="Customer change")
    services.demand_plan_unlock(actor=world.executive, plan=plan, justification="Customer change")
    plan.refresh_from_db()
    assert (plan.status, plan.locked_by_publication, plan.locked_at) == (PlanStatus.DRAFT, None, None)
    comment = Comment.objects.get(entity_type="demand_plan", entity_id=str(plan.pk))
    assert (comment.kind, comment.content) == (CommentKind.OVERRIDE, "Customer change")
    event = AuditEvent.objects.get(event_type="planning.demand_plan.unlocked", target_id=str(plan.pk))
    assert event.metadata["freeze_override"] is False
    assert event.message == "Customer change"


def test_unlock_inside_the_freeze_window_needs_the_freeze_override(world):
    publish(world)
    plan = world.supply[world.periods[0]]  # the monthly lane freezes its first period
    with pytest.raises(FreezeWindowViolation):
        services.supply_plan_unlock(actor=world.executive, plan=plan, justification="Line 2 is down")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.LOCKED
    services.supply_plan_unlock(actor=world.executive, plan=plan, justification="Line 2 is down",
                                override_freeze=True)  # fmt: skip
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    event = AuditEvent.objects.get(event_type="planning.supply_plan.unlocked", target_id=str(plan.pk))
    assert event.metadata["freeze_override"] is True


def test_unlock_refuses_rows_that_are_not_locked(world):
    from genxsop.errors import InvalidStateTransition

    plan = world.demand[world.periods[-1]]
    with pytest.raises(InvalidStateTransition):
        services.demand_plan_unlock(actor=world.executive, plan=plan, justification="Nothing to unlock")
