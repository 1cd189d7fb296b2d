"""FRM-41 ABC classification of products by trailing revenue.

The class feeds the accuracy check of publish readiness (GOV-62 looks at A items) and the catalog
filters. It is derived, never typed: the nightly schedule and the end of a data load recompute it.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from forecasting.series import add_months
from genxsop.services import require_perm
from governance import audit, bus
from planning import events
from planning import permissions as perms
from planning.choices import AbcClass, ProductStatus
from planning.models import DemandPlan, Product

__all__ = ["abc_classes", "product_abc_classify"]

A_SHARE = Decimal("0.80")
B_SHARE = Decimal("0.95")
TRAILING_MONTHS = 12


def abc_classes(revenue: dict[int, Decimal]) -> dict[int, str]:
    """Walk products by revenue, highest first: `A` while the cumulative share including the product
    is ≤ 80 % (the first product is always A), `B` while ≤ 95 %, else `C`; zero revenue is `C`.
    Ties are broken by product id so the result does not depend on query order."""
    total = sum(revenue.values(), Decimal(0))
    ordered = sorted(revenue.items(), key=lambda item: (-item[1], item[0]))
    classes: dict[int, str] = {}
    cumulative = Decimal(0)
    for position, (product_id, value) in enumerate(ordered):
        if value <= 0 or total <= 0:
            classes[product_id] = AbcClass.C
            continue
        cumulative += value
        share = cumulative / total
        if position == 0 or share <= A_SHARE:
            classes[product_id] = AbcClass.A
        elif share <= B_SHARE:
            classes[product_id] = AbcClass.B
        else:
            classes[product_id] = AbcClass.C
    return classes


@transaction.atomic
def product_abc_classify(*, actor=None, today: datetime.date | None = None) -> dict:
    """Recompute `abc_class` of every active product from the last 12 closed months.

    Revenue_12m = Σ product-total actuals (every current demand row of the product, all regions and
    channels) times the selling price. Products that are not active lose their class. `actor` None is the
    system (schedule, data load); a person needs change_product. Only products whose class moves
    are written, each with a `planning.product.classified` audit row. Returns counts per class.
    """
    if actor is not None:
        require_perm(actor, perms.CHANGE_PRODUCT)
    current_month = (today or timezone.localdate()).replace(day=1)
    first, last = add_months(current_month, -TRAILING_MONTHS), add_months(current_month, -1)
    actuals = dict(
        DemandPlan.objects.filter(is_current=True, period__gte=first, period__lte=last, actual_qty__isnull=False)
        .values("product_id")
        .annotate(qty=Sum("actual_qty"))
        .values_list("product_id", "qty")
    )
    products = list(Product.objects.select_for_update().order_by("pk"))
    active = [p for p in products if p.status != ProductStatus.DISCONTINUED]
    revenue = {p.pk: Decimal(actuals.get(p.pk) or 0) * (p.selling_price or Decimal(0)) for p in active}
    wanted = abc_classes(revenue)
    changed, entries = [], []
    for product in products:
        new = wanted.get(product.pk)
        if product.abc_class == new:
            continue
        before = {"abc_class": product.abc_class}
        product.abc_class = new
        changed.append(product)
        revenue_12m = revenue.get(product.pk, Decimal(0)).quantize(Decimal("0.01"))
        metadata = {"revenue_12m": str(revenue_12m), "window": [str(first), str(last)]}
        entries.append({"actor": actor, "event_type": events.PRODUCT_CLASSIFIED, "target": product, "before": before,
                        "after": {"abc_class": new}, "metadata": metadata})  # fmt: skip
    if changed:
        Product.objects.bulk_update(changed, ["abc_class"])
        audit.record_many(entries)
        bus.publish_on_commit(events.PRODUCT_CLASSIFIED, product_ids=[p.pk for p in changed])
    counts = {cls: sum(1 for v in wanted.values() if v == cls) for cls in AbcClass.values}
    return {"window": [first.isoformat(), last.isoformat()], "changed": len(changed), **counts}
