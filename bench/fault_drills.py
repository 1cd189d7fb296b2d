"""Fault drills on PostgreSQL against a served instance (not a test; enterprise readiness evidence).

Creates its own database, migrates it, seeds a planner, an admin, a product with a draft demand plan
and API tokens, then runs four drills and prints one line of figures per drill with PASS or FAIL:

  worker      a forecast job runs on a real django-q2 cluster; the worker process running it is
              SIGKILLed mid-job, the cluster is restarted as an operator would, and the job finishes
              with every series exactly once (time from the kill to completion, duplicates).
  outage      gunicorn reaches PostgreSQL through a TCP proxy that is cut twice: "refuse" (open
              connections dropped, new ones refused) and "blackhole" (dropped, new ones never
              answered). /ready must answer 503 within 1 s, API calls 503 SERVICE_UNAVAILABLE with
              the error body, console pages 503 with the request id, and after the restore the same
              gunicorn worker processes serve 200 again.
  concurrency N clients edit one plan at once by read-modify-write with If-Match, retrying on 409
              STALE_VERSION: the final value must equal the accepted writes, with exactly that many
              versions and update audit rows (no lost update).
  batches     a demand plan import and ERP product sync batches with malformed rows in the middle,
              and with a row the database itself refuses (a trigger) mid-write: an atomic batch
              writes nothing, a non-atomic one exactly its valid items; counts of plan rows, products
              and audit rows are compared before and after.

    .venv/bin/python bench/fault_drills.py               # --clients 16 --increments 5 --only outage --keep --json F

Ports: the proxy listens on --proxy-port (8121), gunicorn on --port (8122). The database is dropped
at the end unless --keep; its name must start with gx_fault_. Exit status 1 when any drill fails.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.forecasting.test_jobs_worker import SEED, start_cluster, stop_cluster, wait_for  # noqa: E402
from tests.platform import faultkit  # noqa: E402 (needs ROOT on sys.path)
from tests.platform.subproc import base_env, manage  # noqa: E402
from tests.platform.tcpproxy import BLACKHOLE, REFUSE, TcpProxy  # noqa: E402

DB_PREFIX = "gx_fault_"
READY_LIMIT_SECONDS = 1.0
REFUSED = "FAULT-DRILL-REFUSED"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL.")
    parser.add_argument("--db", default=f"{DB_PREFIX}bench")
    parser.add_argument("--proxy-port", type=int, default=8121)
    parser.add_argument("--port", type=int, default=8122)
    parser.add_argument("--clients", type=int, default=16, help="Concurrent editors of one plan.")
    parser.add_argument("--increments", type=int, default=5, help="Accepted increments each editor makes.")
    parser.add_argument("--series", type=int, default=8, help="Series of the forecast job of the worker drill.")
    parser.add_argument("--only", action="append", choices=["worker", "outage", "concurrency", "batches"])
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    parser.add_argument("--json", metavar="FILE", help="Also write every figure as JSON.")
    args = parser.parse_args()
    if not args.db.startswith(DB_PREFIX) or not args.db.replace("_", "").isalnum():
        parser.error(f"{args.db!r}: the drill drops its database, so its name must start with {DB_PREFIX}")
    return args


ARGS = parse_args()
SERVER = ARGS.server.rstrip("/")
DIRECT_URL = f"{SERVER}/{ARGS.db}"
HOST_PORT = SERVER.rsplit("@", 1)[-1].split("/")[0]
PG_HOST, _, PG_PORT = HOST_PORT.partition(":")
PROXIED_URL = DIRECT_URL.replace(f"@{HOST_PORT}/", f"@127.0.0.1:{ARGS.proxy_port}/")
LOG_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / f"{ARGS.db}_logs"  # noqa: S108 (bench logs only)


def env_for(url: str, **extra: str) -> dict:
    # The drills hammer one user's token: the rate limits would turn retried writes into 429s.
    limits = {"API_THROTTLE_RATE_USER": "100000/min", "API_THROTTLE_RATE_WRITE": "100000/min"}
    return base_env(DATABASE_URL=url, CACHE_URL="db://genxsop_cache", **limits, **extra)


def psql(sql: str, *, database: str | None = None) -> str:
    url = f"{SERVER}/{database or ARGS.db}"
    out = subprocess.run(["psql", "--no-psqlrc", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         capture_output=True, text=True, check=False)  # fmt: skip
    if out.returncode != 0:
        sys.exit(f"psql failed: {out.stderr}")
    return out.stdout.strip()


def recreate_database() -> None:
    psql(f'DROP DATABASE IF EXISTS "{ARGS.db}" WITH (FORCE)', database="postgres")
    psql(f'CREATE DATABASE "{ARGS.db}"', database="postgres")
    proc = manage("migrate", "--no-input", "-v0", env=env_for(DIRECT_URL), timeout=600)
    if proc.returncode != 0:
        sys.exit(f"migrate failed:\n{proc.stderr}")


def line(name: str, ok: bool, text: str) -> bool:
    print(f"{name:<26} {'PASS' if ok else 'FAIL'}  {text}", flush=True)
    return ok


# Drill a ---------------------------------------------------------------------------------------


def job_row(pk: int) -> dict:
    cols = ["status", "series_done", "attempt", "worker"]
    values = psql(f"SELECT {', '.join(cols)} FROM forecast_jobs WHERE id = {int(pk)}").split("|")  # noqa: S608
    return dict(zip(cols, values, strict=True))


def drill_worker() -> tuple[bool, dict]:
    env = env_for(DIRECT_URL, DJANGO_SETTINGS_MODULE="tests.forecasting.worker_settings", Q_WORKERS="1",
                  FORECAST_JOB_HEARTBEAT_SECONDS="1", FORECAST_JOB_CHUNK_SIZE="1",
                  FORECAST_JOB_CHUNK_PAUSE_SECONDS="0.7")  # fmt: skip
    proc = manage("shell", "-c", SEED.replace("{n}", str(ARGS.series)), env=env, timeout=300)
    if proc.returncode != 0:
        sys.exit(f"job seed failed:\n{proc.stderr}")
    pk = int(proc.stdout.rsplit("JOB=", 1)[1].strip())
    log = LOG_DIR / "qcluster.log"
    cluster = start_cluster(env, log)
    try:
        wait_for(lambda: int(job_row(pk)["series_done"] or 0) >= 2, timeout=120, what="two series done", log=log)
        row = job_row(pk)
        worker_pid = int(row["worker"].rsplit(":", 1)[1])
        os.kill(worker_pid, signal.SIGKILL)  # the process running the job, and only it
        killed_at = time.perf_counter()
        done_at_kill = int(row["series_done"])
        # The operator restarts the worker service once its heartbeat has gone stale (3 x 1 s).
        time.sleep(3.5)
        stop_cluster(cluster)
        cluster = start_cluster(env, log)
        wait_for(
            lambda: job_row(pk)["status"] in ("completed", "failed"), timeout=300, what="the job to finish", log=log
        )
        seconds = time.perf_counter() - killed_at
    finally:
        stop_cluster(cluster)
    final = job_row(pk)
    runs = psql(f"SELECT COUNT(*), COUNT(DISTINCT product_id) FROM forecast_run_audits WHERE job_id = {pk}")  # noqa: S608
    total, distinct = (int(x) for x in runs.split("|"))
    results = int(psql(f"SELECT COUNT(*) FROM forecasts f JOIN forecast_run_audits r ON r.id = f.run_id "  # noqa: S608
                       f"WHERE r.job_id = {pk}"))  # fmt: skip
    figures = {"series": ARGS.series, "series_done_at_kill": done_at_kill, "status": final["status"],
               "attempt": int(final["attempt"]), "kill_to_completion_seconds": round(seconds, 2),
               "runs": total, "duplicate_runs": total - distinct, "forecast_rows": results}  # fmt: skip
    ok = (final["status"] == "completed" and distinct == ARGS.series and total == distinct
          and results == ARGS.series * 3)  # fmt: skip
    line("worker", ok, f"SIGKILL of the worker pid after {done_at_kill}/{ARGS.series} series; restarted; "
                       f"{final['status']} {seconds:.2f} s after the kill (attempt {final['attempt']}); "
                       f"duplicates {total - distinct}; forecast rows {results}/{ARGS.series * 3}")  # fmt: skip
    return ok, figures


# Drills b and c ------------------------------------------------------------------------------------


def drill_outage(server, seeded, proxy) -> tuple[bool, dict]:
    figures = faultkit.outage_drill(
        server, seeded, outages={REFUSE: lambda: proxy.cut(REFUSE), BLACKHOLE: lambda: proxy.cut(BLACKHOLE)},
        restore=proxy.restore,
    )  # fmt: skip
    ok = figures["before"] == {"ready": 200, "api": 200, "console": 200} and figures["same_workers"]
    for mode in (REFUSE, BLACKHOLE):
        o = figures[mode]
        good = (o["ready_status"] == 503 and o["ready_seconds"] <= READY_LIMIT_SECONDS and o["api_status"] == 503
                and o["api_code"] == "SERVICE_UNAVAILABLE" and o["console_status"] == 503
                and o["console_request_id_shown"]
                and (o["after_ready"], o["after_api"], o["after_console"]) == (200, 200, 200))  # fmt: skip
        ok = ok and good
        line(f"outage:{mode}", good,
             f"/ready {o['ready_status']} in {o['ready_seconds']:.3f} s (limit {READY_LIMIT_SECONDS:.0f} s); "
             f"API {o['api_status']} {o['api_code']} in {o['api_seconds']:.3f} s; console {o['console_status']} in "
             f"{o['console_seconds']:.3f} s; back to 200 {o['recovery_seconds']:.3f} s after the restore "
             f"(API {o['after_api']}, console {o['after_console']})")  # fmt: skip
    line("outage", ok, f"same gunicorn worker processes before and after: {figures['same_workers']}")
    return ok, figures


def drill_concurrency(server, seeded) -> tuple[bool, dict]:
    figures = faultkit.concurrent_edit_drill(server, seeded, clients=ARGS.clients, increments=ARGS.increments)
    figures["audit_rows"] = faultkit.update_audit_rows(env_for(DIRECT_URL), seeded["plan_id"])
    n = figures["ok"]
    ok = (figures["errors"] == 0 and figures["gave_up"] == 0 and n == ARGS.clients * ARGS.increments
          and figures["final_qty"] == n and figures["version_numbers"] == list(range(1, n + 2))
          and figures["audit_rows"] == n)  # fmt: skip
    line("concurrency", ok,
         f"{ARGS.clients} clients, {n} writes accepted, {figures['stale']} refused 409 STALE_VERSION and retried, "
         f"{figures['errors']} errors; final value {figures['final_qty']}, versions {len(figures['version_numbers'])}"
         f" (1..{figures['final_version']}), update audit rows {figures['audit_rows']}; lost updates "
         f"{n - figures['final_qty']}; {figures['seconds']:.2f} s")  # fmt: skip
    return ok, figures


# Drill d ----------------------------------------------------------------------------------------------


def counts() -> dict:
    row = psql(
        "SELECT (SELECT COUNT(*) FROM demand_plans), (SELECT COALESCE(SUM(version), 0) FROM demand_plans), "
        "(SELECT COUNT(*) FROM products), "
        "(SELECT COUNT(*) FROM audit_events WHERE event_type <> 'planning.integration_batch.completed')"
    )
    plans, versions, products, audit = (int(x) for x in row.split("|"))
    return {"plan_rows": plans, "version_sum": versions, "products": products, "audit_rows": audit}


def refuse_in_database(table: str, column: str, on: bool) -> None:
    name = f"gx_fault_refuse_{table}"
    if on:
        psql(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
             f"'refused by the database' USING ERRCODE = 'check_violation'; END $$; "
             f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
             f"WHEN (NEW.{column} = '{REFUSED}') EXECUTE FUNCTION {name}()")  # fmt: skip
    else:
        psql(f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}()")


def drill_batches(server, seeded) -> tuple[bool, dict]:
    months = [f"2031-{m:02d}" for m in range(1, 7)]
    good_rows = [f"DRILL-1,{m},{10 + i},drill" for i, m in enumerate(months)]
    products = [{"sku": f"SYNC-{i}", "name": f"Synced {i}", "category": "Drill"} for i in range(1, 7)]
    malformed_items = [{"sku": "BAD-1"}, {"sku": "BAD-2", "name": "Bad", "unit_cost": "-3"}, "not an object"]
    import_url = f"{server.url}/api/v1/demand/plans/import"
    sync_url = f"{server.url}/api/v1/integrations/erp/products/sync"
    planner = {"Authorization": f"Bearer {seeded['token']}"}
    erp = {"Authorization": f"Bearer {seeded['admin_token']}"}
    results, ok = {}, True

    def run_import(name: str, rows: list[str], atomic: bool = True):
        content = ("sku,period,forecast_qty,notes\n" + "\n".join(rows) + "\n").encode()
        reply = faultkit.upload(import_url, headers=planner, filename=f"{name}.csv", content=content,
                                fields={"mode": "apply", "atomic": str(atomic).lower(), "force": "true"})  # fmt: skip
        return reply

    def run_sync(name: str, items: list, atomic: bool):
        meta = {"source_system": "DRILL", "idempotency_key": name, "atomic": atomic}
        return faultkit.http(sync_url, method="POST", headers=erp, body={"meta": meta, "items": items})

    def scenario(name: str, call, expect) -> None:
        nonlocal ok
        before = counts()
        reply = call()
        after = counts()
        try:
            body = reply.json()
        except ValueError:
            body = {}
        delta = {k: after[k] - before[k] for k in after}
        good = expect(reply, body, delta)
        ok = ok and good
        results[name] = {"ok": good, "status": reply.status, "batch_status": body.get("status"), "delta": delta}
        line(f"batches:{name}", good, f"HTTP {reply.status} batch {body.get('status')}; change in plan rows "
                                      f"{delta['plan_rows']}, versions {delta['version_sum']}, products "
                                      f"{delta['products']}, audit rows {delta['audit_rows']}")  # fmt: skip

    nothing = {"plan_rows": 0, "version_sum": 0, "products": 0, "audit_rows": 0}
    mid = len(good_rows) // 2
    bad_rows = ["DRILL-1,2031-13,5,bad period", "DRILL-1,2032-01,lots,bad number", "NOPE-9,2032-02,1,unknown sku"]
    scenario("import-malformed-atomic", lambda: run_import("m1", [*good_rows[:mid], *bad_rows, *good_rows[mid:]]),
             lambda r, b, d: r.status == 201 and b.get("status") == "failed" and d == nothing)  # fmt: skip
    scenario("sync-malformed-atomic", lambda: run_sync("s1", [*products[:3], *malformed_items, *products[3:]], True),
             lambda r, b, d: r.status == 200 and b.get("status") == "failed" and d == nothing)  # fmt: skip
    n_valid = len(products) - 2
    scenario("sync-malformed-per-item",
             lambda: run_sync("s2", [*products[:2], *malformed_items, *products[2:4]], False),
             lambda r, b, d: r.status == 200 and b.get("status") == "partial"
             and d == {**nothing, "products": n_valid, "audit_rows": n_valid})  # fmt: skip
    refused_rows = [*good_rows[:mid], f"DRILL-1,2032-03,7,{REFUSED}", *good_rows[mid:]]
    refused_items = [{"sku": "SYNC-9", "name": "Synced 9", "category": "Drill"},
                     {"sku": "SYNC-X", "name": REFUSED, "category": "Drill"},
                     {"sku": "SYNC-10", "name": "Synced 10", "category": "Drill"}]  # fmt: skip
    refuse_in_database("demand_plans", "notes", True)
    try:
        scenario("import-db-refusal-atomic", lambda: run_import("r1", refused_rows),
                 lambda r, b, d: r.status in (201, 409) and d == nothing)  # fmt: skip
    finally:
        refuse_in_database("demand_plans", "notes", False)
    refuse_in_database("products", "name", True)
    try:
        scenario("sync-db-refusal-atomic", lambda: run_sync("r2", refused_items, True),
                 lambda r, b, d: r.status == 200 and b.get("status") == "failed" and d == nothing)  # fmt: skip
        scenario("sync-db-refusal-per-item", lambda: run_sync("r3", refused_items, False),
                 lambda r, b, d: r.status == 200 and b.get("status") == "partial"
                 and d == {**nothing, "products": 2, "audit_rows": 2})  # fmt: skip
    finally:
        refuse_in_database("products", "name", False)
    failed = sum(1 for r in results.values() if not r["ok"])
    line("batches", ok, f"{len(results)} scenarios, {failed} with a write other than the contract's")
    return ok, results


def main() -> int:
    only = set(ARGS.only or ["worker", "outage", "concurrency", "batches"])
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"fault drills on {ARGS.db} (PostgreSQL), host load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} CPUs; logs in {LOG_DIR}", flush=True)  # fmt: skip
    started = time.perf_counter()
    recreate_database()
    figures, ok = {}, True
    try:
        seeded = faultkit.seed(env_for(DIRECT_URL))
        if "worker" in only:
            passed, figures["worker"] = drill_worker()
            ok = ok and passed
        if only & {"outage", "concurrency", "batches"}:
            target = (PG_HOST or "127.0.0.1", int(PG_PORT or 5432))
            with TcpProxy(listen_port=ARGS.proxy_port, target=target) as proxy, faultkit.served(
                env=env_for(PROXIED_URL), port=ARGS.port, log_path=LOG_DIR / "gunicorn.log",
                threads=max(4, ARGS.clients // 2),
            ) as server:  # fmt: skip
                if "outage" in only:
                    passed, figures["outage"] = drill_outage(server, seeded, proxy)
                    ok = ok and passed
                if "concurrency" in only:
                    passed, figures["concurrency"] = drill_concurrency(server, seeded)
                    ok = ok and passed
                if "batches" in only:
                    passed, figures["batches"] = drill_batches(server, seeded)
                    ok = ok and passed
    finally:
        if not ARGS.keep:
            psql(f'DROP DATABASE IF EXISTS "{ARGS.db}" WITH (FORCE)', database="postgres")
    print(f"result: {'PASS' if ok else 'FAIL'} ({time.perf_counter() - started:.0f} s in all)", flush=True)
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
