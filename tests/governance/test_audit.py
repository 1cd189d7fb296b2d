"""The audit writer: same transaction, context from the request, no secrets (GOV-30…33)."""

import pytest
from django.db import transaction

from genxsop import context
from governance import audit
from governance.models import AuditEvent
from planning.services import category_create

pytestmark = pytest.mark.django_db


def test_audit_row_rolls_back_with_the_change(admin_user):
    # Given a service call whose transaction fails after the audit row was written
    def change_then_fail():
        with transaction.atomic():
            category_create(actor=admin_user, name="Transient")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        change_then_fail()
    # Then neither the category nor its audit row exists
    assert not AuditEvent.objects.filter(event_type="planning.category.created").exists()


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction(admin_user):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record(actor=admin_user, event_type="x.y.z", target=admin_user)


def test_context_supplies_request_id_source_and_client(admin_user):
    with context.bound_context(request_id="req-123", source="api", ip_address="10.0.0.7", user_agent="curl/8"):
        category = category_create(actor=admin_user, name="Audio")
    event = AuditEvent.objects.get(event_type="planning.category.created")
    assert (event.request_id, event.source, event.ip_address, event.user_agent) == (
        "req-123",
        "api",
        "10.0.0.7",
        "curl/8",
    )
    assert (event.target_type, event.target_id, event.target_repr) == ("category", str(category.pk), "Audio")
    assert event.actor == admin_user
    assert event.actor_name == admin_user.email
    assert event.actor_type == "user"
    assert event.before is None
    assert event.after["name"] == "Audio"
    assert "name" in event.changed_fields
    assert event.occurred_at is not None


def test_system_actor_in_jobs_is_named(admin_user):
    with context.job_context("job-42"), transaction.atomic():
        audit.record(actor=None, event_type="forecasting.job.cleaned", target=admin_user)
    event = AuditEvent.objects.get(event_type="forecasting.job.cleaned")
    assert (event.actor_type, event.actor_name, event.source, event.request_id) == (
        "system",
        audit.SYSTEM_ACTOR_NAME,
        "job",
        "job-42",
    )


def test_secrets_never_reach_audit_data(admin_user):
    with transaction.atomic():
        audit.record(
            actor=admin_user,
            event_type="governance.user.updated",
            target=admin_user,
            after={"password": "hunter2", "nested": {"token": "abc"}, "name": "ok"},
        )
    event = AuditEvent.objects.get(event_type="governance.user.updated")
    assert event.after == {"password": "[redacted]", "nested": {"token": "[redacted]"}, "name": "ok"}
