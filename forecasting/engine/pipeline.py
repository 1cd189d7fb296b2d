"""The default forecasting pipeline over a panel: backtest, select, combine, fall back, intervals.

`forecast_panel(panel, h, m)` with `model="auto"`:

1. candidates: every available catalogue model (not the combination family); a model is a candidate
   for a series when it can forecast it (min_months ≤ n, no failure, no NaN) and got a backtest score;
2. a rolling-origin, multi-step backtest (backtest.py) scores each candidate per series by MASE over
   every (origin, step) pair;
3. the forecast is the combination (median, or inverse-score weighted mean) of the best `top_k`
   candidates per series (ties: catalogue order); with one candidate it is that model;
4. safety net: when the combination's backtest MASE is worse than seasonal naive's, the series uses
   seasonal naive;
5. a series without any scored candidate runs the history-length rule (FC-24 step 5) along the
   FC-22 fallback chains;
6. intervals from conformal quantiles of the backtest absolute errors per horizon step, per series
   when it has `min_errors` errors at that step, otherwise pooled over the panel (normalised errors),
   otherwise the FC-20 band; widened monotonically with the step; lower bounds floored at 0.

With an explicit model id, that model runs for every series along its fallback chain (FC-22), and
the chain and warnings (`model_unavailable:<id>`, `fallback:<from>-><to>:<reason>`) are recorded.
Everything numeric is vectorised across series; only the per-series text records are built per row.
"""

import warnings as pywarnings
from dataclasses import dataclass, field

import numpy as np

from .backtest import BacktestResult, backtest, error_metrics, history_lengths, safe_forecast
from .base import CATALOGUE, Panel
from .quality import classify_demand

ENSEMBLE = "ensemble"
INACTIVE = "inactive"  # the label of FC-13's zero forecast
SEASONAL_NAIVE = "seasonal_naive"
LAST_RESORT = "naive"  # last observed value; used only when every model of a chain failed
Z = {80: 1.2816, 90: 1.6449, 95: 1.96}
MODEL_MODULES = ("models", "intermittent", "ml")


def load_catalogue() -> dict:
    """Import the model modules so that they register in CATALOGUE; returns the catalogue."""
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(f"{__package__}.{name}")
    return CATALOGUE


# Registered on import, so every caller of forecast_panel sees the whole catalogue (an empty one
# would silently leave every series on the last-value fallback).
load_catalogue()


@dataclass
class SeriesRecord:
    series_id: str
    model: str  # the label of the numbers: a model id, or "ensemble"
    members: tuple[str, ...]  # the models combined (one id for a single model)
    reason: str
    fallback_chain: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    backtest: dict = field(default_factory=dict)  # model -> {mase, mae, rmse, wape, mean_error, count}
    interval_method: str = ""


@dataclass
class ForecastResult:
    ids: tuple[str, ...]
    h: int
    forecast: np.ndarray  # (n, h)
    bounds: dict[int, tuple[np.ndarray, np.ndarray]]  # level -> (lower (n, h), upper (n, h))
    records: list[SeriesRecord]
    models: list[str]  # per series, = records[i].model

    def lower(self, level: int) -> np.ndarray:
        return self.bounds[level][0]

    def upper(self, level: int) -> np.ndarray:
        return self.bounds[level][1]


# ---------------------------------------------------------------- intervals


def conformal_quantile(abs_errors: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise split-conformal quantile of absolute errors (NaN ignored).

    For c errors per row the bound is the ⌈(c + 1)·level⌉-th smallest (capped at the largest).
    Returns (quantile (rows,), count (rows,)); NaN where a row has no error.
    """
    a = np.asarray(abs_errors, dtype=float)
    if a.shape[-1] == 0:
        return np.full(a.shape[:-1], np.nan), np.zeros(a.shape[:-1], dtype=int)
    srt = np.sort(a, axis=-1)  # NaN sort last
    count = np.sum(np.isfinite(a), axis=-1)
    idx = np.ceil((count + 1) * level).astype(int) - 1
    idx = np.clip(idx, 0, np.maximum(count - 1, 0))
    q = np.take_along_axis(srt, idx[..., None], axis=-1)[..., 0]
    return np.where(count > 0, q, np.nan), count


def interval_widths(
    errors: np.ndarray, scale: np.ndarray, history: np.ndarray, level: int, min_errors: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Half-widths (n, h) at `level` % from backtest errors (n, k, h), and the method per series.

    Per series and step when it has ≥ min_errors errors there; otherwise the pooled conformal quantile
    of the normalised errors (|e| / the series' mean absolute backtest error, else its MASE scale) of
    every series at that step, times the series' normaliser;
    when even the pool is too small, the FC-20 band z·sigma(history)·min(2, 1 + 0.15·√(i - 1)).
    Made non-decreasing over the steps.
    """
    n, _, h = errors.shape
    alpha = level / 100
    abs_e = np.abs(errors)
    own, count = conformal_quantile(np.moveaxis(abs_e, 1, 2), alpha)  # (n, h)
    # Pool on each series' own error level (its mean absolute backtest error, else its MASE scale).
    flat = abs_e.reshape(n, -1)
    with np.errstate(all="ignore"):
        norm = np.nansum(flat, axis=1) / np.sum(np.isfinite(flat), axis=1)
    norm = np.where(np.isfinite(norm) & (norm > 0), norm, scale)
    if n:
        pooled, pool_count = conformal_quantile(np.moveaxis(abs_e / norm[:, None, None], 2, 0).reshape(h, -1), alpha)
    else:
        pooled, pool_count = np.full(h, np.nan), np.zeros(h, dtype=int)
    with np.errstate(all="ignore"):
        sigma = np.nanstd(history, axis=1)
    sigma = np.where(np.isfinite(sigma), sigma, 0.0)
    steps = np.arange(1, h + 1)
    band = Z.get(level, 1.96) * sigma[:, None] * np.minimum(2.0, 1 + 0.15 * np.sqrt(steps - 1))[None, :]
    use_own = count >= min_errors
    use_pool = ~use_own & (pool_count >= min_errors)[None, :]
    width = np.where(use_own, own, np.where(use_pool, pooled[None, :] * norm[:, None], band))
    width = np.maximum.accumulate(np.where(np.isfinite(width), width, band), axis=1)
    method = np.where(
        use_own.all(axis=1), "conformal", np.where((use_own | use_pool).all(axis=1), "conformal_pooled", "band")
    )
    method = np.where((use_own | use_pool).any(axis=1) & (method == "band"), "conformal_partial", method)
    return width, method


# ---------------------------------------------------------------- fallback chains


def run_chain(
    values: np.ndarray, rows: np.ndarray, start: np.ndarray | str, h: int, m: int, params: dict | None = None
) -> tuple[np.ndarray, np.ndarray, list[list[str]], list[list[str]]]:
    """Run each row's start model, falling back along the catalogue's chains (FC-22), vectorised per model.

    Returns forecasts (n, h), model used per row (object array), chain per row, warnings per row.
    """
    n = values.shape[0]
    params = params or {}
    out = np.full((n, h), np.nan)
    used = np.full(n, None, dtype=object)
    chains: list[list[str]] = [[] for _ in range(n)]
    warnings: list[list[str]] = [[] for _ in range(n)]
    current = np.full(n, None, dtype=object)
    current[rows] = start if isinstance(start, str) else np.asarray(start, dtype=object)[rows]
    visited: list[set] = [set() for _ in range(n)]
    pending = rows.copy()
    while pending.any():
        ids = sorted({c for c in current[pending] if c is not None})
        if not ids:
            break
        for model_id in ids:
            group = pending & (current == model_id)
            spec = CATALOGUE.get(model_id)
            if spec is None:
                fc, reasons = np.full((n, h), np.nan), np.full(n, "unknown model", dtype=object)
            else:
                fc, reasons = safe_forecast(spec, values, h, m, params.get(model_id), group)
            ok = group & np.all(np.isfinite(fc), axis=1)
            out[ok] = fc[ok]
            used[ok] = model_id
            nxt = spec.fallback if spec is not None else None
            for i in np.flatnonzero(group):
                chains[i].append(model_id)
                visited[i].add(model_id)
                if ok[i]:
                    continue
                if spec is not None and not spec.available:
                    warnings[i].append(f"model_unavailable:{model_id}")
                target = nxt if nxt and nxt not in visited[i] else LAST_RESORT
                warnings[i].append(f"fallback:{model_id}->{target}:{reasons[i]}")
                current[i] = target
            pending = pending & ~ok
        pending = pending & (current != LAST_RESORT)
    last = rows & (used == None)  # noqa: E711
    if last.any():
        tail = _last_value(values[last])
        out[last] = np.repeat(tail[:, None], h, axis=1)
        used[last] = LAST_RESORT
        for i in np.flatnonzero(last):
            chains[i].append(LAST_RESORT)
    return out, used, chains, warnings


def _last_value(values: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(values)
    idx = values.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)
    tail = values[np.arange(values.shape[0]), idx]
    return np.where(valid.any(axis=1), tail, 0.0)


# ---------------------------------------------------------------- pipeline


def forecast_panel(
    panel: Panel,
    h: int,
    m: int,
    model: str = "auto",
    levels: tuple[int, ...] = (80, 95),
    *,
    n_origins: int | None = None,
    step: int = 1,
    top_k: int = 3,
    combine: str = "median",
    min_errors: int = 8,
    params: dict[str, dict] | None = None,
) -> ForecastResult:
    if h < 1:
        raise ValueError("horizon must be at least 1")
    if combine not in ("median", "weighted"):
        raise ValueError("combine must be 'median' or 'weighted'")
    values = np.asarray(panel.values, dtype=float)
    n = values.shape[0]
    params = params or {}
    if n_origins is None:  # enough origins for min_errors errors at every step where history allows
        n_origins = h + min_errors - 1
    if model == "auto":
        fc, errors, bt, records = _auto(panel, values, h, m, n_origins, step, top_k, combine, params)
    else:
        if model not in CATALOGUE:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(CATALOGUE)}")
        fc, errors, bt, records = _explicit(panel, values, h, m, model, n_origins, step, params)

    nonneg = ~np.any(values < 0, axis=1)  # demand histories: no negative forecasts
    fc = np.where(nonneg[:, None], np.maximum(fc, 0.0), fc)
    bounds = {}
    methods = np.full(n, "", dtype=object)
    for level in levels:
        width, method = interval_widths(errors, bt.scale, values, level, min_errors)
        bounds[level] = (np.maximum(fc - width, 0.0), fc + width)
        methods = np.where(methods == "", method, methods)
    inactive = np.array([record.model == INACTIVE for record in records], dtype=bool)
    for level in levels:  # FC-13: a zero band for inactive series
        bounds[level] = tuple(np.where(inactive[:, None], 0.0, bound) for bound in bounds[level])
    for i, record in enumerate(records):
        record.interval_method = "zero (inactive series)" if inactive[i] else str(methods[i])
    return ForecastResult(
        ids=tuple(panel.ids), h=h, forecast=fc, bounds=bounds, records=records, models=[r.model for r in records]
    )


def _tables(bt: BacktestResult, extra: dict[str, dict[str, np.ndarray]] | None = None) -> list[dict]:
    metrics = {model: bt.metrics(model, full=True) for model in bt.models}
    metrics.update(extra or {})
    n = bt.actuals.shape[0]
    tables: list[dict] = [{} for _ in range(n)]
    for model, table in metrics.items():
        rounded = {key: np.round(np.asarray(value, dtype=float), 4) for key, value in table.items()}
        for i in range(n):
            if table["count"][i] > 0:
                tables[i][model] = {
                    key: (None if not np.isfinite(value[i]) else float(value[i])) for key, value in rounded.items()
                }
    return tables


def _auto(panel, values, h, m, n_origins, step, top_k, combine, params):
    n = values.shape[0]
    specs = [s for s in CATALOGUE.values() if s.available and s.family != "combination" and s.id != ENSEMBLE]
    ids = [s.id for s in specs]
    bt = backtest(values, specs, h, m, n_origins=n_origins, step=step, params=params)
    M = len(ids)
    scores = np.column_stack([bt.score(i) for i in ids]) if M else np.zeros((n, 0))
    final = np.full((n, M, h), np.nan)
    failures: list[list[str]] = [[] for _ in range(n)]
    for j, spec in enumerate(specs):
        final[:, j, :], reasons = safe_forecast(spec, values, h, m, params.get(spec.id))
        for i in np.flatnonzero([r is not None and not r.startswith("history too short") for r in reasons]):
            failures[i].append(f"model_failed:{spec.id}:{reasons[i]}")
    valid = np.isfinite(scores) & np.all(np.isfinite(final), axis=2)
    # Routing by demand pattern (FRM-42): the intermittent family models sporadic demand only, so
    # smooth and erratic series never select it; intermittent and lumpy series may use any model.
    pattern = classify_demand(values).pattern
    regular = np.isin(pattern, ("smooth", "erratic"))
    intermittent_family = np.array([spec.family == "intermittent" for spec in specs], dtype=bool)
    valid &= ~(regular[:, None] & intermittent_family[None, :])
    S = np.where(valid, scores, np.inf)
    order = np.argsort(S, axis=1, kind="stable")  # ties: catalogue order
    nvalid = valid.sum(axis=1)
    K = max(1, min(top_k, M))
    kk = np.minimum(K, nvalid)
    top = order[:, :K] if M else np.zeros((n, K), dtype=int)
    member = np.arange(K)[None, :] < kk[:, None]  # (n, K)

    def combine_members(stack: np.ndarray) -> np.ndarray:
        """stack (n, M, ...) -> combination of each row's members (n, ...)."""
        if M == 0:
            return np.full((n, *stack.shape[2:]), np.nan)
        idx = top.reshape(n, K, *([1] * (stack.ndim - 2)))
        picked = np.take_along_axis(stack, idx, axis=1)
        mask = member.reshape(n, K, *([1] * (stack.ndim - 2)))
        picked = np.where(mask, picked, np.nan)
        complete = np.sum(np.isfinite(picked), axis=1) == kk.reshape(n, *([1] * (stack.ndim - 2)))
        with np.errstate(all="ignore"):
            if combine == "median":
                with pywarnings.catch_warnings():  # all-NaN slices: rows without members
                    pywarnings.simplefilter("ignore", RuntimeWarning)
                    out = np.nanmedian(picked, axis=1)
            else:
                w = np.take_along_axis(S, top, axis=1)
                w = np.where(member, 1.0 / np.maximum(w, 1e-9), 0.0).reshape(mask.shape)
                w = np.where(np.isfinite(picked), w, 0.0)
                out = np.sum(np.nan_to_num(picked) * w, axis=1) / np.sum(w, axis=1)
        return np.where(complete & (kk.reshape(complete.shape[:1] + (1,) * (complete.ndim - 1)) > 0), out, np.nan)

    combo_fc = combine_members(final)
    bt_stack = np.stack([bt.forecasts[i] for i in ids], axis=1) if M else np.zeros((n, 0, bt.origins.size, h))
    combo_bt = combine_members(bt_stack)  # (n, k, h)
    combo_metrics = error_metrics(combo_bt - bt.actuals, bt.actuals, bt.scale, full=True)
    combo_score = combo_metrics["mase"]

    fc = combo_fc.copy()
    errors = combo_bt - bt.actuals
    label = np.where(kk >= 2, ENSEMBLE, None).astype(object)
    single = kk == 1
    label[single] = np.asarray(ids, dtype=object)[top[single, 0]] if M else None

    use_sn = np.zeros(n, dtype=bool)
    if SEASONAL_NAIVE in ids:
        j = ids.index(SEASONAL_NAIVE)
        sn_ok = valid[:, j]
        use_sn = (kk >= 1) & sn_ok & (~np.isfinite(combo_score) | (combo_score > scores[:, j]))
        use_sn &= label != SEASONAL_NAIVE
        fc[use_sn] = final[use_sn, j]
        errors[use_sn] = bt.forecasts[SEASONAL_NAIVE][use_sn] - bt.actuals[use_sn]
        label[use_sn] = SEASONAL_NAIVE

    # Series without any scored candidate: the history-length rule along the fallback chains.
    none = kk == 0
    chains: list[list[str]] = [[] for _ in range(n)]
    chain_warnings: list[list[str]] = [[] for _ in range(n)]
    if none.any():
        lengths = history_lengths(values)
        start = np.where(lengths >= 12, "exp_smoothing", "moving_average").astype(object)
        chain_fc, used, chains, chain_warnings = run_chain(values, none, start, h, m, params)
        fc[none] = chain_fc[none]
        label[none] = used[none]
        for model_id in set(used[none]):
            rows = none & (used == model_id)
            if model_id in bt.forecasts:
                errors[rows] = bt.forecasts[model_id][rows] - bt.actuals[rows]

    # FC-13: a series whose last 12 months are all zero is inactive: forecast 0 with a zero band.
    inactive = pattern == "inactive"
    fc[inactive] = 0.0
    errors[inactive] = 0.0
    label[inactive] = INACTIVE

    tables = _tables(bt, {ENSEMBLE: combo_metrics})
    records = []
    names = np.asarray(ids, dtype=object)
    for i in range(n):
        members = tuple(names[top[i, : kk[i]]]) if kk[i] else (label[i],)
        if inactive[i]:
            reason = "Inactive series: the last 12 months are all zero, so the forecast is 0."
            members = ()
        elif none[i]:
            reason = (
                f"Selected {label[i]} by history-length rule ({int(history_lengths(values[i : i + 1])[0])} months); "
                "no candidate could be backtested."
            )
            members = (label[i],)
        elif use_sn[i]:
            reason = (
                f"Seasonal naive safety net: the combination's backtest MASE {_fmt(combo_score[i])} is worse than "
                f"seasonal naive's {_fmt(scores[i, ids.index(SEASONAL_NAIVE)])}."
            )
            members = (SEASONAL_NAIVE,)
        else:
            best = top[i, 0]
            reason = f"Selected {label[i]}"
            if kk[i] >= 2:
                reason += f" ({combine} of {', '.join(members)}; backtest MASE {_fmt(combo_score[i])})"
            reason += (
                f"; best single model {names[best]} with backtest MASE {_fmt(S[i, best])} among {nvalid[i]} candidates"
            )
            if nvalid[i] >= 2:
                reason += f"; runner-up {names[order[i, 1]]} ({_fmt(S[i, order[i, 1]])})"
            reason += "."
        records.append(
            SeriesRecord(
                series_id=panel.ids[i],
                model=str(label[i]),
                members=members,
                reason=reason,
                fallback_chain=chains[i],
                warnings=failures[i] + chain_warnings[i] + (["inactive_series"] if inactive[i] else []),
                backtest=tables[i],
            )
        )
    return fc, errors, bt, records


def _explicit(panel, values, h, m, model, n_origins, step, params):
    n = values.shape[0]
    rows = np.ones(n, dtype=bool)
    fc, used, chains, warnings = run_chain(values, rows, model, h, m, params)
    used_ids = sorted({u for u in used if u in CATALOGUE and CATALOGUE[u].available})
    bt = backtest(values, used_ids, h, m, n_origins=n_origins, step=step, params=params)
    errors = np.full_like(bt.actuals, np.nan)
    for model_id in used_ids:
        sel = used == model_id
        errors[sel] = bt.forecasts[model_id][sel] - bt.actuals[sel]
    tables = _tables(bt)
    records = []
    for i in range(n):
        fell_back = used[i] != model
        reason = "Using user-selected model." + (
            f" It could not run; fell back along {' -> '.join(chains[i])}." if fell_back else ""
        )
        records.append(
            SeriesRecord(
                series_id=panel.ids[i],
                model=str(used[i]),
                members=(str(used[i]),),
                reason=reason,
                fallback_chain=chains[i] if fell_back else [],
                warnings=warnings[i],
                backtest=tables[i],
            )
        )
    return fc, errors, bt, records


def _fmt(x) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{float(x):.4f}"
