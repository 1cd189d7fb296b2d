import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from genxsop.scoping import ObjectScopedModel, ScopedQuerySet
from planning.choices import (
    AbcClass,
    AppliedVia,
    BatchChannel,
    BatchOperation,
    BatchStatus,
    ExceptionSeverity,
    ExceptionStatus,
    ExceptionType,
    InventoryStatus,
    KpiCategory,
    KpiDirection,
    KpiSource,
    KpiStatus,
    KpiTrend,
    LocationType,
    OutboundKind,
    OutboundStatus,
    PlanSource,
    PlanStatus,
    PolicyRunMethod,
    PolicyRunStatus,
    PolicySource,
    ProductStatus,
    RecommendationStatus,
    ScenarioStatus,
    ScenarioType,
    ScheduleStatus,
    SnapshotSource,
)

MAX_CATEGORY_LEVEL = 2


class Category(ObjectScopedModel, models.Model):
    """A node of the three-level product hierarchy (division → group → subgroup) used for scopes and roll-ups."""

    # A category scope covers the granted node's subtree; the list shows only in-scope nodes.
    scope_category_path = "pk"

    name = models.CharField(max_length=255)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "categories"
        ordering = ["level", "name", "id"]
        verbose_name_plural = "categories"
        # Object scopes (GOV-02): granted per category with django-guardian, never to a group.
        permissions = [
            ("view_in_scope", "Can read data of this category subtree"),
            ("change_in_scope", "Can change data of this category subtree"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="uq_categories_sibling_name",
                violation_error_message="A category with this name already exists under the same parent.",
                violation_error_code="unique",
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="uq_categories_root_name",
                violation_error_message="A top-level category with this name already exists.",
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(level__gte=0, level__lte=MAX_CATEGORY_LEVEL), name="ck_categories_level"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(ObjectScopedModel, models.Model):
    """A sellable item (SKU): the unit that demand, supply and inventory are planned for."""

    scope_category_path = "category"

    sku = models.CharField(max_length=50, error_messages={"unique": "SKU already exists."})
    name = models.CharField(max_length=255)
    description = models.CharField(max_length=1000, blank=True, default="")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    product_family = models.CharField(max_length=100, blank=True, default="")
    unit_of_measure = models.CharField(max_length=20, default="units")
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    selling_price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    lead_time_days = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    min_order_qty = models.IntegerField(default=1, validators=[MinValueValidator(1)])
    status = models.CharField(max_length=20, choices=ProductStatus.choices, default=ProductStatus.ACTIVE)
    abc_class = models.CharField(max_length=1, choices=AbcClass.choices, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "products"
        ordering = ["sku"]
        permissions = [("discontinue_product", "Can discontinue product")]
        constraints = [
            models.UniqueConstraint(fields=["sku"], name="uq_products_sku"),
            models.CheckConstraint(condition=Q(status__in=ProductStatus.values), name="ck_products_status"),
            models.CheckConstraint(
                condition=(Q(unit_cost__isnull=True) | Q(unit_cost__gte=0))
                & (Q(selling_price__isnull=True) | Q(selling_price__gte=0)),
                name="ck_products_prices_nonneg",
            ),
            models.CheckConstraint(condition=Q(lead_time_days__gte=0), name="ck_products_lead_time_nonneg"),
            models.CheckConstraint(condition=Q(min_order_qty__gte=1), name="ck_products_moq"),
            models.CheckConstraint(
                condition=Q(abc_class__isnull=True) | Q(abc_class__in=AbcClass.values), name="ck_products_abc_class"
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="ix_products_status"),
            models.Index(fields=["category", "status"], name="ix_products_category_status"),
            models.Index(fields=["product_family"], name="ix_products_family"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Location(ObjectScopedModel, models.Model):
    """A plant, distribution centre, warehouse or store where stock is held or produced."""

    scope_location_path = "pk"

    code = models.CharField(max_length=50, error_messages={"unique": "Location code already exists."})
    name = models.CharField(max_length=255)
    location_type = models.CharField(max_length=30, choices=LocationType.choices, default=LocationType.WAREHOUSE)
    region = models.CharField(max_length=100, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "locations"
        ordering = ["code"]
        permissions = [
            ("view_in_scope", "Can read data of this location"),
            ("change_in_scope", "Can change data of this location"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="uq_locations_code"),
            models.CheckConstraint(condition=Q(location_type__in=LocationType.values), name="ck_locations_type"),
        ]

    def __str__(self) -> str:
        return self.code


TOTAL_REGION = "Global"
TOTAL_CHANNEL = "All"
DEFAULT_LOCATION_CODE = "Main"


def _qty(**kwargs):
    return models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)], **kwargs)


def _new_run_id() -> str:
    return str(uuid.uuid4())


def _user_fk(related_name: str):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name=related_name
    )


class VersionedPlan(ObjectScopedModel, models.Model):
    """Live and history rows of a plan in one table (WF-12): what demand and supply plans share.

    The live row (`is_current`) keeps its id and carries the latest version; every content change
    leaves the previous values behind as a history row (`history_of` = the live row).
    """

    scope_category_path = "product__category"

    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    version = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    is_current = models.BooleanField(default=True)
    history_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="versions")
    source = models.CharField(max_length=20, choices=PlanSource.choices, default=PlanSource.MANUAL)
    change_reason = models.CharField(max_length=500, blank=True, default="")
    created_by = _user_fk("+")
    updated_by = _user_fk("+")
    submitted_by = _user_fk("+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = _user_fk("+")
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = _user_fk("+")
    rejected_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by_publication = models.ForeignKey(
        "governance.Publication", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actual_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class DemandPlan(VersionedPlan):
    """How much of a product is expected to sell in a month at one region and channel (PLN-04)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="demand_plans")
    period = models.DateField(help_text="First day of the month.")
    region = models.CharField(max_length=100, default=TOTAL_REGION)
    channel = models.CharField(max_length=100, default=TOTAL_CHANNEL)
    forecast_qty = _qty()
    adjusted_qty = _qty(null=True, blank=True)
    actual_qty = _qty(null=True, blank=True)
    consensus_qty = _qty(null=True, blank=True)
    confidence = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    notes = models.TextField(blank=True, default="")

    class Meta:
        db_table = "demand_plans"
        ordering = ["-period", "product__sku", "region", "channel", "-version"]
        permissions = [
            ("submit_demandplan", "Can submit and withdraw demand plans"),
            ("approve_demandplan", "Can approve, reject and reopen demand plans"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "period", "region", "channel", "version"], name="uq_demand_plans_business_key"
            ),
            models.UniqueConstraint(
                fields=["product", "period", "region", "channel"],
                condition=Q(is_current=True),
                name="uq_demand_plans_current",
                violation_error_message="A demand plan for this product, period, region and channel already exists.",
                violation_error_code="unique",
            ),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="ck_demand_plans_status"),
            models.CheckConstraint(condition=Q(forecast_qty__gte=0), name="ck_demand_plans_forecast_nonneg"),
            models.CheckConstraint(
                condition=(Q(adjusted_qty__isnull=True) | Q(adjusted_qty__gte=0))
                & (Q(actual_qty__isnull=True) | Q(actual_qty__gte=0))
                & (Q(consensus_qty__isnull=True) | Q(consensus_qty__gte=0)),
                name="ck_demand_plans_qty_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0, confidence__lte=100),
                name="ck_demand_plans_confidence",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="ck_demand_plans_version"),
            models.CheckConstraint(condition=~Q(region="") & ~Q(channel=""), name="ck_demand_plans_dims"),
            models.CheckConstraint(
                condition=Q(is_current=True, history_of__isnull=True) | Q(is_current=False, history_of__isnull=False),
                name="ck_demand_plans_history",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "period"], name="ix_demand_plans_status_period"),
            models.Index(fields=["product", "period"], name="ix_demand_plans_product_period"),
            models.Index(fields=["period", "region", "channel"], name="ix_demand_plans_period_dims"),
            models.Index(fields=["history_of", "version"], name="ix_demand_plans_history"),
            # The list's exact total and per-month counts: an index-only scan of the current rows (OPS-60).
            models.Index(fields=["period"], condition=Q(is_current=True), name="ix_demand_plans_current_period"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.period:%Y-%m} {self.region}/{self.channel} v{self.version}"

    @property
    def demand_qty(self):
        """FRM-01: consensus if set, else adjusted, else forecast (a consensus of 0 is a plan)."""
        if self.consensus_qty is not None:
            return self.consensus_qty
        if self.adjusted_qty is not None:
            return self.adjusted_qty
        return self.forecast_qty


def _nonneg_or_null(*names: str) -> Q:
    condition = Q()
    for name in names:
        condition &= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0})
    return condition


class SupplyPlan(VersionedPlan):
    """How much of a product is planned to be produced or bought in a month at one location (PLN-05)."""

    scope_location_path = "location"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="supply_plans")
    period = models.DateField(help_text="First day of the month.")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="supply_plans")
    planned_prod_qty = _qty(null=True, blank=True)
    actual_prod_qty = _qty(null=True, blank=True)
    capacity_max = _qty(null=True, blank=True)
    capacity_used = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Reported utilisation in percent (0..100).",
    )
    supplier_name = models.CharField(max_length=255, blank=True, default="")
    lead_time_days = models.IntegerField(null=True, blank=True, validators=[MinValueValidator(0)])
    cost_per_unit = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    constraints = models.TextField(blank=True, default="", help_text="Free-text constraint notes.")

    class Meta:
        db_table = "supply_plans"
        ordering = ["-period", "product__sku", "location__code", "-version"]
        permissions = [
            ("submit_supplyplan", "Can submit and withdraw supply plans"),
            ("approve_supplyplan", "Can approve, reject and reopen supply plans"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "period", "location", "version"], name="uq_supply_plans_business_key"
            ),
            models.UniqueConstraint(
                fields=["product", "period", "location"],
                condition=Q(is_current=True),
                name="uq_supply_plans_current",
                violation_error_message="A supply plan for this product, period and location already exists.",
                violation_error_code="unique",
            ),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="ck_supply_plans_status"),
            models.CheckConstraint(
                condition=_nonneg_or_null(
                    "planned_prod_qty", "actual_prod_qty", "capacity_max", "lead_time_days", "cost_per_unit"
                ),
                name="ck_supply_plans_qty_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(capacity_used__isnull=True) | Q(capacity_used__gte=0, capacity_used__lte=100),
                name="ck_supply_plans_capacity_used",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="ck_supply_plans_version"),
            models.CheckConstraint(
                condition=Q(is_current=True, history_of__isnull=True) | Q(is_current=False, history_of__isnull=False),
                name="ck_supply_plans_history",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "period"], name="ix_supply_plans_status_period"),
            models.Index(fields=["product", "period"], name="ix_supply_plans_product_period"),
            models.Index(fields=["location", "period"], name="ix_supply_plans_loc_period"),
            # The list's default order starts with -period; without it every list sorts the whole table.
            models.Index(fields=["period", "location"], name="ix_supply_plans_period_loc"),
            models.Index(fields=["history_of", "version"], name="ix_supply_plans_history"),
            models.Index(fields=["period"], condition=Q(is_current=True), name="ix_supply_plans_current_period"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.period:%Y-%m} @{self.location_id} v{self.version}"

    @property
    def load_pct(self):
        """Planned production over capacity in percent (2 dp); None without both; may exceed 100."""
        if self.planned_prod_qty is None or not self.capacity_max:
            return None
        return (Decimal(self.planned_prod_qty) / Decimal(self.capacity_max) * 100).quantize(Decimal("0.01"))


class Inventory(ObjectScopedModel, models.Model):
    """The current stock position and replenishment policy of a product at a location (PLN-06).

    `status`, `valuation` and `days_of_supply` are derived (FRM-03/04/05) and rewritten by the
    inventory services after every change; nothing else writes them.
    """

    scope_category_path = "product__category"
    scope_location_path = "location"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="inventory")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="inventory")
    on_hand_qty = _qty(default=0)
    allocated_qty = _qty(default=0)
    in_transit_qty = _qty(default=0)
    safety_stock = _qty(default=0)
    reorder_point = _qty(default=0)
    max_stock = _qty(null=True, blank=True)
    days_of_supply = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    last_receipt_date = models.DateField(null=True, blank=True)
    last_issue_date = models.DateField(null=True, blank=True)
    valuation = models.DecimalField(max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    # True when the ERP supplied the valuation (FRM-04); otherwise it is on hand x unit cost.
    valuation_from_erp = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=InventoryStatus.choices, default=InventoryStatus.NORMAL)
    policy_source = models.CharField(max_length=20, choices=PolicySource.choices, default=PolicySource.MANUAL)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency (WF-05): bumped by every write, sent as the ETag.
    version = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    updated_by = _user_fk("+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "inventory"
        ordering = ["product__sku", "location__code"]
        verbose_name_plural = "inventory"
        permissions = [("override_inventory_policy", "Can override inventory policy levels")]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "location"],
                name="uq_inventory_product_location",
                violation_error_message="Inventory for this product and location already exists.",
                violation_error_code="unique",
            ),
            models.CheckConstraint(condition=Q(status__in=InventoryStatus.values), name="ck_inventory_status"),
            models.CheckConstraint(
                condition=Q(
                    on_hand_qty__gte=0,
                    allocated_qty__gte=0,
                    in_transit_qty__gte=0,
                    safety_stock__gte=0,
                    reorder_point__gte=0,
                    valuation__gte=0,
                )
                & _nonneg_or_null("max_stock", "days_of_supply"),
                name="ck_inventory_qty_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=F("safety_stock")),
                name="ck_inventory_policy_order",
                violation_error_message="The reorder point cannot be below the safety stock.",
            ),
            models.CheckConstraint(
                condition=Q(max_stock__isnull=True) | Q(max_stock__gte=F("reorder_point")),
                name="ck_inventory_max",
                violation_error_message="The maximum stock cannot be below the reorder point.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "location"], name="ix_inventory_status_location"),
            models.Index(fields=["product"], name="ix_inventory_product"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}"

    @property
    def available_qty(self):
        return self.on_hand_qty - self.allocated_qty

    @property
    def inventory_position(self):
        return self.on_hand_qty - self.allocated_qty + self.in_transit_qty


class InventorySnapshot(ObjectScopedModel, models.Model):
    """The month-end stock position of a product at a location (PLN-07)."""

    scope_category_path = "product__category"
    scope_location_path = "location"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="inventory_snapshots")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="inventory_snapshots")
    period = models.DateField(help_text="First day of the month the snapshot closes.")
    on_hand_qty = _qty(default=0)
    allocated_qty = _qty(default=0)
    in_transit_qty = _qty(default=0)
    safety_stock = _qty(default=0)
    reorder_point = _qty(default=0)
    max_stock = _qty(null=True, blank=True)
    valuation = models.DecimalField(max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    status = models.CharField(max_length=20, choices=InventoryStatus.choices, default=InventoryStatus.NORMAL)
    source = models.CharField(max_length=20, choices=SnapshotSource.choices, default=SnapshotSource.MONTH_CLOSE)
    captured_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "inventory_snapshots"
        ordering = ["-period", "product__sku", "location__code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location", "period"], name="uq_inventory_snapshots_key"),
            models.CheckConstraint(
                condition=Q(status__in=InventoryStatus.values), name="ck_inventory_snapshots_status"
            ),
            models.CheckConstraint(
                condition=Q(
                    on_hand_qty__gte=0,
                    allocated_qty__gte=0,
                    in_transit_qty__gte=0,
                    safety_stock__gte=0,
                    reorder_point__gte=0,
                    valuation__gte=0,
                )
                & _nonneg_or_null("max_stock"),
                name="ck_inventory_snapshots_qty_nonneg",
            ),
        ]
        indexes = [models.Index(fields=["period"], name="ix_inventory_snapshots_period")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id} {self.period:%Y-%m}"


class IntegrationBatch(models.Model):
    """One inbound ERP/WMS sync call or file import, with its per-item results (PLN-20, INT-01…04)."""

    batch_uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=10, choices=BatchChannel.choices)
    operation = models.CharField(max_length=40, choices=BatchOperation.choices)
    source_system = models.CharField(max_length=100)
    batch_id = models.CharField(max_length=100, blank=True, default="")
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    dry_run = models.BooleanField(default=False)
    atomic = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=BatchStatus.choices, default=BatchStatus.PROCESSING)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    item_results = models.JSONField(default=list, blank=True)
    response = models.JSONField(null=True, blank=True)
    file_name = models.CharField(max_length=255, blank=True, default="")
    file_format = models.CharField(max_length=10, blank=True, default="")
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    api_token = models.ForeignKey(
        "governance.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "integration_batches"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "integration batches"
        constraints = [
            models.UniqueConstraint(fields=["batch_uuid"], name="uq_integration_batches_uuid"),
            models.UniqueConstraint(
                fields=["source_system", "operation", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="uq_integration_batches_idempotency",
            ),
            models.CheckConstraint(condition=Q(channel__in=BatchChannel.values), name="ck_integration_batches_channel"),
            models.CheckConstraint(
                condition=Q(operation__in=BatchOperation.values), name="ck_integration_batches_operation"
            ),
            models.CheckConstraint(condition=Q(status__in=BatchStatus.values), name="ck_integration_batches_status"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="ix_integration_batches_status"),
            models.Index(fields=["operation", "created_at"], name="ix_integration_batches_op"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.batch_uuid}"


class OutboundMessage(models.Model):
    """A plan version handed over for the ERP: what was published, when and by whom (PLN-21, INT-09…11).

    `publication` links the governed publication once publishing exists (GOV-63); until then the
    message records the approved plan version it carries.
    """

    message_id = models.UUIDField(default=uuid.uuid4, editable=False)
    target_system = models.CharField(max_length=50, default="erp")
    kind = models.CharField(max_length=20, choices=OutboundKind.choices, default=OutboundKind.PUBLICATION)
    payload = models.JSONField()
    payload_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = _user_fk("+")
    external_reference = models.CharField(max_length=255, blank=True, default="")
    created_by = _user_fk("+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "outbound_messages"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="uq_outbound_messages_id"),
            models.CheckConstraint(condition=Q(kind__in=OutboundKind.values), name="ck_outbound_messages_kind"),
            models.CheckConstraint(condition=Q(status__in=OutboundStatus.values), name="ck_outbound_messages_status"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="ix_outbound_messages_status")]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


class InventoryPolicyRun(models.Model):
    """One optimisation run over the inventory rows in scope: its parameters, counts and per-row results (PLN-08)."""

    run_id = models.CharField(max_length=64, unique=True, default=_new_run_id, editable=False)
    status = models.CharField(max_length=20, choices=PolicyRunStatus.choices, default=PolicyRunStatus.RUNNING)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    location = models.CharField(max_length=50, blank=True, default="")
    method = models.CharField(max_length=20, choices=PolicyRunMethod.choices, default=PolicyRunMethod.COVERAGE)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Decimals are stored as strings so that the parameters read back exactly as they were given.
    parameters = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    processed_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    exception_count = models.PositiveIntegerField(default=0)
    request_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "inventory_policy_runs"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="ix_policy_runs_status"),
            models.Index(fields=["requested_by", "created_at"], name="ix_policy_runs_requester"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PolicyRunStatus.values), name="ck_policy_runs_status"),
            models.CheckConstraint(
                condition=Q(processed_count__gte=0, updated_count__gte=0, skipped_count__gte=0, exception_count__gte=0),
                name="ck_policy_runs_counts",
            ),
        ]

    def __str__(self) -> str:
        return self.run_id


class InventoryPolicyException(ObjectScopedModel, models.Model):
    """A stockout, excess or data-quality risk on one inventory row, with an owner and a due date (PLN-09)."""

    scope_category_path = "inventory__product__category"
    scope_location_path = "inventory__location"

    inventory = models.ForeignKey(Inventory, on_delete=models.CASCADE, related_name="exceptions")
    exception_type = models.CharField(max_length=30, choices=ExceptionType.choices)
    severity = models.CharField(max_length=10, choices=ExceptionSeverity.choices, default=ExceptionSeverity.MEDIUM)
    status = models.CharField(max_length=20, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    recommended_action = models.TextField()
    owner = _user_fk("+")
    due_date = models.DateField(null=True, blank=True)
    notes = models.CharField(max_length=1000, blank=True, default="")
    resolved_by = _user_fk("+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, default="")
    run = models.ForeignKey(
        InventoryPolicyRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="exceptions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "inventory_policy_exceptions"
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="ix_policy_exceptions_status"),
            models.Index(fields=["inventory", "exception_type"], name="ix_policy_exceptions_inv"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(exception_type__in=ExceptionType.values), name="ck_policy_exceptions_type"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=ExceptionSeverity.values), name="ck_policy_exceptions_severity"
            ),
            models.CheckConstraint(condition=Q(status__in=ExceptionStatus.values), name="ck_policy_exceptions_status"),
            models.UniqueConstraint(
                fields=["inventory", "exception_type"],
                condition=Q(status__in=[ExceptionStatus.OPEN, ExceptionStatus.IN_PROGRESS]),
                name="uq_policy_exceptions_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exception_type} on {self.inventory_id}"


class Scenario(models.Model):
    """A what-if simulation of one period (PLN-11, FRM-30/31); one approved scenario per period may be the
    operating plan."""

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    scenario_type = models.CharField(max_length=20, choices=ScenarioType.choices, default=ScenarioType.WHAT_IF)
    period = models.DateField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    scope = models.JSONField(default=dict, blank=True)
    results = models.JSONField(null=True, blank=True)
    revenue_impact = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    margin_impact = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    inventory_impact = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    service_level_impact = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    status = models.CharField(max_length=20, choices=ScenarioStatus.choices, default=ScenarioStatus.DRAFT)
    is_operating_plan = models.BooleanField(default=False)
    base_publication = models.ForeignKey(
        "governance.Publication", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    base_demand_version = models.PositiveIntegerField(null=True, blank=True)
    base_supply_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = _user_fk("+")
    updated_by = _user_fk("+")
    run_by = _user_fk("+")
    run_at = models.DateTimeField(null=True, blank=True)
    submitted_by = _user_fk("+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = _user_fk("+")
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = _user_fk("+")
    rejected_at = models.DateTimeField(null=True, blank=True)
    cloned_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "scenarios"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("run_scenario", "Run, submit, clone and reopen scenarios"),
            ("approve_scenario", "Approve, reject and designate the operating-plan scenario"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="ix_scenarios_status"),
            models.Index(fields=["period", "status"], name="ix_scenarios_period"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(scenario_type__in=ScenarioType.values), name="ck_scenarios_type"),
            models.CheckConstraint(condition=Q(status__in=ScenarioStatus.values), name="ck_scenarios_status"),
            models.CheckConstraint(
                condition=Q(is_operating_plan=False) | Q(status=ScenarioStatus.APPROVED),
                name="ck_scenarios_operating_plan",
            ),
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(is_operating_plan=True),
                name="uq_scenarios_operating_plan",
                violation_error_message="Another scenario is the operating plan of this period.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InventoryPolicyRecommendation(ObjectScopedModel, models.Model):
    """A proposed safety stock / reorder point / max for one inventory row, decided under maker-checker (PLN-10,
    WF-60)."""

    scope_category_path = "inventory__product__category"
    scope_location_path = "inventory__location"

    inventory = models.ForeignKey(Inventory, on_delete=models.CASCADE, related_name="recommendations")
    recommended_safety_stock = _qty()
    recommended_reorder_point = _qty()
    recommended_max_stock = _qty(null=True, blank=True)
    current_safety_stock = _qty(null=True, blank=True)
    current_reorder_point = _qty(null=True, blank=True)
    current_max_stock = _qty(null=True, blank=True)
    impact_pct = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    high_impact = models.BooleanField(default=False)
    confidence_score = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0.7000"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )  # fmt: skip
    rationale = models.TextField()
    signals = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=RecommendationStatus.choices, default=RecommendationStatus.PENDING)
    decision_notes = models.TextField(blank=True, default="")
    generated_by = _user_fk("+")
    accepted_by = _user_fk("+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    decided_by = _user_fk("+")
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_by = _user_fk("+")
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_via = models.CharField(max_length=10, choices=AppliedVia.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "inventory_policy_recommendations"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="ix_policy_recs_status"),
            models.Index(fields=["inventory", "status"], name="ix_policy_recs_inventory"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RecommendationStatus.values), name="ck_policy_recs_status"),
            models.CheckConstraint(
                condition=Q(applied_via__in=[*AppliedVia.values, ""]), name="ck_policy_recs_applied_via"
            ),
            models.CheckConstraint(
                condition=Q(recommended_safety_stock__gte=0, recommended_reorder_point__gte=0, impact_pct__gte=0)
                & _nonneg_or_null("recommended_max_stock"),
                name="ck_policy_recs_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(confidence_score__gte=0, confidence_score__lte=1), name="ck_policy_recs_confidence"
            ),
            models.CheckConstraint(
                condition=Q(recommended_reorder_point__gte=F("recommended_safety_stock")),
                name="ck_policy_recs_order",
                violation_error_message="The recommended reorder point cannot be below the recommended safety stock.",
            ),
            models.UniqueConstraint(
                fields=["inventory"],
                condition=Q(status=RecommendationStatus.PENDING),
                name="uq_policy_recs_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"recommendation {self.pk} on {self.inventory_id}"


class KpiDefinition(models.Model):
    """What a KPI means: its unit, direction, target and alert thresholds (PLN-12, FRM-36/37).

    One set of thresholds serves the KPI pages, the dashboard and the alerts.
    """

    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=KpiCategory.choices)
    unit = models.CharField(max_length=20, blank=True, default="")
    direction = models.CharField(max_length=20, choices=KpiDirection.choices, default=KpiDirection.HIGHER_IS_BETTER)
    target = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    target_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    target_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    warning_threshold_pct = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("10"))
    critical_threshold_pct = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("20"))
    is_computed = models.BooleanField(default=False)
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "kpi_definitions"
        ordering = ["category", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=KpiCategory.values), name="ck_kpi_defs_category"),
            models.CheckConstraint(condition=Q(direction__in=KpiDirection.values), name="ck_kpi_defs_direction"),
            models.CheckConstraint(
                condition=(
                    Q(target_low__isnull=True) | Q(target_high__isnull=True) | Q(target_low__lte=F("target_high"))
                )
                & (~Q(direction=KpiDirection.TARGET_RANGE) | Q(target_low__isnull=False, target_high__isnull=False)),
                name="ck_kpi_defs_range",
                violation_error_message="A target range needs a low and a high bound, low not above high.",
            ),
            models.CheckConstraint(
                condition=Q(warning_threshold_pct__gt=0, critical_threshold_pct__gte=F("warning_threshold_pct")),
                name="ck_kpi_defs_thresholds",
                violation_error_message="Thresholds must satisfy 0 < warning ≤ critical.",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class KpiMetric(models.Model):
    """The value of one KPI for one month, computed from data or entered by hand (PLN-13, FRM-36/38)."""

    metric_name = models.CharField(max_length=100)
    metric_category = models.CharField(max_length=20, choices=KpiCategory.choices)
    period = models.DateField()
    value = models.DecimalField(max_digits=12, decimal_places=4)
    target = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    previous_value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    variance = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    variance_pct = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    trend = models.CharField(max_length=20, choices=KpiTrend.choices, null=True, blank=True)
    status = models.CharField(max_length=20, choices=KpiStatus.choices, default=KpiStatus.NO_TARGET)
    unit = models.CharField(max_length=20, blank=True, default="")
    source = models.CharField(max_length=20, choices=KpiSource.choices, default=KpiSource.MANUAL)
    inputs = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    created_by = _user_fk("+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "kpi_metrics"
        ordering = ["-period", "metric_name"]
        permissions = [("refresh_kpimetric", "Recompute KPIs from data")]
        indexes = [
            models.Index(fields=["metric_category", "period"], name="ix_kpi_metrics_category"),
            models.Index(fields=["period"], name="ix_kpi_metrics_period"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["metric_name", "period"],
                name="uq_kpi_metrics_name_period",
                violation_error_message="This KPI already has a value for this period.",
            ),
            models.CheckConstraint(condition=Q(metric_category__in=KpiCategory.values), name="ck_kpi_metrics_category"),
            models.CheckConstraint(
                condition=Q(trend__isnull=True) | Q(trend__in=KpiTrend.values), name="ck_kpi_metrics_trend"
            ),
            models.CheckConstraint(condition=Q(status__in=KpiStatus.values), name="ck_kpi_metrics_status"),
            models.CheckConstraint(condition=Q(source__in=KpiSource.values), name="ck_kpi_metrics_source"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_name} {self.period:%Y-%m}"


class ProductionSchedule(ObjectScopedModel, models.Model):
    """One production slot of a supply plan on a workcenter, line and shift (PLN-14, FRM-33, WF-70)."""

    scope_category_path = "product__category"
    scope_location_path = "supply_plan__location"

    supply_plan = models.ForeignKey(SupplyPlan, on_delete=models.CASCADE, related_name="schedule_slots")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    workcenter = models.CharField(max_length=50, default="WC-1")
    line = models.CharField(max_length=50, default="Line-1")
    shift = models.CharField(max_length=20, default="Shift-A")
    sequence_order = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    planned_qty = _qty(default=0)
    planned_start_at = models.DateTimeField()
    planned_end_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ScheduleStatus.choices, default=ScheduleStatus.DRAFT)
    created_by = _user_fk("+")
    released_by = _user_fk("+")
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        db_table = "production_schedules"
        ordering = ["period", "supply_plan_id", "sequence_order"]
        permissions = [("set_status_productionschedule", "Change the status of production schedule slots")]
        indexes = [
            models.Index(fields=["product", "period"], name="ix_production_sched_product"),
            models.Index(fields=["workcenter", "line", "shift"], name="ix_production_sched_resource"),
            models.Index(fields=["status"], name="ix_production_sched_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["supply_plan", "sequence_order"],
                name="uq_production_schedules_sequence",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ScheduleStatus.values), name="ck_production_schedules_status"
            ),
            models.CheckConstraint(
                condition=Q(planned_end_at__gt=F("planned_start_at")), name="ck_production_schedules_time"
            ),
            models.CheckConstraint(
                condition=Q(planned_qty__gte=0, sequence_order__gte=1), name="ck_production_schedules_qty"
            ),
        ]

    def __str__(self) -> str:
        return f"slot {self.sequence_order} of supply plan {self.supply_plan_id}"
