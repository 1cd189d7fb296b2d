"""Read paths of the planning app: querysets already scoped to the caller."""

from django.db.models import Count, Q, QuerySet

from genxsop.errors import NotFound
from genxsop.filters import filter_queryset
from planning.filtersets import DemandPlanFilterSet, LocationFilterSet, ProductFilterSet
from planning.models import Category, DemandPlan, Location, Product


def product_list(*, user, filters: dict | None = None) -> QuerySet[Product]:
    queryset = Product.objects.for_user(user).select_related("category")
    return filter_queryset(ProductFilterSet, filters or {}, queryset)


def product_get(*, user, pk) -> Product:
    try:
        return Product.objects.for_user(user).select_related("category").get(pk=pk)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise NotFound("Product not found.") from None


def category_list(*, user) -> QuerySet[Category]:
    return Category.objects.for_user(user).annotate(product_count=Count("products")).order_by("level", "name", "id")


def category_get(*, user, pk) -> Category:
    try:
        return category_list(user=user).get(pk=pk)
    except (Category.DoesNotExist, ValueError, TypeError):
        raise NotFound("Category not found.") from None


def category_tree(*, user) -> list[dict]:
    """Nested `{id, name, ..., children}` built from one query."""
    nodes = {
        c.pk: {"id": c.pk, "name": c.name, "parent_id": c.parent_id, "level": c.level, "description": c.description,
               "product_count": c.product_count, "children": []}
        for c in category_list(user=user)
    }  # fmt: skip
    roots = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent else roots).append(node)
    return roots


def location_list(*, user, filters: dict | None = None) -> QuerySet[Location]:
    return filter_queryset(LocationFilterSet, filters or {}, Location.objects.for_user(user))


def location_get(*, user, pk) -> Location:
    try:
        return Location.objects.for_user(user).get(pk=pk)
    except (Location.DoesNotExist, ValueError, TypeError):
        raise NotFound("Location not found.") from None


# Demand plans -----------------------------------------------------------------

_DEMAND_USERS = ("created_by", "updated_by", "submitted_by", "approved_by", "rejected_by")


def _demand_plans(user) -> QuerySet[DemandPlan]:
    return DemandPlan.objects.for_user(user).select_related("product", *_DEMAND_USERS)


def demand_plan_list(*, user, filters: dict | None = None) -> QuerySet[DemandPlan]:
    """Current rows in the caller's scope (history rows with `include_history=true`), filtered."""
    return filter_queryset(DemandPlanFilterSet, filters or {}, _demand_plans(user))


def demand_plan_get(*, user, pk) -> DemandPlan:
    """A live or history row in the caller's scope; anything else is 404 (ACC-11)."""
    try:
        return _demand_plans(user).get(pk=pk)
    except (DemandPlan.DoesNotExist, ValueError, TypeError):
        raise NotFound("Demand plan not found.") from None


VERSION_FIELDS = ["forecast_qty", "adjusted_qty", "consensus_qty", "confidence", "notes"]


def demand_plan_versions(*, user, pk) -> list[dict]:
    """WF-12: every version of a plan (the live row and its history rows), newest first, with the
    content fields that changed relative to the previous version. `pk` may name a history row."""
    plan = demand_plan_get(user=user, pk=pk)
    live_id = plan.history_of_id or plan.pk
    rows = list(
        DemandPlan.objects.filter(Q(pk=live_id) | Q(history_of_id=live_id))
        .select_related("updated_by", "created_by")
        .order_by("-version")
    )
    out = []
    for index, row in enumerate(rows):
        previous = rows[index + 1] if index + 1 < len(rows) else None
        changed = [f for f in VERSION_FIELDS if previous is None or getattr(previous, f) != getattr(row, f)]
        author = row.updated_by or row.created_by
        out.append({
            "id": row.pk, "version": row.version, "is_current": row.is_current,
            **{f: getattr(row, f) for f in VERSION_FIELDS}, "actual_qty": row.actual_qty,
            "demand_qty": row.demand_qty, "status_at_version": row.status, "source": row.source,
            "change_reason": row.change_reason, "changed_fields": changed,
            "changed_by": author.pk if author else None, "changed_by_name": author.full_name if author else None,
            "changed_at": row.updated_at,
        })  # fmt: skip
    return out
