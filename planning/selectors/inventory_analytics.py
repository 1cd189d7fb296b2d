"""Read paths of the inventory analytics (API-INV-08, 15, 17…21; UI-08 tabs): scoped to the caller.

Each function reads the rows of the caller's category and location scope in a fixed number of
queries and hands plain values to planning.services.inventory_analytics, which holds the formulas.
"""

import datetime
import statistics
from decimal import Decimal

import django_filters
from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from forecasting.series import add_months
from genxsop.errors import NotFound, ValidationFailed
from genxsop.filters import CommaCharFilter, CommaChoiceFilter, IdFilter, filter_queryset
from genxsop.row_limits import require_within_row_limit
from planning.choices import (
    EXCEPTION_ACTIVE_STATUSES,
    AppliedVia,
    ExceptionSeverity,
    ExceptionStatus,
    ExceptionType,
    RecommendationStatus,
)
from planning.inventory_rules import product_daily_demand
from planning.models import (
    DemandPlan,
    Inventory,
    InventoryPolicyException,
    InventoryPolicyRecommendation,
    InventoryPolicyRun,
    SupplyPlan,
)
from planning.services import inventory_analytics as frm

__all__ = [
    "PolicyExceptionFilterSet",
    "display_name",
    "inventory_assessment_scorecard",
    "inventory_control_tower_summary",
    "inventory_data_quality",
    "inventory_escalations",
    "inventory_rebalance",
    "inventory_service_level",
    "inventory_working_capital",
    "policy_exception_get",
    "policy_exception_list",
    "policy_recommendation_get",
    "policy_recommendation_list",
    "policy_run_get",
    "policy_run_list",
]

ZERO = Decimal("0")


class PolicyExceptionFilterSet(django_filters.FilterSet):
    """API-INV-08 filters; order due date (missing last), id."""

    product_id = IdFilter(field_name="inventory__product_id")
    location = CommaCharFilter(
        field_name="inventory__location__code", lookup_expr="in", label="Location code(s), comma-separated"
    )
    status = CommaChoiceFilter(choices=ExceptionStatus.choices)
    owner_user_id = IdFilter(field_name="owner_id")
    exception_type = CommaChoiceFilter(choices=ExceptionType.choices)
    severity = CommaChoiceFilter(choices=ExceptionSeverity.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open or in progress and past due")

    class Meta:
        model = InventoryPolicyException
        fields = ["status", "exception_type", "severity"]

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=EXCEPTION_ACTIVE_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


def _exceptions(user) -> QuerySet[InventoryPolicyException]:
    # A run's parameters and result documents are large (every row it evaluated) and shared by all of
    # its exceptions: joined in, they were fetched and decoded once per exception row.
    return (
        InventoryPolicyException.objects.for_user(user)
        .select_related("inventory__product", "inventory__location", "owner", "run")
        .defer("run__parameters", "run__result")
    )


def _exception_rows(user) -> QuerySet[InventoryPolicyException]:
    # Joined, every row built its own stock row, product, location, owner and run. Prefetched, a location,
    # owner or run shared by many exceptions is built once, and of the stock row only its product and
    # location are read.
    stock = Inventory.objects.only("product", "location")
    runs = InventoryPolicyRun.objects.defer("parameters", "result")
    return InventoryPolicyException.objects.for_user(user).prefetch_related(
        Prefetch("inventory", queryset=stock), "inventory__product", "inventory__location", "owner",
        Prefetch("run", queryset=runs),
    )  # fmt: skip


def policy_exception_list(*, user, filters: dict | None = None,
                          limit: int | None = None) -> QuerySet[InventoryPolicyException]:  # fmt: skip
    """Exceptions on the inventory rows in the caller's scope, filtered; earliest due date first.

    With `limit` (API-INV-08), more matching rows than that is 400: the caller must narrow the filters.
    """
    queryset = _exception_rows(user).order_by(F("due_date").asc(nulls_last=True), "id")
    queryset = filter_queryset(PolicyExceptionFilterSet, filters or {}, queryset)
    if limit is not None:
        require_within_row_limit(
            queryset,
            rows="exceptions",
            limit=limit,
            narrow_with="product_id, location, status, severity, exception_type or owner_user_id",
        )
    return queryset


def policy_exception_get(*, user, pk) -> InventoryPolicyException:
    """One exception in the caller's scope; anything else is 404 (ACC-11)."""
    try:
        return _exceptions(user).get(pk=pk)
    except (InventoryPolicyException.DoesNotExist, ValueError, TypeError):
        raise NotFound("Exception not found.") from None


def inventory_escalations(*, user, today: datetime.date | None = None) -> list[dict]:
    """FRM-14 escalations of the open and in-progress exceptions in scope: L2 first, then the most
    overdue first."""
    today = today or timezone.localdate()
    out = []
    for row in _exceptions(user).filter(status__in=EXCEPTION_ACTIVE_STATUSES).order_by("id"):
        found = frm.escalation(severity=row.severity, due_date=row.due_date, today=today)
        if found is None:
            continue
        level, reason, overdue = found
        out.append({
            "exception_id": row.pk, "inventory_id": row.inventory_id, "product_id": row.inventory.product_id,
            "sku": row.inventory.product.sku, "location": row.inventory.location.code,
            "exception_type": row.exception_type, "severity": row.severity, "status": row.status,
            "owner_user_id": row.owner_id, "owner_name": display_name(row.owner), "due_date": row.due_date,
            "escalation_level": level, "escalation_reason": reason, "days_overdue": overdue,
        })  # fmt: skip
    out.sort(key=lambda r: (r["escalation_level"] != "L2", -r["days_overdue"], r["exception_id"]))
    return out


def display_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _rows(user, *, product_id=None, location=None) -> QuerySet[Inventory]:
    queryset = Inventory.objects.for_user(user).select_related("product", "location")
    if product_id:
        queryset = queryset.filter(product_id=product_id)
    if location:
        queryset = queryset.filter(location__code=location)
    return queryset.order_by("product__sku", "location__code")


def inventory_data_quality(*, user, product_id=None, location=None, now: datetime.datetime | None = None) -> list[dict]:
    """FRM-10 per row in scope (two queries plus the demand lookup of FRM-05)."""
    now = now or timezone.now()
    rows = list(_rows(user, product_id=product_id, location=location))
    demand = product_daily_demand([r.product_id for r in rows], today=timezone.localdate(now))
    out = []
    for r in rows:
        scores = frm.data_quality(
            on_hand=r.on_hand_qty, allocated=r.allocated_qty, safety_stock=r.safety_stock,
            reorder_point=r.reorder_point, max_stock=r.max_stock, valuation=r.valuation,
            seen_at=r.snapshot_at or r.updated_at, now=now, product_active=r.product.status == "active",
            has_demand=demand.get(r.product_id) is not None,
        )  # fmt: skip
        out.append({"inventory_id": r.pk, "product_id": r.product_id, "sku": r.product.sku,
                    "location": r.location.code, **scores})  # fmt: skip
    return out


def inventory_working_capital(*, user) -> dict:
    """FRM-12 over the rows in scope; one query."""
    value = Coalesce(Sum("valuation"), Value(ZERO))
    above_max = (F("on_hand_qty") - F("max_stock")) * F("product__unit_cost")
    sums = (
        Inventory.objects.for_user(user)
        .order_by()
        .aggregate(
            total=value,
            excess=Coalesce(Sum("valuation", filter=Q(status="excess")), Value(ZERO)),
            low=Coalesce(Sum("valuation", filter=Q(status__in=("low", "critical"))), Value(ZERO)),
            above=Coalesce(
                Sum(above_max, filter=Q(status="excess", max_stock__isnull=False, product__unit_cost__isnull=False)),
                Value(ZERO),
            ),
        )
    )
    return frm.working_capital(
        total_value=sums["total"], excess_value=sums["excess"], low_exposure=sums["low"],
        excess_above_max_value=sums["above"], carrying_rate_pct=settings.INVENTORY_CARRYING_RATE_PCT,
    )  # fmt: skip


def inventory_rebalance(*, user, product_id=None, min_transfer_qty=Decimal("1.0")) -> list[dict]:
    """FRM-15 over the rows in scope. A donor outside the caller's scope is never proposed: the
    caller could not act on it."""
    rows = _rows(user, product_id=product_id).values(
        "id", "product_id", "product__name", "location__code", "status", "on_hand_qty", "allocated_qty",
        "in_transit_qty", "reorder_point", "max_stock",
    )  # fmt: skip
    plain = [{"id": r["id"], "product_id": r["product_id"], "product_name": r["product__name"],
              "location": r["location__code"], "status": r["status"], "on_hand": r["on_hand_qty"],
              "allocated": r["allocated_qty"], "in_transit": r["in_transit_qty"],
              "reorder_point": r["reorder_point"], "max_stock": r["max_stock"]} for r in rows]  # fmt: skip
    return frm.rebalance(plain, min_transfer_qty=min_transfer_qty)


def inventory_assessment_scorecard(*, user) -> dict:
    """FRM-16 over the rows, exceptions and recommendations in scope."""
    rows = Inventory.objects.for_user(user).order_by()
    facts = rows.aggregate(
        ss=Count("pk", filter=Q(safety_stock__gt=0)),
        rop=Count("pk", filter=Q(reorder_point__gt=0)),
        max=Count("pk", filter=Q(max_stock__gt=0)),
        statuses=Count("status", distinct=True),
        normal=Count("pk", filter=Q(status="normal")),
        off=Count("pk", filter=Q(status__in=("low", "critical", "excess"))),
    )
    exc = (
        InventoryPolicyException.objects.for_user(user)
        .order_by()
        .aggregate(
            active=Count("pk", filter=Q(status__in=EXCEPTION_ACTIVE_STATUSES)),
            open=Count("pk", filter=Q(status=ExceptionStatus.OPEN)),
            supply=Count("pk", filter=Q(exception_type__in=(ExceptionType.STOCKOUT_RISK, ExceptionType.EXCESS_RISK))),
        )
    )
    live = Q(status__in=(RecommendationStatus.PENDING, RecommendationStatus.APPLIED))
    recs = (
        InventoryPolicyRecommendation.objects.for_user(user)
        .order_by()
        .aggregate(
            pressure=Count("pk", filter=live & Q(signals__has_key="demand_pressure")),
            quality=Count("pk", filter=live & Q(signals__has_key="quality_score")),
            scored=Count("pk", filter=Q(confidence_score__isnull=False)),
            decided=Count("pk", filter=Q(decided_by__isnull=False)),
            noted=Count("pk", filter=~Q(decision_notes="")),
            applied=Count("pk", filter=Q(status=RecommendationStatus.APPLIED)),
        )
    )
    return frm.assessment_scorecard({
        "Policy Logic": [facts["ss"] > 0, facts["rop"] > 0, facts["statuses"] >= 2],
        "Forecast Integration": [recs["pressure"] > 0, recs["quality"] > 0, recs["scored"] > 0],
        "Supply Constraints": [facts["max"] > 0, exc["active"] > 0, exc["supply"] > 0],
        "Governance & Cadence": [exc["open"] > 0, recs["decided"] > 0, recs["noted"] > 0],
        "Outcome KPIs": [recs["applied"] > 0, facts["normal"] > 0, facts["off"] > 0],
    })  # fmt: skip


def inventory_control_tower_summary(*, user, today: datetime.date | None = None,
                                    now: datetime.datetime | None = None) -> dict:  # fmt: skip
    """FRM-14 control-tower summary over the recommendations and exceptions in scope (two queries)."""
    today, now = today or timezone.localdate(), now or timezone.now()
    rs = RecommendationStatus
    recs = (
        InventoryPolicyRecommendation.objects.for_user(user)
        .order_by()
        .aggregate(
            **{s: Count("pk", filter=Q(status=s)) for s in rs.values},
            auto24=Count("pk", filter=Q(applied_via=AppliedVia.AUTO, applied_at__gte=now - datetime.timedelta(days=1))),
        )
    )
    exc = (
        InventoryPolicyException.objects.for_user(user)
        .filter(status__in=EXCEPTION_ACTIVE_STATUSES)
        .order_by()
        .aggregate(active=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    )
    decided = recs[rs.ACCEPTED] + recs[rs.APPLIED] + recs[rs.REJECTED]
    rate = Decimal(0) if decided == 0 else Decimal(recs[rs.ACCEPTED] + recs[rs.APPLIED]) / decided * 100
    pending, overdue = recs[rs.PENDING], exc["overdue"]
    risk = "high" if pending > 50 or overdue > 20 else "medium" if pending > 20 or overdue > 5 else "low"
    return {
        "pending_recommendations": pending, "accepted_recommendations": recs[rs.ACCEPTED],
        "applied_recommendations": recs[rs.APPLIED], "rejected_recommendations": recs[rs.REJECTED],
        "acceptance_rate_pct": frm._q(rate, frm.ONE_DP), "autonomous_applied_24h": recs["auto24"],
        "open_exceptions": exc["active"], "overdue_exceptions": overdue, "recommendation_backlog_risk": risk,
    }  # fmt: skip


class PolicyRecommendationFilterSet(django_filters.FilterSet):
    """API-INV-11 filters."""

    status = CommaChoiceFilter(choices=RecommendationStatus.choices)
    inventory_id = IdFilter(field_name="inventory_id")
    product_id = IdFilter(field_name="inventory__product_id")
    location = CommaCharFilter(field_name="inventory__location__code", lookup_expr="in", label="Location code(s)")

    class Meta:
        model = InventoryPolicyRecommendation
        fields = ["status"]


def _recommendations(user) -> QuerySet[InventoryPolicyRecommendation]:
    return InventoryPolicyRecommendation.objects.for_user(user).select_related(
        "inventory__product", "inventory__location", "generated_by", "accepted_by", "decided_by", "applied_by"
    )


def policy_recommendation_list(*, user, filters: dict | None = None) -> QuerySet[InventoryPolicyRecommendation]:
    """Recommendations on the rows in the caller's scope, newest first."""
    queryset = _recommendations(user).order_by("-created_at", "-id")
    return filter_queryset(PolicyRecommendationFilterSet, filters or {}, queryset)


def policy_recommendation_get(*, user, pk) -> InventoryPolicyRecommendation:
    """One recommendation in the caller's scope; anything else is 404 (ACC-11)."""
    try:
        return _recommendations(user).get(pk=pk)
    except (InventoryPolicyRecommendation.DoesNotExist, ValueError, TypeError):
        raise NotFound("Recommendation not found.") from None


def policy_run_list(*, user, status: str | None = None, limit: int = 50) -> list[InventoryPolicyRun]:
    """API-INV-06: the newest runs (runs hold no scoped data beyond their own parameters and results,
    which the requester's scope bounded)."""
    queryset = InventoryPolicyRun.objects.select_related("requested_by", "product").order_by("-created_at", "-id")
    if status:
        queryset = queryset.filter(status=status)
    return list(queryset[:limit])


def policy_run_get(*, user, run_id: str) -> InventoryPolicyRun:
    run = InventoryPolicyRun.objects.select_related("requested_by", "product").filter(run_id=run_id).first()
    if run is None:
        raise NotFound("Optimisation run not found.")
    return run


def _demand(row: Inventory, today: datetime.date) -> tuple[float, float, str]:
    """FRM-17 daily demand of the row: mean, std and where they came from."""
    month = today.replace(day=1)
    monthly = list(
        DemandPlan.objects.filter(
            product_id=row.product_id, is_current=True, actual_qty__isnull=False,
            period__gte=add_months(month, -12), period__lt=month,
        )
        .values("period").annotate(total=Sum("actual_qty")).order_by("period").values_list("total", flat=True)
    )  # fmt: skip
    daily = [float(v) / 30 for v in monthly]
    if len(daily) >= 2:
        mean, std, source = statistics.fmean(daily), statistics.stdev(daily), "actuals"
    elif len(daily) == 1:
        mean, source = daily[0], "actuals"
        std = max(0.25, 0.2 * mean)
    else:
        mean = max(1.0, float(row.allocated_qty + row.in_transit_qty) / 30)
        std, source = max(0.25, 0.25 * mean), "open_orders"
    k = Inventory.objects.filter(product_id=row.product_id).count() or 1  # FRM-05: split evenly by location
    return mean / k, std / k, source


def _lead_time(row: Inventory) -> float:
    lead = 14.0
    if row.product.lead_time_days and row.product.lead_time_days > 0:
        lead = float(row.product.lead_time_days)
    latest = (
        SupplyPlan.objects.filter(product_id=row.product_id, location_id=row.location_id, is_current=True)
        .order_by("-period")
        .values_list("lead_time_days", flat=True)
        .first()
    )
    if latest:
        lead = float(latest)
    return lead


def inventory_service_level(*, user, params: dict) -> dict:
    """FRM-17 for one row in scope, by `inventory_id` or `product_id` + `location`; reads only."""
    rows = _rows(user)
    if params.get("inventory_id"):
        row = rows.filter(pk=params["inventory_id"]).first()
    elif params.get("product_id") and params.get("location"):
        row = rows.filter(product_id=params["product_id"], location__code=params["location"]).first()
    else:
        message = "Give inventory_id, or product_id and location."
        raise ValidationFailed(message, fields={"inventory_id": [message]})
    if row is None:
        raise NotFound("Inventory row not found.")
    mean, std, source = _demand(row, timezone.localdate())
    if params.get("demand_std_override") is not None:
        std = float(params["demand_std_override"])
    lead = _lead_time(row)
    lead_std = params.get("lead_time_std_override")
    lead_std = float(lead_std) if lead_std is not None else max(0.5, 0.15 * lead)
    inputs = frm.ServiceLevelInputs(
        demand_mean=mean, demand_std=std, lead_time_mean=lead, lead_time_std=lead_std,
        reorder_point=float(row.reorder_point), safety_stock=float(row.safety_stock),
    )  # fmt: skip
    seed = params.get("seed")
    result = frm.service_level(
        inputs, target=float(params.get("target_service_level", 0.95)), method=params.get("method", "analytical"),
        simulation_runs=int(params.get("simulation_runs", 5000)), bucket_count=int(params.get("bucket_count", 20)),
        seed=42 if seed is None else int(seed),
    )  # fmt: skip
    result["demand"]["source"] = source
    return {"inventory_id": row.pk, "product_id": row.product_id, "sku": row.product.sku,
            "location": row.location.code, **result}  # fmt: skip
