"""Demo plans and stock (DEMO-04…07, DEMO-09): demand history and plans, supply plans, inventory
rows and month-end snapshots for the demo catalog, plus `--scale` synthetic products.

Everything is computed in memory from per-entity generators (`demo_series.rng`) and written
through the set-based services of `planning.services.bulk_load`, acting as the demo user who
would have done it: demand@ creates, edits and submits demand plans, supply@ supply plans,
executive@ approves both, inventory@ creates the stock positions. Content already present for a
product-period (or product-location) is left alone, so a second run writes nothing.

Past rows end `approved`: publications (which lock the last six months and the anchor month,
DEMO-06) do not exist yet, so nothing is locked.
"""

import calendar
import datetime
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from genxsop.services import require_perm, snapshot
from governance import audit
from governance.models import Comment, User
from planning import events, inventory_rules
from planning import permissions as perms
from planning.choices import InventoryStatus, PlanStatus, PolicySource, ProductStatus, SnapshotSource
from planning.demo_series import (
    DISCONTINUED,
    INTERMITTENT,
    LUMPY,
    SEASONAL,
    TOTAL_ONLY_KINDS,
    TRENDING,
    Pattern,
    Series,
    generate,
    rng,
    split_regions,
    stable_fraction,
)
from planning.models import (
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
from planning.services.bulk_load import PlanLoadRow, chunked, inventory_bulk_load, plan_bulk_load
from planning.services.demand import DEMAND_PLAN
from planning.services.supply import SUPPLY_PLAN

CENT = Decimal("0.01")
DEMAND_ACTOR, SUPPLY_ACTOR = "demand@genxsop.com", "supply@genxsop.com"
APPROVER, INVENTORY_ACTOR = "executive@genxsop.com", "inventory@genxsop.com"
SUPPLIERS = ("Alpha Components", "Beta Manufacturing", "Gamma Sourcing", "Delta Supply Co.")
PLANT_DIVISIONS = ("Electronics", "Home & Kitchen")
DISTRIBUTION_CENTRES = ("DC-NA", "DC-EU", "DC-APAC")
# DEMO-07: three products overloaded in months +1/+2, two product-periods with critical coverage gaps.
OVERLOADED = ("ELEC-001", "ELEC-007", "HOME-003")
CRITICAL_GAPS = (("HOME-006", 1), ("APRL-008", 2))
# DEMO-09: target shares of the inventory status mix.
STATUS_MIX = ((InventoryStatus.CRITICAL, 0.08), (InventoryStatus.LOW, 0.15), (InventoryStatus.EXCESS, 0.12))
Z_95 = 1.65  # FRM-06 coverage method at a 95 % service target
SNAPSHOT_EVENT = "planning.inventory_snapshot.loaded"
WRITE_CHUNK = 5000  # rows per INSERT; Django lowers it to what the database accepts


def add_months(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def q2(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class ProductSpec:
    """What the generators need of a product (the 40 fixed ones and the synthetic ones alike)."""

    sku: str
    category: tuple[str, ...]
    base: int
    lead_time_days: int
    unit_cost: Decimal
    pattern: Pattern
    planned_as_total: bool = False  # synthetic products are planned at product total only

    @property
    def division(self) -> str:
        return self.category[0]

    @property
    def total_only(self) -> bool:
        return self.planned_as_total or self.pattern.kind in TOTAL_ONLY_KINDS


@dataclass
class Content:
    """One product's generated plans, in memory until written."""

    spec: ProductSpec
    product: Product
    series: Series
    demand: list[PlanLoadRow] = field(default_factory=list)
    supply: list[PlanLoadRow] = field(default_factory=list)
    demand_total: dict[int, Decimal] = field(default_factory=dict)  # FRM-01 per month offset
    actual_total: dict[int, int] = field(default_factory=dict)
    production: dict[int, Decimal] = field(default_factory=dict)  # actual production per closed month
    location: Location | None = None


@dataclass
class Actors:
    demand: User
    supply: User
    approver: User
    inventory: User

    @classmethod
    def load(cls) -> "Actors":
        users = {u.email: u for u in User.objects.filter(email__in=[DEMAND_ACTOR, SUPPLY_ACTOR, APPROVER,
                                                                   INVENTORY_ACTOR])}  # fmt: skip
        return cls(users[DEMAND_ACTOR], users[SUPPLY_ACTOR], users[APPROVER], users[INVENTORY_ACTOR])


REJECTION_REASONS = (
    "Too optimistic against last year's sell-through; revise with the regional sales input.",
    "Promotion volume is not confirmed by marketing yet.",
    "Capacity at the plant cannot cover this; align with the supply review before resubmitting.",
    "Supplier lead time changed; rework the quantities.",
)


def status_for(seed: int, t: int, *key) -> str:
    """DEMO-06: the next two months about 75 % approved, 15 % submitted, 10 % draft; else approved.
    A few of the drafts (about 4 % of those rows) are plans the approver sent back: rejected with a reason."""
    if t not in (1, 2):
        return PlanStatus.APPROVED
    u = stable_fraction(seed, *key, "status")
    if u >= 0.96:
        return PlanStatus.REJECTED
    return PlanStatus.APPROVED if u < 0.75 else PlanStatus.SUBMITTED if u < 0.90 else PlanStatus.DRAFT


def decision_comment(seed: int, status: str, *key) -> str:
    """The approver's reason on a rejected demo plan, drawn per plan like every other demo value."""
    if status != PlanStatus.REJECTED:
        return ""
    return REJECTION_REASONS[int(stable_fraction(seed, *key, "reason") * len(REJECTION_REASONS))]


# Generation ------------------------------------------------------------------------------------


def build_content(seed: int, anchor: datetime.date, spec: ProductSpec, product: Product, *,
                  skip_periods: set[datetime.date], versions: bool = True) -> Content:  # fmt: skip
    series = generate(seed, sku=spec.sku, base=spec.base, category=spec.category, anchor_month=anchor.month,
                      pattern=spec.pattern)  # fmt: skip
    content = Content(spec=spec, product=product, series=series)
    for t in sorted(series.forecast):
        period = add_months(anchor, t)
        forecast, actual = series.forecast[t], series.actual.get(t)
        if spec.total_only:
            parts = [(TOTAL_REGION, TOTAL_CHANNEL, forecast, actual)]
        else:
            actual_parts = dict(split_regions(actual)) if actual is not None else {}
            parts = [(region, TOTAL_CHANNEL, qty, actual_parts.get(region)) for region, qty in split_regions(forecast)]
        total = Decimal(0)
        for region, channel, fc, act in parts:
            row = _demand_row(seed, spec, product, t, period, region, channel, fc, act, versions)
            total += _frm01(row)
            if period not in skip_periods:
                content.demand.append(row)
        content.demand_total[t] = total
        if actual is not None:
            content.actual_total[t] = actual
    return content


def _demand_row(seed, spec, product, t, period, region, channel, forecast, actual, versions) -> PlanLoadRow:
    values = {
        "product_id": product.pk, "period": period, "region": region, "channel": channel,
        "forecast_qty": q2(forecast), "actual_qty": q2(actual) if actual is not None else None,
        "confidence": None if t < 0 else q2(max(50, 90 - 3 * t)),
    }  # fmt: skip
    edits: list[dict] = []
    if versions and t < 0:
        r = rng(seed, spec.sku, period.isoformat(), region, "versions")
        if r.random() < 0.2:  # about a fifth of past rows: adjusted by sales, some revised once more
            edits.append({"adjusted_qty": q2(round(forecast * r.uniform(0.9, 1.15))),
                          "change_reason": "Sales input on customer orders"})  # fmt: skip
            if r.random() < 0.4:
                edits.append({"adjusted_qty": q2(round(forecast * r.uniform(0.92, 1.1))),
                              "change_reason": "Revised in the demand review"})  # fmt: skip
    status = status_for(seed, t, spec.sku, period, region)
    return PlanLoadRow(values=values, edits=tuple(edits), status=status,
                       comment=decision_comment(seed, status, spec.sku, period, region))  # fmt: skip


def _frm01(row: PlanLoadRow) -> Decimal:
    adjusted = row.values.get("adjusted_qty")
    for edit in row.edits:
        adjusted = edit.get("adjusted_qty", adjusted)
    return adjusted if adjusted is not None else row.values["forecast_qty"]


def primary_location(spec: ProductSpec, locations: dict[str, Location]) -> tuple[Location, str]:
    """DEMO-07: PLANT-01 makes Electronics and Home & Kitchen; the rest is bought into Main."""
    if spec.division in PLANT_DIVISIONS:
        return locations["PLANT-01"], ""
    index = int(stable_fraction(0, spec.sku, "supplier") * len(SUPPLIERS))
    return locations["Main"], SUPPLIERS[index]


def build_supply(seed: int, anchor: datetime.date, content: Content, locations: dict[str, Location], *,
                 skip_periods: set[datetime.date], gaps: dict[int, Decimal]) -> None:  # fmt: skip
    spec = content.spec
    location, supplier = primary_location(spec, locations)
    content.location = location
    r = rng(seed, spec.sku, "supply")
    base_capacity = math.ceil(1.3 * spec.base)
    for t in sorted(content.demand_total):
        period = add_months(anchor, t)
        demand = float(content.demand_total[t])
        planned = round(demand * r.uniform(0.95, 1.05))
        drift = r.uniform(0.90, 1.00)
        overload = r.uniform(1.05, 1.20)
        capacity = max(base_capacity, math.ceil(planned / 0.92))
        notes = ""
        if spec.sku in OVERLOADED and t in (1, 2):
            capacity = max(1, math.floor(planned / overload))  # a line shutdown cuts capacity below the plan
            notes = "Line maintenance reduces capacity this month."
        if t in gaps:
            planned = int(gaps[t])
            notes = "Supplier allocation cut; shortfall expected."
        actual = round(planned * drift) if t < 0 else None
        if actual is not None:
            content.production[t] = Decimal(actual)
        used = min(100.0, (actual if actual is not None else planned) / capacity * 100) if capacity else None
        if period in skip_periods:
            continue
        values = {
            "product_id": content.product.pk, "location_id": location.pk, "period": period,
            "planned_prod_qty": q2(planned), "actual_prod_qty": q2(actual) if actual is not None else None,
            "capacity_max": q2(capacity), "capacity_used": q2(used) if used is not None else None,
            "supplier_name": supplier, "lead_time_days": spec.lead_time_days, "cost_per_unit": spec.unit_cost,
            "constraints": notes,
        }  # fmt: skip
        status = status_for(seed, t, spec.sku, period, "supply")
        reason = decision_comment(seed, status, spec.sku, period, "supply")
        content.supply.append(PlanLoadRow(values=values, status=status, comment=reason))


# Inventory -------------------------------------------------------------------------------------


def stocking_locations(spec: ProductSpec, locations: dict[str, Location]) -> list[Location]:
    """DEMO-09: Electronics at the three DCs; everything else at Main and one DC."""
    if spec.division == "Electronics":
        return [locations[code] for code in DISTRIBUTION_CENTRES]
    dc = DISTRIBUTION_CENTRES[int(stable_fraction(0, spec.sku, "dc") * len(DISTRIBUTION_CENTRES))]
    return [locations["Main"], locations[dc]]


def daily_demand(content: Content, anchor: datetime.date) -> float:
    """FRM-05 d_P from the generated rows: FRM-01 of the anchor month and the next two over their days."""
    days = sum(calendar.monthrange(m.year, m.month)[1] for m in (add_months(anchor, i) for i in range(3)))
    total = sum(float(content.demand_total.get(t, 0)) for t in range(3))
    if total <= 0:
        past = [add_months(anchor, i) for i in (-3, -2, -1)]
        total = sum(content.actual_total.get(t, 0) for t in (-3, -2, -1))
        days = sum(calendar.monthrange(m.year, m.month)[1] for m in past)
    return total / days if total > 0 else 0.0


def target_statuses(seed: int, keys: list[tuple[str, str]], forced: set[tuple[str, str]]) -> dict:
    """Assign the DEMO-09 status mix to (sku, location) keys by a stable order; `forced` rows are critical."""
    n = len(keys)
    quota = {status: round(share * n) for status, share in STATUS_MIX}
    out = {key: InventoryStatus.CRITICAL for key in keys if key in forced}
    quota[InventoryStatus.CRITICAL] -= len(out)
    ordered = sorted((k for k in keys if k not in forced), key=lambda k: stable_fraction(seed, *k, "inv"))
    i = 0
    for status, _ in STATUS_MIX:
        for key in ordered[i : i + max(0, quota[status])]:
            out[key] = status
        i += max(0, quota[status])
    for key in ordered[i:]:
        out[key] = InventoryStatus.NORMAL
    return out


def inventory_row(seed: int, spec: ProductSpec, product: Product, location: Location, d_row: float,
                  status: str) -> Inventory:  # fmt: skip
    """FRM-06 coverage policy at 95 % and an on-hand quantity that lands in `status` (FRM-03)."""
    lead_time = max(1, spec.lead_time_days)
    ss = q2(d_row * Z_95 * math.sqrt(lead_time))
    rop = q2(d_row * lead_time + float(ss))
    max_stock = q2(rop * Decimal("1.5"))
    in_transit = q2(round(0.2 * d_row * 30))
    r = rng(seed, spec.sku, location.code, "stock")
    u = r.uniform(0.25, 0.75)
    s, p, m, it = float(ss), float(rop), float(max_stock), float(in_transit)
    ranges = {
        InventoryStatus.CRITICAL: (0.2 * s, 0.8 * s),
        InventoryStatus.LOW: (s / 0.9, (p - it) / 0.9),
        InventoryStatus.EXCESS: (1.15 * m, 1.6 * m),
        InventoryStatus.NORMAL: ((p - it) / 0.9, m),
    }
    row = Inventory(product=product, location=location, safety_stock=ss, reorder_point=rop, max_stock=max_stock,
                    in_transit_qty=in_transit)  # fmt: skip
    low, high = ranges[status]
    for fraction in (u, 0.5, 0.35, 0.65):  # whole units can miss a narrow band: try the middle too
        row.on_hand_qty = q2(math.floor(low + fraction * (high - low)))
        row.allocated_qty = q2(float(row.on_hand_qty) * 0.1)
        if _status_of(row) == status:
            break
    return row


def _status_of(row) -> str:
    return inventory_rules.inventory_status(
        on_hand=row.on_hand_qty, allocated=row.allocated_qty, in_transit=row.in_transit_qty,
        safety_stock=row.safety_stock, reorder_point=row.reorder_point, max_stock=row.max_stock,
    )  # fmt: skip


def snapshot_rows(anchor: datetime.date, content: Content, row: Inventory, k: int) -> list[InventorySnapshot]:
    """Month-end positions for the closed months: opening + receipts - demand (this location's even
    share, FRM-05), never below zero; the policy levels are today's.

    The demo's production runs a few percent under demand (the gap is bought in), so receipts are the
    production scaled up to the history's demand: stock then wanders around its opening level instead
    of draining into critical over three years, which would make the month-end KPIs (excess &
    obsolete, fill rate, turns) describe a business nobody runs."""
    zone = ZoneInfo(settings.PLANNING_TIME_ZONE)
    months = sorted(content.actual_total)
    made = sum(float(content.production.get(t, 0)) for t in months)
    sold = sum(float(content.actual_total[t]) for t in months)
    receipts_per_unit = sold / made if made > 0 else 1.0
    on_hand = float(row.reorder_point) * 1.3
    out = []
    for t in months:
        receipts = float(content.production.get(t, 0)) * receipts_per_unit
        on_hand = max(0.0, on_hand + receipts / k - float(content.actual_total[t]) / k)
        period = add_months(anchor, t)
        last_day = calendar.monthrange(period.year, period.month)[1]
        snap = InventorySnapshot(
            product=row.product, location=row.location, period=period, on_hand_qty=q2(on_hand),
            allocated_qty=q2(on_hand * 0.1), in_transit_qty=q2(0), safety_stock=row.safety_stock,
            reorder_point=row.reorder_point, max_stock=row.max_stock, source=SnapshotSource.DEMO,
            valuation=inventory_rules.inventory_valuation(on_hand=q2(on_hand), unit_cost=content.spec.unit_cost),
            captured_at=datetime.datetime.combine(period.replace(day=last_day), datetime.time(23, 59), tzinfo=zone),
        )  # fmt: skip
        snap.status = _status_of(snap)
        out.append(snap)
    return out


# Writing ---------------------------------------------------------------------------------------


def _existing_periods(model, product_ids) -> dict[int, set[datetime.date]]:
    out: dict[int, set[datetime.date]] = defaultdict(set)
    rows = model.objects.filter(product_id__in=product_ids, is_current=True).values_list("product_id", "period")
    for product_id, period in rows.distinct():
        out[product_id].add(period)
    return out


@dataclass
class LoadResult:
    created: Counter = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)


def load_products(*, seed: int, anchor: datetime.date, specs: list[ProductSpec], products: dict[str, Product],
                  locations: dict[str, Location], actors: Actors, result: LoadResult,
                  audit_per_row: bool = True, snapshots: bool = True,
                  one_location: bool = False) -> list[Content]:  # fmt: skip
    """Generate and write the demand plans, supply plans, inventory rows and snapshots of `specs`.

    Volume loads (`audit_per_row=False`) make no history versions and audit each chunk once.
    """
    ids = [products[s.sku].pk for s in specs]
    have_demand = _existing_periods(DemandPlan, ids)
    have_supply = _existing_periods(SupplyPlan, ids)
    contents = []
    for spec in specs:
        product = products[spec.sku]
        writable = product.status != ProductStatus.DISCONTINUED
        skip = have_demand.get(product.pk, set()) if writable else {add_months(anchor, t) for t in range(-36, 12)}
        contents.append(build_content(seed, anchor, spec, product, skip_periods=skip,
                                      versions=audit_per_row))  # fmt: skip
    by_sku = {c.spec.sku: c for c in contents}

    # Inventory first in memory: the critical gaps are sized against the stock position.
    inventory_plan = []
    for content in contents:
        if content.spec.pattern.kind == DISCONTINUED:
            continue
        places = stocking_locations(content.spec, locations)
        if one_location:
            places = [primary_location(content.spec, locations)[0]]
        d_row = daily_demand(content, anchor) / len(places)
        if d_row <= 0:
            continue
        inventory_plan.extend((content, loc, d_row, len(places)) for loc in places)
    keys = [(c.spec.sku, loc.code) for c, loc, _, _ in inventory_plan]
    forced = {(sku, loc.code) for sku, _ in CRITICAL_GAPS if sku in by_sku
              for loc in stocking_locations(by_sku[sku].spec, locations)}  # fmt: skip
    targets = target_statuses(seed, keys, forced)
    inventory = [inventory_row(seed, c.spec, c.product, loc, d, targets[(c.spec.sku, loc.code)])
                 for c, loc, d, _ in inventory_plan]  # fmt: skip
    position = defaultdict(float)
    for row in inventory:
        position[row.product.sku] += max(0.0, float(row.on_hand_qty - row.allocated_qty + row.in_transit_qty))

    for content in contents:
        sku = content.spec.sku
        gaps = {t: Decimal(max(0, math.floor(0.65 * float(content.demand_total[t]) - position[sku])))
                for s, t in CRITICAL_GAPS if s == sku and t in content.demand_total}  # fmt: skip
        skip = have_supply.get(content.product.pk, set())
        if content.product.status == ProductStatus.DISCONTINUED:
            skip = {add_months(anchor, t) for t in content.demand_total}
        build_supply(seed, anchor, content, locations, skip_periods=skip, gaps=gaps)

    audit_mode = {"audit_per_row": audit_per_row}
    started = time.monotonic()
    for batch in chunked([r for c in contents for r in c.demand], WRITE_CHUNK):
        result.created["demand_plans"] += plan_bulk_load(DEMAND_PLAN, actor=actors.demand, approver=actors.approver,
                                                         rows=batch, chunk_size=WRITE_CHUNK, **audit_mode)  # fmt: skip
    result.seconds["demand"] = result.seconds.get("demand", 0) + time.monotonic() - started
    started = time.monotonic()
    for batch in chunked([r for c in contents for r in c.supply], WRITE_CHUNK):
        result.created["supply_plans"] += plan_bulk_load(SUPPLY_PLAN, actor=actors.supply, approver=actors.approver,
                                                         rows=batch, chunk_size=WRITE_CHUNK, **audit_mode)  # fmt: skip
    result.seconds["supply"] = result.seconds.get("supply", 0) + time.monotonic() - started

    started = time.monotonic()
    existing = set(Inventory.objects.filter(product_id__in=ids).values_list("product_id", "location_id"))
    if existing and result.created["demand_plans"]:
        # Stock rows loaded earlier: new demand rows move their days of supply (FRM-05).
        inventory_rules.refresh_products({product_id for product_id, _ in existing})
    fresh = [row for row in inventory if (row.product.pk, row.location.pk) not in existing]
    if fresh:
        inventory_bulk_load(actor=actors.inventory, rows=fresh, today=anchor, policy_source=PolicySource.DEMO,
                            audit_per_row=audit_per_row)  # fmt: skip
        result.created["inventory"] += len(fresh)
    if snapshots:
        _load_snapshots(anchor, contents, inventory_plan, inventory, actors, result)
    result.seconds["inventory"] = result.seconds.get("inventory", 0) + time.monotonic() - started
    return contents


def _load_snapshots(anchor, contents, inventory_plan, inventory, actors: Actors, result: LoadResult) -> None:
    """Month-end snapshots have no service of their own (they are month-close facts); they are written
    in bulk with one `planning.inventory_snapshot.loaded` audit row per chunk, by the inventory manager."""
    require_perm(actors.inventory, perms.ADD_INVENTORY)
    product_ids = [c.product.pk for c in contents]
    have = set(InventorySnapshot.objects.filter(product_id__in=product_ids)
               .values_list("product_id", "location_id", "period"))  # fmt: skip
    fresh = []
    for (content, location, _, k), row in zip(inventory_plan, inventory, strict=True):
        for snap in snapshot_rows(anchor, content, row, k):
            if (content.product.pk, location.pk, snap.period) not in have:
                fresh.append(snap)
    for batch in chunked(fresh, 2000):
        InventorySnapshot.objects.bulk_create(batch)
        first = batch[0]
        audit.record_many([{
            "actor": actors.inventory, "event_type": SNAPSHOT_EVENT, "target": first,
            "message": f"{len(batch)} month-end inventory snapshots loaded",
            "metadata": {"rows": len(batch), "source": SnapshotSource.DEMO,
                         "periods": [min(s.period for s in batch).isoformat(),
                                     max(s.period for s in batch).isoformat()]},
        }])  # fmt: skip
        result.created["inventory_snapshots"] += len(batch)


# Synthetic scale products ----------------------------------------------------------------------

SCALE_PREFIX = "SCL-"
_SCALE_KINDS = ((SEASONAL, 0.70), (TRENDING, 0.15), (INTERMITTENT, 0.10), (LUMPY, 0.05))


def scale_spec(seed: int, index: int, leaves: list[tuple[str, ...]]) -> tuple[ProductSpec, dict]:
    """A synthetic product drawn from the same ranges as the fixed catalog (DEMO-03/04)."""
    sku = f"{SCALE_PREFIX}{index:06d}"
    r = rng(seed, sku, "catalog")
    category = leaves[index % len(leaves)]
    u, acc, kind = r.random(), 0.0, SEASONAL
    for name, share in _SCALE_KINDS:
        acc += share
        if u < acc:
            kind = name
            break
    growth = r.choice((0.15, 0.2, 0.25, 0.3, -0.15)) if kind == TRENDING else None
    cost = q2(r.uniform(5, 250))
    price = q2(float(cost) / (1 - r.uniform(0.25, 0.60)))
    spec = ProductSpec(sku=sku, category=category, base=int(math.exp(r.uniform(math.log(20), math.log(2000)))),
                       lead_time_days=r.randint(7, 45), unit_cost=cost, pattern=Pattern(kind, growth),
                       planned_as_total=True)  # fmt: skip
    fields = {
        "sku": sku, "name": f"Synthetic product {index:06d}", "product_family": category[-1],
        "unit_cost": cost, "selling_price": price, "lead_time_days": spec.lead_time_days,
        "min_order_qty": r.randint(1, 100),
    }  # fmt: skip
    return spec, fields


def ensure_scale_products(*, seed: int, count: int, admin: User, categories: dict[tuple[str, ...], Category],
                          result: LoadResult) -> list[tuple[ProductSpec, Product]]:  # fmt: skip
    """Create the missing SCL-nnnnnn products in bulk, each with its `planning.product.created` audit row."""
    require_perm(admin, perms.ADD_PRODUCT)
    leaves = sorted(path for path in categories if not any(o[: len(path)] == path and o != path for o in categories))
    pairs = [scale_spec(seed, i, leaves) for i in range(1, count + 1)]
    existing = {p.sku: p for p in Product.objects.filter(sku__startswith=SCALE_PREFIX)}
    new = [Product(category=categories[spec.category], **fields) for spec, fields in pairs
           if spec.sku not in existing]  # fmt: skip
    for batch in chunked(new, 2000):
        Product.objects.bulk_create(batch)
        audit.record_many([{"actor": admin, "event_type": events.PRODUCT_CREATED, "target": p,
                            "after": snapshot(p)} for p in batch], batch_size=2000)  # fmt: skip
        result.created["products"] += len(batch)
    existing.update({p.sku: p for p in new})
    return [(spec, existing[spec.sku]) for spec, _ in pairs]


class AllRows:
    """The audit target of a set-based deletion: every demo row of one kind."""

    pk = "*"

    def __init__(self, label: str):
        self.label = label

    def __str__(self) -> str:
        return f"demo {self.label}"


def delete_demo_content(product_ids: list[int], *, actor: User) -> Counter:
    """`--reset`: remove the plans, stock rows and snapshots of the demo products in bulk, with one
    audit row per kind saying how many went. Approved plans cannot be deleted one by one (their
    values may have been relied on), so this is a loader-only operation, refused in production."""
    deleted: Counter = Counter()
    targets = [
        ("demand_plans", DemandPlan.objects.filter(product_id__in=product_ids), "planning.demand_plan.bulk_deleted"),
        ("supply_plans", SupplyPlan.objects.filter(product_id__in=product_ids), "planning.supply_plan.bulk_deleted"),
        ("inventory", Inventory.objects.filter(product_id__in=product_ids), "planning.inventory.bulk_deleted"),
        ("inventory_snapshots", InventorySnapshot.objects.filter(product_id__in=product_ids),
         "planning.inventory_snapshot.bulk_deleted"),
    ]  # fmt: skip
    for label, queryset, event in targets:
        if hasattr(queryset.model, "history_of"):
            # Their decision comments go with them: they describe rows that no longer exist.
            ids = [str(pk) for pk in queryset.values_list("pk", flat=True)]
            Comment.objects.filter(entity_type=audit.entity_type_of(queryset.model()), entity_id__in=ids).delete()
            count = queryset.filter(is_current=True).count()
            queryset.filter(Q(is_current=False)).delete()
            queryset.delete()
        else:
            count = queryset.count()
            queryset.delete()
        if count:
            entry = {"actor": actor, "event_type": event, "target": AllRows(label), "target_type": label,
                     "message": f"Demo reset removed {count} rows.", "metadata": {"rows": count}}  # fmt: skip
            audit.record_many([entry])
            deleted[label] = count
    return deleted
