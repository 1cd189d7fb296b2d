"""Read paths for inventory (API-INV-01…04, 22; UI-08): querysets already scoped to the caller.

The FilterSets live here rather than in planning/filtersets.py so that the inventory reads stay in
one module; the API lists, the console and exports all filter through them.
"""

from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from genxsop.errors import NotFound
from genxsop.filters import CommaCharFilter, CommaChoiceFilter, IdFilter, filter_queryset
from planning.choices import EXCEPTION_ACTIVE_STATUSES, InventoryStatus
from planning.models import Inventory, InventoryPolicyException, InventorySnapshot

__all__ = [
    "ALERT_LIMIT",
    "InventoryFilterSet",
    "InventorySnapshotFilterSet",
    "inventory_alerts",
    "inventory_get",
    "inventory_health",
    "inventory_list",
    "inventory_snapshot_list",
]

ALERT_LIMIT = 50
_PERIOD_FORMATS = ["%Y-%m-%d", "%Y-%m"]
ZERO = Decimal("0")
_ONE_DP = Decimal("0.1")
_CENT = Decimal("0.01")

# A subquery rather than a join and Count: the list stays one row per stock position and one query.
_OPEN_EXCEPTIONS = Coalesce(
    Subquery(
        InventoryPolicyException.objects.filter(inventory=OuterRef("pk"), status__in=EXCEPTION_ACTIVE_STATUSES)
        .order_by()
        .values("inventory")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    ),
    0,
)


def _category_subtree(prefix: str, value) -> Q:
    # Three levels at most (PLN-01): the node, its children and its grandchildren.
    return (
        Q(**{f"{prefix}category_id": value})
        | Q(**{f"{prefix}category__parent_id": value})
        | Q(**{f"{prefix}category__parent__parent_id": value})
    )


def _search(queryset, value: str):
    value = value.strip()
    if not value:
        return queryset
    return queryset.filter(Q(product__sku__icontains=value) | Q(product__name__icontains=value))


class InventoryFilterSet(django_filters.FilterSet):
    """API-INV-01 filters; default order `sku, location`."""

    product_id = IdFilter(field_name="product_id")
    category_id = IdFilter(method="filter_category", label="Category (with its subtree)")
    location = CommaCharFilter(field_name="location__code", lookup_expr="in", label="Location code(s), comma-separated")
    status = CommaChoiceFilter(choices=InventoryStatus.choices)
    search = django_filters.CharFilter(method="filter_search", label="SKU or product name contains")
    ordering = django_filters.OrderingFilter(
        fields=(("product__sku", "sku"), ("location__code", "location"), ("product__name", "product_name"),
                ("status", "status"), ("on_hand_qty", "on_hand_qty"), ("days_of_supply", "days_of_supply"),
                ("valuation", "valuation"), ("updated_at", "updated_at")),
    )  # fmt: skip

    class Meta:
        model = Inventory
        fields = ["product_id", "location", "status"]

    def filter_category(self, queryset, name, value):
        return queryset.filter(_category_subtree("product__", value))

    def filter_search(self, queryset, name, value):
        return _search(queryset, value)


class InventorySnapshotFilterSet(django_filters.FilterSet):
    """API-INV-04 filters; default order `-period, sku, location`."""

    product_id = IdFilter(field_name="product_id")
    location = CommaCharFilter(field_name="location__code", lookup_expr="in", label="Location code(s), comma-separated")
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", input_formats=_PERIOD_FORMATS)
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", input_formats=_PERIOD_FORMATS)
    ordering = django_filters.OrderingFilter(
        fields=(("period", "period"), ("product__sku", "sku"), ("location__code", "location"),
                ("valuation", "valuation")),
    )  # fmt: skip

    class Meta:
        model = InventorySnapshot
        fields = ["product_id", "location"]


def _inventory(user) -> QuerySet[Inventory]:
    return Inventory.objects.for_user(user).select_related("product", "location")


def inventory_list(*, user, filters: dict | None = None) -> QuerySet[Inventory]:
    """Rows in the caller's scope (category and location, ACC-10), filtered; default order sku, location.

    Each row carries `open_exception_count`: its open or in-progress exceptions (PLN-09)."""
    queryset = (
        _inventory(user).order_by("product__sku", "location__code").annotate(open_exception_count=_OPEN_EXCEPTIONS)
    )
    return filter_queryset(InventoryFilterSet, filters or {}, queryset)


def inventory_get(*, user, pk) -> Inventory:
    """One row in the caller's scope; anything else is 404 (ACC-11)."""
    try:
        return _inventory(user).annotate(open_exception_count=_OPEN_EXCEPTIONS).get(pk=pk)
    except (Inventory.DoesNotExist, ValueError, TypeError):
        raise NotFound("Inventory row not found.") from None


def _pct(part: int, whole: int) -> Decimal:
    if not whole:
        return ZERO.quantize(_ONE_DP)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_ONE_DP, ROUND_HALF_UP)


def inventory_health(*, user, filters: dict | None = None) -> dict:
    """FRM-11 over the caller's scope (and `filters`, when given): counts per status, each as % of the
    rows (1 dp), total valuation; all 0 without rows. One query."""
    queryset = _inventory(user) if not filters else inventory_list(user=user, filters=filters)
    counts = {f"{s}_count": Count("pk", filter=Q(status=s)) for s in InventoryStatus.values}
    totals = queryset.order_by().aggregate(
        total_products=Count("pk"), total_value=Coalesce(Sum("valuation"), Value(ZERO)), **counts
    )
    total = totals["total_products"]
    out = {"total_products": total}
    for status in InventoryStatus.values:
        out[f"{status}_count"] = totals[f"{status}_count"]
    out["total_value"] = Decimal(totals["total_value"]).quantize(_CENT)
    for status in InventoryStatus.values:
        out[f"{status}_pct"] = _pct(totals[f"{status}_count"], total)
    return out


def inventory_alerts(*, user, limit: int = ALERT_LIMIT) -> dict[str, list[dict]]:
    """API-INV-03: the critical, low and excess rows in the caller's scope, at most `limit` each, in
    sku, location order: `{critical: [{id, product_id, sku, location, on_hand_qty}], low, excess}`."""
    queryset = _inventory(user).order_by("product__sku", "location__code")
    out = {}
    for status in (InventoryStatus.CRITICAL, InventoryStatus.LOW, InventoryStatus.EXCESS):
        rows = queryset.filter(status=status).values(
            "id", "product_id", "product__sku", "product__name", "location__code", "on_hand_qty", "days_of_supply"
        )[:limit]
        out[str(status)] = [
            {"id": r["id"], "product_id": r["product_id"], "sku": r["product__sku"], "product_name": r["product__name"],
             "location": r["location__code"], "on_hand_qty": r["on_hand_qty"], "days_of_supply": r["days_of_supply"]}
            for r in rows
        ]  # fmt: skip
    return out


def inventory_snapshot_list(*, user, filters: dict | None = None) -> QuerySet[InventorySnapshot]:
    """Month-end snapshots in the caller's scope (ACC-10), filtered; newest period first."""
    queryset = (
        InventorySnapshot.objects.for_user(user)
        .select_related("product", "location")
        .order_by("-period", "product__sku", "location__code")
    )
    return filter_queryset(InventorySnapshotFilterSet, filters or {}, queryset)
