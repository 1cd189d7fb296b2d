"""Forecast value added on the demo data (FC-82), not a test.

Loads the demo data set when it is missing (`load_demo`, which backfills 12 months of runs,
consensus and accuracy points), then prints the pooled WAPE, MAE and bias of the naive,
statistical and consensus layers over the last 12 closed months at lag 1 and lag 3, twice: over
every point of each layer, and over the points where all three layers exist (FRM-27 stair-step).
FC-82 holds when the statistical layer's lag-1 WAPE is below the naive layer's (FVA >= 0).

    DATABASE_URL=sqlite:////tmp/gx_fva.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/gx_fva.sqlite3 .venv/bin/python bench/forecast_value_added.py
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "genxsop.settings.base")

import django

django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from forecasting import accuracy  # noqa: E402
from forecasting.models import ForecastAccuracyPoint  # noqa: E402
from forecasting.series import add_months, last_closed_month  # noqa: E402
from planning import demo  # noqa: E402
from planning.models import Product  # noqa: E402

LAYERS = accuracy.FVA_ORDER


def pooled(frame: pd.DataFrame) -> dict[str, dict]:
    out = {}
    for layer in LAYERS:
        f = frame[frame["layer"] == layer]
        a, e = f["actual_qty"].to_numpy(), (f["forecast_qty"] - f["actual_qty"]).to_numpy()
        denom = np.abs(a).sum()
        out[layer] = {
            "points": len(f),
            "wape": np.abs(e).sum() / denom * 100 if denom else float("nan"),
            "mae": np.abs(e).mean() if len(f) else float("nan"),
            "bias": e.sum() / denom * 100 if denom else float("nan"),
        }
    return out


def show(title: str, stats: dict[str, dict]) -> None:
    print(f"  {title}")
    previous = None
    for layer in LAYERS:
        s = stats[layer]
        fva = "" if previous is None else f"  FVA vs previous {previous - s['wape']:+.2f} pp"
        print(f"    {layer:<12} points {s['points']:>5}  WAPE {s['wape']:7.2f} %  MAE {s['mae']:9.2f}  "
              f"bias {s['bias']:+7.2f} %{fva}")  # fmt: skip
        previous = s["wape"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12, help="closed months measured (default 12)")
    parser.add_argument("--by-product", action="store_true", help="also list lag-1 WAPE per product")
    args = parser.parse_args()

    started = time.monotonic()
    report = demo.load()
    print(f"load_demo: {time.monotonic() - started:.1f}s ({report.seconds.get('forecasting', 0):.1f}s forecasting)")
    last = last_closed_month()
    first = add_months(last, -(args.months - 1))
    ids = list(Product.objects.filter(sku__in=[p.sku for p in demo.PRODUCTS]).values_list("pk", flat=True))
    rows = (ForecastAccuracyPoint.objects.filter(product_id__in=ids, period__gte=first, period__lte=last)
            .values_list(*accuracy.FRAME_COLUMNS))  # fmt: skip
    frame = accuracy.points_frame(rows)
    print(f"Closed months {first:%Y-%m} .. {last:%Y-%m}")
    verdict = True
    for lag in (1, 3):
        at_lag = frame[frame["lag"] == lag]
        print(f"Lag {lag}")
        every = pooled(at_lag)
        show("every point of each layer", every)
        show("points where all three layers exist (FRM-27)", pooled(accuracy.fva_matched(at_lag)))
        if lag == 1:
            verdict = every["statistical"]["wape"] < every["naive"]["wape"]
    if args.by_product:
        skus = dict(Product.objects.filter(pk__in=ids).values_list("pk", "sku"))
        lag1 = frame[frame["lag"] == 1]
        print("Lag-1 WAPE per product (naive / statistical)")
        for pk, f in lag1.groupby("product_id"):
            w = pooled(f)
            print(f"  {skus.get(pk, pk):<10} {w['naive']['wape']:7.2f}  {w['statistical']['wape']:7.2f}")
    print("FC-82 " + ("holds: statistical beats naive at lag 1" if verdict else "FAILS: naive beats statistical"))
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
