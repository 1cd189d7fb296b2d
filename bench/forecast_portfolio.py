"""A portfolio forecast job (FC-81): `--products` product totals with `--months` of history, one batch job.

Builds the portfolio once (products BENCHFC-*, demand actuals bulk-inserted straight into
`demand_plans`), queues one `batch_generate` job through `forecast_job_create` and runs it through
the real job path: in process by default (the task function a worker would call), or on a real
`manage.py qcluster` with `--worker`. Prints wall time, series/s, peak RSS (children included) and
the runs and result rows written. `--profile` prints the top of a cProfile of an in-process run.
Run it on a scratch database: it leaves its rows behind.

    createdb gx_bench_fc
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/gx_bench_fc
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/forecast_portfolio.py --products 10000 --months 36
"""

import argparse
import cProfile
import os
import pstats
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genxsop.settings.base")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402

from forecasting import tasks  # noqa: E402
from forecasting.models import Forecast, ForecastJob, ForecastRun  # noqa: E402
from forecasting.series import add_months, last_closed_month  # noqa: E402
from forecasting.services.jobs import forecast_job_create  # noqa: E402
from genxsop.context import cli_context  # noqa: E402
from governance.choices import Role  # noqa: E402
from governance.models import User  # noqa: E402
from governance.services import user_create  # noqa: E402
from planning.models import Category, DemandPlan, Product  # noqa: E402

PREFIX = "BENCHFC"


def _actor() -> User:
    email = "bench-forecast@genxsop.local"
    user = User.objects.filter(email=email).first()
    return user or user_create(actor=None, email=email, full_name="Forecast benchmark", role=Role.DEMAND_PLANNER)


def _histories(n: int, months: int, seed: int = 7) -> np.ndarray:
    """Smooth, trending, seasonal, noisy and intermittent series in realistic proportions (n x months)."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    level = rng.lognormal(4.5, 1.0, size=(n, 1))
    trend = rng.normal(0, 0.01, size=(n, 1)) * level * t
    season = rng.uniform(0, 0.3, size=(n, 1)) * level * np.sin(2 * np.pi * (t + rng.integers(0, 12, (n, 1))) / 12)
    noise = rng.normal(0, 0.15, size=(n, months)) * level
    values = np.maximum(level + trend + season + noise, 0)
    sparse = rng.random(n) < 0.2  # a fifth intermittent: most months without demand
    values[sparse] *= rng.random((int(sparse.sum()), months)) < 0.3
    return np.round(values, 2)


def build_portfolio(n: int, months: int) -> list[int]:
    started = time.perf_counter()
    category = Category.objects.filter(name=PREFIX, parent=None).first() or Category.objects.create(name=PREFIX)
    skus = [f"{PREFIX}-{i:06d}" for i in range(n)]
    have = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
    Product.objects.bulk_create([Product(sku=s, name=s, category=category, unit_cost="3.50") for s in skus
                                 if s not in have], batch_size=5000)  # fmt: skip
    ids = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))
    product_ids = [ids[s] for s in skus]
    end = last_closed_month()
    periods = [add_months(end, i - months + 1) for i in range(months)]
    with_history = set(
        DemandPlan.objects.filter(product_id__in=product_ids, period=periods[0]).values_list("product_id", flat=True)
    )
    todo = [pid for pid in product_ids if pid not in with_history]
    if todo:
        values = _histories(len(todo), months)
        rows = (
            DemandPlan(product_id=pid, period=p, forecast_qty=Decimal("0"), actual_qty=Decimal(str(values[r, c])))
            for r, pid in enumerate(todo)
            for c, p in enumerate(periods)
        )
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 10000:
                DemandPlan.objects.bulk_create(batch)
                batch = []
        if batch:
            DemandPlan.objects.bulk_create(batch)
    print(f"portfolio: {n} products x {months} months ready in {time.perf_counter() - started:.1f} s "
          f"({len(todo) * months} history rows inserted)")  # fmt: skip
    return product_ids


def _peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def run_in_process(job: ForecastJob, profile: bool) -> str:
    if not profile:
        return tasks.run_forecast_job(job.pk)
    profiler = cProfile.Profile()
    status = profiler.runcall(tasks.run_forecast_job, job.pk)
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(35)
    stats.sort_stats("tottime").print_stats(25)
    return status


def run_on_worker(job: ForecastJob) -> str:
    env = {**os.environ, "Q_WORKERS": os.environ.get("Q_WORKERS", "1")}
    argv = [sys.executable, str(ROOT / "manage.py"), "qcluster"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    cluster = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True, **quiet)
    try:
        while True:
            job.refresh_from_db()
            if job.status in ("completed", "failed", "cancelled"):
                return job.status
            time.sleep(1)
    finally:
        cluster.terminate()
        cluster.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument("--worker", action="store_true", help="run the job on a real qcluster (Q_WORKERS=1)")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process run")
    args = parser.parse_args()
    print(f"database {connection.vendor}, {os.cpu_count()} CPUs")
    with cli_context():
        actor = _actor()
        product_ids = build_portfolio(args.products, args.months)
        job, _ = forecast_job_create(actor=actor, product_ids=product_ids, horizon=args.horizon)
    if not args.worker:
        from django_q.models import OrmQ

        # The in-process run replaces the worker: drop the queued hand-over so no cluster runs it later.
        OrmQ.objects.filter(pk__in=[q.pk for q in OrmQ.objects.all() if q.name() == job.task_id]).delete()
    started = time.perf_counter()
    status = run_on_worker(job) if args.worker else run_in_process(job, args.profile)
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    runs = ForecastRun.objects.filter(job=job).count()
    rows = Forecast.objects.filter(run__job=job).count()
    own, children = _peak_rss_mb()
    print(f"job {job.job_id}: {status}; {job.series_done} done, {job.series_failed} failed of {job.series_total}")
    print(f"wall time {elapsed:.1f} s, {job.series_total / elapsed:.1f} series/s; runs {runs}, result rows {rows}; "
          f"peak RSS {own:.0f} MB (bench process), {children:.0f} MB (largest child)")  # fmt: skip


if __name__ == "__main__":
    main()
