"""Demo data (spec §11): users, the service account, the catalog and the locations, then the
demand and supply plans, inventory and snapshots of `planning.demo_plans`.

Everything is created through the business services inside `cli_context()`, so each row gets
its audit event with source `cli` exactly as if someone had typed it in (plans and stock through
the set-based services of `planning.services.bulk_load`). Loading is idempotent: rows are looked
up by their business key (email, SKU, code, category path, product-period) and only missing
ones are created, so a second run writes nothing at all. The load ends with a self-check
(`planning.demo_check`) and rolls back when it fails.

The catalog is fixed data rather than random draws, so every seed and anchor produce the same
content; the seed and anchor steer the time series (history and plans).
"""

import datetime
import time
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from genxsop import context
from genxsop.errors import DomainError
from governance import audit, demo_cycles, demo_governance
from governance.choices import Role, Source
from governance.models import ApiToken, AuditEvent, User
from governance.services import api_token_create, user_create
from governance.services.scopes import user_scopes, user_scopes_set
from planning import (
    demo_check,
    demo_exceptions,
    demo_kpis,
    demo_optimization,
    demo_plans,
    demo_production,
    demo_scenarios,
    events,
)
from planning.choices import LocationType, ProductStatus
from planning.demo_series import DEFAULT_PATTERN, PATTERNS
from planning.models import Category, DemandPlan, Location, Product
from planning.services import (
    category_create,
    category_delete,
    location_create,
    location_delete,
    location_is_referenced,
    product_create,
    product_delete,
    product_discontinue,
)
from planning.services.classification import product_abc_classify

SCALE_CHUNK = 250  # synthetic products generated and written per round


class DemoDataRefused(Exception):
    """The loader will not run here (production)."""


# Users (DEMO-02) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role: str
    department: str
    scope_note: str = ""
    # Object scopes granted by the loader: (type, category path or location code, access).
    scopes: tuple[tuple[str, tuple[str, ...] | str, str], ...] = ()


ADMIN_EMAIL = "admin@genxsop.com"
ADMIN = DemoUser(ADMIN_EMAIL, "Alex Morgan", Role.ADMIN, "IT")

ROLE_USERS: tuple[DemoUser, ...] = (
    ADMIN,
    DemoUser("executive@genxsop.com", "Catherine Reyes", Role.EXECUTIVE, "Executive"),
    DemoUser("demand@genxsop.com", "Daniel Okafor", Role.DEMAND_PLANNER, "Planning"),
    DemoUser("supply@genxsop.com", "Sofia Lindqvist", Role.SUPPLY_PLANNER, "Operations"),
    DemoUser("inventory@genxsop.com", "Marcus Chen", Role.INVENTORY_MANAGER, "Warehouse"),
    DemoUser("finance@genxsop.com", "Priya Natarajan", Role.FINANCE_ANALYST, "Finance"),
    DemoUser("coordinator@genxsop.com", "Elena Petrova", Role.SOP_COORDINATOR, "Planning"),
    DemoUser("viewer@genxsop.com", "James Whitaker", Role.VIEWER, "Sales"),
)

SCOPED_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "apparel.planner@genxsop.com", "Hannah Becker", Role.DEMAND_PLANNER, "Planning",
        scope_note="category Apparel (change)", scopes=(("category", ("Apparel",), "change"),),
    ),
    DemoUser(
        "eu.inventory@genxsop.com", "Luca Moretti", Role.INVENTORY_MANAGER, "Warehouse",
        scope_note="location DC-EU (change)", scopes=(("location", "DC-EU", "change"),),
    ),
)  # fmt: skip

SERVICE_ACCOUNT = DemoUser("erp-integration@genxsop.local", "ERP Integration", Role.SOP_COORDINATOR, "IT")
SERVICE_TOKEN_NAME = "ERP integration (demo)"  # noqa: S105  (a label, not a secret)  # nosec B105
SERVICE_TOKEN_SCOPES = ["integrations:write", "planning:read"]

# Catalog (DEMO-03) -----------------------------------------------------------------------------

# division -> {group -> [subgroups]}
CATEGORY_TREE: dict[str, dict[str, list[str]]] = {
    "Electronics": {"Audio": ["Headphones", "Speakers"], "Wearables": []},
    "Apparel": {"Footwear": [], "Activewear": []},
    "Food & Beverage": {"Nutrition": [], "Beverages": []},
    "Home & Kitchen": {"Small Appliances": [], "Cookware": []},
}


@dataclass(frozen=True)
class DemoProduct:
    """One catalog entry; `category` is the path from the division down to the leaf it sits in.

    `base_monthly_demand` is the level around which the demand history of DEMO-04 is generated.
    """

    sku: str
    name: str
    category: tuple[str, ...]
    family: str
    unit_cost: str
    selling_price: str
    lead_time_days: int
    min_order_qty: int
    base_monthly_demand: int
    status: str = ProductStatus.ACTIVE
    unit_of_measure: str = "units"

    @property
    def margin_pct(self) -> Decimal:
        price = Decimal(self.selling_price)
        return (price - Decimal(self.unit_cost)) / price * 100


_HEADPHONES = ("Electronics", "Audio", "Headphones")
_SPEAKERS = ("Electronics", "Audio", "Speakers")
_WEARABLES = ("Electronics", "Wearables")
_FOOTWEAR = ("Apparel", "Footwear")
_ACTIVEWEAR = ("Apparel", "Activewear")
_NUTRITION = ("Food & Beverage", "Nutrition")
_BEVERAGES = ("Food & Beverage", "Beverages")
_APPLIANCES = ("Home & Kitchen", "Small Appliances")
_COOKWARE = ("Home & Kitchen", "Cookware")

# The seven products the spec names, with its exact figures.
NAMED_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("ELEC-001", "Wireless Headphones Pro", _HEADPHONES, "Audio", "45.00", "129.99", 14, 50, 850),
    DemoProduct("ELEC-002", "Smart Watch Series X", _WEARABLES, "Wearables", "120.00", "299.99", 21, 20, 920),
    DemoProduct("ELEC-003", "Bluetooth Speaker Mini", _SPEAKERS, "Audio", "25.00", "79.99", 10, 50, 680),
    DemoProduct("APRL-001", "Performance Running Shoes", _FOOTWEAR, "Footwear", "35.00", "89.99", 30, 24, 1200),
    DemoProduct("APRL-002", "Yoga Pants Premium", _ACTIVEWEAR, "Activewear", "18.00", "54.99", 21, 36, 950),
    DemoProduct("FOOD-001", "Protein Bar Variety Pack", _NUTRITION, "Nutrition", "12.00", "29.99", 7, 60, 780,
                unit_of_measure="packs"),
    DemoProduct("FOOD-002", "Green Tea Premium Blend", _BEVERAGES, "Beverages", "8.00", "19.99", 7, 60, 620),
)  # fmt: skip

# The other 33: unit cost 5 to 250, margin 25 to 60 %, lead time 7 to 45 days, MOQ 1 to 100, demand 20 to 2000.
OTHER_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("ELEC-004", "Noise-Cancelling Earbuds", _HEADPHONES, "Audio", "42.00", "89.99", 14, 50, 740),
    DemoProduct("ELEC-005", "Studio Monitor Headphones", _HEADPHONES, "Audio", "68.00", "149.99", 21, 25, 310),
    DemoProduct("ELEC-006", "Portable Party Speaker", _SPEAKERS, "Audio", "95.00", "179.99", 28, 20, 260),
    DemoProduct("ELEC-007", "Smart Home Speaker", _SPEAKERS, "Audio", "36.00", "69.99", 14, 50, 1100),
    DemoProduct("ELEC-008", "Fitness Tracker Band", _WEARABLES, "Wearables", "22.00", "49.99", 21, 100, 1350),
    DemoProduct("ELEC-009", "Wired Earbuds Classic", _HEADPHONES, "Audio", "6.50", "14.99", 10, 100, 420,
                status=ProductStatus.DISCONTINUED),
    DemoProduct("ELEC-010", "Smart Ring Health Tracker", _WEARABLES, "Wearables", "110.00", "249.99", 35, 10, 140,
                status=ProductStatus.NEW),
    DemoProduct("APRL-003", "Trail Running Shoes", _FOOTWEAR, "Footwear", "48.00", "109.99", 35, 24, 540),
    DemoProduct("APRL-004", "Court Sneakers Classic", _FOOTWEAR, "Footwear", "32.00", "74.99", 30, 24, 880),
    DemoProduct("APRL-005", "Waterproof Hiking Boots", _FOOTWEAR, "Footwear", "72.00", "159.99", 45, 12, 230),
    DemoProduct("APRL-006", "Recovery Slides", _FOOTWEAR, "Footwear", "9.50", "21.99", 21, 48, 690),
    DemoProduct("APRL-007", "Compression Running Tights", _ACTIVEWEAR, "Activewear", "17.00", "39.99", 21, 36, 610),
    DemoProduct("APRL-008", "High-Support Sports Bra", _ACTIVEWEAR, "Activewear", "15.00", "34.99", 21, 36, 720),
    DemoProduct("APRL-009", "Lightweight Training Jacket", _ACTIVEWEAR, "Activewear", "38.00", "79.99", 30, 20, 340),
    DemoProduct("APRL-010", "Moisture-Wicking Tee", _ACTIVEWEAR, "Activewear", "7.50", "17.99", 14, 100, 1600),
    DemoProduct("FOOD-003", "Whey Protein Powder 2 lb", _NUTRITION, "Nutrition", "21.00", "44.99", 14, 40, 860),
    DemoProduct("FOOD-004", "Plant Protein Powder Vanilla", _NUTRITION, "Nutrition", "19.00", "39.99", 14, 40, 410),
    DemoProduct("FOOD-005", "Electrolyte Drink Mix", _NUTRITION, "Nutrition", "6.50", "14.99", 10, 100, 1450,
                unit_of_measure="packs"),
    DemoProduct("FOOD-006", "Daily Multivitamin 90 ct", _NUTRITION, "Nutrition", "5.50", "12.99", 21, 100, 980),
    DemoProduct("FOOD-007", "Cold Brew Coffee Concentrate", _BEVERAGES, "Beverages", "7.20", "15.99", 7, 60, 520),
    DemoProduct("FOOD-008", "Sparkling Water Variety 12-Pack", _BEVERAGES, "Beverages", "6.20", "8.99", 7, 100, 1900,
                unit_of_measure="packs"),
    DemoProduct("FOOD-009", "Organic Matcha Powder", _BEVERAGES, "Beverages", "11.00", "24.99", 21, 30, 150,
                status=ProductStatus.NEW),
    DemoProduct("FOOD-010", "Herbal Sleep Tea", _BEVERAGES, "Beverages", "5.20", "11.99", 10, 60, 35),
    DemoProduct("HOME-001", "Compact Espresso Machine", _APPLIANCES, "Small Appliances", "145.00", "299.99", 35, 6,
                180),
    DemoProduct("HOME-002", "High-Speed Blender", _APPLIANCES, "Small Appliances", "62.00", "129.99", 28, 12, 420),
    DemoProduct("HOME-003", "Digital Air Fryer 5 qt", _APPLIANCES, "Small Appliances", "48.00", "99.99", 30, 12, 760),
    DemoProduct("HOME-004", "Glass Electric Kettle", _APPLIANCES, "Small Appliances", "15.00", "34.99", 21, 24, 640),
    DemoProduct("HOME-005", "Stand Mixer Pro", _APPLIANCES, "Small Appliances", "210.00", "379.99", 45, 4, 95),
    DemoProduct("HOME-006", "Nonstick Fry Pan 12 in", _COOKWARE, "Cookware", "17.00", "39.99", 21, 24, 820),
    DemoProduct("HOME-007", "Stainless Cookware Set 10-Piece", _COOKWARE, "Cookware", "120.00", "249.99", 40, 6, 130),
    DemoProduct("HOME-008", "Cast Iron Skillet 10 in", _COOKWARE, "Cookware", "13.00", "29.99", 30, 36, 560),
    DemoProduct("HOME-009", "Enameled Dutch Oven 6 qt", _COOKWARE, "Cookware", "48.00", "89.99", 35, 8, 210),
    DemoProduct("HOME-010", "Knife Block Set 8-Piece", _COOKWARE, "Cookware", "55.00", "119.99", 30, 10, 20),
)  # fmt: skip

PRODUCTS: tuple[DemoProduct, ...] = NAMED_PRODUCTS + OTHER_PRODUCTS

# Locations (DEMO-05) ---------------------------------------------------------------------------

LOCATIONS: tuple[dict, ...] = (
    {"code": "Main", "name": "Main Warehouse", "location_type": LocationType.WAREHOUSE, "region": "North America"},
    {"code": "PLANT-01", "name": "Plant 01", "location_type": LocationType.PLANT, "region": "North America"},
    {"code": "DC-NA", "name": "Distribution Center North America", "location_type": LocationType.DISTRIBUTION_CENTER,
     "region": "North America"},
    {"code": "DC-EU", "name": "Distribution Center Europe", "location_type": LocationType.DISTRIBUTION_CENTER,
     "region": "Europe"},
    {"code": "DC-APAC", "name": "Distribution Center Asia Pacific",
     "location_type": LocationType.DISTRIBUTION_CENTER, "region": "Asia Pacific"},
)  # fmt: skip


# Loader ----------------------------------------------------------------------------------------


@dataclass
class DemoReport:
    """What a load did: counts of created and already present rows, and the one-time token."""

    seed: int
    anchor: datetime.date
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    kept_on_reset: list[str] = field(default_factory=list)
    token_plaintext: str | None = None
    token_prefix: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def count(self, bucket: str, kind: str) -> None:
        target = getattr(self, bucket)
        target[kind] = target.get(kind, 0) + 1


def default_anchor() -> datetime.date:
    """The current month in the business time zone (CNV-04)."""
    today = timezone.now().astimezone(ZoneInfo(settings.PLANNING_TIME_ZONE)).date()
    return today.replace(day=1)


def parse_anchor(value: str) -> datetime.date:
    """`YYYY-MM` -> first day of that month; ValueError on anything else or outside 2000-01 … 2100-12."""
    try:
        parsed = datetime.datetime.strptime(value.strip(), "%Y-%m").date()  # noqa: DTZ007  (a calendar month, no time)
    except ValueError:
        raise ValueError(f"Anchor must be a month as YYYY-MM, got {value!r}.") from None
    if not (2000 <= parsed.year <= 2100):
        raise ValueError("Anchor must lie between 2000-01 and 2100-12.")
    return parsed


def all_demo_users() -> tuple[DemoUser, ...]:
    return (*ROLE_USERS, *SCOPED_USERS, SERVICE_ACCOUNT)


def load(*, seed: int | None = None, anchor: datetime.date | None = None, reset: bool = False,
         scale: int = 0) -> DemoReport:  # fmt: skip
    """Load (or complete) the demo data set; refuses in production. One transaction: all or nothing.

    `scale` adds that many synthetic products (SCL-000001…) with their plans and one stock row each.
    """
    if settings.IS_PRODUCTION:
        raise DemoDataRefused(
            "Demo data cannot be loaded when ENVIRONMENT=production: its accounts share a published password."
        )
    started = time.monotonic()
    report = DemoReport(seed=settings.DEMO_SEED if seed is None else seed, anchor=anchor or default_anchor())
    with context.cli_context(), transaction.atomic():
        if reset:
            _reset_content(report)
            _reset_catalog(report)
        generated = not DemandPlan.objects.filter(product__sku__in=[p.sku for p in PRODUCTS]).exists()
        admin = _ensure_users(report)
        _ensure_service_token(report, admin)
        categories = _ensure_categories(report, admin)
        to_discontinue = _ensure_products(report, admin, categories)
        _ensure_locations(report, admin)
        _ensure_scopes(report, admin, categories)
        _load_plans(report, admin, categories, scale)
        # The end-of-life product is discontinued once its history is in: no plan can be made for it after.
        for product in to_discontinue:
            product_discontinue(actor=admin, product=product, reason="End of life: replaced by wireless earbuds.")
        product_abc_classify(actor=None, today=report.anchor)  # FRM-41 runs after every data load
        _load_forecasts(report, admin)
        demo_scenarios.load_into(report)  # DEMO-10, over the finished plans
        demo_exceptions.load_into(report, actor=admin)  # DEMO-09: critical rows have owned exceptions
        demo_optimization.load_into(report, actor=admin)  # an optimisation run and pending recommendations
        demo_production.load_into(report, actor=admin)  # production slots of approved supply plans
        demo_governance.load_history(report)  # DEMO-11: the six completed cycles before the anchor
        demo_cycles.load_active_cycle(report, reset=reset)
        demo_kpis.load_into(report, actor=admin)  # FRM-38 over the closed months of the history, last
        report.checks = demo_check.run(anchor=report.anchor, product_skus=[p.sku for p in PRODUCTS],
                                       generated=generated)  # fmt: skip
    # Publishing commits its readiness evaluation in a transaction of its own (GOV-63), so the weekly
    # publication is made once the rest of the data has committed.
    with context.cli_context():
        demo_governance.load_weekly_publication(report)
    report.seconds["total"] = time.monotonic() - started
    return report


def _specs() -> list[demo_plans.ProductSpec]:
    return [
        demo_plans.ProductSpec(sku=p.sku, category=p.category, base=p.base_monthly_demand,
                               lead_time_days=p.lead_time_days, unit_cost=Decimal(p.unit_cost),
                               pattern=PATTERNS.get(p.sku, DEFAULT_PATTERN))
        for p in PRODUCTS
    ]  # fmt: skip


def _load_plans(report: DemoReport, admin: User, categories: dict, scale: int) -> None:
    actors = demo_plans.Actors.load()
    locations = {loc.code: loc for loc in Location.objects.filter(code__in=[x["code"] for x in LOCATIONS])}
    products = {p.sku: p for p in Product.objects.filter(sku__in=[p.sku for p in PRODUCTS])}
    result = demo_plans.LoadResult()
    demo_plans.load_products(seed=report.seed, anchor=report.anchor, specs=_specs(), products=products,
                             locations=locations, actors=actors, result=result)  # fmt: skip
    if scale:
        started = time.monotonic()
        pairs = demo_plans.ensure_scale_products(seed=report.seed, count=scale, admin=admin, categories=categories,
                                                 result=result)  # fmt: skip
        # Chunks of products keep memory flat: each is generated, written and dropped.
        for batch in demo_plans.chunked(pairs, SCALE_CHUNK):
            demo_plans.load_products(
                seed=report.seed, anchor=report.anchor, specs=[spec for spec, _ in batch],
                products={spec.sku: product for spec, product in batch}, locations=locations, actors=actors,
                result=result, audit_per_row=False, snapshots=False, one_location=True,
            )  # fmt: skip
        report.seconds["scale"] = time.monotonic() - started
    for kind, n in result.created.items():
        report.created[kind] = report.created.get(kind, 0) + n
    for kind, seconds in result.seconds.items():
        report.seconds[kind] = seconds


def _load_forecasts(report: DemoReport, admin: User) -> None:
    """DEMO-08: runs, consensus, anomalies and accuracy points of the demo products (not the synthetic ones)."""
    from forecasting import demo as forecasting_demo

    ids = list(Product.objects.filter(sku__in=[p.sku for p in PRODUCTS]).values_list("pk", flat=True))
    result = forecasting_demo.load(seed=report.seed, anchor=report.anchor, admin=admin, product_ids=ids)
    if not result:
        report.count("existing", "forecast data")
        return
    for kind in ("forecast_runs", "forecast_consensus", "forecast_anomalies", "accuracy_points"):
        report.created[kind] = report.created.get(kind, 0) + int(result[kind])
    report.seconds["forecasting"] = result["seconds"]


def _reset_content(report: DemoReport) -> None:
    """Plans, stock and snapshots of the demo products (and the synthetic SCL- products themselves)."""
    admin = _find_user(ADMIN_EMAIL)
    if admin is None:
        return
    ids = list(Product.objects.filter(Q(sku__in=[p.sku for p in PRODUCTS]) | Q(sku__startswith=demo_plans.SCALE_PREFIX))
               .values_list("pk", flat=True))  # fmt: skip
    from forecasting import demo as forecasting_demo

    demo_governance.reset_into(report, actor=admin)  # before the plans and products its items refer to
    demo_scenarios.reset_into(report, actor=admin)
    demo_kpis.reset_into(report, actor=admin)
    demo_production.reset_into(report, actor=admin)
    demo_optimization.reset_into(report, actor=admin)
    for kind, n in forecasting_demo.delete_demo_forecasts(ids, actor=admin).items():
        report.deleted[kind] = n
    for kind, n in demo_plans.delete_demo_content(ids, actor=admin).items():
        report.deleted[kind] = n
    synthetic = Product.objects.filter(sku__startswith=demo_plans.SCALE_PREFIX)
    count = synthetic.count()
    if count:
        synthetic.delete()
        audit.record(actor=admin, event_type="planning.product.bulk_deleted", target=demo_plans.AllRows("products"),
                     target_type="product",
                     message=f"Demo reset removed {count} synthetic products.", metadata={"rows": count})  # fmt: skip
        report.deleted["synthetic products"] = count


def _find_user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def _ensure_users(report: DemoReport) -> User:
    """Create missing demo users: the admin first (by the system), then the others by the admin."""
    admin = _find_user(ADMIN_EMAIL)
    if admin is None:
        admin = _create_user(ADMIN, actor=None)
        report.count("created", "users")
    else:
        report.count("existing", "users")
    if not (admin.is_active and admin.role == Role.ADMIN):
        raise DemoDataRefused(f"{ADMIN_EMAIL} exists but is no longer an active administrator; the loader acts as it.")
    for spec in all_demo_users():
        if spec is ADMIN:
            continue
        if _find_user(spec.email) is not None:
            report.count("existing", "users")
            continue
        _create_user(spec, actor=admin)
        report.count("created", "users")
    return admin


def _create_user(spec: DemoUser, *, actor: User | None) -> User:
    service = spec is SERVICE_ACCOUNT
    return user_create(
        actor=actor,
        email=spec.email,
        full_name=spec.full_name,
        role=spec.role,
        department=spec.department,
        password=None if service else settings.DEMO_PASSWORD,
        is_service_account=service,
    )


def _ensure_service_token(report: DemoReport, admin: User) -> None:
    account = _find_user(SERVICE_ACCOUNT.email)
    live = (
        ApiToken.objects.filter(user=account, name=SERVICE_TOKEN_NAME, revoked_at__isnull=True,
                                expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )  # fmt: skip
    # Only a usable token counts: after the demo token expires or is revoked, a rerun issues a fresh
    # one rather than leaving the integration account without credentials.
    if live is not None:
        report.token_prefix = live.prefix
        report.count("existing", "api_tokens")
        return
    token, plaintext = api_token_create(
        actor=admin, user=account, name=SERVICE_TOKEN_NAME, scopes=list(SERVICE_TOKEN_SCOPES)
    )
    report.token_prefix = token.prefix
    report.token_plaintext = plaintext
    report.count("created", "api_tokens")


def _ensure_categories(report: DemoReport, admin: User) -> dict[tuple[str, ...], Category]:
    """Create the missing nodes of the tree; returns every node keyed by its path."""
    nodes: dict[tuple[str, ...], Category] = {}

    def ensure(path: tuple[str, ...]) -> None:
        parent = nodes.get(path[:-1]) if len(path) > 1 else None
        found = Category.objects.filter(parent=parent, name=path[-1]).first()
        if found is None:
            found = category_create(actor=admin, name=path[-1], parent=parent)
            report.count("created", "categories")
        else:
            report.count("existing", "categories")
        nodes[path] = found

    for path in _category_paths():
        ensure(path)
    return nodes


def _category_paths() -> list[tuple[str, ...]]:
    """Every node of CATEGORY_TREE as its path, parents before children."""
    paths: list[tuple[str, ...]] = []
    for division, groups in CATEGORY_TREE.items():
        paths.append((division,))
        for group, subgroups in groups.items():
            paths.append((division, group))
            paths.extend((division, group, subgroup) for subgroup in subgroups)
    return paths


def _ensure_products(report: DemoReport, admin: User, categories: dict[tuple[str, ...], Category]) -> list[Product]:
    """Create the missing products; returns those still to be discontinued once their history is loaded."""
    existing = set(Product.objects.filter(sku__in=[p.sku for p in PRODUCTS]).values_list("sku", flat=True))
    to_discontinue = []
    for spec in PRODUCTS:
        if spec.sku in existing:
            report.count("existing", "products")
            continue
        product = product_create(
            actor=admin,
            data={
                "sku": spec.sku,
                "name": spec.name,
                "category": categories[spec.category],
                "product_family": spec.family,
                "unit_of_measure": spec.unit_of_measure,
                "unit_cost": spec.unit_cost,
                "selling_price": spec.selling_price,
                "lead_time_days": spec.lead_time_days,
                "min_order_qty": spec.min_order_qty,
                "status": ProductStatus.NEW if spec.status == ProductStatus.NEW else ProductStatus.ACTIVE,
            },
        )
        if spec.status == ProductStatus.DISCONTINUED:
            to_discontinue.append(product)
        report.count("created", "products")
    return to_discontinue


def _ensure_locations(report: DemoReport, admin: User) -> None:
    existing = set(Location.objects.filter(code__in=[loc["code"] for loc in LOCATIONS]).values_list("code", flat=True))
    for spec in LOCATIONS:
        if spec["code"] in existing:
            report.count("existing", "locations")
            continue
        location_create(actor=admin, data=dict(spec))
        report.count("created", "locations")


def _ensure_scopes(report: DemoReport, admin: User, categories: dict[tuple[str, ...], Category]) -> None:
    """Grant the scoped demo users their object scopes; a user already holding them is left alone."""
    for spec in SCOPED_USERS:
        user = _find_user(spec.email)
        if user is None or not spec.scopes:
            continue
        wanted = []
        for kind, key, access in spec.scopes:
            target = categories[key] if kind == "category" else Location.objects.get(code=key)
            wanted.append({"type": kind, "id": target.pk, "access": access})
        held = {(g["type"], g["id"], g["access"]) for g in user_scopes(user)}
        if held == {(g["type"], g["id"], g["access"]) for g in wanted}:
            report.count("existing", "scopes")
            continue
        user_scopes_set(actor=admin, user=user, scopes=wanted)
        report.count("created", "scopes")


# Reset -----------------------------------------------------------------------------------------


def _loader_created_ids(event_type: str) -> set[int]:
    """Ids of rows whose creation was audited as the demo admin acting from the command line.

    A row that merely shares a demo key (someone typed SKU ELEC-001 into the console) was not
    created by the loader and survives the reset.
    """
    target_ids = AuditEvent.objects.filter(
        event_type=event_type, source=Source.CLI, actor_name=ADMIN_EMAIL
    ).values_list("target_id", flat=True)
    return {int(pk) for pk in target_ids if pk.isdigit()}


def _reset_catalog(report: DemoReport) -> None:
    admin = _find_user(ADMIN_EMAIL)
    if admin is None:
        return
    product_ids = _loader_created_ids(events.PRODUCT_CREATED)
    for product in Product.objects.filter(pk__in=product_ids, sku__in=[p.sku for p in PRODUCTS]):
        try:
            product_delete(actor=admin, product=product, reason="Demo data reset.")
        except DomainError:
            report.kept_on_reset.append(f"product {product} (still referenced)")
            continue
        report.count("deleted", "products")

    location_ids = _loader_created_ids(events.LOCATION_CREATED)
    for location in Location.objects.filter(pk__in=location_ids, code__in=[loc["code"] for loc in LOCATIONS]):
        if location_is_referenced(location):
            report.kept_on_reset.append(f"location {location.code} (still referenced)")
            continue
        location_delete(actor=admin, location=location)
        report.count("deleted", "locations")

    category_ids = _loader_created_ids(events.CATEGORY_CREATED)
    # Leaves first, so that each parent is empty by the time its turn comes.
    demo_names = {name for path in _category_paths() for name in path}
    for category in Category.objects.filter(pk__in=category_ids, name__in=demo_names).order_by("-level", "name"):
        try:
            category_delete(actor=admin, category=category)
        except DomainError:
            report.kept_on_reset.append(f"category {category.name} (has other products or subcategories)")
            continue
        report.count("deleted", "categories")
