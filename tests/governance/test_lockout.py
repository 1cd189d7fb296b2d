"""ACC-18: failed sign-ins lock the account; the lockout never reveals the password; admins unlock."""

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from genxsop.errors import PermissionDenied
from governance import events
from governance.choices import ActorType, Role
from governance.models import AuditEvent
from governance.services import user_unlock
from tests.conftest import PASSWORD
from tests.governance.login_helpers import is_signed_in, sign_in

WRONG = "not-the-password-1"


def _errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


@pytest.fixture
def planner(make_user):
    return make_user(Role.DEMAND_PLANNER, email="pat@example.test")


def _fail(client, email, times):
    return [sign_in(client, email, WRONG) for _ in range(times)]


def test_wrong_password_is_refused_counted_and_audited_with_the_user_as_target(client, planner):
    response = sign_in(client, "Pat@Example.test", WRONG)

    assert response.status_code == 200
    assert not is_signed_in(client)
    planner.refresh_from_db()
    assert planner.failed_login_count == 1
    event = AuditEvent.objects.get(event_type=events.LOGIN_FAILED)
    assert (event.target_type, event.target_id) == ("user", str(planner.pk))
    assert event.actor_type == ActorType.ANONYMOUS
    assert event.metadata["email"] == "pat@example.test"
    assert event.source == "ui"
    assert WRONG not in str(event.metadata)
    assert WRONG not in event.message


def test_fifth_failure_locks_the_account_and_even_the_right_password_is_refused(client, planner):
    # Given four failures, the account still answers normally
    responses = _fail(client, planner.email, 4)
    assert [r.status_code for r in responses] == [200] * 4

    # When the fifth password is wrong too, the account is locked
    fifth = sign_in(client, planner.email, WRONG)
    assert fifth.status_code == 429
    assert "try again in 15 minutes" in " ".join(_errors(fifth))
    planner.refresh_from_db()
    assert planner.failed_login_count == 5
    assert planner.locked_until is not None
    assert planner.locked_until > timezone.now() + timezone.timedelta(minutes=14)

    # Then the right password is refused with the very same answer as a wrong one
    right = sign_in(client, planner.email, PASSWORD)
    wrong = sign_in(client, planner.email, WRONG)
    assert not is_signed_in(client)
    assert right.status_code == wrong.status_code == 429
    assert _errors(right) == _errors(wrong)
    assert "locked" in _errors(right)[0]
    assert int(right["Retry-After"]) > 14 * 60
    html = right.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert 'name="login"' in html  # the sign-in form itself, not a bare error page

    # And the audit log tells the story: five failures, one lockout, refused attempts while locked
    failed = AuditEvent.objects.filter(event_type=events.LOGIN_FAILED, target_id=str(planner.pk))
    assert failed.filter(metadata__reason="invalid_credentials").count() == 5
    assert failed.filter(metadata__reason="locked").count() == 2
    locked = AuditEvent.objects.get(event_type=events.LOGIN_LOCKED_OUT)
    assert locked.target_id == str(planner.pk)
    assert locked.metadata["lockout_minutes"] == 15


def test_a_success_before_the_limit_resets_the_count(client, planner):
    _fail(client, planner.email, 3)
    assert sign_in(client, planner.email).status_code == 302
    client.logout()
    planner.refresh_from_db()
    assert planner.failed_login_count == 0
    # four more failures do not lock: the earlier three were forgiven
    assert [r.status_code for r in _fail(client, planner.email, 4)] == [200] * 4


def test_lockout_ends_after_the_lockout_time(client, planner):
    _fail(client, planner.email, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=16))

    response = sign_in(client, planner.email)

    assert response.status_code == 302
    assert is_signed_in(client)
    planner.refresh_from_db()
    assert (planner.failed_login_count, planner.locked_until) == (0, None)


def test_admin_unlock_clears_the_lock_and_is_audited(client, planner, admin_user):
    _fail(client, planner.email, 5)

    user_unlock(actor=admin_user, user=planner)

    planner.refresh_from_db()
    assert (planner.failed_login_count, planner.locked_until) == (0, None)
    assert not AccessAttempt.objects.filter(username=planner.email).exists()
    event = AuditEvent.objects.get(event_type=events.USER_UNLOCKED)
    assert (event.actor, event.target_id) == (admin_user, str(planner.pk))
    assert event.before["failed_login_count"] == 5
    assert sign_in(client, planner.email).status_code == 302
    assert is_signed_in(client)


def test_only_admins_can_unlock(client, planner, make_user):
    _fail(client, planner.email, 5)
    executive = make_user(Role.EXECUTIVE)

    with pytest.raises(PermissionDenied):
        user_unlock(actor=executive, user=planner)

    planner.refresh_from_db()
    assert planner.locked_until is not None
    assert not AuditEvent.objects.filter(event_type=events.USER_UNLOCKED).exists()


@pytest.mark.django_db
def test_unknown_email_failure_is_audited_as_anonymous_with_the_attempted_email(client):
    response = sign_in(client, "Nobody@Example.test", WRONG)

    assert response.status_code == 200
    event = AuditEvent.objects.get(event_type=events.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_type == ActorType.ANONYMOUS
    assert event.metadata["email"] == "nobody@example.test"
    assert event.target_id == ""


@pytest.mark.django_db
def test_unknown_and_known_emails_lock_alike(client, planner):
    """Locking only real accounts would tell an attacker which emails exist."""
    known = _fail(client, planner.email, 5)[-1]
    unknown = _fail(client, "ghost@example.test", 5)[-1]
    assert known.status_code == unknown.status_code == 429
    assert _errors(known) == _errors(unknown)


@pytest.mark.django_db
def test_one_address_gets_at_most_30_attempts_a_minute(client):
    """Per-IP cap (allauth's rate limit), whatever the emails tried."""
    answers = [sign_in(client, f"user{n}@example.test", WRONG) for n in range(31)]

    assert {r.status_code for r in answers[:30]} == {200}
    assert answers[30].status_code == 429
    assert "Too many attempts" in answers[30].content.decode()  # our page, not a bare one
    assert not AuditEvent.objects.filter(event_type=events.LOGIN_LOCKED_OUT).exists()
