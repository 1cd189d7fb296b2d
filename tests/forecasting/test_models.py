"""Statistical models of the catalogue (FC-20): hand-computed tiny series and vectorisation."""

import numpy as np
import pytest

from forecasting.engine import models as M
from forecasting.engine.base import CATALOGUE

NAN = np.nan


def row(*values):
    return np.array([values], dtype=float)


def pad(values, T):
    """One row left-padded with NaN to width T."""
    values = np.asarray(values, dtype=float)
    return np.concatenate([np.full(T - len(values), NAN), values])[None, :]


# ---------------------------------------------------------------------------------------------
# helpers


def test_right_and_left_align():
    v = np.array([[NAN, NAN, 1, 2], [3, NAN, 4, NAN], [5, 6, 7, 8]])
    right, n = M.right_align(v)
    np.testing.assert_array_equal(n, [2, 2, 4])
    np.testing.assert_array_equal(right, [[NAN, NAN, 1, 2], [NAN, NAN, 3, 4], [5, 6, 7, 8]])
    left, _ = M.left_align(v)
    np.testing.assert_array_equal(left, [[1, 2, NAN, NAN], [3, 4, NAN, NAN], [5, 6, 7, 8]])


def test_interval_scale():
    np.testing.assert_allclose(M.interval_scale([1, 2, 5, 100]), [1.0, 1.15, 1.3, 2.0])


# ---------------------------------------------------------------------------------------------
# moving average and EWMA


def test_moving_average_weights_and_trend():
    # window 3 on [2, 4, 7]: (1*2 + 2*4 + 3*7) / 6 = 31/6; trend 0.3 * (7 - 4) = 0.9, times 0.5 * i
    out = M.moving_average(row(1, 2, 4, 7), 3, window=3, trend_weight=0.5)
    np.testing.assert_allclose(out, [[31 / 6 + 0.45, 31 / 6 + 0.9, 31 / 6 + 1.35]])


def test_moving_average_window_capped_at_n():
    # window 6 capped at n = 4: (1 + 2*2 + 3*4 + 4*7) / 10 = 4.5, trend weight 0 -> flat
    out = M.moving_average(pad([1, 2, 4, 7], 8), 2, window=6, trend_weight=0.0)
    np.testing.assert_allclose(out, [[4.5, 4.5]])


def test_ewma_recursion_and_trend():
    # alpha 0.5: l = 2, 3, 4.5, 7.25; trend = mean(2, 2, 4) = 8/3; pred_i = 7.25 + 8/3 * 0.4 * i
    out = M.ewma(row(2, 4, 6, 10), 2, alpha=0.5, trend_weight=0.4)
    np.testing.assert_allclose(out, [[7.25 + 8 / 3 * 0.4, 7.25 + 2 * 8 / 3 * 0.4]])


def test_ewma_no_trend_below_four_points():
    out = M.ewma(pad([2, 4, 6], 6), 2, alpha=0.5, trend_weight=0.4)
    np.testing.assert_allclose(out, [[4.5, 4.5]])


def test_all_nan_rows_are_nan():
    v = np.array([[NAN, NAN, NAN], [1.0, 2.0, 3.0]])
    for model in (M.moving_average, M.ewma):
        out = model(v, 2)
        assert np.isnan(out[0]).all()
        assert np.isfinite(out[1]).all()


# ---------------------------------------------------------------------------------------------
# seasonal naive


def test_seasonal_naive_indexing():
    v = np.arange(1, 11, dtype=float)[None, :]
    np.testing.assert_array_equal(M.seasonal_naive(v, 6, m=4), [[7, 8, 9, 10, 7, 8]])
    np.testing.assert_array_equal(M.seasonal_naive(v, 2, m=12, season_length=3), [[8, 9]])


def test_seasonal_naive_too_short_is_nan():
    v = np.vstack([pad([1, 2, 3], 5), pad([1, 2, 3, 4, 5], 5)])
    out = M.seasonal_naive(v, 2, m=4)
    assert np.isnan(out[0]).all()
    np.testing.assert_array_equal(out[1], [2, 3])


# ---------------------------------------------------------------------------------------------
# exponential smoothing


def test_holt_on_a_line_forecasts_the_line():
    v = pad(3 + 2 * np.arange(10.0), 14)
    out = M.exp_smoothing(v, 3, m=12, damped_trend=False)
    np.testing.assert_allclose(out, [[23, 25, 27]], atol=1e-9)


def _holt_reference(y, h, alpha, beta, phi):
    b = y[1] - y[0]
    level = y[0] - b
    for value in y:
        new_level = alpha * value + (1 - alpha) * (level + phi * b)
        b = beta * (new_level - level) + (1 - beta) * phi * b
        level = new_level
    return [level + b * sum(phi**k for k in range(1, i + 1)) for i in range(1, h + 1)]


def test_damped_holt_with_given_parameters_matches_scalar_recursion():
    y = np.array([5.0, 7, 6, 9, 11, 10, 12, 15])
    out = M.exp_smoothing(pad(y, 10), 4, smoothing_level=0.3, beta=0.2, phi=0.9)
    np.testing.assert_allclose(out[0], _holt_reference(y, 4, 0.3, 0.2, 0.9))


def test_damped_holt_estimates_parameters_from_the_grid():
    y = np.array([5.0, 7, 6, 9, 11, 10, 12, 15, 14, 16])
    out = M.exp_smoothing(y[None, :], 3)
    best = min(
        (
            sum(
                (y[t] - v) ** 2
                for t, v in enumerate(_one_step_holt(y, a, b, p))  # one-step fits
            ),
            a,
            b,
            p,
        )
        for a in M._ALPHA_GRID
        for b in M._BETA_GRID
        for p in M._PHI_GRID
    )
    np.testing.assert_allclose(out[0], _holt_reference(y, 3, *best[1:]))


def _one_step_holt(y, alpha, beta, phi):
    b = y[1] - y[0]
    level = y[0] - b
    fits = []
    for value in y:
        fits.append(level + phi * b)
        new_level = alpha * value + (1 - alpha) * (level + phi * b)
        b = beta * (new_level - level) + (1 - beta) * phi * b
        level = new_level
    return fits


def test_holt_winters_additive_recovers_exact_seasonal_line():
    s = np.array([3.0, -1, -4, 2])
    t = np.arange(24)
    y = 10 + 0.5 * t + s[t % 4]
    out = M.exp_smoothing(pad(y[:16], 18), 8, m=4, damped_trend=False, seasonal="additive")
    np.testing.assert_allclose(out[0], y[16:], atol=1e-9)
    auto = M.exp_smoothing(pad(y[:16], 18), 8, m=4, damped_trend=False)  # auto = additive
    np.testing.assert_allclose(auto, out)


def test_holt_winters_multiplicative_tracks_seasonality():
    f = np.array([1.3, 0.9, 0.7, 1.1])
    t = np.arange(28)
    y = (20 + 0.5 * t) * f[t % 4]
    out = M.exp_smoothing(y[None, :24], 4, m=4, damped_trend=False, seasonal="multiplicative")
    np.testing.assert_allclose(out[0], y[24:], rtol=0.03)


def test_multiplicative_on_non_positive_data_is_a_fit_failure():
    y = np.tile([1.0, 0.0, 2.0, 3.0], 6)
    assert np.isnan(M.exp_smoothing(y[None, :], 2, m=4, seasonal="multiplicative")).all()


def test_no_seasonality_below_two_seasons():
    s = np.array([3.0, -1, -4, 2])
    y = 10 + s[np.arange(7) % 4]
    with_season = M.exp_smoothing(y[None, :], 2, m=4, seasonal="additive")
    without = M.exp_smoothing(y[None, :], 2, m=4, seasonal="none")
    np.testing.assert_allclose(with_season, without)


def test_exp_smoothing_too_short_is_nan():
    v = np.vstack([pad([1, 2, 3], 6), pad([1, 2, 3, 4], 6)])
    out = M.exp_smoothing(v, 2)
    assert np.isnan(out[0]).all()
    assert np.isfinite(out[1]).all()


# ---------------------------------------------------------------------------------------------
# Theta


def test_theta_on_a_line():
    y = 3 + 2 * np.arange(10.0)
    out = M.theta(pad(y, 12), 4)[0]
    # SES: the squared one-step error falls with alpha, so the grid's 0.99 wins
    a, level = 0.99, y[0]
    for value in y[1:]:
        level += a * (value - level)
    b0 = 2.0
    expected = [level + b0 / 2 * (i - 1 + 1 / a - (1 - a) ** 10 / a) for i in range(1, 5)]
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(np.diff(out), 1.0)  # half the OLS slope per step


def test_theta_general_theta_scales_the_drift():
    y = 3 + 2 * np.arange(10.0)
    out = M.theta(y[None, :], 3, theta=3.0, alpha=0.5)[0]
    np.testing.assert_allclose(np.diff(out), 2.0 * 2 / 3)


def test_theta_deseasonalises_a_seasonal_series():
    pattern = 10 + np.array([3.0, 5, 2, -1, -4, -6, -3, 0, 1, 4, 6, -7])
    y = np.tile(pattern, 3)  # n = 36, a perfect multiplicative (and additive) season
    out = M.theta(y[None, :], 12, m=12)[0]
    np.testing.assert_allclose(out, pattern, rtol=1e-9)
    flat = M.theta(y[None, :], 12, m=12, seasonal="none")[0]
    assert np.ptp(np.diff(flat)) < 1e-9  # no season: a straight line


def test_theta_too_short_is_nan():
    v = np.vstack([pad([1, 2, 3, 4, 5], 7), pad([1, 2, 3, 4, 5, 6], 7)])
    out = M.theta(v, 2)
    assert np.isnan(out[0]).all()
    assert np.isfinite(out[1]).all()


# ---------------------------------------------------------------------------------------------
# ARIMA


def test_arima_random_walk_forecasts_the_last_value():
    y = np.array([5.0, 7, 6, 9, 11, 10, 12, 15, 14, 16, 13, 17, 18])
    out = M.arima(y[None, :], 3, p=0, d=1, q=0)
    np.testing.assert_allclose(out, [[18, 18, 18]])


def test_arima_ar1_on_differences():
    diffs = 64 * 0.5 ** np.arange(14)
    y = np.concatenate([[0.0], np.cumsum(diffs)])  # differences halve exactly: phi = 0.5
    out = M.arima(y[None, :-2], 2, p=1, d=1, q=0)
    np.testing.assert_allclose(out[0], y[-2:], rtol=1e-6)


def test_arima_111_fits_simulated_data():
    rng = np.random.default_rng(3)
    e = rng.normal(size=(1, 200))
    z = np.zeros_like(e)
    for t in range(1, 200):
        z[:, t] = 0.6 * z[:, t - 1] + e[:, t] + 0.3 * e[:, t - 1]
    y = 100 + np.cumsum(z, axis=1)
    point, sd = M._arima_fit(y, 4)
    assert np.isfinite(point).all()
    assert np.all(np.diff(sd[0]) > 0)
    lo, hi = M.bands(y, point, "arima")
    np.testing.assert_allclose(hi - point, 1.96 * sd)
    np.testing.assert_allclose(lo, np.maximum(point - 1.96 * sd, 0.0))


def test_arima_too_short_is_nan():
    assert np.isnan(M.arima(np.arange(11.0)[None, :], 2)).all()


# ---------------------------------------------------------------------------------------------
# vectorisation: a panel equals each series alone


@pytest.mark.parametrize(
    ("model_id", "params"),
    [
        ("moving_average", {}),
        ("ewma", {}),
        ("exp_smoothing", {}),
        ("exp_smoothing", {"seasonal": "multiplicative"}),
        ("seasonal_naive", {}),
        ("theta", {}),
        ("arima", {}),
    ],
)
def test_panel_rows_equal_each_series_alone(model_id, params):
    rng = np.random.default_rng(7)
    T = 40
    t = np.arange(T)
    base = 50 + 0.8 * t + 8 * np.sin(2 * np.pi * t / 12)
    panel = base + rng.normal(0, 2, (6, T)) * np.arange(1, 7)[:, None]
    panel[1, :] *= 1.0 + 0.4 * np.sin(2 * np.pi * t / 12)
    for i, start in enumerate([0, 5, 16, 28, 34, 38]):  # lengths 40, 35, 24, 12, 6, 2
        panel[i, :start] = NAN
    forecast = CATALOGUE[model_id].forecast
    together = forecast(panel, 5, 12, **params)
    for i in range(panel.shape[0]):
        alone = forecast(panel[i : i + 1, ~np.isnan(panel[i])], 5, 12, **params)
        np.testing.assert_allclose(together[i], alone[0], rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# bands and catalogue


def test_bands_use_population_std_and_scale():
    v = row(1, 2, 3, 4)
    point = np.array([[1.0, 5.0]])
    lo, hi = M.bands(v, point, "moving_average")
    half = 1.96 * np.sqrt(1.25) * np.array([1.0, 1.15])
    np.testing.assert_allclose(hi, point + half)
    np.testing.assert_allclose(lo, np.maximum(point - half, 0.0))
    assert lo[0, 0] == 0.0
    lo80, _ = M.bands(v, point, "ewma", z=1.2816)
    np.testing.assert_allclose(lo80[0, 1], 5.0 - 1.2816 * np.sqrt(1.25) * 1.15)


def test_bands_exp_smoothing_use_in_sample_residuals():
    y = 3 + 2 * np.arange(10.0)
    point = M.exp_smoothing(y[None, :], 2, damped_trend=False)
    lo, hi = M.bands(y[None, :], point, "exp_smoothing", damped_trend=False)
    np.testing.assert_allclose(lo, point, atol=1e-9)  # a perfect fit has no residual spread
    np.testing.assert_allclose(hi, point, atol=1e-9)


def test_catalogue_entries_order_and_fallbacks():
    ids = [i for i in CATALOGUE if i in M.MIN_POINTS or i in ("arima", "prophet", "lstm")]
    assert ids == ["moving_average", "ewma", "exp_smoothing", "seasonal_naive", "arima", "prophet", "lstm", "theta"]
    assert CATALOGUE["exp_smoothing"].fallback == "moving_average"
    assert CATALOGUE["seasonal_naive"].fallback == "ewma"
    assert CATALOGUE["theta"].fallback == "ewma"
    assert CATALOGUE["arima"].fallback == "exp_smoothing"
    for model_id in ("prophet", "lstm"):
        spec = CATALOGUE[model_id]
        assert spec.available is False
        assert spec.fallback == "exp_smoothing"
        assert np.isnan(spec.forecast(np.ones((2, 30)), 3, 12)).all()


def test_arima_forecast_matches_scalar_recursion(monkeypatch):
    rng = np.random.default_rng(1)
    e = rng.normal(size=80)
    z = np.zeros(80)
    for t in range(1, 80):
        z[t] = 0.6 * z[t - 1] + e[t] + 0.3 * e[t - 1]
    y = 100 + np.cumsum(z)
    seen = []
    original = M._pull_inside

    def spy(coef):
        seen.append(original(coef))
        return seen[-1]

    monkeypatch.setattr(M, "_pull_inside", spy)
    out = M.arima(y[None, :], 3)[0]
    phi, theta = seen[0][0, 0], -seen[1][0, 0]
    d = np.diff(y)
    resid = np.zeros(len(d))
    for s in range(1, len(d)):
        resid[s] = d[s] - phi * d[s - 1] - theta * resid[s - 1]
    z1 = phi * d[-1] + theta * resid[-1]
    np.testing.assert_allclose(out, y[-1] + np.cumsum([z1, phi * z1, phi**2 * z1]))


def test_arima_pull_inside_makes_roots_stationary():
    coef = np.array([[1.3], [0.5], [-1.2]])
    pulled = M._pull_inside(coef)
    np.testing.assert_allclose(pulled[:, 0], [0.98, 0.5, -0.98])
    ar2 = np.array([[1.5, 0.6]])  # inverse roots outside the unit circle
    assert M._max_inverse_root(M._pull_inside(ar2))[0] == pytest.approx(0.98)


def test_unknown_seasonal_choice_is_rejected():
    y = np.arange(1.0, 30.0)[None, :]
    with pytest.raises(ValueError, match="seasonal"):
        M.exp_smoothing(y, 2, seasonal="weekly")
    with pytest.raises(ValueError, match="seasonal"):
        M.theta(y, 2, seasonal="weekly")
