"""Read paths of the KPIs (API-KPI-01, 03, 06, 07, 09…11, UI-13). KPIs are company-wide: every role
reads them (ACC-06), so scoping is the view permission alone.

`kpi_representation` is the one shape of a KPI row (PLN-13 plus its definition's name, direction,
range and the FRM-36 achievement) shared by the API, the export and the console.
"""

import datetime

from django.db.models import Max, QuerySet

from forecasting.series import add_months
from genxsop.errors import NotFound, ValidationFailed
from genxsop.services import require_perm
from planning import permissions as perms
from planning.choices import KpiCategory, KpiSource, KpiStatus
from planning.filtersets import parse_month
from planning.kpi_maths import achievement_pct, adverse_pct
from planning.models import KpiDefinition, KpiMetric

__all__ = [
    "kpi_alerts",
    "kpi_cards",
    "kpi_dashboard",
    "kpi_definition_get",
    "kpi_definition_list",
    "kpi_definitions_by_code",
    "kpi_metric_get",
    "kpi_metric_list",
    "kpi_representation",
    "kpi_series",
    "kpi_summary",
    "kpi_trends",
]

ORDERING = {"period", "metric_name", "metric_category", "value", "status", "source", "updated_at", "id"}
DASHBOARD_ROWS = 10
SPARK_MONTHS = 12


def _rows(user) -> QuerySet[KpiMetric]:
    require_perm(user, perms.VIEW_KPI_METRIC)
    return KpiMetric.objects.all()


def _bad(name: str, message: str):
    return ValidationFailed("Invalid query parameter.", fields={name: [message]}, code="INVALID_PARAMETER")


def _multi(filters, *names) -> list[str]:
    for name in names:
        raw = filters.get(name)
        if raw not in (None, ""):
            return [v.strip() for v in str(raw).split(",") if v.strip()]
    return []


def _sent(filters, *names) -> str:
    """The first of `names` (a parameter and its aliases) the client sent a value for."""
    return next((name for name in names if filters.get(name) not in (None, "")), names[0])


def _month_param(filters, *names):
    for name in names:
        raw = filters.get(name)
        if raw not in (None, ""):
            return parse_month(str(raw), name)
    return None


def kpi_metric_list(*, user, filters=None) -> QuerySet[KpiMetric]:
    """API-KPI-01: `category` (alias `kpi_type`), `metric_name`, `source` (comma-separated),
    `period_from`/`period_to` (aliases `period_start`/`period_end`), `ordering`; newest period first."""
    filters = filters or {}
    rows = _rows(user)
    categories = _multi(filters, "category", "kpi_type")
    if bad := [c for c in categories if c not in KpiCategory.values]:
        raise _bad(
            _sent(filters, "category", "kpi_type"),
            f"Unknown category {bad[0]!r}; one of {', '.join(KpiCategory.values)}.",
        )
    if categories:
        rows = rows.filter(metric_category__in=categories)
    if names := _multi(filters, "metric_name"):
        rows = rows.filter(metric_name__in=names)
    sources = _multi(filters, "source")
    if bad := [s for s in sources if s not in KpiSource.values]:
        raise _bad("source", f"Unknown source {bad[0]!r}; one of {', '.join(KpiSource.values)}.")
    if sources:
        rows = rows.filter(source__in=sources)
    if (first := _month_param(filters, "period_from", "period_start")) is not None:
        rows = rows.filter(period__gte=first)
    if (last := _month_param(filters, "period_to", "period_end")) is not None:
        rows = rows.filter(period__lte=last)
    ordering = _multi(filters, "ordering")
    if bad := [o for o in ordering if o.lstrip("-") not in ORDERING]:
        raise _bad("ordering", f"Unknown field {bad[0]!r}; one of {', '.join(sorted(ORDERING))}.")
    return rows.order_by(*(ordering or ["-period", "metric_name"]), "pk")


def kpi_metric_get(*, user, pk) -> KpiMetric:
    row = _rows(user).filter(pk=pk).first()
    if row is None:
        raise NotFound("KPI value not found.")
    return row


def kpi_definition_list(*, user) -> QuerySet[KpiDefinition]:
    """API-KPI-11: every definition, by category then code."""
    require_perm(user, perms.VIEW_KPI_DEFINITION)
    return KpiDefinition.objects.order_by("category", "code")


def kpi_definition_get(*, user, code: str) -> KpiDefinition:
    definition = kpi_definition_list(user=user).filter(code=code).first()
    if definition is None:
        raise NotFound(f"Unknown KPI {code!r}.")
    return definition


def kpi_definitions_by_code() -> dict[str, KpiDefinition]:
    return {d.code: d for d in KpiDefinition.objects.all()}


def _bounds(row: KpiMetric, definition: KpiDefinition | None) -> dict:
    return {
        "direction": definition.direction if definition else "higher_is_better",
        "target": row.target,
        "target_low": definition.target_low if definition else None,
        "target_high": definition.target_high if definition else None,
    }


def kpi_representation(row: KpiMetric, definitions: dict[str, KpiDefinition]) -> dict:
    """PLN-13 fields plus `name`, `direction`, `target_low`, `target_high`, `achievement_pct` (FRM-36)."""
    definition = definitions.get(row.metric_name)
    bounds = _bounds(row, definition)
    return {
        "id": row.pk, "metric_name": row.metric_name, "name": definition.name if definition else row.metric_name,
        "metric_category": row.metric_category, "period": row.period, "value": row.value, "unit": row.unit,
        **bounds, "previous_value": row.previous_value, "variance": row.variance, "variance_pct": row.variance_pct,
        "trend": row.trend, "status": row.status, "achievement_pct": achievement_pct(value=row.value, **bounds),
        "adverse_pct": adverse_pct(value=row.value, **bounds), "source": row.source, "inputs": row.inputs or {},
        "computed_at": row.computed_at, "created_by": row.created_by_id, "created_at": row.created_at,
        "updated_at": row.updated_at,
    }  # fmt: skip


def kpi_dashboard(*, user) -> dict:
    """API-KPI-06: the ten most recent rows of each category."""
    rows = _rows(user)
    return {f"{c}_kpis": list(rows.filter(metric_category=c).order_by("-period", "metric_name")[:DASHBOARD_ROWS])
            for c in KpiCategory.values}  # fmt: skip


def _latest_rows(rows: QuerySet[KpiMetric]) -> list[KpiMetric]:
    """The newest row of each KPI (two queries)."""
    latest = dict(rows.order_by().values("metric_name").annotate(p=Max("period")).values_list("metric_name", "p"))
    if not latest:
        return []
    candidates = rows.filter(metric_name__in=list(latest), period__in=set(latest.values()))
    return sorted((r for r in candidates if latest[r.metric_name] == r.period), key=lambda r: r.metric_name)


def kpi_alerts(*, user) -> list[dict]:
    """API-KPI-07: the latest row of each KPI whose status is warning or critical, critical first."""
    out = []
    for row in _latest_rows(_rows(user)):
        if row.status in (KpiStatus.WARNING, KpiStatus.CRITICAL):
            out.append({"metric_name": row.metric_name, "category": row.metric_category, "value": row.value,
                        "target": row.target, "variance_pct": row.variance_pct, "severity": row.status,
                        "period": row.period, "direction": None, "_row": row})  # fmt: skip
    definitions = kpi_definitions_by_code()
    for alert in out:
        row = alert.pop("_row")
        definition = definitions.get(row.metric_name)
        alert["direction"] = definition.direction if definition else "higher_is_better"
    return sorted(out, key=lambda a: (a["severity"] != KpiStatus.CRITICAL, a["metric_name"]))


def kpi_summary(*, user) -> dict:
    """API-KPI-09: status counts per category for the latest period with values, and the three KPIs
    with the largest adverse deviation (FRM-36) in that period."""
    rows = _rows(user)
    period = rows.aggregate(p=Max("period"))["p"]
    by_category = {c: {"category": c, "on_target": 0, "warning": 0, "critical": 0, "no_target": 0}
                   for c in KpiCategory.values}  # fmt: skip
    worst = []
    if period is not None:
        definitions = kpi_definitions_by_code()
        for row in rows.filter(period=period):
            by_category[row.metric_category][row.status] += 1
            rep = kpi_representation(row, definitions)
            if rep["adverse_pct"] is not None and rep["adverse_pct"] > 0:
                worst.append(rep)
        worst.sort(key=lambda r: (-r["adverse_pct"], r["metric_name"]))
    return {"period": period, "by_category": list(by_category.values()), "worst": worst[:3]}


def kpi_series(*, user, names: list[str], first: datetime.date, last: datetime.date) -> dict[str, list[KpiMetric]]:
    out = {name: [] for name in names}
    for row in _rows(user).filter(metric_name__in=names, period__gte=first, period__lte=last).order_by("period"):
        out[row.metric_name].append(row)
    return out


def kpi_trends(*, user, names: list[str], months: int = 12) -> dict:
    """API-KPI-10: per KPI the last `months` months up to its newest value."""
    rows = _rows(user)
    if not names:
        raise _bad("metric_name", "At least one metric_name is required.")
    if any("\x00" in name for name in names):  # PostgreSQL cannot even compare such a string
        raise _bad("metric_name", "Must not contain the NUL character.")
    if not 1 <= months <= 60:
        raise _bad("months", "Must be between 1 and 60.")
    newest = dict(rows.filter(metric_name__in=names).order_by().values("metric_name").annotate(p=Max("period"))
                  .values_list("metric_name", "p"))  # fmt: skip
    series = []
    for name in names:
        last = newest.get(name)
        points = []
        if last is not None:
            first = add_months(last, -(months - 1))
            points = [
                {"period": r.period, "value": r.value, "target": r.target, "status": r.status}
                for r in rows.filter(metric_name=name, period__gte=first, period__lte=last).order_by("period")
            ]
        series.append({"metric_name": name, "points": points})
    return {"series": series}


def kpi_cards(*, user, category: str | None = None) -> list[dict]:
    """UI-13 cards: the latest row of every KPI (of `category`) with its representation and the values
    of its last twelve months for the sparkline, in catalogue order (category, then code)."""
    rows = _rows(user)
    if category:
        rows = rows.filter(metric_category=category)
    latest = _latest_rows(rows)
    if not latest:
        return []
    definitions = kpi_definitions_by_code()
    first = add_months(max(r.period for r in latest), -(SPARK_MONTHS - 1))
    history = kpi_series(user=user, names=[r.metric_name for r in latest], first=first,
                         last=max(r.period for r in latest))  # fmt: skip
    order = {c: i for i, c in enumerate(KpiCategory.values)}
    cards = [{"row": row, "kpi": kpi_representation(row, definitions),
              "history": [(r.period, r.value) for r in history[row.metric_name]]} for row in latest]  # fmt: skip
    return sorted(cards, key=lambda c: (order.get(c["row"].metric_category, 99), c["row"].metric_name))
