"""Background jobs run under their job id, so worker log records carry it (OPS-04, OPS-19)."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest
from django.db import transaction

from genxsop import context, tasks
from tests.platform.logcapture import captured_logs_fixture  # noqa: F401 (fixture)
from tests.platform.subproc import (
    PYTHON,
    ROOT,
    base_env,
    manage,
    migrated_sqlite_fixture,  # noqa: F401 (fixture)
    migrated_sqlite_template_fixture,  # noqa: F401 (fixture)
    requests,
    sqlite_url,
)

UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@tasks.job
def _observe(value, *, into: list):
    into.append((value, context.current()))
    return value


@tasks.job
def _wants_its_id(*, job_id: str):
    return job_id


class TestJobDecorator:
    def test_the_body_runs_under_the_given_job_id(self):
        seen = []

        assert _observe(5, into=seen, job_id="job-123") == 5

        ((value, ctx),) = seen
        assert value == 5
        assert ctx.request_id == "job-123"
        assert ctx.source == "job"

    def test_log_records_of_the_body_carry_the_job_id(self, captured_logs):
        tasks.ping("hi", job_id="job-456")

        (record,) = captured_logs.messages("job_ping")
        assert record["request_id"] == "job-456"
        assert record["echo"] == "hi"

    def test_without_a_job_id_a_fresh_one_is_minted(self):
        seen = []

        _observe(1, into=seen)
        _observe(2, into=seen)

        first, second = (ctx.request_id for _, ctx in seen)
        assert UUID4_RE.match(first)
        assert first != second

    def test_the_trace_of_the_enqueuing_request_continues(self):
        seen = []

        _observe(1, into=seen, job_id="j", trace_id="4bf92f3577b34da6a3ce929d0e0e4736")

        assert seen[0][1].trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"

    def test_the_job_id_is_passed_on_to_a_body_that_declares_it(self):
        assert _wants_its_id(job_id="job-789") == "job-789"
        assert UUID4_RE.match(_wants_its_id())

    def test_the_previous_context_is_restored_even_when_the_body_fails(self):
        @tasks.job
        def fails():
            raise RuntimeError("no")

        with pytest.raises(RuntimeError):
            fails(job_id="job-x")

        assert context.request_id() == "-"


@pytest.mark.django_db
class TestEnqueue:
    @pytest.fixture
    def queued(self, monkeypatch):
        calls = []
        monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **kw: calls.append((a, kw)))
        return calls

    def test_hands_the_task_over_only_when_the_transaction_commits(self, queued, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            job_id = tasks.enqueue("genxsop.tasks.ping", "hello", job_id="job-commit-1")
            assert queued == []

        ((args, kwargs),) = queued
        assert job_id == "job-commit-1"
        assert args == ("genxsop.tasks.ping", "hello")
        assert kwargs["job_id"] == "job-commit-1"
        assert kwargs["q_options"]["task_name"] == "job-commit-1"

    def test_nothing_is_queued_when_the_transaction_rolls_back(self, queued, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    tasks.enqueue("genxsop.tasks.ping")
                    raise RuntimeError("rollback")
            except RuntimeError:
                pass

        assert callbacks == []
        assert queued == []

    def test_mints_a_uuid_job_id_and_carries_the_current_trace(self, queued, django_capture_on_commit_callbacks):
        with (
            django_capture_on_commit_callbacks(execute=True),
            context.bound_context(request_id="req-1", trace_id="4bf92f3577b34da6a3ce929d0e0e4736"),
        ):
            job_id = tasks.enqueue("genxsop.tasks.ping", q_options={"group": "smoke"})

        ((_, kwargs),) = queued
        assert UUID4_RE.match(job_id)
        assert kwargs["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert kwargs["q_options"] == {"group": "smoke", "task_name": job_id}

    def test_refuses_a_function_that_would_not_run_under_its_job_id(self, queued):
        with pytest.raises(TypeError, match="not decorated"):
            tasks.enqueue("genxsop.health.readiness")

    @pytest.mark.parametrize("bad", ["has space", "x" * 101, "<script>"])
    def test_refuses_a_job_id_that_is_not_a_valid_request_id(self, queued, bad):
        with pytest.raises(ValueError, match="job id"):
            tasks.enqueue("genxsop.tasks.ping", job_id=bad)

    def test_runs_through_django_q_under_the_job_id(
        self, monkeypatch, captured_logs, django_capture_on_commit_callbacks
    ):
        from django_q.conf import Conf
        from django_q.models import Task

        # Conf is read at import, so a settings override would not reach it (stack notes §2).
        monkeypatch.setattr(Conf, "SYNC", True)

        with django_capture_on_commit_callbacks(execute=True):
            job_id = tasks.enqueue("genxsop.tasks.ping", "via django-q")

        (record,) = captured_logs.messages("job_ping")
        assert record["request_id"] == job_id
        task = Task.objects.get(name=job_id)
        assert task.success is True
        assert task.result == "via django-q"


@pytest.mark.slow
def test_a_real_worker_logs_the_task_under_its_job_id(tmp_path, migrated_sqlite):
    """manage.py qcluster against a file database: the worker's stdout line carries the job id."""
    env = base_env(
        DATABASE_URL=sqlite_url(migrated_sqlite),
        CACHE_URL="db://genxsop_cache",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        Q_WORKERS="1",
    )
    worker_log = tmp_path / "qcluster.log"
    with worker_log.open("w") as out:
        cluster = subprocess.Popen(  # noqa: S603 (our interpreter and manage.py)
            [PYTHON, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the test can end it and its workers
        )
    try:
        enqueued = manage(
            "shell",
            "-c",
            "from genxsop.tasks import enqueue; print('JOB=' + enqueue('genxsop.tasks.ping', 'hi'))",
            env=env,
        )
        assert enqueued.returncode == 0, enqueued.stderr
        job_id = re.search(r"^JOB=(\S+)$", enqueued.stdout, re.M).group(1)

        line = _wait_for_log_line(worker_log, "job_ping", timeout=15)
        assert line is not None, worker_log.read_text()
        assert line["request_id"] == job_id
        assert line["echo"] == "hi"
        assert _task_row(migrated_sqlite, job_id) == (job_id, 1)

        # The cluster's heartbeat is visible to a web process through the shared cache (OPS-11).
        probe = requests([{"path": "/ready"}], env={**env, "READINESS_CHECK_WORKER": "true"}, tmp_path=tmp_path)
        assert probe.returncode == 0, probe.stderr
        worker = probe.answers[0].json()["checks"]["worker"]
        assert probe.answers[0].status == 200, worker
        assert (worker["enabled"], worker["ok"], worker["alive"]) == (True, True, True)
    finally:
        _stop(cluster)


def _wait_for_log_line(path, message: str, *, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for raw in path.read_text().splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if record.get("message") == message:
                return record
        time.sleep(0.2)
    return None


def _task_row(db_path, job_id: str):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        connection = sqlite3.connect(db_path, timeout=10)
        try:
            row = connection.execute("SELECT name, success FROM django_q_task WHERE name = ?", (job_id,)).fetchone()
        finally:
            connection.close()
        if row:
            return row
        time.sleep(0.2)
    return None


def _stop(cluster: subprocess.Popen) -> None:
    if cluster.poll() is None:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=5)
    assert cluster.returncode is not None
