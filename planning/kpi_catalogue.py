"""FRM-37: the catalogue of KPI definitions the system knows, and `kpi_definitions_ensure()`.

The catalogue says what a KPI is (code, name, category, unit, direction, default target); the
`kpi_definitions` table holds what an executive has made of it since (targets, thresholds, name).
`kpi_definitions_ensure` runs after every migrate: it adds what is missing and leaves every
existing row alone, so a target changed in the console survives deploys and test flushes.
"""

from dataclasses import dataclass
from decimal import Decimal

from planning.choices import KpiCategory as C
from planning.choices import KpiDirection as D


@dataclass(frozen=True)
class KpiSpec:
    code: str
    name: str
    category: str
    unit: str
    direction: str
    target: Decimal | None = None
    target_low: Decimal | None = None
    target_high: Decimal | None = None
    computed: bool = True
    description: str = ""


def _d(value) -> Decimal:
    return Decimal(str(value))


CATALOGUE: tuple[KpiSpec, ...] = (
    KpiSpec("forecast_accuracy", "Forecast accuracy", C.DEMAND, "%", D.HIGHER_IS_BETTER, _d(85),
            description="max(0, 100 - WAPE) over the period's accuracy points (product totals, consensus layer "
                        "where it exists else statistical, lag FORECAST_ACCURACY_LAG)."),
    KpiSpec("forecast_mape", "Forecast MAPE", C.DEMAND, "%", D.LOWER_IS_BETTER, _d(15),
            description="Mean absolute percentage error over the same points."),
    KpiSpec("forecast_bias", "Forecast bias", C.DEMAND, "%", D.CLOSEST_TO_ZERO, _d(5),
            description="Σ(F - A) / ΣA x 100 over the same points; the target is the tolerance either side of 0."),
    KpiSpec("forecast_value_added", "Forecast value added", C.DEMAND, "pp", D.HIGHER_IS_BETTER, _d(0),
            description="WAPE of the seasonal naive forecast minus WAPE of the forecast of record."),
    KpiSpec("demand_plan_adherence", "Demand plan adherence", C.DEMAND, "%", D.HIGHER_IS_BETTER, _d(90),
            description="max(0, 100 - Σ|P - A| / ΣA x 100) over the period's demand rows with actuals, P as "
                        "published before the period began."),
    KpiSpec("capacity_utilization", "Capacity utilisation", C.SUPPLY, "%", D.TARGET_RANGE, None, _d(75), _d(85),
            description="Σ planned production / Σ capacity over the period's supply rows with capacity."),
    KpiSpec("production_plan_adherence", "Production plan adherence", C.SUPPLY, "%", D.HIGHER_IS_BETTER, _d(95),
            description="Σ min(actual, planned) / Σ planned over supply rows with both."),
    KpiSpec("supplier_otd", "Supplier on-time delivery", C.SUPPLY, "%", D.HIGHER_IS_BETTER, _d(95), computed=False,
            description="Entered by hand."),
    KpiSpec("inventory_turns", "Inventory turns", C.INVENTORY, "turns", D.HIGHER_IS_BETTER, _d(8),
            description="COGS of the 12 months ending the period / mean month-end inventory valuation."),
    KpiSpec("days_of_supply", "Days of supply", C.INVENTORY, "days", D.TARGET_RANGE, None, _d(15), _d(30),
            description="Month-end valuation / daily cost of the planned demand of the next three months."),
    KpiSpec("excess_obsolete_pct", "Excess & obsolete", C.INVENTORY, "%", D.LOWER_IS_BETTER, _d(5),
            description="Valuation of excess rows / total valuation at month end."),
    KpiSpec("fill_rate", "Fill rate", C.SERVICE, "%", D.HIGHER_IS_BETTER, _d(98),
            description="Σ min(actual demand, opening stock + production) / Σ actual demand."),
    KpiSpec("otif", "OTIF (in-full proxy)", C.SERVICE, "%", D.HIGHER_IS_BETTER, _d(95),
            description="Share of products with demand whose opening stock + production covered it."),
    KpiSpec("order_cycle_time", "Order cycle time", C.SERVICE, "days", D.LOWER_IS_BETTER, _d(3), computed=False,
            description="Entered by hand."),
    KpiSpec("revenue_vs_plan", "Revenue vs plan", C.FINANCIAL, "%", D.TARGET_RANGE, None, _d(95), _d(105),
            description="Σ actual x price / Σ plan x price (plan as published before the period began)."),
    KpiSpec("gross_margin", "Gross margin", C.FINANCIAL, "%", D.HIGHER_IS_BETTER, _d(30),
            description="Σ actual x (price - cost) / Σ actual x price."),
    KpiSpec("working_capital_ratio", "Working capital ratio", C.FINANCIAL, "%", D.LOWER_IS_BETTER, _d(20),
            description="Mean month-end inventory valuation of 12 months / revenue of those months."),
)  # fmt: skip

BY_CODE: dict[str, KpiSpec] = {spec.code: spec for spec in CATALOGUE}
COMPUTED_CODES: tuple[str, ...] = tuple(spec.code for spec in CATALOGUE if spec.computed)
MANUAL_CODES: tuple[str, ...] = tuple(spec.code for spec in CATALOGUE if not spec.computed)


def kpi_definitions_ensure() -> int:
    """Create the catalogue definitions that do not exist yet; never touch an existing row. Returns
    how many were created. Not audited: it is the installation's reference data, like the role groups."""
    from planning.models import KpiDefinition

    existing = set(KpiDefinition.objects.values_list("code", flat=True))
    missing = [
        KpiDefinition(code=s.code, name=s.name, category=s.category, unit=s.unit, direction=s.direction,
                      target=s.target, target_low=s.target_low, target_high=s.target_high, is_computed=s.computed,
                      description=s.description)
        for s in CATALOGUE if s.code not in existing
    ]  # fmt: skip
    KpiDefinition.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
