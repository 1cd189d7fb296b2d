"""SLI collection (OPS-51) and the Prometheus exposition of `/metrics` (OPS-50, API-OPS-03).

Each process adds its requests up in memory per (UTC minute, route group, method) and writes the
sums to `service_metric_buckets` at most every METRICS_FLUSH_SECONDS, from whichever request
finds the interval over: one UPDATE (or INSERT) per key and flush, never one write per request.
`/metrics` reads the table and the job, publication, audit and outbox tables, so every process
answers the same figures.
"""

import dataclasses
import datetime
import hmac
import logging
import os
import re
import socket
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from genxsop import taskqueue
from genxsop.api.errors import error_response

logger = logging.getLogger(__name__)

BOUNDS_MS = (25, 50, 100, 200, 300, 500, 1000, 2000, 5000)
BUCKET_FIELDS = (*(f"duration_le_{b}" for b in BOUNDS_MS), "duration_le_inf")
DEFAULT_FLUSH_SECONDS = 15
EXCLUDED_PATHS = ("/health", "/ready", "/metrics")

# OPS-52: the ML and bulk routes, relative to /api/v1; they are kept out of the latency SLI.
_ML_PATHS = re.compile(
    r"^/(forecasting/(generate|recommendation|model-comparison|compare|anomalies/detect)"
    r"|inventory/recommendations/generate|inventory/analytics/service-level)/?$"
)
_ML_POST_PATHS = re.compile(r"^/inventory/optimization/runs/?$")
_BULK_ROUTE = re.compile(r"(^|[:-])io-|export|import|meeting-pack|stream")


def bucket_field(duration_ms: float) -> str:
    """The histogram column of a duration: the first upper bound it does not exceed."""
    for bound, field in zip(BOUNDS_MS, BUCKET_FIELDS, strict=False):
        if duration_ms <= bound:
            return field
    return BUCKET_FIELDS[-1]


def is_ml_route(path: str, method: str, route_group: str) -> bool:
    if not path.startswith("/api/v1/"):
        return False
    api_path = path[len("/api/v1") :]
    if _ML_PATHS.match(api_path) or (method == "POST" and _ML_POST_PATHS.match(api_path)):
        return True
    return bool(_BULK_ROUTE.search(route_group))


def is_excluded(path: str) -> bool:
    if path.rstrip("/") in EXCLUDED_PATHS:
        return True
    static = settings.STATIC_URL or "/static/"
    return path.startswith(static if static.startswith("/") else f"/{static}") or path.rstrip("/").endswith("/stream")


def process_name() -> str:
    # Read at flush time: a server that forks workers after import gives each its own pid.
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclasses.dataclass
class _Sums:
    is_ml: bool = False
    request_count: int = 0
    error_5xx_count: int = 0
    status_2xx_count: int = 0
    status_3xx_count: int = 0
    status_4xx_count: int = 0
    status_403_count: int = 0
    status_429_count: int = 0
    duration_sum_ms: float = 0.0
    db_query_count: int = 0
    buckets: dict = dataclasses.field(default_factory=lambda: dict.fromkeys(BUCKET_FIELDS, 0))


_STATUS_FIELDS = {2: "status_2xx_count", 3: "status_3xx_count", 4: "status_4xx_count", 5: "error_5xx_count"}
# GOV-35: statuses counted on their own as well as in their class.
_SECURITY_STATUS_FIELDS = {403: "status_403_count", 429: "status_429_count"}


class Collector:
    """The in-memory sums of one process. `clock` is monotonic seconds (tests inject their own)."""

    def __init__(self, *, clock=time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._rows: dict[tuple, _Sums] = {}
        self._last_flush = clock()

    def record(self, *, at: datetime.datetime, route_group: str, method: str, is_ml: bool, status: int,
               duration_ms: float, queries: int) -> None:  # fmt: skip
        minute = at.astimezone(datetime.UTC).replace(second=0, microsecond=0)
        key = (minute, route_group[:150], method[:10])
        with self._lock:
            sums = self._rows.get(key)
            if sums is None:
                sums = self._rows[key] = _Sums(is_ml=is_ml)
            sums.request_count += 1
            if status_field := _STATUS_FIELDS.get(status // 100):
                setattr(sums, status_field, getattr(sums, status_field) + 1)
            if security_field := _SECURITY_STATUS_FIELDS.get(status):
                setattr(sums, security_field, getattr(sums, security_field) + 1)
            sums.duration_sum_ms += duration_ms
            sums.db_query_count += queries
            sums.buckets[bucket_field(duration_ms)] += 1

    def pending(self) -> dict[tuple, _Sums]:
        with self._lock:
            return dict(self._rows)

    def flush_due(self) -> bool:
        interval = getattr(settings, "METRICS_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS)
        return interval is not None and self.clock() - self._last_flush >= interval

    def flush(self) -> int:
        """Write the sums to the table and start afresh; returns the number of keys written.

        A failed write is logged and its sums dropped: metrics must never fail a request, and
        keeping them would let memory grow while the database is away.
        """
        if not self._flush_lock.acquire(blocking=False):
            return 0  # another thread of this process is flushing right now
        try:
            with self._lock:
                rows, self._rows = self._rows, {}
                self._last_flush = self.clock()
            if not rows:
                return 0
            process = process_name()
            try:
                with transaction.atomic():
                    for (minute, route_group, method), sums in rows.items():
                        _upsert(minute, route_group, method, process, sums)
            except Exception:
                logger.warning("metrics_flush_failed", exc_info=True, extra={"keys": len(rows)})
                return 0
            return len(rows)
        finally:
            self._flush_lock.release()


def _upsert(minute, route_group: str, method: str, process: str, sums: _Sums) -> None:
    counters = {
        "request_count": sums.request_count,
        "error_5xx_count": sums.error_5xx_count,
        "status_2xx_count": sums.status_2xx_count,
        "status_3xx_count": sums.status_3xx_count,
        "status_4xx_count": sums.status_4xx_count,
        "status_403_count": sums.status_403_count,
        "status_429_count": sums.status_429_count,
        "duration_sum_ms": sums.duration_sum_ms,
        "db_query_count": sums.db_query_count,
        **{field: n for field, n in sums.buckets.items() if n},
    }
    add_counts({"minute": minute, "route_group": route_group, "method": method, "process": process}, sums.is_ml,
               counters)  # fmt: skip


COUNTER_FIELDS = ("request_count", "error_5xx_count", "status_2xx_count", "status_3xx_count", "status_4xx_count",
                  "status_403_count", "status_429_count", "duration_sum_ms", "db_query_count",
                  *BUCKET_FIELDS)  # fmt: skip
# Where the retention purge adds up what it deletes, so that the /metrics counters never go down
# (Prometheus would read a drop as a restart and count everything again). Outside every SLO window.
CARRY_MINUTE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
CARRY_PROCESS = "purged"


def add_counts(key: dict, is_ml: bool, counters: dict) -> None:
    """Add `counters` to the bucket row of `key` with F() increments, creating the row if needed."""
    from governance.models import ServiceMetricBucket as B

    increments = {field: F(field) + value for field, value in counters.items() if value}
    if B.objects.filter(**key).update(**increments):
        return
    try:
        with transaction.atomic():
            B.objects.create(**key, is_ml=is_ml, **counters)
    except IntegrityError:  # the same process name on two hosts: add to their row
        B.objects.filter(**key).update(**increments)


collector = Collector()


class _QueryCounter:
    __slots__ = ("count",)

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class MetricsMiddleware:
    """Times each request and counts its queries into `collector` (OPS-51); flushes when due."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_excluded(request.path):
            return self.get_response(request)
        counter = _QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        try:
            self._record(request, response, duration_ms, counter.count)
        except Exception:  # the response is served whatever happens to its metrics
            logger.warning("metrics_record_failed", exc_info=True)
        return response

    @staticmethod
    def _record(request, response, duration_ms: float, queries: int) -> None:
        if getattr(response, "streaming", False) and response.get("Content-Type", "").startswith("text/event-stream"):
            return
        match = getattr(request, "resolver_match", None)
        route_group = (match.view_name or match.route) if match else "unmatched"
        collector.record(
            at=timezone.now(),
            route_group=route_group,
            method=request.method,
            is_ml=is_ml_route(request.path, request.method, route_group),
            status=response.status_code,
            duration_ms=duration_ms,
            queries=queries,
        )
        if collector.flush_due():
            collector.flush()


# Exposition ------------------------------------------------------------------------------------

JOB_DURATION_BOUNDS_S = (1, 5, 15, 30, 60, 120, 300, 600, 900)


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value) -> str:
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


class _Exposition:
    def __init__(self):
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]

    def sample(self, name: str, value, **labels) -> None:
        self.lines.append(f"{name}{_labels(**labels)} {_number(value)}")

    def histogram(self, name: str, bounds, counts: list[int], total: float, **labels) -> None:
        """`counts` per bound plus the +Inf bucket, not cumulative."""
        running = 0
        for bound, n in zip((*bounds, "+Inf"), counts, strict=True):
            running += n
            self.sample(f"{name}_bucket", running, **labels, le=bound)
        self.sample(f"{name}_sum", total, **labels)
        self.sample(f"{name}_count", running, **labels)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# Counters from tables with a retention purge ----------------------------------------------------

INTEGRATION_ITEMS = "genxsop_integration_items_total"
INTEGRATION_OUTCOMES = ("created", "updated", "skipped", "failed", "not_applied")


def label_key(**labels) -> str:
    """A sample's labels as MetricCarry stores them."""
    return ",".join(f"{name}={value}" for name, value in labels.items())


def carry_add(metric: str, amounts: dict[str, int]) -> None:
    """Add what a purge deletes to the carries of `metric` ({label_key: amount}); call inside its transaction."""
    from governance.models import MetricCarry

    for labels, amount in amounts.items():
        if not amount:
            continue
        if MetricCarry.objects.filter(metric=metric, labels=labels).update(value=F("value") + amount):
            continue
        try:
            with transaction.atomic():
                MetricCarry.objects.create(metric=metric, labels=labels, value=amount)
        except IntegrityError:  # a concurrent purge created it first
            MetricCarry.objects.filter(metric=metric, labels=labels).update(value=F("value") + amount)


def integration_item_counts(batches) -> dict[str, int]:
    """Items of the non-dry-run `batches` by operation and outcome, as {label_key: n}, in one query.

    `not_applied` are the valid items of atomic batches rolled back by a failed item: they were
    processed without being created, updated, skipped or failed.
    """
    counts = {}
    per_operation = batches.filter(dry_run=False).order_by().values("operation")
    for row in per_operation.annotate(**{f: Sum(f) for f in ("processed", "created", "updated", "skipped", "failed")}):
        outcomes = {outcome: row[outcome] or 0 for outcome in INTEGRATION_OUTCOMES[:-1]}
        outcomes["not_applied"] = max((row["processed"] or 0) - sum(outcomes.values()), 0)
        for outcome, n in outcomes.items():
            counts[label_key(operation=row["operation"], outcome=outcome)] = n
    return counts


def _integration_items(out: "_Exposition") -> None:
    from governance.models import MetricCarry
    from planning.choices import BatchOperation
    from planning.models import IntegrationBatch

    live = integration_item_counts(IntegrationBatch.objects.all())
    carried = dict(MetricCarry.objects.filter(metric=INTEGRATION_ITEMS).values_list("labels", "value"))
    out.family(INTEGRATION_ITEMS, "counter",
               "Items of ERP sync and file import batches (dry runs excluded) by operation and outcome.")  # fmt: skip
    for operation in BatchOperation.values:
        for outcome in INTEGRATION_OUTCOMES:
            key = label_key(operation=operation, outcome=outcome)
            out.sample(INTEGRATION_ITEMS, live.get(key, 0) + carried.get(key, 0), operation=operation, outcome=outcome)


FORECAST_JOBS_FINISHED = "genxsop_forecast_jobs_finished_total"
FORECAST_JOB_DURATION = "genxsop_forecast_job_duration_seconds"
# The carried histogram sum is kept in whole microseconds: exact, so a purge moves it without a rounding drop.
FORECAST_JOB_DURATION_SUM = f"{FORECAST_JOB_DURATION}_sum_us"
_MICROSECOND = datetime.timedelta(microseconds=1)


def forecast_job_finished_counts(rows) -> dict[str, int]:
    """Terminal jobs among `rows` ((status, started_at, completed_at) tuples) by status, as {label_key: n}."""
    from forecasting.choices import JOB_TERMINAL

    counts: dict[str, int] = {}
    for status, _started, _done in rows:
        if status in JOB_TERMINAL:
            key = label_key(status=status)
            counts[key] = counts.get(key, 0) + 1
    return counts


def forecast_job_duration_counts(rows) -> dict[str, int]:
    """The duration histogram of the completed jobs among `rows` ((status, started_at, completed_at)
    tuples): {label_key(le=bound): n} per bucket, not cumulative, plus {"": total microseconds}."""
    from forecasting.choices import JobStatus

    bounds = (*JOB_DURATION_BOUNDS_S, "+Inf")
    counts = dict.fromkeys((label_key(le=b) for b in bounds), 0)
    total_us = 0
    for status, started, done in rows:
        if status != JobStatus.COMPLETED or started is None or done is None:
            continue
        micros = (done - started) // _MICROSECOND
        seconds = micros / 1_000_000
        counts[label_key(le=next((b for b in JOB_DURATION_BOUNDS_S if seconds <= b), "+Inf"))] += 1
        total_us += micros
    counts[""] = total_us
    return counts


def forecast_job_carry(rows) -> None:
    """Carry the finished-job counter and duration histogram of `rows` (jobs about to be deleted, as
    (status, started_at, completed_at) tuples); call in the transaction that deletes them."""
    rows = list(rows)
    carry_add(FORECAST_JOBS_FINISHED, forecast_job_finished_counts(rows))
    durations = forecast_job_duration_counts(rows)
    carry_add(FORECAST_JOB_DURATION_SUM, {"": max(durations.pop(""), 0)})
    carry_add(FORECAST_JOB_DURATION, durations)


def _forecast_job_counters(out: "_Exposition", job_counts: dict[str, int]) -> None:
    from forecasting.choices import JOB_TERMINAL, JobStatus
    from forecasting.models import ForecastJob
    from governance.models import MetricCarry

    carried: dict[tuple[str, str], int] = {
        (metric, labels): value
        for metric, labels, value in MetricCarry.objects.filter(
            metric__in=(FORECAST_JOBS_FINISHED, FORECAST_JOB_DURATION, FORECAST_JOB_DURATION_SUM)
        ).values_list("metric", "labels", "value")
    }
    out.family(FORECAST_JOBS_FINISHED, "counter", "Finished forecast jobs by final status.")
    for status in JOB_TERMINAL:
        key = label_key(status=status)
        out.sample(
            FORECAST_JOBS_FINISHED,
            job_counts.get(status, 0) + carried.get((FORECAST_JOBS_FINISHED, key), 0),
            status=status,
        )
    completed = ForecastJob.objects.filter(
        status=JobStatus.COMPLETED, started_at__isnull=False, completed_at__isnull=False
    ).values_list("status", "started_at", "completed_at")
    durations = forecast_job_duration_counts(completed.iterator())
    total_us = durations.pop("") + carried.get((FORECAST_JOB_DURATION_SUM, ""), 0)
    counts = [durations[key] + carried.get((FORECAST_JOB_DURATION, key), 0) for key in durations]
    out.family(FORECAST_JOB_DURATION, "histogram", "Processing time of completed forecast jobs.")
    out.histogram(FORECAST_JOB_DURATION, JOB_DURATION_BOUNDS_S, counts, total_us / 1_000_000)


CSP_REPORT_ROUTE = "csp-report"  # the URL name of the CSP report sink (API-OPS-06)


def _security_events(out: "_Exposition", by_method: list[dict]) -> None:
    """GOV-35: refused sign-ins, authorization failures, throttling and CSP reports, from every process."""
    from governance import events
    from governance.models import AuditEvent

    out.family("genxsop_login_failures_total", "counter",
               "Refused sign-in attempts, console and API (audited governance.login.failed events).")  # fmt: skip
    out.sample("genxsop_login_failures_total", AuditEvent.objects.filter(event_type=events.LOGIN_FAILED).count())
    denials = sum(row["status_403_count"] or 0 for row in by_method)
    out.family("genxsop_authz_denials_total", "counter", "Requests refused with 403 (permissions, scope, CSRF).")
    out.sample("genxsop_authz_denials_total", denials)
    throttled = sum(row["status_429_count"] or 0 for row in by_method)
    out.family("genxsop_throttled_requests_total", "counter", "Requests refused with 429 (throttling, login lockout).")
    out.sample("genxsop_throttled_requests_total", throttled)
    reports = sum(
        row["status_2xx_count"] or 0
        for row in by_method
        if row["route_group"] == CSP_REPORT_ROUTE and row["method"] == "POST"
    )
    out.family("genxsop_csp_violations_total", "counter", "CSP violation reports received by the report sink.")
    out.sample("genxsop_csp_violations_total", reports)


def render() -> str:
    from forecasting.choices import JobStatus
    from forecasting.models import ForecastJob
    from governance.choices import Lane, PublicationOutcome
    from governance.models import AuditEvent, Publication, ServiceMetricBucket
    from planning.choices import OutboundStatus
    from planning.models import OutboundMessage

    out = _Exposition()
    out.family("genxsop_app_info", "gauge", "Version and environment of the installation.")
    out.sample("genxsop_app_info", 1, version=settings.APP_VERSION, environment=settings.ENVIRONMENT)

    sums = {f: Sum(f) for f in COUNTER_FIELDS}
    by_method = list(
        ServiceMetricBucket.objects.order_by().values("route_group", "method", "is_ml").annotate(**sums)
        .order_by("route_group", "method")
    )  # fmt: skip
    out.family("genxsop_http_requests_total", "counter", "Requests by method, route and status class.")
    for row in by_method:
        classes = {"2xx": row["status_2xx_count"], "3xx": row["status_3xx_count"], "4xx": row["status_4xx_count"],
                   "5xx": row["error_5xx_count"]}  # fmt: skip
        other = row["request_count"] - sum(classes.values())
        if other:
            classes["1xx"] = other
        for status_class, n in classes.items():
            if n:
                out.sample("genxsop_http_requests_total", n, method=row["method"], route=row["route_group"],
                           status_class=status_class)  # fmt: skip
    by_route: dict[tuple, dict] = {}
    for row in by_method:
        agg = by_route.setdefault((row["route_group"], row["is_ml"]), defaultdict(float))
        for field in (*BUCKET_FIELDS, "duration_sum_ms", "db_query_count"):
            agg[field] += row[field] or 0
    out.family("genxsop_http_request_duration_seconds", "histogram", "Request durations by route (ml: OPS-52).")
    for (route, ml), agg in sorted(by_route.items()):
        out.histogram("genxsop_http_request_duration_seconds", [b / 1000 for b in BOUNDS_MS],
                      [int(agg[f]) for f in BUCKET_FIELDS], agg["duration_sum_ms"] / 1000,
                      route=route, ml=str(ml).lower())  # fmt: skip
    out.family("genxsop_db_queries_total", "counter", "Database queries made while serving each route.")
    for (route, _ml), agg in sorted(by_route.items()):
        out.sample("genxsop_db_queries_total", int(agg["db_query_count"]), route=route)

    job_counts = dict.fromkeys(JobStatus.values, 0)
    job_counts.update(ForecastJob.objects.order_by().values_list("status").annotate(n=Count("pk")))
    out.family("genxsop_forecast_jobs", "gauge", "Forecast jobs by status (rows kept by the job retention).")
    for status, n in job_counts.items():
        out.sample("genxsop_forecast_jobs", n, status=status)
    _forecast_job_counters(out, job_counts)
    oldest = (
        ForecastJob.objects.filter(status=JobStatus.QUEUED).order_by("created_at").values_list("created_at", flat=True)
    ).first()
    out.family("genxsop_forecast_job_oldest_queued_seconds", "gauge", "Age of the oldest queued job; 0 when none.")
    out.sample("genxsop_forecast_job_oldest_queued_seconds",
               round((timezone.now() - oldest).total_seconds(), 3) if oldest else 0)  # fmt: skip
    stale_before = timezone.now() - datetime.timedelta(seconds=3 * settings.FORECAST_JOB_HEARTBEAT_SECONDS)
    stale = ForecastJob.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    out.family(
        "genxsop_forecast_jobs_stale_running", "gauge", "Running jobs whose heartbeat is older than 3 intervals."
    )
    out.sample("genxsop_forecast_jobs_stale_running", stale.count())
    depth = taskqueue.queue_depth()
    out.family("genxsop_task_queue_depth", "gauge",
               "Tasks in the django-q2 broker (ORM: waiting and unacknowledged; Redis: waiting); "
               "absent while the broker cannot be reached.")  # fmt: skip
    if depth is not None:
        out.sample("genxsop_task_queue_depth", depth)
    out.family("genxsop_task_broker_up", "gauge", "1 when the django-q2 broker answered this scrape, 0 when not.")
    out.sample("genxsop_task_broker_up", int(depth is not None), broker=taskqueue.broker_name())

    published = dict.fromkeys([(lane, outcome) for lane in Lane.values for outcome in PublicationOutcome.values], 0)
    for lane, outcome, n in Publication.objects.order_by().values_list("lane", "outcome").annotate(n=Count("pk")):
        published[(lane, outcome)] = n
    out.family("genxsop_publications_total", "counter", "Publications by lane and outcome.")
    for (lane, outcome), n in published.items():
        out.sample("genxsop_publications_total", n, lane=lane, outcome=outcome)
    total = sum(published.values())
    validated = Publication.objects.filter(evaluation__dry_run=False).count() if total else 0
    out.family("genxsop_publications_gate_validated_ratio", "gauge",
               "Publications made with a non-dry-run evaluation of their own (GOV-67); 1 when none.")  # fmt: skip
    out.sample("genxsop_publications_gate_validated_ratio", validated / total if total else 1.0)

    out.family("genxsop_audit_events_total", "counter", "Audit events by source.")
    for source, n in AuditEvent.objects.order_by().values_list("source").annotate(n=Count("pk")).order_by("source"):
        out.sample("genxsop_audit_events_total", n, source=source)
    outbox = dict.fromkeys(OutboundStatus.values, 0)
    outbox.update(OutboundMessage.objects.order_by().values_list("status").annotate(n=Count("pk")))
    out.family("genxsop_outbox_messages", "gauge", "Outbound ERP messages by status.")
    for status, n in outbox.items():
        out.sample("genxsop_outbox_messages", n, status=status)
    _integration_items(out)
    _security_events(out, by_method)

    from genxsop.health import database_probe
    from governance.slo import compute_slis

    probe = database_probe()
    out.family("genxsop_readiness_check", "gauge", "1 when the readiness check passes from this process, else 0.")
    out.sample("genxsop_readiness_check", int(probe["ok"]), check="database")
    out.family("genxsop_db_check_latency_seconds", "gauge", "Duration of SELECT 1 on the default database.")
    out.sample("genxsop_db_check_latency_seconds", (probe["latency_ms"] or 0) / 1000)
    out.family("genxsop_slo_compliance", "gauge", "1 while the SLI meets its objective over 30 days (OPS-53), else 0.")
    for sli in compute_slis(days=30)["slis"]:
        out.sample("genxsop_slo_compliance", int(sli["status"] != "breached"), sli=sli["name"])
    return out.text()


def _is_admin(user) -> bool:
    from governance.choices import Role

    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or user.role == Role.ADMIN))


@never_cache
@require_http_methods(["GET"])
def metrics_view(request):
    """API-OPS-03: Bearer METRICS_TOKEN (compared in constant time) or an admin's console session."""
    if not settings.METRICS_ENABLED:
        return error_response(status=404, message="Not found.")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, presented = header.partition(" ")
        token = settings.METRICS_TOKEN
        if not (
            scheme.lower() == "bearer" and token and hmac.compare_digest(presented.strip().encode(), token.encode())
        ):
            return error_response(status=401, code="AUTHENTICATION_FAILED", message="Invalid metrics token.",
                                  headers={"WWW-Authenticate": 'Bearer realm="metrics"'})  # fmt: skip
    elif not getattr(request, "user", None) or not request.user.is_authenticated:
        return error_response(status=401, message="Authentication credentials were not provided.",
                              headers={"WWW-Authenticate": 'Bearer realm="metrics"'})  # fmt: skip
    elif not _is_admin(request.user):
        return error_response(status=403, message="Only administrators may read the metrics.")
    return HttpResponse(render(), content_type="text/plain; version=0.0.4; charset=utf-8")
