from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from genxsop.scoping import ObjectScopedModel, ScopedQuerySet
from planning.choices import AbcClass, LocationType, ProductStatus

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
