"""Croston, SBA and TSB (FC-20) on hand-computed series."""

import numpy as np
import pytest

from forecasting.engine.base import CATALOGUE
from forecasting.engine.intermittent import croston, sba, tsb, tsb_state

NAN = np.nan
SERIES = [0, 3, 0, 0, 2, 0, 0, 4.0]
# alpha 0.1: first demand at t=1, interval 2 (periods from the start) -> z=3, p=2;
# t=4: q=3 -> z=2.9, p=2.1; t=7: q=3 -> z=3.01, p=2.19.
CROSTON = 3.01 / 2.19


def test_croston_hand_computed():
    out = croston(np.array([SERIES]), h=3)
    assert out.shape == (1, 3)
    np.testing.assert_allclose(out, CROSTON, rtol=1e-12)


def test_sba_is_croston_times_bias_correction():
    np.testing.assert_allclose(sba(np.array([SERIES]), h=2, alpha=0.1), CROSTON * 0.95, rtol=1e-12)


def test_tsb_probability_update():
    # alpha 0.5 both: p = 0, .5, .25, .125, .5625, .28125; z = 2 then 2 + .5 (3 - 2) = 2.5
    y = np.array([[0, 2, 0, 0, 3, 0.0]])
    prob, size = tsb_state(y, alpha_demand=0.5, alpha_probability=0.5)
    assert prob[0] == pytest.approx(0.28125)
    assert size[0] == pytest.approx(2.5)
    np.testing.assert_allclose(tsb(y, h=4, alpha_demand=0.5, alpha_probability=0.5), 0.28125 * 2.5)


def test_too_short_or_too_few_demands_is_nan():
    panel = np.array(
        [
            [NAN, 0, 3, 0, 2, 0],  # 5 points < 6 months
            [0, 0, 0, 0, 0, 5.0],  # a single demand
        ]
    )
    for model in (croston, sba, tsb):
        assert np.isnan(model(panel, h=2)).all()


def test_panel_equals_each_series_alone():
    rows = [
        SERIES,
        [NAN, NAN, 1, 0, 0, 6, 0, 2.0],
        [5, 0, 0, 0, 7, 0, 1, 0.0],
        [NAN, NAN, NAN, 0, 0, 0, 0, 9.0],  # too short
    ]
    panel = np.array(rows)
    for model in (croston, sba, tsb):
        together = model(panel, h=3)
        for i, row in enumerate(rows):
            valid = np.array(row)[~np.isnan(row)]
            np.testing.assert_allclose(together[i], model(valid[None, :], h=3)[0], equal_nan=True)


def test_registered_in_catalogue():
    for model_id in ("croston", "sba", "tsb"):
        spec = CATALOGUE[model_id]
        assert spec.family == "intermittent"
        assert spec.fallback == "moving_average"
        assert spec.min_months == 6
    assert CATALOGUE["tsb"].params == {"alpha_demand": 0.1, "alpha_probability": 0.1}
