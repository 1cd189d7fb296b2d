"""Soak run: mixed traffic for a bounded time, a worker restart halfway, the SLOs at the end (not a test).

Creates its own PostgreSQL database (`gx_soak_main` by default), migrates it and loads the demo data,
serves it with gunicorn under production settings and runs a django-q2 worker cluster beside it.
Then, for `--minutes`:

- closed-loop clients load console pages with a signed-in session cookie, read the API with an
  API token and create products through it (a write);
- a job submitter queues a small forecast job through the API every `--job-every` seconds, which
  the real worker runs;
- an executive publishes the monthly lane through the publish API every `--publish-every` seconds
  (the gates are evaluated in the publish itself; a No-Go is published again as an override with a
  justification, and a publication is rolled back so that the next attempt has rows to publish);
- halfway, the worker cluster is killed (`--restart kill`, SIGKILL to every process of the cluster,
  or `term` for a graceful stop) and a new one is started.

Afterwards it waits for every queued job to end and prints availability (non-5xx over all answers,
client side and from the server's SLO report), the non-ML API p95 (client side and the server's
SLI), job success (completed over finished, and jobs left unfinished), the publishes against the
gate evaluations in the audit log, queries per request from `/metrics`, and the PostgreSQL
connections in use, each against the SLO targets the server reports (OPS-54). Exits 1 when a target
is missed. The database is dropped at the end unless `--keep`.

    .venv/bin/python bench/soak.py --minutes 10          # --minutes 3 for a quick run; --json FILE
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import harness

DB_PREFIX = "gx_soak_"
DEMO_TEMPLATE = "gx_soak_demo"
ADMIN, EXECUTIVE, PLANNER, CONSOLE_USER = (
    "admin@genxsop.com", "executive@genxsop.com", "demand@genxsop.com", "coordinator@genxsop.com",
)  # fmt: skip
OVERRIDE_REASON = "Soak run: publishing a No-Go on purpose to exercise the override path."
ROLLBACK_REASON = "Soak run: rolled back so that the next publish has rows to lock."
TERMINAL = ("completed", "failed", "cancelled")


# Console session ---------------------------------------------------------------------------------


def console_session(base_url: str, email: str) -> str:
    """Sign in through the console login form (CSRF token, cookies) and return the Cookie header."""
    host, port = base_url.split("://", 1)[1].split(":")
    cookies: dict[str, str] = {}

    def send(method: str, path: str, body: str | None = None, extra: dict | None = None):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {**harness.PROXY_HEADERS, **(extra or {})}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                cookies[name] = morsel.value
        conn.close()
        return response.status, text, response.getheader("Location")

    status, page, _ = send("GET", "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or not token:
        raise RuntimeError(f"console login page: {status}")
    origin = f"https://{host}:{port}"
    body = urlencode({"csrfmiddlewaretoken": token.group(1), "login": email, "password": harness.DEMO_PASSWORD})
    status, _, location = send("POST", "/accounts/login/", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Origin": origin, "Referer": f"{origin}/accounts/login/",
    })  # fmt: skip
    if status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"console login of {email} failed: {status} -> {location}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# Side traffic: jobs, publishes, the worker restart -------------------------------------------------


@dataclass
class SideLog:
    """Answers of the side traffic, per name: (status, ms); status 0 is a connection error."""

    answers: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    job_ids: list[str] = field(default_factory=list)
    publishes: dict[str, int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, name: str, base_url: str, method: str, path: str, body=None, headers=None):
        started = time.perf_counter()
        try:
            # Publishing and rollbacks take seconds on a busy host; an answer within 2 minutes counts.
            status, answer = harness.http_json(base_url, method, path, body, headers=headers, timeout=120)
        except OSError as exc:
            status, answer = 0, repr(exc)
        with self.lock:
            self.answers.setdefault(name, []).append((status, (time.perf_counter() - started) * 1000))
        return status, answer

    def count(self, key: str) -> None:
        with self.lock:
            self.publishes[key] = self.publishes.get(key, 0) + 1


def submit_jobs(base_url: str, headers: dict, product_ids: list[int], every: float, stop: threading.Event,
                log: SideLog) -> None:  # fmt: skip
    rng = random.Random(7)
    while not stop.wait(every):
        body = {"product_ids": rng.sample(product_ids, min(3, len(product_ids))), "horizon": 3}
        status, answer = log.call("job:create", base_url, "POST", "/api/v1/forecasting/generate-job", body, headers)
        if status == 202:
            with log.lock:
                log.job_ids.append(answer["job_id"])


def publish_loop(base_url: str, headers: dict, every: float, stop: threading.Event, log: SideLog) -> None:
    while not stop.wait(every):
        path = "/api/v1/governance/publications"
        status, answer = log.call("publish", base_url, "POST", path, {"lane": "monthly"}, headers)
        code = (answer.get("error") or {}).get("code") if isinstance(answer, dict) else None
        if status == 409 and code == "PUBLISH_GATE_FAILED":
            log.count("no_go")
            body = {"lane": "monthly", "override": {"justification": OVERRIDE_REASON}}
            status, answer = log.call("publish:override", base_url, "POST", path, body, headers)
            code = (answer.get("error") or {}).get("code") if isinstance(answer, dict) else None
        if status == 201:
            log.count("published")
            rollback = f"{path}/{answer['id']}/rollback"
            status, _ = log.call("publish:rollback", base_url, "POST", rollback, {"reason": ROLLBACK_REASON}, headers)
            log.count("rolled_back" if status == 200 else f"rollback_{status}")
        else:
            log.count(f"refused_{status}_{code}")


def restart_worker(worker: harness.Worker, env: dict, how: str, log: SideLog, db: harness.Database) -> harness.Worker:
    # Wait (up to 30 s) for a job to be running, so that the stop lands in the middle of one.
    deadline = time.monotonic() + 30
    running = 0
    while time.monotonic() < deadline and not running:
        running = int(db.query("SELECT count(*) FROM forecast_jobs WHERE status = 'running'"))
        time.sleep(0 if running else 0.2)
    log.events.append(f"{time.strftime('%H:%M:%S')} {running} job(s) running at the stop")
    pid = worker.process.pid
    if how == "kill":
        os.killpg(pid, signal.SIGKILL)  # the whole cluster at once: nothing gets to clean up
        worker.process.wait()
    else:
        worker.stop()
    log.events.append(f"{time.strftime('%H:%M:%S')} worker {pid} stopped with SIG{how.upper()}")
    time.sleep(2)
    fresh = harness.Worker(env, log_path=worker.log_path).start()
    log.events.append(f"{time.strftime('%H:%M:%S')} worker {fresh.process.pid} started")
    return fresh


def sample_connections(db: harness.Database, stop: threading.Event, seen: list[int]) -> None:
    sql = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db.name}'"  # noqa: S608 (checked name)
    while not stop.wait(5):
        with contextlib.suppress(RuntimeError):
            seen.append(int(db.query(sql)))


# Server-side figures ---------------------------------------------------------------------------------


def metrics_totals(text: str) -> dict:
    """Requests by status class and database queries, summed over routes, from the /metrics text."""
    requests: dict[str, int] = {}
    queries = 0
    for line in text.splitlines():
        match = re.match(r'^genxsop_http_requests_total\{.*status_class="(\w+)"\} (\S+)$', line)
        if match:
            requests[match.group(1)] = requests.get(match.group(1), 0) + int(float(match.group(2)))
        match = re.match(r"^genxsop_db_queries_total\{.*\} (\S+)$", line)
        if match:
            queries += int(float(match.group(1)))
    return {"requests": requests, "queries": queries}


def audit_figures(db: harness.Database, since: str) -> dict:
    """Publishing during the run (from `since`, a database timestamp), from the audit log."""
    if not re.fullmatch(r"[0-9 :.+-]+", since):
        raise ValueError(f"not a timestamp: {since!r}")
    # `since` was checked above to be a timestamp; psql takes no bind parameters.
    window = f"occurred_at >= '{since}'::timestamptz"
    evaluated = "event_type = 'governance.readiness.evaluated'"
    sql_published = (
        f"SELECT count(*) FROM audit_events WHERE {window} AND event_type = 'governance.publication.published'"  # noqa: S608
    )
    sql_evaluations = f"SELECT coalesce(after->>'dry_run', 'false'), count(*) FROM audit_events WHERE {window} AND {evaluated} GROUP BY 1"  # noqa: S608, E501
    publications = f"FROM publications p JOIN readiness_evaluations e ON e.id = p.evaluation_id WHERE p.published_at >= '{since}'::timestamptz"  # noqa: E501
    # A publish is gated when its publication's evaluation is a non-dry-run one that the audit log
    # recorded (GOV-67): joined on the evaluation id the evaluated event carries.
    sql_gated = f"SELECT count(*) {publications} AND NOT e.dry_run AND EXISTS (SELECT 1 FROM audit_events a WHERE a.{evaluated} AND a.after->>'evaluation_id' = e.evaluation_id::text)"  # noqa: S608, E501
    published = int(db.query(sql_published))
    by_dry_run = dict(line.split("|") for line in db.query(sql_evaluations).splitlines() if line)
    gated = int(db.query(sql_gated))
    total = int(db.query(f"SELECT count(*) {publications}"))
    return {"published_events": published, "publications": total,
            "gated_publications": gated, "evaluations_at_publish": int(by_dry_run.get("false", 0)),
            "evaluations_dry_run": int(by_dry_run.get("true", 0))}  # fmt: skip


def job_figures(db: harness.Database, job_ids: list[str]) -> dict:
    if not job_ids:
        return {"created": 0, "by_status": {}, "attempts_over_1": 0, "error_codes": {}}
    quoted = ",".join(f"'{j}'" for j in job_ids if re.fullmatch(r"[A-Za-z0-9._:-]+", j))
    rows = db.query(f"SELECT status, attempt, error_code FROM forecast_jobs WHERE job_id IN ({quoted})")  # noqa: S608
    by_status: dict[str, int] = {}
    codes: dict[str, int] = {}
    retried = 0
    for line in rows.splitlines():
        status, attempt, code = line.split("|")
        by_status[status] = by_status.get(status, 0) + 1
        retried += int(attempt) > 1
        if code:
            codes[code] = codes.get(code, 0) + 1
    return {"created": len(job_ids), "by_status": by_status, "attempts_over_1": retried, "error_codes": codes}


def wait_for_jobs(db: harness.Database, job_ids: list[str], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        statuses = job_figures(db, job_ids)["by_status"]
        if sum(n for s, n in statuses.items() if s not in TERMINAL) == 0:
            break
        time.sleep(3)
    return time.monotonic() - started


def prepare_database(db: harness.Database, template: harness.Database, *, fresh: bool) -> None:
    """A copy of the migrated demo database, kept as `template` between runs (the demo is anchored on the
    current month, so rebuild it with --fresh on a later day), and the static files production serves."""
    started = time.monotonic()
    if fresh or not template.exists():
        template.recreate()
        harness.manage("migrate", "--no-input", "-v0", env=harness.setup_env(template.url))
        harness.manage("load_demo", "-v0", env=harness.setup_env(template.url))
        print(f"demo template {template.name}: migrated and loaded in {time.monotonic() - started:.0f} s")
    db.recreate(template=template)
    # Tasks the demo load queued are signed with that process's one-off secret key; no server here has it.
    db.query("DELETE FROM django_q_ormq")
    harness.manage("migrate", "--no-input", "-v0", env=harness.setup_env(db.url))  # migrations newer than the copy
    # Production settings serve hashed files from STATIC_ROOT, as a deploy's collectstatic leaves them.
    harness.manage("collectstatic", "--noinput", "-v0", env=harness.ProductionEnv(db.url))
    print(
        f"database {db.name}: copied from {template.name}, static files collected, {time.monotonic() - started:.0f} s"
    )


# The run ---------------------------------------------------------------------------------------------


def build_mix(product_ids: list[int], cookie: str, reader: dict, writer: dict) -> list[harness.Request]:
    def pick(rng: random.Random) -> int:
        return rng.choice(product_ids)

    ui = {"Cookie": cookie, "Accept": "text/html"}
    return [
        harness.Request("ui:home", "GET", "/", weight=2, headers=ui),
        harness.Request("ui:products", "GET", "/catalog/products/", weight=2, headers=ui),
        harness.Request("ui:product", "GET", lambda r: f"/catalog/products/{pick(r)}/", weight=2, headers=ui),
        harness.Request("ui:jobs", "GET", "/forecasting/jobs/", weight=1, headers=ui),
        harness.Request(
            "api:products", "GET", lambda r: f"/api/v1/products?page={r.randint(1, 3)}", weight=4, headers=reader
        ),
        harness.Request("api:product", "GET", lambda r: f"/api/v1/products/{pick(r)}", weight=4, headers=reader),
        harness.Request("api:dashboard", "GET", "/api/v1/dashboard/summary", weight=2, headers=reader),
        harness.Request("api:demand_plans", "GET", "/api/v1/demand/plans", weight=1, headers=reader),
        harness.Request(
            "api:product_create",
            "POST",
            "/api/v1/products",
            weight=1,
            ok=(201,),
            headers=writer,
            body=lambda r: {"sku": f"SOAK-{r.getrandbits(40):010x}", "name": "Soak product"},
        ),
    ]


def _log(db: harness.Database, process: str) -> str:
    """Server logs under fixed names in the temp folder, for looking into a failed request afterwards."""
    return os.path.join(tempfile.gettempdir(), f"{db.name}_{process}.log")


def pct(good: int, total: int) -> float | None:
    return round(100.0 * good / total, 3) if total else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4, help="closed-loop console and API clients (default 4)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--q-workers", type=int, default=2)
    parser.add_argument("--job-every", type=float, default=5.0, help="seconds between forecast jobs (default 5)")
    parser.add_argument("--publish-every", type=float, default=20.0, help="seconds between publishes (default 20)")
    parser.add_argument("--restart", choices=("kill", "term"), default="kill")
    parser.add_argument("--drain", type=float, default=300.0, help="seconds to wait for queued jobs at the end")
    parser.add_argument("--port", type=int, default=8141)
    parser.add_argument("--db", default="gx_soak_main")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--fresh", action="store_true", help=f"rebuild the demo template {DEMO_TEMPLATE} first")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    db = harness.Database(DB_PREFIX, args.db)
    prepare_database(db, harness.Database(DB_PREFIX, DEMO_TEMPLATE), fresh=args.fresh)
    metrics_token = secrets.token_urlsafe(24)
    env = harness.ProductionEnv(db.url, {
        "METRICS_TOKEN": metrics_token, "Q_WORKERS": str(args.q_workers),
        "ACCESS_TOKEN_EXPIRE_MINUTES": str(int(args.minutes) + 30),
    })  # fmt: skip
    log = SideLog()
    connections: list[int] = []
    server = harness.Gunicorn(env, port=args.port, workers=args.web_workers, log_path=_log(db, "gunicorn"))
    holder = {"worker": harness.Worker(env, log_path=_log(db, "qcluster"))}
    try:
        server.start()
        holder["worker"].start()
        base = server.base_url
        reader = harness.auth_headers(harness.api_token(base, PLANNER, ["planning:read", "forecasting:read",
                                                                        "forecasting:write"]))  # fmt: skip
        writer = harness.auth_headers(harness.api_token(base, ADMIN, ["planning:write", "planning:read"]))
        executive = harness.auth_headers(harness.api_token(base, EXECUTIVE, ["governance:read", "governance:write",
                                                                            "ops:read"]))  # fmt: skip
        cookie = console_session(base, CONSOLE_USER)
        status, page = harness.http_json(base, "GET", "/api/v1/products?page_size=100&status=active", headers=reader)
        product_ids = [p["id"] for p in page["items"]] if status == 200 else []
        if not product_ids:
            raise RuntimeError(f"no products to forecast: {status} {page}")

        since = db.query("SELECT now()")  # the audit figures count from here
        seconds = args.minutes * 60
        stop = threading.Event()
        side = [
            threading.Thread(target=submit_jobs, args=(base, reader, product_ids, args.job_every, stop, log)),
            threading.Thread(target=publish_loop, args=(base, executive, args.publish_every, stop, log)),
            threading.Thread(target=sample_connections, args=(db, stop, connections)),
        ]
        for thread in side:
            thread.start()

        def restart():
            holder["worker"] = restart_worker(holder["worker"], env, args.restart, log, db)

        timer = threading.Timer(seconds / 2, restart)
        timer.start()
        print(f"soak: {args.minutes:g} min, {args.clients} clients, {server.description}, "
              f"{args.q_workers} job workers, worker {args.restart} at {seconds / 2:.0f} s")  # fmt: skip
        result = harness.run_load(base, build_mix(product_ids, cookie, reader, writer), clients=args.clients,
                                  seconds=seconds, warmup=0.0, timeout=60.0)  # fmt: skip
        timer.join()
        stop.set()
        for thread in side:
            thread.join()
        drained = wait_for_jobs(db, log.job_ids, args.drain)
        # Each gunicorn worker flushes its counters on the first counted request 15 s after the last flush.
        time.sleep(16)
        for _ in range(4 * args.web_workers):
            log.call("flush", base, "GET", "/api/v1/products?page_size=1", headers=reader)
        status, slo = harness.http_json(base, "GET", "/api/v1/ops/slo?days=1", headers=executive)
        status_m, metrics_text = harness.http_json(base, "GET", "/metrics",
                                                   headers=harness.auth_headers(metrics_token))  # fmt: skip
        if status != 200 or status_m != 200:
            raise RuntimeError(f"SLO report {status}, metrics {status_m}")
        report = build_report(args, result, log, slo, metrics_totals(metrics_text), audit_figures(db, since),
                              job_figures(db, log.job_ids), connections, drained)  # fmt: skip
    finally:
        holder["worker"].stop()
        server.stop()
        if not args.keep:
            db.drop()
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
    return 0 if all(row["met"] for row in report["targets"]) else 1


def build_report(args, result: harness.LoadResult, log: SideLog, slo: dict, server: dict, audit: dict,
                 jobs: dict, connections: list[int], drained: float) -> dict:  # fmt: skip
    statuses: dict[int, int] = {}
    for counts in result.statuses.values():
        for status, n in counts.items():
            statuses[status] = statuses.get(status, 0) + n
    api_ms = [ms for name, values in result.samples.items() if name.startswith("api:") for ms in values]
    for name, answers in log.answers.items():
        for status, ms in answers:
            statuses[status] = statuses.get(status, 0) + 1
            if 200 <= status < 500 and name != "flush":
                api_ms.append(ms)  # job creation and publishing are API calls too (not ML routes)
    total = sum(statuses.values())
    bad = sum(n for status, n in statuses.items() if status >= 500 or status == 0)
    slis = {s["name"]: s for s in slo["slis"]}
    finished = sum(jobs["by_status"].get(s, 0) for s in ("completed", "failed"))
    unfinished = sum(n for s, n in jobs["by_status"].items() if s not in TERMINAL)
    served = sum(server["requests"].values())
    client = {
        "requests": total, "non_5xx": total - bad, "availability_pct": pct(total - bad, total),
        "statuses": dict(sorted(statuses.items())),
        "api_p95_ms": round(harness.percentile(api_ms, 95), 1) if api_ms else None,
        "by_name": {name: {k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}
                    for name, row in result.summary().items()},
    }  # fmt: skip
    job_success = pct(jobs["by_status"].get("completed", 0), finished)
    gated_pct = pct(audit["gated_publications"], audit["publications"])
    targets = [
        _target("availability, client side (%)", client["availability_pct"], slis["availability"]["target"], ">="),
        _target("availability, server SLI (%)", slis["availability"]["value"], slis["availability"]["target"], ">="),
        _target("non-ML API p95, client side (ms)", client["api_p95_ms"], slis["latency_p95_non_ml"]["target"], "<"),
        _target(
            "non-ML API p95, server SLI (ms)",
            slis["latency_p95_non_ml"]["value"],
            slis["latency_p95_non_ml"]["target"],
            "<",
        ),
        _target("job success, completed / finished (%)", job_success, slis["forecast_job_success"]["target"], ">="),
        _target("jobs left unfinished", unfinished, 0, "<="),
        _target("gated publishes, audit log (%)", gated_pct, slis["publish_gate_validated"]["target"], ">="),
        _target(
            "gated publishes, server SLI (%)",
            slis["publish_gate_validated"]["value"],
            slis["publish_gate_validated"]["target"],
            ">=",
        ),
    ]
    return {
        "minutes": args.minutes, "clients": args.clients, "web_workers": args.web_workers,
        "q_workers": args.q_workers, "restart": args.restart, "events": log.events, "client": client,
        "server": {"requests": server["requests"], "db_queries": server["queries"],
                   "queries_per_request": round(server["queries"] / served, 2) if served else None,
                   "slis": {name: s["value"] for name, s in slis.items()}},
        "jobs": {**jobs, "finished": finished, "unfinished": unfinished, "drain_seconds": round(drained, 1)},
        "publishing": {**audit, "attempts": log.publishes},
        "pg_connections": {"max": max(connections, default=None), "samples": len(connections)},
        "targets": targets,
    }  # fmt: skip


def _target(name: str, value, target, op: str) -> dict:
    met = value is not None and {">=": value >= target, "<": value < target, "<=": value <= target}[op]
    return {"name": name, "value": value, "target": f"{op} {target}", "met": met}


def print_report(r: dict) -> None:
    print()
    for event in r["events"]:
        print(f"  {event}")
    print(harness.format_table(
        [(name, row["requests"], row["errors"], row["rps"], row["p50_ms"], row["p95_ms"], row["p99_ms"])
         for name, row in r["client"]["by_name"].items()],
        ["closed-loop request", "n", "errors", "rps", "p50 ms", "p95 ms", "p99 ms"],
    ))  # fmt: skip
    print(f"\nclient answers by status: {r['client']['statuses']}")
    s = r["server"]
    print(f"server: requests by class {s['requests']}, {s['db_queries']} queries, "
          f"{s['queries_per_request']} queries per request")  # fmt: skip
    j = r["jobs"]
    print(f"jobs: {j['created']} queued, by status {j['by_status']}, {j['attempts_over_1']} needed a second "
          f"attempt, error codes {j['error_codes']}, drained in {j['drain_seconds']} s")  # fmt: skip
    p = r["publishing"]
    print(f"publishing: attempts {p['attempts']}; audit log: {p['published_events']} published events, "
          f"{p['evaluations_at_publish']} gate evaluations at publish (+{p['evaluations_dry_run']} dry runs), "
          f"publishes/evaluations {p['published_events']}/{p['evaluations_at_publish']}, "
          f"gated publications {p['gated_publications']}/{p['publications']}")  # fmt: skip
    print(f"PostgreSQL connections to the database: max {r['pg_connections']['max']} "
          f"({r['pg_connections']['samples']} samples)\n")  # fmt: skip
    print(harness.format_table([(t["name"], t["value"], t["target"], "met" if t["met"] else "MISSED")
                                for t in r["targets"]], ["objective", "value", "target", ""]))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
