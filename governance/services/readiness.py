"""Publish readiness, the Go/No-Go evaluation of a lane (GOV-60, GOV-61, GOV-62).

`readiness_evaluate` computes the lane's horizon, runs the ten must-pass gates and the four
scored checks over the current plan rows in scope, and stores the result as a ReadinessEvaluation
(never updated afterwards). A dry run (API-GOV-10) needs `governance.add_readinessevaluation`;
the publish service calls it with `dry_run=False` inside its own transaction, after it has
checked its own permission and locked the rows, and passes the fingerprint the user saw as
`expected_fingerprint` so that a changed plan set fails `version_stamping`.

Every gate is a handful of aggregate queries over the whole company: publishing is not scoped.
The snapshot checksum of a publication (GOV-65) is defined here, once, as
`publication_snapshot_sha256`, because `rollback_ready` and the publish service must agree on it.
"""

import datetime
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from forecasting.series import add_months, last_closed_month
from genxsop import context
from genxsop.errors import Conflict, NotFound, ValidationFailed
from genxsop.services import require_perm, to_json_value
from governance import audit, events
from governance.choices import CycleStatus, EvaluationOutcome, Lane, PublicationStatus, StepStatus
from governance.models import (
    Publication,
    PublicationItem,
    PublishPolicy,
    ReadinessEvaluation,
    SopCycle,
    SopCycleStep,
)
from governance.permissions import ADD_READINESS_EVALUATION

__all__ = [
    "EVIDENCE_LIMIT",
    "Horizon",
    "evaluation_as_dict",
    "evaluation_get",
    "freeze_window_contains",
    "in_any_current_freeze_window",
    "lane_horizon",
    "plan_fingerprint",
    "plans_in_scope",
    "policy_as_dict",
    "publication_item_canonical",
    "publication_items_sha256",
    "publication_snapshot_sha256",
    "readiness_evaluate",
    "readiness_evaluate_lanes",
]

ADD_EVALUATION = ADD_READINESS_EVALUATION
EVIDENCE_LIMIT = 50  # offending keys listed per gate (GOV-61); counts are always complete
SECTION_DATA = "Data integrity"
SECTION_GOVERNANCE = "Governance"
SECTION_SAFETY = "Safety"
SECTIONS = (SECTION_DATA, SECTION_GOVERNANCE, SECTION_SAFETY)
CLEARED_STEPS = (StepStatus.COMPLETED, StepStatus.SKIPPED)
POLICY_FIELDS = (
    "lane",
    "horizon_unit",
    "horizon_min",
    "horizon_max",
    "freeze_days",
    "freeze_months",
    "required_score",
    "mape_threshold_pct",
    "bias_threshold_pct",
    "accuracy_lag",
    "accuracy_window_months",
    "inventory_max_age_hours",
    "inventory_freshness_min_pct",
    "actuals_coverage_min_pct",
    "is_active",
)
# Fields of a published item's `values` that are not plan quantities and so are not compared by the freeze gate.
_NOT_COMPARED = {"status", "version", "locked_at", "locked_by_publication", "locked_by_publication_id", "is_current"}


def _planning_today() -> datetime.date:
    return timezone.now().astimezone(ZoneInfo(settings.PLANNING_TIME_ZONE)).date()


def _month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _month_end(day: datetime.date) -> datetime.date:
    return add_months(day, 1) - datetime.timedelta(days=1)


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    periods, current = [], _month(start)
    while current <= end:
        periods.append(current)
        current = add_months(current, 1)
    return periods


def _iso(day) -> str | None:
    return day.isoformat() if day is not None else None


# Horizons (GOV-60) ----------------------------------------------------------------------------------------------


@dataclass
class Horizon:
    lane: str
    period_from: datetime.date
    period_to: datetime.date
    freeze_periods: list[datetime.date]
    long_enough: bool
    periods: list[datetime.date]
    today: datetime.date | None = None
    sop_cycle: SopCycle | None = field(default=None, repr=False)
    detail: str = ""

    def as_dict(self) -> dict:
        return {
            "lane": self.lane,
            "period_from": _iso(self.period_from),
            "period_to": _iso(self.period_to),
            "periods": [_iso(p) for p in self.periods],
            "freeze_periods": [_iso(p) for p in self.freeze_periods],
            "long_enough": self.long_enough,
            "today": _iso(self.today),
        }


def _active_cycle() -> SopCycle | None:
    from governance.services.cycles import cycle_active  # late: the cycle service reads plans too

    return cycle_active()


def _last_plan_period(start: datetime.date, end: datetime.date) -> datetime.date | None:
    from planning.models import DemandPlan, SupplyPlan

    window = {"is_current": True, "period__gte": start, "period__lte": end}
    found = [
        model.objects.filter(**window).order_by("-period").values_list("period", flat=True).first()
        for model in (DemandPlan, SupplyPlan)
    ]
    found = [p for p in found if p is not None]
    return max(found) if found else None


def lane_horizon(policy: PublishPolicy, *, today=None, period_from=None, sop_cycle=None) -> Horizon:
    """GOV-60: the periods a lane publishes, its freeze window and whether it is long enough."""
    today = today or _planning_today()
    if policy.lane == Lane.WEEKLY:
        start = _month(today)
        end = _month(today + datetime.timedelta(days=7 * policy.horizon_max))
        periods = _months(start, end)
        freeze_end = today + datetime.timedelta(days=policy.freeze_days)
        freeze = [p for p in periods if p <= freeze_end and _month_end(p) >= today]
        long_enough = _month_end(end) >= today + datetime.timedelta(days=7 * policy.horizon_min)
        detail = f"{len(periods)} month(s) covering {7 * policy.horizon_min} days is required"
        return Horizon(Lane.WEEKLY, start, end, freeze, long_enough, periods, today, sop_cycle, detail)
    if period_from is not None:
        start = _month(period_from)
    elif sop_cycle is not None:
        start = _month(sop_cycle.period)
    else:
        active = _active_cycle()
        start = _month(active.period) if active is not None else _month(today)
        sop_cycle = sop_cycle or active
    latest = add_months(start, policy.horizon_max - 1)
    last = _last_plan_period(start, latest)
    end = last if last is not None else start
    periods = _months(start, end)
    freeze = periods[: policy.freeze_months]
    long_enough = last is not None and len(periods) >= policy.horizon_min
    detail = f"{len(periods) if last else 0} period(s) with plan rows, at least {policy.horizon_min} required"
    return Horizon(Lane.MONTHLY, start, end, freeze, long_enough, periods, today, sop_cycle, detail)


def plans_in_scope(horizon: Horizon) -> tuple[QuerySet, QuerySet]:
    """The current demand and supply rows of the horizon, company-wide, by id."""
    from planning.models import DemandPlan, SupplyPlan

    window = {"is_current": True, "period__gte": horizon.period_from, "period__lte": horizon.period_to}
    return DemandPlan.objects.filter(**window).order_by("id"), SupplyPlan.objects.filter(**window).order_by("id")


def _id_versions(rows) -> list[tuple[int, int]]:
    if isinstance(rows, QuerySet):
        return list(rows.order_by().values_list("id", "version"))
    return [(row.id, row.version) for row in rows]


def plan_fingerprint(demand_rows, supply_rows) -> str:
    """SHA-256 over the sorted (plan_type, id, version) set (GOV-15); querysets are read as values only."""
    keys = sorted(
        [("demand", pk, version) for pk, version in _id_versions(demand_rows)]
        + [("supply", pk, version) for pk, version in _id_versions(supply_rows)]
    )
    text = "\n".join(f"{kind}:{pk}:{version}" for kind, pk, version in keys)
    return hashlib.sha256(text.encode()).hexdigest()


# Publication snapshot checksum (GOV-65) --------------------------------------------------------------------------


def publication_item_canonical(item) -> dict:
    """The canonical form of one PublicationItem (saved or not) that the snapshot checksum covers."""
    return {
        "plan_type": item.plan_type,
        "plan_id": int(item.plan_id),
        "plan_version": int(item.plan_version),
        "product_id": item.product_id,
        "period": _iso(item.period) if not isinstance(item.period, str) else item.period,
        "region": item.region or "",
        "channel": item.channel or "",
        "location_id": item.location_id,
        "values": item.values,
    }


def publication_snapshot_sha256(items_values: list[dict]) -> str:
    """GOV-65: SHA-256 of the items' canonical JSON (sorted keys, items sorted by plan type and id).

    `items_values` are the dicts of `publication_item_canonical`; dates and decimals are written as
    ISO strings and decimal strings, so the checksum of items read back from the database equals
    the one computed before they were saved.
    """
    ordered = sorted(items_values, key=lambda item: (item["plan_type"], int(item["plan_id"])))
    text = json.dumps(ordered, sort_keys=True, separators=(",", ":"), default=to_json_value, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def publication_items_sha256(items) -> str:
    return publication_snapshot_sha256([publication_item_canonical(item) for item in items])


# Gates (GOV-61) ------------------------------------------------------------------------------------------------


def _gate(name, section, passed, detail, *, overridable=True, count=0, keys=None, **counts) -> dict:
    keys = keys or []
    evidence = {"count": count, **counts, "keys": keys[:EVIDENCE_LIMIT]}
    return {"gate": name, "section": section, "passed": bool(passed), "overridable": overridable,
            "detail": detail, "evidence": evidence}  # fmt: skip


def _pct_of(part: int, total: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(total)).quantize(Decimal("0.01")) if total else Decimal("0.00")


class _Context:
    """What every gate reads, loaded once per evaluation with aggregate queries."""

    def __init__(self, policy: PublishPolicy, horizon: Horizon, now: datetime.datetime):
        from planning.models import Product

        self.policy, self.horizon, self.now = policy, horizon, now
        self.today = horizon.today
        self.demand_qs, self.supply_qs = plans_in_scope(horizon)
        self.demand = list(
            self.demand_qs.order_by("id").values_list(
                "id",
                "version",
                "status",
                "product_id",
                "period",
                "consensus_qty",
                "adjusted_qty",
                "forecast_qty",
                "locked_by_publication_id",
            )
        )
        self.supply = list(
            self.supply_qs.order_by("id").values_list(
                "id",
                "version",
                "status",
                "product_id",
                "period",
                "planned_prod_qty",
                "capacity_max",
                "locked_by_publication_id",
                "location_id",
            )
        )
        product_ids = {row[3] for row in self.demand} | {row[3] for row in self.supply}
        self.products = {
            p["id"]: p
            for p in Product.objects.filter(Q(pk__in=product_ids) | Q(status="active"))
            .order_by()
            .values(
                "id",
                "sku",
                "status",
                "category_id",
                "unit_of_measure",
                "unit_cost",
                "selling_price",
                "lead_time_days",
                "abc_class",
            )
        }
        self.fingerprint = plan_fingerprint(
            [_Row(r[0], r[1]) for r in self.demand], [_Row(r[0], r[1]) for r in self.supply]
        )
        self.current_publication = (
            Publication.objects.filter(lane=horizon.lane, status=PublicationStatus.PUBLISHED).order_by("-pk").first()
        )

    def sku(self, product_id) -> str:
        product = self.products.get(product_id)
        return product["sku"] if product else str(product_id)

    def active_ids(self) -> set[int]:
        return {pk for pk, p in self.products.items() if p["status"] == "active"}


@dataclass
class _Row:
    id: int
    version: int


def _gate_product_master(ctx: _Context) -> dict:
    in_scope = {row[3] for row in ctx.demand} | {row[3] for row in ctx.supply}
    keys = []
    for pk in sorted(in_scope, key=ctx.sku):
        p = ctx.products.get(pk)
        if p is None or p["status"] != "active":
            continue
        missing = [
            name
            for name, bad in (
                ("category", p["category_id"] is None),
                ("unit_of_measure", not (p["unit_of_measure"] or "").strip()),
                ("unit_cost", p["unit_cost"] is None),
                ("selling_price", p["selling_price"] is None),
                ("lead_time_days", not p["lead_time_days"]),
            )
            if bad
        ]
        if missing:
            keys.append({"sku": p["sku"], "product_id": pk, "missing": ", ".join(missing)})
    checked = len([pk for pk in in_scope if ctx.products.get(pk, {}).get("status") == "active"])
    detail = (f"{len(keys)} of {checked} active product(s) in scope miss master data" if keys
              else f"{checked} active product(s) in scope have complete master data")  # fmt: skip
    return _gate("product_master_complete", SECTION_DATA, not keys, detail, count=len(keys), keys=keys,
                 checked=checked)  # fmt: skip


def _gate_inventory_fresh(ctx: _Context) -> dict:
    from planning.models import Inventory

    cutoff = ctx.now - datetime.timedelta(hours=ctx.policy.inventory_max_age_hours)
    rows = Inventory.objects.filter(product__status="active")
    totals = rows.aggregate(total=Count("pk"), fresh=Count("pk", filter=Q(snapshot_at__gte=cutoff)))
    total, fresh = totals["total"], totals["fresh"]
    share = _pct_of(fresh, total)
    threshold = ctx.policy.inventory_freshness_min_pct
    stale = list(
        rows.filter(Q(snapshot_at__lt=cutoff) | Q(snapshot_at__isnull=True))
        .order_by("product__sku", "location__code")
        .values("product__sku", "location__code", "snapshot_at")[:EVIDENCE_LIMIT]
    )
    keys = [{"sku": r["product__sku"], "location": r["location__code"],
             "snapshot_at": to_json_value(r["snapshot_at"])} for r in stale]  # fmt: skip
    passed = total > 0 and share >= threshold
    if total == 0:
        detail = "No inventory rows of active products to check"
    else:
        detail = (f"{share}% of {total} inventory rows snapshotted within {ctx.policy.inventory_max_age_hours} h "
                  f"(minimum {threshold}%)")  # fmt: skip
    return _gate("inventory_snapshot_current", SECTION_DATA, passed, detail, count=total - fresh, keys=keys,
                 total=total, fresh=fresh, share_pct=str(share), threshold_pct=str(threshold))  # fmt: skip


def _gate_actuals(ctx: _Context) -> dict:
    from planning.models import DemandPlan

    closed = last_closed_month(ctx.today)
    per_product = list(
        DemandPlan.objects.filter(is_current=True, period=closed, product__status="active")
        .order_by()
        .values("product_id", "product__sku")
        .annotate(n=Count("pk"), n_actual=Count("pk", filter=Q(actual_qty__isnull=False)))
    )
    total = len(per_product)
    missing = sorted((r for r in per_product if r["n_actual"] < r["n"]), key=lambda r: r["product__sku"])
    covered = total - len(missing)
    share = _pct_of(covered, total)
    threshold = ctx.policy.actuals_coverage_min_pct
    keys = [{"sku": r["product__sku"], "period": _iso(closed), "rows_without_actual": r["n"] - r["n_actual"]}
            for r in missing]  # fmt: skip
    passed = total > 0 and share >= threshold
    detail = (f"{share}% of {total} active products have actuals for {closed:%Y-%m} (minimum {threshold}%)"
              if total else f"No current demand rows of active products for {closed:%Y-%m}")  # fmt: skip
    return _gate("demand_actuals_current", SECTION_DATA, passed, detail, count=len(missing), keys=keys,
                 total=total, covered=covered, period=_iso(closed), share_pct=str(share),
                 threshold_pct=str(threshold))  # fmt: skip


def _gate_calendar(ctx: _Context) -> dict:
    h = ctx.horizon
    active = ctx.active_ids()
    present = {(row[3], row[4]) for row in ctx.demand}
    demand_qty: dict = defaultdict(Decimal)
    for row in ctx.demand:
        qty = next((q for q in (row[5], row[6], row[7]) if q is not None), Decimal(0))
        demand_qty[(row[3], row[4])] += qty
    supplied = {(row[3], row[4]) for row in ctx.supply}
    keys = []
    missing_demand = 0
    for pk in sorted(active, key=ctx.sku):
        for period in h.periods:
            if (pk, period) not in present:
                missing_demand += 1
                keys.append({"sku": ctx.sku(pk), "period": _iso(period), "missing": "demand"})
    missing_supply = 0
    for (pk, period), qty in sorted(demand_qty.items(), key=lambda kv: (ctx.sku(kv[0][0]), kv[0][1])):
        if qty > 0 and (pk, period) not in supplied:
            missing_supply += 1
            keys.append({"sku": ctx.sku(pk), "period": _iso(period), "missing": "supply"})
    problems = []
    if not h.long_enough:
        problems.append(f"the horizon is too short ({h.detail})")
    if missing_demand:
        problems.append(f"{missing_demand} active product-period(s) have no current demand row")
    if missing_supply:
        problems.append(f"{missing_supply} product-period(s) with demand have no current supply row")
    detail = ("; ".join(problems).capitalize() if problems
              else f"{len(h.periods)} period(s) aligned for {len(active)} active product(s)")  # fmt: skip
    return _gate("calendar_alignment", SECTION_DATA, not problems, detail, count=missing_demand + missing_supply,
                 keys=keys, long_enough=h.long_enough, periods=len(h.periods), missing_demand=missing_demand,
                 missing_supply=missing_supply)  # fmt: skip


def _gate_approved(ctx: _Context) -> dict:
    ok = ("approved", "locked")
    keys, by_status = [], defaultdict(int)
    for kind, rows in (("demand", ctx.demand), ("supply", ctx.supply)):
        for row in rows:
            if row[2] not in ok:
                by_status[row[2]] += 1
                keys.append({"plan_type": kind, "plan_id": row[0], "sku": ctx.sku(row[3]), "period": _iso(row[4]),
                             "status": row[2]})  # fmt: skip
    total = len(ctx.demand) + len(ctx.supply)
    if keys:
        detail = f"{len(keys)} of {total} plan row(s) in scope are not approved or locked"
    elif total:
        detail = f"All {total} plan row(s) in scope are approved or locked"
    else:
        detail = "No plan rows in scope"
    return _gate("plans_approved", SECTION_GOVERNANCE, bool(total) and not keys, detail, count=len(keys),
                 keys=keys, total=total, by_status=dict(sorted(by_status.items())))  # fmt: skip


def _scenario_period(ctx: _Context) -> datetime.date:
    return ctx.horizon.period_from if ctx.horizon.lane == Lane.MONTHLY else _month(ctx.today)


def _operating_scenario(period):
    from planning.models import Scenario

    return Scenario.objects.filter(period=period, is_operating_plan=True, status="approved").order_by("pk").first()


def _gate_scenario(ctx: _Context) -> dict:
    period = _scenario_period(ctx)
    scenario = _operating_scenario(period)
    if scenario is None:
        return _gate("operating_plan_scenario", SECTION_GOVERNANCE, False,
                     f"No approved operating-plan scenario for {period:%Y-%m}", count=1,
                     keys=[{"period": _iso(period)}])  # fmt: skip
    return _gate("operating_plan_scenario", SECTION_GOVERNANCE, True,
                 f"Operating plan for {period:%Y-%m}: {scenario.name}",
                 scenario_id=scenario.pk, period=_iso(period))  # fmt: skip


def _gate_steps(ctx: _Context) -> dict:
    h = ctx.horizon
    if h.lane == Lane.MONTHLY:
        cycle = h.sop_cycle if h.sop_cycle is not None and h.sop_cycle.period == h.period_from else None
        period, required = h.period_from, (1, 2, 3, 4)
    else:
        cycle, period, required = None, _month(ctx.today), (1, 2, 3)
    if cycle is None:
        cycle = (
            SopCycle.objects.filter(period=period).exclude(overall_status=CycleStatus.CANCELLED).order_by("-pk").first()
        )
    name = "sop_step_gates"
    if cycle is None:
        return _gate(name, SECTION_GOVERNANCE, False, f"No S&OP cycle for {period:%Y-%m}", count=1,
                     keys=[{"period": _iso(period)}])  # fmt: skip
    if cycle.overall_status == CycleStatus.COMPLETED:
        return _gate(name, SECTION_GOVERNANCE, True, f"{cycle.cycle_name} is completed", cycle_id=cycle.pk)
    if cycle.overall_status != CycleStatus.ACTIVE:
        return _gate(name, SECTION_GOVERNANCE, False, f"{cycle.cycle_name} is {cycle.overall_status}", count=1,
                     keys=[{"cycle_id": cycle.pk, "status": cycle.overall_status}], cycle_id=cycle.pk)  # fmt: skip
    steps = dict(SopCycleStep.objects.filter(cycle=cycle).values_list("step_number", "status"))
    open_steps = [n for n in required if steps.get(n) not in CLEARED_STEPS]
    keys = [{"cycle_id": cycle.pk, "step": n, "status": steps.get(n, "missing")} for n in open_steps]
    problems = []
    if open_steps:
        problems.append(f"step(s) {', '.join(map(str, open_steps))} not completed or skipped")
    if h.lane == Lane.MONTHLY and cycle.current_step != 5:
        problems.append(f"the cycle is at step {cycle.current_step}, not 5")
    detail = (f"{cycle.cycle_name}: " + "; ".join(problems)) if problems else (
        f"{cycle.cycle_name}: steps {required[0]}-{required[-1]} cleared")  # fmt: skip
    return _gate(name, SECTION_GOVERNANCE, not problems, detail, count=len(keys), keys=keys, cycle_id=cycle.pk,
                 current_step=cycle.current_step)  # fmt: skip


def _same(published, live) -> bool:
    if published is None or live is None:
        return published is None and live is None
    try:
        return Decimal(str(published)) == Decimal(str(live))
    except (InvalidOperation, ValueError):
        return str(published) == str(to_json_value(live))


def _plan_models():
    from planning.models import DemandPlan, SupplyPlan

    return {"demand": DemandPlan, "supply": SupplyPlan}


def _gate_freeze(ctx: _Context) -> dict:
    name, h, pub = "freeze_window_respected", ctx.horizon, ctx.current_publication
    if pub is None:
        return _gate(name, SECTION_SAFETY, True, "The lane has no current publication")
    if not h.freeze_periods:
        return _gate(name, SECTION_SAFETY, True, "The lane has no freeze window", publication=pub.version_stamp)
    items = list(
        PublicationItem.objects.filter(publication=pub, period__in=h.freeze_periods)
        .order_by("plan_type", "plan_id")
        .values_list("plan_type", "plan_id", "plan_version", "period", "product__sku", "values")
    )
    models = _plan_models()
    live: dict = {}
    for kind, model in models.items():
        ids = [i[1] for i in items if i[0] == kind]
        fields = {f.name for f in model._meta.concrete_fields}
        wanted = sorted({k for i in items if i[0] == kind for k in (i[5] or {})} & fields - _NOT_COMPARED)
        for row in model.objects.filter(pk__in=ids).values("id", "is_current", *wanted):
            live[(kind, row["id"])] = row
    keys = []
    for kind, plan_id, _version, period, sku, values in items:
        row = live.get((kind, plan_id))
        if row is None:
            keys.append({"plan_type": kind, "plan_id": plan_id, "sku": sku, "period": _iso(period),
                         "fields": "(deleted)"})  # fmt: skip
            continue
        changed = sorted(k for k, v in (values or {}).items() if k in row and k not in _NOT_COMPARED
                         and not _same(v, row[k]))  # fmt: skip
        if changed or not row["is_current"]:
            keys.append({"plan_type": kind, "plan_id": plan_id, "sku": sku, "period": _iso(period),
                         "fields": ", ".join(changed) or "(not current)"})  # fmt: skip
    window = ", ".join(f"{p:%Y-%m}" for p in h.freeze_periods)
    detail = (
        f"{len(keys)} of {len(items)} published row(s) in the freeze window ({window}) changed since "
        f"{pub.version_stamp}"
        if keys
        else f"{len(items)} published row(s) in the freeze window ({window}) unchanged since {pub.version_stamp}"
    )
    return _gate(name, SECTION_SAFETY, not keys, detail, count=len(keys), keys=keys, checked=len(items),
                 publication=pub.version_stamp)  # fmt: skip


def _gate_version(ctx: _Context, expected_fingerprint: str | None) -> dict:
    name = "version_stamping"
    keys, problems = [], []
    models = _plan_models()
    for kind, rows in (("demand", ctx.demand), ("supply", ctx.supply)):
        model = models[kind]
        key_fields = ("product_id", "period", "region", "channel") if kind == "demand" else (
            "product_id", "period", "location_id")  # fmt: skip
        duplicates = list(
            model.objects.filter(
                is_current=True, period__gte=ctx.horizon.period_from, period__lte=ctx.horizon.period_to
            )
            .order_by()
            .values(*key_fields)
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
        )
        for dup in duplicates:
            keys.append({"plan_type": kind, "sku": ctx.sku(dup["product_id"]), "period": _iso(dup["period"]),
                         "problem": f"{dup['n']} current rows for one key"})  # fmt: skip
        unstamped = [row for row in rows if row[2] == "locked" and row[-2 if kind == "supply" else -1] is None]
        for row in unstamped:
            keys.append({"plan_type": kind, "plan_id": row[0], "sku": ctx.sku(row[3]), "period": _iso(row[4]),
                         "problem": "locked without a publication"})  # fmt: skip
    if keys:
        problems.append(f"{len(keys)} row(s) in scope are not a single stamped current version")
    stale = expected_fingerprint is not None and expected_fingerprint != ctx.fingerprint
    if stale:
        problems.append("the plans in scope changed since the evaluation the publication was based on")
    detail = (
        "; ".join(problems).capitalize()
        if problems
        else (f"{len(ctx.demand) + len(ctx.supply)} current row(s) in scope, fingerprint {ctx.fingerprint[:12]}")
    )
    return _gate(name, SECTION_SAFETY, not problems, detail, overridable=False, count=len(keys) + int(stale),
                 keys=keys, fingerprint=ctx.fingerprint, expected_fingerprint=expected_fingerprint,
                 stale=stale)  # fmt: skip


def _gate_rollback(ctx: _Context) -> dict:
    name, pub = "rollback_ready", ctx.current_publication
    if pub is None:
        return _gate(name, SECTION_SAFETY, True, "The lane has no current publication to roll back to",
                     overridable=False)  # fmt: skip
    items = list(PublicationItem.objects.filter(publication=pub).order_by("plan_type", "plan_id"))
    checksum = publication_items_sha256(items)
    problems = []
    if len(items) != pub.item_count:
        problems.append(f"{len(items)} item(s) stored, {pub.item_count} published")
    if checksum != pub.snapshot_sha256:
        problems.append("the snapshot checksum does not match")
    detail = (f"{pub.version_stamp}: " + "; ".join(problems)) if problems else (
        f"{pub.version_stamp}: {len(items)} item(s), checksum verified")  # fmt: skip
    keys = [{"publication": pub.version_stamp, "publication_id": pub.pk}] if problems else []
    return _gate(name, SECTION_SAFETY, not problems, detail, overridable=False, count=len(problems), keys=keys,
                 items=len(items), item_count=pub.item_count, sha256=checksum,
                 snapshot_sha256=pub.snapshot_sha256)  # fmt: skip


# Scored checks (GOV-62) ----------------------------------------------------------------------------------------


def _check(name, passed, value, threshold, detail, *, keys=None, **extra) -> dict:
    return {"check": name, "passed": bool(passed), "value": value, "threshold": threshold, "detail": detail,
            **extra, "keys": (keys or [])[:EVIDENCE_LIMIT]}  # fmt: skip


def _accuracy_points(ctx: _Context) -> dict:
    """Per A-class product: the chosen layer's points (consensus where it exists, else statistical)."""
    from forecasting.choices import AccuracyLayer
    from forecasting.models import ForecastAccuracyPoint

    policy = ctx.policy
    last = last_closed_month(ctx.today)
    first = add_months(last, -(policy.accuracy_window_months - 1))
    rows = (
        ForecastAccuracyPoint.objects.filter(
            product__abc_class="A",
            lag=policy.accuracy_lag,
            period__gte=first,
            period__lte=last,
            layer__in=[AccuracyLayer.CONSENSUS, AccuracyLayer.STATISTICAL],
        )
        .order_by()
        .values("product_id", "product__sku", "layer")
        .annotate(n=Count("pk"), mape=Avg("ape"), error=Sum("error"), actual=Sum("actual_qty"))
    )
    chosen: dict = {}
    for row in rows:
        if row["layer"] == AccuracyLayer.CONSENSUS or row["product_id"] not in chosen:
            chosen[row["product_id"]] = row
    return {"first": first, "last": last,
            "products": {pk: r for pk, r in chosen.items() if r["n"] >= 3}}  # fmt: skip


def _check_accuracy(ctx: _Context, points: dict) -> dict:
    threshold = str(ctx.policy.mape_threshold_pct)
    window = f"{points['first']:%Y-%m}-{points['last']:%Y-%m}, lag {ctx.policy.accuracy_lag}"
    rated = [r for r in points["products"].values() if r["mape"] is not None]
    if not rated:
        return _check("accuracy", False, None, threshold, "insufficient accuracy history", products=0)
    value = (sum(Decimal(str(r["mape"])) for r in rated) / len(rated)).quantize(Decimal("0.01"))
    passed = value <= ctx.policy.mape_threshold_pct
    worst = sorted(rated, key=lambda r: -float(r["mape"]))[:EVIDENCE_LIMIT]
    return _check("accuracy", passed, str(value), threshold,
                  f"Mean MAPE {value}% over {len(rated)} A-class product(s) ({window})", products=len(rated),
                  keys=[{"sku": r["product__sku"], "layer": r["layer"], "points": r["n"],
                         "mape": str(Decimal(str(r["mape"])).quantize(Decimal("0.01")))} for r in worst])  # fmt: skip


def _check_bias(ctx: _Context, points: dict) -> dict:
    threshold = str(ctx.policy.bias_threshold_pct)
    rows = list(points["products"].values())
    actual = sum((Decimal(r["actual"] or 0) for r in rows), Decimal(0))
    if not rows or not actual:
        return _check("bias", False, None, threshold, "insufficient accuracy history", products=len(rows))
    error = sum((Decimal(r["error"] or 0) for r in rows), Decimal(0))
    value = (error / actual * 100).quantize(Decimal("0.01"))
    passed = abs(value) <= ctx.policy.bias_threshold_pct
    direction = "over-forecast" if value > 0 else "under-forecast" if value < 0 else "unbiased"
    return _check("bias", passed, str(value), threshold,
                  f"Volume-weighted bias {value}% ({direction}) over {len(rows)} A-class product(s)",
                  products=len(rows))  # fmt: skip


def _critical_gaps(ctx: _Context) -> list[dict]:
    """FRM-02 company-wide over the horizon: the product-periods whose coverage gap status is critical."""
    from planning.choices import GapStatus
    from planning.models import Inventory
    from planning.selectors.supply import _gap_status, _pct, _q2

    demand: dict = defaultdict(Decimal)
    for row in ctx.demand:
        demand[(row[3], row[4])] += next((q for q in (row[5], row[6], row[7]) if q is not None), Decimal(0))
    planned: dict = defaultdict(Decimal)
    for row in ctx.supply:
        planned[(row[3], row[4])] += row[5] or 0
    available: dict = defaultdict(Decimal)
    product_ids = {pk for pk, _ in demand}
    for product_id, on_hand, allocated, in_transit in (
        Inventory.objects.filter(product_id__in=product_ids)
        .order_by()
        .values_list("product_id", "on_hand_qty", "allocated_qty", "in_transit_qty")
    ):
        available[product_id] += max(Decimal(0), on_hand - allocated + in_transit)
    critical = []
    for (pk, period), qty in demand.items():
        demand_qty = _q2(qty)
        coverage = _q2(planned[(pk, period)]) + _q2(available[pk]) - demand_qty
        pct = _pct(coverage, demand_qty)
        if _gap_status(pct) == GapStatus.CRITICAL:
            critical.append({"sku": ctx.sku(pk), "period": _iso(period), "coverage_gap_pct": str(pct)})
    critical.sort(key=lambda r: (r["period"], Decimal(r["coverage_gap_pct"]), r["sku"]))
    return critical


def _check_supply(ctx: _Context) -> dict:
    critical = _critical_gaps(ctx)
    freeze = set(ctx.horizon.freeze_periods)
    overloaded = []
    for row in ctx.supply:
        planned_qty, capacity = row[5], row[6]
        if row[4] in freeze and planned_qty is not None and capacity:
            load = (Decimal(planned_qty) / Decimal(capacity) * 100).quantize(Decimal("0.01"))
            if load > 100:
                overloaded.append({"plan_type": "supply", "plan_id": row[0], "sku": ctx.sku(row[3]),
                                   "period": _iso(row[4]), "load_pct": str(load)})  # fmt: skip
    value = len(critical) + len(overloaded)
    detail = (f"{len(critical)} critical gap(s) in the horizon, {len(overloaded)} overloaded supply row(s) in the "
              "freeze window")  # fmt: skip
    return _check("supply_feasibility", value == 0, value, 0, detail, critical_gaps=len(critical),
                  overloaded=len(overloaded), keys=(critical + overloaded)[:EVIDENCE_LIMIT])  # fmt: skip


def _check_inventory(ctx: _Context) -> dict:
    from planning.choices import EXCEPTION_ACTIVE_STATUSES
    from planning.models import Inventory, InventoryPolicyException

    covered = InventoryPolicyException.objects.filter(
        status__in=EXCEPTION_ACTIVE_STATUSES, owner__isnull=False, due_date__isnull=False
    ).values("inventory_id")
    uncovered = list(
        Inventory.objects.filter(status="critical")
        .exclude(pk__in=covered)
        .order_by("product__sku", "location__code")
        .values("pk", "product__sku", "location__code")
    )
    overdue = list(
        InventoryPolicyException.objects.filter(
            status__in=EXCEPTION_ACTIVE_STATUSES,
            severity="high",
            exception_type="stockout_risk",
            due_date__lt=ctx.today,
        )
        .order_by("due_date", "pk")
        .values("pk", "inventory__product__sku", "inventory__location__code", "due_date", "owner_id")
    )
    keys = [{"sku": r["product__sku"], "location": r["location__code"], "inventory_id": r["pk"],
             "problem": "critical without an owned exception"} for r in uncovered]  # fmt: skip
    keys += [{"sku": r["inventory__product__sku"], "location": r["inventory__location__code"],
              "exception_id": r["pk"], "due_date": _iso(r["due_date"]), "problem": "overdue stockout risk"}
             for r in overdue]  # fmt: skip
    value = len(uncovered) + len(overdue)
    detail = (f"{len(uncovered)} critical inventory row(s) without an owned exception, {len(overdue)} overdue "
              "high-severity stockout risk(s)")  # fmt: skip
    return _check("inventory_risk", value == 0, value, 0, detail, uncovered_critical=len(uncovered),
                  overdue=len(overdue), keys=keys[:EVIDENCE_LIMIT])  # fmt: skip


# Evaluation ----------------------------------------------------------------------------------------------------


def policy_as_dict(policy: PublishPolicy) -> dict:
    data = {name: to_json_value(getattr(policy, name)) for name in POLICY_FIELDS}
    data["updated_at"] = to_json_value(policy.updated_at)
    data["updated_by"] = policy.updated_by_id
    return data


def _policy(lane: str) -> PublishPolicy:
    if lane not in Lane.values:
        raise ValidationFailed(fields={"lane": [f"Unknown lane {lane!r}; use {', '.join(Lane.values)}."]})
    policy = PublishPolicy.objects.filter(lane=lane).first()
    if policy is None:
        raise NotFound(f"No publish policy for the {lane} lane.")
    return policy


def _evaluate(policy, horizon, *, now, expected_fingerprint) -> tuple[list[dict], list[dict], _Context]:
    ctx = _Context(policy, horizon, now)
    must_pass = [
        _gate_product_master(ctx),
        _gate_inventory_fresh(ctx),
        _gate_actuals(ctx),
        _gate_calendar(ctx),
        _gate_approved(ctx),
        _gate_scenario(ctx),
        _gate_steps(ctx),
        _gate_freeze(ctx),
        _gate_version(ctx, expected_fingerprint),
        _gate_rollback(ctx),
    ]
    points = _accuracy_points(ctx)
    scored = [_check_accuracy(ctx, points), _check_bias(ctx, points), _check_supply(ctx), _check_inventory(ctx)]
    return must_pass, scored, ctx


def readiness_evaluate(
    *,
    actor,
    lane,
    period_from=None,
    sop_cycle=None,
    dry_run=True,
    request_id=None,
    expected_fingerprint: str | None = None,
    today: datetime.date | None = None,
) -> ReadinessEvaluation:
    """GOV-61/62: evaluate one lane now and store the evaluation (audited `governance.readiness.evaluated`).

    `expected_fingerprint` is the fingerprint of the evaluation a publish request named; when the
    plans in scope no longer match it, the non-overridable `version_stamping` gate fails.
    """
    if dry_run:
        require_perm(actor, ADD_EVALUATION)
    policy = _policy(lane)
    if not policy.is_active:
        raise Conflict(f"The {lane} lane is not active.")
    horizon = lane_horizon(policy, today=today, period_from=period_from, sop_cycle=sop_cycle)
    now = timezone.now()
    with transaction.atomic():
        must_pass, scored, ctx = _evaluate(policy, horizon, now=now, expected_fingerprint=expected_fingerprint)
        score = sum(1 for c in scored if c["passed"])
        go = all(g["passed"] for g in must_pass) and score >= policy.required_score
        evaluation = ReadinessEvaluation.objects.create(
            lane=policy.lane,
            period_from=horizon.period_from,
            period_to=horizon.period_to,
            sop_cycle=horizon.sop_cycle,
            outcome=EvaluationOutcome.GO if go else EvaluationOutcome.NO_GO,
            score=score,
            required_score=policy.required_score,
            must_pass=must_pass,
            scored=scored,
            policy_snapshot={**policy_as_dict(policy), "horizon": horizon.as_dict()},
            plan_fingerprint=ctx.fingerprint,
            plan_counts=_plan_counts(ctx),
            evaluated_by=actor if getattr(actor, "pk", None) else None,
            request_id=_request_id(request_id),
            dry_run=dry_run,
        )
        failed = [g["gate"] for g in must_pass if not g["passed"]]
        audit.record(
            actor=actor,
            event_type=events.READINESS_EVALUATED,
            target=evaluation,
            after={
                "evaluation_id": str(evaluation.evaluation_id),
                "lane": evaluation.lane,
                "outcome": evaluation.outcome,
                "score": score,
                "required_score": policy.required_score,
                "failed_gates": failed,
                "dry_run": dry_run,
                "plan_fingerprint": ctx.fingerprint,
                "period_from": _iso(horizon.period_from),
                "period_to": _iso(horizon.period_to),
            },
        )
    return evaluation


def _request_id(given: str | None) -> str:
    value = given if given is not None else context.request_id()
    return "" if not value or value == "-" else value[:128]


def _plan_counts(ctx: _Context) -> dict:
    counts: dict = {"demand": len(ctx.demand), "supply": len(ctx.supply), "total": len(ctx.demand) + len(ctx.supply)}
    for kind, rows in (("demand", ctx.demand), ("supply", ctx.supply)):
        by_status: dict = defaultdict(int)
        for row in rows:
            by_status[row[2]] += 1
        counts[f"{kind}_by_status"] = dict(sorted(by_status.items()))
    counts["products"] = len({row[3] for row in ctx.demand} | {row[3] for row in ctx.supply})
    counts["periods"] = len(ctx.horizon.periods)
    return counts


def readiness_evaluate_lanes(*, actor, lane="both", period_from=None, sop_cycle=None) -> dict:
    """API-GOV-10: dry-run evaluations of one or both lanes and the overall result."""
    if lane not in (*Lane.values, "both"):
        raise ValidationFailed(fields={"lane": ["Use weekly, monthly or both."]})
    require_perm(actor, ADD_EVALUATION)
    lanes = list(Lane.values) if lane == "both" else [lane]
    if lane == "both":
        active = set(PublishPolicy.objects.filter(is_active=True).values_list("lane", flat=True))
        lanes = [name for name in lanes if name in active]
        if not lanes:
            raise Conflict("No publish lane is active.")
    evaluations = [
        readiness_evaluate(actor=actor, lane=name, period_from=period_from, sop_cycle=sop_cycle, dry_run=True)
        for name in lanes
    ]
    go = {e.lane for e in evaluations if e.outcome == EvaluationOutcome.GO}
    if go == {Lane.WEEKLY, Lane.MONTHLY}:
        overall = "go_both"
    elif go == {Lane.WEEKLY}:
        overall = "go_weekly_only"
    elif go == {Lane.MONTHLY}:
        overall = "go_monthly_only"
    else:
        overall = "no_go"
    return {"overall": overall, "evaluations": evaluations}


def evaluation_get(evaluation_id) -> ReadinessEvaluation:
    try:
        return ReadinessEvaluation.objects.select_related("evaluated_by", "sop_cycle").get(evaluation_id=evaluation_id)
    except (ReadinessEvaluation.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise NotFound("Readiness evaluation not found.") from None


def _sections(must_pass: list[dict]) -> list[dict]:
    return [{"section": name, "gates": [g for g in must_pass if g.get("section") == name]} for name in SECTIONS]


def evaluation_as_dict(evaluation: ReadinessEvaluation) -> dict:
    """GOV-15 as the API and error `context` show it."""
    user = evaluation.evaluated_by
    return {
        "id": evaluation.pk,
        "evaluation_id": str(evaluation.evaluation_id),
        "lane": evaluation.lane,
        "period_from": _iso(evaluation.period_from),
        "period_to": _iso(evaluation.period_to),
        "sop_cycle_id": evaluation.sop_cycle_id,
        "outcome": evaluation.outcome,
        "score": evaluation.score,
        "required_score": evaluation.required_score,
        "must_pass": evaluation.must_pass,
        "scored": evaluation.scored,
        "failed_gates": [g["gate"] for g in evaluation.must_pass if not g["passed"]],
        "non_overridable_failed": [g["gate"] for g in evaluation.must_pass if not g["passed"] and not g["overridable"]],
        "policy_snapshot": evaluation.policy_snapshot,
        "plan_fingerprint": evaluation.plan_fingerprint,
        "plan_counts": evaluation.plan_counts,
        "evaluated_by": user.pk if user else None,
        "evaluated_by_name": (getattr(user, "full_name", "") or getattr(user, "email", "")) if user else "",
        "request_id": evaluation.request_id,
        "dry_run": evaluation.dry_run,
        "created_at": to_json_value(evaluation.created_at),
    }


# Freeze windows (WF-10, GOV-51) --------------------------------------------------------------------------------


def freeze_window_contains(plan) -> bool:
    """Whether a locked plan's period lies in the freeze window of the lane of the publication that locked it."""
    publication_id = getattr(plan, "locked_by_publication_id", None)
    if publication_id is None:
        return False
    publication = Publication.objects.filter(pk=publication_id).only("lane", "period_from").first()
    if publication is None:
        return False
    policy = PublishPolicy.objects.filter(lane=publication.lane).first()
    if policy is None:
        return False
    period_from = publication.period_from if publication.lane == Lane.MONTHLY else None
    return _month(plan.period) in _freeze_periods(policy, period_from=period_from)


def _freeze_periods(policy: PublishPolicy, *, period_from=None) -> list[datetime.date]:
    today = _planning_today()
    if policy.lane == Lane.WEEKLY:
        return lane_horizon(policy, today=today).freeze_periods
    if period_from is None:
        active = _active_cycle()
        period_from = active.period if active is not None else today
    start = _month(period_from)
    # The freeze window is the first periods from period_from, whatever the truncation of the horizon.
    return [add_months(start, i) for i in range(policy.freeze_months)]


def in_any_current_freeze_window(period) -> bool:
    """GOV-51: whether `period` lies in the freeze window of a current publication (at most one per lane).
    Without a current publication nothing is frozen: there is no published value to protect."""
    month = _month(period)
    policies = {p.lane: p for p in PublishPolicy.objects.all()}
    for publication in Publication.objects.filter(status=PublicationStatus.PUBLISHED).only("lane", "period_from"):
        policy = policies.get(publication.lane)
        period_from = publication.period_from if publication.lane == Lane.MONTHLY else None
        if policy is not None and month in _freeze_periods(policy, period_from=period_from):
            return True
    return False
