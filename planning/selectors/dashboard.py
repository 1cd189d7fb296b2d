"""The dashboard's reads (API-DASH-01…05, UI-03): aggregates over the caller's object scope.

ACC-06: dashboards show aggregates to every role, so counts and totals are taken over the model's
object scope (`scope_for`) even for a role that cannot open the module; lists of rows (alerts,
activity) come only from modules the caller can read, through the module's own selectors.
Every read here is a fixed number of queries, whatever the amount of data.
"""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse

from forecasting import permissions as fc_perms
from forecasting.series import add_months
from genxsop.errors import PermissionDenied
from genxsop.scoping import object_scope
from governance.choices import ActionItemStatus, CycleStatus, PublicationStatus
from governance.models import ActionItem, AuditEvent, Publication, ReadinessEvaluation, SopCycle, SopCycleStep
from planning import kpi_maths
from planning import permissions as perms
from planning.choices import InventoryStatus, KpiStatus, PlanStatus, ProductStatus, ScenarioStatus
from planning.models import DemandPlan, Inventory, KpiDefinition, KpiMetric, Product, Scenario, SupplyPlan
from planning.selectors.inventory import inventory_alerts, inventory_health
from planning.selectors.supply import planning_today

__all__ = [
    "ACTIVITY_LIMIT",
    "ACTIVITY_SCAN",
    "ALERT_LIMIT",
    "CARD_KPIS",
    "STRIP_KPIS",
    "dashboard_activity",
    "dashboard_alerts",
    "dashboard_demand_vs_supply",
    "dashboard_kpi_overview",
    "dashboard_my_work",
    "dashboard_readiness",
    "dashboard_sop_status",
    "dashboard_summary",
    "plan_window",
]

ALERT_LIMIT = 20
ACTIVITY_LIMIT = 20
WINDOW_MONTHS = 12
SPARK_POINTS = 12
# API-DASH-01 `kpis`: the latest value of each of these codes.
CARD_KPIS = ("forecast_accuracy", "otif", "fill_rate", "inventory_turns", "days_of_supply")
# UI-03 KPI strip: six KPIs, one per concern.
STRIP_KPIS = ("forecast_accuracy", "otif", "fill_rate", "inventory_turns", "days_of_supply", "gross_margin")
_ONE_DP = Decimal("0.1")
_ZERO = Decimal("0")
_OPEN_SCENARIO = (ScenarioStatus.DRAFT, ScenarioStatus.COMPLETED, ScenarioStatus.SUBMITTED)
_OPEN_ITEM = (ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS)
_QTY = DecimalField(max_digits=20, decimal_places=2)


def plan_window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The current month and the next 11 (API-DASH-01 plan counts, the demand vs supply chart)."""
    first = (today or planning_today()).replace(day=1)
    return first, add_months(first, WINDOW_MONTHS - 1)


def _scoped(model, user) -> QuerySet:
    """Rows in the caller's object scope, whether or not the role opens the module (ACC-06 aggregates)."""
    return model.objects.scope_for(user, "view")


def _scenarios(user) -> QuerySet[Scenario]:
    if user.has_perm(perms.VIEW_SCENARIO):
        from planning.selectors.scenarios import scenario_list

        return scenario_list(user=user)
    # Scenarios carry their scope as JSON; without the module only an unrestricted caller sees a count.
    return Scenario.objects.all() if object_scope(user).unrestricted else Scenario.objects.none()


def _plan_counts(model, user, window) -> dict:
    counts = {s: Count("pk", filter=Q(status=s)) for s in PlanStatus.values}
    row = (
        _scoped(model, user)
        .filter(is_current=True, period__gte=window[0], period__lte=window[1])
        .order_by()
        .aggregate(total=Count("pk"), **counts)
    )
    return {**{s: row[s] for s in PlanStatus.values}, "total": row["total"]}


def _health(user) -> dict:
    """FRM-11 over the caller's scope: the inventory selector for readers, the same sums for the rest."""
    if user.has_perm(perms.VIEW_INVENTORY):
        return inventory_health(user=user)
    counts = {f"{s}_count": Count("pk", filter=Q(status=s)) for s in InventoryStatus.values}
    row = (
        _scoped(Inventory, user)
        .order_by()
        .aggregate(total_products=Count("pk"), total_value=Coalesce(Sum("valuation"), Value(_ZERO)), **counts)
    )
    return {**row, "total_value": Decimal(row["total_value"]).quantize(Decimal("0.01"))}


def _latest_metrics(codes=None) -> dict[str, list[dict]]:
    """KPI rows per code, newest period first (one query); KPIs are not object-scoped (ACC-06)."""
    rows = KpiMetric.objects.order_by("metric_name", "-period")
    if codes is not None:
        rows = rows.filter(metric_name__in=codes)
    by_code: dict[str, list[dict]] = defaultdict(list)
    for row in rows.values(
        "metric_name", "period", "value", "target", "variance_pct", "status", "trend", "unit", "metric_category"
    ):
        by_code[row["metric_name"]].append(row)
    return by_code


def _active_cycle() -> SopCycle | None:
    """The active cycle of the latest period (API-DASH-03), with its steps and owners."""
    from django.db.models import Prefetch

    steps = SopCycleStep.objects.select_related("owner").order_by("step_number")
    return (
        SopCycle.objects.filter(overall_status=CycleStatus.ACTIVE)
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("-period", "-id")
        .first()
    )


def _current_step(cycle: SopCycle):
    return next((s for s in cycle.steps.all() if s.step_number == cycle.current_step), None)


def _who(user) -> str:
    return (user.full_name or user.email) if user is not None else ""


def dashboard_summary(*, user) -> dict:
    """API-DASH-01."""
    window = plan_window()
    scenario_rows = _scenarios(user)  # a scoped caller's scenarios are decided once, in Python
    scenarios = scenario_rows.order_by().aggregate(
        open=Count("pk", filter=Q(status__in=_OPEN_SCENARIO)),
        approved=Count("pk", filter=Q(status=ScenarioStatus.APPROVED)),
    )
    operating = scenario_rows.filter(is_operating_plan=True).order_by("-period").values_list("pk", flat=True)
    health = _health(user)
    metrics = _latest_metrics(CARD_KPIS)
    cycle = _active_cycle()
    step = _current_step(cycle) if cycle else None
    publication = Publication.objects.filter(status=PublicationStatus.PUBLISHED).order_by("-published_at").first()
    cycle_brief = last_publication = None
    if cycle is not None:
        cycle_brief = {
            "id": cycle.pk,
            "name": cycle.cycle_name,
            "current_step": cycle.current_step,
            "step_name": step.name if step else "",
            "status": cycle.overall_status,
            "due_date": step.due_date if step else None,
        }
    if publication is not None:
        last_publication = {
            "version_stamp": publication.version_stamp,
            "lane": publication.lane,
            "published_at": publication.published_at,
        }
    return {
        "demand_plans": _plan_counts(DemandPlan, user, window),
        "supply_plans": _plan_counts(SupplyPlan, user, window),
        "period_from": window[0],
        "period_to": window[1],
        "scenarios": {**scenarios, "operating_plan_id": operating.first()},
        "inventory_health": {
            "total_products": health["total_products"],
            "normal": health["normal_count"],
            "low": health["low_count"],
            "critical": health["critical_count"],
            "excess": health["excess_count"],
            "total_value": health["total_value"],
        },
        "products_tracked": _scoped(Product, user).filter(status=ProductStatus.ACTIVE).count(),
        "kpis": {code: (metrics[code][0]["value"] if metrics.get(code) else None) for code in CARD_KPIS},
        "sop_cycle": cycle_brief,
        "last_publication": last_publication,
    }


# Alerts ---------------------------------------------------------------------------------------------


def _kpi_alerts(definitions: dict, metrics: dict) -> list[dict]:
    """The latest row of each KPI whose stored FRM-36 status is warning or critical, critical first."""
    alerts = []
    for code, rows in metrics.items():
        latest = rows[0]
        if latest["status"] not in (KpiStatus.WARNING, KpiStatus.CRITICAL):
            continue
        definition = definitions.get(code)
        name = definition.name if definition else code
        # The adverse deviation is what the status thresholds compare (FRM-36); variance_pct of a
        # closest-to-zero KPI is relative to its tolerance and reads oddly in a sentence.
        adverse = (
            kpi_maths.adverse_pct(
                direction=definition.direction, value=latest["value"],
                target=latest["target"] if latest["target"] is not None else definition.target,
                target_low=definition.target_low, target_high=definition.target_high,
            )
            if definition
            else None
        )  # fmt: skip
        off = abs(adverse if adverse is not None else latest["variance_pct"] or _ZERO).quantize(_ONE_DP, ROUND_HALF_UP)
        alerts.append(
            {
                "type": "kpi",
                "severity": latest["status"],
                "message": f"{name} is {off}% off target",
                "metric": code,
                "name": name,
                "period": latest["period"],
                "value": latest["value"],
                "target": latest["target"],
                "direction": definition.direction if definition else "",
            }
        )
    alerts.sort(key=lambda a: (a["severity"] != KpiStatus.CRITICAL, a["metric"]))
    return alerts


def _overdue_items(user, today) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(status__in=_OPEN_ITEM, due_date__lt=today)
        .select_related("owner")
        .order_by("due_date", "id")
    )


def dashboard_alerts(*, user, limit: int = ALERT_LIMIT) -> dict:
    """API-DASH-02: lists from the modules the caller reads (others empty); `total_alerts` counts every
    alert the caller may see, beyond the `limit` shown per list."""
    today = planning_today()
    out = {
        "inventory_critical": [],
        "inventory_low": [],
        "kpi_alerts": [],
        "forecast_alerts": [],
        "anomaly_alerts": [],
        "overdue_action_items": [],
    }
    total = 0
    if user.has_perm(perms.VIEW_INVENTORY):
        rows = inventory_alerts(user=user, limit=limit)
        for key, status in (("inventory_critical", "critical"), ("inventory_low", "low")):
            out[key] = [
                {
                    "inventory_id": r["id"],
                    "product_id": r["product_id"],
                    "sku": r["sku"],
                    "product_name": r["product_name"],
                    "location": r["location"],
                    "on_hand": r["on_hand_qty"],
                }
                for r in rows[status]
            ]
        health = inventory_health(user=user)
        total += health["critical_count"] + health["low_count"]
    if user.has_perm(perms.VIEW_KPI_METRIC):
        definitions = {d.code: d for d in KpiDefinition.objects.all()}
        kpis = _kpi_alerts(definitions, _latest_metrics())
        out["kpi_alerts"] = kpis[:limit]
        total += len(kpis)
    if user.has_perm(fc_perms.VIEW_ACCURACY):
        from forecasting.selectors.accuracy import drift_alerts

        drift = drift_alerts(user=user)
        out["forecast_alerts"] = [{"type": "drift", **a} for a in drift[:limit]]
        total += len(drift)
    if user.has_perm(fc_perms.VIEW_ANOMALY):
        from forecasting.selectors.anomalies import anomaly_list

        anomalies = anomaly_list(user=user, filters={"status": "open", "severity": "high"})
        out["anomaly_alerts"] = [
            {
                "type": "anomaly",
                "severity": a.severity,
                "id": a.pk,
                "product_id": a.product_id,
                "sku": a.product.sku,
                "period": a.period,
                "region": a.region,
                "channel": a.channel,
            }
            for a in anomalies[:limit]
        ]
        total += anomalies.count() if len(out["anomaly_alerts"]) == limit else len(out["anomaly_alerts"])
    if user.has_perm("governance.view_actionitem"):
        items = _overdue_items(user, today)
        shown = list(items[: limit + 1])
        out["overdue_action_items"] = [
            {
                "id": i.pk,
                "title": i.title,
                "owner_id": i.owner_id,
                "owner_name": _who(i.owner),
                "due_date": i.due_date,
                "days_overdue": (today - i.due_date).days,
                "priority": i.priority,
                "status": i.status,
            }
            for i in shown[:limit]
        ]
        total += items.count() if len(shown) > limit else len(shown)
    out["total_alerts"] = total
    return out


# S&OP status ------------------------------------------------------------------------------------------


def dashboard_sop_status(*, user) -> dict:
    """API-DASH-03: the active cycle of the latest period, every role."""
    cycle = _active_cycle()
    if cycle is None:
        return {"active": False, "message": "No active S&OP cycle"}
    return {
        "active": True,
        "id": cycle.pk,
        "name": cycle.cycle_name,
        "period": cycle.period,
        "current_step": cycle.current_step,
        "overall_status": cycle.overall_status,
        "steps": [
            {
                "step": s.step_number,
                "name": s.name,
                "status": s.status,
                "due_date": s.due_date,
                "owner_id": s.owner_id,
                "owner_name": _who(s.owner),
            }
            for s in cycle.steps.all()
        ],
    }


# KPI overview -----------------------------------------------------------------------------------------


def dashboard_kpi_overview(*, user, category: str | None = None) -> list[dict]:
    """API-DASH-04: every active KPI definition with its latest stored row (FRM-36 status, trend and variance
    as the KPI refresh wrote them) and the last 12 values, oldest first. Two queries."""
    definitions = KpiDefinition.objects.filter(is_active=True).order_by("category", "code")
    if category:
        definitions = definitions.filter(category=category)
    definitions = list(definitions)
    metrics = _latest_metrics([d.code for d in definitions])
    out = []
    for d in definitions:
        rows = metrics.get(d.code, [])
        latest = rows[0] if rows else {}
        out.append(
            {
                "code": d.code,
                "name": d.name,
                "category": d.category,
                "unit": latest.get("unit") or d.unit,
                "direction": d.direction,
                "period": latest.get("period"),
                "value": latest.get("value"),
                "target": latest.get("target", d.target),
                "target_low": d.target_low,
                "target_high": d.target_high,
                "variance_pct": latest.get("variance_pct"),
                "status": latest.get("status"),
                "trend": latest.get("trend"),
                "sparkline": [{"period": r["period"], "value": r["value"]} for r in reversed(rows[:SPARK_POINTS])],
            }
        )
    return out


# Activity ---------------------------------------------------------------------------------------------

# Account and security records are not business activity; the audit log page (EXEC_C) shows them.
_PRIVATE_TYPES = frozenset(
    {
        "user",
        "api_token",
        "auth_token",
        "sso_identity",
        "sso_role_mapping",
        "audit_event",
        "audit_chain_head",
        "notification",
        "comment",
        "session",
    }
)
_BATCH = 100
_MAX_BATCHES = 3
ACTIVITY_SCAN = _BATCH * _MAX_BATCHES
# Console pages of the entity types that have one: (URL name, takes the id).
_ENTITY_URLS = {
    "demand_plan": ("planning:demand_plan_detail", True),
    "supply_plan": ("planning:supply_plan_detail", True),
    "inventory": ("planning:inventory_detail", True),
    "scenario": ("planning:scenario_detail", True),
    "product": ("planning:product_detail", True),
    "sop_cycle": ("governance:cycle_detail", True),
    "publication": ("governance:publication_detail", True),
    "action_item": ("governance:action_items", False),
    "decision": ("governance:decisions", False),
    "kpi_metric": ("planning:kpi_dashboard", False),
    "kpi_definition": ("planning:kpi_dashboard", False),
}


def _readable_ids(user, target_type: str, ids: set[str]) -> set[str]:
    """Which of `ids` the caller may read, in one query per type (or none: a permission check).

    The same rule as the entity history (governance.selectors.audit_history): an object-scoped model
    through its scoped queryset, scenarios through their selector, anything else by its view permission."""
    from governance.selectors import _models_by_entity_type

    if target_type in _PRIVATE_TYPES:
        return set()
    model = _models_by_entity_type().get(target_type)
    if model is None:
        return set()
    numeric = [i for i in ids if i.isdigit()]
    try:
        if target_type == "scenario":
            if not user.has_perm(perms.VIEW_SCENARIO):
                return set()
            queryset = _scenarios(user)
        elif hasattr(model._default_manager, "for_user"):
            queryset = model._default_manager.for_user(user)
        else:
            meta = model._meta
            return set(ids) if user.has_perm(f"{meta.app_label}.view_{meta.model_name}") else set()
    except PermissionDenied:
        return set()
    return {str(pk) for pk in queryset.filter(pk__in=numeric).values_list("pk", flat=True)}


def _entity_url(target_type: str, target_id: str) -> str:
    name, with_id = _ENTITY_URLS.get(target_type, (None, False))
    if name is None:
        return ""
    try:
        return reverse(name, args=[int(target_id)]) if with_id else reverse(name)
    except (NoReverseMatch, ValueError):
        return ""


def action_in_words(event_type: str) -> str:
    """`planning.demand_plan.approved` -> "approved demand plan"."""
    parts = event_type.split(".")
    verb = parts[-1].replace("_", " ")
    noun = parts[-2].replace("_", " ") if len(parts) > 1 else ""
    return f"{verb} {noun}".strip()


def dashboard_activity(*, user, limit: int = ACTIVITY_LIMIT) -> list[dict]:
    """API-DASH-05: the newest audit events on entities the caller can read, newest first.

    Reads the log in batches of 100 (at most 3) and checks readability per entity type in bulk, so a
    call costs at most 3 x (1 + number of entity types in the batch) queries."""
    found: list[AuditEvent] = []
    decided: dict[tuple[str, str], bool] = {}
    fields = ("id", "occurred_at", "actor_name", "event_type", "target_type", "target_id", "target_repr", "message")
    for batch in range(_MAX_BATCHES):
        events = list(
            AuditEvent.objects.order_by("-occurred_at", "-id").only(*fields)[batch * _BATCH : (batch + 1) * _BATCH]
        )
        pending: dict[str, set[str]] = defaultdict(set)
        for e in events:
            if (e.target_type, e.target_id) not in decided:
                pending[e.target_type].add(e.target_id)
        for target_type, ids in pending.items():
            readable = _readable_ids(user, target_type, ids)
            decided.update({(target_type, i): i in readable for i in ids})
        found.extend(e for e in events if decided[(e.target_type, e.target_id)])
        if len(found) >= limit or len(events) < _BATCH:
            break
    return [
        {
            "id": e.pk,
            "occurred_at": e.occurred_at,
            "actor_name": e.actor_name or "System",
            "event_type": e.event_type,
            "target_type": e.target_type,
            "target_id": e.target_id,
            "target_repr": e.target_repr,
            "action": action_in_words(e.event_type),
            "message": e.message or action_in_words(e.event_type),
            "url": _entity_url(e.target_type, e.target_id),
        }
        for e in found[:limit]
    ]


# Console-only blocks (UI-03) ------------------------------------------------------------------------------


def dashboard_readiness(*, user) -> list[dict]:
    """The last readiness evaluation of each lane and the lane's current publication (two queries per lane)."""
    from governance.choices import Lane

    out = []
    for lane in Lane.values:
        evaluation = ReadinessEvaluation.objects.filter(lane=lane).order_by("-created_at", "-id").first()
        current = Publication.objects.filter(lane=lane, status=PublicationStatus.PUBLISHED).first()
        out.append({"lane": lane, "label": Lane(lane).label, "evaluation": evaluation, "publication": current})
    return out


def dashboard_my_work(*, user) -> dict:
    """My open action items, the approvals waiting for me (the My approvals queue) and my running jobs."""
    from forecasting.choices import JobStatus
    from forecasting.models import ForecastJob
    from governance.views_my_work import approval_groups

    items = (
        list(ActionItem.objects.filter(owner=user, status__in=_OPEN_ITEM).order_by("due_date", "id")[:5])
        if user.has_perm("governance.view_actionitem")
        else []
    )
    groups = approval_groups(user)
    jobs = list(
        ForecastJob.objects.filter(requested_by=user, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .select_related("product")
        .order_by("-created_at")[:5]
    )
    return {
        "action_items": items,
        "approvals": groups,
        "approvals_total": sum(g["count"] for g in groups),
        "jobs": jobs,
        "today": planning_today(),
    }


def dashboard_demand_vs_supply(*, user) -> dict[str, dict]:
    """Σ FRM-01 demand and Σ planned production per month of the plan window, over the current rows in
    scope: `{"demand": {month: qty}, "supply": {month: qty}}` (two queries)."""
    window = plan_window()
    demand_qty = Coalesce(F("consensus_qty"), F("adjusted_qty"), F("forecast_qty"), output_field=_QTY)
    demand = (
        _scoped(DemandPlan, user)
        .filter(is_current=True, period__gte=window[0], period__lte=window[1])
        .order_by()
        .values("period")
        .annotate(qty=Sum(demand_qty))
    )
    supply = (
        _scoped(SupplyPlan, user)
        .filter(is_current=True, period__gte=window[0], period__lte=window[1])
        .order_by()
        .values("period")
        .annotate(qty=Sum(Coalesce(F("planned_prod_qty"), Value(_ZERO), output_field=_QTY)))
    )
    return {"demand": {r["period"]: r["qty"] for r in demand}, "supply": {r["period"]: r["qty"] for r in supply}}
