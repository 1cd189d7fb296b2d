"""FRM-36: a KPI value against its target — variance, trend, adverse deviation, status, achievement.

Pure functions, no database: the KPI services, the KPI pages, the dashboard alerts and the executive
scorecard all call these, so one set of thresholds means the same everywhere.

    kpi_evaluate(*, definition_like, value, previous, target=None) -> dict
        definition_like: anything with the attributes (or dict keys) `direction`, `target`,
            `target_low`, `target_high`, `warning_threshold_pct`, `critical_threshold_pct`
            (a KpiDefinition row, a dict, a SimpleNamespace); missing thresholds default to 10 / 20.
        value: the KPI value (Decimal, int, float or numeric string); previous: the previous
            period's value or None; target: overrides the definition's target when not None
            (a manual row's own target). Ranges always come from `target_low` / `target_high`.
        returns {variance, variance_pct, trend, status, adverse_pct, achievement_pct}: Decimals
            rounded to 4 dp or None; trend in improving | declining | stable; status in
            on_target | warning | critical | no_target.

    achievement_pct(*, direction, value, target=None, target_low=None, target_high=None) -> Decimal | None
    adverse_pct(...same arguments...) -> Decimal | None
    status_of(adverse, *, warning_pct=10, critical_pct=20) -> str
    trend_of(*, direction, value, previous, target_low=None, target_high=None) -> str
    achievement_colour(achievement) -> "green" | "amber" | "red" | None   (bar colour: ≥ 100, ≥ 80, below)
"""

from decimal import ROUND_HALF_UP, Decimal

HIGHER = "higher_is_better"
LOWER = "lower_is_better"
RANGE = "target_range"
ZERO = "closest_to_zero"
DIRECTIONS = (HIGHER, LOWER, RANGE, ZERO)

IMPROVING, DECLINING, STABLE = "improving", "declining", "stable"
ON_TARGET, WARNING, CRITICAL, NO_TARGET = "on_target", "warning", "critical", "no_target"

DEFAULT_WARNING_PCT = Decimal("10")
DEFAULT_CRITICAL_PCT = Decimal("20")
STABLE_BAND = Decimal("0.01")  # |Δ| / |previous| below 1 % is stable
HUNDRED = Decimal("100")
_Q4 = Decimal("0.0001")

__all__ = [
    "CRITICAL",
    "DECLINING",
    "DIRECTIONS",
    "IMPROVING",
    "NO_TARGET",
    "ON_TARGET",
    "STABLE",
    "WARNING",
    "achievement_colour",
    "achievement_pct",
    "adverse_pct",
    "dec",
    "kpi_evaluate",
    "q4",
    "status_of",
    "trend_of",
    "variance_of",
]


def dec(value) -> Decimal | None:
    """Decimal of a number or numeric string; None stays None (floats go through str, not binary)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def q4(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_Q4, rounding=ROUND_HALF_UP)


def _attr(obj, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _has_target(direction: str, target, low, high) -> bool:
    return (low is not None and high is not None) if direction == RANGE else target is not None


def _range_bound(value: Decimal, low: Decimal, high: Decimal) -> Decimal | None:
    """The bound `value` lies beyond, or None inside the range."""
    if value < low:
        return low
    if value > high:
        return high
    return None


def _scale(reference: Decimal) -> Decimal:
    # A zero target has no relative scale: the deviation is then read in the KPI's own units.
    return abs(reference) or Decimal(1)


def variance_of(*, direction: str, value, target=None, target_low=None, target_high=None):
    """(variance, variance_pct). Range: 0 inside, else value - nearest bound, pct relative to that bound.
    variance_pct is None without a target or when the reference is 0."""
    value, target, low, high = dec(value), dec(target), dec(target_low), dec(target_high)
    if not _has_target(direction, target, low, high):
        return None, None
    if direction == RANGE:
        bound = _range_bound(value, low, high)
        if bound is None:
            return Decimal(0), Decimal(0)
        variance = value - bound
        return q4(variance), (q4(variance / abs(bound) * HUNDRED) if bound else None)
    variance = value - target
    return q4(variance), (q4(variance / abs(target) * HUNDRED) if target else None)


def adverse_pct(*, direction: str, value, target=None, target_low=None, target_high=None) -> Decimal | None:
    """How far the value is on the wrong side of its target, in % of the target (≥ 0; None without one)."""
    value, target, low, high = dec(value), dec(target), dec(target_low), dec(target_high)
    if not _has_target(direction, target, low, high):
        return None
    if direction == RANGE:
        bound = _range_bound(value, low, high)
        return Decimal(0) if bound is None else q4(abs(value - bound) / _scale(bound) * HUNDRED)
    if direction == HIGHER:
        gap = target - value
    elif direction == LOWER:
        gap = value - target
    else:  # closest to zero: the target is the tolerance either side of zero
        gap = abs(value) - abs(target)
    return q4(max(Decimal(0), gap / _scale(target) * HUNDRED))


def status_of(adverse, *, warning_pct=DEFAULT_WARNING_PCT, critical_pct=DEFAULT_CRITICAL_PCT) -> str:
    """critical above the critical threshold, warning above the warning one, else on target."""
    adverse = dec(adverse)
    if adverse is None:
        return NO_TARGET
    if adverse > dec(critical_pct):
        return CRITICAL
    if adverse > dec(warning_pct):
        return WARNING
    return ON_TARGET


def achievement_pct(*, direction: str, value, target=None, target_low=None, target_high=None) -> Decimal | None:
    """The achievement bar: higher value/target, lower target/value (100 when value is 0), range and
    closest-to-zero 100 - adverse (not below 0). None without a target (or a zero target to divide by)."""
    value, target, low, high = dec(value), dec(target), dec(target_low), dec(target_high)
    if not _has_target(direction, target, low, high):
        return None
    if direction == HIGHER:
        return q4(value / target * HUNDRED) if target else None
    if direction == LOWER:
        return HUNDRED.quantize(_Q4) if value == 0 else q4(target / value * HUNDRED)
    adverse = adverse_pct(direction=direction, value=value, target=target, target_low=low, target_high=high)
    return q4(max(Decimal(0), HUNDRED - adverse))


def achievement_colour(achievement) -> str | None:
    achievement = dec(achievement)
    if achievement is None:
        return None
    if achievement >= HUNDRED:
        return "green"
    return "amber" if achievement >= 80 else "red"


def _range_distance(value: Decimal, low, high) -> Decimal:
    bound = _range_bound(value, low, high) if low is not None and high is not None else None
    return Decimal(0) if bound is None else abs(value - bound)


def trend_of(*, direction: str, value, previous, target_low=None, target_high=None) -> str:
    """Stable when there is no previous value, it is 0, or the change is under 1 % of it; otherwise
    improving or declining by the direction. For a range, a distance outside the range that neither
    shrank nor grew (both inside) is stable."""
    value, previous = dec(value), dec(previous)
    if previous is None or previous == 0:
        return STABLE
    delta = value - previous
    if abs(delta) / abs(previous) < STABLE_BAND:
        return STABLE
    if direction == HIGHER:
        better = delta > 0
    elif direction == LOWER:
        better = delta < 0
    elif direction == ZERO:
        better = abs(value) < abs(previous)
    else:
        low, high = dec(target_low), dec(target_high)
        now, before = _range_distance(value, low, high), _range_distance(previous, low, high)
        if now == before:
            return STABLE
        better = now < before
    return IMPROVING if better else DECLINING


def kpi_evaluate(*, definition_like, value, previous, target=None) -> dict:
    """FRM-36 for one value: see the module docstring."""
    direction = _attr(definition_like, "direction") or HIGHER
    target = dec(target) if target is not None else dec(_attr(definition_like, "target"))
    low, high = dec(_attr(definition_like, "target_low")), dec(_attr(definition_like, "target_high"))
    warning = dec(_attr(definition_like, "warning_threshold_pct")) or DEFAULT_WARNING_PCT
    critical = dec(_attr(definition_like, "critical_threshold_pct")) or DEFAULT_CRITICAL_PCT
    bounds = {"target": target, "target_low": low, "target_high": high}
    variance, variance_pct = variance_of(direction=direction, value=value, **bounds)
    adverse = adverse_pct(direction=direction, value=value, **bounds)
    return {
        "variance": variance,
        "variance_pct": variance_pct,
        "trend": trend_of(direction=direction, value=value, previous=previous, target_low=low, target_high=high),
        "status": status_of(adverse, warning_pct=warning, critical_pct=critical),
        "adverse_pct": adverse,
        "achievement_pct": achievement_pct(direction=direction, value=value, **bounds),
    }
