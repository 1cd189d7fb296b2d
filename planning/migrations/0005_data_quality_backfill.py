"""Data-quality backfill: normalise legacy planning rows so the constraints of 0006 can be added.

An upgrade may carry rows loaded from the legacy system or a spreadsheet before the database
enforced its rules. This migration repairs them instead of letting the constraint migration fail:

- unknown plan statuses become `draft` (nothing unapproved may look approved); unknown inventory
  statuses are recomputed later by the services and start as `normal`;
- negative quantities become 0 and out-of-range percentages are clamped to 0..100;
- empty demand regions and channels become `Global` / `All`;
- reorder points below safety stock are raised to it, and max stock below the reorder point to it;
- duplicate live plan rows of one business key are folded into one live row with the others as
  its history (versions renumbered, nothing deleted); duplicate inventory rows of one product and
  location keep the most recent and the others are removed with their values kept in the audit row.

Every repaired table gets one `planning.data_quality.backfilled` audit event with its counts, so an
operator can see what was changed. Running it on clean data changes nothing and records nothing.
"""

from collections import defaultdict

from django.db import migrations
from django.db.models import Count, F, Q

PLAN_STATUSES = ["draft", "submitted", "approved", "rejected", "locked"]
INVENTORY_STATUSES = ["normal", "low", "critical", "excess"]
DEMAND_QTY = ["forecast_qty", "adjusted_qty", "actual_qty", "consensus_qty"]
SUPPLY_QTY = ["planned_prod_qty", "actual_prod_qty", "capacity_max", "lead_time_days", "cost_per_unit"]
INVENTORY_QTY = ["on_hand_qty", "allocated_qty", "in_transit_qty", "safety_stock", "reorder_point", "valuation"]
SNAPSHOT_QTY = INVENTORY_QTY


def _clamp_negatives(model, fields, counts):
    for field in fields:
        n = model.objects.filter(**{f"{field}__lt": 0}).update(**{field: 0})
        if n:
            counts[f"negative_{field}"] += n


def _clamp_range(model, field, low, high, counts):
    n = model.objects.filter(**{f"{field}__lt": low}).update(**{field: low})
    n += model.objects.filter(**{f"{field}__gt": high}).update(**{field: high})
    if n:
        counts[f"out_of_range_{field}"] += n


def _unknown_status(model, allowed, replacement, counts):
    n = model.objects.exclude(status__in=allowed).update(status=replacement)
    if n:
        counts["unknown_status"] += n


def _fold_duplicate_plans(model, key, counts):
    """Several live rows of one key: the most recently updated stays live, every other row of the
    group (live or history) becomes its history, versions renumbered 1..N in time order."""
    duplicates = (
        model.objects.filter(is_current=True).values(*key).annotate(n=Count("id")).filter(n__gt=1).values_list(*key)
    )
    for values in duplicates:
        lookup = dict(zip(key, values, strict=True))
        live_rows = list(model.objects.filter(is_current=True, **lookup).order_by("updated_at", "id"))
        keep = live_rows[-1]
        group = list(
            model.objects.filter(Q(pk__in=[r.pk for r in live_rows]) | Q(history_of__in=live_rows)).order_by(
                "updated_at", "version", "id"
            )
        )
        group.remove(keep)
        # Move every version out of the way first: the unique (key, version) constraint may already exist.
        model.objects.filter(pk__in=[r.pk for r in group] + [keep.pk]).update(version=F("version") + 100000)
        for number, row in enumerate(group, start=1):
            model.objects.filter(pk=row.pk).update(is_current=False, history_of=keep, version=number)
        model.objects.filter(pk=keep.pk).update(version=len(group) + 1)
        counts["duplicate_live_rows_folded"] += len(live_rows) - 1


def _dedupe_inventory(model, counts, removed):
    duplicates = (
        model.objects.values("product_id", "location_id").annotate(n=Count("id")).filter(n__gt=1)
        .values_list("product_id", "location_id")
    )  # fmt: skip
    for product_id, location_id in duplicates:
        rows = list(model.objects.filter(product_id=product_id, location_id=location_id).order_by("updated_at", "id"))
        for row in rows[:-1]:
            removed.append({f: str(getattr(row, f)) for f in ["id", "product_id", "location_id", *INVENTORY_QTY]})
            row.delete()
            counts["duplicate_rows_removed"] += 1


def _policy_order(model, counts):
    n = model.objects.filter(reorder_point__lt=F("safety_stock")).update(reorder_point=F("safety_stock"))
    n += model.objects.filter(max_stock__lt=F("reorder_point")).update(max_stock=F("reorder_point"))
    if n:
        counts["policy_order_repaired"] += n


def backfill(apps, schema_editor):
    demand = apps.get_model("planning", "DemandPlan")
    supply = apps.get_model("planning", "SupplyPlan")
    inventory = apps.get_model("planning", "Inventory")
    snapshot = apps.get_model("planning", "InventorySnapshot")
    audit_event = apps.get_model("governance", "AuditEvent")
    report = {}

    counts = defaultdict(int)
    _unknown_status(demand, PLAN_STATUSES, "draft", counts)
    _clamp_negatives(demand, DEMAND_QTY, counts)
    _clamp_range(demand, "confidence", 0, 100, counts)
    for field, default in (("region", "Global"), ("channel", "All")):
        n = demand.objects.filter(Q(**{field: ""}) | Q(**{f"{field}__regex": r"^\s+$"})).update(**{field: default})
        if n:
            counts[f"empty_{field}"] += n
    demand.objects.filter(version__lt=1).update(version=1)
    _fold_duplicate_plans(demand, ["product_id", "period", "region", "channel"], counts)
    report["demand_plans"] = dict(counts)

    counts = defaultdict(int)
    _unknown_status(supply, PLAN_STATUSES, "draft", counts)
    _clamp_negatives(supply, SUPPLY_QTY, counts)
    _clamp_range(supply, "capacity_used", 0, 100, counts)
    supply.objects.filter(version__lt=1).update(version=1)
    _fold_duplicate_plans(supply, ["product_id", "period", "location_id"], counts)
    report["supply_plans"] = dict(counts)

    counts, removed = defaultdict(int), []
    _unknown_status(inventory, INVENTORY_STATUSES, "normal", counts)
    _clamp_negatives(inventory, [*INVENTORY_QTY, "max_stock", "days_of_supply"], counts)
    _policy_order(inventory, counts)
    _dedupe_inventory(inventory, counts, removed)
    report["inventory"] = dict(counts)

    counts = defaultdict(int)
    _unknown_status(snapshot, INVENTORY_STATUSES, "normal", counts)
    _clamp_negatives(snapshot, [*SNAPSHOT_QTY, "max_stock"], counts)
    report["inventory_snapshots"] = dict(counts)

    for table, table_counts in report.items():
        if not table_counts:
            continue
        audit_event.objects.create(
            actor_type="system",
            actor_name="system@genxsop.local",
            source="cli",
            event_type="planning.data_quality.backfilled",
            target_type="table",
            target_id=table,
            target_repr=table,
            message="Legacy rows normalised before the planning constraints were added.",
            metadata={"counts": table_counts, **({"removed_rows": removed} if table == "inventory" else {})},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0004_supply_inventory_integration"),
        ("governance", "0003_auth_tokens_and_sso"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
