"""Read paths of production scheduling (API-PS-01, API-PS-04, UI-06): slots scoped to the caller by the
product's category and the supply plan's location (ACC-10), and the capacity summary (FRM-34)."""

from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django.db.models import Count, QuerySet, Sum

from genxsop.errors import NotFound, ValidationFailed
from genxsop.filters import CommaCharFilter, CommaChoiceFilter, IdFilter, filter_queryset
from planning.choices import ScheduleStatus
from planning.filtersets import parse_month
from planning.models import ProductionSchedule, SupplyPlan
from planning.services.production import SCHEDULABLE_PLAN_STATUSES

__all__ = [
    "ProductionScheduleFilterSet",
    "production_capacity_summary",
    "production_schedulable_plans",
    "production_schedule_get",
    "production_schedule_list",
    "production_scheduled_plans",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class ProductionScheduleFilterSet(django_filters.FilterSet):
    """API-PS-01 filters; text filters take comma-separated values, `period` any day of the month."""

    product_id = IdFilter(field_name="product_id")
    supply_plan_id = IdFilter(field_name="supply_plan_id")
    period = django_filters.CharFilter(method="filter_period", label="Month, YYYY-MM or YYYY-MM-DD")
    workcenter = CommaCharFilter(field_name="workcenter", lookup_expr="in")
    line = CommaCharFilter(field_name="line", lookup_expr="in")
    shift = CommaCharFilter(field_name="shift", lookup_expr="in")
    status = CommaChoiceFilter(choices=ScheduleStatus.choices)

    class Meta:
        model = ProductionSchedule
        fields = ["status"]

    def filter_period(self, queryset, name, value):
        return queryset.filter(period=parse_month(value))


def _slots(user) -> QuerySet[ProductionSchedule]:
    return ProductionSchedule.objects.for_user(user).select_related(
        "product", "supply_plan__location", "created_by", "released_by"
    )


def production_schedule_list(*, user, filters: dict | None = None) -> QuerySet[ProductionSchedule]:
    """Slots in the caller's scope, filtered; ordered by period, then each supply plan's sequence."""
    queryset = _slots(user).order_by("period", "supply_plan_id", "sequence_order")
    return filter_queryset(ProductionScheduleFilterSet, filters or {}, queryset)


def production_schedule_get(*, user, pk) -> ProductionSchedule:
    """One slot in the caller's scope; anything else is 404 (ACC-11)."""
    try:
        return _slots(user).get(pk=pk)
    except (ProductionSchedule.DoesNotExist, ValueError, TypeError):
        raise NotFound("Schedule slot not found.") from None


def _plans(user, action: str = "view") -> QuerySet[SupplyPlan]:
    return SupplyPlan.objects.for_user(user, action).filter(is_current=True).select_related("product", "location")


def production_schedulable_plans(*, user) -> QuerySet[SupplyPlan]:
    """Live supply plans in the caller's change scope that generation accepts: approved or locked, with a
    planned quantity above zero; newest period first, then SKU and location."""
    return (
        _plans(user, "change")
        .filter(status__in=SCHEDULABLE_PLAN_STATUSES, planned_prod_qty__gt=0)
        .order_by("-period", "product__sku", "location__code")
    )


def production_scheduled_plans(*, user) -> QuerySet[SupplyPlan]:
    """Live supply plans in the caller's scope that have slots, whatever their status now (a plan
    reopened after scheduling keeps its slots); newest period first."""
    slot_plans = ProductionSchedule.objects.for_user(user).values("supply_plan_id")
    return _plans(user).filter(pk__in=slot_plans).order_by("-period", "product__sku", "location__code")


def _q2(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def production_capacity_summary(*, user, supply_plan_id) -> dict:
    """FRM-34 over the slots of one supply plan in the caller's scope.

    slot_count; planned_total_qty = Σ planned_qty; capacity_max_qty = the plan's capacity_max (0 when
    null); utilization_pct = planned_total / capacity_max x 100, half-up to 2 decimals (0 when the
    capacity is 0); overloaded = capacity_max > 0 and planned_total > capacity_max; groups per
    (workcenter, line, shift) with their slot count and total, ordered by those three.
    """
    if supply_plan_id in (None, ""):
        raise ValidationFailed("Invalid query parameter.", fields={"supply_plan_id": ["This field is required."]},
                               code="INVALID_PARAMETER")  # fmt: skip
    try:
        plan = _plans(user).get(pk=int(supply_plan_id))
    except (ValueError, TypeError, OverflowError):
        raise ValidationFailed("Invalid query parameter.", fields={"supply_plan_id": ["A whole number."]},
                               code="INVALID_PARAMETER") from None  # fmt: skip
    except SupplyPlan.DoesNotExist:
        raise NotFound("Supply plan not found.") from None
    slots = ProductionSchedule.objects.for_user(user).filter(supply_plan=plan)
    groups = list(
        slots.values("workcenter", "line", "shift")
        .annotate(slot_count=Count("id"), total_planned_qty=Sum("planned_qty"))
        .order_by("workcenter", "line", "shift")
    )
    slot_count = sum(g["slot_count"] for g in groups)
    planned_total = sum((Decimal(g["total_planned_qty"] or 0) for g in groups), ZERO)
    capacity = Decimal(plan.capacity_max or 0)
    utilization = _q2(planned_total / capacity * 100) if capacity > 0 else ZERO
    return {
        "supply_plan_id": plan.pk,
        "slot_count": slot_count,
        "planned_total_qty": _q2(planned_total),
        "capacity_max_qty": _q2(capacity),
        "utilization_pct": utilization,
        "overloaded": bool(capacity > 0 and planned_total > capacity),
        "groups": [{**g, "total_planned_qty": _q2(g["total_planned_qty"])} for g in groups],
    }
