"""KPIs (PLN-12/13, FRM-36…38): values computed from the plans, stock and accuracy points of closed
months, manual values for what the system cannot compute, targets and definitions.

`kpi_refresh` is set-based: for any number of periods it reads the active products, the current
demand and supply rows, the month-end snapshots, the accuracy points and the publication items in a
fixed handful of queries, computes every FRM-37 value in Python and upserts the rows in bulk. Every
other write is one row and one audit event. FRM-36 (variance, trend, status) comes from
`planning.kpi_maths`, so the API, the console, the dashboard and the scorecard agree.
"""

import calendar
import datetime
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from forecasting.series import add_months, last_closed_month, month_index
from genxsop.errors import Conflict, DuplicateEntity, NotFound, ValidationFailed
from genxsop.services import require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from planning import events
from planning import permissions as perms
from planning.choices import InventoryStatus, KpiCategory, KpiDirection, KpiSource, ProductStatus
from planning.kpi_catalogue import BY_CODE, COMPUTED_CODES
from planning.kpi_maths import dec, kpi_evaluate, q4
from planning.models import (
    DemandPlan,
    Inventory,
    InventorySnapshot,
    KpiDefinition,
    KpiMetric,
    Product,
    SupplyPlan,
)
from planning.selectors.supply import planning_today

__all__ = [
    "REFRESH_DEFAULT_MONTHS",
    "kpi_definition_update",
    "kpi_export",
    "kpi_metric_create",
    "kpi_metric_delete",
    "kpi_metric_update",
    "kpi_refresh",
    "kpi_refresh_periods",
    "kpi_refresh_request",
    "kpi_target_set",
]

REFRESH_DEFAULT_MONTHS = 3  # FRM-38: the nightly refresh and the API default
HUNDRED = Decimal(100)
ZERO = Decimal(0)
TOTAL_REGION, TOTAL_CHANNEL = "Global", "All"
_EVALUATED = ["previous_value", "variance", "variance_pct", "trend", "status"]
_COMPUTED_FIELDS = ["value", "target", "unit", "metric_category", "source", "inputs", "computed_at", *_EVALUATED]


class _RefreshTarget:
    """What the refresh audit row points at: the range of periods (no single row is the target)."""

    def __init__(self, first: datetime.date | None, last: datetime.date | None):
        self.pk = f"{first:%Y-%m}..{last:%Y-%m}" if first and last else "-"

    def __str__(self) -> str:
        return f"KPI refresh {self.pk}"


# Periods ----------------------------------------------------------------------------------------------------


def _as_month(value, name: str) -> datetime.date | None:
    """A date or an ISO `YYYY-MM-DD` / `YYYY-MM` string (what a queued task carries) as its month."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            return datetime.datetime.strptime(str(value).strip(), fmt).date().replace(day=1)  # noqa: DTZ007
        except ValueError:
            continue
    raise ValidationFailed(fields={name: ["Use YYYY-MM-DD or YYYY-MM."]})


def kpi_refresh_periods(period_from=None, period_to=None, *, today: datetime.date | None = None) -> list[datetime.date]:
    """The closed months a refresh covers: default the last three; a range ending in the current or a
    future month stops at the last closed month (open months are never written). From after to is 400."""
    last_closed = last_closed_month(today or planning_today())
    first, last = _as_month(period_from, "period_from"), _as_month(period_to, "period_to")
    for month, name in ((first, "period_from"), (last, "period_to")):
        if month is not None and not datetime.date(2000, 1, 1) <= month <= datetime.date(2100, 12, 1):
            raise ValidationFailed(fields={name: ["Periods lie between 2000-01 and 2100-12."]})
    if first is not None and last is not None and first > last:
        raise ValidationFailed(fields={"period_to": ["period_to must not be before period_from."]})
    if last is None:
        last = last_closed
    if first is None:
        first = add_months(min(last, last_closed), -(REFRESH_DEFAULT_MONTHS - 1))
    last = min(last, last_closed)
    return [add_months(first, i) for i in range(month_index(last) - month_index(first) + 1)]


def _days(month: datetime.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def _month_start(month: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(month, datetime.time.min, tzinfo=ZoneInfo(settings.PLANNING_TIME_ZONE))


def _pct(num: Decimal, den: Decimal) -> Decimal | None:
    return None if not den else num / den * HUNDRED


def _s(value) -> str | None:
    """Inputs are JSON: decimals as strings (CNV-02), rounded to 4 dp."""
    return None if value is None else str(q4(Decimal(value)))


# Inputs, read once for every period of a refresh ---------------------------------------------------------


class _World:
    """Everything FRM-37 needs for `periods`, loaded set-based (one query per source)."""

    def __init__(self, periods: list[datetime.date]):
        first, last = periods[0], periods[-1]
        lag = int(settings.FORECAST_ACCURACY_LAG)
        self.lag = lag
        products = Product.objects.exclude(status=ProductStatus.DISCONTINUED).values_list(
            "pk", "selling_price", "unit_cost"
        )
        self.price = {pk: price for pk, price, _ in products}
        self.cost = {pk: cost for pk, _, cost in products}
        active = list(self.price)

        # Demand rows: 12 months back (turns, working capital) to 3 months ahead (days of supply).
        self.demand = defaultdict(list)  # period -> [(row id, product id, demand qty, actual)]
        rows = DemandPlan.objects.filter(
            is_current=True, product_id__in=active, period__gte=add_months(first, -11), period__lte=add_months(last, 3)
        ).values_list("pk", "product_id", "period", "consensus_qty", "adjusted_qty", "forecast_qty", "actual_qty")
        for pk, product_id, period, consensus, adjusted, forecast, actual in rows.order_by():
            qty = next(q for q in (consensus, adjusted, forecast, ZERO) if q is not None)  # FRM-01
            self.demand[period].append((pk, product_id, qty, actual))

        self.supply = defaultdict(list)  # period -> [(product id, planned, actual, capacity)]
        rows = SupplyPlan.objects.filter(is_current=True, product_id__in=active, period__gte=first, period__lte=last)
        for product_id, period, planned, actual, capacity in rows.order_by().values_list(
            "product_id", "period", "planned_prod_qty", "actual_prod_qty", "capacity_max"
        ):
            self.supply[period].append((product_id, planned, actual, capacity))

        # Month-end stock per period and product: on hand, valuation, valuation of excess rows.
        self.snap_on_hand = defaultdict(dict)
        self.snap_value = defaultdict(lambda: ZERO)
        self.snap_excess = defaultdict(lambda: ZERO)
        self.snap_periods = set()
        rows = (
            InventorySnapshot.objects.filter(period__gte=add_months(first, -12), period__lte=last)
            .order_by()
            .values("period", "product_id")
            .annotate(on_hand=Sum("on_hand_qty"), value=Sum("valuation"),
                      excess=Sum("valuation", filter=Q(status=InventoryStatus.EXCESS)))
        )  # fmt: skip
        for r in rows:
            self.snap_periods.add(r["period"])
            self.snap_on_hand[r["period"]][r["product_id"]] = r["on_hand"] or ZERO
            self.snap_value[r["period"]] += r["value"] or ZERO
            self.snap_excess[r["period"]] += r["excess"] or ZERO
        self.current_value = Inventory.objects.aggregate(v=Sum("valuation"))["v"] or ZERO

        # Accuracy points of the product totals at the KPI lag (FC-52).
        from forecasting.choices import AccuracyLayer
        from forecasting.models import ForecastAccuracyPoint

        self.points = defaultdict(lambda: defaultdict(dict))  # period -> product -> layer -> (F, A)
        rows = ForecastAccuracyPoint.objects.filter(
            period__gte=first, period__lte=last, lag=lag, region=TOTAL_REGION, channel=TOTAL_CHANNEL,
            product_id__in=active,
        ).order_by("period", "product_id", "layer", "model_type")  # fmt: skip
        for period, product_id, layer, f, a in rows.values_list(
            "period", "product_id", "layer", "forecast_qty", "actual_qty"
        ):
            # One forecast of record per layer and point (FC-50); the first model is kept if ever two.
            self.points[period][product_id].setdefault(layer, (f, a))
        self.layers = AccuracyLayer

        # P of plan adherence: the row's demand quantity in the latest publication before the month began.
        from governance.choices import PublicationStatus
        from governance.models import PublicationItem

        self.published = defaultdict(dict)  # period -> plan id -> demand qty
        rows = (
            PublicationItem.objects.filter(plan_type="demand", period__gte=first, period__lte=last)
            .exclude(publication__status=PublicationStatus.ROLLED_BACK)
            .order_by("period", "plan_id", "publication__published_at")
            .values_list("period", "plan_id", "values", "publication__published_at")
        )
        for period, plan_id, values, published_at in rows:
            if published_at < _month_start(period) and values.get("demand_qty") is not None:
                self.published[period][plan_id] = Decimal(str(values["demand_qty"]))  # later ones overwrite

    def mean_valuation(self, months: list[datetime.date]) -> tuple[Decimal, int]:
        """Mean month-end valuation over the months that have snapshots; the current valuation if none."""
        with_snap = [m for m in months if m in self.snap_periods]
        if not with_snap:
            return self.current_value, 0
        return sum((self.snap_value[m] for m in with_snap), ZERO) / len(with_snap), len(with_snap)


def _accuracy(world: _World, t: datetime.date) -> dict:
    out = {}
    layer = world.layers
    chosen, naive_pairs = [], []
    for layers in world.points[t].values():
        pick = layers.get(layer.CONSENSUS) or layers.get(layer.STATISTICAL)
        if pick is None:
            continue
        chosen.append(pick)
        if layer.NAIVE in layers:
            naive_pairs.append((layers[layer.NAIVE], pick))
    if not chosen:
        return out
    abs_err = sum((abs(f - a) for f, a in chosen), ZERO)
    err = sum((f - a for f, a in chosen), ZERO)
    actual = sum((abs(a) for _, a in chosen), ZERO)
    common = {"points": len(chosen), "lag": world.lag, "sum_abs_error": _s(abs_err), "sum_actual": _s(actual)}
    if actual:
        wape = abs_err / actual * HUNDRED
        out["forecast_accuracy"] = (max(ZERO, HUNDRED - wape), {**common, "wape": _s(wape)})
        out["forecast_bias"] = (err / actual * HUNDRED, {**common, "sum_error": _s(err)})
    apes = [abs(f - a) / abs(a) * HUNDRED for f, a in chosen if a]
    if apes:
        out["forecast_mape"] = (sum(apes, ZERO) / len(apes), {**common, "points_with_actual": len(apes)})
    naive_actual = sum((abs(a) for _, (_, a) in naive_pairs), ZERO)
    if naive_pairs and naive_actual:
        naive_wape = sum((abs(f - a) for (f, a), _ in naive_pairs), ZERO) / naive_actual * HUNDRED
        model_wape = sum((abs(f - a) for _, (f, a) in naive_pairs), ZERO) / naive_actual * HUNDRED
        out["forecast_value_added"] = (naive_wape - model_wape, {
            "points": len(naive_pairs), "lag": world.lag, "wape_naive": _s(naive_wape),
            "wape_forecast": _s(model_wape)})  # fmt: skip
    return out


def _demand_kpis(world: _World, t: datetime.date) -> dict:
    out = {}
    rows = [r for r in world.demand[t] if r[3] is not None]
    if not rows:
        return out
    published = world.published[t]
    abs_dev = sum_actual = ZERO
    from_publication = 0
    revenue = plan_revenue = margin = margin_revenue = ZERO
    for pk, product_id, qty, actual in rows:
        plan = published.get(pk)
        from_publication += plan is not None
        plan = qty if plan is None else plan
        abs_dev += abs(plan - actual)
        sum_actual += actual
        price, cost = world.price.get(product_id), world.cost.get(product_id)
        if price is not None:
            revenue += actual * price
            plan_revenue += plan * price
            if cost is not None:
                margin += actual * (price - cost)
                margin_revenue += actual * price
    if sum_actual:
        out["demand_plan_adherence"] = (max(ZERO, HUNDRED - abs_dev / sum_actual * HUNDRED), {
            "rows": len(rows), "rows_from_publication": from_publication, "sum_abs_deviation": _s(abs_dev),
            "sum_actual": _s(sum_actual)})  # fmt: skip
    if plan_revenue:
        out["revenue_vs_plan"] = (revenue / plan_revenue * HUNDRED, {
            "rows": len(rows), "actual_revenue": _s(revenue), "plan_revenue": _s(plan_revenue)})  # fmt: skip
    if margin_revenue:
        out["gross_margin"] = (margin / margin_revenue * HUNDRED, {
            "rows": len(rows), "gross_profit": _s(margin), "revenue": _s(margin_revenue)})  # fmt: skip
    return out


def _supply_kpis(world: _World, t: datetime.date) -> dict:
    out = {}
    rows = world.supply[t]
    loaded = [(p or ZERO, c) for _, p, _, c in rows if c]
    if loaded:
        planned, capacity = sum((p for p, _ in loaded), ZERO), sum((c for _, c in loaded), ZERO)
        out["capacity_utilization"] = (planned / capacity * HUNDRED, {
            "rows": len(loaded), "sum_planned": _s(planned), "sum_capacity": _s(capacity)})  # fmt: skip
    both = [(p, a) for _, p, a, _ in rows if p is not None and a is not None]
    planned = sum((p for p, _ in both), ZERO)
    if planned:
        met = sum((min(a, p) for p, a in both), ZERO)
        out["production_plan_adherence"] = (met / planned * HUNDRED, {
            "rows": len(both), "sum_met": _s(met), "sum_planned": _s(planned)})  # fmt: skip
    return out


def _service_kpis(world: _World, t: datetime.date) -> dict:
    """Fill rate and the OTIF proxy: demand A_P against what was there to ship, S_P = opening stock
    (the snapshots closing t - 1) + production of t."""
    out = {}
    previous = add_months(t, -1)
    produced = defaultdict(lambda: ZERO)
    has_production = False
    for product_id, _, actual, _ in world.supply[t]:
        if actual is not None:
            produced[product_id] += actual
            has_production = True
    if previous not in world.snap_periods and not has_production:
        return out  # nothing known about what was available
    demand = defaultdict(lambda: ZERO)
    for _, product_id, _, actual in world.demand[t]:
        if actual is not None:
            demand[product_id] += actual
    opening = world.snap_on_hand.get(previous, {})
    wanted = {p: a for p, a in demand.items() if a > 0}
    if not wanted:
        return out
    total = sum(wanted.values(), ZERO)
    served, in_full = ZERO, 0
    for product_id, actual in wanted.items():
        available = opening.get(product_id, ZERO) + produced[product_id]
        served += min(actual, available)
        in_full += available >= actual
    out["fill_rate"] = (served / total * HUNDRED, {
        "products": len(wanted), "sum_demand": _s(total), "sum_served": _s(served),
        "opening_snapshot": f"{previous:%Y-%m}" if previous in world.snap_periods else None})  # fmt: skip
    out["otif"] = (Decimal(in_full) / len(wanted) * HUNDRED, {"products": len(wanted), "in_full": in_full})
    return out


def _inventory_kpis(world: _World, t: datetime.date) -> dict:
    out = {}
    year = [add_months(t, -i) for i in range(11, -1, -1)]
    cogs = revenue = ZERO
    for month in year:
        for _, product_id, _, actual in world.demand[month]:
            if actual is None:
                continue
            cost, price = world.cost.get(product_id), world.price.get(product_id)
            cogs += actual * cost if cost is not None else ZERO
            revenue += actual * price if price is not None else ZERO
    mean_value, snap_months = world.mean_valuation(year)
    if cogs and mean_value:
        out["inventory_turns"] = (cogs / mean_value, {
            "cogs_12m": _s(cogs), "mean_valuation": _s(mean_value), "months_with_snapshots": snap_months})  # fmt: skip
    if revenue and mean_value:
        out["working_capital_ratio"] = (mean_value / revenue * HUNDRED, {
            "mean_valuation": _s(mean_value), "revenue_12m": _s(revenue),
            "months_with_snapshots": snap_months})  # fmt: skip
    if t in world.snap_periods:
        total = world.snap_value[t]
        if total:
            out["excess_obsolete_pct"] = (world.snap_excess[t] / total * HUNDRED, {
                "excess_valuation": _s(world.snap_excess[t]), "total_valuation": _s(total)})  # fmt: skip
        ahead = [add_months(t, i) for i in (1, 2, 3)]
        cost_ahead = sum((qty * world.cost[p] for m in ahead for _, p, qty, _ in world.demand[m]
                          if world.cost.get(p) is not None), ZERO)  # fmt: skip
        days = sum(_days(m) for m in ahead)
        if cost_ahead and total:
            daily = cost_ahead / days
            out["days_of_supply"] = (total / daily, {
                "valuation": _s(total), "demand_cost_next_3m": _s(cost_ahead), "days": days,
                "daily_demand_cost": _s(daily)})  # fmt: skip
    return out


def compute_period(world: _World, t: datetime.date) -> dict[str, tuple[Decimal, dict]]:
    """Every FRM-37 value of closed month `t` that has inputs: code -> (value, inputs)."""
    out = {}
    for part in (_accuracy, _demand_kpis, _supply_kpis, _service_kpis, _inventory_kpis):
        out.update(part(world, t))
    return {code: (q4(value), inputs) for code, (value, inputs) in out.items()}


# FRM-36 on rows -------------------------------------------------------------------------------------------


def _definitions() -> dict[str, KpiDefinition]:
    return {d.code: d for d in KpiDefinition.objects.all()}


def _evaluate(row: KpiMetric, definition: KpiDefinition | None, previous) -> None:
    """Set the FRM-36 fields of `row` from its value, its target and `previous`."""
    basis = definition if definition is not None else {"direction": KpiDirection.HIGHER_IS_BETTER}
    result = kpi_evaluate(definition_like=basis, value=row.value, previous=previous, target=row.target)
    row.previous_value = q4(dec(previous)) if previous is not None else None
    row.variance, row.variance_pct = result["variance"], result["variance_pct"]
    row.trend, row.status = result["trend"], result["status"]


def _row_target(definition: KpiDefinition | None):
    # A range lives on the definition (target_low/high); rows of a range KPI carry no single target.
    if definition is None or definition.direction == KpiDirection.TARGET_RANGE:
        return None
    return definition.target


def _previous_of(row: KpiMetric, prior: KpiMetric | None):
    """The previous value FRM-36 uses: a manual row's own supplied one, else last month's value."""
    if row.source != KpiSource.COMPUTED and (row.inputs or {}).get("previous_supplied"):
        return row.previous_value
    return prior.value if prior is not None else None


def _reevaluate_next(*, metric_name: str, period: datetime.date, definition) -> None:
    """Trend depends on the previous month: re-evaluate the following month's row after a change."""
    following = KpiMetric.objects.filter(metric_name=metric_name, period=add_months(period, 1)).first()
    if following is None:
        return
    prior = KpiMetric.objects.filter(metric_name=metric_name, period=period).first()
    _evaluate(following, definition, _previous_of(following, prior))
    following.save(update_fields=[*_EVALUATED, "updated_at"])


# Refresh (FRM-38) -------------------------------------------------------------------------------------------


def _unchanged(row: KpiMetric, before: dict) -> bool:
    return all(before[f] == getattr(row, f) for f in ("value", "target", "inputs", "source", *_EVALUATED))


@transaction.atomic
def kpi_refresh(*, actor, period_from=None, period_to=None, today: datetime.date | None = None) -> dict:
    """FRM-38: compute every FRM-37 KPI of each closed month in the range (default the last three) that
    has inputs and upsert it (`source = computed`, inputs, `computed_at`, FRM-36 evaluation); the month
    after the range is re-evaluated, its trend depending on the last one. Months that are not closed
    are never written; a KPI without inputs for a month is not written. `period_from`/`period_to` are
    dates or ISO strings (a queued task carries strings). `actor` None is the schedule; a person needs
    refresh_kpimetric. One planning.kpi_metric.refreshed audit row with the counts and the same event
    when a row was created or changed (a refresh that changes nothing writes neither).
    Returns `{periods, kpis_written, created, updated, unchanged}`."""
    if actor is not None:
        require_perm(actor, perms.REFRESH_KPI)
    periods = kpi_refresh_periods(period_from, period_to, today=today)
    result = {"periods": [f"{p:%Y-%m-%d}" for p in periods], "kpis_written": 0, "created": 0, "updated": 0,
              "unchanged": 0}  # fmt: skip
    if not periods:
        return result
    world = _World(periods)
    definitions = _definitions()
    codes = [c for c in COMPUTED_CODES if (d := definitions.get(c)) is not None and d.is_computed and d.is_active]
    first, last = periods[0], periods[-1]
    existing = {
        (m.metric_name, m.period): m
        for m in KpiMetric.objects.filter(metric_name__in=codes, period__gte=add_months(first, -1),
                                          period__lte=add_months(last, 1))
    }  # fmt: skip
    now = timezone.now()
    created, updated, unchanged = [], [], 0
    for t in periods:
        values = compute_period(world, t)
        for code in codes:
            if code not in values:
                continue
            value, inputs = values[code]
            definition = definitions[code]
            row = existing.get((code, t))
            before = None
            if row is None:
                row = KpiMetric(metric_name=code, period=t, created_by=actor if actor is not None else None)
            else:
                before = {f: getattr(row, f) for f in ("value", "target", "inputs", "source", *_EVALUATED)}
            row.value, row.inputs, row.source = value, inputs, KpiSource.COMPUTED
            row.target, row.unit, row.metric_category = _row_target(definition), definition.unit, definition.category
            prior = existing.get((code, add_months(t, -1)))
            _evaluate(row, definition, prior.value if prior is not None else None)
            existing[(code, t)] = row
            if before is None:
                row.computed_at = now
                created.append(row)
            elif _unchanged(row, before):
                unchanged += 1
            else:
                row.computed_at = now
                updated.append(row)
    following = add_months(last, 1)
    for code in codes:
        row, prior = existing.get((code, following)), existing.get((code, last))
        if row is not None and prior is not None and row.source == KpiSource.COMPUTED:
            before = {f: getattr(row, f) for f in _EVALUATED}
            _evaluate(row, definitions[code], prior.value)
            if any(before[f] != getattr(row, f) for f in _EVALUATED):
                updated.append(row)
    KpiMetric.objects.bulk_create(created, batch_size=500)
    KpiMetric.objects.bulk_update(updated, _COMPUTED_FIELDS, batch_size=500)
    result.update(kpis_written=len(created) + len(updated) + unchanged, created=len(created), updated=len(updated),
                  unchanged=unchanged)  # fmt: skip
    if not created and not updated:
        return result  # nothing changed: no audit row, no event
    audit.record(
        actor=actor, event_type=events.KPI_METRICS_REFRESHED, target=_RefreshTarget(first, last),
        target_type="kpi_refresh",
        message=f"KPIs refreshed for {first:%Y-%m}…{last:%Y-%m}: {len(created)} created, {len(updated)} updated, "
        f"{unchanged} unchanged.",
        metadata={**result, "lag": world.lag},
    )  # fmt: skip
    bus.publish_on_commit(events.KPI_METRICS_REFRESHED, period_from=result["periods"][0],
                          period_to=result["periods"][-1], kpis_written=result["kpis_written"])  # fmt: skip
    return result


# Manual values (API-KPI-02/04/05) ----------------------------------------------------------------------------


_SLUG_HELP = "Lower-case letters, digits, hyphens and underscores."


def _decimal_field(data: dict, name: str, *, required: bool = False) -> Decimal | None:
    if name not in data or data[name] is None:
        if required:
            raise ValidationFailed(fields={name: ["This field is required."]})
        return None
    try:
        value = dec(data[name])
        if not value.is_finite():
            raise ValueError
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationFailed(fields={name: ["A number is required."]}) from None
    if abs(value) >= Decimal("1e8"):
        raise ValidationFailed(fields={name: ["Must be below 100,000,000 in absolute value."]})
    return q4(value)


def _custom_definition(*, actor, code: str, data: dict) -> KpiDefinition:
    category = data.get("metric_category")
    if not category:
        raise ValidationFailed("A new KPI needs its category.", fields={"metric_category": [
            "Required for a KPI that is not in the catalogue."]})  # fmt: skip
    direction = data.get("direction") or KpiDirection.HIGHER_IS_BETTER
    definition = KpiDefinition(code=code, name=data.get("name") or code.replace("_", " ").capitalize(),
                               category=category, unit=data.get("unit") or "", direction=direction,
                               target=_decimal_field(data, "target"), is_computed=False,
                               description="Custom KPI entered by hand.")  # fmt: skip
    if direction == KpiDirection.TARGET_RANGE:
        raise ValidationFailed(fields={"direction": [
            "A range KPI is created with PUT /kpi/definitions/{code} after its first value; use another direction "
            "here."]})  # fmt: skip
    validate_instance(definition)
    save_or_conflict(definition)
    audit.record(actor=actor, event_type=events.KPI_DEFINITION_CREATED, target=definition,
                 after=snapshot(definition))  # fmt: skip
    return definition


def _lock_metric(metric: KpiMetric) -> KpiMetric:
    return KpiMetric.objects.select_for_update().get(pk=metric.pk)


def _refuse_computed(row: KpiMetric, action: str) -> None:
    if row.source == KpiSource.COMPUTED:
        raise Conflict(f"{row.metric_name} is computed from data; it cannot be {action} by hand.",
                       context={"metric_name": row.metric_name, "source": row.source})  # fmt: skip


@transaction.atomic
def kpi_metric_create(*, actor, data: dict) -> KpiMetric:
    """API-KPI-02: record a manual KPI value. Needs add_kpimetric. A KPI computed from data is 400
    (VALIDATION_ERROR, "computed from data"); a value already recorded for the name and period is 409
    DUPLICATE_ENTITY. An unknown name creates a custom manual definition with the given category, unit
    and direction (default higher is better). Target defaults to the definition's; previous value to
    last month's. Emits planning.kpi_metric.created (and planning.kpi_definition.created)."""
    require_perm(actor, perms.ADD_KPI_METRIC)
    code = (data.get("metric_name") or "").strip()
    if not code:
        raise ValidationFailed(fields={"metric_name": ["This field is required."]})
    period = _as_month(data.get("period"), "period")
    if period is None:
        raise ValidationFailed(fields={"period": ["This field is required."]})
    if not datetime.date(2000, 1, 1) <= period <= datetime.date(2100, 12, 1):
        raise ValidationFailed(fields={"period": ["Periods lie between 2000-01 and 2100-12."]})
    category = data.get("metric_category")
    if category and category not in KpiCategory.values:
        raise ValidationFailed(fields={"metric_category": [f"One of {', '.join(KpiCategory.values)}."]})
    direction = data.get("direction")
    if direction and direction not in KpiDirection.values:
        raise ValidationFailed(fields={"direction": [f"One of {', '.join(KpiDirection.values)}."]})
    value = _decimal_field(data, "value", required=True)
    target = _decimal_field(data, "target")
    supplied_previous = _decimal_field(data, "previous_value")
    definition = KpiDefinition.objects.filter(code=code).first()
    if definition is not None and (definition.is_computed or code in COMPUTED_CODES):
        message = f"{code} is computed from data; it cannot be entered by hand."
        raise ValidationFailed(message, fields={"metric_name": [message]})
    if definition is None:
        definition = _custom_definition(actor=actor, code=code, data=data)
    if KpiMetric.objects.filter(metric_name=code, period=period).exists():
        raise DuplicateEntity(f"{code} already has a value for {period:%Y-%m}.",
                              context={"metric_name": code, "period": f"{period:%Y-%m-%d}"})  # fmt: skip
    row = KpiMetric(metric_name=code, metric_category=definition.category, period=period, value=value,
                    target=target if target is not None else _row_target(definition),
                    unit=data.get("unit") or definition.unit, source=KpiSource.MANUAL, created_by=actor,
                    inputs={"previous_supplied": supplied_previous is not None},
                    previous_value=supplied_previous)  # fmt: skip
    prior = KpiMetric.objects.filter(metric_name=code, period=add_months(period, -1)).first()
    _evaluate(row, definition, _previous_of(row, prior))
    validate_instance(row, exclude=["created_by"])
    save_or_conflict(row)
    _reevaluate_next(metric_name=code, period=period, definition=definition)
    audit.record(actor=actor, event_type=events.KPI_METRIC_CREATED, target=row, after=snapshot(row))
    bus.publish_on_commit(events.KPI_METRIC_CREATED, kpi_metric_id=row.pk)
    return row


@transaction.atomic
def kpi_metric_update(*, actor, metric: KpiMetric, data: dict) -> KpiMetric:
    """API-KPI-04: change a manual value, target or previous value and re-evaluate (FRM-36), then the
    following month's trend. Needs change_kpimetric; a computed row is 409. Emits planning.kpi_metric.updated."""
    require_perm(actor, perms.CHANGE_KPI_METRIC)
    row = _lock_metric(metric)
    _refuse_computed(row, "changed")
    before = snapshot(row)
    if "value" in data:
        row.value = _decimal_field(data, "value", required=True)
    if "target" in data:
        row.target = _decimal_field(data, "target")
    inputs = dict(row.inputs or {})
    if "previous_value" in data:
        row.previous_value = _decimal_field(data, "previous_value")
        inputs["previous_supplied"] = row.previous_value is not None
    row.inputs = inputs
    definition = KpiDefinition.objects.filter(code=row.metric_name).first()
    prior = KpiMetric.objects.filter(metric_name=row.metric_name, period=add_months(row.period, -1)).first()
    _evaluate(row, definition, _previous_of(row, prior))
    after = snapshot(row)
    if after == before:
        return row
    save_or_conflict(row, update_fields=["value", "target", "inputs", *_EVALUATED, "updated_at"])
    _reevaluate_next(metric_name=row.metric_name, period=row.period, definition=definition)
    audit.record(actor=actor, event_type=events.KPI_METRIC_UPDATED, target=row, before=before, after=after)
    bus.publish_on_commit(events.KPI_METRIC_UPDATED, kpi_metric_id=row.pk)
    return row


@transaction.atomic
def kpi_metric_delete(*, actor, metric: KpiMetric) -> None:
    """API-KPI-05: delete a manual value; a computed row is 409. Needs delete_kpimetric. The following
    month loses its previous value. Emits planning.kpi_metric.deleted."""
    require_perm(actor, perms.DELETE_KPI_METRIC)
    row = _lock_metric(metric)
    _refuse_computed(row, "deleted")
    before = snapshot(row)
    audit.record(actor=actor, event_type=events.KPI_METRIC_DELETED, target=row, before=before)
    name, period, pk = row.metric_name, row.period, row.pk
    row.delete()
    _reevaluate_next(metric_name=name, period=period, definition=KpiDefinition.objects.filter(code=name).first())
    bus.publish_on_commit(events.KPI_METRIC_DELETED, kpi_metric_id=pk)


# Targets and definitions (API-KPI-08, API-KPI-12) ----------------------------------------------------------


def _reevaluate_rows(definition: KpiDefinition, rows: list[KpiMetric]) -> None:
    """FRM-36 again for `rows` (ordered by period) of one KPI, each against its own previous month."""
    by_period = {r.period: r for r in KpiMetric.objects.filter(metric_name=definition.code)}
    for row in rows:
        by_period[row.period] = row
    for row in rows:
        _evaluate(row, definition, _previous_of(row, by_period.get(add_months(row.period, -1))))
    KpiMetric.objects.bulk_update(rows, [*_EVALUATED, "target", "updated_at"], batch_size=500)


def _lock_definition(code: str) -> KpiDefinition:
    definition = KpiDefinition.objects.select_for_update().filter(code=code).first()
    if definition is None:
        raise NotFound(f"Unknown KPI {code!r}.")
    return definition


@transaction.atomic
def kpi_target_set(*, actor, metric_name: str, target=None, target_low=None, target_high=None,
                   apply_to_history: bool = False) -> KpiMetric | None:  # fmt: skip
    """API-KPI-08: set the KPI's target (or range) on its definition and re-evaluate its latest row, or
    every row with `apply_to_history`. Needs change_kpimetric; an unknown name is 404. Returns the
    latest row (None while the KPI has no values). Emits planning.kpi_metric.target_set."""
    require_perm(actor, perms.CHANGE_KPI_METRIC)
    definition = _lock_definition(metric_name)
    before = snapshot(definition)
    target, low, high = (_decimal_field({"v": v}, "v") for v in (target, target_low, target_high))
    if definition.direction == KpiDirection.TARGET_RANGE:
        if low is None and high is None:
            raise ValidationFailed(fields={"target_low": ["A range KPI takes target_low and target_high."]})
    elif target is None:
        raise ValidationFailed(fields={"target": ["This field is required."]})
    if target is not None:
        definition.target = target
    if low is not None:
        definition.target_low = low
    if high is not None:
        definition.target_high = high
    validate_instance(definition)
    save_or_conflict(definition, update_fields=["target", "target_low", "target_high", "updated_at"])
    rows = list(KpiMetric.objects.select_for_update().filter(metric_name=definition.code).order_by("period"))
    changed = rows if apply_to_history else rows[-1:]
    for row in changed:
        row.target = _row_target(definition)
    _reevaluate_rows(definition, changed)
    latest = rows[-1] if rows else None
    audit.record(actor=actor, event_type=events.KPI_TARGET_SET, target=definition, before=before,
                 after=snapshot(definition),
                 metadata={"apply_to_history": apply_to_history, "rows_reevaluated": len(changed)})  # fmt: skip
    bus.publish_on_commit(events.KPI_TARGET_SET, metric_name=definition.code)
    return latest


DEFINITION_FIELDS = ["name", "target", "target_low", "target_high", "warning_threshold_pct", "critical_threshold_pct",
                     "direction"]  # fmt: skip


@transaction.atomic
def kpi_definition_update(*, actor, code: str, data: dict) -> KpiDefinition:
    """API-KPI-12: rename a KPI or change its target, range or alert thresholds (0 < warning ≤ critical);
    the direction only of a custom KPI. Every row of the KPI is re-evaluated against the new thresholds.
    Needs change_kpidefinition; unknown code 404; bad values 400. Emits planning.kpi_definition.updated."""
    require_perm(actor, perms.CHANGE_KPI_DEFINITION)
    definition = _lock_definition(code)
    before = snapshot(definition)
    if "direction" in data and data["direction"] != definition.direction:
        if definition.is_computed or code in BY_CODE:
            raise ValidationFailed(fields={"direction": ["Only a custom KPI's direction can change."]})
        if data["direction"] not in KpiDirection.values:
            raise ValidationFailed(fields={"direction": [f"One of {', '.join(KpiDirection.values)}."]})
        definition.direction = data["direction"]
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            raise ValidationFailed(fields={"name": ["This field may not be blank."]})
        definition.name = name
    for field in ("target", "target_low", "target_high"):
        if field in data:
            setattr(definition, field, _decimal_field(data, field))
    for field in ("warning_threshold_pct", "critical_threshold_pct"):
        if field in data:
            value = _decimal_field(data, field, required=True)
            if value != value.quantize(Decimal("0.01")):
                raise ValidationFailed(fields={field: ["At most 2 decimal places."]})
            setattr(definition, field, value.quantize(Decimal("0.01")))
    validate_instance(definition)
    after = snapshot(definition)
    if after == before:
        return definition
    save_or_conflict(definition)
    rows = list(KpiMetric.objects.select_for_update().filter(metric_name=code).order_by("period"))
    if definition.direction == KpiDirection.TARGET_RANGE:
        for row in rows:
            row.target = None
    _reevaluate_rows(definition, rows)
    audit.record(actor=actor, event_type=events.KPI_DEFINITION_UPDATED, target=definition, before=before,
                 after=after, metadata={"rows_reevaluated": len(rows)})  # fmt: skip
    bus.publish_on_commit(events.KPI_DEFINITION_UPDATED, code=code)
    return definition


# Export (API-KPI-14, INT-21) --------------------------------------------------------------------------------

EXPORT_COLUMNS = ["id", "metric_name", "name", "metric_category", "period", "value", "unit", "target", "target_low",
                  "target_high", "direction", "previous_value", "variance", "variance_pct", "trend", "status",
                  "achievement_pct", "source", "computed_at", "updated_at"]  # fmt: skip


def kpi_export(*, actor, params, fmt: str | None = None):
    """API-KPI-14: the KPI list as the caller's filters show it, as CSV or XLSX; audited as
    planning.data.exported with the filters and the row count (INT-21)."""
    from planning.fileio.exports import ExportTarget, _filters_of, export_format
    from planning.fileio.writer import file_name, file_response
    from planning.selectors.kpis import kpi_metric_list, kpi_representation

    fmt = export_format(fmt if fmt is not None else params.get("format"))
    rows = list(kpi_metric_list(user=actor, filters=params))
    definitions = _definitions()
    name = file_name("kpi_metrics", fmt)
    with transaction.atomic():
        audit.record(
            actor=actor, event_type=events.DATA_EXPORTED, target=ExportTarget("kpi_metrics"), target_type="export",
            message=f"KPI metrics exported as {fmt.upper()} ({len(rows)} rows).",
            metadata={"dataset": "kpi_metrics", "format": fmt, "filters": _filters_of(params),
                      "row_count": len(rows), "file_name": name},
        )  # fmt: skip
    body = ([kpi_representation(row, definitions).get(c) for c in EXPORT_COLUMNS] for row in rows)
    return file_response(dataset="kpi_metrics", fmt=fmt, header=EXPORT_COLUMNS, rows=body, name=name)


REFRESH_INLINE_MONTHS = 3  # API-KPI-13: up to three months are computed in the request


def kpi_refresh_request(*, actor, period_from=None, period_to=None) -> tuple[dict, bool]:
    """API-KPI-13: a refresh of up to three closed months runs now and returns its result; a longer
    one is handed to a worker (`planning.tasks.refresh_kpis`) after the permission and the range are
    checked. Returns (body, queued)."""
    from genxsop.tasks import enqueue

    require_perm(actor, perms.REFRESH_KPI)
    periods = kpi_refresh_periods(period_from, period_to)
    if len(periods) <= REFRESH_INLINE_MONTHS:
        result = kpi_refresh(actor=actor, period_from=periods[0] if periods else period_from,
                             period_to=periods[-1] if periods else period_to)  # fmt: skip
        return {"periods": result["periods"], "kpis_written": result["kpis_written"]}, False
    task_id = enqueue("planning.tasks.refresh_kpis", period_from=f"{periods[0]:%Y-%m-%d}",
                      period_to=f"{periods[-1]:%Y-%m-%d}")  # fmt: skip
    return {"task_id": task_id, "status": "queued", "periods": [f"{p:%Y-%m-%d}" for p in periods]}, True
