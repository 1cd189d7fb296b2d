"""The derived fields of an inventory row (FRM-03, FRM-04, FRM-05), set-based.

`recompute(rows)` fills status, valuation and days of supply on unsaved or saved Inventory
objects with a fixed number of queries however many rows there are, so the services, ERP sync,
imports and the demo loader share one implementation and none of them loops a query per row.
"""

import calendar
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from planning.choices import InventoryStatus
from planning.models import DemandPlan, Inventory, Product

CENT = Decimal("0.01")
DOS_CAP = Decimal("999999.99")
ZERO = Decimal("0")


def _d(value) -> Decimal:
    return ZERO if value is None else Decimal(value)


def inventory_status(*, on_hand, allocated, in_transit, safety_stock, reorder_point, max_stock) -> str:
    """FRM-03. available = on_hand - allocated; position = available + in_transit.

    critical: available < safety stock, or nothing available while a reorder point is set;
    low: position < reorder point; excess: max stock set and on hand above it; else normal.
    """
    available = _d(on_hand) - _d(allocated)
    position = available + _d(in_transit)
    if available < _d(safety_stock) or (available <= 0 and _d(reorder_point) > 0):
        return InventoryStatus.CRITICAL
    if position < _d(reorder_point):
        return InventoryStatus.LOW
    if max_stock is not None and _d(on_hand) > Decimal(max_stock):
        return InventoryStatus.EXCESS
    return InventoryStatus.NORMAL


def inventory_valuation(*, on_hand, unit_cost, erp_valuation=None) -> Decimal:
    """FRM-04: the ERP's valuation when it supplied one, else on hand x unit cost (2 dp), else 0."""
    if erp_valuation is not None:
        return Decimal(erp_valuation).quantize(CENT, ROUND_HALF_UP)
    if unit_cost is None:
        return ZERO.quantize(CENT)
    return (_d(on_hand) * Decimal(unit_cost)).quantize(CENT, ROUND_HALF_UP)


def _add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def _days(first: datetime.date, months: int) -> int:
    total = 0
    for i in range(months):
        m = _add_months(first, i)
        total += calendar.monthrange(m.year, m.month)[1]
    return total


def product_daily_demand(product_ids, *, today: datetime.date | None = None) -> dict[int, Decimal | None]:
    """FRM-05 d_P per product: Σ demand quantity (FRM-01) of the current month and the next two over
    their days; when that is 0 or absent, Σ actuals of the last three closed months over their days;
    None when still 0. Two queries for any number of products."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    ids = list(set(product_ids))
    if not ids:
        return {}
    demand_qty = Coalesce("consensus_qty", "adjusted_qty", "forecast_qty")
    forward = dict(
        DemandPlan.objects.filter(
            product_id__in=ids, is_current=True, period__gte=month, period__lt=_add_months(month, 3)
        )
        .values_list("product_id")
        .annotate(total=Sum(demand_qty))
    )
    past_start = _add_months(month, -3)
    past = dict(
        DemandPlan.objects.filter(product_id__in=ids, is_current=True, period__gte=past_start, period__lt=month)
        .values_list("product_id")
        .annotate(total=Sum("actual_qty"))
    )
    forward_days, past_days = Decimal(_days(month, 3)), Decimal(_days(past_start, 3))
    out: dict[int, Decimal | None] = {}
    for pk in ids:
        total = _d(forward.get(pk))
        if total > 0:
            out[pk] = total / forward_days
            continue
        total = _d(past.get(pk))
        out[pk] = total / past_days if total > 0 else None
    return out


def days_of_supply(*, available, daily_demand_row) -> Decimal | None:
    """FRM-05: available ÷ the row's daily demand, 2 dp, capped; None when demand is undefined."""
    if not daily_demand_row:
        return None
    value = (max(_d(available), ZERO) / daily_demand_row).quantize(CENT, ROUND_HALF_UP)
    return min(value, DOS_CAP)


def recompute(rows: list[Inventory], *, today: datetime.date | None = None) -> list[Inventory]:
    """Fill status, valuation and days of supply of `rows` in memory (no save).

    Products are read in one query, daily demand in two, and the number of stocking locations per
    product (k of FRM-05) in one, counting rows about to be created as well.
    """
    if not rows:
        return rows
    product_ids = {row.product_id for row in rows}
    costs = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "unit_cost"))
    demand = product_daily_demand(product_ids, today=today)
    stocking = dict(
        Inventory.objects.filter(product_id__in=product_ids).values_list("product_id").annotate(n=Count("pk"))
    )
    unsaved = defaultdict(int)
    for row in rows:
        if row.pk is None:
            unsaved[row.product_id] += 1
    for row in rows:
        row.status = inventory_status(
            on_hand=row.on_hand_qty, allocated=row.allocated_qty, in_transit=row.in_transit_qty,
            safety_stock=row.safety_stock, reorder_point=row.reorder_point, max_stock=row.max_stock,
        )  # fmt: skip
        if not row.valuation_from_erp:
            row.valuation = inventory_valuation(on_hand=row.on_hand_qty, unit_cost=costs.get(row.product_id))
        k = max(stocking.get(row.product_id, 0) + unsaved[row.product_id], 1)
        d_product = demand.get(row.product_id)
        row.days_of_supply = days_of_supply(
            available=_d(row.on_hand_qty) - _d(row.allocated_qty), daily_demand_row=d_product / k if d_product else None
        )
    return rows


DERIVED_FIELDS = ["status", "valuation", "days_of_supply"]


def refresh_rows(product_ids, *, today: datetime.date | None = None) -> list[Inventory]:
    """Recompute the derived fields of every inventory row of `product_ids` and write the rows whose
    values changed (one bulk update); returns those rows. Used after demand plans, a product's cost or
    the number of stocking locations changed, which move days of supply and valuation but are not
    edits of the rows themselves."""
    ids = {pk for pk in product_ids if pk is not None}
    if not ids:
        return []
    rows = list(Inventory.objects.filter(product_id__in=ids).order_by("pk"))
    before = {row.pk: tuple(getattr(row, f) for f in DERIVED_FIELDS) for row in rows}
    recompute(rows, today=today)
    changed = [row for row in rows if tuple(getattr(row, f) for f in DERIVED_FIELDS) != before[row.pk]]
    if changed:
        # Derived values only: neither the version (an open edit form stays valid) nor updated_at (data
        # freshness, FRM-10) moves.
        Inventory.objects.bulk_update(changed, DERIVED_FIELDS, batch_size=500)
    return changed


def refresh_products(product_ids, *, today: datetime.date | None = None) -> int:
    """`refresh_rows`, answering how many rows changed."""
    return len(refresh_rows(product_ids, today=today))
