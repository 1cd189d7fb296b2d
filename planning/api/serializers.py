"""Catalog API serializers: input serializers check the shape of a body, output serializers render rows.

Business rules (SKU uniqueness, category depth, status changes) live in planning.services; the
input serializers only make sure the values have the right types and lengths.
"""

import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from genxsop.api.fields import StrictCharField
from planning.choices import DemandPlanStatus, LocationType, ProductStatus
from planning.models import Category, DemandPlan, Location, Product
from planning.services import demand_plan_allowed_actions, product_allowed_actions

# Query parameters ---------------------------------------------------------------


class CategoryListQuerySerializer(serializers.Serializer):
    tree = serializers.BooleanField(
        required=False, default=False, help_text="true: nested `children`, roots first; false: a flat list."
    )


# Categories -------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    parent_id = serializers.IntegerField(allow_null=True, read_only=True)
    product_count = serializers.IntegerField(read_only=True, help_text="Products directly in this category.")

    class Meta:
        model = Category
        fields = ["id", "name", "parent_id", "level", "description", "product_count"]
        read_only_fields = fields


@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/CategoryNode"}})
class _CategoryChildrenField(serializers.ListField):
    pass


class CategoryNodeSerializer(CategorySerializer):
    """A category of `GET /products/categories`; `children` only with `tree=true`."""

    # Not read-only: drf-spectacular marks every read-only field required, and this one is optional.
    children = _CategoryChildrenField(required=False, help_text="Present only with tree=true.")

    class Meta(CategorySerializer.Meta):
        fields = [*CategorySerializer.Meta.fields, "children"]


class CategoryCreateInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255)
    parent_id = serializers.IntegerField(required=False, allow_null=True, help_text="Omitted or null: top level.")
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    level = serializers.IntegerField(
        required=False, help_text="Derived from the parent; a value that disagrees is refused (400)."
    )


class CategoryUpdateInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255, required=False)
    parent_id = serializers.IntegerField(required=False, allow_null=True, help_text="null moves it to the top level.")
    description = StrictCharField(max_length=500, required=False, allow_blank=True)


# Products ---------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    category_id = serializers.IntegerField(allow_null=True, read_only=True)
    category_name = serializers.CharField(source="category.name", allow_null=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(help_text="Actions the caller may take now (WF-04).")

    class Meta:
        model = Product
        fields = [
            "id", "sku", "name", "description", "category_id", "category_name", "product_family",
            "unit_of_measure", "unit_cost", "selling_price", "lead_time_days", "min_order_qty", "status",
            "abc_class", "created_at", "updated_at", "allowed_actions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, product: Product) -> list[str]:
        return product_allowed_actions(user=self.context["request"].user, product=product)


class ProductDetailSerializer(ProductSerializer):
    # Stock rows do not exist before the inventory module, so no product is stocked anywhere yet.
    locations = serializers.SerializerMethodField(help_text="Codes of the locations holding stock of the product.")

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "locations"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_locations(self, product: Product) -> list[str]:
        return []


class ProductCreateInputSerializer(serializers.Serializer):
    sku = StrictCharField(max_length=50, help_text="Unique and immutable.")
    name = StrictCharField(max_length=255)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True)
    category_id = serializers.IntegerField(required=False, allow_null=True)
    product_family = StrictCharField(max_length=100, required=False, allow_blank=True)
    unit_of_measure = StrictCharField(max_length=20, required=False)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    selling_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    lead_time_days = serializers.IntegerField(min_value=0, required=False)
    min_order_qty = serializers.IntegerField(min_value=1, required=False)
    status = serializers.ChoiceField(
        choices=ProductStatus.choices, required=False, help_text="active (default) or new."
    )


class ProductUpdateInputSerializer(ProductCreateInputSerializer):
    sku = StrictCharField(max_length=50, required=False, help_text="Immutable: a different value is refused.")
    name = StrictCharField(max_length=255, required=False)
    status = serializers.ChoiceField(
        choices=ProductStatus.choices,
        required=False,
        help_text="Ignored when equal to the current status; otherwise refused (use the action endpoints).",
    )


class ProductActionInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


# Locations --------------------------------------------------------------------


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name", "location_type", "region", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class LocationDetailSerializer(LocationSerializer):
    # Inventory and supply plans arrive with the planning core; until then nothing references a location.
    inventory_rows = serializers.SerializerMethodField(help_text="Inventory rows held at this location.")
    supply_plan_rows = serializers.SerializerMethodField(help_text="Current supply plan rows at this location.")

    class Meta(LocationSerializer.Meta):
        fields = [*LocationSerializer.Meta.fields, "inventory_rows", "supply_plan_rows"]
        read_only_fields = fields

    def get_inventory_rows(self, location: Location) -> int:
        return 0

    def get_supply_plan_rows(self, location: Location) -> int:
        return location.supply_plans.filter(is_current=True).count()


class LocationCreateInputSerializer(serializers.Serializer):
    code = StrictCharField(max_length=50, help_text="Unique, case-sensitive and immutable.")
    name = StrictCharField(max_length=255)
    location_type = serializers.ChoiceField(choices=LocationType.choices, required=False)
    region = StrictCharField(max_length=100, required=False, allow_blank=True)


class LocationUpdateInputSerializer(LocationCreateInputSerializer):
    code = StrictCharField(max_length=50, required=False, help_text="Immutable: a different value is refused.")
    name = StrictCharField(max_length=255, required=False)


# Demand plans -----------------------------------------------------------------


@extend_schema_field({"type": "string", "format": "date", "example": "2026-03-01"})
class PeriodField(serializers.Field):
    """CNV-01: `YYYY-MM-DD` or `YYYY-MM` in; the first of the month out (the service normalises)."""

    default_error_messages = {"invalid": "Use YYYY-MM-DD or YYYY-MM."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        for fmt in ("%Y-%m-%d", "%Y-%m"):
            try:
                return datetime.datetime.strptime(data.strip(), fmt).date()  # noqa: DTZ007 (a date, no time zone)
            except ValueError:
                continue
        self.fail("invalid")
        return None

    def to_representation(self, value):
        return value.isoformat()


def _user_name(user) -> str | None:
    return user.full_name if user is not None else None


class PlanSerializer(serializers.ModelSerializer):
    """What every plan representation carries (API-11): product reference, history link, users with
    display names and `allowed_actions`. Subclasses set `allowed_actions_of` and their Meta."""

    allowed_actions_of = None  # staticmethod(services.<kind>_allowed_actions)

    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    history_of = serializers.IntegerField(source="history_of_id", allow_null=True, read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True, read_only=True)
    updated_by = serializers.IntegerField(source="updated_by_id", allow_null=True, read_only=True)
    submitted_by = serializers.IntegerField(source="submitted_by_id", allow_null=True, read_only=True)
    approved_by = serializers.IntegerField(source="approved_by_id", allow_null=True, read_only=True)
    rejected_by = serializers.IntegerField(source="rejected_by_id", allow_null=True, read_only=True)
    created_by_name = serializers.SerializerMethodField()
    updated_by_name = serializers.SerializerMethodField()
    submitted_by_name = serializers.SerializerMethodField()
    approved_by_name = serializers.SerializerMethodField()
    rejected_by_name = serializers.SerializerMethodField()
    publication_stamp = serializers.SerializerMethodField(
        help_text="Version stamp of the publication that locked the row (UI-04/05); null unless locked."
    )
    allowed_actions = serializers.SerializerMethodField(help_text="Actions the caller may take now (WF-04).")

    # Fields every plan lists after its own content fields.
    WORKFLOW_FIELDS = [
        "status", "version", "is_current", "history_of", "source", "change_reason", "created_by", "created_by_name",
        "updated_by", "updated_by_name", "submitted_by", "submitted_by_name", "submitted_at", "approved_by",
        "approved_by_name", "approved_at", "rejected_by", "rejected_by_name", "rejected_at", "locked_at",
        "publication_stamp", "actual_updated_at", "created_at", "updated_at", "allowed_actions",
    ]  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by_name(self, plan) -> str | None:
        return _user_name(plan.created_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_updated_by_name(self, plan) -> str | None:
        return _user_name(plan.updated_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_submitted_by_name(self, plan) -> str | None:
        return _user_name(plan.submitted_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_approved_by_name(self, plan) -> str | None:
        return _user_name(plan.approved_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_rejected_by_name(self, plan) -> str | None:
        return _user_name(plan.rejected_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_publication_stamp(self, plan) -> str | None:
        if plan.status != "locked" or plan.locked_by_publication_id is None:
            return None
        return plan.locked_by_publication.version_stamp

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, plan) -> list[str]:
        return type(self).allowed_actions_of(user=self.context["request"].user, plan=plan)


class DemandPlanSerializer(PlanSerializer):
    """A demand plan row, live or history (API-DEM representation)."""

    allowed_actions_of = staticmethod(demand_plan_allowed_actions)

    demand_qty = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, help_text="FRM-01: consensus, else adjusted, else forecast."
    )

    class Meta:
        model = DemandPlan
        fields = [
            "id", "product_id", "sku", "product_name", "period", "region", "channel", "forecast_qty",
            "adjusted_qty", "actual_qty", "consensus_qty", "demand_qty", "confidence", "notes",
            *PlanSerializer.WORKFLOW_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


def _qty_field(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, **kwargs)


class DemandPlanCreateInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    period = PeriodField(help_text="YYYY-MM-DD or YYYY-MM; stored as the first of the month (2000-01…2100-12).")
    region = StrictCharField(max_length=100, required=False, help_text="Default Global; trimmed, not blank.")
    channel = StrictCharField(max_length=100, required=False, help_text="Default All; trimmed, not blank.")
    forecast_qty = _qty_field()
    adjusted_qty = _qty_field(required=False, allow_null=True)
    actual_qty = _qty_field(required=False, allow_null=True)
    consensus_qty = _qty_field(required=False, allow_null=True)
    confidence = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )
    notes = StrictCharField(required=False, allow_blank=True)
    change_reason = StrictCharField(max_length=500, required=False, allow_blank=True)


class DemandPlanUpdateInputSerializer(serializers.Serializer):
    forecast_qty = _qty_field(required=False)
    adjusted_qty = _qty_field(required=False, allow_null=True)
    actual_qty = _qty_field(required=False, allow_null=True, help_text="Alone: record_actual, allowed in any status.")
    consensus_qty = _qty_field(required=False, allow_null=True)
    confidence = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )
    notes = StrictCharField(required=False, allow_blank=True)
    change_reason = StrictCharField(max_length=500, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=DemandPlanStatus.choices,
        required=False,
        help_text="Ignored when equal to the current status; otherwise refused (use the action endpoints).",
    )
    expected_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Optimistic concurrency (WF-05), like If-Match."
    )


class DemandPlanAdjustInputSerializer(serializers.Serializer):
    adjusted_qty = _qty_field(allow_null=True)
    notes = StrictCharField(required=False, allow_blank=True, help_text="Replaces the notes when given.")
    change_reason = StrictCharField(max_length=500, required=False, allow_blank=True)
    expected_version = serializers.IntegerField(min_value=1, required=False)


class DemandPlanActualInputSerializer(serializers.Serializer):
    actual_qty = _qty_field(allow_null=True)
    expected_version = serializers.IntegerField(min_value=1, required=False)


class PlanActionInputSerializer(serializers.Serializer):
    comment = StrictCharField(max_length=2000, required=False, allow_blank=True)
    comments = StrictCharField(max_length=2000, required=False, allow_blank=True, help_text="Alias of comment.")
    expected_version = serializers.IntegerField(min_value=1, required=False)


class PlanReopenInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Required: why the approved plan is reopened.")
    expected_version = serializers.IntegerField(min_value=1, required=False)


class PlanUnlockInputSerializer(serializers.Serializer):
    justification = StrictCharField(max_length=2000, help_text="Required: why the published plan is unlocked.")
    override_freeze = serializers.BooleanField(
        required=False, default=False, help_text="Required inside the freeze window of the publishing lane."
    )
    expected_version = serializers.IntegerField(min_value=1, required=False)


class PlanBulkInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500,
                                help_text="1 to 500 plan ids; each runs in its own transaction.")  # fmt: skip
    comments = StrictCharField(max_length=2000, required=False, allow_blank=True)
    comment = StrictCharField(max_length=2000, required=False, allow_blank=True, help_text="Alias of comments.")


class PlanBulkErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PlanBulkResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    status = serializers.CharField(required=False, help_text="The plan's status after the action, when ok.")
    error = PlanBulkErrorSerializer(required=False, help_text="Why this id failed, when not ok.")


class PlanBulkResponseSerializer(serializers.Serializer):
    results = PlanBulkResultSerializer(many=True)
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()


class PlanVersionSerializer(serializers.Serializer):
    """The fields every plan version row has (API-DEM-15, API-SUP-14); subclasses add the content."""

    id = serializers.IntegerField()
    version = serializers.IntegerField()
    is_current = serializers.BooleanField()
    status_at_version = serializers.CharField()
    source = serializers.CharField()
    change_reason = serializers.CharField()
    changed_fields = serializers.ListField(child=serializers.CharField())
    changed_by = serializers.IntegerField(allow_null=True)
    changed_by_name = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField()


class DemandPlanVersionSerializer(PlanVersionSerializer):
    forecast_qty = serializers.DecimalField(max_digits=12, decimal_places=2)
    adjusted_qty = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    consensus_qty = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    actual_qty = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    demand_qty = serializers.DecimalField(max_digits=12, decimal_places=2)
    confidence = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    notes = serializers.CharField()
