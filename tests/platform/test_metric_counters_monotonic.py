"""The /metrics counters computed from forecast jobs never go down when the FC-76 retention deletes
old job rows (OPS-50): Prometheus reads a drop as a restart and would count everything again. The
other purged tables (SLI buckets, integration batches) are covered in test_metrics.py; audit events
and publications are never purged."""

import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from forecasting import tasks
from forecasting.choices import JobKind, JobStatus
from forecasting.models import ForecastJob
from forecasting.services.jobs import forecast_job_transition, forecast_jobs_cleanup
from governance.choices import Role
from governance.models import MetricCarry

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret-0123456789"
JOB_LINES = ("genxsop_forecast_jobs_finished_total", "genxsop_forecast_job_duration_seconds")


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def _scrape() -> list[str]:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return [line for line in response.content.decode().splitlines() if line.startswith(JOB_LINES)]


def _value(lines: list[str], sample: str) -> float:
    return float(next(line for line in lines if line.startswith(sample + " ")).rsplit(" ", 1)[1])


def _job(user, status, *, started=None, completed=None) -> ForecastJob:
    return ForecastJob.objects.create(kind=JobKind.BATCH_GENERATE, status=status, horizon=3, requested_by=user,
                                      started_at=started, completed_at=completed)  # fmt: skip


@pytest.fixture
def history(users):
    """Old and recent finished jobs: 3 completed (2 s, 40 s, 2 000 s), 2 failed, 1 cancelled, 1 queued."""
    planner = users[Role.DEMAND_PLANNER]
    old = timezone.now() - datetime.timedelta(days=45)
    recent = timezone.now() - datetime.timedelta(days=2)
    for start, seconds in ((old, 2), (old, 40.25), (recent, 2000)):
        _job(planner, JobStatus.COMPLETED, started=start, completed=start + datetime.timedelta(seconds=seconds))
    _job(planner, JobStatus.FAILED, started=old, completed=old)
    _job(planner, JobStatus.FAILED, started=recent, completed=recent)
    _job(planner, JobStatus.CANCELLED, completed=old)
    _job(planner, JobStatus.QUEUED)
    return planner


def test_the_cleanup_leaves_every_job_counter_as_it_was(history):
    before = _scrape()
    assert _value(before, 'genxsop_forecast_jobs_finished_total{status="completed"}') == 3
    assert _value(before, "genxsop_forecast_job_duration_seconds_count") == 3
    assert _value(before, "genxsop_forecast_job_duration_seconds_sum") == 2042.25

    result = forecast_jobs_cleanup(actor=None)

    assert result["deleted_jobs"] == 4
    assert ForecastJob.objects.count() == 3
    # The same samples, line for line: the deleted jobs are carried, in the cleanup's transaction.
    assert _scrape() == before
    assert dict(MetricCarry.objects.filter(metric="genxsop_forecast_jobs_finished_total").values_list(
        "labels", "value")) == {"status=completed": 2, "status=failed": 1, "status=cancelled": 1}  # fmt: skip


def test_the_counters_keep_growing_after_a_cleanup(history):
    forecast_jobs_cleanup(actor=None)
    before = _scrape()

    # A new job runs to completion through the WF-21 transitions, another fails.
    done = _job(history, JobStatus.QUEUED)
    assert forecast_job_transition(done.pk, "start", started_at=timezone.now() - datetime.timedelta(seconds=3))
    assert forecast_job_transition(done.pk, "complete")
    failed = _job(history, JobStatus.QUEUED)
    assert forecast_job_transition(failed.pk, "start", started_at=timezone.now())
    assert forecast_job_transition(failed.pk, "fail")
    after = _scrape()

    for status, grown in (("completed", 1), ("failed", 1), ("cancelled", 0)):
        sample = f'genxsop_forecast_jobs_finished_total{{status="{status}"}}'
        assert _value(after, sample) == _value(before, sample) + grown
    assert _value(after, "genxsop_forecast_job_duration_seconds_count") == 4
    assert _value(after, 'genxsop_forecast_job_duration_seconds_bucket{le="5"}') == 2
    assert _value(after, "genxsop_forecast_job_duration_seconds_sum") > _value(
        before, "genxsop_forecast_job_duration_seconds_sum"
    )


def test_a_second_cleanup_adds_to_the_carry_and_a_dry_run_carries_nothing(history):
    before = _scrape()
    assert forecast_jobs_cleanup(actor=None, dry_run=True)["deleted_jobs"] == 4
    assert not MetricCarry.objects.exists()
    call_command("cleanup_forecast_jobs")  # the management command runs the same service
    assert tasks.cleanup_forecast_jobs()["deleted_jobs"] == 0  # and the daily task finds nothing more
    assert _scrape() == before
    # The recent jobs age past the retention: a shorter one deletes them, the counters still hold.
    assert forecast_jobs_cleanup(actor=None, retention_days=1)["deleted_jobs"] == 2
    assert ForecastJob.objects.count() == 1
    assert _scrape() == before
    carried = MetricCarry.objects.get(metric="genxsop_forecast_jobs_finished_total", labels="status=completed")
    assert carried.value == 3
