"""Gradient boosting trained across series (FC-20 `gradient_boosting`).

One global scikit-learn HistGradientBoostingRegressor is fitted on every eligible series of the
panel at once. Each series is divided by its own scale (mean |y| of its history, 1 when that is 0)
so series of very different sizes share one model; forecasts are multiplied back. Features for
the value at calendar column t: lags 1, 2, 3, 6, 12, rolling means of the last 3 and 12 values,
month of year (the calendar column modulo m; all series share the calendar, so the phase is the
same month for every row) and the calendar time index. The target is the value minus its
12-month rolling mean (the model learns the seasonal and trend departure from the recent level,
so a trend is carried forward instead of flattening at the largest value seen in training).
Forecasts are recursive: each step's prediction becomes the lag of the next. Deterministic
(random_state 42, no early stopping).

Rows with fewer than 24 points are NaN (FC-22 falls back to `exp_smoothing`).
"""

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from .base import ModelSpec, register

MIN_MONTHS = 24
LAGS = (1, 2, 3, 6, 12)
ROLLING = (3, 12)
MAX_LOOKBACK = max(*LAGS, *ROLLING)
RANDOM_STATE = 42
LEVEL = len(LAGS) + 1  # feature column of the 12-month rolling mean


def _features(y: np.ndarray, cols: np.ndarray, m: int) -> np.ndarray:
    """Feature tensor (n, len(cols), F) for predicting y[:, c] for each c in cols (c >= 12)."""
    n = y.shape[0]
    feats = [y[:, cols - lag] for lag in LAGS]
    for w in ROLLING:
        acc = np.zeros((n, len(cols)))
        for lag in range(1, w + 1):  # loop over lags, arrays over series
            acc = acc + y[:, cols - lag]
        feats.append(acc / w)
    feats.append(np.broadcast_to((cols % max(m, 1)).astype(float), (n, len(cols))))
    feats.append(np.broadcast_to(cols.astype(float), (n, len(cols))))
    return np.stack(feats, axis=2)


def gradient_boosting(
    values: np.ndarray,
    h: int,
    m: int = 12,
    max_iter: int = 200,
    learning_rate: float = 0.05,
    max_depth: int = 3,
    min_samples_leaf: int = 5,
    random_state: int = RANDOM_STATE,
) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    n, t_len = values.shape
    out = np.full((n, h), np.nan)
    valid = np.isfinite(values)
    eligible = valid.sum(axis=1) >= MIN_MONTHS
    if not eligible.any() or h < 1 or t_len <= MAX_LOOKBACK:
        return out
    rows = np.flatnonzero(eligible)
    hist = values[rows]
    ok = valid[rows]
    scale = np.where(ok, np.abs(hist), 0.0).sum(axis=1) / ok.sum(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    y = hist / scale[:, None]

    cols = np.arange(MAX_LOOKBACK, t_len)
    x = _features(y, cols, m)  # NaN wherever a lag falls into the padding
    target = y[:, cols] - x[:, :, LEVEL]  # relative to the last 12 months' mean, so trends carry on
    use = np.isfinite(x).all(axis=2) & np.isfinite(target)
    if use.sum() < 2:
        return out
    model = HistGradientBoostingRegressor(
        max_iter=max_iter,
        learning_rate=learning_rate,
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
        early_stopping=False,
        random_state=random_state,
    )
    # One OpenMP thread: the training sets are small (thousands of rows), where the threads' start
    # and spin cost more than they save, and on a busy machine they oversubscribe the cores.
    with threadpool_limits(limits=1, user_api="openmp"):
        model.fit(x[use], target[use])
        ext = np.concatenate([y, np.full((len(rows), h), np.nan)], axis=1)
        for step in range(h):  # recursive: loop over steps, all series at once
            feats = _features(ext, np.array([t_len + step]), m)[:, 0, :]
            ext[:, t_len + step] = feats[:, LEVEL] + model.predict(feats)
    pred = ext[:, t_len:] * scale[:, None]
    nonneg = np.all(np.where(ok, hist, 0.0) >= 0, axis=1)
    pred = np.where(nonneg[:, None], np.maximum(pred, 0.0), pred)
    out[rows] = pred
    return out


register(
    ModelSpec(
        id="gradient_boosting",
        name="Gradient Boosting",
        min_months=MIN_MONTHS,
        forecast=gradient_boosting,
        params={"max_iter": 200, "learning_rate": 0.05, "max_depth": 3, "min_samples_leaf": 5},
        fallback="exp_smoothing",
        nominal_confidence=84,
        family="machine_learning",
    )
)
