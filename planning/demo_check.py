"""The loader's self-check (DEMO-15, the part that exists so far): run at the end of every load,
inside its transaction, so a data set that breaks a rule is rolled back and reported instead of
being left half-right."""

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.db.models.functions import Coalesce

from governance.models import User
from planning.choices import InventoryStatus
from planning.demo_plans import APPROVER, CRITICAL_GAPS, STATUS_MIX, add_months
from planning.models import DemandPlan, Inventory, InventorySnapshot, SupplyPlan

STATUS_TOLERANCE = 0.06  # share points either side of the DEMO-09 mix
SAMPLE_EVERY = 251  # full_clean on every n-th row: the database constraints already hold for all


class DemoCheckFailed(Exception):
    """The loaded demo data does not meet the spec; the load is rolled back."""


def run(*, anchor: datetime.date, product_skus: list[str], generated: bool = True) -> list[str]:
    """Verify the demo content of `product_skus`; returns what was checked, raises DemoCheckFailed.

    The status mix and the critical gaps are checked when this load `generated` the content: on a
    database loaded earlier, people may have edited stock and plans, and the anchor month may have
    moved on, so only the model rules are checked there.
    """
    problems: list[str] = []
    passed: list[str] = []
    _check_constraints(product_skus, problems, passed)
    if generated:
        _check_inventory_mix(product_skus, problems, passed)
        _check_gaps(anchor, product_skus, problems, passed)
        _check_forecasts(anchor, product_skus, problems, passed)
    else:
        passed.append("status mix and gaps not re-checked: the demo plans were loaded before")
    if problems:
        raise DemoCheckFailed("Demo data self-check failed: " + "; ".join(problems))
    return passed


def _check_constraints(skus, problems, passed) -> None:
    checked = 0
    for model in (DemandPlan, SupplyPlan, Inventory, InventorySnapshot):
        rows = model.objects.filter(product__sku__in=skus).order_by("pk")
        for row in rows[::SAMPLE_EVERY] if model in (DemandPlan, SupplyPlan, InventorySnapshot) else rows:
            try:
                # Live rows only for the uniqueness checks; history rows share the key by design.
                row.full_clean(validate_unique=getattr(row, "is_current", True), validate_constraints=True)
            except ValidationError as exc:
                problems.append(f"{model.__name__} {row.pk} breaks a model rule: {exc.messages[:2]}")
            checked += 1
    passed.append(f"{checked} sampled rows pass model validation")


def _check_inventory_mix(skus, problems, passed) -> None:
    statuses = Counter(Inventory.objects.filter(product__sku__in=skus).values_list("status", flat=True))
    total = sum(statuses.values())
    if not total:
        problems.append("no inventory rows")
        return
    targets = dict(STATUS_MIX)
    targets[InventoryStatus.NORMAL] = 1 - sum(targets.values())
    for status, share in targets.items():
        actual = statuses.get(status, 0) / total
        if abs(actual - share) > STATUS_TOLERANCE:
            problems.append(f"inventory {status} is {actual:.0%} of rows, expected about {share:.0%}")
    passed.append("inventory status mix " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())))


def coverage_gaps(anchor: datetime.date, skus) -> dict[tuple[str, datetime.date], Decimal]:
    """FRM-02 coverage_gap_pct per product-period of the horizon (anchor month and the 11 following)."""
    start, end = anchor, add_months(anchor, 12)
    demand = (DemandPlan.objects.filter(product__sku__in=skus, is_current=True, period__gte=start, period__lt=end)
              .values_list("product__sku", "period").annotate(q=Sum(Coalesce("consensus_qty", "adjusted_qty",
                                                                             "forecast_qty"))))  # fmt: skip
    supply = {
        (sku, period): q
        for sku, period, q in SupplyPlan.objects.filter(product__sku__in=skus, is_current=True, period__gte=start,
                                                        period__lt=end)
        .values_list("product__sku", "period").annotate(q=Sum("planned_prod_qty"))
    }  # fmt: skip
    position: dict[str, Decimal] = defaultdict(Decimal)
    for sku, on_hand, allocated, in_transit in Inventory.objects.filter(product__sku__in=skus).values_list(
        "product__sku", "on_hand_qty", "allocated_qty", "in_transit_qty"
    ):
        position[sku] += max(Decimal(0), on_hand - allocated + in_transit)
    out = {}
    for sku, period, qty in demand:
        effective = (supply.get((sku, period)) or Decimal(0)) + position[sku]
        out[(sku, period)] = (effective - qty) / qty * 100 if qty else Decimal(0)
    return out


def critical_gaps(anchor: datetime.date, skus) -> list[tuple[str, datetime.date]]:
    """The product-periods of the horizon whose gap status is `critical`, as the gap analysis
    (API-SUP-15) reports them to the executive; the FRM-02 formula above when that is unavailable."""
    try:
        from planning.selectors.supply import gap_analysis
    except ImportError:  # pragma: no cover - the selector arrives with the supply API
        gap_analysis = None
    viewer = User.objects.filter(email=APPROVER, is_active=True).first()
    if gap_analysis is None or viewer is None:
        return sorted(key for key, pct in coverage_gaps(anchor, skus).items() if pct < -20)
    params = {"period": f"{anchor:%Y-%m}", "period_to": f"{add_months(anchor, 11):%Y-%m}", "status": "critical"}
    wanted = set(skus)
    return sorted((item["sku"], item["period"]) for item in gap_analysis(user=viewer, params=params)
                  if item["sku"] in wanted)  # fmt: skip


def _check_forecasts(anchor, skus, problems, passed) -> None:
    from forecasting import demo as forecasting_demo
    from planning.models import Product

    forecasting_demo.check(anchor, list(Product.objects.filter(sku__in=skus).values_list("pk", flat=True)), problems,
                           passed)  # fmt: skip


def _check_gaps(anchor, skus, problems, passed) -> None:
    critical = critical_gaps(anchor, skus)
    expected = sorted((sku, add_months(anchor, t)) for sku, t in CRITICAL_GAPS if sku in skus)
    if critical != expected:
        problems.append(f"critical coverage gaps are {critical}, expected {expected}")
    else:
        passed.append(f"{len(critical)} critical coverage gaps: " + ", ".join(f"{s} {p:%Y-%m}" for s, p in critical))
