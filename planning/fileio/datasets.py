"""The file datasets of INT-20…22: their import columns, export columns and who may use them.

Export columns are the import columns (so an exported file imports again) plus read-only
columns, which an import recognises and ignores.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planning import permissions as perms
from planning.choices import BatchOperation


def _get(obj, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def attr(path: str) -> Callable[[Any], Any]:
    """Value at a dotted path (`product.sku`); None when a link on the way is missing."""

    def read(obj):
        for part in path.split("."):
            if obj is None:
                return None
            obj = _get(obj, part)
        return obj

    return read


def _category_path(product) -> str:
    names = []
    node = product.category
    while node is not None:
        names.append(node.name)
        node = node.parent
    return "/".join(reversed(names))


def _month(path: str) -> Callable[[Any], Any]:
    read = attr(path)
    return lambda obj: value.strftime("%Y-%m") if (value := read(obj)) is not None else None


@dataclass(frozen=True)
class Column:
    name: str
    value: Callable[[Any], Any] | None = None  # None: the attribute of the same name
    required: bool = False
    importable: bool = True

    def read(self, obj):
        return (self.value or attr(self.name))(obj)


def ro(name: str, value=None) -> Column:
    return Column(name, value, importable=False)


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    columns: tuple[Column, ...]
    view_perm: str
    list_selector: str  # name in planning.selectors, resolved when used
    operation: str | None = None  # None: export only
    import_perms: tuple[str, ...] = ()
    exportable: bool = True
    # Extra select_related paths the export reads (e.g. the category path of a product).
    related: tuple[str, ...] = ()

    @property
    def importable(self) -> bool:
        return self.operation is not None

    @property
    def import_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.importable]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.importable and c.required]

    @property
    def read_only_columns(self) -> list[str]:
        return [c.name for c in self.columns if not c.importable]

    @property
    def export_columns(self) -> list[Column]:
        return list(self.columns)


_SKU = Column("sku", attr("product.sku"), required=True)
_PRODUCT_NAME = ro("product_name", attr("product.name"))
_PERIOD = Column("period", _month("period"), required=True)
_PLAN_TAIL = (ro("version"), ro("status"), ro("updated_at"))

PRODUCTS = Dataset(
    name="products",
    label="Products",
    view_perm=perms.VIEW_PRODUCT,
    list_selector="product_list",
    operation=BatchOperation.IMPORT_PRODUCTS,
    import_perms=(perms.ADD_PRODUCT, perms.CHANGE_PRODUCT),
    related=("category__parent__parent",),
    columns=(
        ro("id"),
        Column("sku", required=True),
        Column("name", required=True),
        Column("category", _category_path),
        Column("product_family"),
        Column("unit_of_measure"),
        Column("unit_cost"),
        Column("selling_price"),
        Column("lead_time_days"),
        Column("min_order_qty"),
        Column("status"),
        Column("description"),
        ro("abc_class"),
        ro("updated_at"),
    ),
)
LOCATIONS = Dataset(
    name="locations",
    label="Locations",
    view_perm=perms.VIEW_LOCATION,
    list_selector="location_list",
    columns=(
        ro("id"),
        ro("code"),
        ro("name"),
        ro("location_type"),
        ro("region"),
        ro("is_active"),
        ro("updated_at"),
    ),
)
DEMAND_PLANS = Dataset(
    name="demand_plans",
    label="Demand plans",
    view_perm=perms.VIEW_DEMAND_PLAN,
    list_selector="demand_plan_list",
    operation=BatchOperation.IMPORT_DEMAND_PLANS,
    import_perms=(perms.ADD_DEMAND_PLAN, perms.CHANGE_DEMAND_PLAN),
    columns=(
        ro("id"),
        _SKU,
        _PRODUCT_NAME,
        _PERIOD,
        Column("region"),
        Column("channel"),
        Column("forecast_qty"),
        Column("adjusted_qty"),
        Column("consensus_qty"),
        Column("actual_qty"),
        ro("demand_qty"),
        Column("confidence"),
        Column("notes"),
        *_PLAN_TAIL,
    ),
)
DEMAND_ACTUALS = Dataset(
    name="demand_actuals",
    label="Demand actuals",
    view_perm=perms.VIEW_DEMAND_PLAN,
    list_selector="demand_plan_list",
    operation=BatchOperation.IMPORT_DEMAND_ACTUALS,
    import_perms=(perms.ADD_DEMAND_PLAN, perms.CHANGE_DEMAND_PLAN),
    exportable=False,
    columns=(
        _SKU,
        _PERIOD,
        Column("region"),
        Column("channel"),
        Column("actual_qty", required=True),
    ),
)
SUPPLY_PLANS = Dataset(
    name="supply_plans",
    label="Supply plans",
    view_perm=perms.VIEW_SUPPLY_PLAN,
    list_selector="supply_plan_list",
    operation=BatchOperation.IMPORT_SUPPLY_PLANS,
    import_perms=(perms.ADD_SUPPLY_PLAN, perms.CHANGE_SUPPLY_PLAN),
    columns=(
        ro("id"),
        _SKU,
        _PRODUCT_NAME,
        _PERIOD,
        Column("location", attr("location.code")),
        Column("planned_prod_qty"),
        Column("actual_prod_qty"),
        Column("capacity_max"),
        Column("capacity_used"),
        Column("supplier_name"),
        Column("lead_time_days"),
        Column("cost_per_unit"),
        Column("constraints"),
        *_PLAN_TAIL,
    ),
)
GAP_ANALYSIS = Dataset(
    name="gap_analysis",
    label="Gap analysis",
    view_perm=perms.VIEW_SUPPLY_PLAN,
    list_selector="gap_analysis",
    columns=tuple(
        ro(name, _month("period") if name == "period" else None)
        for name in (
            "product_id",
            "sku",
            "product_name",
            "period",
            "demand_qty",
            "demand_source",
            "planned_production_qty",
            "actual_production_qty",
            "inventory_available_qty",
            "effective_supply_qty",
            "additional_prod_required_qty",
            "plan_gap_qty",
            "plan_gap_pct",
            "actual_gap_qty",
            "actual_gap_pct",
            "coverage_gap_qty",
            "coverage_gap_pct",
            "status",
        )
    ),
)
INVENTORY = Dataset(
    name="inventory",
    label="Inventory",
    view_perm=perms.VIEW_INVENTORY,
    list_selector="inventory_list",
    operation=BatchOperation.IMPORT_INVENTORY,
    import_perms=(perms.ADD_INVENTORY, perms.CHANGE_INVENTORY),
    columns=(
        ro("id"),
        _SKU,
        _PRODUCT_NAME,
        Column("location", attr("location.code"), required=True),
        Column("on_hand_qty", required=True),
        Column("allocated_qty"),
        Column("in_transit_qty"),
        Column("safety_stock"),
        Column("reorder_point"),
        Column("max_stock"),
        # Importing a valuation pins it as ERP-given (FRM-04): only such a value goes out in this
        # column, so an exported file does not freeze a computed valuation when imported again.
        Column("valuation", lambda row: row.valuation if row.valuation_from_erp else None),
        Column("last_receipt_date"),
        Column("last_issue_date"),
        ro("stock_value", attr("valuation")),
        ro("days_of_supply"),
        ro("status"),
        ro("version"),
        ro("updated_at"),
    ),
)
INVENTORY_SNAPSHOTS = Dataset(
    name="inventory_snapshots",
    label="Inventory snapshots",
    view_perm=perms.VIEW_INVENTORY_SNAPSHOT,
    list_selector="inventory_snapshot_list",
    columns=(
        ro("id"),
        ro("sku", attr("product.sku")),
        ro("product_name", attr("product.name")),
        ro("location", attr("location.code")),
        ro("period", _month("period")),
        *(
            ro(name)
            for name in (
                "on_hand_qty",
                "allocated_qty",
                "in_transit_qty",
                "safety_stock",
                "reorder_point",
                "max_stock",
                "valuation",
                "status",
                "source",
                "captured_at",
            )
        ),
    ),
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (PRODUCTS, LOCATIONS, DEMAND_PLANS, DEMAND_ACTUALS, SUPPLY_PLANS, GAP_ANALYSIS, INVENTORY,
              INVENTORY_SNAPSHOTS)
}  # fmt: skip
