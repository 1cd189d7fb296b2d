"""Throughput of the ERP sync batch engine on the configured database (not a test).

Creates `--rows / --locations` products and `--locations` locations (prefix BENCH), then runs an
inventory sync of every product x location and a demand actuals sync of every product x month
through `run_batch` in chunks of `--chunk` items, twice each (first pass creates, second updates),
and prints per pass the rows/s, the CPU seconds of this process and its peak RSS during the pass (the
items of each call are generated just before it, so memory should not grow with `--rows`). Run it on
a scratch database: it leaves its rows behind.

    DATABASE_URL=postgres://... .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://... .venv/bin/python bench/erp_sync.py --rows 100000
"""

import argparse
import contextlib
import datetime
import gc
import os
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genxsop.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from genxsop.context import cli_context  # noqa: E402
from governance.choices import Role  # noqa: E402
from governance.models import User  # noqa: E402
from governance.services import user_create  # noqa: E402
from planning.integrations.batch import run_batch  # noqa: E402
from planning.models import Category, Location, Product  # noqa: E402

PREFIX = "BENCH"


def _actor() -> User:
    email = "bench-sync@genxsop.local"
    user = User.objects.filter(email=email).first()
    return user or user_create(actor=None, email=email, full_name="Sync benchmark", role=Role.SOP_COORDINATOR)


def _catalog(n_products: int, n_locations: int) -> tuple[list[str], list[str]]:
    category = Category.objects.filter(name=PREFIX, parent=None).first() or Category.objects.create(name=PREFIX)
    skus = [f"{PREFIX}-{i:07d}" for i in range(n_products)]
    codes = [f"{PREFIX}{j:03d}" for j in range(n_locations)]
    have = set(Product.objects.filter(sku__in=skus).values_list("sku", flat=True))
    Product.objects.bulk_create([Product(sku=s, name=s, category=category, unit_cost="3.50") for s in skus
                                 if s not in have], batch_size=2000)  # fmt: skip
    have = set(Location.objects.filter(code__in=codes).values_list("code", flat=True))
    Location.objects.bulk_create([Location(code=c, name=c) for c in codes if c not in have])
    return skus, codes


def _months_back(n: int) -> list[str]:
    month = timezone.localdate().replace(day=1)
    out = []
    for _ in range(n):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        out.append(month.strftime("%Y-%m"))
    return out


def _reset_peak_rss() -> None:
    """Linux: restart the peak-RSS counter (VmHWM) so each pass reports its own peak."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # since start, where /proc is missing


def _db_cpu_seconds() -> tuple[int, float] | None:
    """(pid, CPU seconds) of the PostgreSQL backend serving this connection, when it runs on this host (Linux)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _run(actor, operation: str, make_item, keys, chunk: int, label: str) -> None:
    """Sync `make_item(i, key)` for every key, `chunk` items per call, building each call's items just before it."""
    run = uuid.uuid4().hex[:8]
    totals = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    gc.collect()
    _reset_peak_rss()
    started, cpu_started, db_started = time.perf_counter(), time.process_time(), _db_cpu_seconds()
    for n, start in enumerate(range(0, len(keys), chunk)):
        part = [make_item(i, keys[i]) for i in range(start, min(start + chunk, len(keys)))]
        _, body, _ = run_batch(actor=actor, operation=operation, channel="api", items=part,
                               meta={"source_system": "bench", "idempotency_key": f"{run}-{n}"})  # fmt: skip
        for key in totals:
            totals[key] += body[key]
    elapsed, cpu, db_ended = time.perf_counter() - started, time.process_time() - cpu_started, _db_cpu_seconds()
    # On a shared host the wall time depends on the neighbours; the CPU seconds of this process and of its
    # database backend much less, and rows per CPU second (both summed) estimate an unloaded host's rate.
    # Only when one backend served the whole pass (a reconnect would start a new count).
    same = db_started is not None and db_ended is not None and db_started[0] == db_ended[0]
    db_seconds = db_ended[1] - db_started[1] if same else None
    db_cpu = f"{db_seconds:6.1f}" if same else "     -"
    per_cpu = f"{len(keys) / (cpu + db_seconds):6.0f}" if same else "     -"
    print(f"{label:<24} {len(keys):>7} rows {elapsed:7.1f} s {len(keys) / elapsed:7.0f} rows/s  cpu {cpu:6.1f} s  "
          f"db cpu {db_cpu} s  {per_cpu} rows/cpu-s  peak RSS {_peak_rss_mb():5.0f} MB  {totals}",
          flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per sync (default 100000)")
    parser.add_argument("--locations", type=int, default=20, help="locations; products = rows / locations")
    parser.add_argument("--months", type=int, default=20, help="months of actuals; products x months = rows")
    parser.add_argument("--chunk", type=int, default=None, help="items per call (default INTEGRATION_MAX_ITEMS)")
    args = parser.parse_args()
    chunk = args.chunk or settings.INTEGRATION_MAX_ITEMS
    n_products = max(args.rows // args.locations, 1)
    print(f"database {connection.vendor}, {n_products} products x {args.locations} locations, chunks of {chunk}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    with cli_context():
        actor = _actor()
        started = time.perf_counter()
        skus, codes = _catalog(n_products, args.locations)
        print(f"catalog ready in {time.perf_counter() - started:.1f} s")
        pairs = [(s, c) for s in skus for c in codes]
        for n in (1, 2):  # the second pass changes every quantity: all updates

            def stock(i, key, n=n):
                return {"sku": key[0], "location": key[1], "on_hand_qty": (i * 7) % 500 + n - 1, "allocated_qty": i % 5}

            _run(actor, "inventory_sync", stock, pairs, chunk, f"inventory sync (pass {n})")
        months = _months_back(max(args.rows // n_products, 1))
        pairs = [(s, m) for s in skus for m in months]
        for n in (1, 2):

            def actual(i, key, n=n):
                return {"sku": key[0], "period": key[1], "actual_qty": (i * 13) % 900 + n - 1}

            _run(actor, "demand_actuals_sync", actual, pairs, chunk, f"demand actuals (pass {n})")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
