"""`manage.py preflight`: the go/no-go report a deployment pipeline reads before switching traffic (OPS-15)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from genxsop import context, health, taskqueue
from genxsop.checks import settings_namespace
from genxsop.guardrails import guardrail_results

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"


class Command(BaseCommand):
    help = "Print one PASS/WARN/FAIL line per production guardrail and runtime dependency; exit 1 on any FAIL."
    # The guardrail system check would abort before the report is printed; the report covers it.
    requires_system_checks = []

    def handle(self, *args, **options):
        with context.cli_context():
            lines = self._guardrails() + self._runtime()
        for status, name, text in lines:
            self.stdout.write(f"{status} {name}: {text}")
        counts = {status: sum(1 for line in lines if line[0] == status) for status in (PASS, WARN, FAIL)}
        summary = f"preflight: {counts[PASS]} passed, {counts[WARN]} warnings, {counts[FAIL]} failed"
        if counts[FAIL]:
            raise CommandError(summary)
        self.stdout.write(summary)

    def _guardrails(self) -> list[tuple[str, str, str]]:
        # Outside production the same findings are advisory (OPS-14).
        failed = FAIL if settings.IS_PRODUCTION else WARN
        out = []
        for result in guardrail_results(settings_namespace()):
            text = result.message if result.ok else f"{result.message}. {result.hint}"
            out.append((PASS if result.ok else failed, f"guardrail.{result.name}", text))
        return out

    def _runtime(self) -> list[tuple[str, str, str]]:
        out = []
        # Preflight always connects, whether or not the readiness probe is told to.
        database = health.database_probe()
        if database["ok"]:
            vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
            out.append((PASS, "database", f"connected to {vendor} in {database['latency_ms']} ms"))
        else:
            out.append((FAIL, "database", database["error"]))
            out.append((FAIL, "migrations", "not checked: database unreachable"))
            out.append((FAIL, "cache", "not checked: database unreachable") if _db_cache() else self._cache())
            out.append((WARN, "worker", "not checked: database unreachable"))
            orm = taskqueue.broker_name() == "orm"
            out.append((FAIL, "broker", "not checked: database unreachable") if orm else self._broker())
            return out
        try:
            pending = health.pending_migrations()
        except Exception as exc:
            out.append((FAIL, "migrations", health.error_text(exc)))
        else:
            if pending:
                shown = ", ".join(pending[:10]) + (" …" if len(pending) > 10 else "")
                out.append((FAIL, "migrations", f"{len(pending)} unapplied: {shown}. Run `manage.py migrate`."))
            else:
                out.append((PASS, "migrations", "no unapplied migration"))
        out.append(self._cache())
        beat = health.worker_heartbeat()
        if beat["alive"]:
            out.append((PASS, "worker", f"heartbeat {beat['age_seconds']}s ago from {beat['clusters']} cluster(s)"))
        else:
            # Workers may start after the web tier; the heartbeat gates only where readiness asks.
            status = FAIL if settings.READINESS_CHECK_WORKER else WARN
            out.append((status, "worker", beat["error"]))
        out.append(self._broker())
        return out

    @staticmethod
    def _broker() -> tuple[str, str, str]:
        name = taskqueue.broker_name()
        try:
            depth = taskqueue.queue_depth()
        except Exception as exc:  # the ORM broker's table is missing until migrations ran
            return FAIL, "broker", f"{name}: {health.error_text(exc)}"
        if depth is None:
            return FAIL, "broker", f"{name}: unreachable; jobs cannot be queued"
        return PASS, "broker", f"{name} reachable, {depth} task(s) in the queue"

    @staticmethod
    def _cache() -> tuple[str, str, str]:
        cache = health.check_cache()
        backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        if cache["ok"]:
            return PASS, "cache", f"{backend} reachable"
        return FAIL, "cache", f"{backend}: {cache['error']}"


def _db_cache() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
