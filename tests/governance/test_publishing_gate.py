"""The publish gate (GOV-63 steps 3 and 4, GOV-64): No-Go refusals, overrides and stale evaluations."""

import pytest

from genxsop.errors import PermissionDenied, PublishGateFailed, StaleEvaluation, ValidationFailed
from genxsop.scoping import ObjectScope
from governance.choices import DecisionCategory, NotificationKind, PublicationOutcome
from governance.models import AuditEvent, Decision, Notification, Publication, ReadinessEvaluation
from governance.services import publishing
from governance.services.readiness import readiness_evaluate
from planning.choices import PlanStatus
from planning.models import DemandPlan, OutboundMessage
from tests.governance.test_publishing_world import make_world, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users):
    return make_world(users)


JUSTIFICATION = "Late draft row is agreed in the executive meeting"


def _nothing_written():
    assert Publication.objects.count() == 0
    assert not DemandPlan.objects.filter(status=PlanStatus.LOCKED).exists()
    assert OutboundMessage.objects.count() == 0
    assert not AuditEvent.objects.filter(event_type__startswith="governance.publication.").exists()


def test_no_go_is_refused_with_the_reasons_and_the_evaluation_is_kept(world):
    draft = world.demand_row(world.product, world.periods[1], region="West", status="draft")
    with pytest.raises(PublishGateFailed) as refused:
        publish(world)
    context = refused.value.context
    assert context["outcome"] == "no_go"
    assert "plans_approved" in context["failed_gates"]
    assert context["dry_run"] is False
    kept = ReadinessEvaluation.objects.get(evaluation_id=context["evaluation_id"])
    assert (kept.dry_run, kept.outcome, kept.lane) == (False, "no_go", "monthly")
    _nothing_written()
    # Once the data is fixed the same call goes through.
    DemandPlan.objects.filter(pk=draft.pk).update(status=PlanStatus.APPROVED)
    publication = publish(world)
    assert publication.outcome == PublicationOutcome.GO
    assert ReadinessEvaluation.objects.filter(dry_run=False).count() == 2


def test_an_override_needs_an_approver_and_a_20_character_justification(world):
    world.demand_row(world.product, world.periods[1], region="West", status="draft")
    with pytest.raises(PermissionDenied):
        publish(world, actor=world.coordinator, override_justification=JUSTIFICATION)
    with pytest.raises(ValidationFailed) as short:
        publish(world, actor=world.executive, override_justification="too short reason")
    assert "override.justification" in short.value.fields
    assert ReadinessEvaluation.objects.count() == 0  # refused before any evaluation
    _nothing_written()


def test_an_override_publishes_records_the_failed_gates_and_a_decision(world):
    world.demand_row(world.product, world.periods[1], region="West", status="draft")
    publication = publish(world, actor=world.executive, override_justification=JUSTIFICATION)
    assert publication.outcome == PublicationOutcome.NO_GO_OVERRIDDEN
    assert (publication.override_by, publication.override_justification) == (world.executive, JUSTIFICATION)
    assert "plans_approved" in [g["gate"] for g in publication.failed_gates]
    assert publication.evaluation.outcome == "no_go"
    decision = Decision.objects.get(related_type="publication", related_id=str(publication.pk))
    assert decision.category == DecisionCategory.PUBLISH
    assert JUSTIFICATION in decision.description
    assert "plans_approved" in decision.description
    overridden = AuditEvent.objects.get(event_type="governance.publication.overridden", target_id=str(publication.pk))
    assert "plans_approved" in overridden.metadata["failed_gates"]
    assert AuditEvent.objects.filter(event_type="governance.publication.published",
                                     target_id=str(publication.pk)).exists()  # fmt: skip
    titles = Notification.objects.filter(kind=NotificationKind.PUBLICATION, recipient=world.coordinator)
    assert "override" in titles.get().title


def test_an_override_is_refused_when_a_gate_that_cannot_be_overridden_fails(world):
    first = publish(world)
    Publication.objects.filter(pk=first.pk).update(snapshot_sha256="0" * 64)  # rollback_ready fails
    with pytest.raises(PublishGateFailed) as refused:
        publish(world, actor=world.executive, override_justification=JUSTIFICATION)
    assert "rollback_ready" in refused.value.context["non_overridable_failed"]
    assert "cannot be overridden" in refused.value.message
    assert Publication.objects.count() == 1
    assert ReadinessEvaluation.objects.filter(dry_run=False).count() == 2


def test_a_stale_evaluation_is_refused(world):
    seen = readiness_evaluate(actor=world.coordinator, lane="monthly")
    row = world.demand[world.periods[2]]
    DemandPlan.objects.filter(pk=row.pk).update(version=2)
    with pytest.raises(StaleEvaluation) as stale:
        publish(world, evaluation_id=seen.evaluation_id)
    assert stale.value.context["evaluation_id"] == str(seen.evaluation_id)
    assert Publication.objects.count() == 0
    # The evaluation the caller saw, still current, publishes.
    fresh = readiness_evaluate(actor=world.coordinator, lane="monthly")
    assert publish(world, evaluation_id=fresh.evaluation_id).evaluation.plan_fingerprint == fresh.plan_fingerprint


def test_publishing_is_company_wide(world, monkeypatch):
    # PUB roles cannot be given object scopes today (ACC-09); the service still refuses a scoped actor.
    monkeypatch.setattr(publishing, "object_scope", lambda user: ObjectScope(location_view=frozenset({1})))
    with pytest.raises(PermissionDenied):
        publish(world)
    assert ReadinessEvaluation.objects.count() == 0


def test_nothing_to_publish_is_a_business_rule_violation(world):
    DemandPlan.objects.update(status=PlanStatus.SUBMITTED)
    from planning.models import SupplyPlan

    SupplyPlan.objects.update(status=PlanStatus.REJECTED)
    with pytest.raises(Exception) as refused:  # noqa: PT011  (checked below)
        publish(world, actor=world.executive, override_justification=JUSTIFICATION)
    assert getattr(refused.value, "code", "") == "BUSINESS_RULE_VIOLATION"
    assert refused.value.message == "nothing to publish"
    assert Publication.objects.count() == 0
    assert ReadinessEvaluation.objects.filter(dry_run=False).count() == 1
