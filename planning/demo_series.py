"""Demand series of the demo data (DEMO-04): patterns, seasonality, noise, promotions, lag-1 forecasts.

Pure Python, no ORM. Every draw comes from a generator seeded by the seed and the entity's key
(`rng(seed, "ELEC-001", "demand")`), so a product's series never depends on which other products
are loaded or in which order. Months are offsets from the anchor month: -36…-1 are closed, 0 is
the anchor month, 1…11 the plan horizon.
"""

import hashlib
import math
import random
from dataclasses import dataclass

HISTORY_MONTHS = 36
HORIZON_MONTHS = 12  # the anchor month and the 11 following
FIRST, LAST = -HISTORY_MONTHS, HORIZON_MONTHS - 1

SEASONAL, TRENDING, INTERMITTENT, LUMPY, NEW, DISCONTINUED, DECLINING = (
    "seasonal", "trending", "intermittent", "lumpy", "new", "discontinued", "declining",
)  # fmt: skip

# Month-of-year factors (January first) per division, or per group where the division mixes them.
SEASONALITY: dict[str, tuple[float, ...]] = {
    "Electronics": (1.00, 0.78, 0.90, 0.92, 0.95, 0.95, 0.95, 1.00, 1.00, 1.05, 1.35, 1.60),
    "Apparel": (0.85, 0.90, 1.20, 1.30, 1.25, 1.00, 0.95, 0.90, 0.95, 1.00, 1.20, 1.00),
    "Nutrition": (1.45, 1.20, 1.05, 1.00, 0.95, 0.95, 0.90, 0.90, 0.95, 0.95, 0.90, 0.85),
    "Beverages": (1.25, 1.20, 1.05, 0.95, 0.85, 0.80, 0.80, 0.85, 0.95, 1.05, 1.15, 1.25),
    "Home & Kitchen": (0.90, 0.85, 0.90, 0.95, 1.20, 1.00, 0.90, 0.90, 0.95, 1.00, 1.30, 1.50),
}


def season_key(category: tuple[str, ...]) -> str:
    return category[1] if category[0] == "Food & Beverage" else category[0]


@dataclass(frozen=True)
class Pattern:
    kind: str
    growth: float | None = None  # annual; None = drawn from the seasonal range (-3 %…+5 %)
    launched: int = 0  # months before the anchor (new products)


# DEMO-04: 24 seasonal (the default), 6 trending, 4 intermittent, 2 lumpy, 2 new, 2 end-of-life.
PATTERNS: dict[str, Pattern] = {
    "ELEC-002": Pattern(TRENDING, 0.25), "ELEC-004": Pattern(TRENDING, 0.18), "ELEC-008": Pattern(TRENDING, 0.30),
    "FOOD-003": Pattern(TRENDING, 0.20), "FOOD-005": Pattern(TRENDING, 0.15), "APRL-004": Pattern(TRENDING, -0.15),
    "FOOD-010": Pattern(INTERMITTENT), "HOME-005": Pattern(INTERMITTENT), "HOME-007": Pattern(INTERMITTENT),
    "APRL-005": Pattern(INTERMITTENT),
    "HOME-001": Pattern(LUMPY), "HOME-009": Pattern(LUMPY),
    "ELEC-010": Pattern(NEW, 0.0, launched=14), "FOOD-009": Pattern(NEW, 0.0, launched=8),
    "ELEC-009": Pattern(DISCONTINUED), "HOME-010": Pattern(DECLINING),
}  # fmt: skip
DEFAULT_PATTERN = Pattern(SEASONAL)
# Sparse series are planned as one product total (Global/All); the others by region (PLN-22).
TOTAL_ONLY_KINDS = (INTERMITTENT, LUMPY, NEW)

# Injected at fixed months so that anomaly detection has findings: (sku, month offset, factor).
PROMOTIONS: tuple[tuple[str, int, float], ...] = (
    ("ELEC-001", -4, 3.0), ("APRL-001", -9, 2.5), ("FOOD-001", -15, 3.5),
)  # fmt: skip
STOCK_OUTS: tuple[tuple[str, int, float], ...] = (("ELEC-003", -6, 0.3),)

REGIONS: tuple[tuple[str, float], ...] = (("North America", 0.5), ("Europe", 0.3), ("Asia Pacific", 0.2))


def rng(seed: int, *key) -> random.Random:
    """A generator of its own for one entity: same seed and key, same draws, in any loading order."""
    digest = hashlib.sha256(":".join(str(k) for k in (seed, *key)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311  (demo figures, not secrets)  # nosec B311


def stable_fraction(seed: int, *key) -> float:
    return rng(seed, *key).random()


@dataclass
class Series:
    """A product's monthly series. `actual[t]` for closed months, `forecast[t]` for every month that
    has a plan row (lag-1 statistical forecast in the past, expected demand in the horizon);
    months without a row (before a launch, after discontinuation's horizon) are absent."""

    sku: str
    kind: str
    actual: dict[int, int]
    forecast: dict[int, int]
    sigma: float


def _month_of_year(anchor_month: int, t: int) -> int:
    return (anchor_month - 1 + t) % 12  # 0 = January


def generate(seed: int, *, sku: str, base: int, category: tuple[str, ...], anchor_month: int,
             pattern: Pattern | None = None) -> Series:  # fmt: skip
    """The actuals of the closed months and the forecasts of every planned month of one product."""
    pattern = pattern or PATTERNS.get(sku, DEFAULT_PATTERN)
    r = rng(seed, sku, "demand")
    profile = SEASONALITY[season_key(category)]
    sigma = r.uniform(0.05, 0.15)
    growth = pattern.growth if pattern.growth is not None else r.uniform(-0.03, 0.05)
    first = -pattern.launched if pattern.kind == NEW else FIRST
    last = -1 if pattern.kind == DISCONTINUED else LAST

    def expected(t: int) -> float:
        level = base * (1 + growth) ** (t / 12) * profile[_month_of_year(anchor_month, t)]
        if pattern.kind == NEW:
            level *= min(1.0, (t - first + 1) / 6)  # six-month ramp-up after launch
        elif pattern.kind == DISCONTINUED:
            level = 0.0 if t >= -6 else level * (1 - (t - FIRST) / 36)
        elif pattern.kind == DECLINING:
            level *= max(0.05, (LAST + 2 - t) / (LAST + 2 - FIRST))
        return level

    actual: dict[int, int] = {}
    if pattern.kind in (INTERMITTENT, LUMPY):
        share = r.uniform(0.35, 0.60) if pattern.kind == INTERMITTENT else r.uniform(0.40, 0.55)
        closed = list(range(first, 0))
        active = set(r.sample(closed, round(share * len(closed))))
        shape = 2.0 if pattern.kind == INTERMITTENT else 0.6
        for t in closed:
            size = r.gammavariate(shape, expected(t) / share / shape) if t in active else 0.0
            actual[t] = round(size)
    else:
        for t in range(first, 0):
            actual[t] = max(0, round(expected(t) * r.lognormvariate(0, sigma)))
    for sku_, t, factor in (*PROMOTIONS, *STOCK_OUTS):
        if sku_ == sku and t in actual:
            actual[t] = round(actual[t] * factor)

    forecast: dict[int, int] = {}
    for t in range(first, last + 1):
        forecast[t] = lag1_forecast(actual, t) if t < 0 else max(0, round(expected(t)))
    return Series(sku=sku, kind=pattern.kind, actual=actual, forecast=forecast, sigma=sigma)


def lag1_forecast(actual: dict[int, int], t: int) -> int:
    """The forecast for month t made at the end of month t-1: a blend of seasonal naive (the same
    month last year, scaled by the recent trend) and the mean of the last three months."""
    recent = [actual[m] for m in range(t - 3, t) if m in actual]
    if not recent:
        return actual.get(t, 0)  # the first month of a series: no history yet, a naive start
    level = sum(recent) / len(recent)
    last_year = actual.get(t - 12)
    before = [actual[m] for m in range(t - 15, t - 12) if m in actual]
    if last_year is None or not before or sum(before) == 0:
        return max(0, round(level))
    trend = min(2.0, max(0.5, level / (sum(before) / len(before))))
    return max(0, round(0.5 * last_year * trend + 0.5 * level))


def split_regions(qty: int) -> list[tuple[str, int]]:
    """DEMO-05: North America 50 %, Europe 30 %, Asia Pacific 20 %, in whole units summing to qty."""
    na, eu = math.floor(qty * 0.5), math.floor(qty * 0.3)
    return [("North America", na), ("Europe", eu), ("Asia Pacific", qty - na - eu)]
