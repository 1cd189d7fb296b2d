"""Scenarios (PLN-11, WF-30, FRM-30/31): what-if simulations of one period and the operating plan.

A scenario only ever reads the live plans, stock and exceptions: editing or running it never
writes a demand plan, supply plan or inventory row (copy-on-write: the figures are kept in the
scenario's `results`). Writers (FC_W) create, edit, run, submit, reopen, clone and delete;
approvers (APPR) approve, reject and designate the one operating-plan scenario of a period.
Every service checks the permission, locks the row, re-checks SCENARIO_TRANSITIONS, writes and
records `planning.scenario.<past-tense>` as its last write, then publishes the event on commit.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from genxsop.errors import (
    Conflict,
    InUse,
    InvalidStateTransition,
    PermissionDenied,
    SelfApprovalForbidden,
    ValidationFailed,
)
from genxsop.scoping import object_scope
from genxsop.services import require_perm, snapshot, validate_instance
from governance import audit, bus
from governance.choices import CommentKind, NotificationKind
from governance.services.comments import comment_record
from governance.services.notifications import notification_create_many
from planning import events
from planning import permissions as perms
from planning.choices import (
    EXCEPTION_ACTIVE_STATUSES,
    SCENARIO_TRANSITIONS,
    SCENARIO_TYPE_ALIASES,
    ExceptionSeverity,
    ScenarioStatus,
    ScenarioType,
)
from planning.models import (
    Category,
    DemandPlan,
    Inventory,
    InventoryPolicyException,
    Location,
    Scenario,
    SupplyPlan,
)

PERIOD_MIN = datetime.date(2000, 1, 1)
PERIOD_MAX = datetime.date(2100, 12, 1)
DEFAULT_REJECTION_COMMENT = "Rejected"
NO_RESULTS_MESSAGE = "Scenario has no computed results yet. Run the scenario first."
COPY_SUFFIX = " (copy)"

# FRM-30: parameter -> (minimum, maximum or None, default). The penalty's default depends on the data.
PARAMETERS: dict[str, tuple[Decimal, Decimal | None, Decimal | None]] = {
    "demand_change_pct": (Decimal(-100), Decimal(500), Decimal(0)),
    "supply_capacity_pct": (Decimal(-100), Decimal(500), Decimal(0)),
    "price_change_pct": (Decimal(-100), Decimal(500), Decimal(0)),
    "inventory_release_pct": (Decimal(-100), Decimal(100), Decimal(0)),
    "inventory_carry_rate_pct": (Decimal(0), Decimal(100), Decimal(18)),
    "stockout_penalty_per_unit": (Decimal(0), None, None),
    "service_weight": (Decimal(0), Decimal(1), Decimal("0.45")),
    "cost_weight": (Decimal(0), Decimal(1), Decimal("0.30")),
    "cash_weight": (Decimal(0), Decimal(1), Decimal("0.25")),
}
PARAMETER_LABELS = {
    "demand_change_pct": "Demand change %",
    "supply_capacity_pct": "Supply capacity change %",
    "price_change_pct": "Price change %",
    "inventory_release_pct": "Inventory release %",
    "inventory_carry_rate_pct": "Inventory carry rate %",
    "stockout_penalty_per_unit": "Stockout penalty per unit",
    "service_weight": "Service weight",
    "cost_weight": "Cost weight",
    "cash_weight": "Cash weight",
}
SCOPE_KEYS = ("category_ids", "location_codes")

_PAST = {
    "create": "created", "edit": "updated", "delete": "deleted", "run": "run", "submit": "submitted",
    "approve": "approved", "reject": "rejected", "reopen": "reopened",
    "designate_operating_plan": "designated_operating_plan", "undesignate": "undesignated_operating_plan",
    "clone": "cloned",
}  # fmt: skip
_EVENTS = {
    "create": events.SCENARIO_CREATED, "edit": events.SCENARIO_UPDATED, "delete": events.SCENARIO_DELETED,
    "run": events.SCENARIO_RUN, "submit": events.SCENARIO_SUBMITTED, "approve": events.SCENARIO_APPROVED,
    "reject": events.SCENARIO_REJECTED, "reopen": events.SCENARIO_REOPENED,
    "designate_operating_plan": events.SCENARIO_DESIGNATED, "undesignate": events.SCENARIO_UNDESIGNATED,
    "clone": events.SCENARIO_CLONED,
}  # fmt: skip
_PERMS = {
    "edit": perms.CHANGE_SCENARIO, "run": perms.RUN_SCENARIO, "submit": perms.RUN_SCENARIO,
    "approve": perms.APPROVE_SCENARIO, "reject": perms.APPROVE_SCENARIO, "reopen": perms.RUN_SCENARIO,
    "designate_operating_plan": perms.APPROVE_SCENARIO, "undesignate": perms.APPROVE_SCENARIO,
    "clone": perms.RUN_SCENARIO, "delete": perms.DELETE_SCENARIO,
}  # fmt: skip
_RESULT_FIELDS = ["results", "revenue_impact", "margin_impact", "inventory_impact", "service_level_impact"]
_RUN_FIELDS = ["run_by", "run_at", "base_publication", "base_demand_version", "base_supply_version"]
_STATUS_FIELDS = [
    "status", "is_operating_plan", "submitted_by", "submitted_at", "approved_by", "approved_at", "rejected_by",
    "rejected_at",
]  # fmt: skip
_AUDIT_FIELDS = [
    "name", "description", "scenario_type", "period", "parameters", "scope", *_STATUS_FIELDS[:2],
    "revenue_impact", "margin_impact", "inventory_impact", "service_level_impact", "run_by", "run_at",
    "base_publication", "submitted_by", "approved_by", "rejected_by", "cloned_from",
]  # fmt: skip
CENT = Decimal("0.01")


# Parameters and scope ------------------------------------------------------------------------


def _number(value, name: str) -> Decimal:
    if isinstance(value, bool):
        raise ValidationFailed(fields={f"parameters.{name}": ["A number is required."]})
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={f"parameters.{name}": ["A number is required."]}) from None
    if not number.is_finite():
        raise ValidationFailed(fields={f"parameters.{name}": ["A number is required."]})
    return number


def _json_number(value: Decimal):
    """A JSON number: an int when whole, else a float (parameters and results are JSON objects)."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def period_parse(value, field: str = "parameters.period") -> datetime.date:
    """`YYYY-MM` or `YYYY-MM-DD` (or a date) -> the first of that month, 2000-01…2100-12 (CNV-01)."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        text = str(value or "").strip()
        try:
            value = datetime.date.fromisoformat(text if len(text) > 7 else f"{text}-01")
        except ValueError:
            raise ValidationFailed(fields={field: ["Give the period as YYYY-MM or YYYY-MM-DD."]}) from None
    period = value.replace(day=1)
    if not PERIOD_MIN <= period <= PERIOD_MAX:
        raise ValidationFailed(fields={field: ["Periods lie between 2000-01 and 2100-12."]})
    return period


def parameters_validate(raw) -> tuple[dict, datetime.date | None]:
    """FRM-30: the known keys with values in range (400 otherwise), as JSON numbers, and the period."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationFailed(fields={"parameters": ["An object of FRM-30 parameters is required."]})
    unknown = sorted(set(raw) - set(PARAMETERS) - {"period"})
    if unknown:
        known = ", ".join(["period", *PARAMETERS])
        raise ValidationFailed(fields={"parameters": [f"Unknown parameter(s) {', '.join(unknown)}; known: {known}."]})
    clean: dict = {}
    period = None
    if raw.get("period") not in (None, ""):
        period = period_parse(raw["period"])
    for name, (low, high, _default) in PARAMETERS.items():
        if raw.get(name) in (None, ""):
            continue
        value = _number(raw[name], name)
        if value < low or (high is not None and value > high):
            bound = f"between {_json_number(low)} and {_json_number(high)}" if high is not None else f"≥ {low}"
            raise ValidationFailed(fields={f"parameters.{name}": [f"{PARAMETER_LABELS[name]} must be {bound}."]})
        clean[name] = _json_number(value)
    return clean, period


def scenario_type_normalise(value) -> str:
    """PLN-11: a type or one of its input aliases; anything else is 400."""
    text = str(value or ScenarioType.WHAT_IF).strip().lower()
    text = SCENARIO_TYPE_ALIASES.get(text, text)
    if text not in ScenarioType.values:
        choices = ", ".join([*ScenarioType.values, *SCENARIO_TYPE_ALIASES])
        raise ValidationFailed(fields={"scenario_type": [f"Unknown scenario type {value!r}; one of {choices}."]})
    return str(text)


def scope_validate(raw) -> dict:
    """PLN-11 scope `{category_ids, location_codes}`: existing categories and locations, sorted and
    de-duplicated; an empty scope is `{}` (company-wide)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValidationFailed(fields={"scope": ["An object {category_ids, location_codes} is required."]})
    unknown = sorted(set(raw) - set(SCOPE_KEYS))
    if unknown:
        raise ValidationFailed(fields={"scope": [f"Unknown key(s) {', '.join(unknown)}."]})
    ids, codes = raw.get("category_ids") or [], raw.get("location_codes") or []
    if not isinstance(ids, list) or not isinstance(codes, list):
        raise ValidationFailed(fields={"scope": ["category_ids and location_codes are lists."]})
    try:
        ids = sorted({int(v) for v in ids if not isinstance(v, bool)} | set())
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"scope.category_ids": ["Category ids are integers."]}) from None
    codes = sorted({str(c).strip() for c in codes if str(c).strip()})
    missing = sorted(set(ids) - set(Category.objects.filter(pk__in=ids).values_list("pk", flat=True)))
    if missing:
        raise ValidationFailed(fields={"scope.category_ids": [f"Unknown categories: {', '.join(map(str, missing))}."]})
    found = set(Location.objects.filter(code__in=codes).values_list("code", flat=True))
    if set(codes) - found:
        raise ValidationFailed(
            fields={"scope.location_codes": [f"Unknown locations: {', '.join(sorted(set(codes) - found))}."]}
        )
    out = {}
    if ids:
        out["category_ids"] = ids
    if codes:
        out["location_codes"] = codes
    return out


def _subtree_ids(category_ids) -> set[int]:
    if not category_ids:
        return set()
    return set(
        Category.objects.filter(
            Q(pk__in=category_ids) | Q(parent_id__in=category_ids) | Q(parent__parent_id__in=category_ids)
        ).values_list("pk", flat=True)
    )


def _location_ids(codes) -> set[int]:
    return set(Location.objects.filter(code__in=codes or []).values_list("pk", flat=True)) if codes else set()


def scope_within_user(user, scope: dict, *, change: bool) -> bool:
    """ACC-13: whether a scenario scope lies within the user's object scope. An unscoped user covers
    every scope; a scoped user covers only scopes restricted at least as tightly as their own."""
    user_scope = object_scope(user)
    if user_scope.unrestricted:
        return True
    categories = user_scope.category_ids(change=change)
    if categories is not None:
        wanted = _subtree_ids(scope.get("category_ids"))
        if not wanted or not wanted <= set(categories):
            return False
    locations = user_scope.location_ids(change=change)
    if locations is not None:
        wanted = _location_ids(scope.get("location_codes"))
        if not wanted or not wanted <= set(locations):
            return False
    return True


def _user_default_scope(user) -> dict:
    """The scope a scoped creator gets when they name none: their own change scope."""
    user_scope = object_scope(user)
    if user_scope.unrestricted:
        return {}
    out = {}
    categories = user_scope.category_ids(change=True)
    if categories is not None:
        out["category_ids"] = sorted(categories)
    locations = user_scope.location_ids(change=True)
    if locations is not None:
        out["location_codes"] = sorted(Location.objects.filter(pk__in=locations).values_list("code", flat=True))
    return out


def _require_scope(user, scope: dict, verb: str) -> None:
    if not scope_within_user(user, scope, change=True):
        if not scope:
            raise PermissionDenied(f"Only users without an object scope may {verb} a company-wide scenario.")
        raise PermissionDenied(f"The scenario's scope lies outside your own; you cannot {verb} it.")


# FRM-30 / FRM-31 -----------------------------------------------------------------------------


def _rows(user, scope: dict, period: datetime.date):
    """The current rows FRM-30 reads: the scenario scope intersected with the caller's read scope."""
    demand = DemandPlan.objects.scope_for(user, "view") if user is not None else DemandPlan.objects.all()
    supply = SupplyPlan.objects.scope_for(user, "view") if user is not None else SupplyPlan.objects.all()
    stock = Inventory.objects.scope_for(user, "view") if user is not None else Inventory.objects.all()
    exceptions = (InventoryPolicyException.objects.scope_for(user, "view") if user is not None
                  else InventoryPolicyException.objects.all())  # fmt: skip
    categories = _subtree_ids(scope.get("category_ids"))
    locations = _location_ids(scope.get("location_codes"))
    if scope.get("category_ids"):
        demand = demand.filter(product__category_id__in=categories)
        supply = supply.filter(product__category_id__in=categories)
        stock = stock.filter(product__category_id__in=categories)
        exceptions = exceptions.filter(inventory__product__category_id__in=categories)
    if scope.get("location_codes"):
        supply = supply.filter(location_id__in=locations)
        stock = stock.filter(location_id__in=locations)
        exceptions = exceptions.filter(inventory__location_id__in=locations)
    demand = demand.filter(is_current=True, period=period)
    supply = supply.filter(is_current=True, period=period)
    return demand, supply, stock, exceptions.filter(status__in=EXCEPTION_ACTIVE_STATUSES)


def default_period(*, user=None, scope: dict | None = None) -> datetime.date:
    """FRM-30: the latest period with current demand rows (in scope), else the current month."""
    from planning.selectors.supply import planning_today

    demand = DemandPlan.objects.scope_for(user, "view") if user is not None else DemandPlan.objects.all()
    if scope and scope.get("category_ids"):
        demand = demand.filter(product__category_id__in=_subtree_ids(scope["category_ids"]))
    latest = demand.filter(is_current=True).order_by("-period").values_list("period", flat=True).first()
    return latest or planning_today().replace(day=1)


def _q(value: Decimal) -> float:
    return _json_number(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _service(effective: Decimal, demand: Decimal) -> Decimal:
    return Decimal(100) if demand == 0 else min(Decimal(100), effective / demand * 100)


def scenario_simulate(*, user, period: datetime.date, parameters: dict, scope: dict) -> dict:
    """FRM-30/31 over the current rows of `period` in `scope` (and the user's read scope). Pure: reads only.

    Returns the documented `results` object; money, quantities and percentages rounded to 2 dp
    after the whole computation (the impacts come from the unrounded figures).
    """
    parameters, _ = parameters_validate({k: v for k, v in (parameters or {}).items() if k != "period"})
    demand_rows, supply_rows, stock_rows, exception_rows = _rows(user, scope or {}, period)

    demand = revenue = cost = Decimal(0)
    demand_count = 0
    for consensus, adjusted, forecast, price, unit_cost in demand_rows.values_list(
        "consensus_qty", "adjusted_qty", "forecast_qty", "product__selling_price", "product__unit_cost"
    ):
        qty = consensus if consensus is not None else adjusted if adjusted is not None else forecast  # FRM-01
        qty = Decimal(qty or 0)
        demand += qty
        revenue += qty * Decimal(price or 0)
        cost += qty * Decimal(unit_cost or 0)
        demand_count += 1
    margin = revenue - cost
    avg_price = revenue / demand if demand else Decimal(0)
    avg_cost = cost / demand if demand else Decimal(0)

    supply = Decimal(0)
    supply_count = 0
    for planned in supply_rows.values_list("planned_prod_qty", flat=True):
        supply += Decimal(planned or 0)
        supply_count += 1
    available = valuation = Decimal(0)
    stock_count = 0
    for on_hand, allocated, in_transit, value in stock_rows.values_list(
        "on_hand_qty", "allocated_qty", "in_transit_qty", "valuation"
    ):
        available += max(Decimal(0), Decimal(on_hand) - Decimal(allocated) + Decimal(in_transit))
        valuation += Decimal(value or 0)
        stock_count += 1
    effective = supply + available
    value = valuation if valuation > 0 else available * avg_cost
    service = _service(effective, demand)

    def p(name):
        given = parameters.get(name)
        return Decimal(str(given)) if given is not None else PARAMETERS[name][2]

    d, s, price_pct, r = p("demand_change_pct"), p("supply_capacity_pct"), p("price_change_pct"), p(
        "inventory_release_pct")  # fmt: skip
    carry = p("inventory_carry_rate_pct")
    penalty = p("stockout_penalty_per_unit")
    if penalty is None:
        penalty = avg_price * Decimal("0.25") if avg_price > 0 else Decimal(1)
    weights = {k: p(k) for k in ("service_weight", "cost_weight", "cash_weight")}

    demand2 = demand * (1 + d / 100)
    supply2 = supply * (1 + s / 100)
    available2 = available * (1 + r / 100)
    effective2 = supply2 + available2
    price2 = avg_price * (1 + price_pct / 100)
    revenue2 = demand2 * price2
    margin2 = demand2 * (price2 - avg_cost)
    value2 = max(Decimal(0), value + (effective2 - demand2) * avg_cost)
    service2 = _service(effective2, demand2)

    shortage = max(Decimal(0), demand2 - effective2)
    excess = max(Decimal(0), effective2 - demand2)
    carrying = excess * avg_cost * carry / 100
    stockout = shortage * penalty
    wc_delta = value2 - value
    service_score = service2 - service
    cost_score = -(carrying + stockout) / 1000
    cash_score = -wc_delta / 1000
    composite = (weights["service_weight"] * service_score + weights["cost_weight"] * cost_score
                 + weights["cash_weight"] * cash_score)  # fmt: skip
    severities = list(exception_rows.values_list("severity", flat=True))

    inputs = {"period": period.isoformat()}
    for name in PARAMETERS:
        inputs[name] = _q(p(name)) if name != "stockout_penalty_per_unit" else _q(penalty)
    inputs["stockout_penalty_defaulted"] = "stockout_penalty_per_unit" not in parameters

    def block(dq, sq, aq, eq, rev, mar, val, svc):
        return {"demand_qty": _q(dq), "supply_qty": _q(sq), "inventory_available_qty": _q(aq),
                "effective_supply_qty": _q(eq), "revenue": _q(rev), "margin": _q(mar), "inventory_value": _q(val),
                "service_level": _q(svc)}  # fmt: skip

    return {
        "period": period.isoformat(),
        "inputs": inputs,
        "baseline": block(demand, supply, available, effective, revenue, margin, value, service),
        "scenario": block(demand2, supply2, available2, effective2, revenue2, margin2, value2, service2),
        "data_points": {
            "demand_plan_count": demand_count,
            "supply_plan_count": supply_count,
            "inventory_record_count": stock_count,
        },
        "revenue_impact": _q(revenue2 - revenue),
        "margin_impact": _q(margin2 - margin),
        "inventory_impact": _q(value2 - value),
        "service_level_impact": _q(service2 - service),
        "capacity_utilization_change": _q(s),
        "tradeoff": {
            "inventory_carrying_cost": _q(carrying),
            "stockout_penalty_cost": _q(stockout),
            "working_capital_delta": _q(wc_delta),
            "service_score": _q(service_score),
            "cost_score": _q(cost_score),
            "cash_score": _q(cash_score),
            "composite_score": _q(composite),
            "open_inventory_exceptions": len(severities),
            "high_risk_exception_count": sum(1 for v in severities if v == ExceptionSeverity.HIGH),
            "medium_risk_exception_count": sum(1 for v in severities if v == ExceptionSeverity.MEDIUM),
        },
    }


# Reads used by other apps ---------------------------------------------------------------------


def operating_plan_scenario(period: datetime.date) -> Scenario | None:
    """The approved scenario designated as the operating plan of `period` (at most one), if any."""
    if period is None:
        return None
    return Scenario.objects.filter(period=period.replace(day=1), is_operating_plan=True).first()


def _current_base_publication():
    """The publication in force when a scenario runs: the current monthly one, else the latest published."""
    try:
        from governance.services.publishing import current_publication
    except ImportError:
        current_publication = None
    publication = None
    if current_publication is not None:
        try:
            publication = current_publication("monthly")
        except Exception:
            publication = None
    if publication is None:
        from governance.choices import PublicationStatus
        from governance.models import Publication

        publication = Publication.objects.filter(status=PublicationStatus.PUBLISHED).order_by("-published_at").first()
    return publication


def _publication_sequence(publication) -> int | None:
    if publication is None:
        return None
    from governance.models import Publication

    return Publication.objects.filter(lane=publication.lane, published_at__lte=publication.published_at).count()


def scenario_allowed_actions(*, user, scenario: Scenario) -> list[str]:
    """WF-04 for scenarios: what `user` may do now (role, ACC-13 scope for runs, state, ACC-05).

    Data guards (a publication that references the scenario) are checked when the action is taken.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    actions = []
    status = scenario.status
    for action in ("edit", "run", "submit", "approve", "reject", "reopen", "designate_operating_plan",
                   "undesignate", "clone", "delete"):  # fmt: skip
        if not user.has_perm(_PERMS[action]):
            continue
        if action != "clone" and status not in SCENARIO_TRANSITIONS[action]:
            continue
        if action == "designate_operating_plan" and scenario.is_operating_plan:
            continue
        if action == "undesignate" and not scenario.is_operating_plan:
            continue
        if action == "submit" and not scenario.results:
            continue
        if action == "approve" and settings.ENFORCE_SEGREGATION_OF_DUTIES and scenario.submitted_by_id == user.pk:
            continue
        if action in ("edit", "run", "clone") and not scope_within_user(user, scenario.scope or {}, change=True):
            continue
        actions.append(action)
    return actions


# Writes ----------------------------------------------------------------------------------------


def _lock(scenario: Scenario) -> Scenario:
    return Scenario.objects.select_for_update().get(pk=scenario.pk)


def _transition_validate(scenario: Scenario, action: str, *, user=None) -> str | None:
    moves = SCENARIO_TRANSITIONS[action]
    if scenario.status not in moves:
        context = {
            "current_status": scenario.status,
            "action": action,
            "allowed_actions": scenario_allowed_actions(user=user, scenario=scenario) if user else [],
        }
        if scenario.status == ScenarioStatus.APPROVED and action in ("edit", "delete", "run"):
            raise InvalidStateTransition("Approved scenarios are immutable; clone it to change it.", context=context)
        raise InvalidStateTransition(
            f"A {scenario.get_status_display().lower()} scenario cannot be {_PAST.get(action, action)}.",
            context=context,
        )
    return moves[scenario.status]


def _record(actor, action: str, scenario: Scenario, before: dict | None, *, message: str = "",
            metadata: dict | None = None, entries: list | None = None) -> None:  # fmt: skip
    entry = {"actor": actor, "event_type": _EVENTS[action], "target": scenario, "before": before,
             "after": snapshot(scenario, _AUDIT_FIELDS) if action != "delete" else None, "message": message,
             "metadata": {"action": action, **(metadata or {})}}  # fmt: skip
    audit.record_many([*(entries or []), entry])
    bus.publish_on_commit(_EVENTS[action], scenario_id=scenario.pk)


def _clear_results(scenario: Scenario) -> None:
    scenario.results = None
    scenario.revenue_impact = scenario.margin_impact = scenario.inventory_impact = None
    scenario.service_level_impact = None


def _approvers():
    from governance.choices import Role
    from governance.models import User
    from governance.roles import ROLE_PERMISSIONS

    roles = [Role.ADMIN, *(r for r, p in ROLE_PERMISSIONS.items() if perms.APPROVE_SCENARIO in p)]
    return User.objects.filter(role__in=roles, is_active=True, is_service_account=False).order_by("pk")


@transaction.atomic
def scenario_create(*, actor, data: dict) -> Scenario:
    """WF-30 create (FC_W): a draft. `parameters` (or its alias `assumptions`) are validated per FRM-30
    (400 for an unknown key or a value out of range); `scenario_type` takes the PLN-11 aliases; the scope
    must lie within the creator's (ACC-13, 403), and a scoped creator who names none gets their own."""
    require_perm(actor, perms.ADD_SCENARIO)
    raw = data.get("parameters")
    if raw is None:
        raw = data.get("assumptions")
    parameters, period = parameters_validate(raw)
    scope = scope_validate(data.get("scope")) if data.get("scope") else _user_default_scope(actor)
    _require_scope(actor, scope, "create")
    period = period or default_period(user=actor, scope=scope)
    scenario = Scenario(
        name=(data.get("name") or "").strip(),
        description=data.get("description") or "",
        scenario_type=scenario_type_normalise(data.get("scenario_type")),
        period=period,
        parameters={"period": period.isoformat(), **parameters},
        scope=scope,
        created_by=actor,
        updated_by=actor,
        cloned_from=data.get("cloned_from"),
    )
    validate_instance(scenario, exclude=["created_by", "updated_by", "cloned_from", "base_publication"])
    scenario.save()
    action = "clone" if scenario.cloned_from_id else "create"
    metadata = {"cloned_from": scenario.cloned_from_id} if scenario.cloned_from_id else None
    _record(actor, action, scenario, None, metadata=metadata)
    return scenario


@transaction.atomic
def scenario_update(*, actor, scenario: Scenario, data: dict) -> Scenario:
    """WF-30 edit (FC_W): draft, completed and rejected return to draft; the type changes only in draft
    (409 otherwise); leaving completed or rejected clears the results and impacts. Approved and submitted
    scenarios are 409. An edit that changes nothing writes nothing."""
    require_perm(actor, perms.CHANGE_SCENARIO)
    scenario = _lock(scenario)
    to_status = _transition_validate(scenario, "edit", user=actor)
    _require_scope(actor, scenario.scope or {}, "edit")
    changes: dict = {}
    if "name" in data:
        changes["name"] = (data.get("name") or "").strip()
    if "description" in data:
        changes["description"] = data.get("description") or ""
    if "scenario_type" in data and data["scenario_type"] not in (None, ""):
        new_type = scenario_type_normalise(data["scenario_type"])
        if new_type != scenario.scenario_type and scenario.status != ScenarioStatus.DRAFT:
            raise Conflict("The scenario type can be changed only while the scenario is a draft; reopen it first.",
                           context={"current_status": scenario.status})  # fmt: skip
        changes["scenario_type"] = new_type
    if "scope" in data:
        changes["scope"] = scope_validate(data.get("scope"))
        _require_scope(actor, changes["scope"], "edit")
    raw = data.get("parameters") if "parameters" in data else data.get("assumptions")
    if "parameters" in data or "assumptions" in data:
        parameters, period = parameters_validate(raw)
        period = period or scenario.period or default_period(user=actor, scope=changes.get("scope", scenario.scope))
        changes["parameters"] = {"period": period.isoformat(), **parameters}
        changes["period"] = period
    changed = {k: v for k, v in changes.items() if getattr(scenario, k) != v}
    if not changed:
        return scenario
    before = snapshot(scenario, _AUDIT_FIELDS)
    for key, value in changed.items():
        setattr(scenario, key, value)
    if scenario.status in (ScenarioStatus.COMPLETED, ScenarioStatus.REJECTED):
        _clear_results(scenario)
        scenario.submitted_by = scenario.submitted_at = None
    scenario.status = to_status
    scenario.updated_by = actor
    validate_instance(scenario, exclude=["created_by", "updated_by", "cloned_from", "base_publication", "run_by",
                                         "submitted_by", "approved_by", "rejected_by"])  # fmt: skip
    scenario.save()
    _record(actor, "edit", scenario, before, metadata={"fields": sorted(changed)})
    return scenario


def _referenced_by_publication(scenario: Scenario) -> bool:
    from governance.models import Publication

    return Publication.objects.filter(operating_plan_scenario_id=scenario.pk).exists()


@transaction.atomic
def scenario_delete(*, actor, scenario: Scenario) -> None:
    """WF-30 delete (FC_W): draft or rejected only, and never one a publication refers to (409 IN_USE)."""
    require_perm(actor, perms.DELETE_SCENARIO)
    scenario = _lock(scenario)
    _transition_validate(scenario, "delete", user=actor)
    if _referenced_by_publication(scenario):
        raise InUse("A publication refers to this scenario; it must be kept.")
    before = snapshot(scenario, _AUDIT_FIELDS)
    pk = scenario.pk
    scenario.delete()
    scenario.pk = pk
    _record(actor, "delete", scenario, before)


@transaction.atomic
def scenario_run(*, actor, scenario: Scenario) -> Scenario:
    """WF-30 run (FC_W): FRM-30/31 over the live rows of the scenario's period and scope, stored in
    `results` and the four impact columns, with `run_by/_at` and the publication in force. Draft and
    completed only (409); the scope must lie within the runner's (ACC-13, 403). Reads plans, never writes them."""
    require_perm(actor, perms.RUN_SCENARIO)
    scenario = _lock(scenario)
    to_status = _transition_validate(scenario, "run", user=actor)
    _require_scope(actor, scenario.scope or {}, "run")
    period = scenario.period or default_period(user=actor, scope=scenario.scope)
    results = scenario_simulate(user=actor, period=period, parameters=scenario.parameters, scope=scenario.scope or {})
    before = snapshot(scenario, _AUDIT_FIELDS)
    scenario.period = period
    scenario.results = results
    scenario.revenue_impact = Decimal(str(results["revenue_impact"]))
    scenario.margin_impact = Decimal(str(results["margin_impact"]))
    scenario.inventory_impact = Decimal(str(results["inventory_impact"]))
    scenario.service_level_impact = Decimal(str(results["service_level_impact"]))
    scenario.status = to_status
    scenario.run_by, scenario.run_at = actor, timezone.now()
    publication = _current_base_publication()
    scenario.base_publication = publication
    sequence = _publication_sequence(publication)
    scenario.base_demand_version = scenario.base_supply_version = sequence
    scenario.updated_by = actor
    scenario.save()
    _record(actor, "run", scenario, before, metadata={
        "period": period.isoformat(), "data_points": results["data_points"],
        "composite_score": results["tradeoff"]["composite_score"],
        "base_publication_id": publication.pk if publication is not None else None,
    })  # fmt: skip
    return scenario


@transaction.atomic
def scenario_submit(*, actor, scenario: Scenario, comment: str = "") -> Scenario:
    """WF-30 submit (FC_W): a completed scenario with results goes to the approvers, who are notified."""
    require_perm(actor, perms.RUN_SCENARIO)
    scenario = _lock(scenario)
    to_status = _transition_validate(scenario, "submit", user=actor)
    if not scenario.results:
        raise Conflict("Run the scenario before submitting it.")
    comment = (comment or "").strip()
    before = snapshot(scenario, _AUDIT_FIELDS)
    scenario.status = to_status
    scenario.submitted_by, scenario.submitted_at = actor, timezone.now()
    scenario.rejected_by = scenario.rejected_at = None
    scenario.updated_by = actor
    scenario.save()
    comment_record(actor=actor, target=scenario, kind=CommentKind.COMMENT, content=comment)
    recipients = [u for u in _approvers() if u.pk != actor.pk]
    notification_create_many(
        recipients=recipients, kind=NotificationKind.APPROVAL_REQUEST,
        title=f"Scenario “{scenario.name}” awaits your approval", body=comment, target=scenario,
        url=f"/scenarios/{scenario.pk}/",
    )  # fmt: skip
    _record(actor, "submit", scenario, before, message=comment,
            metadata={"notified": [u.pk for u in recipients]})  # fmt: skip
    return scenario


@transaction.atomic
def scenario_approve(*, actor, scenario: Scenario, comment: str = "") -> Scenario:
    """WF-30 approve (APPR): a submitted scenario becomes approved and immutable. ACC-05: with
    ENFORCE_SEGREGATION_OF_DUTIES the submitter cannot approve it (403 SELF_APPROVAL_FORBIDDEN); without
    it the audit event carries `self_approved: true`. The comment is kept as an approval Comment."""
    require_perm(actor, perms.APPROVE_SCENARIO)
    scenario = _lock(scenario)
    to_status = _transition_validate(scenario, "approve", user=actor)
    extra = {}
    if scenario.submitted_by_id is not None and scenario.submitted_by_id == actor.pk:
        if settings.ENFORCE_SEGREGATION_OF_DUTIES:
            raise SelfApprovalForbidden("The user who submitted a scenario cannot approve it.")
        extra = {"self_approved": True}
    comment = (comment or "").strip()
    before = snapshot(scenario, _AUDIT_FIELDS)
    scenario.status = to_status
    scenario.approved_by, scenario.approved_at = actor, timezone.now()
    scenario.rejected_by = scenario.rejected_at = None
    scenario.updated_by = actor
    scenario.save()
    comment_record(actor=actor, target=scenario, kind=CommentKind.APPROVAL, content=comment)
    _record(actor, "approve", scenario, before, message=comment, metadata=extra)
    return scenario


@transaction.atomic
def scenario_reject(*, actor, scenario: Scenario, comment: str = "") -> Scenario:
    """WF-30 reject (APPR): a submitted scenario is rejected (comment default "Rejected", kept as a
    rejection Comment) and its submitter is notified."""
    require_perm(actor, perms.APPROVE_SCENARIO)
    scenario = _lock(scenario)
    to_status = _transition_validate(scenario, "reject", user=actor)
    comment = (comment or "").strip() or DEFAULT_REJECTION_COMMENT
    before = snapshot(scenario, _AUDIT_FIELDS)
    scenario.status = to_status
    scenario.rejected_by, scenario.rejected_at = actor, timezone.now()
    scenario.updated_by = actor
    scenario.save()
    comment_record(actor=actor, target=scenario, kind=CommentKind.REJECTION, content=comment)
    recipients = [scenario.submitted_by] if scenario.submitted_by_id and scenario.submitted_by_id != actor.pk else []
    notification_create_many(
        recipients=recipients, kind=NotificationKind.APPROVAL_DECISION,
        title=f"Scenario “{scenario.name}” was rejected", body=comment, target=scenario,
        url=f"/scenarios/{scenario.pk}/",
    )  # fmt: skip
    _record(actor, "reject", scenario, before, message=comment, metadata={"notified": [u.pk for u in recipients]})
    return scenario


@transaction.atomic
def scenario_reopen(*, actor, scenario: Scenario, comment: str = "") -> Scenario:
    """WF-30 reopen (FC_W): a rejected scenario returns to draft with its results cleared."""
    require_perm(actor, perms.RUN_SCENARIO)
    scenario = _lock(scenario)
    to_status = _transition_validate(scenario, "reopen", user=actor)
    comment = (comment or "").strip()
    before = snapshot(scenario, _AUDIT_FIELDS)
    _clear_results(scenario)
    scenario.status = to_status
    scenario.submitted_by = scenario.submitted_at = None
    scenario.run_by = scenario.run_at = None
    scenario.updated_by = actor
    scenario.save()
    comment_record(actor=actor, target=scenario, kind=CommentKind.RETURN, content=comment)
    _record(actor, "reopen", scenario, before, message=comment)
    return scenario


def _active_cycle(period):
    from governance.choices import CycleStatus
    from governance.models import SopCycle

    return SopCycle.objects.filter(period=period, overall_status=CycleStatus.ACTIVE).order_by("-id").first()


@transaction.atomic
def scenario_designate_operating_plan(*, actor, scenario: Scenario, comment: str = "") -> Scenario:
    """WF-30 designate (APPR): an approved scenario becomes the operating plan of its period; any other
    scenario of that period loses the flag in the same transaction. A Decision (category scenario) is
    recorded, in the period's active S&OP cycle when there is one."""
    from governance.choices import DecisionCategory
    from governance.services.decisions import decision_record

    require_perm(actor, perms.APPROVE_SCENARIO)
    scenario = _lock(scenario)
    _transition_validate(scenario, "designate_operating_plan", user=actor)
    if scenario.is_operating_plan:
        raise InvalidStateTransition(
            "The scenario already is the operating plan of its period.",
            context={
                "current_status": scenario.status,
                "action": "designate_operating_plan",
                "allowed_actions": scenario_allowed_actions(user=actor, scenario=scenario),
            },
        )
    if scenario.period is None:
        raise Conflict("The scenario has no period.")
    comment = (comment or "").strip()
    now = timezone.now()
    others = list(Scenario.objects.select_for_update().filter(period=scenario.period, is_operating_plan=True)
                  .exclude(pk=scenario.pk).order_by("pk"))  # fmt: skip
    entries = []
    for other in others:
        other_before = snapshot(other, _AUDIT_FIELDS)
        other.is_operating_plan = False
        other.updated_by = actor
        other.save(update_fields=["is_operating_plan", "updated_by", "updated_at"])
        entries.append({"actor": actor, "event_type": events.SCENARIO_UNDESIGNATED, "target": other,
                        "before": other_before, "after": snapshot(other, _AUDIT_FIELDS),
                        "message": f"Replaced as operating plan by “{scenario.name}”.",
                        "metadata": {"action": "undesignate", "replaced_by": scenario.pk}})  # fmt: skip
    before = snapshot(scenario, _AUDIT_FIELDS)
    scenario.is_operating_plan = True
    scenario.updated_by = actor
    scenario.save(update_fields=["is_operating_plan", "updated_by", "updated_at"])
    comment_record(actor=actor, target=scenario, kind=CommentKind.COMMENT, content=comment)
    decision = decision_record(actor=actor, cycle=_active_cycle(scenario.period), data={
        "title": f"Operating plan for {scenario.period:%b %Y}: {scenario.name}"[:200],
        "description": comment, "category": DecisionCategory.SCENARIO, "decided_at": now,
        "related_type": "scenario", "related_id": str(scenario.pk),
    })  # fmt: skip
    for other in others:
        bus.publish_on_commit(events.SCENARIO_UNDESIGNATED, scenario_id=other.pk)
    _record(actor, "designate_operating_plan", scenario, before, message=comment, entries=entries,
            metadata={"decision_id": decision.pk, "replaced": [o.pk for o in others]})  # fmt: skip
    return scenario


@transaction.atomic
def scenario_undesignate(*, actor, scenario: Scenario, comment: str = "") -> Scenario:
    """WF-30 undesignate (APPR): the scenario stops being the operating plan; 409 IN_USE while it is the
    operating plan of a current publication."""
    from governance.choices import PublicationStatus
    from governance.models import Publication

    require_perm(actor, perms.APPROVE_SCENARIO)
    scenario = _lock(scenario)
    _transition_validate(scenario, "undesignate", user=actor)
    if not scenario.is_operating_plan:
        raise InvalidStateTransition(
            "The scenario is not the operating plan of its period.",
            context={
                "current_status": scenario.status,
                "action": "undesignate",
                "allowed_actions": scenario_allowed_actions(user=actor, scenario=scenario),
            },
        )
    if Publication.objects.filter(operating_plan_scenario_id=scenario.pk, status=PublicationStatus.PUBLISHED).exists():
        raise InUse("The scenario is the operating plan of a current publication.")
    before = snapshot(scenario, _AUDIT_FIELDS)
    scenario.is_operating_plan = False
    scenario.updated_by = actor
    scenario.save(update_fields=["is_operating_plan", "updated_by", "updated_at"])
    _record(actor, "undesignate", scenario, before, message=(comment or "").strip())
    return scenario


def scenario_clone(*, actor, scenario: Scenario, name: str | None = None) -> Scenario:
    """WF-30 clone (FC_W, any status): a new draft with the name (+ " (copy)" unless given), type,
    description, parameters and scope, `cloned_from` the original."""
    require_perm(actor, perms.RUN_SCENARIO)
    name = (name or "").strip() or f"{scenario.name}{COPY_SUFFIX}"[:255]
    return scenario_create(actor=actor, data={
        "name": name, "description": scenario.description, "scenario_type": scenario.scenario_type,
        "parameters": dict(scenario.parameters or {}), "scope": dict(scenario.scope or {}) or None,
        "cloned_from": scenario,
    })  # fmt: skip


def scenario_compare_export(*, actor, ids, fmt: str | None = None):
    """API-SCN-17: the comparison as a CSV or XLSX download, audited as planning.data.exported (INT-21)."""
    from planning.fileio.exports import ExportTarget, export_format
    from planning.fileio.writer import file_name, file_response
    from planning.selectors.scenarios import scenario_compare, scenario_compare_rows

    fmt = export_format(fmt)
    compared = scenario_compare(user=actor, ids=ids)
    header, rows = scenario_compare_rows(compared)
    name = file_name("scenario_comparison", fmt)
    with transaction.atomic():
        audit.record(
            actor=actor, event_type=events.DATA_EXPORTED, target=ExportTarget("scenario_comparison"),
            target_type="export", message=f"Scenario comparison exported as {fmt.upper()} ({len(rows)} rows).",
            metadata={"dataset": "scenario_comparison", "format": fmt, "filters": {"ids": [r["id"] for r in compared]},
                      "row_count": len(rows), "file_name": name},
        )  # fmt: skip
    return file_response(dataset="scenario_comparison", fmt=fmt, header=header, rows=rows, name=name)
