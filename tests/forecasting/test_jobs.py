"""Forecast jobs in process (FC-70…77, WF-21, API-FC-04…10): the task functions are called directly.

The broker hand-over is captured instead of executed, so each test decides when "the worker" runs
and can interleave cancellations, redeliveries and the reaper exactly where it wants them.
"""

import datetime
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from forecasting import tasks
from forecasting.choices import JobErrorCode, JobKind, JobStatus
from forecasting.models import ForecastJob, ForecastRun
from forecasting.services import generate as generate_services
from forecasting.services import jobs as services
from governance.choices import Role
from governance.models import AuditEvent
from governance.schedules import SCHEDULES, ensure_schedules
from planning.models import Product
from tests.factories import ProductFactory
from tests.forecasting.builders import make_run
from tests.forecasting.history_data import seasonal, write_actuals

pytestmark = pytest.mark.django_db

API = "/api/v1/forecasting"


@pytest.fixture
def queued(monkeypatch):
    """The tasks handed to django-q, in order, as (func path, args)."""
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *a, **kw: calls.append((func, a)))
    return calls


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run on-commit hand-overs as the real commit would (the test's own transaction never commits)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def planner(users):
    return users[Role.DEMAND_PLANNER]


@pytest.fixture
def ops(users):
    return users[Role.SOP_COORDINATOR]


@pytest.fixture
def client_for(api_client_for):
    return api_client_for


def products_with_history(n: int, months: int = 24) -> list[Product]:
    products = []
    for i in range(n):
        product = ProductFactory()
        write_actuals(product, seasonal(months, base=100 + 10 * i))
        products.append(product)
    return products


def run_job(job) -> str:
    return tasks.run_forecast_job(job.pk)


def fresh(job) -> ForecastJob:
    return ForecastJob.objects.get(pk=job.pk)


# --- queueing (API-FC-04) -----------------------------------------------------------------------


class TestGenerateJob:
    def test_one_product_queues_a_generate_job_after_commit(self, planner, client_for, queued, commit):
        (product,) = products_with_history(1)

        response = commit(client_for(planner).post, f"{API}/generate-job", {"product_id": product.pk, "horizon": 4},
                          format="json")  # fmt: skip

        assert response.status_code == 202, response.content
        body = response.json()
        assert (body["status"], body["kind"], body["product_id"], body["horizon"]) == (
            "queued", "generate", product.pk, 4)  # fmt: skip
        assert body["requested_by"] == planner.pk
        assert body["model_type"] is None
        job = ForecastJob.objects.get(job_id=body["job_id"])
        assert queued == [("forecasting.tasks.run_forecast_job", (job.pk,))]
        assert job.task_id  # the broker task's name, so the reaper can look for it
        event = AuditEvent.objects.get(event_type="forecasting.job.created")
        assert event.target_id == str(job.pk)
        assert event.actor_id == planner.pk

    def test_product_ids_and_all_active_queue_batch_jobs(self, planner, client_for, queued, commit):
        a, b = products_with_history(2)
        client = client_for(planner)

        by_ids = commit(client.post, f"{API}/generate-job", {"product_ids": [b.pk, a.pk, a.pk]}, format="json")
        everything = commit(client.post, f"{API}/generate-job", {"all_active": True, "horizon": 3}, format="json")

        assert by_ids.status_code == everything.status_code == 202
        assert by_ids.json()["kind"] == everything.json()["kind"] == "batch_generate"
        assert by_ids.json()["scope"]["product_ids"] == [a.pk, b.pk]
        assert by_ids.json()["horizon"] == 6  # FORECAST_DEFAULT_HORIZON
        assert everything.json()["scope"]["all_active"] is True
        assert len(queued) == 2

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"product_id": 1, "all_active": True},
            {"product_id": "PLACEHOLDER", "horizon": 0},
            {"product_id": "PLACEHOLDER", "horizon": 25},
            {"product_id": "PLACEHOLDER", "model_type": "no_such_model"},
            {"product_ids": []},
        ],
    )
    def test_invalid_requests_are_400_and_queue_nothing(self, planner, client_for, queued, body):
        (product,) = products_with_history(1)
        body = {k: (product.pk if v == "PLACEHOLDER" else v) for k, v in body.items()}

        response = client_for(planner).post(f"{API}/generate-job", body, format="json")

        assert response.status_code == 400, response.content
        assert ForecastJob.objects.count() == 0
        assert queued == []

    def test_unknown_product_is_404(self, planner, client_for, queued):
        (product,) = products_with_history(1)
        response = client_for(planner).post(f"{API}/generate-job", {"product_ids": [product.pk, 999999]},
                                            format="json")  # fmt: skip
        assert response.status_code == 404
        assert ForecastJob.objects.count() == 0

    def test_viewer_and_executive_may_not_queue(self, users, client_for):
        (product,) = products_with_history(1)
        for role in (Role.VIEWER, Role.EXECUTIVE):
            response = client_for(users[role]).post(f"{API}/generate-job", {"product_id": product.pk}, format="json")
            assert response.status_code == 403

    def test_idempotency_key_returns_the_first_job_with_200(self, users, planner, client_for, queued, commit):
        (product,) = products_with_history(1)
        client = client_for(planner)
        headers = {"HTTP_IDEMPOTENCY_KEY": "nightly-2026-03"}

        first = commit(client.post, f"{API}/generate-job", {"product_id": product.pk}, format="json", **headers)
        again = commit(client.post, f"{API}/generate-job", {"product_id": product.pk}, format="json", **headers)
        other = client_for(users[Role.SUPPLY_PLANNER])
        someone_else = commit(other.post, f"{API}/generate-job", {"product_id": product.pk}, format="json", **headers)

        assert (first.status_code, again.status_code, someone_else.status_code) == (202, 200, 202)
        assert again.json()["job_id"] == first.json()["job_id"]
        assert someone_else.json()["job_id"] != first.json()["job_id"]
        assert ForecastJob.objects.count() == 2
        assert len(queued) == 2


# --- running (FC-70…73) -------------------------------------------------------------------------


class TestRun:
    def test_generate_job_writes_its_run_and_completes(self, planner, commit, queued):
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk, horizon=3)

        assert run_job(job) == JobStatus.COMPLETED

        job = fresh(job)
        (run,) = ForecastRun.objects.filter(job=job)
        assert (run.source, run.user_id, run.horizon, run.results.count()) == ("job", planner.pk, 3, 3)
        assert (job.series_total, job.series_done, job.series_failed, job.progress_pct) == (1, 1, 0, Decimal("100"))
        assert job.started_at
        assert job.completed_at
        assert job.heartbeat_at
        assert job.worker
        result = job.result_json
        assert (result["product_id"], result["run_id"], result["records_created"], result["horizon"]) == (
            product.pk, run.pk, 3, 3)  # fmt: skip
        assert [f["lag"] for f in result["forecasts"]] == [1, 2, 3]
        assert AuditEvent.objects.filter(event_type="forecasting.job.completed", target_id=str(job.pk)).exists()

    def test_generate_job_without_enough_history_fails_insufficient_data(self, planner, commit, queued):
        product = ProductFactory()
        write_actuals(product, [5, 6])
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk)

        assert run_job(job) == JobStatus.FAILED

        job = fresh(job)
        assert (job.error_code, job.series_failed) == (JobErrorCode.INSUFFICIENT_DATA, 1)
        assert "3 history months" in job.error
        assert not ForecastRun.objects.exists()

    def test_batch_job_skips_short_series_and_completes(self, planner, commit, queued):
        good = products_with_history(3)
        short = ProductFactory()
        write_actuals(short, [1])
        job, _ = commit(services.forecast_job_create, actor=planner, product_ids=[p.pk for p in [*good, short]])

        assert run_job(job) == JobStatus.COMPLETED

        job = fresh(job)
        result = job.result_json
        statuses = {s["product_id"]: s["status"] for s in result["series"]}
        assert statuses == {**{p.pk: "completed" for p in good}, short.pk: "skipped"}
        assert (result["series_total"], result["series_done"], result["series_failed"], result["partial"]) == (
            4, 3, 1, False)  # fmt: skip
        assert ForecastRun.objects.filter(job=job).count() == 3
        ran = {s["product_id"]: s["run_id"] for s in result["series"] if s["run_id"]}
        assert ran == dict(ForecastRun.objects.filter(job=job).values_list("product_id", "pk"))

    def test_all_active_covers_active_products_only(self, planner, commit, queued):
        active = products_with_history(2)
        retired = products_with_history(1)[0]
        Product.objects.filter(pk=retired.pk).update(status="discontinued")
        job, _ = commit(services.forecast_job_create, actor=planner, all_active=True, horizon=2)

        run_job(job)

        assert set(ForecastRun.objects.filter(job=job).values_list("product_id", flat=True)) == {p.pk for p in active}

    def test_a_redelivered_task_does_nothing_the_second_time(self, planner, commit, queued):
        products = products_with_history(2)
        job, _ = commit(services.forecast_job_create, actor=planner, product_ids=[p.pk for p in products])

        assert run_job(job) == JobStatus.COMPLETED
        assert run_job(job) == "not-started"

        assert ForecastRun.objects.filter(job=job).count() == 2

    def test_an_attempt_killed_mid_job_is_resumed_without_duplicates(self, planner, commit, queued, monkeypatch):
        # Given a batch of 5 series in chunks of 2, whose worker dies while computing the second chunk
        monkeypatch.setattr(tasks, "CHUNK_SIZE", 2)
        monkeypatch.setattr(tasks, "COMPUTE_BATCH", 2)
        products = products_with_history(5)
        job, _ = commit(services.forecast_job_create, actor=planner, product_ids=[p.pk for p in products])
        real = generate_services.forecast_compute
        calls = []

        def dies_on_second_chunk(keys, **kwargs):
            calls.append(keys)
            if len(calls) == 2:
                raise KeyboardInterrupt  # not an Exception: nothing in the worker catches it, like SIGKILL
            return real(keys, **kwargs)

        monkeypatch.setattr(generate_services, "forecast_compute", dies_on_second_chunk)
        with pytest.raises(KeyboardInterrupt):
            run_job(job)
        assert fresh(job).status == JobStatus.RUNNING
        assert fresh(job).series_done == 2

        # When the reaper finds the heartbeat stale, and the broker delivers the task again
        later = timezone.now() + datetime.timedelta(minutes=5)
        assert commit(services.forecast_jobs_reap, now=later)["requeued"] == 1
        assert fresh(job).status == JobStatus.QUEUED
        assert fresh(job).attempt == 2
        assert run_job(job) == JobStatus.COMPLETED

        # Then every series has exactly one run, and the resumed attempt computed only the rest
        job = fresh(job)
        runs = list(ForecastRun.objects.filter(job=job).values_list("product_id", flat=True))
        assert sorted(runs) == sorted(p.pk for p in products)
        assert [len(k) for k in calls] == [2, 2, 2, 1]
        assert (job.series_done, len(job.result_json["series"])) == (5, 5)

    def test_one_failing_series_does_not_stop_the_others(self, planner, commit, queued, monkeypatch):
        products = products_with_history(3)
        bad = products[1].pk
        real = generate_services.forecast_compute

        def breaks_on_one(keys, **kwargs):
            if any(k.product_id == bad for k in keys):
                raise ValueError("engine exploded")
            return real(keys, **kwargs)

        monkeypatch.setattr(generate_services, "forecast_compute", breaks_on_one)
        job, _ = commit(services.forecast_job_create, actor=planner, product_ids=[p.pk for p in products])

        assert run_job(job) == JobStatus.COMPLETED

        statuses = {s["product_id"]: s["status"] for s in fresh(job).result_json["series"]}
        assert statuses[bad] == "failed"
        assert ForecastRun.objects.filter(job=job).count() == 2

    def test_a_job_past_its_timeout_fails_with_timeout(self, planner, commit, queued, settings):
        settings.FORECAST_JOB_TIMEOUT_SECONDS = 0
        products = products_with_history(2)
        job, _ = commit(services.forecast_job_create, actor=planner, product_ids=[p.pk for p in products])

        assert run_job(job) == JobStatus.FAILED

        job = fresh(job)
        assert job.error_code == JobErrorCode.TIMEOUT
        assert job.result_json["partial"] is True
        assert not ForecastRun.objects.exists()


# --- cancellation (FC-72) -----------------------------------------------------------------------


class TestCancel:
    def test_a_queued_job_is_cancelled_at_once_and_its_task_does_nothing(self, planner, ops, client_for, commit,
                                                                         queued):  # fmt: skip
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk)

        response = client_for(ops).post(f"{API}/jobs/{job.job_id}/cancel")

        assert response.status_code == 200
        assert (response.json()["status"], fresh(job).error_code) == ("cancelled", JobErrorCode.CANCELLED)
        assert response.json()["completed_at"]
        assert response.json()["cancel_requested_at"]
        assert run_job(job) == "not-started"
        assert not ForecastRun.objects.exists()

    def test_a_running_batch_stops_between_chunks_and_keeps_what_it_committed(self, planner, ops, commit, queued,
                                                                              monkeypatch):  # fmt: skip
        monkeypatch.setattr(tasks, "CHUNK_SIZE", 2)
        monkeypatch.setattr(tasks, "COMPUTE_BATCH", 2)
        products = products_with_history(5)
        job, _ = commit(services.forecast_job_create, actor=planner, product_ids=[p.pk for p in products])
        real = generate_services.forecast_compute
        calls = []

        def cancel_before_second_chunk(keys, **kwargs):
            calls.append(keys)
            if len(calls) == 2:
                answered = services.forecast_job_cancel(actor=ops, job=fresh(job))
                assert (answered.status, bool(answered.cancel_requested_at)) == ("running", True)
            return real(keys, **kwargs)

        monkeypatch.setattr(generate_services, "forecast_compute", cancel_before_second_chunk)

        assert run_job(job) == JobStatus.CANCELLED

        job = fresh(job)
        assert job.status == JobStatus.CANCELLED
        assert job.error == f"Cancelled by {ops}"
        assert ForecastRun.objects.filter(job=job).count() == 2
        assert job.result_json["partial"] is True
        assert len(job.result_json["series"]) == 2
        assert len(calls) == 2  # nothing computed after the cancel
        assert run_job(job) == "not-started"
        assert fresh(job).status == JobStatus.CANCELLED

    def test_a_cancel_between_chunks_of_one_computed_batch_drops_the_rest(self, planner, ops, commit, queued,
                                                                          monkeypatch):  # fmt: skip
        # The engine computes all 5 series at once; commits go 2 by 2 and the cancel lands after the first
        monkeypatch.setattr(tasks, "CHUNK_SIZE", 2)
        products = products_with_history(5)
        job, _ = commit(services.forecast_job_create, actor=planner, product_ids=[p.pk for p in products])
        monkeypatch.setattr(tasks._Runner, "_pause", lambda runner: services.forecast_job_cancel(actor=ops, job=job))

        assert run_job(job) == JobStatus.CANCELLED

        assert ForecastRun.objects.filter(job=job).count() == 2
        assert fresh(job).result_json["partial"] is True

    def test_a_cancel_during_a_single_series_writes_nothing(self, planner, ops, commit, queued, monkeypatch):
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk)
        real = generate_services.forecast_compute

        def cancelled_while_computing(keys, **kwargs):
            out = real(keys, **{**kwargs, "should_stop": None})
            services.forecast_job_cancel(actor=ops, job=fresh(job))
            return out

        monkeypatch.setattr(generate_services, "forecast_compute", cancelled_while_computing)

        assert run_job(job) == JobStatus.CANCELLED
        assert not ForecastRun.objects.exists()
        assert fresh(job).completed_at is not None

    def test_cancelling_a_finished_job_is_409(self, planner, ops, client_for, commit, queued):
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk)
        run_job(job)

        response = client_for(ops).post(f"{API}/jobs/{job.job_id}/cancel")

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "INVALID_STATE_TRANSITION"

    def test_only_ops_may_cancel(self, planner, client_for, commit, queued):
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk)
        assert client_for(planner).post(f"{API}/jobs/{job.job_id}/cancel").status_code == 403
        assert fresh(job).status == JobStatus.QUEUED


# --- retry, detail, list ------------------------------------------------------------------------


class TestRetryAndReads:
    def test_retry_queues_a_new_job_with_the_same_parameters(self, planner, ops, client_for, commit, queued):
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk, horizon=5,
                        model_type="seasonal_naive")  # fmt: skip
        services.forecast_job_cancel(actor=ops, job=job)

        response = commit(client_for(ops).post, f"{API}/jobs/{job.job_id}/retry")

        assert response.status_code == 202, response.content
        body = response.json()
        assert (body["retry_of"], body["status"], body["horizon"], body["model_type"], body["product_id"]) == (
            job.job_id, "queued", 5, "seasonal_naive", product.pk)  # fmt: skip
        assert body["job_id"] != job.job_id
        assert fresh(job).status == JobStatus.CANCELLED
        assert queued[-1] == (
            "forecasting.tasks.run_forecast_job",
            (ForecastJob.objects.get(job_id=body["job_id"]).pk,),
        )
        assert AuditEvent.objects.filter(event_type="forecasting.job.retried").count() == 1

    def test_retry_of_a_queued_or_completed_job_is_409(self, planner, ops, client_for, commit, queued):
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk)
        assert client_for(ops).post(f"{API}/jobs/{job.job_id}/retry").status_code == 409
        run_job(job)
        assert client_for(ops).post(f"{API}/jobs/{job.job_id}/retry").status_code == 409

    def test_the_requester_and_ops_read_a_job_others_get_404(self, users, planner, ops, client_for, commit, queued):
        (product,) = products_with_history(1)
        job, _ = commit(services.forecast_job_create, actor=planner, product_id=product.pk)
        run_job(job)
        url = f"{API}/jobs/{job.job_id}"

        mine = client_for(planner).get(url)
        as_ops = client_for(ops).get(url)
        other = client_for(users[Role.FINANCE_ANALYST]).get(url)

        assert mine.status_code == as_ops.status_code == 200
        assert mine.json()["result"]["run_id"] == ForecastRun.objects.get(job=job).pk
        assert mine.json()["requested_by_name"] == str(planner)
        assert other.status_code == 404
        assert client_for(ops).get(f"{API}/jobs/no-such-job").status_code == 404

    def test_list_is_newest_first_and_filters(self, planner, ops, client_for, commit, queued):
        a, b = products_with_history(2)
        first, _ = commit(services.forecast_job_create, actor=planner, product_id=a.pk)
        second, _ = commit(services.forecast_job_create, actor=planner, product_id=b.pk)
        services.forecast_job_cancel(actor=ops, job=second)
        client = client_for(ops)

        everything = client.get(f"{API}/jobs").json()
        cancelled = client.get(f"{API}/jobs", {"status": "cancelled"}).json()
        for_a = client.get(f"{API}/jobs", {"product_id": a.pk, "limit": 1}).json()

        assert [j["job_id"] for j in everything] == [second.job_id, first.job_id]
        assert [j["job_id"] for j in cancelled] == [second.job_id]
        assert [j["job_id"] for j in for_a] == [first.job_id]
        assert client.get(f"{API}/jobs", {"limit": 201}).status_code == 400
        assert client.get(f"{API}/jobs", {"status": "bogus"}).status_code == 400
        assert client_for(planner).get(f"{API}/jobs").status_code == 403


# --- metrics (FC-75) ----------------------------------------------------------------------------


def make_job(user, status, *, created=None, started=None, completed=None, **fields) -> ForecastJob:
    job = ForecastJob.objects.create(kind=JobKind.BATCH_GENERATE, status=status, horizon=3, requested_by=user,
                                     started_at=started, completed_at=completed, **fields)  # fmt: skip
    if created is not None:
        ForecastJob.objects.filter(pk=job.pk).update(created_at=created)
    return job


class TestMetrics:
    def test_figures_worked_out_by_hand(self, planner, ops, client_for):
        now = timezone.now()
        ago = lambda **kw: now - datetime.timedelta(**kw)  # noqa: E731
        for seconds in (1, 2, 3, 4):  # completed within the last hour: 1 s .. 4 s of processing
            make_job(planner, JobStatus.COMPLETED, started=ago(hours=1), completed=ago(hours=1) + datetime.timedelta(
                seconds=seconds))  # fmt: skip
        make_job(planner, JobStatus.FAILED, started=ago(hours=2), completed=ago(hours=2), error_code="INTERNAL_ERROR")
        make_job(planner, JobStatus.FAILED, started=ago(days=2), completed=ago(days=2), error_code="INSUFFICIENT_DATA")
        make_job(planner, JobStatus.FAILED, started=ago(days=40), completed=ago(days=40), error_code="TIMEOUT")
        make_job(planner, JobStatus.CANCELLED, completed=ago(minutes=5))
        make_job(planner, JobStatus.QUEUED, created=ago(seconds=90))
        make_job(planner, JobStatus.QUEUED, created=ago(seconds=30))
        make_job(planner, JobStatus.RUNNING, started=ago(minutes=1), heartbeat_at=ago(seconds=1),
                 cancel_requested_at=ago(seconds=2))  # fmt: skip
        make_job(planner, JobStatus.RUNNING, started=ago(minutes=5), heartbeat_at=ago(minutes=4))

        response = client_for(ops).get(f"{API}/jobs/metrics")

        assert response.status_code == 200
        body = response.json()
        assert body["total_jobs"] == 12
        assert body["by_status"] == {"queued": 2, "running": 2, "completed": 4, "failed": 3, "cancelled": 1}
        assert body["avg_processing_time_ms"] == pytest.approx(2500.0)
        # linear interpolation at rank 0.95 * 3 = 2.85 between 3000 and 4000 ms
        assert body["p95_processing_time_ms"] == pytest.approx(3850.0)
        assert body["p95_processing_time_ms"] == pytest.approx(float(np.percentile([1000, 2000, 3000, 4000], 95)))
        assert body["failed_last_24h"] == 1
        assert 90 <= body["oldest_queued_age_seconds"] < 100
        assert body["cancel_requested_running"] == 1
        assert body["stale_running"] == 1
        # last 30 days: 4 completed, 1 counted failure (INSUFFICIENT_DATA excluded, the 40-day-old one out)
        assert body["success_rate_30d_pct"] == pytest.approx(80.0)

    def test_empty_metrics_are_zero_or_null(self, ops, client_for):
        body = client_for(ops).get(f"{API}/jobs/metrics").json()
        assert body["total_jobs"] == 0
        assert body["avg_processing_time_ms"] is None
        assert body["p95_processing_time_ms"] is None
        assert body["oldest_queued_age_seconds"] is None
        assert body["success_rate_30d_pct"] is None


# --- cleanup (FC-76) ----------------------------------------------------------------------------


class TestCleanup:
    @pytest.fixture
    def history(self, planner):
        old = timezone.now() - datetime.timedelta(days=45)
        recent = timezone.now() - datetime.timedelta(days=5)
        old_completed = make_job(planner, JobStatus.COMPLETED, started=old, completed=old)
        make_job(planner, JobStatus.FAILED, started=old, completed=old)
        make_job(planner, JobStatus.CANCELLED, completed=old)
        make_job(planner, JobStatus.COMPLETED, started=recent, completed=recent)
        make_job(planner, JobStatus.QUEUED, created=old)
        make_job(planner, JobStatus.RUNNING, created=old, started=old)
        product = ProductFactory()
        run = make_run(product, as_of=datetime.date(2026, 1, 1), predictions=[1, 2], job=old_completed)
        return run

    def test_deletes_old_finished_jobs_keeps_their_runs_and_audits(self, history, ops, client_for):
        response = client_for(ops).post(f"{API}/jobs/cleanup", {}, format="json")

        assert response.status_code == 200
        body = response.json()
        assert (body["retention_days"], body["deleted_jobs"], body["dry_run"]) == (30, 3, False)
        assert sorted(ForecastJob.objects.values_list("status", flat=True)) == ["completed", "queued", "running"]
        history.refresh_from_db()
        assert history.job_id is None  # the run stays
        event = AuditEvent.objects.get(event_type="forecasting.jobs.cleaned")
        assert (event.metadata["deleted_jobs"], event.metadata["retention_days"]) == (3, 30)
        assert event.actor_id == ops.pk

    def test_dry_run_and_a_longer_retention(self, history, ops, client_for):
        client = client_for(ops)
        dry = client.post(f"{API}/jobs/cleanup", {"dry_run": True}, format="json").json()
        longer = client.post(f"{API}/jobs/cleanup", {"retention_days": 60}, format="json").json()

        assert (dry["deleted_jobs"], dry["dry_run"]) == (3, True)
        assert longer["deleted_jobs"] == 0
        assert ForecastJob.objects.count() == 6
        assert client.post(f"{API}/jobs/cleanup", {"retention_days": 0}, format="json").status_code == 400

    def test_the_management_command_and_the_scheduled_task(self, history, capsys):
        call_command("cleanup_forecast_jobs", "--dry-run")
        assert "would delete 3 forecast jobs" in capsys.readouterr().out
        assert ForecastJob.objects.count() == 6

        call_command("cleanup_forecast_jobs", "--retention-days", "30")
        assert "deleted 3 forecast jobs" in capsys.readouterr().out
        assert tasks.cleanup_forecast_jobs()["deleted_jobs"] == 0
        events = AuditEvent.objects.filter(event_type="forecasting.jobs.cleaned")
        assert events.count() == 3
        assert {e.actor_type for e in events} == {"system"}


# --- reaper (FC-74) -----------------------------------------------------------------------------


class TestReaper:
    def test_stale_jobs_are_requeued_until_attempts_run_out(self, planner, commit, queued):
        now = timezone.now()
        stale = now - datetime.timedelta(seconds=31)
        first = make_job(planner, JobStatus.RUNNING, started=stale, heartbeat_at=stale, attempt=1, max_attempts=2)
        last = make_job(planner, JobStatus.RUNNING, started=stale, heartbeat_at=stale, attempt=2, max_attempts=2)
        alive = make_job(planner, JobStatus.RUNNING, started=stale, heartbeat_at=now, attempt=1)

        outcome = commit(tasks.reap_forecast_jobs)

        assert (outcome["requeued"], outcome["failed"]) == (1, 1)
        first, last, alive = fresh(first), fresh(last), fresh(alive)
        assert (first.status, first.attempt, first.heartbeat_at, first.completed_at) == ("queued", 2, None, None)
        assert queued == [("forecasting.tasks.run_forecast_job", (first.pk,))]
        assert (last.status, last.error_code, bool(last.completed_at)) == ("failed", JobErrorCode.WORKER_LOST, True)
        assert alive.status == JobStatus.RUNNING
        assert commit(tasks.reap_forecast_jobs) == {"requeued": 0, "failed": 0, "timed_out": 0, "reenqueued": 0}

    def test_a_job_running_past_its_timeout_is_failed(self, planner, commit, queued, settings):
        settings.FORECAST_JOB_TIMEOUT_SECONDS = 60
        long_ago = timezone.now() - datetime.timedelta(minutes=5)
        job = make_job(planner, JobStatus.RUNNING, started=long_ago, heartbeat_at=timezone.now())

        assert commit(tasks.reap_forecast_jobs)["timed_out"] == 1
        assert (fresh(job).status, fresh(job).error_code) == ("failed", JobErrorCode.TIMEOUT)

    def test_queued_jobs_whose_task_vanished_are_enqueued_again(self, planner, commit, queued):
        orphan = make_job(planner, JobStatus.QUEUED, task_id="gone")
        young = make_job(planner, JobStatus.QUEUED, task_id="gone-too")
        ForecastJob.objects.filter(pk=orphan.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=3))

        assert commit(tasks.reap_forecast_jobs)["reenqueued"] == 1

        assert queued == [("forecasting.tasks.run_forecast_job", (orphan.pk,))]
        assert fresh(orphan).task_id != "gone"
        assert fresh(young).task_id == "gone-too"


# --- nightly forecast and schedules (FC-77, OPS-40) ---------------------------------------------


class TestSchedules:
    def test_nightly_forecast_only_when_enabled(self, settings, commit, queued, monkeypatch):
        follow_ups = []
        monkeypatch.setattr(tasks, "_call_optional", lambda module, name, job: follow_ups.append(name) or 0)
        settings.FORECAST_NIGHTLY_ENABLED = False
        assert tasks.nightly_forecast() is None
        assert not ForecastJob.objects.exists()

        settings.FORECAST_NIGHTLY_ENABLED = True
        out = commit(tasks.nightly_forecast)

        job = ForecastJob.objects.get()
        assert out["job_id"] == job.job_id
        assert (job.kind, job.scope["all_active"], job.requested_by.email) == ("batch_generate", True,
                                                                               services.SYSTEM_EMAIL)  # fmt: skip
        assert job.requested_by.is_active is False
        assert follow_ups == ["anomalies_scan_active", "accuracy_refresh"]
        assert len(queued) == 1

    def test_nightly_follow_ups_run_for_real(self, settings, commit, queued):
        settings.FORECAST_NIGHTLY_ENABLED = True
        products_with_history(2)

        out = commit(tasks.nightly_forecast)

        # Both follow-ups exist and report what they did (a count), not None (missing or failed)
        assert isinstance(out["anomalies_scan_active"], int)
        assert isinstance(out["accuracy_refresh"], int)

    def test_nightly_runs_are_marked_as_scheduled(self, settings, commit, queued, monkeypatch):
        monkeypatch.setattr(tasks, "_call_optional", lambda module, name, job: None)
        settings.FORECAST_NIGHTLY_ENABLED = True
        products_with_history(2)
        commit(tasks.nightly_forecast)

        assert run_job(ForecastJob.objects.get()) == JobStatus.COMPLETED
        assert set(ForecastRun.objects.values_list("source", flat=True)) == {"schedule"}

    def test_schedules_follow_the_settings(self, settings):
        names = {spec.name: spec for spec in SCHEDULES}
        assert "forecasting.reap_forecast_jobs" in names

        settings.FORECAST_NIGHTLY_ENABLED = True
        settings.FORECAST_NIGHTLY_CRON = "30 1 * * *"
        settings.FORECAST_JOB_CLEANUP_CRON = "5 3 * * *"
        outcome = ensure_schedules(now=datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC))
        nightly = Schedule.objects.get(name="forecasting.nightly_forecast")
        cleanup = Schedule.objects.get(name="forecasting.cleanup_forecast_jobs")
        reaper = Schedule.objects.get(name="forecasting.reap_forecast_jobs")

        assert outcome["forecasting.nightly_forecast"] == "created"
        assert (nightly.func, nightly.next_run.astimezone(datetime.UTC).time()) == (
            "forecasting.tasks.nightly_forecast", datetime.time(1, 30))  # fmt: skip
        assert cleanup.next_run.astimezone(datetime.UTC).time() == datetime.time(3, 5)
        assert (reaper.schedule_type, reaper.minutes) == (Schedule.MINUTES, 1)

        settings.FORECAST_NIGHTLY_ENABLED = False
        assert ensure_schedules()["forecasting.nightly_forecast"] == "removed"
        assert not Schedule.objects.filter(name="forecasting.nightly_forecast").exists()
        assert ensure_schedules()["forecasting.reap_forecast_jobs"] == "unchanged"
