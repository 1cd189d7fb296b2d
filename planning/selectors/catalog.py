"""Read paths of the planning app: querysets already scoped to the caller."""

from django.db.models import Count, QuerySet

from genxsop.errors import NotFound
from genxsop.filters import filter_queryset
from planning.filtersets import DemandPlanFilterSet, LocationFilterSet, ProductFilterSet
from planning.models import Category, DemandPlan, Location, Product
from planning.selectors.plans import LOCKING_PUBLICATION_DOCUMENTS, PlanQuerySet, plan_versions


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


def _demand_plans(user) -> QuerySet[DemandPlan]:
    return (
        PlanQuerySet(DemandPlan)
        .for_user(user)
        .select_related("product", "locked_by_publication")
        .defer(*LOCKING_PUBLICATION_DOCUMENTS)
    )


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
    return plan_versions(demand_plan_get(user=user, pk=pk), fields=VERSION_FIELDS, extra=("actual_qty", "demand_qty"))
