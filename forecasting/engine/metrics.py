"""Forecast metrics (FRM-20 to FRM-26), vectorised across series.

Every metric takes (n, k) arrays of actuals A and forecasts F — one row per series, one column per
matched point (e.g. every (origin, step) pair of a backtest, flattened) — and returns an (n,)
array. A point takes part when both A and F are finite (and `mask`, when given, is true); NaN in
the result means "null" in the spec's sense. e = F - A, so a positive bias is an over-forecast.
Use `rounded` to apply FRM-26 (4 dp) when presenting.
"""

import numpy as np

HIT_TOLERANCE = 0.20  # FRM-20: |e| / |A| <= 20 %


def _prepare(actual, forecast, mask=None):
    a = np.atleast_2d(np.asarray(actual, dtype=float))
    f = np.atleast_2d(np.asarray(forecast, dtype=float))
    ok = np.isfinite(a) & np.isfinite(f)
    if mask is not None:
        ok &= np.atleast_2d(np.asarray(mask, dtype=bool))
    a = np.where(ok, a, 0.0)
    f = np.where(ok, f, 0.0)
    return a, f, f - a, ok


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def point_count(actual, forecast, mask=None) -> np.ndarray:
    return _prepare(actual, forecast, mask)[3].sum(axis=1)


def mape(actual, forecast, mask=None) -> np.ndarray:
    """mean(|e| / |A|) x 100 over points with A != 0; NaN when there are none."""
    a, _, e, ok = _prepare(actual, forecast, mask)
    nz = ok & (a != 0)
    terms = np.where(nz, np.abs(e) / np.where(nz, np.abs(a), 1.0), 0.0)
    return _ratio(terms.sum(axis=1), nz.sum(axis=1)) * 100.0


def smape(actual, forecast, mask=None) -> np.ndarray:
    """mean(2|e| / (|A| + |F|)) x 100, skipping points where A = F = 0."""
    a, f, e, ok = _prepare(actual, forecast, mask)
    den = np.abs(a) + np.abs(f)
    use = ok & (den != 0)
    terms = np.where(use, 2.0 * np.abs(e) / np.where(use, den, 1.0), 0.0)
    return _ratio(terms.sum(axis=1), use.sum(axis=1)) * 100.0


def wape(actual, forecast, mask=None) -> np.ndarray:
    """sum|e| / sum|A| x 100; NaN when sum|A| = 0."""
    a, _, e, _ = _prepare(actual, forecast, mask)
    return _ratio(np.abs(e).sum(axis=1), np.abs(a).sum(axis=1)) * 100.0


def mae(actual, forecast, mask=None) -> np.ndarray:
    _, _, e, ok = _prepare(actual, forecast, mask)
    return _ratio(np.abs(e).sum(axis=1), ok.sum(axis=1))


def mdae(actual, forecast, mask=None) -> np.ndarray:
    _, _, e, ok = _prepare(actual, forecast, mask)
    ae = np.where(ok, np.abs(e), np.nan)
    out = np.full(ae.shape[0], np.nan)
    rows = ok.any(axis=1)
    out[rows] = np.nanmedian(ae[rows], axis=1)
    return out


def rmse(actual, forecast, mask=None) -> np.ndarray:
    """sqrt(mean(e^2))."""
    _, _, e, ok = _prepare(actual, forecast, mask)
    return np.sqrt(_ratio((e**2).sum(axis=1), ok.sum(axis=1)))


def nrmse_pct(actual, forecast, mask=None) -> np.ndarray:
    """RMSE / |mean(A)| x 100; NaN when the mean is 0."""
    a, _, _, ok = _prepare(actual, forecast, mask)
    mean_a = _ratio(a.sum(axis=1), ok.sum(axis=1))
    return _ratio(rmse(actual, forecast, mask), np.abs(mean_a)) * 100.0


def r2(actual, forecast, mask=None) -> np.ndarray:
    """1 - sum e^2 / sum (A - mean A)^2; 0 when the denominator is 0 (NaN with no points)."""
    a, _, e, ok = _prepare(actual, forecast, mask)
    cnt = ok.sum(axis=1)
    mean_a = _ratio(a.sum(axis=1), cnt)
    ss_tot = np.where(ok, (a - mean_a[:, None]) ** 2, 0.0).sum(axis=1)
    out = np.where(ss_tot != 0, 1.0 - _ratio((e**2).sum(axis=1), ss_tot), 0.0)
    return np.where(cnt > 0, out, np.nan)


def bias(actual, forecast, mask=None) -> np.ndarray:
    """mean(e / A) x 100 over A != 0 (positive = over-forecast); NaN when there are none."""
    a, _, e, ok = _prepare(actual, forecast, mask)
    nz = ok & (a != 0)
    terms = np.where(nz, e / np.where(nz, a, 1.0), 0.0)
    return _ratio(terms.sum(axis=1), nz.sum(axis=1)) * 100.0


def hit_rate(actual, forecast, mask=None, tolerance: float = HIT_TOLERANCE) -> np.ndarray:
    """% of the matched points with A != 0 and |e| / |A| <= tolerance (FRM-20: 20 %).

    The denominator is every matched point (the spec's wording: "% of points with A != 0 and
    ..."), so a point with A = 0 counts as a miss. NaN when there are no points.
    """
    a, _, e, ok = _prepare(actual, forecast, mask)
    nz = ok & (a != 0)
    hit = nz & (np.abs(e) <= tolerance * np.abs(a) + 1e-12 * np.abs(a))
    return _ratio(hit.sum(axis=1), ok.sum(axis=1)) * 100.0


def tracking_signal(actual, forecast, mask=None) -> np.ndarray:
    """sum e / MAE (FRM-22); 0 when MAE = 0, NaN with no points."""
    _, _, e, ok = _prepare(actual, forecast, mask)
    m = mae(actual, forecast, mask)
    out = np.where(m > 0, _ratio(e.sum(axis=1), m), 0.0)
    return np.where(ok.any(axis=1), out, np.nan)


def mase_scale(history, m: int = 12) -> np.ndarray:
    """s = mean|A_t - A_{t-lag}| over each series' training history (FRM-21).

    `history` is (n, T) with leading NaN padding. lag = m when the series has at least 2m points
    (24 for m = 12, as the spec states), else 1. NaN when s = 0 or there are too few points.
    """
    hist = np.atleast_2d(np.asarray(history, dtype=float))
    n_pts = np.sum(~np.isnan(hist), axis=1)

    def mean_abs_diff(lag: int) -> np.ndarray:
        if hist.shape[1] <= lag:
            return np.full(hist.shape[0], np.nan)
        d = np.abs(hist[:, lag:] - hist[:, :-lag])
        ok = np.isfinite(d)
        return _ratio(np.where(ok, d, 0.0).sum(axis=1), ok.sum(axis=1))

    s = np.where(n_pts >= 2 * m, mean_abs_diff(m), mean_abs_diff(1))
    return np.where(s > 0, s, np.nan)


def mase(actual, forecast, history, m: int = 12, mask=None) -> np.ndarray:
    """MAE / s with s from `mase_scale` (NaN when s = 0)."""
    return _ratio(mae(actual, forecast, mask), mase_scale(history, m))


def coverage(actual, lower, upper, mask=None) -> np.ndarray:
    """% of points with lower <= A <= upper (FRM-23); NaN with no points."""
    a = np.atleast_2d(np.asarray(actual, dtype=float))
    lo = np.atleast_2d(np.asarray(lower, dtype=float))
    hi = np.atleast_2d(np.asarray(upper, dtype=float))
    ok = np.isfinite(a) & np.isfinite(lo) & np.isfinite(hi)
    if mask is not None:
        ok &= np.atleast_2d(np.asarray(mask, dtype=bool))
    inside = ok & (lo <= a) & (a <= hi)
    return _ratio(inside.sum(axis=1), ok.sum(axis=1)) * 100.0


def score_from(mape_value, wape_value, mape_points, points) -> np.ndarray:
    """FRM-25 from already computed parts.

    MAPE + 0.25 x WAPE when MAPE is defined on at least half of the points, otherwise
    1.25 x WAPE (intermittent series); NaN when WAPE is NaN.
    """
    mape_value = np.asarray(mape_value, dtype=float)
    wape_value = np.asarray(wape_value, dtype=float)
    mape_points = np.asarray(mape_points)
    points = np.asarray(points)
    use_mape = np.isfinite(mape_value) & (2 * mape_points >= points) & (points > 0)
    out = np.where(use_mape, np.where(use_mape, mape_value, 0.0) + 0.25 * wape_value, 1.25 * wape_value)
    return np.where(np.isfinite(wape_value), out, np.nan)


def backtest_score(actual, forecast, mask=None) -> np.ndarray:
    """FRM-25 backtest score per series (lower is better)."""
    a, _, _, ok = _prepare(actual, forecast, mask)
    return score_from(
        mape(actual, forecast, mask),
        wape(actual, forecast, mask),
        (ok & (a != 0)).sum(axis=1),
        ok.sum(axis=1),
    )


def all_metrics(
    actual, forecast, history=None, m: int = 12, lower=None, upper=None, mask=None, round_to: int | None = None
) -> dict[str, np.ndarray]:
    """The FC-41 metric set per series; `round_to=4` applies FRM-26."""
    a, _, _, ok = _prepare(actual, forecast, mask)
    out = {
        "mape": mape(actual, forecast, mask),
        "smape": smape(actual, forecast, mask),
        "wape": wape(actual, forecast, mask),
        "rmse": rmse(actual, forecast, mask),
        "nrmse_pct": nrmse_pct(actual, forecast, mask),
        "mae": mae(actual, forecast, mask),
        "mdae": mdae(actual, forecast, mask),
        "r2": r2(actual, forecast, mask),
        "bias": bias(actual, forecast, mask),
        "hit_rate": hit_rate(actual, forecast, mask),
        "tracking_signal": tracking_signal(actual, forecast, mask),
        "period_count": ok.sum(axis=1),
    }
    out["score"] = score_from(out["mape"], out["wape"], (ok & (a != 0)).sum(axis=1), out["period_count"])
    if history is not None:
        out["mase"] = mase(actual, forecast, history, m, mask)
    if lower is not None and upper is not None:
        out["coverage"] = coverage(actual, lower, upper, mask)
    if round_to is not None:
        out = {key: (val if key == "period_count" else np.round(val, round_to)) for key, val in out.items()}
    return out


def error_metrics(
    errors: np.ndarray, actuals: np.ndarray, scale: np.ndarray, full: bool = False
) -> dict[str, np.ndarray]:
    """Per-series metrics over every (origin, step) point of backtest errors F - A and actuals (n, ...).

    Always `mase` (MAE over the given per-series `scale`: the selection score), `mae`, `rmse`,
    `wape`, `mean_error` and `count`; with `full`, the FC-41 set of `all_metrics` as well (its
    `score` is FRM-25).
    """
    n = errors.shape[0]
    a = np.asarray(actuals, dtype=float).reshape(n, -1)
    f = a + np.asarray(errors, dtype=float).reshape(n, -1)
    _, _, e, ok = _prepare(a, f)
    count = ok.sum(axis=1)
    mae_value = mae(a, f)
    out = {
        "mase": _ratio(mae_value, np.asarray(scale, dtype=float)),
        "mae": mae_value,
        "rmse": rmse(a, f),
        "wape": wape(a, f),
        "mean_error": _ratio(e.sum(axis=1), count),
        "count": count,
    }
    if full:
        extra = all_metrics(a, f)
        extra.pop("period_count", None)
        out = {**extra, **out}
    return out


def rounded(values, digits: int = 4) -> np.ndarray:
    """FRM-26: every metric is rounded to 4 dp."""
    return np.round(np.asarray(values, dtype=float), digits)
