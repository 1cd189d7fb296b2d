from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from genxsop.scoping import ObjectScopedModel, ScopedQuerySet
from planning.choices import AbcClass, DemandPlanStatus, LocationType, PlanSource, ProductStatus

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


def _qty(**kwargs):
    return models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)], **kwargs)


def _user_fk(related_name: str):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name=related_name
    )


class DemandPlan(ObjectScopedModel, models.Model):
    """How much of a product is expected to sell in a month at one region and channel (PLN-04).

    The live row (`is_current`) keeps its id and carries the latest version; every content change
    leaves the previous values behind as a history row (`history_of` = the live row, WF-12).
    """

    scope_category_path = "product__category"

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
    status = models.CharField(max_length=20, choices=DemandPlanStatus.choices, default=DemandPlanStatus.DRAFT)
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
    # locked_by_publication (FK -> governance.Publication) arrives with publishing (GOV-63).
    actual_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

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
            models.CheckConstraint(condition=Q(status__in=DemandPlanStatus.values), name="ck_demand_plans_status"),
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
