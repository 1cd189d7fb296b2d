"""The backtest's refit schedule (FC-81): parameters / models are re-estimated at every k-th origin and
reused in between, never with data after the origin they forecast from."""

import numpy as np
import pytest

from forecasting.engine.backtest import backtest, origins_for
from forecasting.engine.base import CATALOGUE, ModelSpec
from forecasting.engine.ml import gradient_boosting
from forecasting.engine.models import exp_smoothing, exp_smoothing_fit, exp_smoothing_predict


def _panel(n=8, T=48, seed=3):
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    level = rng.uniform(50, 150, size=(n, 1))
    values = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12)[None, :]) + 0.5 * t[None, :] + rng.normal(0, 5, (n, T))
    values[-1, :10] = np.nan  # a shorter series
    return values


def _spy_spec(every: int, calls: list) -> ModelSpec:
    """Forecasts the width of the panel the state was fitted on; records every fit and predict width."""

    def forecast(values, h, m, **params):
        return np.full((values.shape[0], h), float(values.shape[1]))

    def fit(values, h, m, **params):
        calls.append(("fit", values.shape[1]))
        return forecast(values, h, m), values.shape[1]

    def predict(state, values, h, m, **params):
        calls.append(("predict", values.shape[1]))
        assert state <= values.shape[1]  # the state never saw data after this origin
        return np.full((values.shape[0], h), float(state))

    return ModelSpec("spy", "Spy", 1, forecast, fit=fit, predict=predict, refit_every=every)


@pytest.mark.parametrize("every", [1, 3, 6])
def test_each_origin_uses_the_state_of_the_latest_refit_origin_at_or_before_it(every):
    values = _panel()
    calls: list = []
    bt = backtest(values, [_spy_spec(every, calls)], h=3, m=12, n_origins=14)
    origins = bt.origins
    refits = origins[::every]
    expected = np.array([refits[refits <= o].max() for o in origins], dtype=float)
    assert np.array_equal(bt.forecasts["spy"][0, :, 0], expected)
    if every == 1:  # no schedule: the plain forecast at every origin
        assert calls == []
    else:
        assert [width for kind, width in calls if kind == "fit"] == list(refits)
        assert [width for kind, width in calls] == list(origins)  # each origin sees exactly its own history


def test_refit_every_can_be_overridden_per_call():
    calls: list = []
    bt = backtest(_panel(), [_spy_spec(4, calls)], h=2, m=12, n_origins=8, refit_every={"spy": 1})
    assert calls == []
    assert np.array_equal(bt.forecasts["spy"][0, :, 0], bt.origins.astype(float))


@pytest.mark.parametrize("model", ["exp_smoothing", "gradient_boosting"])
def test_scheduled_backtest_never_uses_points_after_the_origin(model):
    values = _panel()
    h, n_origins = 4, 12
    origins = origins_for(values.shape[1], h, n_origins)
    cut = int(origins[7])
    changed = values.copy()
    changed[:, cut:] = changed[:, cut:] * 3.0 + 500.0  # the future after origin 7, rewritten
    first = backtest(values, [model], h=h, m=12, n_origins=n_origins).forecasts[model]
    second = backtest(changed, [model], h=h, m=12, n_origins=n_origins).forecasts[model]
    assert CATALOGUE[model].refit_every > 1
    assert np.isfinite(first[:, :8]).any()
    np.testing.assert_array_equal(first[:, :8], second[:, :8])  # origins up to `cut` see the same history
    assert not np.allclose(first[:, 8:], second[:, 8:], equal_nan=True)


@pytest.mark.parametrize("model", ["exp_smoothing", "gradient_boosting"])
def test_scheduled_backtest_matches_the_plain_model_at_refit_origins_and_is_deterministic(model):
    values = _panel()
    spec = CATALOGUE[model]
    bt = backtest(values, [model], h=3, m=12, n_origins=13)
    again = backtest(values, [model], h=3, m=12, n_origins=13)
    np.testing.assert_array_equal(bt.forecasts[model], again.forecasts[model])
    plain = exp_smoothing if model == "exp_smoothing" else gradient_boosting
    for j in range(0, bt.origins.size, spec.refit_every):
        o = int(bt.origins[j])
        rows = np.sum(~np.isnan(values[:, :o]), axis=1) >= spec.min_months
        np.testing.assert_allclose(bt.forecasts[model][rows, j], plain(values[rows, :o], 3, 12), rtol=1e-9)


def test_exp_smoothing_predict_reuses_parameters_and_estimates_rows_that_changed_form():
    values = _panel(n=4, T=30)
    fc, state = exp_smoothing_fit(values[:, :20], 3, 12)
    assert np.array_equal(state[:3, 4], [0.0, 0.0, 0.0])  # 20 points < 2m: no seasonal form yet
    longer = values[:, :26]
    reused = exp_smoothing_predict(state, longer, 3, 12)
    _, fresh_state = exp_smoothing_fit(longer, 3, 12)
    # rows now long enough for the seasonal form have no seasonal parameters to reuse: estimated afresh
    seasonal_now = fresh_state[:, 4] == 1.0
    np.testing.assert_allclose(reused[seasonal_now], exp_smoothing(longer, 3, 12)[seasonal_now])
    same, _ = exp_smoothing_fit(values[:, :20], 3, 12)
    np.testing.assert_array_equal(exp_smoothing_predict(state, values[:, :20], 3, 12), same)
    assert np.array_equal(fc, same)


@pytest.mark.parametrize("rows", [1, 40, 500])
def test_forest_predicts_what_the_fitted_regressor_predicts(rows):
    from sklearn.ensemble import HistGradientBoostingRegressor

    from forecasting.engine.ml import Forest

    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 5))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values follow each split's learned side
    y = np.nan_to_num(x[:, 0]) * 2 + np.nan_to_num(x[:, 1]) ** 2 + rng.normal(0, 0.1, 400)
    model = HistGradientBoostingRegressor(max_iter=50, max_depth=3, early_stopping=False, random_state=0).fit(x, y)
    new = rng.normal(size=(rows, 5))
    new[rng.random(new.shape) < 0.1] = np.nan
    np.testing.assert_allclose(Forest(model).predict(new), model.predict(new), rtol=0, atol=1e-10)
