"""Interactive forecasting latency on the configured database (not a test; FC-81).

Creates one product (prefix BENCHFC) with `--months` months of demand actuals, then times
`--repeat` calls of each:

- `forecast_generate` with automatic selection (every core model backtested, history read and the
  run, its rows and its audit event written, each call in its own transaction);
- `forecast_compute` alone (history read + engine, no writes), to split engine from database time;
- `forecast_compare` for the same series with the default models (the model-comparison endpoint).

Prints median and p95 in ms for each and the peak RSS. Goals: re-forecast <= 300 ms, comparison
<= 1 s. Run it on a scratch, migrated database: it leaves its rows behind.

    DATABASE_URL=sqlite:////tmp/gx_bench.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/gx_bench.sqlite3 .venv/bin/python bench/forecast_interactive.py
"""

import argparse
import math
import os
import resource
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genxsop.settings.base")

import django

django.setup()

from django.conf import settings  # noqa: E402

from forecasting.series import SeriesKey, add_months, last_closed_month  # noqa: E402
from forecasting.services import forecast_compare, forecast_compute, forecast_generate  # noqa: E402
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


def _product(months: int) -> Product:
    """A product with `months` months of seasonal, trending actuals ending in the last closed month."""
    sku = f"{PREFIX}-{months:03d}"
    category = Category.objects.filter(name=PREFIX, parent=None).first() or Category.objects.create(name=PREFIX)
    product = Product.objects.filter(sku=sku).first() or Product.objects.create(sku=sku, name=sku, category=category)
    end = last_closed_month()
    DemandPlan.objects.filter(product=product).delete()
    DemandPlan.objects.bulk_create(
        DemandPlan(product=product, period=add_months(end, i - months + 1), forecast_qty=Decimal("0"),
                   actual_qty=Decimal(str(round(200 + 2 * i + 40 * math.sin(2 * math.pi * i / 12)
                                                 + 15 * math.sin(i * 1.7), 2))))
        for i in range(months)
    )  # fmt: skip
    return product


def _time(label: str, fn, repeat: int) -> list[float]:
    """Wall-clock samples in ms; the CPU time of this process is printed too, since a busy host
    inflates wall time (the figures of FC-81 are for an otherwise idle 2-core machine)."""
    fn()  # warm-up: imports, first query plans
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, math.ceil(0.95 * len(samples)) - 1)]
    print(f"{label:<42} median {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms   "
          f"cpu median {statistics.median(cpu):8.1f} ms   (n={repeat})")  # fmt: skip
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--horizon", type=int, default=settings.FORECAST_DEFAULT_HORIZON)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    load = os.getloadavg()[0]
    print(f"database: {engine}; {args.months} months of history; horizon {args.horizon}; cpus {os.cpu_count()}; "
          f"load {load:.1f}")  # fmt: skip
    with cli_context():
        actor = _actor()
        product = _product(args.months)
        key = SeriesKey(product.pk)
        h = args.horizon
        generate = _time("forecast_generate (auto, DB read + write)",
                         lambda: forecast_generate(actor=actor, product=product, horizon=h), args.repeat)  # fmt: skip
        _time("forecast_compute (auto, DB read, no write)",
              lambda: forecast_compute([key], horizon=h), args.repeat)  # fmt: skip
        compare = _time("forecast_compare (default models)",
                        lambda: forecast_compare(actor=actor, product=product, horizon=h), args.repeat)  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    ok = statistics.median(generate) <= 300 and statistics.median(compare) <= 1000
    print(f"goals (re-forecast <= 300 ms, comparison <= 1 s, medians): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
