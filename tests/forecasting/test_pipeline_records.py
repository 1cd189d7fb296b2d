"""The per-series diagnostics the pipeline hands to the API: candidate rows, advisor confidence,
demand pattern, flags and the figures of the model that produced the numbers."""

import numpy as np
import pytest

from forecasting.engine.base import Panel
from forecasting.engine.pipeline import advisor_confidence, forecast_panel, load_catalogue
from tests.forecasting.test_backtest import isolated_catalogue, use
from tests.forecasting.test_pipeline import SEASON, TREND, panel


@pytest.fixture
def catalogue():
    yield from isolated_catalogue()


def test_candidate_rows_rank_every_candidate_and_the_ensemble(catalogue):
    use("naive", "mean", "drift")
    record = forecast_panel(panel(TREND), h=2, m=4, top_k=3).records[0]
    rows = record.candidate_rows
    assert [r["model_type"] for r in rows] == ["drift", "naive", "ensemble", "mean"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["score"] == 0.0
    assert rows[0]["mase"] == 0.0
    assert [r["selected"] for r in rows] == [False, False, True, False]
    ensemble = rows[2]
    assert ensemble["score"] == record.backtest["ensemble"]["mase"]
    # FRM-25 composite: MAPE + 0.25 x WAPE
    assert ensemble["composite_score"] == pytest.approx(ensemble["mape"] + 0.25 * ensemble["wape"], abs=1e-3)
    assert ensemble["period_count"] == record.backtest["ensemble"]["count"] > 0
    expected = {"model_type", "rank", "mape", "smape", "wape", "rmse", "nrmse_pct", "mae", "mdae", "r2", "bias"}
    assert expected | {"hit_rate", "mase", "tracking_signal", "period_count", "score", "composite_score"} <= set(
        rows[0]
    )


def test_advisor_confidence_rules(catalogue):
    assert advisor_confidence([{"score": 1.0}]) == 0.5
    assert advisor_confidence([{"score": 1.0}, {"score": 2.0}]) == 0.95  # capped
    assert advisor_confidence([{"score": 1.8}, {"score": 2.0}, {"score": None}]) == pytest.approx(0.6)
    assert advisor_confidence([{"score": 0.0}, {"score": 0.0}]) == 0.5
    use("naive", "mean", "drift", "moving_average")
    auto = forecast_panel(panel(TREND, [5.0, 6.0]), h=2, m=4).records
    assert auto[0].advisor_confidence == advisor_confidence(auto[0].candidate_rows) == 0.95
    assert auto[1].advisor_confidence == 0.5  # history-length rule
    explicit = forecast_panel(panel(TREND), h=2, m=4, model="mean").records[0]
    assert explicit.advisor_confidence == 1.0
    assert [r["model_type"] for r in explicit.candidate_rows] == ["mean"]


def test_single_scored_candidate_gives_half_confidence(catalogue):
    use("naive", "seasonal_naive")
    record = forecast_panel(panel(TREND[-4:]), h=2, m=4).records[0]  # seasonal naive cannot be backtested
    assert [r["score"] is not None for r in record.candidate_rows] == [True, False]
    assert record.advisor_confidence == 0.5


def test_producing_model_figures_and_nominal_confidence(catalogue):
    use("naive", "mean", "drift", "seasonal_naive")
    result = forecast_panel(panel(SEASON, TREND), h=4, m=4, top_k=1)
    seasonal, _trend = result.records
    assert seasonal.model == "seasonal_naive"
    assert seasonal.wape == 0.0
    assert seasonal.rmse == 0.0
    assert seasonal.result_confidence == 100.0
    assert seasonal.nominal_confidence == 80.0  # the stand-ins' default
    combo = forecast_panel(panel(TREND + np.sin(np.arange(24))), h=2, m=4).records[0]
    assert combo.model == "ensemble"
    assert combo.wape == combo.backtest["ensemble"]["wape"]
    assert combo.mape == combo.backtest["ensemble"]["mape"]


def test_pattern_flags_and_classification_on_the_real_catalogue():
    load_catalogue()
    rng = np.random.default_rng(5)
    t = np.arange(36)
    smooth = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, 36)
    spiky = smooth.copy()
    spiky[20] = 900.0
    short = np.full(36, np.nan)
    short[-8:] = [5, 6, 5, 7, 6, 5, 6, 7]
    dormant = np.concatenate([rng.integers(5, 15, 24).astype(float), np.zeros(12)])
    values = np.vstack([smooth, spiky, short, dormant])
    result = forecast_panel(Panel(ids=("a", "b", "c", "d"), values=values, start="2023-01"), h=3, m=12)
    a, b, c, d = result.records
    assert a.pattern == "smooth"
    assert a.flags == []
    assert a.adi == 1.0
    assert a.cv2 is not None
    assert "outliers" in b.flags
    assert c.flags == ["short_history"]
    assert d.pattern == "inactive"
    assert "trailing_zeros" in d.flags
    assert d.mape is None
    assert d.wape is None
    assert d.advisor_confidence == 0.5
    assert 0 <= a.result_confidence <= 100
    assert a.wape is not None
    assert a.result_confidence == round(100 - a.wape, 2)


def test_user_selected_ensemble_honours_members():
    load_catalogue()
    rng = np.random.default_rng(9)
    t = np.arange(48)
    rows = [200 + 20 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 4, 48) for _ in range(3)]
    values = np.vstack(rows)
    result = forecast_panel(
        Panel(ids=("a", "b", "c"), values=values, start="2020-01"),
        h=6,
        m=12,
        model="ensemble",
        params={"ensemble": {"members": 2}},
    )
    for record in result.records:
        assert record.model == "ensemble"
        assert len(record.members) == 2
        assert record.advisor_confidence == 1.0
        assert record.reason.startswith("Using user-selected model.")


def test_history_rule_starts_sporadic_series_at_sba():
    load_catalogue()
    values = np.array([[0.0, 5.0, 0.0], [4.0, 5.0, 6.0]])
    result = forecast_panel(Panel(ids=("sporadic", "steady"), values=values, start="2024-01"), h=2, m=12)
    sporadic, steady = result.records
    assert sporadic.pattern == "intermittent"
    assert sporadic.fallback_chain == ["sba", "moving_average"]  # sba needs 6 months
    assert sporadic.reason.startswith("Selected moving_average by history-length rule (3 months, pattern intermittent)")
    assert steady.fallback_chain == ["moving_average"]
    assert sporadic.advisor_confidence == 0.5
    assert all(row["score"] is None for row in sporadic.candidate_rows)


def test_training_on_the_outlier_adjusted_history_keeps_the_raw_actuals():
    load_catalogue()
    rng = np.random.default_rng(11)
    t = np.arange(48)
    clean = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 48)
    spiky = clean.copy()
    spiky[-3] = 1000.0
    values = spiky[None, :]
    raw = forecast_panel(Panel(ids=("a",), values=values, start="2020-01"), h=3, m=12, model="moving_average")
    adjusted = forecast_panel(
        Panel(ids=("a",), values=values, start="2020-01"), h=3, m=12, model="moving_average", train_adjusted=True
    )
    assert "outliers" in adjusted.records[0].flags
    assert raw.forecast[0, 0] > 200  # the spike dominates the raw weighted mean
    assert adjusted.forecast[0, 0] < 130
    # scored against what happened: the spike month is still an error of the adjusted model
    assert adjusted.records[0].backtest["moving_average"]["mae"] > 20


def test_should_stop_abandons_the_run_between_model_fits():
    load_catalogue()
    values = np.vstack([100 + np.arange(36.0), 50 + np.arange(36.0)])
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 2

    result = forecast_panel(Panel(ids=("a", "b"), values=values, start="2020-01"), h=3, m=12, should_stop=stop)
    assert result.stopped
    assert np.isnan(result.forecast).all()
    assert len(calls) == 3
    assert not forecast_panel(Panel(ids=("a", "b"), values=values, start="2020-01"), h=3, m=12).stopped
