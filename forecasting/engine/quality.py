"""Demand classification (FRM-42, FC-13), data-quality flags (FC-14) and outlier detection.

All functions take the panel values (n, T) with leading NaN padding (series end on the same
calendar month) and work on every series at once.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ADI_CUT = 1.32
CV2_CUT = 0.49
INACTIVE_MONTHS = 12
SHORT_HISTORY = 12
TRAILING_ZERO_MONTHS = 6
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy", "inactive")
FLAG_ORDER = (
    "short_history",
    "missing_months",
    "high_volatility",
    "intermittent",
    "trailing_zeros",
    "outliers",
    "corrected_history",
)


@dataclass(frozen=True)
class DemandClass:
    pattern: np.ndarray  # (n,) str: smooth | erratic | intermittent | lumpy | inactive
    adi: np.ndarray  # (n,) n / k; NaN when k = 0
    cv2: np.ndarray  # (n,) squared coefficient of variation of the non-zero values; 0 when k = 1


def _as_panel(values) -> np.ndarray:
    return np.atleast_2d(np.asarray(values, dtype=float))


def _tail_all_zero(values: np.ndarray, months: int) -> np.ndarray:
    """True when the last `months` columns hold no non-zero value (padding ignored)."""
    tail = values[:, -months:]
    return ~np.any(np.isfinite(tail) & (tail != 0), axis=1)


def classify_demand(values) -> DemandClass:
    """FRM-42: ADI = n / k, CV² = (population std / mean)² of the non-zero values.

    `inactive` when k = 0 or the last 12 points are all zero (for a series shorter than 12 points
    that is the same as k = 0); otherwise smooth / erratic / intermittent / lumpy by the cut-offs
    ADI 1.32 and CV² 0.49 (a value on a cut-off belongs to the upper class).
    """
    v = _as_panel(values)
    valid = np.isfinite(v)
    nz = valid & (v != 0)
    n = valid.sum(axis=1)
    k = nz.sum(axis=1)
    adi = np.full(v.shape[0], np.nan)
    np.divide(n, k, out=adi, where=k > 0)
    kk = np.maximum(k, 1)
    mean = np.where(nz, v, 0.0).sum(axis=1) / kk
    var = np.where(nz, (v - mean[:, None]) ** 2, 0.0).sum(axis=1) / kk
    cv2 = np.zeros(v.shape[0])
    np.divide(var, mean**2, out=cv2, where=(k > 1) & (mean != 0))
    cv2 = np.where(k == 0, np.nan, cv2)
    inactive = (k == 0) | _tail_all_zero(v, INACTIVE_MONTHS)
    frequent = adi < ADI_CUT
    steady = cv2 < CV2_CUT
    pattern = np.select(
        [inactive, frequent & steady, frequent & ~steady, ~frequent & steady],
        ["inactive", "smooth", "erratic", "intermittent"],
        default="lumpy",
    )
    return DemandClass(pattern=pattern, adi=adi, cv2=cv2)


def quality_flags(values, missing_mask=None, outlier_mask=None, corrected_mask=None, pattern=None) -> dict:
    """FC-14 flags as {flag: (n,) bool}.

    `missing_mask` (n, T) marks months that were filled in (FC-11) — the panel itself has no gaps,
    so the caller says which values were missing. `outlier_mask` marks open or acknowledged
    anomalies inside the history, `corrected_mask` months whose value was replaced for training.
    `trailing_zeros` needs at least 6 points.
    """
    v = _as_panel(values)
    valid = np.isfinite(v)
    n = valid.sum(axis=1)
    n_safe = np.maximum(n, 1)
    mean = np.where(valid, v, 0.0).sum(axis=1) / n_safe
    std = np.sqrt(np.where(valid, (v - mean[:, None]) ** 2, 0.0).sum(axis=1) / n_safe)
    if pattern is None:
        pattern = classify_demand(v).pattern

    def any_of(mask):
        if mask is None:
            return np.zeros(v.shape[0], dtype=bool)
        return np.atleast_2d(np.asarray(mask, dtype=bool)).any(axis=1)

    return {
        "short_history": n < SHORT_HISTORY,
        "missing_months": any_of(missing_mask),
        "high_volatility": (n > 3) & (std > 1.5 * mean),
        "intermittent": np.isin(pattern, ("intermittent", "lumpy")),
        "trailing_zeros": (n >= TRAILING_ZERO_MONTHS) & _tail_all_zero(v, TRAILING_ZERO_MONTHS),
        "outliers": any_of(outlier_mask),
        "corrected_history": any_of(corrected_mask),
    }


def flags_per_series(flags: dict) -> list[list[str]]:
    """The raised flag names of each series, in FC-14 order."""
    names = [name for name in FLAG_ORDER if name in flags]
    stacked = np.stack([np.asarray(flags[name], dtype=bool) for name in names], axis=1)
    return [[names[j] for j in np.flatnonzero(row)] for row in stacked]


@dataclass(frozen=True)
class Outliers:
    mask: np.ndarray  # (n, T) bool: the point is an outlier
    severity: np.ndarray  # (n, T) |robust z| of the residual; NaN on padding
    baseline: np.ndarray  # (n, T) expected value: rolling median (+ seasonal median of the residual)
    adjusted: np.ndarray  # (n, T) raw values with outliers replaced by the baseline


def _neighbour_median(v: np.ndarray, window: int) -> np.ndarray:
    """Median of the up to `window` - 1 neighbours centred on each point (the point itself left out)."""
    half = window // 2
    padded = np.pad(v, ((0, 0), (half, half)), constant_values=np.nan)
    win = sliding_window_view(padded, 2 * half + 1, axis=1).copy()  # (n, T, window)
    win[:, :, half] = np.nan
    out = np.full(v.shape, np.nan)
    has = np.isfinite(win).any(axis=2) & np.isfinite(v)
    out[has] = np.nanmedian(win[has], axis=1)
    return out


def _row_median(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape[0], np.nan)
    rows = np.isfinite(x).any(axis=1)
    out[rows] = np.nanmedian(x[rows], axis=1)
    return out


def _same_month_median(v: np.ndarray, m: int) -> np.ndarray:
    """Median of the same calendar month in the other years (leave-one-out); NaN without any."""
    out = np.full(v.shape, np.nan)
    phase = np.arange(v.shape[1]) % m
    for ph in range(m):  # loop over months of the season, arrays over series
        cols = np.flatnonzero(phase == ph)
        if len(cols) < 2:
            continue
        sub = v[:, cols]
        for j in range(len(cols)):  # loop over years
            others = np.delete(sub, j, axis=1)
            out[:, cols[j]] = _row_median(others)
    return out


def _robust_z(r: np.ndarray, valid: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """|r - median r| / s per row, s = MAD / 0.6745 (1.2533 x mean abs. deviation when MAD = 0),
    at least `floor`; 0 where r is not available."""
    ok = valid & np.isfinite(r)
    r = np.where(ok, r, np.nan)
    center = _row_median(r)
    dev = np.abs(r - center[:, None])
    mad = _row_median(dev)
    mean_ad = np.where(ok, dev, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    scale = np.where(np.nan_to_num(mad) > 0, mad / 0.6745, mean_ad * 1.2533)
    scale = np.maximum(np.nan_to_num(scale), floor)
    z = np.zeros(r.shape)
    np.divide(dev, scale[:, None], out=z, where=ok & (scale[:, None] > 0))
    return z


def detect_outliers(
    values,
    m: int = 12,
    window: int = 5,
    threshold: float = 3.5,
    min_points: int = 6,
    scale_floor: float = 0.02,
    skip_intermittent: bool = True,
) -> Outliers:
    """Flag points far from their neighbours and (when the series has a previous or later year)
    far from the same calendar month in the other years.

    Each series is first detrended by a robust slope (the median of its lag-m differences / m
    with at least 2m points, else the median of its first differences). Two
    residuals are then scored: against the median of the `window` - 1 neighbouring points, and
    against the median of the same month in the other years. Each gets a robust z-score,
    z = |r - median r| / s with s = MAD / 0.6745, or 1.2533 x the mean absolute deviation when
    MAD = 0 (a flat series with one spike), and never below `scale_floor` x mean |y| (so a flat
    series does not turn a 2 % wobble into an outlier). A point is an outlier when every
    available z exceeds `threshold` (a seasonal peak is near its own month, a one-off spike is
    far from both); severity is the smallest of them. Series shorter than `min_points` and, with
    `skip_intermittent`, intermittent, lumpy or inactive series (whose every demand looks like a
    spike against a zero median) are not flagged. The raw values are never changed: `adjusted`
    is a separate array holding the baseline (same-month median when available, else the
    neighbour median, trend added back) at flagged points.
    """
    v = _as_panel(values)
    valid = np.isfinite(v)
    n_pts = valid.sum(axis=1)
    n_safe = np.maximum(n_pts, 1)
    slope = np.zeros(v.shape[0])
    if v.shape[1] > 1:
        slope = np.nan_to_num(_row_median(np.diff(v, axis=1)))
    if m > 1 and v.shape[1] > 2 * m:
        yearly = _row_median(v[:, m:] - v[:, :-m]) / m  # a seasonal series' slope, season cancelled
        slope = np.where((n_pts >= 2 * m) & np.isfinite(yearly), yearly, slope)
    trend = slope[:, None] * np.arange(v.shape[1])
    d = v - trend
    floor = scale_floor * np.where(valid, np.abs(v), 0.0).sum(axis=1) / n_safe

    local = _neighbour_median(d, window)
    z_local = _robust_z(d - local, valid, floor)
    season = _same_month_median(d, m) if m > 1 else np.full(v.shape, np.nan)
    has_season = valid & np.isfinite(season)
    z_season = _robust_z(d - season, valid, floor)
    z = np.where(has_season, np.minimum(z_local, z_season), z_local)
    z = np.where(np.isfinite(local), z, 0.0)

    severity = np.where(valid, z, np.nan)
    eligible = n_pts >= min_points
    if skip_intermittent:
        eligible &= ~np.isin(classify_demand(v).pattern, ("intermittent", "lumpy", "inactive"))
    mask = valid & eligible[:, None] & (z > threshold)
    baseline = np.where(has_season, season, local) + trend
    adjusted = np.where(mask, baseline, v)
    if np.all(np.where(valid, v, 0.0) >= 0):
        adjusted = np.where(mask, np.maximum(adjusted, 0.0), adjusted)
    return Outliers(mask=mask, severity=severity, baseline=baseline, adjusted=adjusted)
