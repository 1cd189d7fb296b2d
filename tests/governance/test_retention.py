"""Retention of API login tokens and console sessions (GOV-04, OPS-42) and their schedules (OPS-40)."""

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from governance import events
from governance.choices import ActorType, Role
from governance.models import AuditEvent, AuthToken
from governance.schedules import SCHEDULES, ensure_schedules, ensure_schedules_after_migrate, next_daily_run
from governance.tasks import purge_expired_auth_tokens, purge_expired_sessions
from tests.platform.subproc import (
    migrated_sqlite_template_fixture,  # noqa: F401 (fixture)
)

ENABLED = [spec for spec in SCHEDULES if spec.enabled()]  # the default settings' schedules
NAMES = sorted(spec.name for spec in ENABLED)


def login_token(user, *, expires_in: timedelta, revoked_ago: timedelta | None = None) -> AuthToken:
    now = timezone.now()
    return AuthToken.objects.create(
        key=uuid.uuid4().hex[:16],
        digest="0" * 64,
        kind=AuthToken.Kind.REFRESH,
        user=user,
        family_id=uuid.uuid4(),
        expires_at=now + expires_in,
        revoked_at=now - revoked_ago if revoked_ago is not None else None,
    )


# --- the purge task -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_deletes_only_tokens_expired_or_revoked_more_than_seven_days_ago(make_user):
    # Given tokens on both sides of the 7-day retention, by expiry and by revocation
    user = make_user(Role.VIEWER)
    old_expired = login_token(user, expires_in=-timedelta(days=8))
    old_revoked = login_token(user, expires_in=timedelta(days=20), revoked_ago=timedelta(days=8))
    kept = [
        login_token(user, expires_in=-timedelta(days=6)),
        login_token(user, expires_in=timedelta(days=20), revoked_ago=timedelta(days=6)),
        login_token(user, expires_in=timedelta(minutes=15)),
    ]

    # When the daily task runs
    deleted = purge_expired_auth_tokens()

    # Then only the old rows are gone, and one system audit row from the job reports the count
    assert deleted == 2
    assert not AuthToken.objects.filter(pk__in=[old_expired.pk, old_revoked.pk]).exists()
    assert set(AuthToken.objects.values_list("pk", flat=True)) == {t.pk for t in kept}
    purged = AuditEvent.objects.get(event_type=events.AUTH_TOKEN_PURGED)
    assert purged.after == {"deleted": 2}
    assert (purged.source, purged.actor_type, purged.actor) == ("job", ActorType.SYSTEM, None)
    assert purged.metadata["retention_days"] == 7


@pytest.mark.django_db
def test_purge_is_idempotent_and_audits_every_run(make_user):
    login_token(make_user(Role.VIEWER), expires_in=-timedelta(days=30))
    assert purge_expired_auth_tokens() == 1
    assert purge_expired_auth_tokens() == 0
    runs = AuditEvent.objects.filter(event_type=events.AUTH_TOKEN_PURGED).order_by("occurred_at", "id")
    assert [run.after["deleted"] for run in runs] == [1, 0]


@pytest.mark.django_db
def test_expired_console_sessions_are_cleared():
    live = SessionStore()
    live["k"] = "v"
    live.create()
    dead = SessionStore()
    dead.create()
    Session.objects.filter(pk=dead.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))

    assert purge_expired_sessions() == 1
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session_key]
    assert purge_expired_sessions() == 0


# --- schedules (OPS-40) ---------------------------------------------------------------------------------


def test_next_daily_run_is_the_next_four_oclock_utc():
    from datetime import time

    assert next_daily_run(time(4), now=datetime(2026, 3, 1, 3, 59, tzinfo=UTC)) == datetime(2026, 3, 1, 4, tzinfo=UTC)
    assert next_daily_run(time(4), now=datetime(2026, 3, 1, 4, 0, tzinfo=UTC)) == datetime(2026, 3, 2, 4, tzinfo=UTC)


@pytest.mark.django_db
def test_migrations_left_one_daily_schedule_per_task():
    # pytest-django built the test database with `migrate`, whose post_migrate receiver ran ensure_schedules
    rows = {s.name: s for s in Schedule.objects.filter(name__in=NAMES)}
    assert sorted(rows) == NAMES
    for spec in ENABLED:
        row = rows[spec.name]
        assert (row.func, row.schedule_type, row.repeats) == (spec.func, spec.schedule_type, -1)
        if spec.schedule_type == Schedule.DAILY:
            assert row.next_run.astimezone(UTC).time() == spec.time_of_day()
        else:
            assert row.minutes == spec.minutes


@pytest.mark.django_db
def test_ensure_schedules_twice_leaves_exactly_one_row_per_task(capsys):
    Schedule.objects.filter(name__in=NAMES).delete()

    call_command("ensure_schedules")
    first = {s.name: (s.pk, s.next_run) for s in Schedule.objects.filter(name__in=NAMES)}
    call_command("ensure_schedules")

    assert {s.name: (s.pk, s.next_run) for s in Schedule.objects.filter(name__in=NAMES)} == first
    assert sorted(Schedule.objects.filter(name__in=NAMES).values_list("name", flat=True)) == NAMES
    out = capsys.readouterr().out
    assert "created governance.purge_expired_auth_tokens" in out
    assert "unchanged governance.purge_expired_auth_tokens" in out


@pytest.mark.django_db
def test_ensure_schedules_repairs_drifted_and_duplicated_rows():
    # Given an edited schedule (other function, hourly, off time) and a duplicate made by hand
    first, second = SCHEDULES[0], SCHEDULES[1]  # the 04:00 token and session purges
    row = Schedule.objects.get(name=first.name)
    Schedule.objects.filter(pk=row.pk).update(func="os.getcwd", schedule_type=Schedule.HOURLY,
                                              next_run=datetime(2030, 1, 1, 9, 30, tzinfo=UTC))  # fmt: skip
    Schedule.objects.create(name=first.name, func=first.func, schedule_type=Schedule.DAILY)

    outcome = ensure_schedules(now=datetime(2030, 1, 1, 12, 0, tzinfo=UTC))

    assert outcome[first.name] == "updated"
    assert outcome[second.name] == "unchanged"
    (fixed,) = Schedule.objects.filter(name=first.name)
    assert fixed.pk == row.pk
    assert (fixed.func, fixed.schedule_type) == (SCHEDULES[0].func, Schedule.DAILY)
    assert fixed.next_run == datetime(2030, 1, 2, 4, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_post_migrate_receiver_recreates_missing_schedules():
    Schedule.objects.filter(name__in=NAMES).delete()
    ensure_schedules_after_migrate(sender=apps.get_app_config("governance"), using="default")
    assert Schedule.objects.filter(name__in=NAMES).count() == len(ENABLED)


def test_manage_py_migrate_creates_the_schedules(migrated_sqlite_template):
    # A real `manage.py migrate` in a fresh process, on a fresh database
    connection = sqlite3.connect(migrated_sqlite_template)
    try:
        rows = connection.execute("SELECT name, func, schedule_type FROM django_q_schedule ORDER BY name").fetchall()
    finally:
        connection.close()
    assert rows == [(spec.name, spec.func, spec.schedule_type) for spec in sorted(ENABLED, key=lambda s: s.name)]
