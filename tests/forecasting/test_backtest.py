"""Backtest tests (origins, per-step errors, failure isolation); stand-in models shared with the pipeline tests."""

import numpy as np
import pytest

from forecasting.engine.backtest import backtest, origins_for, safe_forecast
from forecasting.engine.base import CATALOGUE, ModelSpec


def _last(values: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(values)
    idx = values.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)
    return np.where(valid.any(axis=1), values[np.arange(values.shape[0]), idx], np.nan)


def naive(values, h, m, **params):
    return np.repeat(_last(values)[:, None], h, axis=1)


def mean(values, h, m, **params):
    with np.errstate(all="ignore"):
        level = np.nanmean(values, axis=1) if values.shape[1] else np.full(values.shape[0], np.nan)
    return np.repeat(level[:, None], h, axis=1)


def drift(values, h, m, **params):
    n = np.sum(~np.isnan(values), axis=1)
    first = values[np.arange(values.shape[0]), values.shape[1] - np.maximum(n, 1)]
    last = _last(values)
    with np.errstate(all="ignore"):
        slope = np.where(n > 1, (last - first) / (n - 1), np.nan)
    return last[:, None] + slope[:, None] * np.arange(1, h + 1)[None, :]


def seasonal_naive(values, h, m, **params):
    n = np.sum(~np.isnan(values), axis=1)
    T = values.shape[1]
    cols = T - m + (np.arange(h) % m)
    out = values[:, cols] if m <= T else np.full((values.shape[0], h), np.nan)
    return np.where((n >= m)[:, None], out, np.nan)


def boom(values, h, m, **params):
    """Raises whenever a row holds a value above 900 (one bad series poisons the whole call)."""
    if np.nanmax(values) > 900:
        raise RuntimeError("fit exploded")
    return naive(values, h, m) * 0.5 + mean(values, h, m) * 0.5


def nan_model(values, h, m, **params):
    return np.full((values.shape[0], h), np.nan)


STANDINS = {
    "naive": ModelSpec("naive", "Naive", 1, naive),
    "mean": ModelSpec("mean", "Mean", 1, mean),
    "drift": ModelSpec("drift", "Drift", 2, drift),
    "seasonal_naive": ModelSpec("seasonal_naive", "Seasonal naive", 4, seasonal_naive, fallback="naive"),
    "moving_average": ModelSpec("moving_average", "Moving average (stand-in)", 3, mean, fallback=None),
    "exp_smoothing": ModelSpec("exp_smoothing", "ETS (stand-in)", 12, drift, fallback="moving_average"),
    "prophet": ModelSpec("prophet", "Prophet", 24, nan_model, fallback="exp_smoothing", available=False),
    "boom": ModelSpec("boom", "Boom", 1, boom, fallback="naive"),
    "nan_model": ModelSpec("nan_model", "NaN", 1, nan_model, fallback="mean"),
}


def use(*ids: str) -> None:
    CATALOGUE.clear()
    for model_id in ids:
        CATALOGUE[model_id] = STANDINS[model_id]


def isolated_catalogue():
    """An isolated catalogue: the test registers stand-ins; the real one is restored afterwards."""
    saved = dict(CATALOGUE)
    CATALOGUE.clear()
    yield CATALOGUE
    CATALOGUE.clear()
    CATALOGUE.update(saved)


@pytest.fixture
def catalogue():
    yield from isolated_catalogue()


def test_origins_are_spaced_back_from_the_end():
    assert origins_for(10, 3, n_origins=4, step=1).tolist() == [6, 7, 8, 9]
    assert origins_for(10, 3, n_origins=4, step=2).tolist() == [4, 6, 8]
    assert origins_for(10, 3, n_origins=4, step=3, min_train=3).tolist() == [4, 7]


def test_backtest_hand_example_errors_by_step(catalogue):
    use("naive")
    values = np.array([[1.0, 2, 3, 4, 5, 6], [np.nan, np.nan, 10, 10, 10, 10]])
    bt = backtest(values, ["naive"], h=2, m=12, n_origins=3)
    assert bt.origins.tolist() == [3, 4, 5]
    err = bt.errors("naive")
    assert err.shape == (2, 3, 2)
    # Row 0: origin 3 forecasts 3 for actuals 4, 5; origin 4: 4 vs 5, 6; origin 5: 5 vs 6, (past the end).
    np.testing.assert_array_equal(err[0], [[-1, -2], [-1, -2], [-1, np.nan]])
    # Row 1 has 1 point at origin 3 and 2 at origin 4 (< 3 minimum training points): not scored there.
    assert np.isnan(err[1, :2]).all()
    np.testing.assert_array_equal(err[1, 2], [0, np.nan])
    assert bt.scale[0] == 1.0  # mean |first difference| (lag 1 below 2m points)
    np.testing.assert_allclose(bt.score("naive")[0], 7 / 5)
    np.testing.assert_allclose(bt.mase_by_step("naive")[0], [1, 2])
    table = bt.table(0)["naive"]
    assert table["count"] == 5
    assert table["mae"] == 1.4
    assert table["rmse"] == round(np.sqrt(11 / 5), 4)


def test_backtest_step_spacing(catalogue):
    use("naive")
    values = np.arange(1.0, 9)[None, :]
    bt = backtest(values, ["naive"], h=3, m=12, n_origins=3, step=2)
    assert bt.origins.tolist() == [4, 6]
    np.testing.assert_array_equal(bt.errors("naive")[0], [[-1, -2, -3], [-1, -2, np.nan]])


def test_backtest_panel_matches_each_series_alone(catalogue):
    use("naive", "mean", "drift", "seasonal_naive")
    rng = np.random.default_rng(1)
    values = rng.normal(50, 10, (4, 20))
    values[1, :7] = np.nan
    values[3, :12] = np.nan
    models = list(CATALOGUE)
    together = backtest(values, models, h=3, m=4, n_origins=5)
    for i in range(values.shape[0]):
        alone = backtest(values[i : i + 1], models, h=3, m=4, n_origins=5)
        for model in models:
            np.testing.assert_allclose(together.forecasts[model][i], alone.forecasts[model][0])


def test_failing_series_is_isolated(catalogue):
    use("boom")
    values = np.tile(np.arange(1.0, 11), (5, 1))
    values[3, -4] = 999.0  # row 3 makes every call that includes it raise
    fc, reasons = safe_forecast(CATALOGUE["boom"], values, h=2, m=12)
    assert np.isfinite(fc[[0, 1, 2, 4]]).all()
    assert np.isnan(fc[3]).all()
    assert reasons[3].startswith("error: RuntimeError: fit exploded")
    assert reasons[[0, 1, 2, 4]].tolist() == [None] * 4


def test_short_and_nan_rows_get_reasons(catalogue):
    use("drift", "nan_model")
    values = np.array([[np.nan, 1.0], [1.0, 2.0]])
    fc, reasons = safe_forecast(CATALOGUE["drift"], values, h=1, m=12)
    assert reasons[0] == "history too short (1 < 2 months)"
    assert fc[1, 0] == 3.0
    _, reasons = safe_forecast(CATALOGUE["nan_model"], values, h=1, m=12)
    assert reasons.tolist() == ["produced NaN or infinite values"] * 2


def test_models_can_train_on_a_cleaned_history_and_be_judged_on_the_raw_one(catalogue):
    use("naive")
    raw = np.array([[10.0, 10, 10, 10, 90, 10, 10, 10]])
    cleaned = np.array([[10.0, 10, 10, 10, 10, 10, 10, 10]])
    result = backtest(cleaned, ["naive"], h=1, m=4, n_origins=5, actuals=raw)
    # origin 4 (train 10, 10, 10, 10) is judged against the raw 90; the spike never reaches training
    np.testing.assert_allclose(result.origins, [3, 4, 5, 6, 7])
    np.testing.assert_allclose(result.errors("naive")[0, :, 0], [0.0, -80, 0, 0, 0])
    np.testing.assert_allclose(result.actuals[0, :, 0], [10.0, 90, 10, 10, 10])
