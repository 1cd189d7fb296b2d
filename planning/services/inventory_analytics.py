"""Inventory analytics formulas (FRM-10, 12, 14, 15, 16, 17): pure functions over plain values.

The selectors in planning/selectors/inventory_analytics.py read the rows (a fixed number of
queries) and hand them here, so every formula can be checked by hand on a few numbers without a
database. Nothing here writes.
"""

import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

import numpy as np

__all__ = [
    "CURVE_TARGETS",
    "SERVICE_LEVEL_METHODS",
    "SL_TARGET_MAX",
    "SL_TARGET_MIN",
    "ServiceLevelInputs",
    "assessment_scorecard",
    "data_quality",
    "escalation",
    "rebalance",
    "service_level",
    "working_capital",
]

ZERO = Decimal("0")
CENT = Decimal("0.01")
ONE_DP = Decimal("0.1")
FOUR_DP = Decimal("0.0001")
_STD_NORMAL = NormalDist()


def _d(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def _q(value, step=CENT) -> Decimal:
    return Decimal(str(value)).quantize(step, ROUND_HALF_UP)


# FRM-10 ------------------------------------------------------------------------------------------


def data_quality(*, on_hand, allocated, safety_stock, reorder_point, max_stock, valuation,
                 seen_at: datetime.datetime, now: datetime.datetime, product_active: bool,
                 has_demand: bool) -> dict:  # fmt: skip
    """FRM-10 scores of one row: completeness, freshness, consistency, overall (4 dp) and tier."""
    values = (on_hand, safety_stock, reorder_point, max_stock, valuation)
    completeness = Decimal(sum(v is not None for v in values)) / 5
    age_hours = (now - seen_at).total_seconds() / 3600
    freshness = Decimal("1.0") if age_hours <= 72 else Decimal("0.75") if age_hours <= 168 else Decimal("0.5")
    issues = int(_d(allocated) > _d(on_hand))
    issues += int(product_active and has_demand and _d(safety_stock) == 0 and _d(reorder_point) == 0)
    consistency = max(ZERO, 1 - Decimal("0.5") * issues)
    overall = Decimal("0.4") * completeness + Decimal("0.3") * freshness + Decimal("0.3") * consistency
    tier = "high" if overall >= Decimal("0.85") else "medium" if overall >= Decimal("0.60") else "low"
    return {
        "completeness_score": _q(completeness, FOUR_DP),
        "freshness_score": _q(freshness, FOUR_DP),
        "consistency_score": _q(consistency, FOUR_DP),
        "overall_score": _q(overall, FOUR_DP),
        "quality_tier": tier,
    }


# FRM-12 ------------------------------------------------------------------------------------------


def working_capital(*, total_value, excess_value, low_exposure, excess_above_max_value, carrying_rate_pct) -> dict:
    """FRM-12 from the sums of the rows in scope."""
    total = _d(total_value)
    annual = total * _d(carrying_rate_pct) / 100
    at_risk = _d(excess_value) + _d(low_exposure)
    index = Decimal(100) if total == 0 else 100 - at_risk / total * 100
    return {
        "total_inventory_value": _q(total),
        "estimated_carrying_cost_annual": _q(annual),
        "estimated_carrying_cost_monthly": _q(annual / 12),
        "excess_inventory_value": _q(excess_value or 0),
        "low_stock_exposure_value": _q(low_exposure or 0),
        "excess_above_max_value": _q(excess_above_max_value or 0),
        "inventory_health_index": _q(index, ONE_DP),
        "carrying_rate_pct": _q(carrying_rate_pct, ONE_DP),
    }


# FRM-14 (escalations) ------------------------------------------------------------------------------


def escalation(*, severity: str, due_date: datetime.date | None, today: datetime.date) -> tuple[str, str, int] | None:
    """FRM-14 escalation of one open or in-progress exception: (level, reason, days overdue), or None
    when it is not escalated."""
    overdue = (today - due_date).days if due_date is not None else 0
    high = severity == "high"
    if high and (due_date is None or due_date <= today):
        return "L2", "High-severity exception requires immediate escalation", max(overdue, 0)
    if overdue >= 3:
        return "L2", f"Exception overdue by {overdue} days", overdue
    if overdue >= 1:
        return "L1", f"Exception overdue by {overdue} day{'s' if overdue != 1 else ''}", overdue
    if high:
        return "L1", f"High-severity exception open, due {due_date.isoformat()}", 0
    return None


# FRM-15 ------------------------------------------------------------------------------------------


def rebalance(rows: list[dict], *, min_transfer_qty=Decimal("1.0")) -> list[dict]:
    """FRM-15 transfer suggestions. `rows` carry id, product_id, product_name, location, status,
    on_hand, allocated, in_transit, reorder_point, max_stock. Each donor's surplus is drawn down
    as suggestions are made, so the total suggested from a donor never exceeds its surplus."""
    minimum = _d(min_transfer_qty)
    by_product: dict[int, list[dict]] = {}
    for row in rows:
        by_product.setdefault(row["product_id"], []).append(row)
    out = []
    for product_id in sorted(by_product):
        group = by_product[product_id]
        receivers = []
        for r in group:
            if r["status"] in ("low", "critical"):
                position = _d(r["on_hand"]) - _d(r["allocated"]) + _d(r["in_transit"])
                receivers.append((r, max(ZERO, _d(r["reorder_point"]) - position)))
        donors = {r["id"]: _d(r["on_hand"]) - _d(r["max_stock"]) for r in group
                  if r["status"] == "excess" and r["max_stock"] is not None}  # fmt: skip
        if not receivers or not donors:
            continue
        receivers.sort(key=lambda item: (item[0]["status"] != "critical", -item[1], item[0]["id"]))
        donor_rows = {r["id"]: r for r in group}
        for receiver, need in receivers:
            candidates = [(left, pk) for pk, left in donors.items()
                          if donor_rows[pk]["location"] != receiver["location"] and left > 0]  # fmt: skip
            if not candidates:
                continue
            left, donor_id = max(candidates, key=lambda c: (c[0], -c[1]))
            transfer = _q(min(need, left))
            if transfer < minimum or transfer <= 0:
                continue
            donors[donor_id] = left - transfer
            donor = donor_rows[donor_id]
            uplift = (60 if receiver["status"] == "critical" else 75) + min(
                Decimal(25), transfer / max(need, Decimal(1)) * 20
            )
            out.append({
                "product_id": product_id, "product_name": receiver["product_name"],
                "from_inventory_id": donor_id, "from_location": donor["location"],
                "to_inventory_id": receiver["id"], "to_location": receiver["location"],
                "transfer_qty": transfer, "estimated_service_uplift_pct": _q(uplift),
            })  # fmt: skip
    return out


# FRM-16 ------------------------------------------------------------------------------------------

_AREAS = ("Policy Logic", "Forecast Integration", "Supply Constraints", "Governance & Cadence", "Outcome KPIs")


def assessment_scorecard(checks: dict[str, list[bool]]) -> dict:
    """FRM-16 from the yes/no answers of each area (three per area)."""
    areas = []
    total = 0
    for area in _AREAS:
        answers = checks[area]
        yes = sum(bool(a) for a in answers)
        total += yes
        share = yes / len(answers)
        rag = "green" if share >= 0.8 else "amber" if share >= 0.4 else "red"
        areas.append({"area": area, "yes_count": yes, "total_count": len(answers), "score_0_to_3": yes, "rag": rag})
    if total <= 5:
        level = "Level 1: Transactional / static settings"
    elif total <= 11:
        level = "Level 2: Partial optimization"
    else:
        level = "Level 3: Mature optimization foundation"
    return {"total_yes": total, "total_checks": 3 * len(_AREAS), "maturity_level": level, "areas": areas}


# FRM-17 ------------------------------------------------------------------------------------------

SL_TARGET_MIN = 0.5001
SL_TARGET_MAX = 0.999
CURVE_TARGETS = (0.90, 0.95, 0.97, 0.99)
SERVICE_LEVEL_METHODS = [("analytical", "Analytical"), ("monte_carlo", "Monte Carlo")]
HISTOGRAM_MIN_SAMPLES, HISTOGRAM_MAX_SAMPLES = 1000, 5000


@dataclass(frozen=True)
class ServiceLevelInputs:
    demand_mean: float  # per day
    demand_std: float
    lead_time_mean: float  # days
    lead_time_std: float
    reorder_point: float
    safety_stock: float


def _r(value: float, places: int = 4) -> float:
    return round(float(value), places)


def _histogram(samples: np.ndarray, buckets: int) -> list[dict]:
    lo, hi = float(samples.min()), float(samples.max())
    if hi <= lo:
        hi = lo + 1.0  # every sample equal: one bucket holds them all
    counts, edges = np.histogram(samples, bins=buckets, range=(lo, hi))
    total = int(counts.sum()) or 1
    return [
        {"label": f"{edges[i]:.2f}-{edges[i + 1]:.2f}", "lo": _r(edges[i], 2), "hi": _r(edges[i + 1], 2),
         "midpoint": _r((edges[i] + edges[i + 1]) / 2, 2), "probability": _r(counts[i] / total)}
        for i in range(buckets)
    ]  # fmt: skip


def service_level(inputs: ServiceLevelInputs, *, target: float, method: str = "analytical",
                  simulation_runs: int = 5000, bucket_count: int = 20, seed: int = 42) -> dict:  # fmt: skip
    """FRM-17: service level of the current reorder point against demand during the lead time, and the
    safety stock a target would need. Monte Carlo draws come from numpy's default_rng(seed), so the
    same inputs and seed give the same answer."""
    md, sd, lt, slt = inputs.demand_mean, inputs.demand_std, inputs.lead_time_mean, inputs.lead_time_std
    mu = md * lt
    sigma = math.sqrt(max(lt * sd * sd + md * md * slt * slt, 0.0))
    rop = inputs.reorder_point
    rng = np.random.default_rng(seed)
    if method == "monte_carlo":
        draws = np.clip(rng.normal(mu, sigma, size=simulation_runs), 0, None)
        sl = float(np.mean(draws <= rop))
        shortage = float(np.mean(np.maximum(0.0, draws - rop)))
        fill = 1 - shortage / max(1.0, float(np.mean(draws)))
        samples = draws
    else:
        if sigma == 0:
            sl = 1.0 if rop >= mu else 0.0
            shortage = max(0.0, mu - rop)
        else:
            z = (rop - mu) / sigma
            sl = _STD_NORMAL.cdf(z)
            shortage = sigma * (_STD_NORMAL.pdf(z) - z * (1 - sl))
        fill = 1 - shortage / max(mu, 1.0)
        size = min(max(simulation_runs, HISTOGRAM_MIN_SAMPLES), HISTOGRAM_MAX_SAMPLES)
        samples = rng.normal(mu, sigma, size=size)
    clamped = min(max(target, SL_TARGET_MIN), SL_TARGET_MAX)
    rec_ss = _STD_NORMAL.inv_cdf(clamped) * sigma
    curve = []
    for t in CURVE_TARGETS:
        z_t = _STD_NORMAL.inv_cdf(t)
        curve.append({"target": t, "z": _r(z_t), "safety_stock": _r(z_t * sigma, 2),
                      "reorder_point": _r(mu + z_t * sigma, 2)})  # fmt: skip
    return {
        "method": method,
        "target_service_level": target,
        "demand": {"mean": _r(md), "std": _r(sd)},
        "lead_time": {"mean": _r(lt), "std": _r(slt)},
        "dlt": {"mean": _r(mu), "std": _r(sigma)},
        "current": {"safety_stock": _r(inputs.safety_stock, 2), "reorder_point": _r(rop, 2)},
        "cycle_service_level": _r(sl),
        "fill_rate": _r(max(0.0, fill)),
        "stockout_probability": _r(1 - sl),
        "expected_shortage": _r(shortage),
        "recommended_safety_stock": _r(rec_ss, 2),
        "recommended_reorder_point": _r(mu + rec_ss, 2),
        "curve": curve,
        "distribution": _histogram(samples, bucket_count),
    }
