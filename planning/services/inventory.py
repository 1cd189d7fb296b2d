"""Inventory services (PLN-06, FRM-03…05, API-INV-23/24): the only write path for inventory rows.

Quantities and policy levels are written here; status, valuation and days of supply are derived
by `planning.inventory_rules` on every write and never accepted from a caller.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import DecimalField
from django.utils import timezone

from genxsop.errors import Conflict, StaleVersion, ValidationFailed
from genxsop.services import require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from planning import events, inventory_rules
from planning import permissions as perms
from planning.choices import PolicySource, SnapshotSource
from planning.models import Inventory, InventorySnapshot, Location, Product

__all__ = [
    "INVENTORY_POLICY_FIELDS",
    "INVENTORY_QUANTITY_FIELDS",
    "SNAPSHOT_FIELDS",
    "inventory_create",
    "inventory_policy_override",
    "inventory_refresh_on_event",
    "inventory_refresh_products",
    "inventory_snapshot_capture",
    "inventory_update",
    "previous_month",
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


def _clean_fields(row: Inventory, exclude: list[str]) -> None:
    """Field types and ranges first (strings from files or the ERP become numbers), so that the policy
    order and the derived values are computed on clean values."""
    try:
        row.clean_fields(exclude=exclude)
    except DjangoValidationError as exc:
        raise ValidationFailed(fields=exc.message_dict) from None


def _quantize(row: Inventory) -> None:
    # As stored, so that the audit snapshot shows "30.00" like every later read, not the "30" typed in.
    for field in row._meta.concrete_fields:
        value = getattr(row, field.attname)
        if isinstance(field, DecimalField) and isinstance(value, Decimal):
            setattr(row, field.attname, value.quantize(Decimal(1).scaleb(-field.decimal_places)))


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
    _clean_fields(row, exclude=["product", "location", "updated_by"])
    _check_policy_order(row)
    inventory_rules.recompute([row])
    validate_instance(row, exclude=["updated_by"])
    _quantize(row)
    save_or_conflict(row)
    # One more stocking location splits the product's demand further (k of FRM-05): the other rows'
    # days of supply move too.
    inventory_rules.refresh_rows([product.pk])
    audit.record(actor=actor, event_type=events.INVENTORY_CREATED, target=row, after=snapshot(row))
    bus.publish_on_commit(events.INVENTORY_CREATED, inventory_id=row.pk)
    return row


def _lock(row: Inventory) -> Inventory:
    return Inventory.objects.select_related("product", "location").select_for_update(of=("self",)).get(pk=row.pk)


def _write(*, actor, row: Inventory, changes: dict, event: str, message: str = "", metadata: dict | None = None):
    before = snapshot(row)
    for key, value in changes.items():
        setattr(row, key, value)
    _clean_fields(row, exclude=["product", "location", "updated_by"])
    _check_policy_order(row)
    inventory_rules.recompute([row])
    row.version += 1
    row.updated_by = actor
    validate_instance(row, exclude=["product", "location", "updated_by"])
    _quantize(row)
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
    elif data.get("valuation") is None and "on_hand_qty" in changes and row.valuation_from_erp:
        # The ERP's valuation was for the old quantity; without a new one the value is derived again.
        changes["valuation_from_erp"] = False
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
    (PLN-06). Returns the number of rows whose status, valuation or days of supply moved and emits
    planning.inventory.status_recomputed for them.

    Not audited row by row: the values follow from audited changes (the plan, the product), and the
    rows keep their version, so an edit form opened before stays valid."""
    with transaction.atomic():
        changed = inventory_rules.refresh_rows(product_ids)
        if changed:
            bus.publish_on_commit(events.INVENTORY_STATUS_RECOMPUTED, inventory_ids=[row.pk for row in changed],
                                  product_ids=sorted({row.product_id for row in changed}))  # fmt: skip
        return len(changed)


def inventory_refresh_on_event(event: str, payload: dict) -> None:
    """Bus subscriber (PLN-06): a demand plan or a product changed, so the product's rows are recomputed.

    Demand plan events and product events carry `product_id`; anything else is ignored. Idempotent."""
    product_id = payload.get("product_id")
    if product_id is not None:
        inventory_refresh_products(product_ids=[product_id])


# Month-end snapshots (PLN-07, OPS-41) ---------------------------------------------

SNAPSHOT_FIELDS = ["on_hand_qty", "allocated_qty", "in_transit_qty", "safety_stock", "reorder_point", "max_stock",
                   "valuation", "status"]  # fmt: skip


def previous_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of the month before `today`'s: the month that a month-close run closes."""
    first = (today or timezone.localdate()).replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


@transaction.atomic
def inventory_snapshot_capture(*, actor, period: datetime.date, source: str = SnapshotSource.MONTH_CLOSE) -> dict:
    """OPS-41: copy every current inventory row into `inventory_snapshots` for `period` (any day of the
    month; stored as its first day), one snapshot per product and location.

    Idempotent per period: a second run updates only the snapshots whose values moved and leaves the
    rest alone. A month-close run keeps snapshots the ERP delivered for that key. `actor` None is the
    system (the schedule and the command); a person needs add_inventorysnapshot. Set-based: a fixed
    number of queries for any number of rows. Each snapshot written gets a
    planning.inventory_snapshot.captured audit row; emits the same event once with the counts.
    Returns `{period, created, updated, unchanged, kept}`."""
    if source not in SnapshotSource.values:
        raise ValidationFailed(fields={"source": [f"One of {', '.join(SnapshotSource.values)}."]})
    if actor is not None:
        require_perm(actor, perms.ADD_INVENTORY_SNAPSHOT)
    period = period.replace(day=1)
    rows = Inventory.objects.all() if actor is None else Inventory.objects.for_user(actor, "change")
    rows = list(rows.order_by("pk").values("product_id", "location_id", *SNAPSHOT_FIELDS))
    existing = {(s.product_id, s.location_id): s for s in InventorySnapshot.objects.filter(period=period)}
    now = timezone.now()
    created, updated, unchanged, kept = [], [], 0, 0
    audit_entries = []
    for values in rows:
        key = (values["product_id"], values["location_id"])
        current = existing.get(key)
        if current is None:
            snap = InventorySnapshot(period=period, source=source, captured_at=now, **values)
            created.append(snap)
            continue
        if source == SnapshotSource.MONTH_CLOSE and current.source == SnapshotSource.ERP:
            kept += 1
            continue
        if all(getattr(current, f) == values[f] for f in SNAPSHOT_FIELDS) and current.source == source:
            unchanged += 1
            continue
        before = snapshot(current)
        for name in SNAPSHOT_FIELDS:
            setattr(current, name, values[name])
        current.source, current.captured_at = source, now
        updated.append(current)
        audit_entries.append({"before": before, "target": current})
    InventorySnapshot.objects.bulk_create(created, batch_size=1000)
    InventorySnapshot.objects.bulk_update(updated, [*SNAPSHOT_FIELDS, "source", "captured_at"], batch_size=1000)
    audit_entries += [{"before": None, "target": snap} for snap in created]
    audit.record_many(
        [{"actor": actor, "event_type": events.INVENTORY_SNAPSHOT_CAPTURED, "target": e["target"],
          "before": e["before"], "after": snapshot(e["target"]), "metadata": {"period": f"{period:%Y-%m}",
                                                                                "source": source}}
         for e in audit_entries]
    )  # fmt: skip
    result = {"period": period, "created": len(created), "updated": len(updated), "unchanged": unchanged,
              "kept": kept}  # fmt: skip
    if created or updated:
        bus.publish_on_commit(events.INVENTORY_SNAPSHOT_CAPTURED, period=f"{period:%Y-%m}", created=len(created),
                              updated=len(updated))  # fmt: skip
    return result
