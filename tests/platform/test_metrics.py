"""SLI collection (OPS-51), `/metrics` (OPS-50, API-OPS-03) and the SLO report (OPS-53, API-OPS-04)."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ
from rest_framework.test import APIClient

from forecasting.choices import JobErrorCode, JobKind, JobStatus
from forecasting.models import ForecastJob
from genxsop import metrics
from governance import slo
from governance.choices import Role
from governance.models import Publication, ReadinessEvaluation, ServiceMetricBucket
from governance.services.retention import metric_buckets_purge
from planning.integrations.batch import run_batch
from planning.models import IntegrationBatch
from planning.services.integrations import integration_batch_purge

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret-0123456789"
NOW = timezone.now().replace(second=30, microsecond=0)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(metrics, "collector", metrics.Collector(clock=fake))
    return fake


def _pending():
    return {(route, method): sums for (_, route, method), sums in metrics.collector.pending().items()}


def _bucket(route="api:governance-api:me", method="GET", process="p1", minute=None, is_ml=False, **counts):
    counts.setdefault("request_count", counts.get("status_2xx_count", 0) + counts.get("error_5xx_count", 0))
    return ServiceMetricBucket.objects.create(
        minute=minute or NOW.replace(second=0), route_group=route, method=method, process=process, is_ml=is_ml,
        **counts,
    )  # fmt: skip


def _publications(admin_user, now):
    """A weekly publication on a dry-run evaluation (breaks GOV-67) and a monthly one on a real one."""
    for lane, dry_run in (("weekly", True), ("monthly", False)):
        evaluation = ReadinessEvaluation.objects.create(
            lane=lane, period_from=datetime.date(2026, 12, 1), period_to=datetime.date(2027, 2, 1), outcome="go",
            score=100, required_score=80, plan_fingerprint="x", dry_run=dry_run,
        )  # fmt: skip
        Publication.objects.create(
            version_stamp=f"v-{lane}", lane=lane, period_from=evaluation.period_from, period_to=evaluation.period_to,
            evaluation=evaluation, outcome="go", published_by=admin_user, published_at=now, snapshot_sha256="0" * 64,
        )  # fmt: skip


# Collection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "field"),
    [(0, "duration_le_25"), (25, "duration_le_25"), (25.01, "duration_le_50"), (300, "duration_le_300"),
     (300.5, "duration_le_500"), (5000, "duration_le_5000"), (5000.1, "duration_le_inf")],
)  # fmt: skip
def test_a_duration_lands_in_the_first_bucket_whose_upper_bound_it_does_not_exceed(ms, field):
    assert metrics.bucket_field(ms) == field


def test_requests_are_counted_by_route_method_and_status_class(clock, client, admin_user):
    client.get("/api/v1/")
    client.get("/api/v1/")
    client.get("/api/v1/no-such-endpoint")
    client.force_login(admin_user)
    client.get("/api/v1/auth/me")
    client.post("/api/v1/auth/me", {})  # 405

    rows = _pending()
    assert rows[("api:root", "GET")].request_count == 2
    assert rows[("api:root", "GET")].status_2xx_count == 2
    assert rows[("api:not-found", "GET")].status_4xx_count == 1
    assert rows[("api:governance-api:me", "GET")].status_2xx_count == 1
    assert rows[("api:governance-api:me", "POST")].status_4xx_count == 1
    assert all(sums.error_5xx_count == 0 for sums in rows.values())
    # Nothing is written until the interval is over.
    assert not ServiceMetricBucket.objects.exists()


def test_probes_metrics_and_static_files_are_not_counted(clock, client, settings):
    settings.METRICS_TOKEN = TOKEN
    for path in ("/health", "/ready/", "/metrics", "/static/css/app.css"):
        client.get(path, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert _pending() == {}


def test_the_queries_of_a_request_are_counted(clock, client, admin_user):
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/auth/me")
    recorded = _pending()[("api:governance-api:me", "GET")].db_query_count
    assert recorded > 0
    assert recorded == len(captured)


def test_the_ml_routes_of_ops52_are_tagged():
    assert metrics.is_ml_route("/api/v1/forecasting/generate", "POST", "api:forecasting-api:forecast-generate")
    assert not metrics.is_ml_route("/api/v1/forecasting/generate-job", "POST", "api:forecasting-api:x")
    assert metrics.is_ml_route("/api/v1/inventory/optimization/runs", "POST", "api:planning-api:runs")
    assert not metrics.is_ml_route("/api/v1/inventory/optimization/runs", "GET", "api:planning-api:runs")
    assert metrics.is_ml_route("/api/v1/demand/plans", "GET", "api:planning-api:io-demand_plans-export")
    assert metrics.is_ml_route("/api/v1/sop-cycles/3/meeting-pack", "GET", "api:governance-api:cycle-meeting-pack")
    assert not metrics.is_ml_route("/api/v1/demand/plans", "GET", "api:planning-api:demandplan-list")


def test_the_sums_are_flushed_once_the_interval_is_over_and_added_to(clock, client, settings):
    settings.METRICS_FLUSH_SECONDS = 15
    client.get("/api/v1/")
    clock.now += 14.9
    client.get("/api/v1/")
    assert not ServiceMetricBucket.objects.exists()

    clock.now += 0.1  # 15 s after the collector started: this request flushes all three
    client.get("/api/v1/")
    row = ServiceMetricBucket.objects.get(route_group="api:root")
    assert (row.request_count, row.status_2xx_count, row.method, row.is_ml) == (3, 3, "GET", False)
    assert sum(getattr(row, f) for f in metrics.BUCKET_FIELDS) == 3
    assert _pending() == {}

    # The next flush of the same minute adds to the row with F() (one row per key and process).
    client.get("/api/v1/")
    clock.now += 15
    minute = row.minute
    metrics.collector.record(at=minute, route_group="api:root", method="GET", is_ml=False, status=503,
                             duration_ms=40, queries=2)  # fmt: skip
    assert metrics.collector.flush() == 1
    row.refresh_from_db()
    assert (row.request_count, row.error_5xx_count) == (5, 1)
    assert row.duration_le_50 >= 1
    assert row.db_query_count >= 2


def test_a_failing_flush_never_fails_the_request(clock, client, settings, monkeypatch):
    settings.METRICS_FLUSH_SECONDS = 0

    def broken(*args, **kwargs):
        raise RuntimeError("database away")

    monkeypatch.setattr(metrics, "_upsert", broken)
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert _pending() == {}  # dropped, not kept to grow while the database is away
    assert not ServiceMetricBucket.objects.exists()


def _request_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("genxsop_http_", "genxsop_db_queries"))]


def test_the_purge_keeps_90_days_and_carries_the_older_sums(settings):
    settings.METRICS_TOKEN = TOKEN
    for process in ("a", "b"):
        _bucket(minute=NOW - datetime.timedelta(days=90, minutes=1), process=process, status_2xx_count=2,
                duration_le_25=2, db_query_count=5)  # fmt: skip
    kept = _bucket(minute=NOW - datetime.timedelta(days=89), status_2xx_count=1, duration_le_25=1, db_query_count=1)
    before = _request_lines(_scrape())

    assert metric_buckets_purge(now=NOW) == 2
    carried = ServiceMetricBucket.objects.exclude(pk=kept.pk).get()
    # 2 + 2 requests and 5 + 5 queries of the two deleted rows, in the carry row.
    assert (carried.process, carried.minute, carried.request_count, carried.db_query_count) == (
        "purged", metrics.CARRY_MINUTE, 4, 10)  # fmt: skip
    # The counters Prometheus reads are unchanged (5 requests, 11 queries), so no false reset.
    assert _request_lines(_scrape()) == before
    assert 'genxsop_db_queries_total{route="api:governance-api:me"} 11' in before
    assert 'genxsop_http_requests_total{method="GET",route="api:governance-api:me",status_class="2xx"} 5' in before
    # Purging again keeps adding into the same carry row.
    _bucket(minute=NOW - datetime.timedelta(days=95), process="c", status_2xx_count=1)
    assert metric_buckets_purge(now=NOW) == 1
    carried.refresh_from_db()
    assert carried.request_count == 5


# /metrics --------------------------------------------------------------------------------------

LINE_RE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')


def _scrape(client=None, token=TOKEN):
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def _value(text: str, sample: str) -> str:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return line.split(" ")[-1]
    raise AssertionError(f"{sample} not exposed")


class TestMetricsAccess:
    def test_without_credentials_401_with_the_error_body(self, client, settings):
        settings.METRICS_TOKEN = TOKEN
        response = client.get("/metrics")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"

    def test_a_wrong_token_401(self, client, settings):
        settings.METRICS_TOKEN = TOKEN
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "AUTHENTICATION_FAILED"

    def test_a_bearer_is_refused_while_no_token_is_configured(self, client, settings):
        settings.METRICS_TOKEN = ""
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401

    def test_a_non_admin_session_403(self, client, make_user):
        client.force_login(make_user(Role.EXECUTIVE))
        response = client.get("/metrics")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "PERMISSION_DENIED"

    def test_an_admin_session_or_the_token_200(self, client, admin_user, settings):
        settings.METRICS_TOKEN = TOKEN
        assert _scrape(token=TOKEN).startswith("# HELP genxsop_app_info")
        client.force_login(admin_user)
        assert client.get("/metrics").status_code == 200

    def test_404_when_disabled(self, client, settings, admin_user):
        settings.METRICS_ENABLED = False
        settings.METRICS_TOKEN = TOKEN
        client.force_login(admin_user)
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_the_exposition_sums_every_process_and_parses(settings, admin_user):
    settings.METRICS_TOKEN = TOKEN
    # Two processes served the same route in the same minute.
    _bucket(process="a", status_2xx_count=3, error_5xx_count=1, duration_le_25=2, duration_le_300=1,
            duration_le_inf=1, duration_sum_ms=6400.0, db_query_count=12)  # fmt: skip
    _bucket(process="b", status_2xx_count=2, status_4xx_count=1, request_count=3, duration_le_50=3,
            duration_sum_ms=100.0, db_query_count=6)  # fmt: skip
    _bucket(route="api:forecasting-api:forecast-generate", method="POST", is_ml=True, status_2xx_count=1,
            duration_le_5000=1, duration_sum_ms=4000.0)  # fmt: skip
    now = timezone.now()
    for status, started in ((JobStatus.COMPLETED, 20), (JobStatus.COMPLETED, 100), (JobStatus.FAILED, 5)):
        ForecastJob.objects.create(kind=JobKind.BATCH_GENERATE, status=status, horizon=3, requested_by=admin_user,
                                   started_at=now - datetime.timedelta(seconds=started), completed_at=now)  # fmt: skip
    queued = ForecastJob.objects.create(kind=JobKind.BATCH_GENERATE, horizon=3, requested_by=admin_user)
    ForecastJob.objects.filter(pk=queued.pk).update(created_at=now - datetime.timedelta(minutes=12))
    _publications(admin_user, now)
    # Two tasks waiting in the ORM broker (whatever earlier tests left there is cleared first).
    OrmQ.objects.all().delete()
    for key in ("a", "b"):
        OrmQ.objects.create(key=settings.Q_CLUSTER["name"], payload=key, lock=None)

    text = _scrape()

    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(LINE_RE.match(line) for line in samples), [line for line in samples if not LINE_RE.match(line)]
    me = 'route="api:governance-api:me"'
    assert _value(text, f'genxsop_http_requests_total{{method="GET",{me},status_class="2xx"}}') == "5"  # 3 + 2
    assert _value(text, f'genxsop_http_requests_total{{method="GET",{me},status_class="4xx"}}') == "1"
    assert _value(text, f'genxsop_http_requests_total{{method="GET",{me},status_class="5xx"}}') == "1"
    # Cumulative buckets: ≤25 ms 2; ≤50 ms 2 + 3 = 5; ≤300 ms 5 + 1 = 6; +Inf 6 + 1 = 7.
    hist = "genxsop_http_request_duration_seconds"
    assert _value(text, f'{hist}_bucket{{{me},ml="false",le="0.025"}}') == "2"
    assert _value(text, f'{hist}_bucket{{{me},ml="false",le="0.05"}}') == "5"
    assert _value(text, f'{hist}_bucket{{{me},ml="false",le="0.2"}}') == "5"
    assert _value(text, f'{hist}_bucket{{{me},ml="false",le="0.3"}}') == "6"
    assert _value(text, f'{hist}_bucket{{{me},ml="false",le="+Inf"}}') == "7"
    assert _value(text, f'{hist}_count{{{me},ml="false"}}') == "7"
    assert float(_value(text, f'{hist}_sum{{{me},ml="false"}}')) == 6.5  # (6400 + 100) ms
    assert _value(text, f'{hist}_count{{route="api:forecasting-api:forecast-generate",ml="true"}}') == "1"
    assert _value(text, f"genxsop_db_queries_total{{{me}}}") == "18"  # 12 + 6
    assert _value(text, 'genxsop_forecast_jobs{status="completed"}') == "2"
    assert _value(text, 'genxsop_forecast_jobs{status="queued"}') == "1"
    assert _value(text, 'genxsop_forecast_jobs_finished_total{status="failed"}') == "1"
    # Completed durations 20 s and 100 s: ≤15 s 0, ≤30 s 1, ≤60 s 1, ≤120 s 2.
    assert _value(text, 'genxsop_forecast_job_duration_seconds_bucket{le="15"}') == "0"
    assert _value(text, 'genxsop_forecast_job_duration_seconds_bucket{le="30"}') == "1"
    assert _value(text, 'genxsop_forecast_job_duration_seconds_bucket{le="120"}') == "2"
    assert 720 <= float(_value(text, "genxsop_forecast_job_oldest_queued_seconds")) < 780
    assert _value(text, "genxsop_task_queue_depth") == "2"
    assert _value(text, "genxsop_forecast_jobs_stale_running") == "0"
    assert _value(text, 'genxsop_publications_total{lane="monthly",outcome="go"}') == "1"
    assert float(_value(text, "genxsop_publications_gate_validated_ratio")) == 0.5  # 1 of 2 not a dry run
    assert _value(text, 'genxsop_outbox_messages{status="failed"}') == "0"
    assert "genxsop_audit_events_total{" in text
    assert _value(text, 'genxsop_readiness_check{check="database"}') == "1"
    # 30-day SLIs of the rows above: 1 of 4 + 3 + 1 = 8 requests failed (87.5 % < 99.9 %) and 1 of 2
    # publications is ungated (50 % < 100 %): both breached.
    assert _value(text, 'genxsop_slo_compliance{sli="availability"}') == "0"
    assert _value(text, 'genxsop_slo_compliance{sli="publish_gate_validated"}') == "0"
    assert re.search(r'^genxsop_app_info\{version="[^"]+",environment="test"\} 1$', text, re.M)


# SLO maths ------------------------------------------------------------------------------------


def test_p95_is_interpolated_inside_its_bucket():
    # 100 requests: ≤25: 50, ≤50: 30, ≤100: 10, ≤200: 4, ≤300: 6. Rank 95 falls in (200, 300] after
    # 94 requests, 1 of its 6: 200 + 100 x 1/6 = 216.67 ms.
    counts = [50, 30, 10, 4, 6, 0, 0, 0, 0, 0]
    assert slo.histogram_quantile(0.95, counts) == pytest.approx(216.6667, abs=1e-3)
    # p50: rank 50 is the last of the first bucket, which starts at 0: 0 + 25 x 50/50 = 25.
    assert slo.histogram_quantile(0.5, counts) == pytest.approx(25)
    # Everything slower than 5 s: reported as the highest finite bound.
    assert slo.histogram_quantile(0.95, [0] * 9 + [3]) == 5000
    assert slo.histogram_quantile(0.95, [0] * 10) is None


def test_error_budget_and_status():
    # 99.9 % of 10,000 allows 10 bad events. 1 bad: 1 - 1/10 = 90 % left, met.
    assert slo.error_budget_remaining_pct(bad=1, total=10000, target_pct=99.9) == 90.0
    # 8 bad: 20 % left, under the 25 % line, while the value 99.92 % still meets the target: at risk.
    assert slo.error_budget_remaining_pct(bad=8, total=10000, target_pct=99.9) == 20.0
    assert slo.budget_status(value=99.92, target_pct=99.9, budget_pct=20.0) == "at_risk"
    # 11 bad: overspent by 10 %; 99.89 % is below target: breached.
    assert slo.error_budget_remaining_pct(bad=11, total=10000, target_pct=99.9) == -10.0
    assert slo.budget_status(value=99.89, target_pct=99.9, budget_pct=-10.0) == "breached"
    assert slo.budget_status(value=99.99, target_pct=99.9, budget_pct=90.0) == "met"
    assert slo.error_budget_remaining_pct(bad=0, total=0, target_pct=99.9) == 100.0


def test_the_slo_report(api_client_for, make_user, admin_user):
    today = NOW.replace(hour=12, minute=0, second=0)
    yesterday = today - datetime.timedelta(days=1)
    # Availability: 2 x 5,000 requests with 4 errors each: 1 - 8/10,000 = 99.92 %; budget 1 - 8/10 = 20 %.
    _bucket(minute=yesterday, route="planning:home", status_2xx_count=4996, error_5xx_count=4)
    _bucket(minute=today, route="planning:home", status_2xx_count=4996, error_5xx_count=4,
            duration_le_inf=5000)  # console route: outside the latency SLI  # fmt: skip
    # Latency: the API histogram of the p95 test above; the slow ML row does not count.
    _bucket(minute=today, route="api:r", request_count=0, duration_le_25=50, duration_le_50=30, duration_le_100=10,
            duration_le_200=4, duration_le_300=6)  # fmt: skip
    _bucket(minute=today, route="api:ml", is_ml=True, request_count=0, duration_le_inf=100)
    # Job success: 199 completed, 1 failed, 1 failed for lack of data (excluded): 199/200 = 99.5 %, met
    # exactly; budget 1 - 1/((1 - 0.995) x 200) = 1 - 1/1 = 0 %: at risk.
    done = timezone.now() - datetime.timedelta(hours=1)
    jobs = [ForecastJob(kind=JobKind.BATCH_GENERATE, status=JobStatus.COMPLETED, horizon=3, requested_by=admin_user,
                        completed_at=done) for _ in range(199)]  # fmt: skip
    jobs.append(ForecastJob(kind=JobKind.BATCH_GENERATE, status=JobStatus.FAILED, horizon=3, requested_by=admin_user,
                            completed_at=done))  # fmt: skip
    jobs.append(ForecastJob(kind=JobKind.BATCH_GENERATE, status=JobStatus.FAILED, horizon=3, requested_by=admin_user,
                            completed_at=done, error_code=JobErrorCode.INSUFFICIENT_DATA))  # fmt: skip
    for job in jobs:
        job.save()
    # A job finished before the window does not count.
    ForecastJob.objects.create(kind=JobKind.BATCH_GENERATE, status=JobStatus.FAILED, horizon=3,
                               requested_by=admin_user, completed_at=NOW - datetime.timedelta(days=8))  # fmt: skip

    client = api_client_for(make_user(Role.SOP_COORDINATOR), scopes=["ops:read"])
    response = client.get("/api/v1/ops/slo?days=7")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["days"] == 7
    slis = {s["name"]: s for s in body["slis"]}
    availability = slis["availability"]
    assert (availability["value"], availability["target"], availability["error_budget_remaining_pct"],
            availability["status"]) == (99.92, 99.9, 20.0, "at_risk")  # fmt: skip
    assert [d["value"] for d in availability["daily"]] == [99.92, 99.92]  # 4 of 5,000 each day
    latency = slis["latency_p95_non_ml"]
    assert (latency["value"], latency["status"], latency["error_budget_remaining_pct"]) == (216.7, "met", None)
    jobs_sli = slis["forecast_job_success"]
    assert (jobs_sli["value"], jobs_sli["error_budget_remaining_pct"], jobs_sli["status"]) == (99.5, 0.0, "at_risk")
    gate = slis["publish_gate_validated"]
    assert (gate["value"], gate["status"], gate["daily"]) == (None, "met", [])

    # One publication made on a dry-run evaluation: 1 of 2 validated = 50 %, breached; no budget at 100 %.
    _publications(admin_user, timezone.now())
    gate = {s["name"]: s for s in client.get("/api/v1/ops/slo?days=7").json()["slis"]}["publish_gate_validated"]
    assert (gate["value"], gate["status"], gate["error_budget_remaining_pct"]) == (50.0, "breached", None)


@pytest.mark.parametrize("days", ["0", "91", "abc"])
def test_the_window_is_1_to_90_days(admin_api, days):
    response = admin_api.get(f"/api/v1/ops/slo?days={days}")
    assert response.status_code == 400
    assert "days" in response.json()["detail"]["fields"]


def test_a_token_without_ops_read_or_a_planner_is_refused(api_client_for, make_user, admin_user):
    assert api_client_for(admin_user, scopes=["planning:read"]).get("/api/v1/ops/slo").status_code == 403
    assert api_client_for(make_user(Role.DEMAND_PLANNER)).get("/api/v1/ops/slo").status_code == 403


# GOV-35 security events and ERP items (OPS-50) ---------------------------------------------------


def _counter(text: str, sample: str) -> int:
    return int(_value(text, sample))


SECURITY_COUNTERS = ("genxsop_login_failures_total", "genxsop_authz_denials_total",
                     "genxsop_throttled_requests_total", "genxsop_csp_violations_total")  # fmt: skip


def test_refused_sign_ins_denials_throttling_and_csp_reports_are_counted(clock, users, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "login": "2/min"}}  # fmt: skip
    cache.clear()
    before = _scrape()
    assert [_counter(before, name) for name in SECURITY_COUNTERS] == [0, 0, 0, 0]
    email = users[Role.VIEWER].email

    # A refused console sign-in, then two refused API sign-ins and a third attempt over the login limit.
    console = Client()
    assert console.post(reverse("account_login"), {"login": email, "password": "wrong"}).status_code == 200
    api = APIClient()
    answers = [api.post("/api/v1/auth/login", {"email": email, "password": "wrong"}, format="json").status_code
               for _ in range(3)]  # fmt: skip
    assert answers == [401, 401, 429]
    # Two authorization failures: a planner on an EXEC_C report, and a console form posted without its CSRF token.
    planner = APIClient()
    planner.force_authenticate(users[Role.DEMAND_PLANNER])
    assert planner.get("/api/v1/ops/slo").status_code == 403
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users[Role.ADMIN])
    assert browser.post(reverse("account_logout")).status_code == 403
    # One CSP violation report from a browser.
    report = {"csp-report": {"blocked-uri": "https://evil.example/x.js", "effective-directive": "script-src-elem"}}
    assert Client().post("/csp-report/", report, content_type="application/csp-report").status_code == 204

    # The request counters reach /metrics through the per-minute buckets, whichever process served them.
    assert [_counter(_scrape(), name) for name in SECURITY_COUNTERS][1:] == [0, 0, 0]
    metrics.collector.flush()
    after = _scrape()
    assert [_counter(after, name) for name in SECURITY_COUNTERS] == [3, 2, 1, 1]
    bucket = ServiceMetricBucket.objects.get(route_group=metrics.CSP_REPORT_ROUTE, method="POST")
    assert (bucket.request_count, bucket.status_2xx_count, bucket.status_403_count) == (1, 1, 0)


def _items(text: str, operation: str) -> dict[str, int]:
    return {outcome: _counter(text, f'genxsop_integration_items_total{{operation="{operation}",outcome="{outcome}"}}')
            for outcome in metrics.INTEGRATION_OUTCOMES}  # fmt: skip


def test_erp_sync_items_are_counted_by_operation_and_outcome(users, settings):
    settings.METRICS_TOKEN = TOKEN
    coordinator = users[Role.SOP_COORDINATOR]
    assert _items(_scrape(), "products_sync") == dict.fromkeys(metrics.INTEGRATION_OUTCOMES, 0)

    def sync(items, **meta):
        meta = {"source_system": "SAP", "idempotency_key": f"k-{sync.n}", **meta}
        sync.n += 1
        return run_batch(actor=coordinator, operation="products_sync", channel="api", items=items, meta=meta)[1]

    sync.n = 0
    good = {"sku": "M-1", "name": "Metered", "category_name": "Audio"}
    bad = {"sku": "M-2", "name": "Broken", "category_name": "Audio", "status": "no-such-status"}
    assert (sync([good, bad])["created"], sync([good])["skipped"]) == (1, 1)
    sync([{**good, "sku": "M-3"}, bad], atomic=True)  # rolled back: M-3 is not applied
    sync([{**good, "sku": "M-4"}], dry_run=True)  # a dry run changes nothing: not counted

    assert _items(_scrape(), "products_sync") == {"created": 1, "updated": 0, "skipped": 1, "failed": 2,
                                                  "not_applied": 1}  # fmt: skip
    assert _items(_scrape(), "inventory_sync") == dict.fromkeys(metrics.INTEGRATION_OUTCOMES, 0)


def test_purged_batches_stay_counted(users, settings):
    settings.METRICS_TOKEN = TOKEN
    run_batch(actor=users[Role.SOP_COORDINATOR], operation="products_sync", channel="api",
              items=[{"sku": "P-1", "name": "Old", "category_name": "Audio"}],
              meta={"source_system": "SAP", "idempotency_key": "old"})  # fmt: skip
    IntegrationBatch.objects.update(created_at=timezone.now() - datetime.timedelta(days=91))
    before = _items(_scrape(), "products_sync")
    assert before["created"] == 1

    assert integration_batch_purge() == 1
    assert not IntegrationBatch.objects.exists()
    assert _items(_scrape(), "products_sync") == before
    # A later purge adds to the same carry.
    run_batch(actor=users[Role.SOP_COORDINATOR], operation="products_sync", channel="api",
              items=[{"sku": "P-2", "name": "Older", "category_name": "Audio"}],
              meta={"source_system": "SAP", "idempotency_key": "older"})  # fmt: skip
    IntegrationBatch.objects.update(created_at=timezone.now() - datetime.timedelta(days=100))
    assert integration_batch_purge() == 1
    assert _items(_scrape(), "products_sync")["created"] == 2
