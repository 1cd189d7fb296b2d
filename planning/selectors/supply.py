"""Read paths for supply: querysets already scoped to the caller, the gap analysis (FRM-02) and the
demand history series (API-DEM-16) that the supply and demand reviews chart."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from genxsop.errors import NotFound
from genxsop.filters import filter_queryset
from planning.choices import GapStatus, PlanStatus
from planning.filtersets import DemandHistoryParams, GapAnalysisParams, SupplyPlanFilterSet, in_category_subtree
from planning.models import TOTAL_CHANNEL, TOTAL_REGION, DemandPlan, Inventory, SupplyPlan
from planning.selectors.catalog import product_get
from planning.selectors.plans import LOCKING_PUBLICATION_DOCUMENTS, PlanQuerySet, plan_versions

__all__ = [
    "SUPPLY_VERSION_FIELDS",
    "demand_history",
    "gap_analysis",
    "planning_today",
    "supply_plan_get",
    "supply_plan_list",
    "supply_plan_versions",
]

SUPPLY_VERSION_FIELDS = [
    "planned_prod_qty", "capacity_max", "capacity_used", "supplier_name", "lead_time_days", "cost_per_unit",
    "constraints",
]  # fmt: skip
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def planning_today() -> datetime.date:
    """CNV-04: business dates use PLANNING_TIME_ZONE."""
    return timezone.now().astimezone(ZoneInfo(settings.PLANNING_TIME_ZONE)).date()


def _supply_plans(user) -> QuerySet[SupplyPlan]:
    return (
        PlanQuerySet(SupplyPlan)
        .for_user(user)
        .select_related("product", "location", "locked_by_publication")
        .defer(*LOCKING_PUBLICATION_DOCUMENTS)
    )


def supply_plan_list(*, user, filters: dict | None = None) -> QuerySet[SupplyPlan]:
    """Current rows in the caller's scope (history rows with `include_history=true`), filtered."""
    return filter_queryset(SupplyPlanFilterSet, filters or {}, _supply_plans(user))


def supply_plan_get(*, user, pk) -> SupplyPlan:
    """A live or history row in the caller's scope (category and location); anything else is 404."""
    try:
        return _supply_plans(user).get(pk=pk)
    except (SupplyPlan.DoesNotExist, ValueError, TypeError):
        raise NotFound("Supply plan not found.") from None


def supply_plan_versions(*, user, pk) -> list[dict]:
    """WF-12: every version of a supply plan, newest first, with `changed_fields`."""
    return plan_versions(supply_plan_get(user=user, pk=pk), fields=SUPPLY_VERSION_FIELDS,
                         extra=("actual_prod_qty", "load_pct"))  # fmt: skip


# Gap analysis (FRM-02) --------------------------------------------------------------


def _q2(value) -> Decimal:
    return (Decimal(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def _pct(gap: Decimal, demand: Decimal) -> Decimal:
    return _q2(gap / demand * 100) if demand else ZERO


def _gap_status(coverage_pct: Decimal) -> str:
    # Decided on the rounded percentage the caller sees, so a row shown at -20.00 % is never critical.
    if coverage_pct < -20:
        return GapStatus.CRITICAL
    if coverage_pct < 0:
        return GapStatus.SHORTAGE
    if coverage_pct > 20:
        return GapStatus.EXCESS
    return GapStatus.BALANCED


def _demand_source(row: dict) -> str:
    if row["n_consensus"] == row["n"]:
        return "consensus"
    if row["n_adjusted"] == row["n"]:
        return "adjusted"
    if row["n_consensus"] == 0 and row["n_adjusted"] == 0:
        return "forecast"
    return "mixed"


def gap_analysis(*, user, params: dict) -> list[dict]:
    """FRM-02: one item per product and period with current demand rows in the caller's scope.

    `params` are the query parameters of API-SUP-15 (`period`, `period_to`, `product_id`,
    `category_id`, `status`); bad values are 400 INVALID_PARAMETER. Every sum runs over in-scope
    rows only (ACC-10): demand by category, supply plans and inventory by category and location.
    Four queries whatever the number of rows. Ordered by period, then coverage gap % ascending.
    """
    p = GapAnalysisParams(params, today=planning_today()).cleaned()
    supply = SupplyPlan.objects.for_user(user)  # supply read scope gates the whole analysis
    demand = DemandPlan.objects.for_user(user).filter(
        is_current=True, period__gte=p["period"], period__lte=p["period_to"]
    )
    if p.get("product_id"):
        demand = demand.filter(product_id=p["product_id"])
    if p.get("category_id"):
        demand = demand.filter(in_category_subtree(p["category_id"]))
    demand_rows = list(
        demand.order_by()
        .values("product_id", "product__sku", "product__name", "period")
        .annotate(
            demand_qty=Sum(Coalesce("consensus_qty", "adjusted_qty", "forecast_qty")),
            n=Count("pk"),
            n_consensus=Count("pk", filter=Q(consensus_qty__isnull=False)),
            n_adjusted=Count("pk", filter=Q(consensus_qty__isnull=True, adjusted_qty__isnull=False)),
        )
    )
    if not demand_rows:
        return []
    product_ids = {row["product_id"] for row in demand_rows}
    planned: dict = defaultdict(lambda: {"planned": ZERO, "actual": ZERO, "ids": [], "locations": set()})
    for pk, product_id, period, code, planned_qty, actual_qty in (
        supply.filter(is_current=True, product_id__in=product_ids, period__gte=p["period"], period__lte=p["period_to"])
        .order_by()
        .values_list("pk", "product_id", "period", "location__code", "planned_prod_qty", "actual_prod_qty")
    ):
        entry = planned[(product_id, period)]
        entry["planned"] += planned_qty or 0
        entry["actual"] += actual_qty or 0
        entry["ids"].append(pk)
        entry["locations"].add(code)
    available: dict = defaultdict(lambda: ZERO)
    for product_id, on_hand, allocated, in_transit in (
        Inventory.objects.scope_for(user, "view").filter(product_id__in=product_ids).order_by()
        .values_list("product_id", "on_hand_qty", "allocated_qty", "in_transit_qty")
    ):  # fmt: skip
        available[product_id] += max(ZERO, on_hand - allocated + in_transit)
    items = []
    for row in demand_rows:
        supply_entry = planned[(row["product_id"], row["period"])]
        demand_qty = _q2(row["demand_qty"])
        planned_qty, actual_qty = _q2(supply_entry["planned"]), _q2(supply_entry["actual"])
        inventory_qty = _q2(available[row["product_id"]])
        effective = planned_qty + inventory_qty
        plan_gap, actual_gap, coverage_gap = planned_qty - demand_qty, actual_qty - demand_qty, effective - demand_qty
        coverage_pct = _pct(coverage_gap, demand_qty)
        items.append({
            "product_id": row["product_id"], "sku": row["product__sku"], "product_name": row["product__name"],
            "period": row["period"], "demand_qty": demand_qty, "consensus_demand_qty": demand_qty,
            "demand_source": _demand_source(row), "planned_production_qty": planned_qty,
            "planned_supply_qty": planned_qty, "actual_production_qty": actual_qty,
            "inventory_available_qty": inventory_qty, "effective_supply_qty": effective,
            "additional_prod_required_qty": max(demand_qty - inventory_qty, ZERO),
            "plan_gap_qty": plan_gap, "plan_gap_pct": _pct(plan_gap, demand_qty),
            "actual_gap_qty": actual_gap, "actual_gap_pct": _pct(actual_gap, demand_qty),
            "coverage_gap_qty": coverage_gap, "coverage_gap_pct": coverage_pct,
            "status": _gap_status(coverage_pct),
            "supply_qty": effective, "gap": coverage_gap, "gap_pct": coverage_pct,
            "supply_plan_ids": sorted(supply_entry["ids"]), "locations": sorted(supply_entry["locations"]),
        })  # fmt: skip
    if p["status"]:
        items = [item for item in items if item["status"] in p["status"]]
    items.sort(key=lambda item: (item["period"], item["coverage_gap_pct"], item["sku"]))
    return items


# Demand history (API-DEM-16) ------------------------------------------------------------

# "Least advanced" for the product total: a rejected row is back with the planner, behind a submitted one.
_STATUS_RANK = {s: i for i, s in enumerate([PlanStatus.DRAFT, PlanStatus.REJECTED, PlanStatus.SUBMITTED,
                                             PlanStatus.APPROVED, PlanStatus.LOCKED])}  # fmt: skip


def _sum_or_none(values) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, ZERO) if present else None


def demand_history(*, user, params: dict) -> list[dict]:
    """API-DEM-16: the monthly series of a product from `months` months back (the current month
    counts as one) onwards, ascending.

    The series key is (`region`, `channel`), default (Global, All) = the product total: quantities
    summed over every current row of the month, `status` the least advanced one. Any other key is
    that row's own values. `only_actuals` keeps the months that have an actual. A product outside
    the caller's scope is 404.
    """
    p = DemandHistoryParams(params).cleaned()
    product = product_get(user=user, pk=p["product_id"])
    region = (p.get("region") or "").strip() or TOTAL_REGION
    channel = (p.get("channel") or "").strip() or TOTAL_CHANNEL
    today = planning_today().replace(day=1)
    back = today.year * 12 + today.month - 1 - (p["months"] - 1)
    start = datetime.date(back // 12, back % 12 + 1, 1)
    rows = DemandPlan.objects.for_user(user).filter(product=product, is_current=True, period__gte=start)
    total = region == TOTAL_REGION and channel == TOTAL_CHANNEL
    if not total:
        rows = rows.filter(region=region, channel=channel)
    by_period: dict = defaultdict(list)
    for row in rows.order_by("period"):
        by_period[row.period].append(row)
    out = []
    for period, group in sorted(by_period.items()):
        actual = _sum_or_none(r.actual_qty for r in group)
        if p["only_actuals"] and actual is None:
            continue
        out.append({
            "period": period, "forecast_qty": sum((r.forecast_qty for r in group), ZERO), "actual_qty": actual,
            "consensus_qty": _sum_or_none(r.consensus_qty for r in group),
            "demand_qty": sum((r.demand_qty for r in group), ZERO), "region": region, "channel": channel,
            "status": min((r.status for r in group), key=lambda s: _STATUS_RANK.get(s, 0)),
        })  # fmt: skip
    return out
