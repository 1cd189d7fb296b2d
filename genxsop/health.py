"""Liveness and readiness probes (OPS-10, OPS-11), and the checks `manage.py preflight` shares."""

import contextlib
import logging
import re
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from genxsop import context

logger = logging.getLogger(__name__)
WORKER_HEARTBEAT_MAX_AGE_SECONDS = 90
DATABASE_CHECK_TIMEOUT_MS = 2000
# `/ready` answers within 1 s even when the database does not answer at all (a load balancer must
# see 503 quickly, and libpq never gives up connecting in less than 2 s): the probe gets 0.8 s,
# the rest of the request the remainder.
DATABASE_PROBE_DEADLINE_SECONDS = 0.8
_URL_RE = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)
_PASSWORD_RE = re.compile(r"(password\s*[=:]\s*)\S+", re.I)


@never_cache
@require_http_methods(["GET", "HEAD"])
def health(request):
    return JsonResponse({"status": "healthy", "app": settings.APP_NAME})


def error_text(exc: BaseException) -> str:
    """`<Class>: <first line of the message>` with anything credential-like taken out.

    Driver messages can quote the user name, a DSN or a URL; the probe body is public (OPS-11).
    """
    message = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else ""
    message = _URL_RE.sub("<url>", message)
    message = _PASSWORD_RE.sub(r"\1***", message)
    db = settings.DATABASES.get(DEFAULT_DB_ALIAS, {})
    for secret in (db.get("PASSWORD"), db.get("USER"), settings.SECRET_KEY):
        if secret and len(str(secret)) >= 3:
            message = message.replace(str(secret), "***")
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _postgres_select_one(outcome: dict) -> None:
    """`SELECT 1` on a connection of its own, opened and closed in the calling thread."""
    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {DATABASE_CHECK_TIMEOUT_MS}")
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        outcome["error"] = exc
    finally:
        with contextlib.suppress(Exception):  # a connection the server already dropped
            wrapper.close()
        outcome["done"] = True


def _postgres_probe() -> None:
    """Raise what `SELECT 1` raised, or TimeoutError when it has not answered within the deadline.

    It runs in a thread on a fresh connection: the request thread's persistent connection may be
    the one that hangs (a network partition), and a hung probe must not hold the request.
    The thread ends by itself at connect_timeout or statement_timeout.
    """
    outcome: dict = {}
    thread = threading.Thread(target=_postgres_select_one, args=(outcome,), name="readiness-db-probe", daemon=True)
    thread.start()
    thread.join(DATABASE_PROBE_DEADLINE_SECONDS)
    if not outcome.get("done"):
        raise TimeoutError(f"no answer from the database within {DATABASE_PROBE_DEADLINE_SECONDS * 1000:.0f} ms")
    if outcome.get("error") is not None:
        raise outcome["error"]


def database_probe() -> dict:
    """`SELECT 1` on the default database: `{ok, latency_ms, error}`, answered within the deadline on PostgreSQL."""
    connection = connections[DEFAULT_DB_ALIAS]
    started = time.perf_counter()
    try:
        if connection.vendor == "postgresql":
            _postgres_probe()
        else:
            # No transaction here: on SQLite it would BEGIN IMMEDIATE and take the write lock.
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception as exc:
        connection.close_if_unusable_or_obsolete()
        return {"ok": False, "latency_ms": None, "error": error_text(exc)}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2), "error": None}


def check_database() -> dict:
    if not settings.READINESS_CHECK_DATABASE:
        return {"enabled": False, "ok": True, "latency_ms": None, "error": None}
    return {"enabled": True, **database_probe()}


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def check_migrations() -> dict:
    if not settings.READINESS_CHECK_MIGRATIONS:
        return {"enabled": False, "ok": True, "pending": [], "error": None}
    try:
        pending = pending_migrations()
    except Exception as exc:
        return {"enabled": True, "ok": False, "pending": [], "error": error_text(exc)}
    error = f"{len(pending)} unapplied migration(s)" if pending else None
    return {"enabled": True, "ok": not pending, "pending": pending, "error": error}


def worker_heartbeat() -> dict:
    """The freshest django-q2 cluster heartbeat; clusters save their stats in the shared cache."""
    try:
        from django_q.status import Stat

        stats = Stat.get_all()
    except Exception as exc:
        return {"alive": False, "last_heartbeat": None, "age_seconds": None, "clusters": 0, "error": error_text(exc)}
    if not stats:
        return {
            "alive": False,
            "last_heartbeat": None,
            "age_seconds": None,
            "clusters": 0,
            "error": "no worker cluster has reported a heartbeat",
        }
    latest = max(s.timestamp for s in stats)
    age = max((timezone.now() - latest).total_seconds(), 0.0)
    alive = age <= WORKER_HEARTBEAT_MAX_AGE_SECONDS
    return {
        "alive": alive,
        "last_heartbeat": latest.isoformat().replace("+00:00", "Z"),
        "age_seconds": round(age, 1),
        "clusters": len(stats),
        "error": None if alive else f"last worker heartbeat {age:.0f}s ago (limit {WORKER_HEARTBEAT_MAX_AGE_SECONDS}s)",
    }


def check_worker() -> dict:
    beat = worker_heartbeat()
    if not settings.READINESS_CHECK_WORKER:
        # Reported but not gating: a web node can be ready while the workers run elsewhere.
        return {"enabled": False, "ok": True, **beat, "error": None}
    return {"enabled": True, "ok": beat["alive"], **beat}


def check_cache() -> dict:
    key = f"genxsop:preflight:{context.new_request_id()}"
    try:
        cache = caches["default"]
        cache.set(key, "1", 30)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:
        return {"ok": False, "error": error_text(exc)}
    return {"ok": ok, "error": None if ok else "a value written to the cache could not be read back"}


def _skipped(enabled: bool) -> dict:
    return {"enabled": enabled, "ok": not enabled, "error": "skipped: database unreachable" if enabled else None}


def readiness() -> tuple[bool, dict]:
    database = check_database()
    reachable = database["ok"] or not database["enabled"]
    # Without a database the other checks would each wait for their own connection timeout.
    migrations = check_migrations() if reachable else {**_skipped(settings.READINESS_CHECK_MIGRATIONS), "pending": []}
    worker = (
        check_worker()
        if reachable
        else {**_skipped(settings.READINESS_CHECK_WORKER), "alive": False, "last_heartbeat": None, "clusters": 0}
    )
    checks = {"database": database, "migrations": migrations, "worker": worker}
    return all(check["ok"] for check in checks.values()), checks


@never_cache
@require_http_methods(["GET", "HEAD"])
def ready(request):
    ok, checks = readiness()
    body = {
        "status": "ready" if ok else "not_ready",
        "app": settings.APP_NAME,
        "version": settings.APP_VERSION,
        "environment": settings.ENVIRONMENT,
        "request_id": context.request_id(),
        "checks": checks,
    }
    if not ok:
        failed = {name: check["error"] for name, check in checks.items() if not check["ok"]}
        logger.warning("readiness_failed", extra={"failed": failed})
    response = JsonResponse(body, status=200 if ok else 503)
    # readiness_failed above says why; Django's generic "Service Unavailable" ERROR would page
    # someone a second time for every probe of a node that is merely starting.
    response._has_been_logged = True
    return response
