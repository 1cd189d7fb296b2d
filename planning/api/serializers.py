"""Catalog API serializers: input serializers check the shape of a body, output serializers render rows.

Business rules (SKU uniqueness, category depth, status changes) live in planning.services; the
input serializers only make sure the values have the right types and lengths.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from genxsop.api.fields import StrictCharField
from planning.choices import LocationType, ProductStatus
from planning.models import Category, Location, Product
from planning.services import product_allowed_actions

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
        return 0


class LocationCreateInputSerializer(serializers.Serializer):
    code = StrictCharField(max_length=50, help_text="Unique, case-sensitive and immutable.")
    name = StrictCharField(max_length=255)
    location_type = serializers.ChoiceField(choices=LocationType.choices, required=False)
    region = StrictCharField(max_length=100, required=False, allow_blank=True)


class LocationUpdateInputSerializer(LocationCreateInputSerializer):
    code = StrictCharField(max_length=50, required=False, help_text="Immutable: a different value is refused.")
    name = StrictCharField(max_length=255, required=False)
