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
from threadpoolctl import ThreadpoolController

from .base import ModelSpec, register

MIN_MONTHS = 24
LAGS = (1, 2, 3, 6, 12)
ROLLING = (3, 12)
MAX_LOOKBACK = max(*LAGS, *ROLLING)
RANDOM_STATE = 42
# Backtest origins between two trainings (ModelSpec.refit_every): in between, the model trained at the
# latest refit origin forecasts from the lags of the current origin's history.
REFIT_EVERY = 6
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


ARRAY_ROWS = 128  # Forest.predict: rows up to which the array evaluation beats sklearn's predict
_THREADS: ThreadpoolController | None = None


def _one_thread():
    """One OpenMP thread for a fit. The controller is built once: scanning the loaded libraries costs
    milliseconds, as much as a small fit."""
    global _THREADS
    if _THREADS is None:
        _THREADS = ThreadpoolController()
    return _THREADS.limit(limits=1, user_api="openmp")


class Forest:
    """A fitted regressor's trees as flat arrays, evaluated for every row and tree at once.

    The recursive forecast predicts a few rows per step; sklearn's per-call validation and per-tree
    loop cost far more than the arithmetic there (up to about a hundred rows; above `ARRAY_ROWS` rows
    sklearn's compiled predictor is faster and is used). Same split rule as sklearn's predictor (x <= threshold
    goes left, NaN follows missing_go_to_left); sums may differ from sklearn's in the last bits.
    """

    def __init__(self, model: HistGradientBoostingRegressor):
        trees = [predictors[0].nodes for predictors in model._predictors]
        if any(tree["is_categorical"].any() for tree in trees):  # not produced by our features
            raise ValueError("categorical splits are not supported")
        k, size = len(trees), max(len(tree) for tree in trees)

        def stack(name, fill, dtype):
            out = np.full((k, size), fill, dtype=dtype)
            for i, tree in enumerate(trees):
                out[i, : len(tree)] = tree[name]
            return out

        self.feature = stack("feature_idx", 0, np.intp)
        self.threshold = stack("num_threshold", 0.0, float)
        self.left = stack("left", 0, np.intp)
        self.right = stack("right", 0, np.intp)
        self.nan_left = stack("missing_go_to_left", 0, bool)
        self.leaf = stack("is_leaf", 1, bool)
        self.value = stack("value", 0.0, float)
        self.depth = max(int(tree["depth"].max()) for tree in trees)
        self.base = float(np.ravel(model._baseline_prediction)[0])
        self.model = model

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape[0] > ARRAY_ROWS:
            with _one_thread():
                return self.model.predict(x)
        tree = np.arange(self.feature.shape[0])[None, :]
        node = np.zeros((x.shape[0], tree.shape[1]), dtype=np.intp)
        for _ in range(self.depth):
            xv = np.take_along_axis(x, self.feature[tree, node], axis=1)
            left = np.where(np.isnan(xv), self.nan_left[tree, node], xv <= self.threshold[tree, node])
            node = np.where(self.leaf[tree, node], node, np.where(left, self.left[tree, node], self.right[tree, node]))
        return self.base + self.value[tree, node].sum(axis=1)


def _scaled(values: np.ndarray):
    """Eligible rows, their history, validity mask, per-row scale and scaled history."""
    valid = np.isfinite(values)
    rows = np.flatnonzero(valid.sum(axis=1) >= MIN_MONTHS)
    hist = values[rows]
    ok = valid[rows]
    scale = np.where(ok, np.abs(hist), 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    scale = np.where(scale > 0, scale, 1.0)
    return rows, hist, ok, scale, hist / scale[:, None]


def gradient_boosting_fit(
    values: np.ndarray,
    h: int,
    m: int = 12,
    max_iter: int = 200,
    learning_rate: float = 0.05,
    max_depth: int = 3,
    min_samples_leaf: int = 5,
    random_state: int = RANDOM_STATE,
) -> tuple[np.ndarray, Forest | None]:
    """Trains the model on the panel and forecasts it; returns (forecasts (n, h), trained trees or None)."""
    values = np.asarray(values, dtype=float)
    n, t_len = values.shape
    rows, _, _, _, y = _scaled(values)
    if rows.size == 0 or h < 1 or t_len <= MAX_LOOKBACK:
        return np.full((n, h), np.nan), None
    cols = np.arange(MAX_LOOKBACK, t_len)
    x = _features(y, cols, m)  # NaN wherever a lag falls into the padding
    target = y[:, cols] - x[:, :, LEVEL]  # relative to the last 12 months' mean, so trends carry on
    use = np.isfinite(x).all(axis=2) & np.isfinite(target)
    if use.sum() < 2:
        return np.full((n, h), np.nan), None
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
    with _one_thread():
        model.fit(x[use], target[use])
    forest = Forest(model)
    return gradient_boosting_predict(forest, values, h, m), forest


def gradient_boosting_predict(forest: Forest | None, values: np.ndarray, h: int, m: int = 12, **params) -> np.ndarray:
    """Recursive forecasts of every eligible row of `values` with trained trees (NaN without them)."""
    values = np.asarray(values, dtype=float)
    n, t_len = values.shape
    out = np.full((n, h), np.nan)
    rows, hist, ok, scale, y = _scaled(values)
    if forest is None or rows.size == 0 or h < 1 or t_len <= MAX_LOOKBACK:
        return out
    ext = np.concatenate([y, np.full((len(rows), h), np.nan)], axis=1)
    for step in range(h):  # recursive: loop over steps, all series at once
        feats = _features(ext, np.array([t_len + step]), m)[:, 0, :]
        ext[:, t_len + step] = feats[:, LEVEL] + forest.predict(feats)
    pred = ext[:, t_len:] * scale[:, None]
    nonneg = np.all(np.where(ok, hist, 0.0) >= 0, axis=1)
    pred = np.where(nonneg[:, None], np.maximum(pred, 0.0), pred)
    out[rows] = pred
    return out


def gradient_boosting(values: np.ndarray, h: int, m: int = 12, **params) -> np.ndarray:
    return gradient_boosting_fit(values, h, m, **params)[0]


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
        fit=gradient_boosting_fit,
        predict=gradient_boosting_predict,
        refit_every=REFIT_EVERY,
    )
)
