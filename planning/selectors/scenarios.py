"""Read paths of scenarios (PLN-11, API-SCN-01…17, UI-10).

Scenarios are read by SCN_R (every role but inventory manager and viewer). A scenario's figures
are aggregates over the rows of its scope, so a user with an object scope sees only the scenarios
whose scope lies within their own read scope (ACC-10, ACC-13); company-wide scenarios and those of
other categories or locations are absent from their lists and 404 on detail. Unscoped users see all.
"""

import datetime
import json

from django.db.models import QuerySet

from genxsop.errors import NotFound, ValidationFailed
from genxsop.filters import MAX_ID
from genxsop.scoping import object_scope
from genxsop.services import require_perm
from planning import permissions as perms
from planning.choices import ScenarioStatus, ScenarioType
from planning.models import Scenario

__all__ = [
    "COMPARE_MAX",
    "COMPARE_MIN",
    "scenario_compare",
    "scenario_compare_ids",
    "scenario_compare_rows",
    "scenario_get",
    "scenario_list",
    "scenario_tradeoff_summary",
]

COMPARE_MIN, COMPARE_MAX = 2, 6
_RELATED = ("created_by", "run_by", "submitted_by", "approved_by", "rejected_by", "updated_by")


def _scenarios(user) -> QuerySet[Scenario]:
    require_perm(user, perms.VIEW_SCENARIO)
    queryset = Scenario.objects.select_related(*_RELATED)
    if object_scope(user).unrestricted:
        return queryset
    from planning.services.scenarios import scope_within_user

    # Many scenarios share a scope: decide each distinct scope once.
    decided: dict[str, bool] = {}
    visible = []
    for pk, scope in Scenario.objects.values_list("pk", "scope"):
        key = json.dumps(scope or {}, sort_keys=True)
        if key not in decided:
            decided[key] = scope_within_user(user, scope or {}, change=False)
        if decided[key]:
            visible.append(pk)
    return queryset.filter(pk__in=visible)


def _bool(value) -> bool | None:
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValidationFailed("Invalid query parameter.", fields={"is_operating_plan": ["Use true or false."]},
                           code="INVALID_PARAMETER")  # fmt: skip


def _choices(value: str, choices, name: str) -> list[str]:
    wanted = [v.strip() for v in str(value).split(",") if v.strip()]
    bad = [v for v in wanted if v not in choices.values]
    if bad:
        raise ValidationFailed("Invalid query parameter.", fields={name: [f"Unknown value(s): {', '.join(bad)}."]},
                               code="INVALID_PARAMETER")  # fmt: skip
    return wanted


def scenario_list(*, user, filters: dict | None = None) -> QuerySet[Scenario]:
    """API-SCN-01: newest first; `status` and `scenario_type` (comma-separated), `period` (YYYY-MM),
    `is_operating_plan`, `search` (name)."""
    from planning.services.scenarios import period_parse, scenario_type_normalise

    queryset = _scenarios(user)
    filters = filters or {}
    if (value := filters.get("status")) not in (None, ""):
        queryset = queryset.filter(status__in=_choices(value, ScenarioStatus, "status"))
    if (value := filters.get("scenario_type")) not in (None, ""):
        try:
            types = [scenario_type_normalise(v) for v in str(value).split(",") if v.strip()]
        except ValidationFailed:
            raise ValidationFailed("Invalid query parameter.", fields={"scenario_type": ["Unknown scenario type."]},
                                   code="INVALID_PARAMETER") from None  # fmt: skip
        queryset = queryset.filter(scenario_type__in=types)
    if (value := filters.get("period")) not in (None, ""):
        try:
            queryset = queryset.filter(period=period_parse(value, "period"))
        except ValidationFailed as exc:
            raise ValidationFailed("Invalid query parameter.", fields=exc.fields, code="INVALID_PARAMETER") from None
    if (value := filters.get("is_operating_plan")) not in (None, ""):
        queryset = queryset.filter(is_operating_plan=_bool(value))
    if (value := filters.get("search")) not in (None, ""):
        queryset = queryset.filter(name__icontains=str(value).strip())
    return queryset.order_by("-created_at", "-id")


def scenario_get(*, user, pk) -> Scenario:
    """One scenario the caller may read; missing or outside their scope is 404 (ACC-11)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    scenario = _scenarios(user).filter(pk=pk).first()
    if scenario is None:
        raise NotFound("Scenario not found.")
    return scenario


def scenario_compare_ids(raw) -> list[int]:
    """2..6 distinct scenario ids from a list, `{scenario_ids: [...]}` or "1,2,3" (400 otherwise)."""
    if isinstance(raw, dict):
        raw = raw.get("scenario_ids", raw.get("ids"))
    if isinstance(raw, str):
        raw = [v for v in raw.split(",") if v.strip()]
    if not isinstance(raw, list | tuple):
        raise ValidationFailed(fields={"scenario_ids": ["Give a list of 2 to 6 scenario ids."]})
    ids = []
    for value in raw:
        try:
            if isinstance(value, bool):
                raise ValueError
            pk = int(str(value).strip())
            # Beyond a bigint the database cannot even compare it (SQLite raises OverflowError).
            if not 1 <= pk <= MAX_ID:
                raise ValueError
            ids.append(pk)
        except (TypeError, ValueError):
            raise ValidationFailed(fields={"scenario_ids": [f"{value!r} is not a scenario id."]}) from None
    ids = list(dict.fromkeys(ids))
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        raise ValidationFailed(fields={"scenario_ids": [f"Compare {COMPARE_MIN} to {COMPARE_MAX} scenarios."]})
    return ids


def _num(value) -> float | None:
    return None if value is None else float(value)


def _delta(value, first) -> float | None:
    if value is None or first is None:
        return None
    return round(float(value) - float(first), 2)


# The figures the side-by-side view compares with the first scenario.
DELTA_FIGURES = (
    ("demand_qty", "scenario", "demand_qty"),
    ("supply_qty", "scenario", "supply_qty"),
    ("revenue", "scenario", "revenue"),
    ("margin", "scenario", "margin"),
    ("inventory_value", "scenario", "inventory_value"),
    ("service_level", "scenario", "service_level"),
    ("composite_score", "tradeoff", "composite_score"),
)


def scenario_compare(*, user, ids) -> list[dict]:
    """API-SCN-14/15: the scenarios in the order asked, each with its impacts, composite score, baseline
    and scenario figures, and `deltas` against the first scenario (demand and supply units, revenue,
    margin, inventory value, service level, composite score). A scenario without results has empty
    figures and null deltas. An id the caller cannot read is 404."""
    ids = scenario_compare_ids(ids)
    found = {s.pk: s for s in _scenarios(user).filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise NotFound(f"Scenario(s) not found: {', '.join(map(str, missing))}.")
    rows = []
    first_results = (found[ids[0]].results or {}) if ids else {}
    for pk in ids:
        scenario = found[pk]
        results = scenario.results or {}
        tradeoff = results.get("tradeoff") or {}
        deltas = {}
        for name, section, key in DELTA_FIGURES:
            value = (results.get(section) or {}).get(key)
            first = (first_results.get(section) or {}).get(key)
            deltas[name] = _delta(value, first)
        rows.append({
            "id": scenario.pk, "name": scenario.name, "scenario_type": scenario.scenario_type,
            "scenario_type_display": scenario.get_scenario_type_display(),
            "period": scenario.period, "status": scenario.status, "status_display": scenario.get_status_display(),
            "is_operating_plan": scenario.is_operating_plan,
            "revenue_impact": _num(scenario.revenue_impact), "margin_impact": _num(scenario.margin_impact),
            "inventory_impact": _num(scenario.inventory_impact),
            "service_level_impact": _num(scenario.service_level_impact),
            "composite_score": tradeoff.get("composite_score"),
            "baseline": results.get("baseline") or {}, "scenario": results.get("scenario") or {},
            "tradeoff": tradeoff or {}, "deltas": deltas, "has_results": bool(results),
            "run_at": scenario.run_at,
        })  # fmt: skip
    return rows


def scenario_compare_rows(compared: list[dict]) -> tuple[list[str], list[list]]:
    """The comparison as a flat table (one row per scenario) for the CSV/XLSX export (API-SCN-17)."""
    figures = ("demand_qty", "supply_qty", "inventory_available_qty", "effective_supply_qty", "revenue", "margin",
               "inventory_value", "service_level")  # fmt: skip
    tradeoff = ("inventory_carrying_cost", "stockout_penalty_cost", "working_capital_delta", "composite_score",
                "open_inventory_exceptions", "high_risk_exception_count")  # fmt: skip
    header = ["id", "name", "scenario_type", "status", "period", "is_operating_plan", "revenue_impact",
              "margin_impact", "inventory_impact", "service_level_impact",
              *(f"baseline_{f}" for f in figures), *(f"scenario_{f}" for f in figures), *tradeoff,
              *(f"delta_{name}" for name, _, _ in DELTA_FIGURES)]  # fmt: skip
    rows = []
    for row in compared:
        rows.append([
            row["id"], row["name"], row["scenario_type"], row["status"], row["period"], row["is_operating_plan"],
            row["revenue_impact"], row["margin_impact"], row["inventory_impact"], row["service_level_impact"],
            *(row["baseline"].get(f) for f in figures), *(row["scenario"].get(f) for f in figures),
            *(row["tradeoff"].get(f) for f in tradeoff), *(row["deltas"].get(name) for name, _, _ in DELTA_FIGURES),
        ])  # fmt: skip
    return header, rows


def scenario_tradeoff_summary(*, user, pk) -> dict:
    """API-SCN-16: the FRM-31 trade-off and the service levels of a run scenario, or the "not run" answer."""
    from planning.services.scenarios import NO_RESULTS_MESSAGE

    scenario = scenario_get(user=user, pk=pk)
    results = scenario.results
    if not results:
        return {"scenario_id": scenario.pk, "status": scenario.status, "message": NO_RESULTS_MESSAGE,
                "tradeoff": None}  # fmt: skip
    tradeoff = results.get("tradeoff") or {}
    keys = ("inventory_carrying_cost", "stockout_penalty_cost", "working_capital_delta", "composite_score",
            "open_inventory_exceptions", "high_risk_exception_count")  # fmt: skip
    baseline = (results.get("baseline") or {}).get("service_level")
    scenario_level = (results.get("scenario") or {}).get("service_level")
    return {
        "scenario_id": scenario.pk,
        "status": scenario.status,
        "period": datetime.date.fromisoformat(results["period"]) if results.get("period") else scenario.period,
        "tradeoff": {k: tradeoff.get(k) for k in keys},
        "service_level": {
            "baseline": baseline,
            "scenario": scenario_level,
            "delta": _delta(scenario_level, baseline),
        },
    }


def scenario_type_choices() -> list[tuple[str, str]]:
    return list(ScenarioType.choices)
