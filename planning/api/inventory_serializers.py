"""Inventory API serializers (API-INV-01…04, 22…24): input shapes and the row representations.

The rules (policy order, derived fields, the override reason) are the services'; these only check
types, ranges and lengths, and refuse the derived fields outright so that a client learns early
that they cannot be written.
"""

from rest_framework import serializers

from genxsop.api.fields import StrictCharField
from planning.models import Inventory, InventorySnapshot
from planning.services.inventory import OVERRIDE_REASON_MAX, OVERRIDE_REASON_MIN

DERIVED_FIELDS = ("status", "valuation", "days_of_supply")
_DERIVED_MESSAGE = "Derived from quantities, policy levels, product cost and demand; it cannot be written."


def _qty(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, **kwargs)


class _RowFields(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True, help_text="Location code.")
    location_name = serializers.CharField(source="location.name", read_only=True)


class InventorySerializer(_RowFields):
    """An inventory row (PLN-06) with its derived values."""

    available_qty = serializers.DecimalField(
        max_digits=13, decimal_places=2, read_only=True, help_text="On hand - allocated (may be negative)."
    )
    inventory_position = serializers.DecimalField(
        max_digits=13, decimal_places=2, read_only=True, help_text="Available + in transit."
    )
    open_exception_count = serializers.IntegerField(read_only=True, help_text="Open inventory exceptions (PLN-09).")

    class Meta:
        model = Inventory
        fields = [
            "id", "product_id", "sku", "product_name", "location", "location_name", "on_hand_qty", "allocated_qty",
            "in_transit_qty", "available_qty", "inventory_position", "safety_stock", "reorder_point", "max_stock",
            "days_of_supply", "last_receipt_date", "last_issue_date", "valuation", "status", "policy_source",
            "snapshot_at", "open_exception_count", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class _RefusesDerived(serializers.Serializer):
    def validate(self, attrs):
        refused = {name: [_DERIVED_MESSAGE] for name in DERIVED_FIELDS if name in self.initial_data}
        if refused:
            raise serializers.ValidationError(refused)
        return attrs


class InventoryUpdateInputSerializer(_RefusesDerived):
    """API-INV-23: every field optional; PUT is partial like PATCH."""

    on_hand_qty = _qty(required=False)
    allocated_qty = _qty(required=False)
    in_transit_qty = _qty(required=False)
    safety_stock = _qty(required=False)
    reorder_point = _qty(required=False, help_text="Not below the safety stock.")
    max_stock = _qty(required=False, allow_null=True, help_text="Null: no maximum; else not below the reorder point.")
    last_receipt_date = serializers.DateField(required=False, allow_null=True)
    last_issue_date = serializers.DateField(required=False, allow_null=True)
    expected_version = serializers.IntegerField(
        min_value=1, required=False, help_text="Optimistic concurrency (WF-05), like If-Match."
    )


class InventoryPolicyOverrideInputSerializer(_RefusesDerived):
    """API-INV-24: at least one policy level and a reason."""

    safety_stock = _qty(required=False)
    reorder_point = _qty(required=False)
    max_stock = _qty(required=False, allow_null=True)
    reason = StrictCharField(
        min_length=OVERRIDE_REASON_MIN, max_length=OVERRIDE_REASON_MAX, help_text="Why; kept in the audit log."
    )
    expected_version = serializers.IntegerField(min_value=1, required=False)


class InventoryHealthSerializer(serializers.Serializer):
    """FRM-11 over the caller's scope."""

    total_products = serializers.IntegerField(help_text="Inventory rows in scope.")
    normal_count = serializers.IntegerField()
    low_count = serializers.IntegerField()
    critical_count = serializers.IntegerField()
    excess_count = serializers.IntegerField()
    total_value = serializers.DecimalField(max_digits=18, decimal_places=2)
    normal_pct = serializers.DecimalField(max_digits=4, decimal_places=1)
    low_pct = serializers.DecimalField(max_digits=4, decimal_places=1)
    critical_pct = serializers.DecimalField(max_digits=4, decimal_places=1)
    excess_pct = serializers.DecimalField(max_digits=4, decimal_places=1)


class InventoryAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    location = serializers.CharField()
    on_hand_qty = serializers.DecimalField(max_digits=12, decimal_places=2)
    days_of_supply = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)


class InventoryAlertsSerializer(serializers.Serializer):
    critical = InventoryAlertSerializer(many=True)
    low = InventoryAlertSerializer(many=True)
    excess = InventoryAlertSerializer(many=True)


class InventorySnapshotSerializer(_RowFields):
    """A month-end snapshot (PLN-07)."""

    class Meta:
        model = InventorySnapshot
        fields = [
            "id", "product_id", "sku", "product_name", "location", "location_name", "period", "on_hand_qty",
            "allocated_qty", "in_transit_qty", "safety_stock", "reorder_point", "max_stock", "valuation", "status",
            "source", "captured_at",
        ]  # fmt: skip
        read_only_fields = fields
