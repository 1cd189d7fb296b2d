"""The default forecasting pipeline over a panel: backtest, select, combine, fall back, intervals.

`forecast_panel(panel, h, m)` with `model="auto"`:

1. candidates: every available catalogue model (not the combination family); a model is a candidate
   for a series when it can forecast it (min_months ≤ n, no failure, no NaN) and got a backtest score;
2. a rolling-origin, multi-step backtest (backtest.py) scores each candidate per series by MASE over
   every (origin, step) pair;
3. the forecast is the combination (median, or inverse-score weighted mean) of the best `top_k`
   candidates per series (ties: catalogue order) together with every scored `anchors` model; with
   one member it is that model;
4. safety net (on by default; `safety_net=False` turns it off for experiments): when the
   combination's backtest MASE is worse than seasonal naive's, the series uses seasonal naive, so no
   automatic forecast is worse than seasonal naive on its own backtest;
5. a series without any scored candidate runs the history-length rule (FC-24 step 5: `sba` for an
   intermittent or lumpy pattern, `exp_smoothing` from 12 months, else `moving_average`) along the
   FC-22 fallback chains;
6. intervals from conformal quantiles of the backtest absolute errors per horizon step, per series
   when it has `min_errors` errors at that step, otherwise pooled over the panel (normalised errors,
   at least the FC-20 band), otherwise the FC-20 band; widened monotonically with the step; lower
   bounds floored at 0 (see `interval_widths`).

Every record carries the FC-24/41/14/25 diagnostics (candidate rows, advisor confidence, pattern,
flags, the producing model's backtest MAPE/RMSE/WAPE and nominal confidence). `model="ensemble"`
is the user-selected combination of the best `params["ensemble"]["members"]` candidates.

With an explicit model id, that model runs for every series along its fallback chain (FC-22), and
the chain and warnings (`model_unavailable:<id>`, `fallback:<from>-><to>:<reason>`) are recorded.
Everything numeric is vectorised across series; only the per-series text records are built per row.
"""

import warnings as pywarnings
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import t as student_t

from .backtest import BacktestResult, backtest, error_metrics, history_lengths, safe_forecast
from .base import CATALOGUE, Panel, Stopped
from .quality import classify_demand, detect_outliers, flags_per_series, quality_flags

ENSEMBLE = "ensemble"
INACTIVE = "inactive"  # the label of FC-13's zero forecast
SEASONAL_NAIVE = "seasonal_naive"
# Robust benchmark models that join every automatic combination when they could be scored: on the
# Tourism and M1 monthly sets the median of the best two candidates and these beat the best three
# alone (bench/README.md), since a backtest ranking of close candidates is noisy.
ANCHORS = ("exp_smoothing", "theta", "seasonal_naive")
LAST_RESORT = "naive"  # last observed value; used only when every model of a chain failed
Z = {80: 1.2816, 90: 1.6449, 95: 1.96}
MODEL_MODULES = ("models", "intermittent", "ml")
# Numbers not made by a catalogue model (the last-value resort, an inactive series' zero) carry the
# nominal confidence of the simplest catalogue model.
DEFAULT_CONFIDENCE = 80.0
CANDIDATE_FIELDS = (
    "mape",
    "smape",
    "wape",
    "rmse",
    "nrmse_pct",
    "mae",
    "mdae",
    "r2",
    "bias",
    "hit_rate",
    "mase",
    "tracking_signal",
)


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
    # FC-24 step 6: 1.0 user-selected; 0.5 by the history-length rule or with one scored candidate;
    # otherwise min(0.95, 0.5 + (s2 - s1) / s2) over the best two candidate scores.
    advisor_confidence: float = 0.5
    candidate_rows: list[dict] = field(default_factory=list)  # FC-41 rows, ranked; see CANDIDATE_FIELDS
    pattern: str = ""  # FRM-42 demand pattern
    adi: float | None = None
    cv2: float | None = None
    flags: list[str] = field(default_factory=list)  # FC-14 flags computable from the values
    # Backtest figures of the model that produced the numbers (None when it was not backtested).
    mape: float | None = None
    rmse: float | None = None
    wape: float | None = None
    nominal_confidence: float | None = None  # FC-20 of that model (ensemble: mean of its members')

    @property
    def result_confidence(self) -> float:
        """FC-25: clamp(100 - backtest WAPE, 0, 100), else the model's nominal confidence."""
        if self.wape is not None:
            return round(min(100.0, max(0.0, 100.0 - self.wape)), 2)
        return float(self.nominal_confidence if self.nominal_confidence is not None else DEFAULT_CONFIDENCE)


@dataclass
class ForecastResult:
    ids: tuple[str, ...]
    h: int
    forecast: np.ndarray  # (n, h)
    bounds: dict[int, tuple[np.ndarray, np.ndarray]]  # level -> (lower (n, h), upper (n, h))
    records: list[SeriesRecord]
    models: list[str]  # per series, = records[i].model
    stopped: bool = False  # `should_stop` ended the run: the numbers are NaN and must not be used

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


def interpolated_quantile(abs_errors: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise quantile of absolute errors at the conformal position (c + 1)·level (1-based),
    interpolated between neighbours (NaN ignored).

    Returns (quantile, count, short): `short` marks rows whose position lies past the largest of
    their c errors, i.e. too few errors for the level (c < 19 at 95 %), where the largest error
    alone would understate the bound. NaN quantile where a row has no error.
    """
    a = np.asarray(abs_errors, dtype=float)
    if a.shape[-1] == 0:
        empty = np.zeros(a.shape[:-1], dtype=int)
        return np.full(a.shape[:-1], np.nan), empty, empty.astype(bool)
    srt = np.sort(a, axis=-1)  # NaN sort last
    count = np.sum(np.isfinite(a), axis=-1)
    pos = (count + 1) * level
    top = np.maximum(count - 1, 0)
    lo = np.clip(np.floor(pos).astype(int) - 1, 0, top)
    hi = np.clip(lo + 1, 0, top)
    q_lo = np.take_along_axis(srt, lo[..., None], axis=-1)[..., 0]
    q_hi = np.take_along_axis(srt, hi[..., None], axis=-1)[..., 0]
    q = q_lo + (pos - np.floor(pos)) * (q_hi - q_lo)
    return np.where(count > 0, q, np.nan), count, pos > count


def step_growth(abs_errors: np.ndarray, count: np.ndarray) -> np.ndarray:
    """(h,) typical growth of the absolute error with the step: the panel median of each series'
    mean |e| at a step over its mean |e| at the first three steps, non-decreasing, 1 where unknown."""
    with np.errstate(all="ignore"), pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore", RuntimeWarning)
        by_step = np.nansum(abs_errors, axis=1) / count  # (n, h)
        first = np.nanmean(by_step[:, :3], axis=1)
        rel = by_step / first[:, None]
        growth = np.nanmedian(np.where(np.isfinite(rel) & (count >= 3), rel, np.nan), axis=0)
    growth = np.fmax.accumulate(np.nan_to_num(growth, nan=0.0))
    return np.where(growth > 0, growth, 1.0)


def interval_widths(
    errors: np.ndarray, scale: np.ndarray, history: np.ndarray, level: int, min_errors: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Half-widths (n, h) at `level` % from backtest errors (n, k, h), and the method per series.

    - A series with ≥ min_errors errors at a step uses its own errors there: the interpolated
      conformal quantile; when the errors are too few for the level (the position (c + 1)·level
      lies past the largest), the larger of the largest error and t(c - 1)·RMS of the errors, since
      the largest of a few errors understates a 95 % bound.
    - Otherwise the pooled quantile of every series' errors at that step, each normalised by its
      series' mean absolute backtest error (errors first divided by the panel's step growth, so a
      series backtested only at short steps is not judged small), times the series' normaliser;
      never narrower than the FC-20 band, which the short histories that land here need.
    - When even the pool is too small, the FC-20 band z·sigma(history)·min(2, 1 + 0.15·√(i - 1)).
    Made non-decreasing over the steps.
    """
    n, _, h = errors.shape
    alpha = level / 100
    abs_e = np.abs(errors)
    own, count, short = interpolated_quantile(np.moveaxis(abs_e, 1, 2), alpha)  # (n, h)
    with np.errstate(all="ignore"):
        rms = np.sqrt(np.nansum(abs_e**2, axis=1) / count)
    tail = student_t.ppf(0.5 + alpha / 2, np.maximum(count - 1, 1)) * rms
    own = np.where(short, np.fmax(own, tail), own)
    growth = step_growth(abs_e, count)
    flat = (abs_e / growth[None, None, :]).reshape(n, -1)
    with np.errstate(all="ignore"):
        norm = np.nansum(flat, axis=1) / np.sum(np.isfinite(flat), axis=1)
    norm = np.where(np.isfinite(norm) & (norm > 0), norm, scale)
    if n:
        pooled, pool_count, _ = interpolated_quantile(
            np.moveaxis(abs_e / norm[:, None, None], 2, 0).reshape(h, -1), alpha
        )
    else:
        pooled, pool_count = np.full(h, np.nan), np.zeros(h, dtype=int)
    with np.errstate(all="ignore"):
        sigma = np.nanstd(history, axis=1)
    sigma = np.where(np.isfinite(sigma), sigma, 0.0)
    steps = np.arange(1, h + 1)
    band = Z.get(level, 1.96) * sigma[:, None] * np.minimum(2.0, 1 + 0.15 * np.sqrt(steps - 1))[None, :]
    use_own = count >= min_errors
    use_pool = ~use_own & (pool_count >= min_errors)[None, :]
    width = np.where(use_own, own, np.where(use_pool, np.fmax(pooled[None, :] * norm[:, None], band), band))
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
    top_k: int = 2,
    combine: str = "median",
    min_errors: int = 8,
    params: dict[str, dict] | None = None,
    train_adjusted: bool = False,
    anchors: tuple[str, ...] = ANCHORS,
    safety_net: bool = True,
    should_stop=None,
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
    demand = classify_demand(values)
    outliers = detect_outliers(values, m=m)
    # Models train on the outlier-adjusted history only when asked: on the Tourism and M1 monthly
    # benchmarks it did not improve accuracy (Tourism MASE 2.05 against 1.45 raw, M1 level; see
    # bench/README.md), so the raw history is the default.
    # Backtest errors, scales and intervals are always measured against the raw actuals.
    train = outliers.adjusted if train_adjusted else values
    try:
        fc, errors, bt, records = _dispatch(
            panel, values, train, demand, h, m, model, n_origins, step, top_k, combine, params, anchors, safety_net,
            should_stop,
        )  # fmt: skip
    except Stopped:
        nan = np.full((n, h), np.nan)
        records = [SeriesRecord(series_id=i, model="", members=(), reason="stopped") for i in panel.ids]
        return ForecastResult(
            ids=tuple(panel.ids), h=h, forecast=nan, bounds=dict.fromkeys(levels, (nan, nan)), records=records,
            models=["" for _ in records], stopped=True,
        )  # fmt: skip
    _describe(records, values, demand, outliers.mask)
    return _finish(panel, values, fc, errors, bt, records, h, levels, min_errors)


def _dispatch(
    panel, values, train, demand, h, m, model, n_origins, step, top_k, combine, params, anchors, safety_net, should_stop
):
    if model in ("auto", ENSEMBLE):
        chosen = model == ENSEMBLE
        top_k = int((params.get(ENSEMBLE) or {}).get("members", 3 if chosen else top_k))
        if chosen:  # FC-20 ensemble: the median of the best `members` candidates, no safety net
            combine = "median"
        fc, errors, bt, records = _auto(
            panel,
            values,
            h,
            m,
            n_origins,
            step,
            top_k,
            combine,
            params,
            demand.pattern,
            train,
            () if chosen else tuple(anchors),
            safety_net,
            user_selected=chosen,
            should_stop=should_stop,
        )
    else:
        if model not in CATALOGUE:
            raise ValueError(f"unknown model {model!r}; known: {', '.join([*CATALOGUE, ENSEMBLE])}")
        fc, errors, bt, records = _explicit(panel, values, h, m, model, n_origins, step, params, train, should_stop)
    return fc, errors, bt, records


def _finish(panel, values, fc, errors, bt, records, h, levels, min_errors) -> ForecastResult:
    n = values.shape[0]
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


def _auto(
    panel,
    values,
    h,
    m,
    n_origins,
    step,
    top_k,
    combine,
    params,
    pattern,
    train,
    anchors,
    safety_net,
    user_selected=False,
    should_stop=None,
):
    n = values.shape[0]
    specs = [s for s in CATALOGUE.values() if s.available and s.family != "combination" and s.id != ENSEMBLE]
    ids = [s.id for s in specs]
    bt = backtest(
        train, specs, h, m, n_origins=n_origins, step=step, params=params, actuals=values, should_stop=should_stop
    )
    M = len(ids)
    scores = np.column_stack([bt.score(i) for i in ids]) if M else np.zeros((n, 0))
    final = np.full((n, M, h), np.nan)
    failures: list[list[str]] = [[] for _ in range(n)]
    for j, spec in enumerate(specs):
        if should_stop is not None and should_stop():
            raise Stopped()
        final[:, j, :], reasons = safe_forecast(spec, train, h, m, params.get(spec.id))
        for i in np.flatnonzero([r is not None and not r.startswith("history too short") for r in reasons]):
            failures[i].append(f"model_failed:{spec.id}:{reasons[i]}")
    valid = np.isfinite(scores) & np.all(np.isfinite(final), axis=2)
    # Routing by demand pattern (FRM-42): the intermittent family models sporadic demand only, so
    # smooth and erratic series never select it; intermittent and lumpy series may use any model.
    regular = np.isin(pattern, ("smooth", "erratic"))
    intermittent_family = np.array([spec.family == "intermittent" for spec in specs], dtype=bool)
    routed_out = regular[:, None] & intermittent_family[None, :]
    valid &= ~routed_out
    lengths = history_lengths(values)
    eligible = (lengths[:, None] >= np.array([s.min_months for s in specs], dtype=int)[None, :]) & ~routed_out
    S = np.where(valid, scores, np.inf)
    order = np.argsort(S, axis=1, kind="stable")  # ties: catalogue order
    nvalid = valid.sum(axis=1)
    # Members: the best `top_k` scored candidates plus every scored anchor model, in rank order.
    rank = np.argsort(order, axis=1) if M else np.zeros((n, 0), dtype=int)
    is_anchor = np.array([model_id in anchors for model_id in ids], dtype=bool)
    chosen = valid & ((rank < max(1, top_k)) | is_anchor[None, :])
    K = max(1, M)
    kk = chosen.sum(axis=1)
    if M:
        top = np.take_along_axis(
            order, np.argsort(~np.take_along_axis(chosen, order, axis=1), axis=1, kind="stable"), 1
        )
    else:
        top = np.zeros((n, K), dtype=int)
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
    if SEASONAL_NAIVE in ids and safety_net and not user_selected:
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
        # FC-24 step 5 (prophet is not shipped, so n >= 24 and n >= 12 both start at exp_smoothing).
        sporadic = np.isin(pattern, ("intermittent", "lumpy"))
        start = np.select([sporadic, lengths >= 12], ["sba", "exp_smoothing"], "moving_average").astype(object)
        chain_fc, used, chains, chain_warnings = run_chain(train, none, start, h, m, params)
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
        candidates = [ids[j] for j in np.flatnonzero(eligible[i])] + ([ENSEMBLE] if kk[i] >= 2 else [])
        scored = {ids[j] for j in np.flatnonzero(valid[i])} | ({ENSEMBLE} if kk[i] >= 2 else set())
        rows = _candidate_rows(tables[i], candidates, scored, str(label[i]))
        if inactive[i]:
            reason = "Inactive series: the last 12 months are all zero, so the forecast is 0."
            members = ()
        elif none[i]:
            reason = (
                f"Selected {label[i]} by history-length rule ({int(lengths[i])} months, pattern {pattern[i]}); "
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
        if user_selected and not inactive[i]:
            reason = f"Using user-selected model. {reason}"
        records.append(
            SeriesRecord(
                series_id=panel.ids[i],
                model=str(label[i]),
                members=members,
                reason=reason,
                fallback_chain=chains[i],
                warnings=failures[i] + chain_warnings[i] + (["inactive_series"] if inactive[i] else []),
                backtest=tables[i],
                advisor_confidence=(
                    1.0 if user_selected else 0.5 if (none[i] or inactive[i]) else advisor_confidence(rows)
                ),
                candidate_rows=rows,
            )
        )
    return fc, errors, bt, records


def _explicit(panel, values, h, m, model, n_origins, step, params, train, should_stop=None):
    n = values.shape[0]
    rows = np.ones(n, dtype=bool)
    fc, used, chains, warnings = run_chain(train, rows, model, h, m, params)
    used_ids = sorted({u for u in used if u in CATALOGUE and CATALOGUE[u].available})
    bt = backtest(
        train, used_ids, h, m, n_origins=n_origins, step=step, params=params, actuals=values, should_stop=should_stop
    )
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
                advisor_confidence=1.0,
                candidate_rows=_candidate_rows(tables[i], [str(used[i])], {str(used[i])}, str(used[i])),
            )
        )
    return fc, errors, bt, records


def _candidate_rows(table: dict, candidates: list[str], scored: set[str], selected: str) -> list[dict]:
    """FC-41 rows of one series, ranked by score (ties: catalogue order, the ensemble last); rows that
    could not be scored follow with `score` None. `score` is the selection score (backtest MASE),
    `composite_score` the FRM-25 score."""
    order = {model: j for j, model in enumerate(candidates)}
    rows = []
    for model in candidates:
        metrics = table.get(model, {})
        is_scored = model in scored and metrics.get("mase") is not None
        row = {"model_type": model, "rank": 0}
        row.update({key: metrics.get(key) for key in CANDIDATE_FIELDS})
        row["period_count"] = int(metrics.get("count") or 0)
        row["score"] = metrics.get("mase") if is_scored else None
        row["composite_score"] = metrics.get("score") if is_scored else None
        row["selected"] = model == selected
        rows.append(row)
    rows.sort(key=lambda r: (r["score"] is None, r["score"] or 0.0, order[r["model_type"]]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def advisor_confidence(rows: list[dict]) -> float:
    """FC-24 step 6 from ranked candidate rows: 0.5 with fewer than two scores or s2 = 0."""
    scores = sorted(r["score"] for r in rows if r["score"] is not None)
    if len(scores) < 2 or scores[1] == 0:
        return 0.5
    s1, s2 = scores[0], scores[1]
    return round(min(0.95, 0.5 + (s2 - s1) / s2), 4)


def _nominal(label: str, members: tuple[str, ...]) -> float:
    if label == ENSEMBLE and members:
        return round(float(np.mean([_nominal(m, ()) for m in members])), 2)
    spec = CATALOGUE.get(label)
    return float(spec.nominal_confidence) if spec is not None else DEFAULT_CONFIDENCE


def _describe(records: list[SeriesRecord], values: np.ndarray, demand, outlier_mask: np.ndarray) -> None:
    """Pattern, ADI/CV², flags and the figures of the producing model on every record."""
    flags = quality_flags(values, outlier_mask=outlier_mask, pattern=demand.pattern)
    names = flags_per_series({k: v for k, v in flags.items() if k not in ("missing_months", "corrected_history")})
    for i, record in enumerate(records):
        record.pattern = str(demand.pattern[i])
        record.adi = _num(demand.adi[i])
        record.cv2 = _num(demand.cv2[i])
        record.flags = names[i]
        own = record.backtest.get(record.model, {}) if record.model != INACTIVE else {}
        record.mape, record.rmse, record.wape = own.get("mape"), own.get("rmse"), own.get("wape")
        record.nominal_confidence = _nominal(record.model, record.members)


def _num(x) -> float | None:
    return round(float(x), 4) if x is not None and np.isfinite(x) else None


def _fmt(x) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{float(x):.4f}"
