"""Forecast jobs on a real django-q2 cluster (FC-70…74): `manage.py qcluster` against a file database.

Each test seeds the database and queues the job in one child process, runs the cluster in another
and watches the job row with plain sqlite3, as an operator would. The worker settings commit one
series per chunk and pause between chunks, so a kill or a cancel reliably lands mid-job.
"""

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.platform.subproc import (
    PYTHON,
    ROOT,
    base_env,
    manage,
    migrated_sqlite_fixture,  # noqa: F401 (fixture)
    migrated_sqlite_template_fixture,  # noqa: F401 (fixture)
    sqlite_url,
)

SEED = """
from forecasting.services.jobs import forecast_job_create
from genxsop import context
from governance.choices import Role
from governance.services import user_create
from tests.factories import ProductFactory
from tests.forecasting.history_data import seasonal, write_actuals

with context.cli_context():
    planner = user_create(actor=None, email="planner@worker.test", full_name="Planner", role=Role.DEMAND_PLANNER)
    user_create(actor=None, email="ops@worker.test", full_name="Ops", role=Role.SOP_COORDINATOR)
    ids = []
    for i in range({n}):
        product = ProductFactory()
        write_actuals(product, seasonal(24, base=100 + 7 * i))
        ids.append(product.pk)
    job, _ = forecast_job_create(actor=planner, product_ids=ids, horizon=3)
print("JOB=%d" % job.pk)
"""

CANCEL = """
from forecasting.models import ForecastJob
from forecasting.services.jobs import forecast_job_cancel
from genxsop import context
from governance.models import User

with context.cli_context():
    job = forecast_job_cancel(actor=User.objects.get(email="ops@worker.test"), job=ForecastJob.objects.get(pk={pk}))
print("STATUS=" + job.status)
"""


@pytest.fixture
def worker_env(migrated_sqlite):
    def build(**knobs: str) -> dict[str, str]:
        return base_env(
            DATABASE_URL=sqlite_url(migrated_sqlite),
            CACHE_URL="db://genxsop_cache",
            DJANGO_SETTINGS_MODULE="tests.forecasting.worker_settings",
            LOG_LEVEL="INFO",
            Q_WORKERS="1",
            FORECAST_JOB_HEARTBEAT_SECONDS="1",  # stale after 3 s, so a lost worker is noticed quickly
            **knobs,
        )

    build.db = migrated_sqlite
    return build


def seed(env, n: int) -> int:
    proc = manage("shell", "-c", SEED.replace("{n}", str(n)), env=env)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.strip().rsplit("JOB=", 1)[1])


def start_cluster(env, log_path) -> subprocess.Popen:
    with log_path.open("a") as out:
        return subprocess.Popen(  # noqa: S603 (our interpreter and manage.py)
            [PYTHON, str(ROOT / "manage.py"), "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the test can end it with every worker
        )


def stop_cluster(cluster: subprocess.Popen) -> None:
    if cluster.poll() is None:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=5)


def kill_cluster(cluster: subprocess.Popen) -> None:
    os.killpg(cluster.pid, signal.SIGKILL)  # main, sentinel, workers and all: nothing gets to clean up
    cluster.wait(timeout=5)


def query(db, sql: str, *params):
    connection = sqlite3.connect(db, timeout=20)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def job_row(db, pk: int) -> dict:
    cols = ["status", "series_done", "series_failed", "attempt", "error_code", "result_json", "heartbeat_at"]
    (row,) = query(db, f"SELECT {', '.join(cols)} FROM forecast_jobs WHERE id = ?", pk)  # noqa: S608 (fixed columns)
    return dict(zip(cols, row, strict=True))


def wait_for(predicate, *, timeout: float, what: str, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{log.read_text()[-4000:]}" if log else ""))


def runs_of(db, pk: int) -> list[int]:
    return [r[0] for r in query(db, "SELECT product_id FROM forecast_run_audits WHERE job_id = ?", pk)]


def test_a_worker_runs_a_batch_job_to_completion(worker_env, tmp_path):
    env = worker_env()
    pk = seed(env, 4)
    log = tmp_path / "qcluster.log"
    cluster = start_cluster(env, log)
    try:
        wait_for(lambda: job_row(worker_env.db, pk)["status"] == "completed", timeout=60, what="completion", log=log)
    finally:
        stop_cluster(cluster)

    row = job_row(worker_env.db, pk)
    assert (row["series_done"], row["series_failed"], row["attempt"]) == (4, 0, 1)
    assert len(set(runs_of(worker_env.db, pk))) == len(runs_of(worker_env.db, pk)) == 4
    (results,) = query(worker_env.db, "SELECT COUNT(*) FROM forecasts f JOIN forecast_run_audits r ON r.id = f.run_id "
                                      "WHERE r.job_id = ?", pk)[0]  # fmt: skip
    assert results == 4 * 3


def test_a_killed_cluster_is_replaced_and_the_job_finishes_without_duplicates(worker_env, tmp_path):
    env = worker_env(FORECAST_JOB_CHUNK_SIZE="1", FORECAST_JOB_CHUNK_PAUSE_SECONDS="0.7")
    pk = seed(env, 8)
    log = tmp_path / "qcluster.log"
    cluster = start_cluster(env, log)
    try:
        wait_for(lambda: job_row(worker_env.db, pk)["series_done"] >= 2, timeout=60, what="two chunks", log=log)
    finally:
        kill_cluster(cluster)
    row = job_row(worker_env.db, pk)
    assert row["status"] == "running"
    assert row["series_done"] < 8
    before = runs_of(worker_env.db, pk)
    time.sleep(3.5)  # the dead attempt's heartbeat goes stale (3 x 1 s)

    # A restarted cluster's worker runs the reaper as it starts: requeued as attempt 2, then resumed
    cluster = start_cluster(env, log)
    try:
        wait_for(lambda: job_row(worker_env.db, pk)["status"] == "completed", timeout=90, what="completion", log=log)
    finally:
        stop_cluster(cluster)

    row = job_row(worker_env.db, pk)
    runs = runs_of(worker_env.db, pk)
    assert row["attempt"] == 2
    assert len(runs) == len(set(runs)) == 8  # every series exactly once
    assert set(before) <= set(runs)
    assert row["series_done"] == 8


def test_cancelling_a_running_job_stops_it_and_nothing_is_written_after(worker_env, tmp_path):
    # 12 series 1.5 s apart: ample time for a fresh `manage.py shell` to cancel before the job ends
    env = worker_env(FORECAST_JOB_CHUNK_SIZE="1", FORECAST_JOB_CHUNK_PAUSE_SECONDS="1.5")
    pk = seed(env, 12)
    log = tmp_path / "qcluster.log"
    cluster = start_cluster(env, log)
    try:
        wait_for(lambda: job_row(worker_env.db, pk)["series_done"] >= 1, timeout=60, what="a first chunk", log=log)
        proc = manage("shell", "-c", CANCEL.replace("{pk}", str(pk)), env=env)
        assert proc.returncode == 0, proc.stderr
        assert "STATUS=running" in proc.stdout  # asked to stop at the next checkpoint
        wait_for(lambda: job_row(worker_env.db, pk)["status"] == "cancelled", timeout=30, what="cancel", log=log)
        at_cancel = runs_of(worker_env.db, pk)
        time.sleep(2)  # longer than a chunk's pause: a worker that ignored the cancel would write again
        after = runs_of(worker_env.db, pk)
    finally:
        stop_cluster(cluster)

    row = job_row(worker_env.db, pk)
    assert row["status"] == "cancelled"
    assert row["error_code"] == "CANCELLED"
    assert after == at_cancel
    assert 1 <= len(after) < 12
    assert '"partial": true' in row["result_json"]
