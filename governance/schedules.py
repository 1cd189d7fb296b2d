"""The django-q2 schedules of the application (OPS-40), kept in step by `ensure_schedules()`.

`ensure_schedules()` runs after every `migrate` (post_migrate receiver in `governance.apps`) and
from `manage.py ensure_schedules`. It is idempotent: each schedule is one row found by its stable
name, created when missing and corrected when its function or timing drifted; duplicates left by
hand are removed. django-q2's cron schedules need `croniter`, which is not installed, so daily
work uses `Schedule.DAILY` with the first run at the next wanted time of day (UTC).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_q.models import Schedule


@dataclass(frozen=True)
class DailySchedule:
    name: str  # stable: the key ensure_schedules() matches on
    func: str  # dotted path of a genxsop.tasks.job
    at: time  # UTC time of day


SCHEDULES = [
    DailySchedule("governance.purge_expired_auth_tokens", "governance.tasks.purge_expired_auth_tokens", time(4, 0)),
    DailySchedule("governance.purge_expired_sessions", "governance.tasks.purge_expired_sessions", time(4, 0)),
    DailySchedule("planning.purge_integration_batches", "planning.tasks.purge_integration_batches", time(4, 15)),
    # Daily, but it writes only on the first run after a month ends (OPS-41).
    DailySchedule("planning.capture_month_end_snapshots", "planning.tasks.capture_month_end_snapshots", time(0, 30)),
]


def next_daily_run(at: time, *, now: datetime) -> datetime:
    """The first moment strictly after `now` whose UTC time of day is `at`."""
    today = datetime.combine(now.astimezone(UTC).date(), at, tzinfo=UTC)
    return today if today > now else today + timedelta(days=1)


def _on_time(next_run: datetime | None, at: time) -> bool:
    if next_run is None:
        return False
    run = next_run.astimezone(UTC)
    return (run.hour, run.minute, run.second) == (at.hour, at.minute, at.second)


def ensure_schedules(*, using: str = DEFAULT_DB_ALIAS, now: datetime | None = None) -> dict[str, str]:
    """Create or correct every schedule in SCHEDULES; return {name: "created" | "updated" | "unchanged"}."""
    now = now or timezone.now()
    outcome = {}
    with transaction.atomic(using=using):
        for spec in SCHEDULES:
            rows = list(Schedule.objects.using(using).select_for_update().filter(name=spec.name).order_by("pk"))
            for duplicate in rows[1:]:
                duplicate.delete()
            wanted = {"func": spec.func, "schedule_type": Schedule.DAILY, "repeats": -1, "minutes": None,
                      "cron": None, "hook": None, "args": None, "kwargs": None}  # fmt: skip
            if not rows:
                Schedule.objects.using(using).create(name=spec.name, next_run=next_daily_run(spec.at, now=now),
                                                     **wanted)  # fmt: skip
                outcome[spec.name] = "created"
                continue
            row = rows[0]
            changed = [field for field, value in wanted.items() if getattr(row, field) != value]
            for field in changed:
                setattr(row, field, wanted[field])
            if not _on_time(row.next_run, spec.at):
                row.next_run = next_daily_run(spec.at, now=now)
                changed.append("next_run")
            if changed:
                row.save(using=using, update_fields=changed)
            outcome[spec.name] = "updated" if changed or rows[1:] else "unchanged"
    return outcome


def ensure_schedules_after_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver: `migrate` leaves the schedules in place (OPS-40), once django-q2's tables exist."""
    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return
    ensure_schedules(using=using)
