"""Business-key uniqueness, status domains, non-negative and range checks and the composite indexes
of supply plans, inventory and inventory snapshots (PLN-05…07).

They come after the data-quality backfill (0005) so that an upgrade carrying legacy rows with
unknown statuses, empty dimensions, negatives or duplicate keys succeeds instead of failing here.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("planning", "0005_data_quality_backfill")]

    operations = [
        *[
            migrations.AddConstraint(model_name="inventory", constraint=c)
            for c in [
                models.UniqueConstraint(
                    fields=("product", "location"),
                    name="uq_inventory_product_location",
                    violation_error_code="unique",
                    violation_error_message="Inventory for this product and location already exists.",
                ),
                models.CheckConstraint(
                    condition=models.Q(("status__in", ["normal", "low", "critical", "excess"])),
                    name="ck_inventory_status",
                ),
                models.CheckConstraint(
                    condition=models.Q(
                        ("allocated_qty__gte", 0),
                        ("in_transit_qty__gte", 0),
                        ("on_hand_qty__gte", 0),
                        ("reorder_point__gte", 0),
                        ("safety_stock__gte", 0),
                        ("valuation__gte", 0),
                        models.Q(("max_stock__isnull", True), ("max_stock__gte", 0), _connector="OR"),
                        models.Q(("days_of_supply__isnull", True), ("days_of_supply__gte", 0), _connector="OR"),
                    ),
                    name="ck_inventory_qty_nonneg",
                ),
                models.CheckConstraint(
                    condition=models.Q(("reorder_point__gte", models.F("safety_stock"))),
                    name="ck_inventory_policy_order",
                    violation_error_message="The reorder point cannot be below the safety stock.",
                ),
                models.CheckConstraint(
                    condition=models.Q(
                        ("max_stock__isnull", True), ("max_stock__gte", models.F("reorder_point")), _connector="OR"
                    ),
                    name="ck_inventory_max",
                    violation_error_message="The maximum stock cannot be below the reorder point.",
                ),
            ]
        ],
        *[
            migrations.AddIndex(model_name="inventory", index=i)
            for i in [
                models.Index(fields=["status", "location"], name="ix_inventory_status_location"),
                models.Index(fields=["product"], name="ix_inventory_product"),
            ]
        ],
        *[
            migrations.AddConstraint(model_name="inventorysnapshot", constraint=c)
            for c in [
                models.UniqueConstraint(fields=("product", "location", "period"), name="uq_inventory_snapshots_key"),
                models.CheckConstraint(
                    condition=models.Q(("status__in", ["normal", "low", "critical", "excess"])),
                    name="ck_inventory_snapshots_status",
                ),
                models.CheckConstraint(
                    condition=models.Q(
                        ("allocated_qty__gte", 0),
                        ("in_transit_qty__gte", 0),
                        ("on_hand_qty__gte", 0),
                        ("reorder_point__gte", 0),
                        ("safety_stock__gte", 0),
                        ("valuation__gte", 0),
                        models.Q(("max_stock__isnull", True), ("max_stock__gte", 0), _connector="OR"),
                    ),
                    name="ck_inventory_snapshots_qty_nonneg",
                ),
            ]
        ],
        *[
            migrations.AddIndex(model_name="inventorysnapshot", index=i)
            for i in [models.Index(fields=["period"], name="ix_inventory_snapshots_period")]
        ],
        *[
            migrations.AddConstraint(model_name="supplyplan", constraint=c)
            for c in [
                models.UniqueConstraint(
                    fields=("product", "period", "location", "version"), name="uq_supply_plans_business_key"
                ),
                models.UniqueConstraint(
                    condition=models.Q(("is_current", True)),
                    fields=("product", "period", "location"),
                    name="uq_supply_plans_current",
                    violation_error_code="unique",
                    violation_error_message="A supply plan for this product, period and location already exists.",
                ),
                models.CheckConstraint(
                    condition=models.Q(("status__in", ["draft", "submitted", "approved", "rejected", "locked"])),
                    name="ck_supply_plans_status",
                ),
                models.CheckConstraint(
                    condition=models.Q(
                        models.Q(("planned_prod_qty__isnull", True), ("planned_prod_qty__gte", 0), _connector="OR"),
                        models.Q(("actual_prod_qty__isnull", True), ("actual_prod_qty__gte", 0), _connector="OR"),
                        models.Q(("capacity_max__isnull", True), ("capacity_max__gte", 0), _connector="OR"),
                        models.Q(("lead_time_days__isnull", True), ("lead_time_days__gte", 0), _connector="OR"),
                        models.Q(("cost_per_unit__isnull", True), ("cost_per_unit__gte", 0), _connector="OR"),
                    ),
                    name="ck_supply_plans_qty_nonneg",
                ),
                models.CheckConstraint(
                    condition=models.Q(
                        ("capacity_used__isnull", True),
                        models.Q(("capacity_used__gte", 0), ("capacity_used__lte", 100)),
                        _connector="OR",
                    ),
                    name="ck_supply_plans_capacity_used",
                ),
                models.CheckConstraint(condition=models.Q(("version__gte", 1)), name="ck_supply_plans_version"),
                models.CheckConstraint(
                    condition=models.Q(
                        models.Q(("history_of__isnull", True), ("is_current", True)),
                        models.Q(("history_of__isnull", False), ("is_current", False)),
                        _connector="OR",
                    ),
                    name="ck_supply_plans_history",
                ),
            ]
        ],
        *[
            migrations.AddIndex(model_name="supplyplan", index=i)
            for i in [
                models.Index(fields=["status", "period"], name="ix_supply_plans_status_period"),
                models.Index(fields=["product", "period"], name="ix_supply_plans_product_period"),
                models.Index(fields=["location", "period"], name="ix_supply_plans_loc_period"),
                models.Index(fields=["history_of", "version"], name="ix_supply_plans_history"),
            ]
        ],
    ]
