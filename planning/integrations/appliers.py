"""Dataset rules of the batch engine (INT-05…08, INT-20): one applier per dataset.

Set-based appliers (`SetApplier`) work a chunk at a time with a fixed number of queries: prefetch
products by SKU, locations by code and the existing rows; `plan` decides each item's outcome in
memory without writing; `write` stores the planned changes with bulk inserts/updates and bulk audit
rows. Row appliers (`RowApplier`, plan content imports) call the plan services per row, since a
content change is a new version with its history row and the file size bounds the row count.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from genxsop.errors import DomainError, NotFound, ValidationFailed
from genxsop.scoping import object_scope
from genxsop.services import snapshot
from planning import events, inventory_rules
from planning import permissions as perms
from planning.choices import (
    PRODUCT_TRANSITIONS,
    BatchOperation,
    LocationType,
    PlanSource,
    PlanStatus,
    PolicySource,
    ProductStatus,
    SnapshotSource,
)
from planning.integrations.bulk import bulk_update_rows, insert_rows, record_audit
from planning.integrations.values import (
    GRANULARITY_CONFLICT,
    INVALID_VALUE,
    NOT_FOUND,
    OUT_OF_RANGE,
    REQUIRED_FIELD,
    UNKNOWN_LOCATION,
    UNKNOWN_SKU,
    Field,
    ItemError,
)
from planning.models import (
    DEFAULT_LOCATION_CODE,
    MAX_CATEGORY_LEVEL,
    TOTAL_CHANNEL,
    TOTAL_REGION,
    Category,
    DemandPlan,
    Inventory,
    InventorySnapshot,
    Location,
    Product,
    SupplyPlan,
)

CHUNK_SIZE = 1000
ERP_PLAN_NOTE = "[Created by ERP actuals sync]"
_QTY = {"kind": "decimal", "minimum": Decimal(0)}


@dataclass
class Item:
    index: int
    raw: dict
    key: str = ""
    values: dict = field(default_factory=dict)
    outcome: str = ""  # created | updated | skipped | failed
    code: str = ""
    message: str = ""
    field: str = ""
    change: object = None  # what `write` stores, set by `plan`

    def fail(self, error: ItemError) -> None:
        self.outcome, self.code, self.message, self.field = "failed", error.code, error.message, error.field
        self.change = None

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


@dataclass
class Context:
    actor: object
    operation: str
    channel: str
    meta: dict
    batch_uuid: str
    api_token_id: int | None
    now: datetime.datetime

    @property
    def source(self) -> str:
        """Where the change came from in plan `source` and audit metadata: the ERP or a file."""
        return PlanSource.ERP if self.channel == "api" else PlanSource.IMPORT

    def audit_metadata(self, **extra) -> dict:
        meta = {"source": self.source, "channel": self.channel, "batch_uuid": self.batch_uuid, **extra}
        if self.api_token_id:
            meta["api_token_id"] = self.api_token_id
        return meta


def _text(value) -> str:
    return "" if value is None else str(value).strip()


class Applier:
    operation: str
    permission: str
    fields: tuple[Field, ...] = ()
    key_fields: tuple[str, ...] = ()
    quantity_field: str | None = None
    set_based = True

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._inserted: list = []
        scope = object_scope(ctx.actor)
        self._category_scope = scope.category_ids(change=True)
        self._location_scope = scope.location_ids(change=True)

    # Parsing ----------------------------------------------------------------------------

    def item_key(self, raw: dict) -> str:
        return "/".join(_text(raw.get(name)) for name in self.key_fields)

    def parse(self, item: Item) -> None:
        if not isinstance(item.raw, dict):
            raise ItemError(INVALID_VALUE, "Each item must be an object.")
        item.values = {f.name: f.coerce(item.raw.get(f.name)) for f in self.fields}
        self.normalise(item)

    def normalise(self, item: Item) -> None:
        """Dataset-specific checks of one item that need no query."""

    def dedupe_key(self, item: Item) -> tuple:
        return tuple(item.values.get(name) for name in self.key_fields)

    # Scope ------------------------------------------------------------------------------

    def category_in_scope(self, category_id) -> bool:
        return self._category_scope is None or category_id in self._category_scope

    def location_in_scope(self, location_id) -> bool:
        return self._location_scope is None or location_id in self._location_scope

    def require_product(self, products: dict, item: Item) -> Product:
        product = products.get(item.values["sku"])
        if product is None:
            raise ItemError(UNKNOWN_SKU, f"No product with SKU {item.values['sku']}.", "sku")
        if not self.category_in_scope(product.category_id):
            raise ItemError(NOT_FOUND, f"Product {product.sku} is outside your scope.", "sku")
        return product

    def require_location(self, locations: dict, code: str, item_field: str = "location") -> Location:
        location = locations.get(code)
        if location is None:
            raise ItemError(UNKNOWN_LOCATION, f"No location with code {code}.", item_field)
        if not self.location_in_scope(location.pk):
            raise ItemError(NOT_FOUND, f"Location {code} is outside your scope.", item_field)
        return location

    # Processing (set-based) ---------------------------------------------------------------

    def prepare(self, items: list[Item]) -> None:
        """Prefetch what `plan` needs for a chunk of parsed items (a fixed number of queries)."""

    def plan(self, item: Item) -> None:
        """Decide the outcome of one item in memory; raise ItemError to fail it."""
        raise NotImplementedError

    def write(self, items: list[Item]) -> None:
        """Store the planned changes of a chunk (created/updated items), audited."""
        raise NotImplementedError

    def apply_row(self, item: Item) -> None:
        """Row appliers: apply one item through the services."""
        raise NotImplementedError

    def start_write(self) -> None:
        self._inserted = []

    def insert(self, model, objs: list) -> None:
        insert_rows(model, objs, batch_size=CHUNK_SIZE)
        self._inserted.extend(objs)

    def forget_inserted(self) -> None:
        """After a rolled-back write: the rows it inserted do not exist, so a retry inserts them again."""
        for obj in self._inserted:
            obj.pk = None
            obj._state.adding = True
        self._inserted = []


def products_by_sku(skus) -> dict[str, Product]:
    return {p.sku: p for p in Product.objects.filter(sku__in=set(skus))}


def locations_by_code(codes) -> dict[str, Location]:
    return {loc.code: loc for loc in Location.objects.filter(code__in=set(codes))}


def _differs(current, new) -> bool:
    if isinstance(current, Decimal) or isinstance(new, Decimal):
        if current is None or new is None:
            return current is not new
        return Decimal(current) != Decimal(new)
    return current != new


# Products (INT-05, INT-20 products) ---------------------------------------------------------

PRODUCT_SYNC_FIELDS = ("name", "product_family", "lead_time_days", "unit_of_measure", "unit_cost", "selling_price",
                       "min_order_qty", "status", "description")  # fmt: skip


class ProductApplier(Applier):
    operation = BatchOperation.PRODUCTS_SYNC
    permission = perms.ADD_INTEGRATION_BATCH
    key_fields = ("sku",)
    fields = (
        Field("sku", required=True, max_length=50),
        Field("name", required=True),
        Field("category_name"),
        Field("category", max_length=800),
        Field("product_family", max_length=100),
        Field("unit_of_measure", max_length=20),
        Field("unit_cost", **_QTY),
        Field("selling_price", **_QTY),
        Field("lead_time_days", kind="int"),
        Field("min_order_qty", kind="int", minimum=1),
        Field("status", kind="choice", choices=tuple(ProductStatus.values)),
        Field("description", max_length=1000),
    )

    def __init__(self, ctx):
        super().__init__(ctx)
        self._new_categories: dict[tuple[str, ...], Category] = {}

    def normalise(self, item):
        values = item.values
        # The API names the category `category_name`; files give a path "Parent/Child".
        text = values.pop("category_name", None) or values.pop("category", None)
        values.pop("category", None)
        path = tuple(part.strip() for part in text.split("/")) if text else None
        if path is not None and (any(not p for p in path) or len(path) > MAX_CATEGORY_LEVEL + 1):
            raise ItemError(INVALID_VALUE, "category must be a name or a path of at most three names.", "category")
        values["category_path"] = path

    def prepare(self, items):
        self.products = products_by_sku(i.values["sku"] for i in items)
        names = {name for i in items for name in (i.values["category_path"] or ())}
        self.categories = list(Category.objects.filter(name__in=names)) if names else []
        self._by_parent_name = {(c.parent_id, c.name): c for c in self.categories}

    def _resolve_category(self, path: tuple[str, ...]):
        """INT-05: a single name matches any level (top level preferred); a path walks from the root.
        Returns an existing Category or the path of the categories to create."""
        if len(path) == 1:
            matches = sorted((c for c in self.categories if c.name == path[0]), key=lambda c: (c.level, c.pk))
            return matches[0] if matches else path
        parent = None
        for depth, name in enumerate(path):
            node = self._by_parent_name.get((parent.pk if parent else None, name))
            if node is None:
                return path[: depth + 1] if depth == len(path) - 1 else path
            parent = node
        return parent

    def plan(self, item):
        values = item.values
        category = None
        if values["category_path"] is not None:
            category = self._resolve_category(values["category_path"])
            if isinstance(category, tuple):
                if self._category_scope is not None:
                    raise ItemError(NOT_FOUND, "A new category would lie outside your scope.", "category")
            elif not self.category_in_scope(category.pk):
                raise ItemError(NOT_FOUND, f"Category {category.name} is outside your scope.", "category")
        product = self.products.get(values["sku"])
        given = {k: values[k] for k in PRODUCT_SYNC_FIELDS if values.get(k) is not None}
        if product is None:
            product = Product(sku=values["sku"], **given)
            product.status = given.get("status") or ProductStatus.ACTIVE
            item.outcome, item.change = "created", {"row": product, "category": category}
            return
        if not self.category_in_scope(product.category_id):
            raise ItemError(NOT_FOUND, f"Product {product.sku} is outside your scope.", "sku")
        changes = {k: v for k, v in given.items() if _differs(getattr(product, k), v)}
        if "status" in changes and not any(
            moves.get(product.status) == changes["status"] for moves in PRODUCT_TRANSITIONS.values()
        ):
            # WF-01: the ERP may discontinue or reactivate a product, never move it along a path the
            # product lifecycle does not have (e.g. back to `new`).
            raise ItemError(INVALID_VALUE, f"Product {product.sku} cannot go from {product.status} to "
                                           f"{changes['status']}.", "status")  # fmt: skip
        if category is not None and (isinstance(category, tuple) or category.pk != product.category_id):
            changes["category"] = category
        if not changes:
            item.outcome = "skipped"
            return
        item.outcome = "updated"
        item.change = {"row": product, "before": snapshot(product), "changes": changes}

    def forget_inserted(self) -> None:
        gone = {id(obj) for obj in self._inserted if isinstance(obj, Category)}
        self._new_categories = {k: v for k, v in self._new_categories.items() if id(v) not in gone}
        self._by_parent_name = {k: v for k, v in self._by_parent_name.items() if id(v) not in gone}
        super().forget_inserted()

    def _create_categories(self, items) -> None:
        """Categories an item names that do not exist yet, created once per batch (audited like category_create)."""
        created = []
        for item in items:
            if not item.change:
                continue
            target = item.change["category"] if "category" in item.change else item.change["changes"].get("category")
            if not isinstance(target, tuple):
                continue
            parent = None
            for depth in range(len(target)):
                prefix = target[: depth + 1]
                node = self._new_categories.get(prefix)
                if node is None and len(target) > 1:
                    node = self._by_parent_name.get((parent.pk if parent else None, prefix[-1]))
                if node is None:
                    node = Category(name=prefix[-1], parent=parent, level=depth)
                    node.save()
                    self._inserted.append(node)
                    self._new_categories[prefix] = node
                    self._by_parent_name[(parent.pk if parent else None, node.name)] = node
                    created.append(node)
                parent = node
            if "category" in item.change:
                item.change["category"] = parent
            else:
                item.change["changes"]["category"] = parent
        record_audit([
            {"actor": self.ctx.actor, "event_type": events.CATEGORY_CREATED, "target": c, "after": snapshot(c),
             "metadata": self.ctx.audit_metadata()} for c in created
        ])  # fmt: skip

    def write(self, items):
        self._create_categories(items)
        new = [i for i in items if i.outcome == "created"]
        changed = [i for i in items if i.outcome == "updated"]
        rows = []
        for item in new:
            row = item.change["row"]
            row.category = item.change["category"]
            rows.append(row)
        self.insert(Product, rows)
        update_fields = set()
        for item in changed:
            for key, value in item.change["changes"].items():
                setattr(item.change["row"], key, value)
                update_fields.add(key)
            item.change["row"].updated_at = self.ctx.now
        if changed:
            bulk_update_rows(Product, [i.change["row"] for i in changed], [*sorted(update_fields), "updated_at"],
                                        batch_size=CHUNK_SIZE)  # fmt: skip
        meta = self.ctx.audit_metadata()
        record_audit(
            [{"actor": self.ctx.actor, "event_type": events.PRODUCT_CREATED, "target": r, "after": snapshot(r),
              "metadata": meta} for r in rows]
            + [{"actor": self.ctx.actor, "event_type": events.PRODUCT_UPDATED, "target": i.change["row"],
                "before": i.change["before"], "after": snapshot(i.change["row"]), "metadata": meta}
               for i in changed]
        )  # fmt: skip


class ProductImportApplier(ProductApplier):
    operation = BatchOperation.IMPORT_PRODUCTS
    permission = perms.ADD_PRODUCT


# Inventory (INT-06, INT-20 inventory) -------------------------------------------------------

INVENTORY_SYNC_FIELDS = ("on_hand_qty", "allocated_qty", "in_transit_qty", "last_receipt_date", "last_issue_date")
INVENTORY_POLICY_FIELDS = ("safety_stock", "reorder_point", "max_stock")


class InventoryApplier(Applier):
    operation = BatchOperation.INVENTORY_SYNC
    permission = perms.ADD_INTEGRATION_BATCH
    key_fields = ("sku", "location")
    quantity_field = "on_hand_qty"
    fields = (
        Field("sku", required=True, max_length=50),
        Field("location", required=True, max_length=50),
        Field("on_hand_qty", required=True, **_QTY),
        Field("allocated_qty", **_QTY),
        Field("in_transit_qty", **_QTY),
        Field("valuation", max_digits=14, **_QTY),
        Field("last_receipt_date", kind="date"),
        Field("last_issue_date", kind="date"),
    )
    policy_fields: tuple[str, ...] = ()
    # The sync sends whole stock positions (missing quantities are 0); a file changes only what it names.
    zero_defaults = ("allocated_qty", "in_transit_qty")
    policy_source = PolicySource.ERP

    def __init__(self, ctx):
        super().__init__(ctx)
        self._new_locations: dict[str, Location] = {}
        default = ctx.channel == "api"
        self.create_missing_locations = ctx.meta.get("create_missing_locations", default) is not False
        self.snapshot_at = ctx.meta.get("as_of_parsed") or ctx.now

    def normalise(self, item):
        for name in self.zero_defaults:
            if item.values.get(name) is None:
                item.values[name] = Decimal("0.00")

    def prepare(self, items):
        self.products = products_by_sku(i.values["sku"] for i in items)
        self.locations = locations_by_code(i.values["location"] for i in items)
        product_ids = {p.pk for p in self.products.values()}
        location_ids = {loc.pk for loc in self.locations.values()}
        self.rows = {
            (row.product_id, row.location_id): row
            for row in Inventory.objects.filter(product_id__in=product_ids, location_id__in=location_ids)
        } if product_ids and location_ids else {}  # fmt: skip

    def _location(self, code: str) -> Location:
        location = self.locations.get(code) or self._new_locations.get(code)
        if location is not None:
            if location.pk is not None and not self.location_in_scope(location.pk):
                raise ItemError(NOT_FOUND, f"Location {code} is outside your scope.", "location")
            if location.pk is None and self._location_scope is not None:
                raise ItemError(NOT_FOUND, f"A new location {code} would lie outside your scope.", "location")
            return location
        if not self.create_missing_locations:
            raise ItemError(UNKNOWN_LOCATION, f"No location with code {code}.", "location")
        if self._location_scope is not None:
            raise ItemError(NOT_FOUND, f"A new location {code} would lie outside your scope.", "location")
        location = Location(code=code, name=code, location_type=LocationType.WAREHOUSE)
        self._new_locations[code] = location
        return location

    def _check_policy(self, row: Inventory) -> None:
        if row.reorder_point < row.safety_stock:
            raise ItemError(OUT_OF_RANGE, "The reorder point cannot be below the safety stock.", "reorder_point")
        if row.max_stock is not None and row.max_stock < row.reorder_point:
            raise ItemError(OUT_OF_RANGE, "The maximum stock cannot be below the reorder point.", "max_stock")

    def plan(self, item):
        values = item.values
        product = self.require_product(self.products, item)
        location = self._location(values["location"])
        row = self.rows.get((product.pk, location.pk)) if location.pk else None
        given = {k: values[k] for k in (*INVENTORY_SYNC_FIELDS, *self.policy_fields) if values.get(k) is not None}
        if row is None:
            if location.pk is not None and not location.is_active:
                raise ItemError(INVALID_VALUE, f"Location {location.code} is deactivated.", "location")
            row = Inventory(product=product, location=location, policy_source=self.policy_source, **given)
            if values.get("valuation") is not None:
                row.valuation, row.valuation_from_erp = values["valuation"], True
            self._check_policy(row)
            item.outcome, item.change = "created", {"row": row}
            return
        changes = {k: v for k, v in given.items() if _differs(getattr(row, k), v)}
        if values.get("valuation") is not None and (_differs(row.valuation, values["valuation"])
                                                    or not row.valuation_from_erp):  # fmt: skip
            changes.update(valuation=values["valuation"], valuation_from_erp=True)
        if not changes:
            item.outcome, item.change = "skipped", {"row": row}
            return
        before = snapshot(row)
        for key, value in changes.items():
            setattr(row, key, value)
        if any(k in changes for k in INVENTORY_POLICY_FIELDS):
            row.policy_source = self.policy_source
        self._check_policy(row)
        item.outcome, item.change = "updated", {"row": row, "before": before}

    def write(self, items):
        ctx = self.ctx
        new_locations = [loc for loc in self._new_locations.values() if loc.pk is None]
        if new_locations:
            self.insert(Location, new_locations)
            meta = ctx.audit_metadata()
            record_audit([{"actor": ctx.actor, "event_type": events.LOCATION_CREATED, "target": loc,
                                "after": snapshot(loc), "metadata": meta} for loc in new_locations])  # fmt: skip
        created = [i.change["row"] for i in items if i.outcome == "created"]
        updated = [i for i in items if i.outcome == "updated"]
        for row in created:
            row.location = row.location  # the id of a location saved (again) just above
            row.snapshot_at, row.updated_by = self.snapshot_at, ctx.actor
        for item in updated:
            row = item.change["row"]
            row.snapshot_at, row.updated_by, row.updated_at = self.snapshot_at, ctx.actor, ctx.now
            row.version = item.change["before"]["version"] + 1  # the same on a retried write
        inventory_rules.recompute([*created, *(i.change["row"] for i in updated)])
        self.insert(Inventory, created)
        if updated:
            bulk_update_rows(
                Inventory,
                [i.change["row"] for i in updated],
                [*INVENTORY_SYNC_FIELDS, *INVENTORY_POLICY_FIELDS, "valuation_from_erp", "policy_source",
                 *inventory_rules.DERIVED_FIELDS, "snapshot_at", "version", "updated_by", "updated_at"],
                batch_size=CHUNK_SIZE,
            )  # fmt: skip
        skipped = [i.change["row"].pk for i in items if i.outcome == "skipped"]
        if skipped and ctx.channel == "api":
            # A re-sent unchanged position still confirms the stock as of now (freshness, FRM-10).
            Inventory.objects.filter(pk__in=skipped).update(snapshot_at=self.snapshot_at)
        meta = ctx.audit_metadata()
        record_audit(
            [{"actor": ctx.actor, "event_type": events.INVENTORY_CREATED, "target": r, "after": snapshot(r),
              "metadata": meta} for r in created]
            + [{"actor": ctx.actor, "event_type": events.INVENTORY_UPDATED, "target": i.change["row"],
                "before": i.change["before"], "after": snapshot(i.change["row"]), "metadata": meta} for i in updated]
        )  # fmt: skip
        period = ctx.meta.get("snapshot_period_parsed")
        if period is not None:
            self._write_snapshots(period, [i.change["row"] for i in items if i.change and i.change["row"].pk])

    def _write_snapshots(self, period: datetime.date, rows: list[Inventory]) -> None:
        """INT-06: the month-end snapshot of `period` upserted from the synced positions (`source = erp`)."""
        if not rows:
            return
        found = InventorySnapshot.objects.filter(period=period, product_id__in={r.product_id for r in rows},
                                                 location_id__in={r.location_id for r in rows})  # fmt: skip
        existing = {(s.product_id, s.location_id): s for s in found}
        copied = ["on_hand_qty", "allocated_qty", "in_transit_qty", "safety_stock", "reorder_point", "max_stock",
                  "valuation", "status"]  # fmt: skip
        new, changed = [], []
        for row in rows:
            snap = existing.get((row.product_id, row.location_id))
            if snap is None:
                snap = InventorySnapshot(product_id=row.product_id, location_id=row.location_id, period=period)
                new.append(snap)
            else:
                changed.append(snap)
            for name in copied:
                setattr(snap, name, getattr(row, name))
            snap.source, snap.captured_at = SnapshotSource.ERP, self.snapshot_at
        self.insert(InventorySnapshot, new)
        if changed:
            bulk_update_rows(InventorySnapshot, changed, [*copied, "source", "captured_at"], batch_size=CHUNK_SIZE)


class InventoryImportApplier(InventoryApplier):
    operation = BatchOperation.IMPORT_INVENTORY
    permission = perms.ADD_INVENTORY
    fields = (
        *InventoryApplier.fields,
        Field("safety_stock", **_QTY),
        Field("reorder_point", **_QTY),
        Field("max_stock", **_QTY),
    )
    policy_fields = INVENTORY_POLICY_FIELDS
    zero_defaults = ()
    policy_source = PolicySource.MANUAL


# Actuals (INT-07, INT-08, INT-20 demand actuals) ------------------------------------------------


class ActualsApplier(Applier):
    """Record the actual on the current plan row of each key, in any status and without a new
    version; a missing row is created as a draft (forecast 0) when `create_missing_plans`."""

    model: type
    actual_field: str
    event_created: str
    event_actual: str

    def __init__(self, ctx):
        super().__init__(ctx)
        self.create_missing = ctx.meta.get("create_missing_plans", True) is not False
        self.current_month = timezone.localdate().replace(day=1)

    def normalise(self, item):
        if item.values["period"] > self.current_month:
            raise ItemError(INVALID_VALUE, "Actuals cannot be recorded for a month after the current one.", "period")

    def plan_key(self, item, product) -> tuple:
        raise NotImplementedError

    def new_row(self, item, product):
        raise NotImplementedError

    def check_new(self, item, product, key) -> None:
        """Rules for a row about to be created (granularity, active location)."""

    def plan(self, item):
        product = self.require_product(self.products, item)
        key = self.plan_key(item, product)
        actual = item.values[self.actual_field]
        row = self.rows.get(key)
        if row is not None:
            if not _differs(getattr(row, self.actual_field), actual):
                item.outcome = "skipped"
                return
            item.outcome = "updated"
            item.change = {"row": row, "before": getattr(row, self.actual_field)}
            return
        if not self.create_missing:
            raise ItemError(NOT_FOUND, "No current plan row for this key.", "")
        if product.status == ProductStatus.DISCONTINUED:
            raise ItemError(INVALID_VALUE, f"Product {product.sku} is discontinued; no plan row can be created.", "sku")
        self.check_new(item, product, key)
        row = self.new_row(item, product)
        setattr(row, self.actual_field, actual)
        row.actual_updated_at = self.ctx.now
        row.status, row.version, row.is_current, row.source = PlanStatus.DRAFT, 1, True, self.ctx.source
        row.created_by = row.updated_by = self.ctx.actor
        self.rows[key] = row
        item.outcome, item.change = "created", {"row": row}

    def write(self, items):
        ctx = self.ctx
        created = [i.change["row"] for i in items if i.outcome == "created"]
        updated = [i for i in items if i.outcome == "updated"]
        for item in updated:
            row = item.change["row"]
            setattr(row, self.actual_field, item.values[self.actual_field])
            row.actual_updated_at, row.updated_by, row.updated_at = ctx.now, ctx.actor, ctx.now
        self.insert(self.model, created)
        if updated:
            bulk_update_rows(self.model, [i.change["row"] for i in updated],
                                           [self.actual_field, "actual_updated_at", "updated_by", "updated_at"],
                                           batch_size=CHUNK_SIZE)  # fmt: skip
        meta = ctx.audit_metadata()
        name = self.actual_field
        record_audit(
            [{"actor": ctx.actor, "event_type": self.event_created, "target": r, "after": snapshot(r),
              "metadata": meta} for r in created]
            + [{"actor": ctx.actor, "event_type": self.event_actual, "target": i.change["row"],
                "before": {name: _json_qty(i.change["before"])},
                "after": {name: _json_qty(getattr(i.change["row"], name))}, "metadata": meta} for i in updated]
        )  # fmt: skip


def _json_qty(value):
    return None if value is None else str(value)


class DemandActualsApplier(ActualsApplier):
    operation = BatchOperation.DEMAND_ACTUALS_SYNC
    permission = perms.ADD_INTEGRATION_BATCH
    model = DemandPlan
    actual_field = "actual_qty"
    event_created = events.DEMAND_PLAN_CREATED
    event_actual = events.DEMAND_PLAN_ACTUAL_RECORDED
    key_fields = ("sku", "period", "region", "channel")
    quantity_field = "actual_qty"
    fields = (
        Field("sku", required=True, max_length=50),
        Field("period", kind="period", required=True),
        Field("actual_qty", required=True, **_QTY),
        Field("region", max_length=100),
        Field("channel", max_length=100),
    )

    def normalise(self, item):
        super().normalise(item)
        item.values["region"] = item.values["region"] or TOTAL_REGION
        item.values["channel"] = item.values["channel"] or TOTAL_CHANNEL

    def prepare(self, items):
        self.products = products_by_sku(i.values["sku"] for i in items)
        ids = {p.pk for p in self.products.values()}
        periods = {i.values["period"] for i in items}
        rows = DemandPlan.objects.filter(is_current=True, product_id__in=ids, period__in=periods) if ids else []
        self.rows = {(r.product_id, r.period, r.region, r.channel): r for r in rows}
        self.granularity = defaultdict(set)
        for product_id, period, region, channel in self.rows:
            self.granularity[(product_id, period)].add((region, channel))

    def plan_key(self, item, product):
        v = item.values
        return (product.pk, v["period"], v["region"], v["channel"])

    def check_new(self, item, product, key):
        """PLN-22 against the current rows and the rows this batch creates."""
        total = (TOTAL_REGION, TOTAL_CHANNEL)
        present = self.granularity[(product.pk, item.values["period"])]
        dims = (item.values["region"], item.values["channel"])
        if (dims == total and present - {total}) or (dims != total and total in present):
            raise ItemError(GRANULARITY_CONFLICT, "This product-period is planned either as one total row "
                                                  "(Global/All) or as detail rows, never both.", "region")  # fmt: skip
        present.add(dims)

    def new_row(self, item, product):
        v = item.values
        return DemandPlan(product=product, period=v["period"], region=v["region"], channel=v["channel"],
                          forecast_qty=Decimal("0.00"), notes=ERP_PLAN_NOTE)  # fmt: skip


class DemandActualsImportApplier(DemandActualsApplier):
    operation = BatchOperation.IMPORT_DEMAND_ACTUALS
    permission = perms.CHANGE_DEMAND_PLAN


class SupplyActualsApplier(ActualsApplier):
    operation = BatchOperation.SUPPLY_ACTUALS_SYNC
    permission = perms.ADD_INTEGRATION_BATCH
    model = SupplyPlan
    actual_field = "actual_prod_qty"
    event_created = events.SUPPLY_PLAN_CREATED
    event_actual = events.SUPPLY_PLAN_ACTUAL_RECORDED
    key_fields = ("sku", "period", "location")
    quantity_field = "actual_prod_qty"
    fields = (
        Field("sku", required=True, max_length=50),
        Field("period", kind="period", required=True),
        Field("actual_prod_qty", required=True, **_QTY),
        Field("location", max_length=50),
    )

    def normalise(self, item):
        super().normalise(item)
        item.values["location"] = item.values["location"] or DEFAULT_LOCATION_CODE

    def prepare(self, items):
        self.products = products_by_sku(i.values["sku"] for i in items)
        self.locations = locations_by_code(i.values["location"] for i in items)
        ids = {p.pk for p in self.products.values()}
        periods = {i.values["period"] for i in items}
        location_ids = {loc.pk for loc in self.locations.values()}
        rows = SupplyPlan.objects.filter(is_current=True, product_id__in=ids, period__in=periods,
                                         location_id__in=location_ids) if ids else []  # fmt: skip
        self.rows = {(r.product_id, r.period, r.location_id): r for r in rows}

    def plan_key(self, item, product):
        location = self.require_location(self.locations, item.values["location"])
        item.values["_location"] = location
        return (product.pk, item.values["period"], location.pk)

    def check_new(self, item, product, key):
        location = item.values["_location"]
        if not location.is_active:
            raise ItemError(INVALID_VALUE, f"Location {location.code} is deactivated.", "location")

    def new_row(self, item, product):
        return SupplyPlan(product=product, period=item.values["period"], location=item.values["_location"],
                          change_reason=ERP_PLAN_NOTE)  # fmt: skip


# Plan content imports (INT-20 demand plans, supply plans): row by row through the services ----------


def _item_error(exc: DomainError) -> ItemError:
    """A service refusal as an item error: its own code (INT-04 / API-09), the first field named."""
    field_name = next(iter(exc.fields), "") if exc.fields else ""
    message = exc.message
    if exc.fields and field_name:
        message = f"{exc.fields[field_name][0]}" if exc.message == exc.default_message else exc.message
    code = exc.code
    if isinstance(exc, ValidationFailed):
        code = INVALID_VALUE
    elif isinstance(exc, NotFound):
        code = NOT_FOUND
    return ItemError(code, message, "" if field_name == "non_field_errors" else field_name)


class RowApplier(Applier):
    set_based = False
    content_fields: tuple[str, ...] = ()
    actual_field = ""

    def data(self, item) -> dict:
        return {k: item.values[k] for k in (*self.content_fields, self.actual_field) if item.values.get(k) is not None}

    def outcome(self, before, after) -> str:
        if before is None:
            return "created"
        moved = after.version != before[0] or _differs(getattr(after, self.actual_field), before[1])
        return "updated" if moved else "skipped"


class DemandPlanImportApplier(RowApplier):
    operation = BatchOperation.IMPORT_DEMAND_PLANS
    permission = perms.ADD_DEMAND_PLAN
    key_fields = ("sku", "period", "region", "channel")
    quantity_field = "forecast_qty"
    content_fields = ("forecast_qty", "adjusted_qty", "consensus_qty", "confidence", "notes")
    actual_field = "actual_qty"
    fields = (
        Field("sku", required=True, max_length=50),
        Field("period", kind="period", required=True),
        Field("region", max_length=100),
        Field("channel", max_length=100),
        Field("forecast_qty", **_QTY),
        Field("adjusted_qty", **_QTY),
        Field("consensus_qty", **_QTY),
        Field("actual_qty", **_QTY),
        Field("confidence", kind="decimal", minimum=Decimal(0), maximum=Decimal(100), max_digits=5),
        Field("notes", max_length=10000),
    )

    def normalise(self, item):
        item.values["region"] = item.values["region"] or TOTAL_REGION
        item.values["channel"] = item.values["channel"] or TOTAL_CHANNEL

    def prepare(self, items):
        self.products = products_by_sku(i.values["sku"] for i in items)
        ids = {p.pk for p in self.products.values()}
        rows = DemandPlan.objects.filter(is_current=True, product_id__in=ids,
                                         period__in={i.values["period"] for i in items}) if ids else []  # fmt: skip
        self.rows = {(r.product_id, r.period, r.region, r.channel): r for r in rows}

    def apply_row(self, item):
        from planning.services.demand import demand_plan_create, demand_plan_update

        v = item.values
        product = self.require_product(self.products, item)
        row = self.rows.get((product.pk, v["period"], v["region"], v["channel"]))
        data = self.data(item)
        try:
            if row is None:
                if v.get("forecast_qty") is None:
                    raise ItemError(REQUIRED_FIELD, "forecast_qty is required for a new plan row.", "forecast_qty")
                data.update(period=v["period"], region=v["region"], channel=v["channel"])
                after = demand_plan_create(actor=self.ctx.actor, product=product, data=data, source=PlanSource.IMPORT)
                item.outcome = "created"
            else:
                before = (row.version, row.actual_qty)
                after = demand_plan_update(actor=self.ctx.actor, plan=row, data=data, source=PlanSource.IMPORT)
                item.outcome = self.outcome(before, after)
        except DomainError as exc:
            raise _item_error(exc) from None


class SupplyPlanImportApplier(RowApplier):
    operation = BatchOperation.IMPORT_SUPPLY_PLANS
    permission = perms.ADD_SUPPLY_PLAN
    key_fields = ("sku", "period", "location")
    quantity_field = "planned_prod_qty"
    content_fields = ("planned_prod_qty", "capacity_max", "capacity_used", "supplier_name", "lead_time_days",
                      "cost_per_unit", "constraints")  # fmt: skip
    actual_field = "actual_prod_qty"
    fields = (
        Field("sku", required=True, max_length=50),
        Field("period", kind="period", required=True),
        Field("location", max_length=50),
        Field("planned_prod_qty", **_QTY),
        Field("actual_prod_qty", **_QTY),
        Field("capacity_max", **_QTY),
        Field("capacity_used", kind="decimal", minimum=Decimal(0), maximum=Decimal(100), max_digits=5),
        Field("supplier_name"),
        Field("lead_time_days", kind="int"),
        Field("cost_per_unit", **_QTY),
        Field("constraints", max_length=10000),
    )

    def normalise(self, item):
        item.values["location"] = item.values["location"] or DEFAULT_LOCATION_CODE

    def prepare(self, items):
        self.products = products_by_sku(i.values["sku"] for i in items)
        self.locations = locations_by_code(i.values["location"] for i in items)
        ids = {p.pk for p in self.products.values()}
        rows = SupplyPlan.objects.filter(is_current=True, product_id__in=ids,
                                         period__in={i.values["period"] for i in items}) if ids else []  # fmt: skip
        self.rows = {(r.product_id, r.period, r.location_id): r for r in rows}

    def apply_row(self, item):
        from planning.services.supply import supply_plan_create, supply_plan_update

        v = item.values
        product = self.require_product(self.products, item)
        location = self.require_location(self.locations, v["location"])
        row = self.rows.get((product.pk, v["period"], location.pk))
        data = self.data(item)
        try:
            if row is None:
                data["period"] = v["period"]
                supply_plan_create(actor=self.ctx.actor, product=product, location=location, data=data,
                                   source=PlanSource.IMPORT)  # fmt: skip
                item.outcome = "created"
            else:
                before = (row.version, row.actual_prod_qty)
                after = supply_plan_update(actor=self.ctx.actor, plan=row, data=data, source=PlanSource.IMPORT)
                item.outcome = self.outcome(before, after)
        except DomainError as exc:
            raise _item_error(exc) from None


APPLIERS: dict[str, type[Applier]] = {
    cls.operation: cls
    for cls in (ProductApplier, ProductImportApplier, InventoryApplier, InventoryImportApplier, DemandActualsApplier,
                DemandActualsImportApplier, SupplyActualsApplier, DemandPlanImportApplier, SupplyPlanImportApplier)
}  # fmt: skip

__all__ = ["APPLIERS", "CHUNK_SIZE", "Applier", "Context", "Item"]
