"""The django-q2 schedules of the application (OPS-40), kept in step by `ensure_schedules()`.

`ensure_schedules()` runs after every `migrate` (post_migrate receiver in `governance.apps`) and
from `manage.py ensure_schedules`. It is idempotent: each schedule is one row found by its stable
name, created when missing and corrected when its function or timing drifted; duplicates left by
hand are removed. django-q2's cron schedules need `croniter`, which is not installed, so daily
work uses `Schedule.DAILY` with the first run at the next wanted time of day (UTC).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_q.models import Schedule


def _always() -> bool:
    return True


@dataclass(frozen=True)
class DailySchedule:
    name: str  # stable: the key ensure_schedules() matches on
    func: str  # dotted path of a genxsop.tasks.job
    at: time | Callable[[], time]  # UTC time of day, or a callable reading it from settings
    enabled: Callable[[], bool] = _always  # a disabled schedule's row is removed

    schedule_type = Schedule.DAILY
    minutes = None

    def time_of_day(self) -> time:
        return self.at() if callable(self.at) else self.at

    def describe(self) -> str:
        return f"daily at {self.time_of_day():%H:%M} UTC"


@dataclass(frozen=True)
class IntervalSchedule:
    """Every `minutes` minutes, first run at the next ensure."""

    name: str
    func: str
    minutes: int
    enabled: Callable[[], bool] = _always

    schedule_type = Schedule.MINUTES

    def describe(self) -> str:
        return f"every {self.minutes} min"


def cron_setting_time(name: str) -> Callable[[], time]:
    """The time of day of a daily cron setting `M H * * *` (validated by env_daily_cron), read when ensured."""

    def at() -> time:
        minute, hour = getattr(settings, name).split()[:2]
        return time(int(hour), int(minute))

    return at


def setting_flag(name: str) -> Callable[[], bool]:
    return lambda: bool(getattr(settings, name))


SCHEDULES = [
    DailySchedule("governance.purge_expired_auth_tokens", "governance.tasks.purge_expired_auth_tokens", time(4, 0)),
    DailySchedule("governance.purge_expired_sessions", "governance.tasks.purge_expired_sessions", time(4, 0)),
    DailySchedule("planning.purge_integration_batches", "planning.tasks.purge_integration_batches", time(4, 15)),
    DailySchedule("planning.classify_products", "planning.tasks.classify_products", time(2, 30)),  # FRM-41
    # Daily, but it writes only on the first run after a month ends (OPS-41).
    DailySchedule("planning.capture_month_end_snapshots", "planning.tasks.capture_month_end_snapshots", time(0, 30)),
    # Forecast jobs (FC-74, FC-76, FC-77); the nightly forecast exists only while FORECAST_NIGHTLY_ENABLED.
    DailySchedule(
        "forecasting.cleanup_forecast_jobs",
        "forecasting.tasks.cleanup_forecast_jobs",
        cron_setting_time("FORECAST_JOB_CLEANUP_CRON"),
    ),
    IntervalSchedule("forecasting.reap_forecast_jobs", "forecasting.tasks.reap_forecast_jobs", minutes=1),
    DailySchedule(
        "forecasting.nightly_forecast",
        "forecasting.tasks.nightly_forecast",
        cron_setting_time("FORECAST_NIGHTLY_CRON"),
        enabled=setting_flag("FORECAST_NIGHTLY_ENABLED"),
    ),
    DailySchedule("planning.refresh_kpis", "planning.tasks.refresh_kpis", cron_setting_time("KPI_REFRESH_CRON")),
    DailySchedule("forecasting.accuracy_refresh", "forecasting.tasks_accuracy.nightly_accuracy_refresh", time(2, 45)),
    # Owners of open action items past due get one reminder per item per day (GOV-13, idempotent).
    DailySchedule("governance.notify_overdue_action_items", "governance.tasks.notify_overdue_action_items", time(6, 0)),
    # Owners of overdue steps of active S&OP cycles get one reminder per step per day.
    DailySchedule("governance.notify_overdue_cycle_steps", "governance.tasks.notify_overdue_cycle_steps", time(6, 5)),
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
    """Create or correct every enabled schedule in SCHEDULES and remove the disabled ones' rows;
    return {name: "created" | "updated" | "unchanged" | "removed" | "disabled"}."""
    now = now or timezone.now()
    outcome = {}
    with transaction.atomic(using=using):
        for spec in SCHEDULES:
            rows = list(Schedule.objects.using(using).select_for_update().filter(name=spec.name).order_by("pk"))
            if not spec.enabled():
                for row in rows:
                    row.delete()
                outcome[spec.name] = "removed" if rows else "disabled"
                continue
            for duplicate in rows[1:]:
                duplicate.delete()
            wanted = {"func": spec.func, "schedule_type": spec.schedule_type, "repeats": -1, "minutes": spec.minutes,
                      "cron": None, "hook": None, "args": None, "kwargs": None}  # fmt: skip
            daily = spec.schedule_type == Schedule.DAILY
            first_run = next_daily_run(spec.time_of_day(), now=now) if daily else now
            if not rows:
                Schedule.objects.using(using).create(name=spec.name, next_run=first_run, **wanted)
                outcome[spec.name] = "created"
                continue
            row = rows[0]
            changed = [field for field, value in wanted.items() if getattr(row, field) != value]
            for field in changed:
                setattr(row, field, wanted[field])
            if (daily and not _on_time(row.next_run, spec.time_of_day())) or (not daily and row.next_run is None):
                row.next_run = first_run
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
