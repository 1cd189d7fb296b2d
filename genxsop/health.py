"""Liveness and readiness probes (OPS-10, OPS-11)."""

import logging
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from genxsop import context

logger = logging.getLogger(__name__)
WORKER_HEARTBEAT_MAX_AGE_SECONDS = 90


@require_http_methods(["GET", "HEAD"])
def health(request):
    return JsonResponse({"status": "healthy", "app": settings.APP_NAME})


def _error(exc: Exception) -> str:
    # Class and message only: driver messages can include host names but never passwords; the
    # connection string itself is never formatted into the text.
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}".strip()


def check_database() -> dict:
    if not settings.READINESS_CHECK_DATABASE:
        return {"enabled": False, "ok": True, "latency_ms": None, "error": None}
    started = time.perf_counter()
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL statement_timeout = 2000")
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
        return {"enabled": True, "ok": False, "latency_ms": None, "error": _error(exc)}
    return {"enabled": True, "ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2), "error": None}


def check_migrations() -> dict:
    if not settings.READINESS_CHECK_MIGRATIONS:
        return {"enabled": False, "ok": True, "pending": [], "error": None}
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return {"enabled": True, "ok": False, "pending": [], "error": _error(exc)}
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    error = f"{len(pending)} unapplied migration(s)" if pending else None
    return {"enabled": True, "ok": not pending, "pending": pending, "error": error}


def worker_heartbeat() -> dict:
    """The freshest django-q2 cluster heartbeat (clusters store their stats in the shared cache)."""
    try:
        from django_q.status import Stat

        stats = Stat.get_all()
    except Exception as exc:
        return {"alive": False, "last_heartbeat": None, "clusters": 0, "error": _error(exc)}
    if not stats:
        return {"alive": False, "last_heartbeat": None, "clusters": 0, "error": "no worker cluster has reported"}
    latest = max(s.timestamp for s in stats)
    age = (timezone.now() - latest).total_seconds()
    alive = age <= WORKER_HEARTBEAT_MAX_AGE_SECONDS
    return {
        "alive": alive,
        "last_heartbeat": latest.isoformat().replace("+00:00", "Z"),
        "age_seconds": round(age, 1),
        "clusters": len(stats),
        "error": None if alive else f"last heartbeat {age:.0f}s ago",
    }


def check_worker() -> dict:
    beat = worker_heartbeat()
    if not settings.READINESS_CHECK_WORKER:
        # Reported but not gating: a web node can be ready while the workers are elsewhere.
        return {"enabled": False, "ok": True, **{k: v for k, v in beat.items() if k != "error"}, "error": None}
    return {"enabled": True, "ok": beat["alive"], **beat}


def _skipped(enabled: bool) -> dict:
    return {"enabled": enabled, "ok": not enabled, "error": "skipped: database unreachable" if enabled else None}


@require_http_methods(["GET", "HEAD"])
def ready(request):
    database = check_database()
    reachable = database["ok"] or not database["enabled"]
    migrations = check_migrations() if reachable else _skipped(settings.READINESS_CHECK_MIGRATIONS)
    worker = check_worker() if reachable else _skipped(settings.READINESS_CHECK_WORKER)
    checks = {"database": database, "migrations": migrations, "worker": worker}
    ok = all(check["ok"] for check in checks.values())
    body = {
        "status": "ready" if ok else "not_ready",
        "app": settings.APP_NAME,
        "version": settings.APP_VERSION,
        "environment": settings.ENVIRONMENT,
        "request_id": context.request_id(),
        "checks": checks,
    }
    if not ok:
        logger.warning("readiness_failed", extra={"failed": [name for name, c in checks.items() if not c["ok"]]})
    return JsonResponse(body, status=200 if ok else 503)
