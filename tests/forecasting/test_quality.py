"""Demand classification (FRM-42), data-quality flags (FC-14) and outlier detection."""

import numpy as np
import pytest

from forecasting.engine.quality import classify_demand, detect_outliers, flags_per_series, quality_flags

NAN = np.nan


def _pad(rows):
    width = max(len(r) for r in rows)
    return np.array([[NAN] * (width - len(r)) + list(r) for r in rows], dtype=float)


# n = 33, k = 25 -> ADI = 1.32 exactly; values 17/3 -> CV² = 49 / 100 = 0.49 exactly
SPARSE_IDX = [0, 2, 4, 6, 8, 10, 12, 14]


def _sparse(values):
    out = list(values)
    for i in SPARSE_IDX:
        out[i] = 0
    return out


ROWS = {
    "smooth": [10.0] * 12,
    "erratic": [17, 3] * 6,  # ADI 1, CV² 0.49 (boundary -> erratic)
    "intermittent": _sparse([5.0] * 33),  # ADI 1.32 (boundary -> intermittent), CV² 0
    "lumpy": _sparse([17, 3] * 16 + [17]),
    "inactive": [5.0] * 6 + [0.0] * 12,
    "all_zero": [0.0] * 8,
    "just_below": [0, 0, 0] + [4.0] * 10,  # ADI 1.3 -> smooth
}


def test_adi_cv2_boundaries():
    rows = list(ROWS.values())
    result = classify_demand(_pad(rows))
    assert list(result.pattern) == ["smooth", "erratic", "intermittent", "lumpy", "inactive", "inactive", "smooth"]
    assert result.adi[2] == 1.32
    assert result.adi[6] == pytest.approx(1.3)
    assert result.cv2[1] == pytest.approx(0.49)
    assert result.cv2[0] == 0.0
    assert np.isnan(result.adi[5])
    lumpy_nonzero = np.array([v for v in ROWS["lumpy"] if v])
    assert result.cv2[3] == pytest.approx((lumpy_nonzero.std() / lumpy_nonzero.mean()) ** 2)
    assert result.cv2[3] >= 0.49


def test_single_demand_cv2_is_zero():
    result = classify_demand([[0, 0, 4.0]])
    assert result.cv2[0] == 0.0
    assert result.adi[0] == 3.0
    assert result.pattern[0] == "intermittent"


def test_quality_flags():
    rows = [
        [10.0] * 5,  # short history
        [0.0] * 11 + [100.0] * 1 + [1.0] * 4,  # std 24.1 > 1.5 x mean 6.5 -> high volatility
        [5.0] * 10 + [0.0] * 6,  # trailing zeros
        [1.0, 2.0, 3.0] * 5,
    ]
    panel = _pad(rows)
    missing = np.zeros_like(panel, dtype=bool)
    missing[3, 5] = True
    flags = quality_flags(panel, missing_mask=missing)
    assert list(flags["short_history"]) == [True, False, False, False]
    assert list(flags["high_volatility"]) == [False, True, False, False]
    assert list(flags["trailing_zeros"]) == [False, False, True, False]
    assert list(flags["missing_months"]) == [False, False, False, True]
    # row 1: ADI 16/5 = 3.2 and CV² high -> lumpy; row 2: ADI 16/10 = 1.6, CV² 0 -> intermittent
    assert list(flags["intermittent"]) == [False, True, True, False]
    assert flags_per_series(flags)[1] == ["high_volatility", "intermittent"]


def test_spike_is_flagged_and_raw_kept():
    raw = np.full((1, 24), 10.0)
    raw[0, 10] = 100.0
    before = raw.copy()
    res = detect_outliers(raw)
    assert np.flatnonzero(res.mask[0]).tolist() == [10]
    assert res.adjusted[0, 10] == 10.0
    assert res.severity[0, 10] > 3.5
    np.testing.assert_array_equal(raw, before)  # raw actuals untouched
    np.testing.assert_array_equal(np.delete(res.adjusted[0], 10), np.delete(raw[0], 10))


def test_seasonal_series_with_spike_panel_matches_alone():
    t = np.arange(36)
    seasonal = 100 + 30 * np.sin(2 * np.pi * t / 12)
    spiked = seasonal.copy()
    spiked[20] += 150
    intermittent = np.where(t % 3 == 0, 40.0, 0.0)
    panel = np.stack([seasonal, spiked, np.concatenate([np.full(6, NAN), spiked[6:]]), intermittent])
    res = detect_outliers(panel)
    assert not res.mask[0].any()  # a clean seasonal series has no outliers
    assert np.flatnonzero(res.mask[1]).tolist() == [20]
    assert abs(res.adjusted[1, 20] - seasonal[20]) < 15
    assert not res.mask[3].any()  # intermittent demand is not an outlier
    for i in range(panel.shape[0]):
        keep = ~np.isnan(panel[i])
        alone = detect_outliers(panel[i][keep][None, :])
        np.testing.assert_array_equal(alone.mask[0], res.mask[i][keep])
        np.testing.assert_allclose(alone.adjusted[0], res.adjusted[i][keep])


def test_trending_seasonal_series_only_the_spike():
    t = np.arange(48)
    clean = 50 + 2 * t + 15 * np.sin(2 * np.pi * t / 12)
    spiked = clean.copy()
    spiked[30] += 60
    res = detect_outliers(np.stack([clean, spiked]))
    assert not res.mask[0].any()
    assert np.flatnonzero(res.mask[1]).tolist() == [30]
    assert res.adjusted[1, 30] == pytest.approx(clean[30])  # detrended same-month median, trend added back
    assert np.isnan(detect_outliers(np.full((1, 4), NAN)).severity).all()
