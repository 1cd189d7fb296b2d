"""Inventory services (PLN-06, FRM-03…05, API-INV-23/24): the only write path for inventory rows.

Quantities and policy levels are written here; status, valuation and days of supply are derived
by `planning.inventory_rules` on every write and never accepted from a caller.
"""

from django.db import transaction
from django.utils import timezone

from genxsop.errors import Conflict, StaleVersion, ValidationFailed
from genxsop.services import require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from planning import events, inventory_rules
from planning import permissions as perms
from planning.choices import PolicySource
from planning.models import Inventory, Location, Product

__all__ = [
    "INVENTORY_POLICY_FIELDS",
    "INVENTORY_QUANTITY_FIELDS",
    "inventory_create",
    "inventory_policy_override",
    "inventory_refresh_products",
    "inventory_update",
]

INVENTORY_QUANTITY_FIELDS = ["on_hand_qty", "allocated_qty", "in_transit_qty", "last_receipt_date", "last_issue_date"]
INVENTORY_POLICY_FIELDS = ["safety_stock", "reorder_point", "max_stock"]
_DERIVED_READ_ONLY = ("status", "days_of_supply")
OVERRIDE_REASON_MIN, OVERRIDE_REASON_MAX = 3, 500


def _refuse_derived(data: dict) -> None:
    bad = [f for f in _DERIVED_READ_ONLY if f in data]
    if bad:
        raise ValidationFailed(fields={f: ["Derived from quantities and policy levels; it cannot be written."]
                                       for f in bad})  # fmt: skip


def _check_version(row: Inventory, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != row.version:
        raise StaleVersion(context={"current_version": row.version, "expected_version": expected_version})


def _check_policy_order(row: Inventory) -> None:
    """ck_inventory_policy_order / ck_inventory_max as a 400 naming the field, before the database sees it."""
    fields = {}
    if row.reorder_point is not None and row.safety_stock is not None and row.reorder_point < row.safety_stock:
        fields["reorder_point"] = ["The reorder point cannot be below the safety stock."]
    if row.max_stock is not None and row.reorder_point is not None and row.max_stock < row.reorder_point:
        fields["max_stock"] = ["The maximum stock cannot be below the reorder point."]
    if fields:
        raise ValidationFailed(fields=fields)


@transaction.atomic
def inventory_create(*, actor, product: Product, location: Location, data: dict,
                     policy_source: str = PolicySource.MANUAL) -> Inventory:  # fmt: skip
    """Create the stock position of a product at a location. Needs add_inventory in the product's and
    location's scope. A second row for the same pair is 409 DUPLICATE_ENTITY; a deactivated location
    is 409. `valuation` given means the ERP supplied it (FRM-04). Emits planning.inventory.created."""
    require_perm(actor, perms.ADD_INVENTORY)
    _refuse_derived(data)
    row = Inventory(
        product=product,
        location=location,
        policy_source=policy_source,
        snapshot_at=data.get("snapshot_at") or timezone.now(),
        updated_by=actor,
        **{k: data[k] for k in (*INVENTORY_QUANTITY_FIELDS, *INVENTORY_POLICY_FIELDS) if data.get(k) is not None},
    )
    if data.get("valuation") is not None:
        row.valuation, row.valuation_from_erp = data["valuation"], True
    require_perm(actor, perms.ADD_INVENTORY, row)
    if not location.is_active:
        raise Conflict(f"Location {location.code} is deactivated and accepts no new inventory rows.")
    _check_policy_order(row)
    inventory_rules.recompute([row])
    validate_instance(row, exclude=["updated_by"])
    save_or_conflict(row)
    audit.record(actor=actor, event_type=events.INVENTORY_CREATED, target=row, after=snapshot(row))
    bus.publish_on_commit(events.INVENTORY_CREATED, inventory_id=row.pk)
    return row


def _lock(row: Inventory) -> Inventory:
    return Inventory.objects.select_related("product", "location").select_for_update(of=("self",)).get(pk=row.pk)


def _write(*, actor, row: Inventory, changes: dict, event: str, message: str = "", metadata: dict | None = None):
    before = snapshot(row)
    for key, value in changes.items():
        setattr(row, key, value)
    _check_policy_order(row)
    inventory_rules.recompute([row])
    row.version += 1
    row.updated_by = actor
    validate_instance(row, exclude=["product", "location", "updated_by"])
    save_or_conflict(row)
    after = snapshot(row)
    audit.record(actor=actor, event_type=event, target=row, before=before, after=after, message=message,
                 metadata=metadata or {})  # fmt: skip
    bus.publish_on_commit(event, inventory_id=row.pk)
    return row


def _changes(row: Inventory, data: dict, fields: list[str]) -> dict:
    return {k: data[k] for k in fields if k in data and getattr(row, k) != data[k]}


@transaction.atomic
def inventory_update(*, actor, inventory: Inventory, data: dict, expected_version: int | None = None,
                     source: str = "manual") -> Inventory:  # fmt: skip
    """API-INV-23: set quantities, dates and policy levels; status, valuation and days of supply are
    recomputed. ROP < SS or max < ROP is 400. Needs change_inventory in scope; a wrong
    `expected_version` is 409 STALE_VERSION; `valuation` given means the ERP supplied it. An update that
    changes nothing writes nothing. Emits planning.inventory.updated."""
    require_perm(actor, perms.CHANGE_INVENTORY, inventory)
    _refuse_derived(data)
    row = _lock(inventory)
    _check_version(row, expected_version)
    changes = _changes(row, data, [*INVENTORY_QUANTITY_FIELDS, *INVENTORY_POLICY_FIELDS])
    if data.get("valuation") is not None and (data["valuation"] != row.valuation or not row.valuation_from_erp):
        changes.update(valuation=data["valuation"], valuation_from_erp=True)
    if "snapshot_at" in data:
        changes["snapshot_at"] = data["snapshot_at"]
    elif any(k in changes for k in INVENTORY_QUANTITY_FIELDS):
        changes["snapshot_at"] = timezone.now()
    if not changes:
        return row
    if any(k in changes for k in INVENTORY_POLICY_FIELDS):
        changes["policy_source"] = PolicySource.ERP if source == "erp" else PolicySource.MANUAL
    return _write(actor=actor, row=row, changes=changes, event=events.INVENTORY_UPDATED, metadata={"source": source})


@transaction.atomic
def inventory_policy_override(*, actor, inventory: Inventory, data: dict, reason: str,
                              expected_version: int | None = None) -> Inventory:  # fmt: skip
    """API-INV-24: set safety stock, reorder point and/or max stock by hand with a required reason
    (3..500 characters), marking `policy_source = override`. Needs override_inventory_policy in scope.
    The reason is the audit message. Emits planning.inventory.policy_overridden."""
    require_perm(actor, perms.OVERRIDE_INVENTORY_POLICY, inventory)
    reason = (reason or "").strip()
    if not OVERRIDE_REASON_MIN <= len(reason) <= OVERRIDE_REASON_MAX:
        raise ValidationFailed(fields={"reason": [
            f"A reason of {OVERRIDE_REASON_MIN} to {OVERRIDE_REASON_MAX} characters is required."]})  # fmt: skip
    if not any(k in data for k in INVENTORY_POLICY_FIELDS):
        raise ValidationFailed(fields={"non_field_errors": ["Give at least one of safety_stock, reorder_point, "
                                                            "max_stock."]})  # fmt: skip
    row = _lock(inventory)
    _check_version(row, expected_version)
    changes = _changes(row, data, INVENTORY_POLICY_FIELDS)
    changes["policy_source"] = PolicySource.OVERRIDE
    return _write(actor=actor, row=row, changes=changes, event=events.INVENTORY_POLICY_OVERRIDDEN, message=reason,
                  metadata={"reason": reason})  # fmt: skip


def inventory_refresh_products(*, product_ids) -> int:
    """System recomputation of the derived fields after demand plans or a product's cost changed
    (PLN-06). Returns the number of rows whose status, valuation or days of supply moved."""
    with transaction.atomic():
        return inventory_rules.refresh_products(product_ids)
