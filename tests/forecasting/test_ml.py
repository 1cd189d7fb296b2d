"""Gradient boosting trained across series (FC-20 `gradient_boosting`)."""

import numpy as np

from forecasting.engine.base import CATALOGUE
from forecasting.engine.ml import gradient_boosting

T = np.arange(60)
SHAPE = 100 + 20 * np.sin(2 * np.pi * T / 12)


def _panel():
    # three sizes of the same seasonal shape, one starting later, one too short for the model
    rows = [SHAPE[:48], 5 * SHAPE[:48], 0.1 * SHAPE[:48]]
    panel = np.stack(rows)
    late = np.concatenate([np.full(18, np.nan), 2 * SHAPE[18:48]])  # 30 points
    short = np.concatenate([np.full(30, np.nan), SHAPE[30:48]])  # 18 points < 24
    return np.vstack([panel, late, short])


def test_forecasts_clean_seasonal_panel():
    out = gradient_boosting(_panel(), h=12, m=12)
    assert out.shape == (5, 12)
    truth = SHAPE[48:60]
    for i, size in enumerate([1, 5, 0.1, 2]):
        np.testing.assert_allclose(out[i], size * truth, rtol=0.03)
    assert np.isnan(out[4]).all()  # fewer than 24 months


def test_deterministic_and_scale_invariant():
    panel = _panel()
    first = gradient_boosting(panel, h=6, m=12, max_iter=100)
    np.testing.assert_array_equal(first, gradient_boosting(panel, h=6, m=12, max_iter=100))
    scaled = panel.copy()
    scaled[1] *= 1000  # normalised per series, so the shared model sees the same data
    # equal up to the last bits of the normalised values (which can move a histogram bin edge)
    np.testing.assert_allclose(gradient_boosting(scaled, h=6, m=12, max_iter=100)[1], 1000 * first[1], rtol=1e-4)


def test_trend_is_carried_forward():
    t = np.arange(60)
    trending = 50 + 2 * t + 10 * np.sin(2 * np.pi * t / 12)
    panel = np.stack([SHAPE[:48], 5 * SHAPE[:48], trending[:48]])
    out = gradient_boosting(panel, h=12, m=12)
    np.testing.assert_allclose(out[2], trending[48:60], rtol=0.05)
    assert out[2].mean() > trending[:48].max()  # beyond anything seen in training


def test_nothing_eligible_is_all_nan():
    assert np.isnan(gradient_boosting(np.ones((2, 20)), h=3)).all()


def test_registered():
    spec = CATALOGUE["gradient_boosting"]
    assert spec.family == "machine_learning"
    assert spec.min_months == 24
    assert spec.fallback == "exp_smoothing"
