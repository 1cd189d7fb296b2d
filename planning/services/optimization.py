"""Inventory policy optimisation runs (PLN-08, FRM-06, WF-62) and policy recommendations under
maker-checker (PLN-10, FRM-08, FRM-09, FRM-13, WF-60, ACC-05).

A run recomputes safety stock, reorder point and max of the rows in scope in one transaction and
upserts their exceptions (WF-61); recommendations propose new levels that a second person approves
when the change is high-impact. Every apply path (decision, approve, auto-apply, console) goes
through `_apply`, and every approval through `_approve_guard`, so none can skip the checker.
"""

import datetime
import traceback
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from statistics import NormalDist, stdev

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from forecasting.choices import AccuracyLayer
from forecasting.models import ForecastAccuracyPoint
from forecasting.series import add_months, last_closed_month
from genxsop import context
from genxsop.errors import Conflict, InvalidStateTransition, NotFound, SelfApprovalForbidden, ValidationFailed
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm, snapshot
from governance import audit, bus
from planning import events, inventory_rules
from planning import permissions as perms
from planning.choices import (
    RECOMMENDATION_TRANSITIONS,
    AppliedVia,
    ExceptionSeverity,
    ExceptionType,
    InventoryStatus,
    PolicyRunMethod,
    PolicyRunStatus,
    PolicySource,
    RecommendationStatus,
)
from planning.models import Inventory, InventoryPolicyRecommendation, InventoryPolicyRun, Product, SupplyPlan
from planning.services import inventory_analytics as frm
from planning.services.exceptions import policy_exceptions_sync_for_run

__all__ = [
    "APPROVAL_REQUIRED_MESSAGE",
    "RUN_DEFAULTS",
    "coverage_policy",
    "policy_recommendation_approve",
    "policy_recommendation_auto_apply",
    "policy_recommendation_decide",
    "policy_recommendation_generate",
    "policy_run_create",
    "recommendation_allowed_actions",
    "recommendation_levels",
    "shape_policy",
    "statistical_policy",
    "z_coverage",
]

ZERO = Decimal("0")
CENT = Decimal("0.01")
FOUR_DP = Decimal("0.0001")
SIGMA_MIN_ERRORS = 6  # FRM-06 step 4: fewer lag-1 errors fall back to coverage
SIGMA_MONTHS = 12
DAYS_PER_MONTH = Decimal("30.4")
IMPACT_CAP = Decimal("999999.99")  # impact_pct is dec(8,2): a 0 → large reorder point must still fit
APPROVAL_REQUIRED_MESSAGE = "High-impact policy change requires approval before apply"
AUTO_NOTE = "Autonomous apply (guardrails)"

RUN_DEFAULTS = {
    "method": PolicyRunMethod.COVERAGE,
    "service_level_target": Decimal("0.95"),
    "lead_time_days": Decimal("14"),
    "review_period_days": Decimal("7"),
}
_RUN_RANGES = {
    "service_level_target": (Decimal("0.80"), Decimal("0.999")),
    "lead_time_days": (Decimal("1"), Decimal("365")),
    "review_period_days": (Decimal("1"), Decimal("90")),
}
_RUN_OPTIONAL = ("moq_units", "lot_size_units", "capacity_max_units", "lead_time_variability_days")


def _d(value) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def _q(value: Decimal, step: Decimal = CENT) -> Decimal:
    return Decimal(value).quantize(step, ROUND_HALF_UP)


# Formulas (FRM-06, FRM-08, FRM-09): plain values, checked by hand in the tests ---------------------


def z_coverage(target: Decimal) -> Decimal:
    """FRM-06 step 3: the z of the coverage method, stepped by the service target."""
    for threshold, z in (("0.99", "2.33"), ("0.98", "2.05"), ("0.95", "1.65"), ("0.90", "1.28")):
        if target >= Decimal(threshold):
            return Decimal(z)
    return Decimal("0.84")


def coverage_policy(*, daily_demand: Decimal, lead_time: Decimal, target: Decimal) -> tuple[Decimal, ...]:
    """FRM-06 step 3: (SS, ROP, max) unrounded."""
    ss = daily_demand * z_coverage(target) * lead_time.sqrt()
    rop = daily_demand * lead_time + ss
    return ss, rop, Decimal("1.5") * rop


def statistical_policy(*, daily_demand: Decimal, lead_time: Decimal, target: Decimal, sigma_product: Decimal,
                       stocking_rows: int, lead_time_sd: Decimal | None) -> tuple[Decimal, ...]:  # fmt: skip
    """FRM-06 step 4: (SS, ROP, max) unrounded; sigma_d = sigma_P / sqrt(30.4) / k, sigma_LT given or 0.15 LT."""
    z = Decimal(str(NormalDist().inv_cdf(float(target))))
    sigma_d = sigma_product / DAYS_PER_MONTH.sqrt() / max(stocking_rows, 1)
    sigma_lt = lead_time_sd if lead_time_sd is not None else Decimal("0.15") * lead_time
    ss = z * (lead_time * sigma_d**2 + daily_demand**2 * sigma_lt**2).sqrt()
    rop = daily_demand * lead_time + ss
    return ss, rop, Decimal("1.5") * rop


def _round_up(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING) * step


def shape_policy(ss: Decimal, rop: Decimal, mx: Decimal, *, moq=None, lot=None, capacity=None) -> tuple[Decimal, ...]:
    """FRM-06 step 5: MOQ floor on ROP, lot-size round-up of ROP and max, capacity cap on max, then
    ROP ≤ max and SS ≤ ROP; 2 dp."""
    if moq is not None:
        rop = max(rop, moq)
    if lot:
        rop, mx = _round_up(rop, lot), _round_up(mx, lot)
    if capacity is not None:
        mx = min(mx, capacity)
    rop = min(rop, mx)
    ss = min(ss, rop)
    return _q(ss), _q(rop), _q(mx)


def recommendation_levels(*, on_hand, allocated, in_transit, safety_stock, reorder_point, max_stock, status: str,
                          lead_time: Decimal) -> dict:  # fmt: skip
    """FRM-08 and FRM-09 for one row: recommended levels, confidence, impact, uplift."""
    pressure = (_d(allocated) + _d(in_transit)) / max(_d(on_hand), Decimal(1))
    short = status in (InventoryStatus.LOW, InventoryStatus.CRITICAL)
    m = Decimal("1.05") + (Decimal("0.10") if short else ZERO) + min(Decimal("0.30"), Decimal("0.20") * pressure)
    rec_ss = max(_d(safety_stock) * m, Decimal(1))
    rec_rop = max(_d(reorder_point) * m, Decimal("1.25") * rec_ss)
    rec_max = max(_d(max_stock) * m, Decimal("1.40") * rec_rop)
    confidence = Decimal("0.72") + (Decimal("0.08") if short else ZERO)
    confidence += min(Decimal("0.12"), Decimal("0.10") * pressure)
    if lead_time > 20:
        confidence -= Decimal("0.05")
    confidence = min(max(confidence, Decimal("0.40")), Decimal("0.95"))
    rec_ss, rec_rop, rec_max = _q(rec_ss), _q(rec_rop), _q(rec_max)
    current = _d(reorder_point)
    impact = abs(rec_rop - current) / (current if current > 0 else Decimal(1)) * 100
    impact = min(_q(impact), IMPACT_CAP)
    return {
        "recommended_safety_stock": rec_ss, "recommended_reorder_point": rec_rop, "recommended_max_stock": rec_max,
        "confidence_score": _q(confidence, FOUR_DP), "impact_pct": impact,
        "high_impact": impact >= Decimal(str(settings.INVENTORY_HIGH_IMPACT_PCT)),
        "demand_pressure": _q(pressure, FOUR_DP), "uplift_pct": _q((m - 1) * 100, Decimal("0.1")),
    }  # fmt: skip


# Shared reads ------------------------------------------------------------------------------------


def _stocking_counts(product_ids) -> dict[int, int]:
    return dict(
        Inventory.objects.filter(product_id__in=product_ids)
        .order_by()
        .values_list("product_id")
        .annotate(n=Count("pk"))
    )


def _lead_times(rows: list[Inventory], base: Decimal) -> dict[int, Decimal]:
    """FRM-06 step 2 before the variability: the request's lead time, replaced by the product's when > 0,
    replaced by the latest current supply plan's at the row's location when > 0. Two queries."""
    product_ids = {r.product_id for r in rows}
    product_lt = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "lead_time_days"))
    plans = {}
    for product_id, location_id, lead in (
        SupplyPlan.objects.filter(product_id__in=product_ids, is_current=True, lead_time_days__isnull=False)
        .order_by("product_id", "location_id", "-period", "-pk")
        .values_list("product_id", "location_id", "lead_time_days")
    ):
        plans.setdefault((product_id, location_id), lead)
    out = {}
    for r in rows:
        lead = base
        if product_lt.get(r.product_id):
            lead = Decimal(product_lt[r.product_id])
        if plans.get((r.product_id, r.location_id)):
            lead = Decimal(plans[(r.product_id, r.location_id)])
        out[r.pk] = lead
    return out


def _sigma_products(product_ids, today: datetime.date) -> dict[int, Decimal]:
    """FRM-06 step 4: sigma_P per product, the sample standard deviation of the product total's monthly lag-1
    errors over the last 12 closed months, consensus layer where present in a month, else statistical.
    Products with fewer than 6 monthly errors are absent."""
    last = last_closed_month(today)
    sums: dict[tuple[int, datetime.date, str], Decimal] = {}
    for product_id, period, layer, error in ForecastAccuracyPoint.objects.filter(
        product_id__in=product_ids, lag=1, period__gt=add_months(last, -SIGMA_MONTHS), period__lte=last,
        layer__in=(AccuracyLayer.CONSENSUS, AccuracyLayer.STATISTICAL),
    ).values_list("product_id", "period", "layer", "error"):  # fmt: skip
        key = (product_id, period, layer)
        sums[key] = sums.get(key, ZERO) + _d(error)
    monthly: dict[int, dict[datetime.date, Decimal]] = {}
    for (product_id, period, layer), total in sorted(sums.items()):
        months = monthly.setdefault(product_id, {})
        if layer == AccuracyLayer.CONSENSUS or period not in months:
            if layer == AccuracyLayer.STATISTICAL and (product_id, period, AccuracyLayer.CONSENSUS) in sums:
                continue
            months[period] = total
    return {pk: Decimal(str(stdev([float(v) for v in months.values()])))
            for pk, months in monthly.items() if len(months) >= SIGMA_MIN_ERRORS}  # fmt: skip


def _quality(rows: list[Inventory], demand: dict, now: datetime.datetime) -> dict[int, dict]:
    return {
        r.pk: frm.data_quality(
            on_hand=r.on_hand_qty,
            allocated=r.allocated_qty,
            safety_stock=r.safety_stock,
            reorder_point=r.reorder_point,
            max_stock=r.max_stock,
            valuation=r.valuation,
            seen_at=r.snapshot_at or r.updated_at,
            now=now,
            product_active=r.product.status == "active",
            has_demand=demand.get(r.product_id) is not None,
        )
        for r in rows
    }


def _weak_fields(row: Inventory, scores: dict, has_demand: bool) -> list[str]:
    weak = [name for name in ("on_hand_qty", "safety_stock", "reorder_point", "max_stock", "valuation")
            if getattr(row, name) is None]  # fmt: skip
    if scores["freshness_score"] < 1:
        weak.append("snapshot_at")
    if row.allocated_qty > row.on_hand_qty:
        weak.append("allocated_qty")
    if has_demand and not row.safety_stock and not row.reorder_point and "safety_stock" not in weak:
        weak += ["safety_stock", "reorder_point"]
    return weak or ["on_hand_qty"]


def _fmt(value: Decimal) -> str:
    return f"{_q(value):,.2f}"


# Optimisation run (FRM-06) ----------------------------------------------------------------------


def _run_params(params: dict) -> dict:
    """Defaults and ranges of API-INV-05 (the API validates too; the console and commands rely on this)."""
    out = {**RUN_DEFAULTS, **{k: v for k, v in params.items() if v is not None and v != ""}}
    fields = {}
    if out["method"] not in PolicyRunMethod.values:
        fields["method"] = [f"One of {', '.join(PolicyRunMethod.values)}."]
    for name in (*_RUN_RANGES, *_RUN_OPTIONAL):
        if name not in out:
            continue
        try:
            out[name] = Decimal(str(out[name]))
        except ArithmeticError:
            fields[name] = ["A number is required."]
            continue
        low, high = _RUN_RANGES.get(name, (ZERO, None))
        if out[name] < low or (high is not None and out[name] > high) or not out[name].is_finite():
            fields[name] = [f"Between {low} and {high}." if high is not None else "Must be 0 or more."]
    if out.get("lot_size_units") is not None and "lot_size_units" not in fields and out["lot_size_units"] == 0:
        fields["lot_size_units"] = ["Must be more than 0."]
    if fields:
        raise ValidationFailed(fields=fields)
    return out


def _run_scope(actor, params: dict) -> list[Inventory]:
    rows = Inventory.objects.for_user(actor, "change").filter(product__status="active")
    if params.get("product_id"):
        rows = rows.filter(product_id=params["product_id"])
    if params.get("location"):
        rows = rows.filter(location__code=params["location"])
    return list(rows.select_related("product", "location").select_for_update(of=("self",)).order_by("pk"))


def _optimise(run: InventoryPolicyRun, *, actor, params: dict, today: datetime.date) -> list[dict]:
    rows = _run_scope(actor, params)
    product_ids = {r.product_id for r in rows}
    demand = inventory_rules.product_daily_demand(product_ids, today=today)
    stocking = _stocking_counts(product_ids)
    base_lt = params["lead_time_days"]
    lead_times = _lead_times(rows, base_lt)
    method = params["method"]
    sigmas = _sigma_products(product_ids, today) if method == PolicyRunMethod.STATISTICAL else {}
    variability = params.get("lead_time_variability_days")
    target = params["service_level_target"]
    results, changed, audit_entries, skipped_ids = [], [], [], set()
    for row in rows:
        k = max(stocking.get(row.product_id, 1), 1)
        d_product = demand.get(row.product_id)
        d = d_product / k if d_product else (row.allocated_qty + row.in_transit_qty) / params["review_period_days"]
        entry = {"inventory_id": row.pk, "product_id": row.product_id, "sku": row.product.sku,
                 "location": row.location.code, "daily_demand": str(_q(d, FOUR_DP))}  # fmt: skip
        if d <= 0:
            skipped_ids.add(row.pk)
            results.append({**entry, "outcome": "skipped", "note": "No demand signal for policy calculation"})
            continue
        lead = lead_times[row.pk]
        used = method
        if method == PolicyRunMethod.STATISTICAL and row.product_id in sigmas:
            lead = max(lead, Decimal(1))
            ss, rop, mx = statistical_policy(daily_demand=d, lead_time=lead, target=target,
                                             sigma_product=sigmas[row.product_id], stocking_rows=k,
                                             lead_time_sd=variability)  # fmt: skip
        else:
            if method == PolicyRunMethod.STATISTICAL:
                used = "coverage_fallback"
            lead = max(lead + (variability or ZERO), Decimal(1))
            ss, rop, mx = coverage_policy(daily_demand=d, lead_time=lead, target=target)
        ss, rop, mx = shape_policy(ss, rop, mx, moq=params.get("moq_units"), lot=params.get("lot_size_units"),
                                   capacity=params.get("capacity_max_units"))  # fmt: skip
        before = snapshot(row)
        previous = (row.safety_stock, row.reorder_point, row.max_stock)
        is_change = previous != (ss, rop, mx)
        entry.update(method=used, lead_time_days=str(_q(lead)), safety_stock=str(ss), reorder_point=str(rop),
                     max_stock=str(mx), previous={"safety_stock": str(previous[0]), "reorder_point": str(previous[1]),
                                                  "max_stock": None if previous[2] is None else str(previous[2])},
                     outcome="updated" if is_change else "unchanged")  # fmt: skip
        results.append(entry)
        if not is_change:
            continue
        row.safety_stock, row.reorder_point, row.max_stock = ss, rop, mx
        row.policy_source = PolicySource.OPTIMIZATION
        row.version += 1
        row.updated_by = actor
        changed.append(row)
        audit_entries.append((row, before))
    inventory_rules.recompute(changed, today=today)
    Inventory.objects.bulk_update(
        changed, ["safety_stock", "reorder_point", "max_stock", "policy_source", "version", "updated_by", "status",
                  "valuation", "days_of_supply"], batch_size=500,
    )  # fmt: skip
    audit.record_many([
        {"actor": actor, "event_type": events.INVENTORY_POLICY_OPTIMIZED, "target": row, "before": before,
         "after": snapshot(row), "metadata": {"run_id": run.run_id, "method": method}}
        for row, before in audit_entries
    ])  # fmt: skip
    findings = _findings(rows, skipped_ids, demand, today)
    synced = policy_exceptions_sync_for_run(actor=actor, run=run, inventory_ids=[r.pk for r in rows],
                                            findings=findings, today=today)  # fmt: skip
    run.processed_count = len(rows)
    run.updated_count = len(changed)
    run.skipped_count = len(skipped_ids)
    run.exception_count = len(synced["created"]) + len(synced["updated"])
    return results, synced


def _findings(rows: list[Inventory], skipped_ids: set, demand: dict, today: datetime.date) -> dict:
    """FRM-06 step 7 over the rows as they are after the run."""
    quality = _quality(rows, demand, timezone.now())
    out = {}
    for r in rows:
        available = r.on_hand_qty - r.allocated_qty
        position = available + r.in_transit_qty
        if r.reorder_point > 0 and position < r.reorder_point:
            severity = ExceptionSeverity.HIGH if available <= r.safety_stock else ExceptionSeverity.MEDIUM
            out[(r.pk, ExceptionType.STOCKOUT_RISK)] = (
                severity,
                f"Expedite replenishment of {_fmt(r.reorder_point - position)} units",
            )
        if r.max_stock and r.on_hand_qty > r.max_stock:
            severity = ExceptionSeverity.HIGH if r.on_hand_qty > 2 * r.max_stock else ExceptionSeverity.MEDIUM
            out[(r.pk, ExceptionType.EXCESS_RISK)] = (
                severity,
                f"Reduce or rebalance {_fmt(r.on_hand_qty - r.max_stock)} units above max stock",
            )
        if r.pk in skipped_ids:
            out[(r.pk, ExceptionType.DATA_QUALITY_RISK)] = (
                ExceptionSeverity.MEDIUM,
                "No demand signal for policy calculation",
            )
        elif quality[r.pk]["quality_tier"] == "low":
            weak = _weak_fields(r, quality[r.pk], demand.get(r.product_id) is not None)
            out[(r.pk, ExceptionType.DATA_QUALITY_RISK)] = (
                ExceptionSeverity.MEDIUM,
                f"Review data quality of {', '.join(weak)}",
            )
    return out


def _current_request_id() -> str:
    current = context.request_id()
    return "" if current in ("", "-") else current[:64]


def _json_params(params: dict) -> dict:
    return {k: (format(v.normalize(), "f") if isinstance(v, Decimal) else v) for k, v in params.items()}


def policy_run_create(*, actor, params: dict, request_id: str = "") -> InventoryPolicyRun:
    """API-INV-05: run FRM-06 over the active rows in the actor's change scope (optionally one product
    and/or location). Needs add_inventorypolicyrun. Bad parameters are 400 and record nothing.

    The run row is written first (running); the policies, statuses, audit events and exceptions are
    written in one inner transaction. Anything unexpected rolls that back entirely and the run is
    recorded as failed with the error (WF-62), so a failed run leaves no half-written policies."""
    require_perm(actor, perms.ADD_POLICY_RUN)
    params = _run_params(params)
    today = timezone.localdate()
    run = InventoryPolicyRun.objects.create(
        status=PolicyRunStatus.RUNNING, method=params["method"], requested_by=actor,
        product_id=params.get("product_id"), location=params.get("location") or "",
        parameters=_json_params(params), request_id=request_id or _current_request_id(), started_at=timezone.now(),
    )  # fmt: skip
    try:
        with transaction.atomic():
            results, synced = _optimise(run, actor=actor, params=params, today=today)
            run.status = PolicyRunStatus.COMPLETED
            run.completed_at = timezone.now()
            run.result = {"rows": results,
                          "exceptions": {"created": len(synced["created"]), "updated": len(synced["updated"]),
                                         "resolved": len(synced["resolved"])}}  # fmt: skip
            run.save()
            audit.record(actor=actor, event_type=events.POLICY_RUN_COMPLETED, target=run, after=snapshot(run, [
                "run_id", "status", "method", "parameters", "processed_count", "updated_count", "skipped_count",
                "exception_count"]))  # fmt: skip
            bus.publish_on_commit(events.POLICY_RUN_COMPLETED, run_id=run.run_id, updated_count=run.updated_count)
    except Exception as error:  # WF-62: whatever went wrong, the run records it
        with transaction.atomic():
            run.refresh_from_db()
            run.status = PolicyRunStatus.FAILED
            run.completed_at = timezone.now()
            run.error = f"{type(error).__name__}: {error}"[:2000]
            run.result = {"traceback": traceback.format_exc(limit=3)[-2000:]}
            run.save()
            audit.record(actor=actor, event_type=events.POLICY_RUN_FAILED, target=run,
                         after=snapshot(run, ["run_id", "status", "error"]))  # fmt: skip
            bus.publish_on_commit(events.POLICY_RUN_FAILED, run_id=run.run_id)
    return run


# Recommendations (FRM-08, FRM-09, FRM-13, WF-60) -------------------------------------------------

_R = RecommendationStatus


def _may_decide(user, rec: InventoryPolicyRecommendation) -> bool:
    return bool(
        user is not None and getattr(user, "is_authenticated", False) and user.is_active
        and user.has_perm(perms.CHANGE_POLICY_RECOMMENDATION) and object_in_scope(user, rec.inventory, change=True)
    )  # fmt: skip


def _self_approval(user, rec) -> bool:
    return bool(rec.high_impact and rec.generated_by_id is not None and rec.generated_by_id == user.pk)


def recommendation_allowed_actions(user, rec: InventoryPolicyRecommendation) -> list[str]:
    """The WF-60 actions `user` may take on `rec`: approve, apply (accept and apply), reject."""
    if rec.status not in (_R.PENDING, _R.ACCEPTED) or not _may_decide(user, rec):
        return []
    actions = []
    if rec.status == _R.PENDING:
        if not (_self_approval(user, rec) and settings.ENFORCE_SEGREGATION_OF_DUTIES):
            actions.append("approve")
        if not rec.high_impact:
            actions.append("apply")
    else:
        actions.append("apply")
    actions.append("reject")
    return actions


def _move(rec, action: str) -> str:
    moves = RECOMMENDATION_TRANSITIONS[action]
    if rec.status not in moves:
        raise InvalidStateTransition(
            f"A {rec.status} recommendation cannot be {'approved' if action == 'approve' else action + 'ed'}.",
            context={"from": rec.status, "action": action},
        )
    return moves[rec.status]


def _lock(rec: InventoryPolicyRecommendation) -> InventoryPolicyRecommendation:
    try:
        return (
            InventoryPolicyRecommendation.objects.select_for_update(of=("self",))
            .select_related("inventory__product", "inventory__location")
            .get(pk=rec.pk)
        )
    except InventoryPolicyRecommendation.DoesNotExist:
        raise NotFound("Recommendation not found.") from None


def _approve_guard(actor, rec) -> dict:
    """ACC-05 on a high-impact row: the generator may not approve it (metadata when SoD is off)."""
    if _self_approval(actor, rec):
        if settings.ENFORCE_SEGREGATION_OF_DUTIES:
            raise SelfApprovalForbidden("The user who generated a high-impact recommendation cannot approve it.")
        return {"self_approved": True}
    return {}


def _accept(actor, rec, notes: str, now) -> dict:
    rec.status = _move(rec, "approve")
    extra = _approve_guard(actor, rec)
    rec.accepted_by, rec.accepted_at = actor, now
    rec.decided_by, rec.decided_at = actor, now
    if notes:
        rec.decision_notes = notes
    return extra


def _apply(actor, rec, *, via: str, notes: str, now, action: str = "apply") -> None:
    """Write the recommended levels to the row (policy_source = recommendation) and mark `rec` applied.
    A pending high-impact row is 409 APPROVAL_REQUIRED whatever path asked."""
    to = _move(rec, action)
    if rec.status == _R.PENDING and rec.high_impact:
        raise Conflict(APPROVAL_REQUIRED_MESSAGE, code="APPROVAL_REQUIRED")
    row = Inventory.objects.select_for_update(of=("self",)).get(pk=rec.inventory_id)
    before = snapshot(row)
    row.safety_stock = rec.recommended_safety_stock
    row.reorder_point = rec.recommended_reorder_point
    row.max_stock = rec.recommended_max_stock
    row.policy_source = PolicySource.RECOMMENDATION
    row.version += 1
    row.updated_by = actor
    inventory_rules.recompute([row])
    row.save(update_fields=["safety_stock", "reorder_point", "max_stock", "policy_source", "version", "updated_by",
                            "status", "valuation", "days_of_supply", "updated_at"])  # fmt: skip
    audit.record(actor=actor, event_type=events.INVENTORY_POLICY_APPLIED, target=row, before=before,
                 after=snapshot(row), metadata={"recommendation_id": rec.pk, "applied_via": via})  # fmt: skip
    bus.publish_on_commit(events.INVENTORY_POLICY_APPLIED, inventory_id=row.pk, recommendation_id=rec.pk)
    if rec.status == _R.PENDING:
        rec.accepted_by, rec.accepted_at = actor, now
    rec.status = to
    rec.applied_by, rec.applied_at, rec.applied_via = actor, now, via
    rec.decided_by, rec.decided_at = actor, now
    if notes:
        rec.decision_notes = notes


_REC_AUDIT = ["status", "recommended_safety_stock", "recommended_reorder_point", "recommended_max_stock",
              "impact_pct", "high_impact", "confidence_score", "decision_notes", "generated_by", "accepted_by",
              "decided_by", "applied_by", "applied_via"]  # fmt: skip


def _save(actor, rec, before: dict, event: str, extra: dict | None = None) -> InventoryPolicyRecommendation:
    rec.save()
    audit.record(actor=actor, event_type=event, target=rec, before=before, after=snapshot(rec, _REC_AUDIT),
                 related=rec.inventory, metadata=extra or {})  # fmt: skip
    bus.publish_on_commit(event, recommendation_id=rec.pk, inventory_id=rec.inventory_id)
    return rec


@transaction.atomic
def policy_recommendation_approve(*, actor, recommendation, notes: str = "") -> InventoryPolicyRecommendation:
    """API-INV-13: pending → accepted. ACC-05: the generator of a high-impact row cannot approve it
    (403 SELF_APPROVAL_FORBIDDEN) unless ENFORCE_SEGREGATION_OF_DUTIES is false (audit `self_approved`)."""
    require_perm(actor, perms.CHANGE_POLICY_RECOMMENDATION, recommendation.inventory)
    rec = _lock(recommendation)
    before = snapshot(rec, _REC_AUDIT)
    extra = _accept(actor, rec, (notes or "").strip(), timezone.now())
    return _save(actor, rec, before, events.RECOMMENDATION_APPROVED, extra)


@transaction.atomic
def policy_recommendation_decide(*, actor, recommendation, decision: str, apply_changes: bool = True,
                                 notes: str = "") -> InventoryPolicyRecommendation:  # fmt: skip
    """API-INV-12 (WF-60): `rejected` from pending or accepted; `accepted` without apply as approve;
    `accepted` with apply: accepted → applied, or pending → applied when not high-impact (409
    APPROVAL_REQUIRED otherwise). Applied and rejected are terminal (409 INVALID_STATE_TRANSITION)."""
    require_perm(actor, perms.CHANGE_POLICY_RECOMMENDATION, recommendation.inventory)
    if decision not in (_R.ACCEPTED, _R.REJECTED):
        raise ValidationFailed(fields={"decision": ["One of accepted, rejected."]})
    rec = _lock(recommendation)
    before = snapshot(rec, _REC_AUDIT)
    notes, now = (notes or "").strip(), timezone.now()
    if decision == _R.REJECTED:
        rec.status = _move(rec, "reject")
        rec.decided_by, rec.decided_at = actor, now
        if notes:
            rec.decision_notes = notes
        return _save(actor, rec, before, events.RECOMMENDATION_REJECTED)
    if not apply_changes:
        extra = _accept(actor, rec, notes, now)
        return _save(actor, rec, before, events.RECOMMENDATION_APPROVED, extra)
    _apply(actor, rec, via=AppliedVia.MANUAL, notes=notes, now=now)
    return _save(actor, rec, before, events.RECOMMENDATION_APPLIED, {"applied_via": AppliedVia.MANUAL})


def _rec_scope(actor, *, product_id=None, location=None) -> list[Inventory]:
    rows = Inventory.objects.for_user(actor, "change")
    if product_id:
        rows = rows.filter(product_id=product_id)
    if location:
        rows = rows.filter(location__code=location)
    return list(rows.select_related("product", "location").order_by("pk"))


@transaction.atomic
def policy_recommendation_generate(*, actor, product_id=None, location=None, min_confidence=Decimal("0.55"),
                                   max_items: int = 100, enforce_quality_gate: bool = True,
                                   min_quality_score=Decimal("0.60")) -> list:  # fmt: skip
    """API-INV-10 (FRM-08/09) over the rows in the actor's change scope: at most `max_items` rows with
    confidence ≥ `min_confidence` (and quality ≥ `min_quality_score` when the gate is on), highest
    confidence first. A row's pending recommendation is updated in place (its generator becomes the
    actor); otherwise a new pending one is created. Needs add_inventorypolicyrecommendation."""
    require_perm(actor, perms.ADD_POLICY_RECOMMENDATION)
    min_confidence, min_quality = _d(min_confidence), _d(min_quality_score)
    rows = _rec_scope(actor, product_id=product_id, location=location)
    today, now = timezone.localdate(), timezone.now()
    demand = inventory_rules.product_daily_demand({r.product_id for r in rows}, today=today)
    quality = _quality(rows, demand, now)
    lead_times = _lead_times(rows, RUN_DEFAULTS["lead_time_days"])
    candidates = []
    for r in rows:
        levels = recommendation_levels(
            on_hand=r.on_hand_qty, allocated=r.allocated_qty, in_transit=r.in_transit_qty,
            safety_stock=r.safety_stock, reorder_point=r.reorder_point, max_stock=r.max_stock, status=r.status,
            lead_time=lead_times[r.pk],
        )  # fmt: skip
        q = quality[r.pk]
        if levels["confidence_score"] < min_confidence:
            continue
        if enforce_quality_gate and q["overall_score"] < min_quality:
            continue
        candidates.append((r, levels, q))
    candidates.sort(key=lambda c: (-c[1]["confidence_score"], c[0].pk))
    candidates = candidates[: max(int(max_items), 0)]
    pending = {
        rec.inventory_id: rec
        for rec in InventoryPolicyRecommendation.objects.select_for_update().filter(
            inventory_id__in=[c[0].pk for c in candidates], status=_R.PENDING
        )
    }
    out, entries = [], []
    for r, levels, q in candidates:
        rec = pending.get(r.pk)
        before = snapshot(rec, _REC_AUDIT) if rec else None
        rec = rec or InventoryPolicyRecommendation(inventory=r)
        for name in ("recommended_safety_stock", "recommended_reorder_point", "recommended_max_stock",
                     "confidence_score", "impact_pct", "high_impact"):  # fmt: skip
            setattr(rec, name, levels[name])
        rec.current_safety_stock, rec.current_reorder_point, rec.current_max_stock = (
            r.safety_stock,
            r.reorder_point,
            r.max_stock,
        )
        rec.signals = {
            "demand_pressure": float(levels["demand_pressure"]), "inventory_status": r.status,
            "lead_time_days": float(lead_times[r.pk]), "on_hand_qty": float(r.on_hand_qty),
            "allocated_qty": float(r.allocated_qty), "in_transit_qty": float(r.in_transit_qty),
            "quality_score": float(q["overall_score"]), "quality_tier": q["quality_tier"],
        }  # fmt: skip
        rec.rationale = (
            f"Demand pressure {levels['demand_pressure']:.2f} with {r.status} stock: uplift "
            f"{levels['uplift_pct']}% on safety stock, reorder point and max."
        )
        rec.generated_by = actor
        rec.save()
        entries.append({"actor": actor, "target": rec, "before": before, "after": snapshot(rec, _REC_AUDIT),
                        "event_type": events.RECOMMENDATION_REGENERATED if before else events.RECOMMENDATION_GENERATED,
                        "related": r})  # fmt: skip
        out.append(rec)
    audit.record_many(entries)
    if out:
        bus.publish_on_commit(events.RECOMMENDATION_GENERATED, recommendation_ids=[rec.pk for rec in out])
    return out


def _auto_skip_reason(rec, *, min_confidence, max_pressure, min_quality) -> str | None:
    signals = rec.signals or {}
    if rec.high_impact and rec.status == _R.PENDING:
        return "high_impact_requires_approval"
    if rec.confidence_score < min_confidence:
        return "confidence_below_minimum"
    pressure = signals.get("demand_pressure")
    if pressure is None or Decimal(str(pressure)) > max_pressure:
        return "demand_pressure_above_maximum"
    quality = signals.get("quality_score")
    if quality is None or Decimal(str(quality)) < min_quality:
        return "quality_below_minimum"
    return None


@transaction.atomic
def policy_recommendation_auto_apply(*, actor, min_confidence=Decimal("0.80"), max_demand_pressure=Decimal("1.20"),
                                     max_items: int = 100, min_quality_score=Decimal("0.60"),
                                     dry_run: bool = False) -> dict:  # fmt: skip
    """API-INV-14 (FRM-13): apply the eligible pending and accepted recommendations in the actor's change
    scope, highest confidence first, at most `max_items`. A pending high-impact row is never eligible
    (maker-checker). `dry_run` reports what would be applied and writes nothing (applied_count 0)."""
    require_perm(actor, perms.CHANGE_POLICY_RECOMMENDATION)
    min_confidence, max_pressure, min_quality = _d(min_confidence), _d(max_demand_pressure), _d(min_quality_score)
    recs = list(
        InventoryPolicyRecommendation.objects.for_user(actor, "change")
        .filter(status__in=(_R.PENDING, _R.ACCEPTED))
        .select_related("inventory__product", "inventory__location")
        .order_by("-confidence_score", "pk")
    )
    eligible, skipped = [], []
    for rec in recs:
        reason = _auto_skip_reason(rec, min_confidence=min_confidence, max_pressure=max_pressure,
                                   min_quality=min_quality)  # fmt: skip
        (skipped.append({"id": rec.pk, "reason": reason}) if reason else eligible.append(rec))
    chosen = eligible[: max(int(max_items), 0)]
    skipped += [{"id": rec.pk, "reason": "max_items_reached"} for rec in eligible[len(chosen) :]]
    applied = 0
    if not dry_run:
        now = timezone.now()
        for rec in chosen:
            rec = _lock(rec)
            before = snapshot(rec, _REC_AUDIT)
            _apply(actor, rec, via=AppliedVia.AUTO, notes=AUTO_NOTE, now=now, action="auto_apply")
            _save(actor, rec, before, events.RECOMMENDATION_APPLIED, {"applied_via": AppliedVia.AUTO})
            applied += 1
    return {"eligible_count": len(eligible), "applied_count": applied, "skipped_count": len(skipped),
            "recommendation_ids": [rec.pk for rec in chosen], "skipped": skipped, "dry_run": bool(dry_run)}  # fmt: skip
