"""Reads behind the review pages: the choices of the demand history view (UI-04) and the gap
closing proposal of the supply gap analysis (UI-05), scoped like every other selector."""

import datetime
from decimal import Decimal

from django.db.models import Case, IntegerField, QuerySet, Value, When

from planning.choices import GapStatus, ProductStatus
from planning.models import DEFAULT_LOCATION_CODE, DemandPlan, Location, Product, SupplyPlan
from planning.selectors.supply import gap_analysis

__all__ = ["demand_series_keys", "gap_close_proposal", "products_active_first"]

CLOSE, ADJUST = "close", "adjust"
ZERO = Decimal("0.00")


def products_active_first(*, user) -> QuerySet[Product]:
    """Products in the caller's scope, active ones first, then grouped by status, by SKU."""
    rank = Case(When(status=ProductStatus.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField())
    return Product.objects.for_user(user).annotate(active_rank=rank).order_by("active_rank", "status", "sku", "pk")


def demand_series_keys(*, user, product: Product) -> list[tuple[str, str]]:
    """The (region, channel) keys of the product's current demand rows the caller may see, sorted."""
    rows = DemandPlan.objects.for_user(user).filter(product=product, is_current=True)
    return sorted(set(rows.order_by().values_list("region", "channel")))


def gap_close_proposal(*, user, product: Product, period: datetime.date, location: Location | None = None) -> dict:
    """What "Close Gap" / "Adjust Plan" (UI-05) would write for one product-period.

    `item` is the FRM-02 row (None without demand), `action` "close" for shortage and critical,
    "adjust" for excess, None otherwise. The plan gap is spread on one location: `location`, by
    default the one whose current row plans the most, else Main. There the proposal is
    max(0, planned - plan gap): for a shortfall planned + |plan gap|, for an excess planned - gap.
    `rows` are the product's current supply rows of the period in scope, largest first, each with
    the proposal there.
    """
    items = gap_analysis(user=user, params={"period": period.isoformat(), "product_id": str(product.pk)})
    item = next((i for i in items if i["product_id"] == product.pk), None)
    rows = sorted(
        SupplyPlan.objects.scope_for(user, "view").filter(product_id=product.pk, period=period, is_current=True)
        .select_related("location"),
        key=lambda r: (-(r.planned_prod_qty or 0), r.pk),
    )  # fmt: skip
    if location is None:
        location = rows[0].location if rows else Location.objects.filter(code=DEFAULT_LOCATION_CODE).first()
    row = next((r for r in rows if location is not None and r.location_id == location.pk), None)
    action = None
    if item is not None:
        action = {GapStatus.SHORTAGE: CLOSE, GapStatus.CRITICAL: CLOSE, GapStatus.EXCESS: ADJUST}.get(item["status"])

    def propose(planned) -> Decimal:
        current = planned or ZERO
        return max(ZERO, current - item["plan_gap_qty"]) if item is not None else current

    return {
        "item": item, "action": action, "location": location, "row": row,
        "current_qty": (row.planned_prod_qty if row is not None else None) or ZERO,
        "proposed_qty": propose(row.planned_prod_qty if row is not None else None),
        "rows": [{"row": r, "proposed_qty": propose(r.planned_prod_qty), "selected": r is row} for r in rows],
    }  # fmt: skip
