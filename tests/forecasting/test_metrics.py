"""FRM-20 to FRM-25 metrics on a two-series example computed by hand."""

import numpy as np
import pytest

from forecasting.engine import metrics

NAN = np.nan
A = np.array([[100, 200, 0, 50], [10, 20, 30, 40.0]])
F = np.array([[110, 180, 5, 50], [12, 20, 24, NAN]])  # series 2 has 3 matched points
# e = [10, -20, 5, 0] and [2, 0, -6]


def test_mape_skips_zero_actuals():
    np.testing.assert_allclose(metrics.mape(A, F), [(0.1 + 0.1 + 0) / 3 * 100, (0.2 + 0 + 0.2) / 3 * 100])


def test_smape_skips_double_zero():
    s1 = (20 / 210 + 40 / 380 + 10 / 5 + 0) / 4 * 100
    s2 = (4 / 22 + 0 + 12 / 54) / 3 * 100
    np.testing.assert_allclose(metrics.smape(A, F), [s1, s2])
    assert np.isnan(metrics.smape([[0, 0]], [[0, 0]])[0])


def test_wape_rmse_mae():
    np.testing.assert_allclose(metrics.wape(A, F), [35 / 350 * 100, 8 / 60 * 100])
    np.testing.assert_allclose(metrics.rmse(A, F), [np.sqrt(525 / 4), np.sqrt(40 / 3)])
    np.testing.assert_allclose(metrics.mae(A, F), [35 / 4, 8 / 3])
    assert np.isnan(metrics.wape([[0, 0]], [[1, 1]])[0])


def test_bias_sign_and_hit_rate():
    np.testing.assert_allclose(metrics.bias(A, F), [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(metrics.bias([[100, 100]], [[110, 130]]), [20.0])  # over-forecast positive
    # |e|/|A| = .1, .1, (A=0 miss), 0 -> 3 of 4; .2, 0, .2 -> 3 of 3 (the 20 % edge is a hit)
    np.testing.assert_allclose(metrics.hit_rate(A, F), [75.0, 100.0])


def test_mase_seasonal_and_lag1_scales():
    season = np.arange(12.0) * 3
    long_hist = np.concatenate([season, season + 2])  # 24 points: seasonal differences are all 2
    short_hist = np.concatenate([np.full(19, NAN), [1, 2, 4, 7, 11.0]])  # lag-1 diffs 1..4 -> 2.5
    history = np.stack([long_hist, short_hist])
    np.testing.assert_allclose(metrics.mase_scale(history, m=12), [2.0, 2.5])
    np.testing.assert_allclose(metrics.mase(A, F, history, m=12), [(35 / 4) / 2.0, (8 / 3) / 2.5])
    assert np.isnan(metrics.mase_scale(np.full((1, 5), 3.0))[0])  # s = 0 -> null


def test_coverage():
    lower = np.array([[90, 190, 0, 60], [5, 25, 20, 30.0]])
    upper = np.array([[110, 210, 1, 70], [15, 30, 40, NAN]])
    # series 1: in, in, in, out (50 < 60); series 2: in, out, in (last point unmatched)
    np.testing.assert_allclose(metrics.coverage(A, lower, upper), [75.0, 200 / 3])


def test_backtest_score_frm25():
    np.testing.assert_allclose(metrics.backtest_score(A, F), [20 / 3 + 2.5, 40 / 3 + 0.25 * 40 / 3])
    # intermittent: MAPE defined on 1 of 4 points -> 1.25 x WAPE
    assert metrics.backtest_score([[0, 0, 0, 5.0]], [[1, 1, 1, 1.0]])[0] == pytest.approx(1.25 * 140)
    assert np.isnan(metrics.backtest_score([[0, 0.0]], [[1, 1.0]])[0])


def test_all_metrics_rounds_and_rows_are_independent():
    out = metrics.all_metrics(A, F, round_to=4)
    assert out["wape"][0] == 10.0
    assert out["mape"][0] == 6.6667
    assert list(out["period_count"]) == [4, 3]
    alone = metrics.all_metrics(A[1:], F[1:], round_to=4)
    for key, val in alone.items():
        np.testing.assert_allclose(out[key][1:], val, equal_nan=True)


def test_r2_tracking_signal_and_mdae():
    a = np.array([[1, 2, 3.0]])
    f = np.array([[2, 2, 4.0]])  # e = 1, 0, 1
    assert metrics.r2(a, f)[0] == pytest.approx(1 - 2 / 2)
    assert metrics.tracking_signal(a, f)[0] == pytest.approx(2 / (2 / 3))
    assert metrics.mdae(a, f)[0] == 1.0
    assert metrics.tracking_signal(a, a)[0] == 0.0
