"""Throughput of the ERP sync batch engine on the configured database (not a test).

Creates `--rows / --locations` products and `--locations` locations (prefix BENCH), then runs an
inventory sync of every product x location and a demand actuals sync of every product x month
through `run_batch` in chunks of `--chunk` items, twice each (first pass creates, second updates),
and prints rows/s per pass and the peak RSS. Run it on a scratch database: it leaves its rows behind.

    DATABASE_URL=postgres://... .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://... .venv/bin/python bench/erp_sync.py --rows 100000
"""

import argparse
import datetime
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


def _run(actor, operation: str, items: list[dict], chunk: int, label: str) -> None:
    run = uuid.uuid4().hex[:8]
    totals = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
    started = time.perf_counter()
    for n, start in enumerate(range(0, len(items), chunk)):
        part = items[start : start + chunk]
        _, body, _ = run_batch(actor=actor, operation=operation, channel="api", items=part,
                               meta={"source_system": "bench", "idempotency_key": f"{run}-{n}"})  # fmt: skip
        for key in totals:
            totals[key] += body[key]
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<28} {len(items):>8} rows {elapsed:8.1f} s {len(items) / elapsed:9.0f} rows/s  "
          f"peak RSS {peak_mb:7.0f} MB  {totals}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per sync (default 100000)")
    parser.add_argument("--locations", type=int, default=20, help="locations; products = rows / locations")
    parser.add_argument("--months", type=int, default=20, help="months of actuals; products x months = rows")
    parser.add_argument("--chunk", type=int, default=None, help="items per call (default INTEGRATION_MAX_ITEMS)")
    args = parser.parse_args()
    chunk = args.chunk or settings.INTEGRATION_MAX_ITEMS
    n_products = max(args.rows // args.locations, 1)
    print(f"database {connection.vendor}, {n_products} products x {args.locations} locations, chunks of {chunk}")
    with cli_context():
        actor = _actor()
        started = time.perf_counter()
        skus, codes = _catalog(n_products, args.locations)
        print(f"catalog ready in {time.perf_counter() - started:.1f} s")
        inventory = [{"sku": s, "location": c, "on_hand_qty": (i * 7) % 500, "allocated_qty": i % 5}
                     for i, (s, c) in enumerate((s, c) for s in skus for c in codes)]  # fmt: skip
        _run(actor, "inventory_sync", inventory, chunk, "inventory sync (pass 1)")
        for item in inventory:
            item["on_hand_qty"] += 1
        _run(actor, "inventory_sync", inventory, chunk, "inventory sync (pass 2)")
        months = _months_back(max(args.rows // n_products, 1))
        actuals = [{"sku": s, "period": m, "actual_qty": (i * 13) % 900} for i, (s, m) in
                   enumerate((s, m) for s in skus for m in months)]  # fmt: skip
        _run(actor, "demand_actuals_sync", actuals, chunk, "demand actuals (pass 1)")
        for item in actuals:
            item["actual_qty"] += 1
        _run(actor, "demand_actuals_sync", actuals, chunk, "demand actuals (pass 2)")


if __name__ == "__main__":
    main()
