"""API latency under load on PostgreSQL and gunicorn, against a bare Django view as the floor (OPS-60).

Loads the demo portfolio with `--scale N` synthetic products into a fresh database (`gx_load_bench` by
default; `--reuse` keeps an already loaded one), prints its plan row counts, serves it with gunicorn
under production settings and drives each endpoint in turn with `--clients` closed-loop clients on
loopback for `--seconds` seconds (after a warm-up). The first endpoint is `/bench/floor`
(BENCH_FLOOR_VIEW): a constant JSON answer through the same gunicorn worker and middleware stack.

For every endpoint it prints requests, errors, p50/p95/p99 in ms, p95 relative to the floor's p95 and
whether it meets the goal: p95 at most 3x the floor's and under 50 ms, and no error. Exits 1 when an
endpoint has errors (the latency goals are reported, not enforced: the host decides them too).

    .venv/bin/python bench/load.py --scale 3500            # loads the data (about 10 minutes), then runs
    .venv/bin/python bench/load.py --reuse                 # runs against the database already loaded
    # options: --clients 16 --seconds 10 --warmup 2 --workers 2 --threads 1 --processes 4 --only NAME,...
    #          --port 8101 --json FILE --keep (keep the database; it is kept anyway with --reuse)
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

DB_PREFIX = "gx_load_"
FLOOR = "floor"
GOAL_RATIO = 3.0
GOAL_P95_MS = 50.0
# The person whose token every request carries: sees every module and may edit demand plans.
USER = "admin@genxsop.com"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=harness.DEFAULT_SERVER, help="PostgreSQL server URL.")
    parser.add_argument("--database", default=f"{DB_PREFIX}bench")
    parser.add_argument("--scale", type=int, default=3500, help="load_demo --scale (synthetic products).")
    parser.add_argument("--reuse", action="store_true", help="Use the database as it is when it holds the demo.")
    parser.add_argument("--keep", action="store_true", help="Keep the database at the end.")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="Measured seconds per endpoint.")
    parser.add_argument("--warmup", type=float, default=2.0, help="Unmeasured seconds before each endpoint.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--threads", type=int, default=1, help="Threads per worker (> 1: the gthread worker).")
    parser.add_argument("--processes", type=int, default=4, help="Client processes the clients are spread over.")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--only", default="", help="Comma list of endpoint names to run (the floor always runs).")
    parser.add_argument("--json", metavar="FILE", help="Also write the figures as JSON.")
    parser.add_argument("--cache-url", default="", help="CACHE_URL of the server (default: its own, db://).")
    args = parser.parse_args()
    if not args.database.startswith(DB_PREFIX):
        parser.error(f"the bench drops its database, so its name must start with {DB_PREFIX}")
    return args


# Data ------------------------------------------------------------------------------------------


def prepare(args, db: harness.Database) -> dict[str, int]:
    """Load the demo unless `--reuse` finds it loaded; returns the core row counts."""
    loaded = args.reuse and db.exists() and db.query("SELECT to_regclass('public.demand_plans') IS NOT NULL") == "t"
    if loaded and db.count("demand_plans"):
        print(f"reusing {db.name}")
    else:
        print(f"loading the demo with --scale {args.scale} into {db.name} (takes a while)", flush=True)
        started = time.monotonic()
        db.recreate()
        env = harness.setup_env(db.url)
        harness.manage("migrate", "-v0", env=env)
        harness.manage("load_demo", "--scale", str(args.scale), env=env)
        print(f"loaded in {time.monotonic() - started:.0f} s")
    # Fresh statistics and visibility map: a bulk load leaves the planner guessing and index-only scans
    # visiting the heap until autovacuum gets to it.
    db.query("VACUUM ANALYZE")
    counts = {t: db.count(t) for t in ("products", "locations", "demand_plans", "supply_plans", "inventory")}
    counts["plan_rows"] = counts["demand_plans"] + counts["supply_plans"]
    return counts


def ids(db: harness.Database, sql: str) -> list[int]:
    out = [int(x) for x in db.query(sql).split()]
    if not out:
        raise SystemExit(f"no rows for: {sql}")
    return out


@dataclass
class Rows:
    products: list[int]
    demand: list[int]
    supply: list[int]
    inventory: list[int]
    editable_demand: list[int]
    with_exceptions: list[int]
    with_consensus: list[int]
    with_results: list[int]


def sample_rows(db: harness.Database) -> Rows:
    """Random ids for detail and write requests (current rows; drafts for the edits)."""
    return Rows(
        products=ids(db, "SELECT id FROM products ORDER BY random() LIMIT 2000"),
        demand=ids(db, "SELECT id FROM demand_plans WHERE is_current ORDER BY random() LIMIT 2000"),
        supply=ids(db, "SELECT id FROM supply_plans WHERE is_current ORDER BY random() LIMIT 2000"),
        inventory=ids(db, "SELECT id FROM inventory ORDER BY random() LIMIT 2000"),
        # Drafts stay drafts when their quantity changes (WF-10), so the edits can repeat.
        editable_demand=ids(db, "SELECT id FROM demand_plans WHERE is_current AND status = 'draft' ORDER BY id"),
        # Few products have these rows; filtering by one that has none would time an empty answer.
        with_exceptions=ids(
            db,
            "SELECT DISTINCT i.product_id FROM inventory_policy_exceptions e JOIN inventory i ON i.id = e.inventory_id",
        ),
        with_consensus=ids(db, "SELECT DISTINCT product_id FROM forecast_consensus"),
        with_results=ids(db, "SELECT DISTINCT product_id FROM forecasts"),
    )


def endpoints(rows: Rows) -> list[harness.Request]:
    def pick(values: list[int], template: str):
        return lambda rng: template.format(rng.choice(values))

    def adjust(rng: random.Random) -> dict:
        return {"adjusted_qty": f"{rng.randint(10, 5000)}.00", "change_reason": "load bench"}

    R = harness.Request
    return [
        R(FLOOR, "GET", "/bench/floor"),
        R("api root (auth)", "GET", "/api/v1/"),
        R("products list", "GET", "/api/v1/products"),
        R("products detail", "GET", pick(rows.products, "/api/v1/products/{}")),
        R("demand plans list", "GET", "/api/v1/demand/plans"),
        R("demand plans by product", "GET", pick(rows.products, "/api/v1/demand/plans?product_id={}")),
        R("demand plan detail", "GET", pick(rows.demand, "/api/v1/demand/plans/{}")),
        R("supply plans list", "GET", "/api/v1/supply/plans"),
        R("supply plan detail", "GET", pick(rows.supply, "/api/v1/supply/plans/{}")),
        R("inventory list", "GET", "/api/v1/inventory"),
        R("inventory detail", "GET", pick(rows.inventory, "/api/v1/inventory/{}")),
        R("inventory exceptions", "GET", "/api/v1/inventory/exceptions"),
        R(
            "inventory exceptions by product",
            "GET",
            pick(rows.with_exceptions, "/api/v1/inventory/exceptions?product_id={}"),
        ),
        R("consensus list", "GET", "/api/v1/forecasting/consensus"),
        R("consensus by product", "GET", pick(rows.with_consensus, "/api/v1/forecasting/consensus?product_id={}")),
        R("forecast results", "GET", "/api/v1/forecasting/results"),
        R("forecast results by product", "GET", pick(rows.with_results, "/api/v1/forecasting/results?product_id={}")),
        R("dashboard summary", "GET", "/api/v1/dashboard/summary"),
        R("dashboard alerts", "GET", "/api/v1/dashboard/alerts"),
        R("dashboard kpi overview", "GET", "/api/v1/dashboard/kpi-overview"),
        R("kpi summary", "GET", "/api/v1/kpi/summary"),
        R("notifications unread", "GET", "/api/v1/notifications/unread-count"),
        R("demand plan update", "PATCH", pick(rows.editable_demand, "/api/v1/demand/plans/{}"), body=adjust),
    ]


# Run -------------------------------------------------------------------------------------------


def verdict(stats: dict, floor_p95: float) -> tuple[float, str]:
    ratio = stats["p95_ms"] / floor_p95 if floor_p95 else math.nan
    misses = []
    if stats["errors"]:
        misses.append("errors")
    if not stats["requests"]:
        misses.append("no answer in the window")
    if not ratio <= GOAL_RATIO:
        misses.append(f">{GOAL_RATIO:g}x floor")
    if not stats["p95_ms"] < GOAL_P95_MS:
        misses.append(f">={GOAL_P95_MS:g} ms")
    return ratio, "ok" if not misses else "MISS: " + ", ".join(misses)


def main() -> int:
    args = parse_args()
    db = harness.Database(DB_PREFIX, args.database, args.server)
    counts = prepare(args, db)
    print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if counts["plan_rows"] < 300_000:
        print(f"note: {counts['plan_rows']:,} plan rows, fewer than the 300,000 the bench is meant for")
    rows = sample_rows(db)
    mix = endpoints(rows)
    if args.only:
        wanted = {n.strip() for n in args.only.split(",")}
        mix = [r for r in mix if r.name == FLOOR or r.name in wanted]
    cache = {"CACHE_URL": args.cache_url} if args.cache_url else {}
    env = harness.ProductionEnv(db.url, {"BENCH_FLOOR_VIEW": "true", **cache})
    server = harness.Gunicorn(env, port=args.port, workers=args.workers, threads=args.threads)
    results = {}
    try:
        server.start()
        token = harness.login_token(server.base_url, USER)
        headers = harness.auth_headers(token)
        print(f"{server.description}, {args.clients} clients in {args.processes} process(es), "
              f"{args.seconds:g} s per endpoint after {args.warmup:g} s warm-up", flush=True)  # fmt: skip
        for request in mix:
            result = harness.run_load(server.base_url, [request], clients=args.clients, seconds=args.seconds,
                                      warmup=args.warmup, headers=headers, processes=args.processes)  # fmt: skip
            # No request finished inside the window: every figure is missing, which the goal check reports.
            nan = math.nan
            stats = result.summary().get(request.name) or {
                "requests": 0, "errors": 0, "error_rate": 0.0, "rps": 0.0,
                "p50_ms": nan, "p95_ms": nan, "p99_ms": nan, "mean_ms": nan, "max_ms": nan,
            }  # fmt: skip
            stats["error_examples"] = result.errors.get(request.name, [])[:3]
            stats["statuses"] = result.statuses.get(request.name, {})
            results[request.name] = stats
            print(f"  {request.name}: {stats['requests']} requests, p95 {stats['p95_ms']:.1f} ms", flush=True)
    finally:
        server.stop()
        if not args.keep and not args.reuse:
            db.drop()

    floor_p95 = results[FLOOR]["p95_ms"]
    table = []
    for name, stats in results.items():
        ratio, mark = verdict(stats, floor_p95)
        stats["ratio_to_floor_p95"] = ratio
        stats["goal"] = mark
        table.append([name, stats["requests"], f"{stats['rps']:.0f}", stats["errors"],
                      stats["p50_ms"], stats["p95_ms"], stats["p99_ms"], f"{ratio:.2f}", mark])  # fmt: skip
    print()
    print(harness.format_table(table, ["endpoint", "requests", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms",
                                       "p95/floor", "goal"]))  # fmt: skip
    total = sum(s["requests"] for s in results.values())
    errors = sum(s["errors"] for s in results.values())
    print(f"\nerror rate {errors}/{total} = {errors / total if total else 0:.4%}; floor p95 {floor_p95:.1f} ms; "
          f"goal: p95 <= {GOAL_RATIO:g}x floor and < {GOAL_P95_MS:g} ms, 0 errors")  # fmt: skip
    for name, stats in results.items():
        for example in stats["error_examples"]:
            print(f"  error in {name}: {example}")
    if args.json:
        conditions = {"clients": args.clients, "seconds": args.seconds, "warmup": args.warmup,
                      "server": server.description, "processes": args.processes, "rows": counts,
                      "cache_url": args.cache_url or env.get("CACHE_URL", "db://")}  # fmt: skip
        Path(args.json).write_text(json.dumps({"conditions": conditions, "endpoints": results}, indent=2, default=str))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
