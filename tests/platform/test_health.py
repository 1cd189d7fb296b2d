"""Liveness and readiness probes (OPS-10, OPS-11, API-OPS-01/02)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from genxsop import health
from tests.platform.subproc import (
    base_env,
    migrated_sqlite_fixture,  # noqa: F401 (fixture)
    migrated_sqlite_template_fixture,  # noqa: F401 (fixture)
    requests,
    sqlite_url,
)

pytestmark = pytest.mark.django_db


class TestHealth:
    def test_answers_healthy_without_touching_the_database(self, client, django_assert_num_queries):
        with django_assert_num_queries(0):
            response = client.get("/health")

        assert response.status_code == 200
        assert response.json() == {"status": "healthy", "app": "GenXSOP"}

    def test_a_session_cookie_does_not_make_it_touch_the_database(self, client, make_user, django_assert_num_queries):
        client.force_login(make_user())

        with django_assert_num_queries(0):
            response = client.get("/health/")

        assert response.status_code == 200

    def test_head_is_answered(self, client):
        assert client.head("/health").status_code == 200

    def test_other_methods_are_refused(self, client):
        assert client.post("/health").status_code == 405

    def test_carries_request_id_and_security_headers(self, client):
        response = client.get("/health")

        assert response["X-Request-ID"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"].startswith("max-age=0")


class TestReady:
    def test_ready_body_shape(self, client):
        response = client.get("/ready")

        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready"
        assert body["app"] == "GenXSOP"
        assert body["version"]
        assert body["environment"] == "test"
        assert body["request_id"] == response["X-Request-ID"]
        assert set(body["checks"]) == {"database", "migrations", "worker"}
        database = body["checks"]["database"]
        assert database["enabled"] is True
        assert database["ok"] is True
        assert database["error"] is None
        assert database["latency_ms"] >= 0
        assert body["checks"]["migrations"] == {"enabled": True, "ok": True, "pending": [], "error": None}

    def test_the_worker_is_reported_but_does_not_gate_by_default(self, client):
        worker = client.get("/ready").json()["checks"]["worker"]

        assert worker["enabled"] is False
        assert worker["ok"] is True
        assert worker["alive"] is False
        assert worker["last_heartbeat"] is None

    def test_head_is_answered(self, client):
        assert client.head("/ready").status_code == 200

    def test_disabled_checks_report_enabled_false_ok_true(self, client, settings):
        settings.READINESS_CHECK_DATABASE = False
        settings.READINESS_CHECK_MIGRATIONS = False

        body = client.get("/ready").json()

        assert body["status"] == "ready"
        assert body["checks"]["database"]["enabled"] is False
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["migrations"]["enabled"] is False
        assert body["checks"]["migrations"]["ok"] is True

    def test_pending_migrations_make_it_not_ready(self, client, monkeypatch):
        fake_migration = SimpleNamespace(app_label="planning", name="0042_future")
        monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [(fake_migration, False)])

        response = client.get("/ready")

        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "not_ready"
        assert body["request_id"] == response["X-Request-ID"]
        migrations = body["checks"]["migrations"]
        assert migrations["ok"] is False
        assert migrations["pending"] == ["planning.0042_future"]
        assert migrations["error"] == "1 unapplied migration(s)"
        assert body["checks"]["database"]["ok"] is True

    def test_a_failing_database_reports_class_and_message_only(self, client, monkeypatch, settings):
        from django.db import OperationalError

        settings.DATABASES["default"]["PASSWORD"] = "pw-in-settings"

        def refuse(*args, **kwargs):
            raise OperationalError(
                'connection to "postgres://app:pw-in-settings@db:5432/sop" failed: password=pw-in-settings\nline two'
            )

        # On the class: the PostgreSQL probe runs on a connection of its own.
        monkeypatch.setattr(type(health.connections["default"]), "cursor", refuse)

        response = client.get("/ready")

        assert response.status_code == 503
        body = response.json()
        database = body["checks"]["database"]
        assert database["ok"] is False
        assert database["error"].startswith("OperationalError: connection to")
        assert "pw-in-settings" not in response.content.decode()
        assert "postgres://" not in response.content.decode()
        assert "line two" not in database["error"]
        # Without a database the other checks are not attempted (each would wait for a timeout).
        assert body["checks"]["migrations"]["error"] == "skipped: database unreachable"
        assert body["request_id"] == response["X-Request-ID"]

    def test_readiness_failure_is_logged_as_a_warning(self, client, monkeypatch, caplog):
        monkeypatch.setattr(
            health, "check_migrations", lambda: {"enabled": True, "ok": False, "pending": [], "error": "x"}
        )

        client.get("/ready")

        (record,) = [r for r in caplog.records if r.getMessage() == "readiness_failed"]
        assert record.levelname == "WARNING"
        assert record.failed == {"migrations": "x"}
        # One record per failed probe: Django's generic "Service Unavailable" ERROR is suppressed.
        assert not [r for r in caplog.records if r.name == "django.request"]


def _stat(seconds_ago: float):
    return SimpleNamespace(timestamp=timezone.now() - timedelta(seconds=seconds_ago))


class TestWorkerHeartbeat:
    def test_a_fresh_heartbeat_is_ok_when_the_check_is_on(self, client, settings, monkeypatch):
        settings.READINESS_CHECK_WORKER = True
        monkeypatch.setattr("django_q.status.Stat.get_all", staticmethod(lambda broker=None: [_stat(120), _stat(3)]))

        response = client.get("/ready")

        assert response.status_code == 200
        worker = response.json()["checks"]["worker"]
        assert worker["enabled"] is True
        assert worker["ok"] is True
        assert worker["alive"] is True
        assert worker["clusters"] == 2
        assert worker["age_seconds"] < 90
        assert worker["last_heartbeat"].endswith("Z")

    def test_a_heartbeat_older_than_90_seconds_is_not_ready(self, client, settings, monkeypatch):
        settings.READINESS_CHECK_WORKER = True
        monkeypatch.setattr("django_q.status.Stat.get_all", staticmethod(lambda broker=None: [_stat(120)]))

        response = client.get("/ready")

        assert response.status_code == 503
        worker = response.json()["checks"]["worker"]
        assert worker["ok"] is False
        assert "last worker heartbeat 120s ago" in worker["error"]

    def test_no_worker_at_all_is_not_ready_when_the_check_is_on(self, client, settings):
        settings.READINESS_CHECK_WORKER = True

        response = client.get("/ready")

        assert response.status_code == 503
        assert response.json()["checks"]["worker"]["error"] == "no worker cluster has reported a heartbeat"

    def test_a_stale_worker_does_not_gate_when_the_check_is_off(self, client, monkeypatch):
        monkeypatch.setattr("django_q.status.Stat.get_all", staticmethod(lambda broker=None: [_stat(600)]))

        response = client.get("/ready")

        assert response.status_code == 200
        worker = response.json()["checks"]["worker"]
        assert (worker["enabled"], worker["ok"], worker["alive"]) == (False, True, False)


class TestRealProcess:
    """The probes of a freshly started process against real databases."""

    def test_unreachable_database_answers_503_without_credentials(self, tmp_path):
        url = "postgres://nobody:hunter2pw@127.0.0.1:1/none"
        run = requests(
            [{"path": "/ready", "headers": {"X-Request-ID": "probe-1"}}, {"path": "/health"}],
            env=base_env(DATABASE_URL=url, CACHE_URL="db://genxsop_cache"),
            tmp_path=tmp_path,
        )

        assert run.returncode == 0, run.stderr
        ready, live = run.answers
        assert ready.status == 503
        body = ready.json()
        assert body["status"] == "not_ready"
        assert body["request_id"] == ready.headers["X-Request-ID"] == "probe-1"
        assert body["checks"]["database"]["ok"] is False
        assert body["checks"]["database"]["error"].startswith("OperationalError: ")
        for secret in ("hunter2pw", "nobody", "postgres://"):
            assert secret not in ready.body
        assert live.status == 200  # liveness does not depend on the database

    def test_unmigrated_database_answers_503_listing_pending_migrations(self, tmp_path):
        run = requests(
            [{"path": "/ready"}], env=base_env(DATABASE_URL=sqlite_url(tmp_path / "empty.sqlite3")), tmp_path=tmp_path
        )

        assert run.returncode == 0, run.stderr
        (ready,) = run.answers
        assert ready.status == 503
        checks = ready.json()["checks"]
        assert checks["database"]["ok"] is True
        assert checks["migrations"]["ok"] is False
        assert "governance.0001_initial" in checks["migrations"]["pending"]

    def test_migrated_database_is_ready(self, tmp_path, migrated_sqlite):
        run = requests([{"path": "/ready"}], env=base_env(DATABASE_URL=sqlite_url(migrated_sqlite)), tmp_path=tmp_path)

        assert run.returncode == 0, run.stderr
        (ready,) = run.answers
        assert ready.status == 200, ready.body
        assert ready.json()["status"] == "ready"
