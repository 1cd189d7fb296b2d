"""Intermittent-demand models (FC-20): Croston, Croston SBA and TSB.

Every function takes the whole panel (n, T) with leading NaN padding and returns (n, h). The
recursions loop over time steps only; the state of every series is an array, so a portfolio is
one pass over the calendar. A series starts at its first non-NaN point.

Initialisation (the spec leaves it open; this is the usual Croston convention):
- demand size z starts at the first non-zero value;
- the interval p starts at the number of periods from the series' start up to and including the
  first demand, and afterwards is updated with the number of periods since the previous demand;
- TSB's probability starts at the demand indicator of the series' first period and is updated
  every period after that.
Rows with fewer than `min_months` points or fewer than 2 non-zero points are NaN (FC-22 falls back
to `moving_average`).
"""

import numpy as np

from .base import ModelSpec, register

MIN_MONTHS = 6
MIN_DEMANDS = 2


def _eligible(values: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(values)
    n = valid.sum(axis=1)
    k = (valid & (values != 0)).sum(axis=1)
    return (n >= MIN_MONTHS) & (k >= MIN_DEMANDS)


def _croston_state(values: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed demand size z and smoothed interval p per series after the last period."""
    n, t_len = values.shape
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    seen = np.zeros(n, dtype=bool)
    last = np.full(n, -1)  # index of the previous demand (or the period before the series starts)
    started = np.zeros(n, dtype=bool)
    for t in range(t_len):
        y = values[:, t]
        valid = ~np.isnan(y)
        newly = valid & ~started
        last[newly] = t - 1
        started |= valid
        demand = valid & (y != 0)
        q = (t - last).astype(float)
        first = demand & ~seen
        upd = demand & seen
        z[first] = y[first]
        p[first] = q[first]
        z[upd] += alpha * (y[upd] - z[upd])
        p[upd] += alpha * (q[upd] - p[upd])
        seen |= demand
        last[demand] = t
    return z, p


def croston(values: np.ndarray, h: int, m: int = 12, alpha: float = 0.1) -> np.ndarray:
    """Croston: flat forecast z / p of the smoothed size over the smoothed interval."""
    values = np.asarray(values, dtype=float)
    z, p = _croston_state(values, alpha)
    level = np.where(_eligible(values), z / p, np.nan)
    return np.repeat(level[:, None], h, axis=1)


def sba(values: np.ndarray, h: int, m: int = 12, alpha: float = 0.1) -> np.ndarray:
    """Syntetos-Boylan approximation: Croston x (1 - alpha / 2)."""
    return croston(values, h, m, alpha=alpha) * (1.0 - alpha / 2.0)


def tsb_state(
    values: np.ndarray, alpha_demand: float = 0.1, alpha_probability: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """TSB smoothed demand probability and size per series after the last period."""
    values = np.asarray(values, dtype=float)
    n, t_len = values.shape
    prob = np.full(n, np.nan)
    z = np.full(n, np.nan)
    started = np.zeros(n, dtype=bool)
    seen = np.zeros(n, dtype=bool)
    for t in range(t_len):
        y = values[:, t]
        valid = ~np.isnan(y)
        demand = valid & (y != 0)
        ind = demand.astype(float)
        first_period = valid & ~started
        cont = valid & started
        prob[first_period] = ind[first_period]
        prob[cont] += alpha_probability * (ind[cont] - prob[cont])
        started |= valid
        first = demand & ~seen
        upd = demand & seen
        z[first] = y[first]
        z[upd] += alpha_demand * (y[upd] - z[upd])
        seen |= demand
    return prob, z


def tsb(
    values: np.ndarray, h: int, m: int = 12, alpha_demand: float = 0.1, alpha_probability: float = 0.1
) -> np.ndarray:
    """Teunter-Syntetos-Babai: flat forecast p x z (probability decays through zero periods)."""
    values = np.asarray(values, dtype=float)
    prob, z = tsb_state(values, alpha_demand, alpha_probability)
    level = np.where(_eligible(values), prob * z, np.nan)
    return np.repeat(level[:, None], h, axis=1)


register(
    ModelSpec(
        id="croston",
        name="Croston",
        min_months=MIN_MONTHS,
        forecast=croston,
        params={"alpha": 0.1},
        fallback="moving_average",
        nominal_confidence=75,
        family="intermittent",
    )
)
register(
    ModelSpec(
        id="sba",
        name="Croston SBA",
        min_months=MIN_MONTHS,
        forecast=sba,
        params={"alpha": 0.1},
        fallback="moving_average",
        nominal_confidence=76,
        family="intermittent",
    )
)
register(
    ModelSpec(
        id="tsb",
        name="TSB",
        min_months=MIN_MONTHS,
        forecast=tsb,
        params={"alpha_demand": 0.1, "alpha_probability": 0.1},
        fallback="moving_average",
        nominal_confidence=76,
        family="intermittent",
    )
)
