"""Publishing on the Go path (GOV-63, GOV-65): what a publication locks, keeps, stamps and sends.

The company comes from the readiness tests' World (ready to publish on both lanes); plan rows are
approved there directly, since readiness and publishing only read how they got there.
"""

import hashlib
import json

import pytest

from forecasting.models import ForecastConsensus, ForecastRun
from governance.choices import NotificationKind, PublicationOutcome, PublicationStatus, Role
from governance.models import AuditEvent, Notification, Publication, PublicationItem, ReadinessEvaluation
from governance.services import publishing
from planning.choices import OutboundKind, PlanStatus
from planning.models import DemandPlan, OutboundMessage, SupplyPlan
from tests.governance.test_readiness_world import World

pytestmark = pytest.mark.django_db


def make_world(users) -> World:
    """The ready company of the readiness tests, with the publishing roles at hand."""
    w = World(users[Role.ADMIN])
    w.users = users
    w.executive = users[Role.EXECUTIVE]
    w.coordinator = users[Role.SOP_COORDINATOR]
    return w


@pytest.fixture
def world(users):
    return make_world(users)


def publish(world, actor=None, lane="monthly", **kwargs):
    return publishing.publication_publish(actor=actor or world.coordinator, lane=lane, **kwargs)


def events_of(event_type, target=None):
    qs = AuditEvent.objects.filter(event_type=event_type)
    return qs.filter(target_id=str(target.pk)) if target is not None else qs


def test_a_go_publication_locks_the_approved_rows_and_keeps_their_values(world):
    publication = publish(world)
    periods = world.periods
    assert publication.version_stamp == f"M-{periods[0]:%Y%m}-v1"
    assert (publication.lane, publication.outcome, publication.status) == ("monthly", PublicationOutcome.GO,
                                                                           PublicationStatus.PUBLISHED)  # fmt: skip
    assert (publication.period_from, publication.period_to) == (periods[0], periods[-1])
    assert publication.item_count == 2 * len(periods) == publication.items.count()
    for plan in [*world.demand.values(), *world.supply.values()]:
        plan.refresh_from_db()
        assert (plan.status, plan.locked_by_publication_id) == (PlanStatus.LOCKED, publication.pk)
        assert plan.locked_at is not None
    item = publication.items.get(plan_type="demand", plan_id=world.demand[periods[0]].pk)
    assert item.values["forecast_qty"] == "100.00"
    assert item.values["status"] == "approved"
    assert item.plan_version == 1
    supply_item = publication.items.get(plan_type="supply", plan_id=world.supply[periods[0]].pk)
    assert (supply_item.location_id, supply_item.values["planned_prod_qty"]) == (world.location.pk, "100.00")
    evaluation = publication.evaluation
    assert (evaluation.dry_run, evaluation.outcome) == (False, "go")
    assert evaluation.plan_fingerprint


def test_the_snapshot_checksum_is_the_sha256_of_the_canonical_items(world):
    publication = publish(world)
    items = sorted(
        ({"plan_type": i.plan_type, "plan_id": i.plan_id, "plan_version": i.plan_version, "product_id": i.product_id,
          "period": i.period.isoformat(), "region": i.region, "channel": i.channel, "location_id": i.location_id,
          "values": i.values} for i in PublicationItem.objects.filter(publication=publication)),
        key=lambda i: (i["plan_type"], i["plan_id"]),
    )  # fmt: skip
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert publication.snapshot_sha256 == hashlib.sha256(text.encode()).hexdigest()


def test_the_next_publication_supersedes_and_includes_locked_rows_as_they_are(world):
    first = publish(world)
    extra = world.demand_row(world.product, world.periods[1], region="North")
    second = publish(world, actor=world.executive)
    first.refresh_from_db()
    assert (first.status, first.superseded_by_id) == (PublicationStatus.SUPERSEDED, second.pk)
    assert first.superseded_at is not None
    assert second.version_stamp == f"M-{world.periods[0]:%Y%m}-v2"
    assert second.item_count == first.item_count + 1
    extra.refresh_from_db()
    assert (extra.status, extra.locked_by_publication_id) == (PlanStatus.LOCKED, second.pk)
    already = world.demand[world.periods[0]]
    already.refresh_from_db()
    assert already.locked_by_publication_id == first.pk  # included as it was
    assert second.items.filter(plan_type="demand", plan_id=already.pk, values__status="locked").exists()
    assert publishing.current_publication("monthly") == second
    assert events_of("governance.publication.superseded", first).count() == 1


def test_rows_in_other_statuses_are_excluded_and_listed(world):
    draft = world.demand_row(world.product, world.periods[2], region="West", status="draft")
    # plans_approved fails for the draft: an approver publishes the rest with an override.
    publication = publish(
        world, actor=world.executive, override_justification="Draft row is a late addition, published next cycle"
    )
    assert [e["plan_id"] for e in publication.excluded] == [draft.pk]
    assert publication.excluded[0]["status"] == "draft"
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT
    assert not publication.items.filter(plan_type="demand", plan_id=draft.pk).exists()


def test_publishing_sends_the_erp_message_audits_and_notifies(world):
    publication = publish(world)
    message = OutboundMessage.objects.get(payload__version_stamp=publication.version_stamp)
    payload = message.payload
    assert message.kind == OutboundKind.PUBLICATION
    assert (payload["lane"], payload["outcome"], payload["published_by"]) == ("monthly", "go", world.coordinator.email)
    assert payload["period_from"] == world.periods[0].isoformat()
    assert len(payload["items"]) == publication.item_count
    demand_item = next(i for i in payload["items"] if i["plan_type"] == "demand")
    assert set(demand_item) == {"plan_type", "plan_id", "version", "sku", "period", "region", "channel",
                                "forecast_qty", "adjusted_qty", "consensus_qty", "demand_qty"}  # fmt: skip
    supply_item = next(i for i in payload["items"] if i["plan_type"] == "supply")
    assert supply_item["location"] == world.location.code
    published = events_of("governance.publication.published", publication).get()
    assert published.metadata["item_count"] == publication.item_count
    assert published.actor_id == world.coordinator.pk
    locked = AuditEvent.objects.filter(event_type__in=["planning.demand_plan.locked", "planning.supply_plan.locked"])
    assert locked.count() == publication.item_count
    assert all(e.metadata["version_stamp"] == publication.version_stamp for e in locked)
    assert events_of("planning.outbound_message.created", message).exists()
    assert not events_of("governance.publication.overridden").exists()
    notified = set(Notification.objects.filter(kind=NotificationKind.PUBLICATION).values_list("recipient", flat=True))
    assert notified == {world.admin.pk, world.executive.pk, world.coordinator.pk}  # EXEC_C (GOV-42)


def test_the_step_owners_of_the_linked_cycle_are_notified_too(world):
    planner = world.users[Role.DEMAND_PLANNER]
    world.cycle.steps.filter(step_number=2).update(owner=planner)
    publication = publish(world, sop_cycle=world.cycle)
    note = Notification.objects.get(kind=NotificationKind.PUBLICATION, recipient=planner)
    assert publication.version_stamp in note.title
    assert not Notification.objects.filter(recipient=world.users[Role.SUPPLY_PLANNER]).exists()


def test_consensus_pushed_to_a_published_row_is_frozen(world):
    row = world.demand[world.periods[0]]
    run = ForecastRun.objects.create(
        product=world.product, selected_model="naive", model_used="naive", horizon=3, history_months=12,
        history_start=world.closed, history_end=world.closed, as_of_period=world.closed, demand_pattern="smooth",
    )  # fmt: skip
    consensus = ForecastConsensus.objects.create(
        forecast_run=run, product=world.product, period=row.period, status="approved", baseline_qty=100,
        final_consensus_qty=100, pushed_to=[{"plan_id": row.pk, "version": row.version, "qty": "100"}],
    )  # fmt: skip
    publish(world)
    consensus.refresh_from_db()
    assert consensus.status == "frozen"
    assert consensus.frozen_at is not None


def test_every_publication_references_a_non_dry_run_evaluation(world):
    """GOV-67: the gate-validation invariant, over every publication made here."""
    publish(world)
    publish(world, lane="weekly")
    publish(world, actor=world.executive)
    assert Publication.objects.count() == 3
    assert not Publication.objects.filter(evaluation__dry_run=True).exists()
    for publication in Publication.objects.all():
        assert publication.evaluation.created_at <= publication.published_at
        assert publication.evaluation.lane == publication.lane
    assert ReadinessEvaluation.objects.filter(dry_run=False).count() == 3


def test_a_weekly_publication_is_stamped_w(world):
    publication = publish(world, lane="weekly")
    assert publication.version_stamp.startswith(f"W-{world.periods[0]:%Y%m}-v1")
    assert DemandPlan.objects.filter(status="locked").exists()
    assert SupplyPlan.objects.filter(locked_by_publication=publication).exists()
