"""Rolling-origin, multi-step backtest of catalogue models over a whole panel at once (FC-40).

An origin `o` is a column count of the panel: every series is truncated to its first `o` calendar
columns, each model forecasts the whole truncated panel in one call, and the forecasts are compared
with the actuals of columns `o .. o + h - 1` (steps past the end of the panel are NaN). Origins run
backwards from the last column, spaced by `step`, so later steps are judged on fewer origins.

Errors are F - A with shape (n, origins, h) per model; NaN wherever the series had no actual at
that point or the model could not forecast it (too little history at that origin, a failure, NaN).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .base import CATALOGUE, ModelSpec, Stopped
from .metrics import error_metrics

__all__ = [
    "BacktestResult",
    "backtest",
    "error_metrics",
    "history_lengths",
    "mase_scale",
    "origins_for",
    "safe_forecast",
]


def origins_for(T: int, h: int, n_origins: int | None = None, step: int = 1, min_train: int = 3) -> np.ndarray:
    """Origins (column counts), ascending: T - step, T - 2·step, … (at most `n_origins`, ≥ min_train)."""
    if n_origins is None:
        n_origins = max(6, h)
    step = max(1, int(step))
    origins = T - step * np.arange(1, n_origins + 1)
    return np.sort(origins[origins >= max(1, min_train)])


def history_lengths(values: np.ndarray) -> np.ndarray:
    return np.sum(~np.isnan(values), axis=1)


def _trim_left(values: np.ndarray) -> np.ndarray:
    """Drop calendar columns that are NaN for every row (models see the shortest common calendar)."""
    if values.shape[0] == 0:
        return values
    any_valid = np.any(~np.isnan(values), axis=0)
    if not any_valid.any():
        return values[:, -1:]
    return values[:, int(np.argmax(any_valid)) :]


def safe_forecast(
    spec: ModelSpec, values: np.ndarray, h: int, m: int, params: dict | None = None, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast the rows of `values` with `spec`; never raises.

    Returns (forecasts (n, h), reasons (n,) object array: None where the row got finite forecasts,
    otherwise the reason text). Rows shorter than the model's `min_months` are not passed to the model.
    When the model raises on a group of rows, the group is split in halves so that one failing series
    costs only its own forecast (a few extra calls, no loop over series).
    """
    n = values.shape[0]
    out = np.full((n, h), np.nan)
    reasons = np.full(n, None, dtype=object)
    if rows is None:
        rows = np.ones(n, dtype=bool)
    lengths = history_lengths(values)
    if not spec.available:
        reasons[rows] = "library unavailable"
        return out, reasons
    short = rows & (lengths < spec.min_months)
    for i in np.flatnonzero(short):  # text only, per affected row
        reasons[i] = f"history too short ({int(lengths[i])} < {spec.min_months} months)"
    todo = np.flatnonzero(rows & ~short)
    kwargs = {**spec.params, **(params or {})}

    def run(index: np.ndarray) -> None:
        if index.size == 0:
            return
        try:
            result = np.asarray(spec.forecast(_trim_left(values[index]), h, m, **kwargs), dtype=float)
            if result.shape != (index.size, h):
                raise ValueError(f"returned shape {result.shape}, expected {(index.size, h)}")
        except Exception as exc:
            if index.size == 1:
                reasons[index[0]] = f"error: {type(exc).__name__}: {exc}"[:200]
                return
            half = index.size // 2
            run(index[:half])
            run(index[half:])
            return
        out[index] = result

    run(todo)
    bad = np.zeros(n, dtype=bool)
    bad[todo] = ~np.all(np.isfinite(out[todo]), axis=1)
    for i in np.flatnonzero(bad & (reasons == None)):  # noqa: E711 (object array comparison)
        reasons[i] = "produced NaN or infinite values"
    out[bad] = np.nan
    return out, reasons


def mase_scale(values: np.ndarray, m: int) -> np.ndarray:
    """Per-series MASE denominator (FRM-21): mean |A_t - A_{t-lag}| over the history, lag = m when the
    series has ≥ 2m points, else 1. Falls back to mean |A|, then 1, when that is 0 or undefined."""
    lengths = history_lengths(values)
    T = values.shape[1]
    scale = np.full(values.shape[0], np.nan)
    for lag, rows in ((m, lengths >= 2 * m), (1, lengths < 2 * m)):
        if lag >= T or not rows.any():
            continue
        diffs = np.abs(values[rows, lag:] - values[rows, :-lag])
        with np.errstate(all="ignore"):
            count = np.sum(~np.isnan(diffs), axis=1)
            scale[rows] = np.where(count > 0, np.nansum(diffs, axis=1) / np.maximum(count, 1), np.nan)
    with np.errstate(all="ignore"):
        level = np.nanmean(np.abs(values), axis=1) if T else np.full(values.shape[0], np.nan)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, level)
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


@dataclass
class BacktestResult:
    origins: np.ndarray  # (k,) column counts
    h: int
    actuals: np.ndarray  # (n, k, h)
    scale: np.ndarray  # (n,) MASE denominators
    forecasts: dict[str, np.ndarray] = field(default_factory=dict)  # model -> (n, k, h)
    reasons: dict[str, np.ndarray] = field(default_factory=dict)  # model -> (n, k) failure text or None

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.forecasts)

    def errors(self, model: str) -> np.ndarray:
        """F - A, (n, k, h)."""
        return self.forecasts[model] - self.actuals

    def metrics(self, model: str, full: bool = False) -> dict[str, np.ndarray]:
        return error_metrics(self.errors(model), self.actuals, self.scale, full)

    def mase_by_step(self, model: str) -> np.ndarray:
        """(n, h) MASE per horizon step (mean over origins)."""
        err = np.abs(self.errors(model))
        count = np.sum(np.isfinite(err), axis=1)
        total = np.nansum(err, axis=1)
        with np.errstate(all="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan) / self.scale[:, None]

    def score(self, model: str) -> np.ndarray:
        """(n,) selection score: MASE over every (origin, step) pair; NaN when never scored."""
        return self.metrics(model)["mase"]

    def table(self, row: int) -> dict[str, dict[str, float | None]]:
        """Metrics of every model for one series (report only)."""
        out = {}
        for model in self.forecasts:
            metrics = self.metrics(model, full=True)
            out[model] = {
                key: (None if not np.isfinite(value[row]) else round(float(value[row]), 4))
                for key, value in metrics.items()
            }
        return out


def backtest(
    values: np.ndarray,
    models: Iterable[str | ModelSpec],
    h: int,
    m: int,
    *,
    n_origins: int | None = None,
    step: int = 1,
    min_train: int = 3,
    params: dict[str, dict] | None = None,
    actuals: np.ndarray | None = None,
    should_stop=None,
    refit_every: dict[str, int] | None = None,
) -> BacktestResult:
    """Backtest each model on the panel `values` (n, T) at every origin, one call per (model, origin).

    Models train on `values`; errors and the MASE scale are measured on `actuals` (same shape;
    default `values`), so a cleaned training history is still judged against what happened.
    `should_stop()` is asked before every model; when it answers True, `Stopped` is raised.

    Refit schedule (FC-81): a model with `fit`/`predict` re-estimates its parameters (trains) only at
    every `refit_every`-th origin, counted from the first origin it was fitted at (an origin where the
    fit failed or had no eligible series is fitted again at the next); at the origins in between, the state
    fitted at the latest refit origin before it forecasts from the history up to the current origin.
    Origins ascend, so no state ever saw data after the origin it forecasts from. `refit_every` maps a
    model id to its interval (default: the model's `refit_every`); 1 refits at every origin.
    """
    values = np.asarray(values, dtype=float)
    raw = values if actuals is None else np.asarray(actuals, dtype=float)
    n, T = values.shape
    origins = origins_for(T, h, n_origins, step, min_train)
    k = origins.size
    actuals = np.full((n, k, h), np.nan)
    padded = np.concatenate([raw, np.full((n, h), np.nan)], axis=1)
    for j, o in enumerate(origins):
        actuals[:, j, :] = padded[:, o : o + h]
    result = BacktestResult(origins=origins, h=h, actuals=actuals, scale=mase_scale(raw, m))
    params = params or {}
    for model in models:
        if should_stop is not None and should_stop():
            raise Stopped()
        spec = CATALOGUE[model] if isinstance(model, str) else model
        fc = np.full((n, k, h), np.nan)
        reasons = np.full((n, k), None, dtype=object)
        every = max(1, int((refit_every or {}).get(spec.id, spec.refit_every)))
        scheduled = every > 1 and spec.fit is not None and spec.predict is not None
        state, fitted_at = None, None
        for j, o in enumerate(origins):
            train = values[:, :o]
            rows = history_lengths(train) >= max(min_train, spec.min_months)
            if not scheduled:
                fc[:, j, :], reasons[:, j] = safe_forecast(spec, train, h, m, params.get(spec.id), rows)
                continue
            refit = state is None or j - fitted_at >= every
            out, state = _scheduled_forecast(spec, train, h, m, params.get(spec.id), rows, None if refit else state)
            fitted_at = j if refit else fitted_at
            if out is None:  # the split call failed: this origin runs the plain, failure-isolating path
                state = None
                out = safe_forecast(spec, train, h, m, params.get(spec.id), rows)
            fc[:, j, :], reasons[:, j] = out
        result.forecasts[spec.id] = fc
        result.reasons[spec.id] = reasons
    return result


def _scheduled_forecast(spec: ModelSpec, train: np.ndarray, h: int, m: int, params: dict | None, rows, state):
    """One origin of the refit schedule: `fit` on `train` when `state` is None, else `predict` from the
    state fitted at an earlier (shorter) origin. Returns ((forecasts, reasons), state), or (None, None)
    when the model raised, so the caller can isolate the failing rows."""
    n = train.shape[0]
    kwargs = {**spec.params, **(params or {})}
    if not rows.any():
        return (np.full((n, h), np.nan), np.full(n, None, dtype=object)), state
    panel = _trim_left(train)
    try:
        if state is None:
            out, state = spec.fit(panel, h, m, **kwargs)
        else:
            out = spec.predict(state, panel, h, m, **kwargs)
        out = np.asarray(out, dtype=float)
        if out.shape != (n, h):
            raise ValueError(f"returned shape {out.shape}, expected {(n, h)}")
    except Exception:
        return None, None
    out = np.where(rows[:, None], out, np.nan)
    reasons = np.full(n, None, dtype=object)
    bad = rows & ~np.all(np.isfinite(out), axis=1)
    reasons[bad] = "produced NaN or infinite values"
    out[bad] = np.nan
    return (out, reasons), state
