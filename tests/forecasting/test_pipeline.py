"""Pipeline tests: selection, combination, the seasonal-naive safety net, failures, fallbacks, intervals."""

import numpy as np
import pytest

from forecasting.engine.base import CATALOGUE, Panel
from forecasting.engine.pipeline import conformal_quantile, forecast_panel, interval_widths, load_catalogue
from tests.forecasting.test_backtest import isolated_catalogue, use


@pytest.fixture
def catalogue():
    yield from isolated_catalogue()


SEASON = np.tile([10.0, 20.0, 30.0, 40.0], 6)  # clean, period 4
TREND = np.arange(1.0, 25.0) * 3 + 10  # clean linear trend


def panel(*rows, ids=None) -> Panel:
    T = max(len(r) for r in rows)
    values = np.full((len(rows), T), np.nan)
    for i, r in enumerate(rows):
        values[i, T - len(r) :] = r
    return Panel(ids=tuple(ids or (f"s{i}" for i in range(len(rows)))), values=values, start="2020-01")


def test_selection_picks_seasonal_and_trend_models(catalogue):
    use("naive", "mean", "drift", "seasonal_naive")
    result = forecast_panel(panel(SEASON, TREND), h=4, m=4, top_k=1, anchors=())
    assert result.models == ["seasonal_naive", "drift"]
    np.testing.assert_allclose(result.forecast[0], [10, 20, 30, 40])
    np.testing.assert_allclose(result.forecast[1], TREND[-1] + 3 * np.arange(1, 5))
    assert result.records[1].reason.startswith("Selected drift")
    assert result.records[1].backtest["drift"]["mase"] == 0.0


def test_default_is_a_combination_of_the_best_models(catalogue):
    use("naive", "mean", "drift")
    result = forecast_panel(panel(TREND), h=2, m=4, top_k=3)
    record = result.records[0]
    assert record.model == "ensemble"
    assert record.members == ("drift", "naive", "mean")
    # median of drift (last + 3i), naive (last) and mean: naive's value
    np.testing.assert_allclose(result.forecast[0], [TREND[-1], TREND[-1]])
    assert "ensemble" in record.backtest


def test_default_combination_is_the_best_two_and_the_scored_anchor_models(catalogue):
    use("naive", "mean", "drift", "seasonal_naive")
    record = forecast_panel(panel(TREND), h=2, m=4).records[0]
    # seasonal naive is ranked last on a clean trend but joins as an anchor; mean is left out
    assert record.members == ("drift", "naive", "seasonal_naive")
    assert [r["model_type"] for r in record.candidate_rows if r["selected"]] == ["ensemble"]
    short = forecast_panel(panel(TREND[-3:]), h=2, m=4).records[0]  # too short to score seasonal naive
    assert "seasonal_naive" not in short.members


def test_weighted_combination(catalogue):
    use("naive", "drift")
    result = forecast_panel(panel(TREND + np.r_[np.zeros(23), 1.0]), h=1, m=4, combine="weighted")
    assert result.models == ["ensemble"]
    assert TREND[-1] + 1 < result.forecast[0, 0] < TREND[-1] + 4


def test_seasonal_naive_safety_net(catalogue):
    use("naive", "mean", "seasonal_naive")
    result = forecast_panel(panel(SEASON), h=4, m=4, top_k=3, anchors=(), safety_net=True)
    record = result.records[0]
    # the median of seasonal naive, mean and naive is worse on the backtest than seasonal naive alone
    assert record.model == "seasonal_naive"
    assert record.reason.startswith("Seasonal naive safety net")
    np.testing.assert_allclose(result.forecast[0], [10, 20, 30, 40])


def test_failing_model_does_not_fail_the_run(catalogue):
    use("boom", "naive", "mean")
    bad = np.full(24, 50.0)
    bad[5] = 999.0
    good = np.full(24, 50.0)
    result = forecast_panel(panel(good, bad, good + 1), h=3, m=4, top_k=1)
    assert np.isfinite(result.forecast).all()
    assert result.records[1].model != "boom"
    assert any(w.startswith("model_failed:boom:error: RuntimeError") for w in result.records[1].warnings)
    assert "boom" in result.records[0].backtest
    assert "boom" not in result.records[1].backtest
    # asked for explicitly, only the failing series falls back along the chain
    explicit = forecast_panel(panel(good, bad, good + 1), h=3, m=4, model="boom")
    assert explicit.models == ["boom", "naive", "boom"]
    assert explicit.records[1].fallback_chain == ["boom", "naive"]
    assert explicit.records[1].warnings[0].startswith("fallback:boom->naive:error: RuntimeError: fit exploded")
    assert explicit.records[0].warnings == []


def test_nan_model_falls_back_and_unscorable_series_use_the_rule(catalogue):
    use("nan_model", "mean", "moving_average", "exp_smoothing")
    result = forecast_panel(panel([5.0, 6.0]), h=2, m=4)  # too short to backtest anything
    record = result.records[0]
    assert "history-length rule" in record.reason
    # the rule starts at moving_average (< 12 months), which needs 3 points: the last resort is the last value
    assert record.model == "naive"
    assert record.fallback_chain == ["moving_average", "naive"]
    assert record.warnings == [
        "model_failed:nan_model:produced NaN or infinite values",
        "fallback:moving_average->naive:history too short (2 < 3 months)",
    ]
    np.testing.assert_allclose(result.forecast[0], [6.0, 6.0])
    assert np.isfinite(result.forecast).all()
    explicit = forecast_panel(panel(np.arange(10.0)), h=2, m=4, model="nan_model")
    assert explicit.models == ["mean"]
    assert explicit.records[0].warnings == ["fallback:nan_model->mean:produced NaN or infinite values"]


def test_unavailable_model_falls_back_visibly(catalogue):
    use("prophet", "exp_smoothing", "moving_average", "naive")
    result = forecast_panel(panel(TREND, TREND[-6:]), h=3, m=4, model="prophet")
    long, short = result.records
    assert long.model == "exp_smoothing"
    assert long.fallback_chain == ["prophet", "exp_smoothing"]
    assert long.warnings == ["model_unavailable:prophet", "fallback:prophet->exp_smoothing:library unavailable"]
    assert short.model == "moving_average"
    assert short.fallback_chain == ["prophet", "exp_smoothing", "moving_average"]
    assert short.warnings[-1] == "fallback:exp_smoothing->moving_average:history too short (6 < 12 months)"
    # unavailable models are never candidates of the automatic selection
    auto = forecast_panel(panel(TREND), h=3, m=4)
    assert "prophet" not in auto.records[0].backtest


def test_unknown_model_and_bad_horizon(catalogue):
    use("naive")
    with pytest.raises(ValueError, match="unknown model"):
        forecast_panel(panel(TREND), h=3, m=4, model="nope")
    with pytest.raises(ValueError, match="horizon"):
        forecast_panel(panel(TREND), h=0, m=4)


def test_conformal_quantile_hand_example():
    errors = np.array([np.arange(1.0, 11), np.r_[np.arange(1.0, 5), [np.nan] * 6]])
    q80, count = conformal_quantile(errors, 0.8)
    # ceil(11 · 0.8) = 9th smallest of 10; ceil(5 · 0.8) = 4th of 4
    assert q80.tolist() == [9.0, 4.0]
    assert count.tolist() == [10, 4]
    q95, _ = conformal_quantile(errors, 0.95)
    assert q95.tolist() == [10.0, 4.0]


def test_interval_widths_per_step_pooled_and_monotone():
    # series 0: 10 errors per step (own quantiles); series 1: 2 errors per step (pooled)
    errors = np.full((2, 10, 2), np.nan)
    errors[0, :, 0] = np.arange(1.0, 11)
    errors[0, :, 1] = np.arange(1.0, 11) / 2  # narrower at step 2: widened to step 1's width
    errors[1, :2, :] = [[1.0, -1.0], [-1.0, 1.0]]
    history = np.ones((2, 12))
    width, method = interval_widths(errors, np.ones(2), history, 80, min_errors=8)
    # interpolated at position 11 · 0.8 = 8.8 between the 8th and 9th smallest
    np.testing.assert_allclose(width[0], [8.8, 8.8])
    assert method.tolist() == ["conformal", "conformal_pooled"]
    # the panel's step growth is series 0's (series 1 has too few errors): 5.5 / 4.125, then kept
    # non-decreasing; normalisers are the growth-adjusted mean |e|: 3.09375 and 0.75
    growth = 5.5 / 4.125
    assert 4.125 / growth == 3.09375
    pool = np.sort(np.r_[np.arange(1.0, 11) / 3.09375, 1.0 / 0.75, 1.0 / 0.75])
    pos = 13 * 0.8  # between the 10th and 11th smallest of 12
    expected = pool[9] + (pos - 10) * (pool[10] - pool[9])
    np.testing.assert_allclose(width[1, 0], expected * 0.75)


def test_interval_widths_with_few_errors_use_a_t_tail_and_the_band_floor():
    errors = np.full((2, 10, 1), np.nan)
    errors[0, :, 0] = np.r_[np.ones(5), -np.ones(5)]  # 10 errors: too few for a 95 % position
    errors[1, :2, 0] = [1.0, -1.0]  # pooled, but the history is noisy: the band is wider
    history = np.vstack([np.ones(12), np.tile([0.0, 10.0], 6)])
    width, _ = interval_widths(errors, np.ones(2), history, 95, min_errors=8)
    from scipy.stats import t

    np.testing.assert_allclose(width[0, 0], t.ppf(0.975, 9) * 1.0)
    np.testing.assert_allclose(width[1, 0], 1.96 * 5.0)


def test_intervals_cover_synthetic_noise(catalogue):
    use("mean")
    rng = np.random.default_rng(7)
    n, T, h = 300, 48, 3
    values = 100 + rng.normal(0, 10, (n, T + h))
    result = forecast_panel(panel(*values[:, :T]), h=h, m=12, n_origins=20)
    future = values[:, T:]
    lo80, hi80 = result.bounds[80]
    lo95, hi95 = result.bounds[95]
    cover80 = np.mean((lo80 <= future) & (future <= hi80))
    cover95 = np.mean((lo95 <= future) & (future <= hi95))
    assert 0.74 <= cover80 <= 0.9
    assert 0.89 <= cover95 <= 0.99
    assert (lo95 <= lo80).all()
    assert (hi80 <= hi95).all()
    assert {r.interval_method for r in result.records} == {"conformal"}


def test_lower_bounds_and_forecasts_floored_at_zero(catalogue):
    use("drift")
    result = forecast_panel(panel(np.arange(24.0, 0.0, -1)), h=5, m=4)
    assert (result.forecast >= 0).all()
    assert (result.lower(95) >= 0).all()
    assert (result.lower(80) >= 0).all()


def test_panel_rows_match_each_series_alone(catalogue):
    use("naive", "mean", "drift", "seasonal_naive")
    rows = (SEASON, TREND, TREND[-10:], np.r_[SEASON[:12], TREND[:8]])
    together = forecast_panel(panel(*rows), h=3, m=4, min_errors=3)
    for i, row in enumerate(rows):
        alone = forecast_panel(panel(row), h=3, m=4, min_errors=3)
        assert alone.models[0] == together.models[i]
        np.testing.assert_allclose(alone.forecast[0], together.forecast[i])
        if together.records[i].interval_method == "conformal":
            np.testing.assert_allclose(alone.upper(95)[0], together.upper(95)[i])


def test_real_catalogue_end_to_end():
    load_catalogue()
    if "exp_smoothing" not in CATALOGUE:
        pytest.skip("the model modules are not there yet")
    rng = np.random.default_rng(3)
    t = np.arange(36)
    rows = [100 + 15 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 36) for _ in range(4)]
    rows += [t * 2.0 + 5, np.where(rng.random(36) < 0.3, rng.integers(1, 9, 36), 0.0), np.arange(1.0, 7)]
    result = forecast_panel(panel(*rows), h=6, m=12, n_origins=4)
    assert np.isfinite(result.forecast).all()
    assert (result.lower(95) <= result.forecast).all()
    assert (result.forecast <= result.upper(95)).all()
    assert all(r.reason for r in result.records)
    fallback = forecast_panel(panel(*rows), h=6, m=12, model="prophet", n_origins=4)
    assert fallback.records[0].warnings[:2] == [
        "model_unavailable:prophet",
        "fallback:prophet->exp_smoothing:library unavailable",
    ]
    assert fallback.models[-1] != "prophet"
    assert np.isfinite(fallback.forecast).all()


def test_demand_pattern_routes_the_intermittent_family_and_inactive_series_forecast_zero():
    load_catalogue()
    rng = np.random.default_rng(7)
    t = np.arange(36)
    smooth = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, 36)
    sporadic = np.where(rng.random(36) < 0.3, rng.integers(5, 15, 36), 0).astype(float)
    sporadic[-3] = 9.0  # demand in the last year, so it is intermittent, not inactive
    dormant = np.concatenate([rng.integers(5, 15, 24).astype(float), np.zeros(12)])
    panel = Panel(ids=("smooth", "sporadic", "dormant"), values=np.vstack([smooth, sporadic, dormant]), start="2023-01")

    result = forecast_panel(panel, h=6, m=12)

    intermittent = {"croston", "sba", "tsb"}
    assert not intermittent & set(result.records[0].members)
    assert result.records[2].model == "inactive"
    assert "inactive_series" in result.records[2].warnings
    assert np.all(result.forecast[2] == 0)
    assert np.all(result.lower(95)[2] == 0)
    assert np.all(result.upper(95)[2] == 0)
    assert np.all(np.isfinite(result.forecast[1]))
    assert np.all(result.forecast[1] >= 0)
