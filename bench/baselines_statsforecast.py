"""statsforecast baselines for forecast_accuracy.py; runs inside bench/.venv-baselines (pandas < 3).

Usage (called by forecast_accuracy.py): baselines_statsforecast.py IN.npz OUT.npz
IN holds `values` (n, T) right-aligned with leading NaN, `h` and `m`. OUT holds, per model
(SeasonalNaive, AutoETS, Theta — statsforecast's standard `Theta`, not `AutoTheta`), the point
forecast `<model>` (n, h), bounds `<model>-lo-80` ... `<model>-hi-95`, `<model>-wall` and `<model>-cpu` (seconds,
one process, n_jobs=1, after a warm-up fit so one-off compilation is not counted) and the
process's peak RSS `peak_rss_mb`.
"""

import resource
import sys
import time

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, SeasonalNaive, Theta

LEVELS = (80, 95)


def frame(values: np.ndarray) -> pd.DataFrame:
    parts = []
    for i, row in enumerate(values):
        y = row[~np.isnan(row)]
        parts.append(pd.DataFrame({"unique_id": i, "ds": np.arange(1, len(y) + 1), "y": y}))
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    data = np.load(sys.argv[1])
    values, h, m = data["values"], int(data["h"]), int(data["m"])
    df = frame(values)
    models = {
        "SeasonalNaive": SeasonalNaive(season_length=m),
        "AutoETS": AutoETS(season_length=m),
        "Theta": Theta(season_length=m),
    }
    out = {}
    for name, model in models.items():
        sf = StatsForecast(models=[model], freq=1, n_jobs=1)
        sf.forecast(df=df[df.unique_id == 0], h=h, level=list(LEVELS))  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        fc = sf.forecast(df=df, h=h, level=list(LEVELS))
        out[f"{name}-wall"] = np.array(time.perf_counter() - t0)
        out[f"{name}-cpu"] = np.array(time.process_time() - c0)
        fc = fc.sort_values(["unique_id", "ds"])
        for column in [name] + [f"{name}-{side}-{lv}" for lv in LEVELS for side in ("lo", "hi")]:
            out[column] = fc[column].to_numpy(dtype=float).reshape(values.shape[0], h)
    out["peak_rss_mb"] = np.array(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    np.savez(sys.argv[2], **out)


if __name__ == "__main__":
    main()
