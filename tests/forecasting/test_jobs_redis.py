"""Forecast jobs through django-q2's Redis broker (Q_BROKER_URL, OPS-61) on a real `qcluster`.

Redis is GENXSOP_TEST_REDIS_URL (default redis://127.0.0.1:6379/5, a database these tests own and
empty, so two runs at once against one Redis must use different databases). Without a reachable
Redis the tests are skipped, except under CI=true, where that is a failure.

The job is queued by the service in one child process and run by the cluster in another, so the
database must be one that every process sees: a migrated SQLite file, or on PostgreSQL the test
database itself with `transaction=True` (committed rows, nothing held in an open transaction).
"""

import os
import re
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import redis
from django.db import connection

from genxsop import metrics
from tests.forecasting.test_jobs_worker import SEED, seed, start_cluster, stop_cluster, wait_for
from tests.platform.subproc import (
    base_env,
    manage,
    migrated_sqlite_fixture,  # noqa: F401 (fixture)
    migrated_sqlite_template_fixture,  # noqa: F401 (fixture)
    requests,
    sqlite_url,
)

REDIS_URL = os.environ.get("GENXSOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
QUEUE_KEY = "django_q:genxsop:q"  # django-q2's list for the cluster named in Q_CLUSTER
METRICS_TOKEN = "redis-broker-metrics-token"


@pytest.fixture
def redis_db():
    client = redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis at {REDIS_URL} is not reachable ({type(exc).__name__}); set GENXSOP_TEST_REDIS_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@dataclass
class SharedDb:
    url: str
    vendor: str
    path: str = ""

    def scalar(self, sql: str, *params):
        """The first column of the first row; `%s` placeholders on both vendors."""
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()[0]
        db = sqlite3.connect(self.path, timeout=20)
        try:
            return db.execute(sql.replace("%s", "?"), params).fetchone()[0]
        finally:
            db.close()


@pytest.fixture
def shared_db(request) -> SharedDb:
    if connection.vendor == "postgresql":  # the test database, through the test's transaction=True mark
        s = connection.settings_dict
        auth = quote(s["USER"] or "", safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else "")
        return SharedDb(f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}", "postgresql")
    path = request.getfixturevalue("migrated_sqlite")
    return SharedDb(sqlite_url(path), "sqlite", str(path))


def job_env(db: SharedDb, **overrides: str) -> dict[str, str]:
    return base_env(
        DATABASE_URL=db.url,
        CACHE_URL="db://genxsop_cache",
        DJANGO_SETTINGS_MODULE="tests.forecasting.worker_settings",
        Q_BROKER_URL=REDIS_URL,
        Q_WORKERS="1",
        METRICS_TOKEN=METRICS_TOKEN,
        **overrides,
    )


def scrape(env, tmp_path) -> str:
    run = requests([{"path": "/metrics", "headers": {"Authorization": f"Bearer {METRICS_TOKEN}"}}],
                   env=env, tmp_path=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    (answer,) = run.answers
    assert answer.status == 200, answer.body
    return answer.body


def sample(text: str, name: str) -> str | None:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return match.group(1) if match else None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_queued_through_redis_runs_on_a_real_worker_with_its_results(shared_db, redis_db, tmp_path):
    env = job_env(shared_db)
    pk = seed(env, 3)  # forecast_job_create in a child process: the task goes to Redis on commit

    assert redis_db.llen(QUEUE_KEY) == 1
    assert shared_db.scalar("SELECT COUNT(*) FROM django_q_ormq") == 0  # nothing went to the database broker
    assert shared_db.scalar("SELECT status FROM forecast_jobs WHERE id = %s", pk) == "queued"
    text = scrape(env, tmp_path)
    assert sample(text, "genxsop_task_queue_depth") == "1"
    assert sample(text, 'genxsop_task_broker_up{broker="redis"}') == "1"

    log = tmp_path / "qcluster.log"
    cluster = start_cluster(env, log)
    try:
        status = lambda: shared_db.scalar("SELECT status FROM forecast_jobs WHERE id = %s", pk)  # noqa: E731
        wait_for(lambda: status() == "completed", timeout=90, what="completion", log=log)
        # The cluster's heartbeat lives in Redis with this broker; readiness still finds it.
        wait_for(lambda: _worker_check(env, tmp_path)["alive"], timeout=30, what="a worker heartbeat", log=log)
        assert _worker_check(env, tmp_path)["clusters"] == 1
    finally:
        stop_cluster(cluster)

    done = shared_db.scalar("SELECT series_done FROM forecast_jobs WHERE id = %s", pk)
    failed = shared_db.scalar("SELECT series_failed FROM forecast_jobs WHERE id = %s", pk)
    attempt = shared_db.scalar("SELECT attempt FROM forecast_jobs WHERE id = %s", pk)
    assert (done, failed, attempt) == (3, 0, 1)
    results = shared_db.scalar(
        "SELECT COUNT(*) FROM forecasts f JOIN forecast_run_audits r ON r.id = f.run_id WHERE r.job_id = %s", pk
    )
    assert results == 3 * 3  # three products, horizon 3
    assert redis_db.llen(QUEUE_KEY) == 0
    assert sample(scrape(env, tmp_path), "genxsop_task_queue_depth") == "0"


def _worker_check(env, tmp_path) -> dict:
    run = requests([{"path": "/ready"}], env=env, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    return run.answers[0].json()["checks"]["worker"]


def test_metrics_and_preflight_say_when_the_redis_broker_is_unreachable(migrated_sqlite, tmp_path):
    # Port 9 on loopback (discard) has no listener here: connections are refused at once.
    env = base_env(DATABASE_URL=sqlite_url(migrated_sqlite), CACHE_URL="db://genxsop_cache",
                   Q_BROKER_URL="redis://127.0.0.1:9/0", METRICS_TOKEN=METRICS_TOKEN)  # fmt: skip

    text = scrape(env, tmp_path)

    assert sample(text, "genxsop_task_queue_depth") is None  # no figure rather than a wrong one
    assert sample(text, 'genxsop_task_broker_up{broker="redis"}') == "0"
    assert sample(text, 'genxsop_forecast_jobs{status="queued"}') == "0"  # the rest of the scrape is intact
    preflight = manage("preflight", env=env)
    assert "FAIL broker: redis: unreachable" in preflight.stdout
    assert preflight.returncode == 1


def test_a_job_created_while_the_broker_is_down_is_saved_queued_and_the_failure_logged(migrated_sqlite):
    env = base_env(DATABASE_URL=sqlite_url(migrated_sqlite), CACHE_URL="db://genxsop_cache",
                   Q_BROKER_URL="redis://127.0.0.1:9/0")  # fmt: skip

    proc = manage("shell", "-c", SEED.replace("{n}", "2"), env=env)

    # The hand-over runs after the commit: the caller still gets its job, not an error.
    assert proc.returncode == 0, proc.stderr
    pk = int(proc.stdout.strip().rsplit("JOB=", 1)[1])
    assert "job_enqueue_failed" in proc.stdout + proc.stderr
    db = sqlite3.connect(migrated_sqlite)
    try:
        (status,) = db.execute("SELECT status FROM forecast_jobs WHERE id = ?", (pk,)).fetchone()
    finally:
        db.close()
    assert status == "queued"  # left for the reaper to hand over once the broker answers


def test_the_database_broker_reports_its_rows(db):
    text = metrics.render()

    assert sample(text, 'genxsop_task_broker_up{broker="orm"}') == "1"
    assert sample(text, "genxsop_task_queue_depth") is not None


@pytest.mark.parametrize("value", ["amqp://127.0.0.1/", "redis://host:notaport/0"])
def test_an_invalid_broker_url_stops_startup_naming_the_variable(value):
    proc = manage("check", env=base_env(Q_BROKER_URL=value))

    assert proc.returncode != 0
    assert "Q_BROKER_URL" in proc.stderr
