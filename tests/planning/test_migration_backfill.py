"""An upgrade that carries dirty legacy rows succeeds (issue: data-quality backfill before constraints).

The database is taken back to the state before the planning constraints (migration 0004), legacy
rows that break every rule are written with the historical models, and the migrations are run
forward: the backfill (0005) must repair them so the constraints (0006) can be added, and the
repaired values and the audit summary are what an operator would expect.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("planning", "0004_supply_inventory_integration")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_dirty_legacy_rows_are_normalised_and_the_constraints_then_hold():
    old = _migrate(BEFORE)
    product = old.get_model("planning", "Product").objects.create(sku="LEG-1", name="Legacy")
    location = old.get_model("planning", "Location").objects.create(code="LEG", name="Legacy site")
    supply = old.get_model("planning", "SupplyPlan")
    inventory = old.get_model("planning", "Inventory")
    snapshot = old.get_model("planning", "InventorySnapshot")
    period = datetime.date(2026, 1, 1)
    first = supply.objects.create(product=product, location=location, period=period, status="pending",
                                  planned_prod_qty=Decimal("-5"), capacity_used=Decimal("150"))  # fmt: skip
    second = supply.objects.create(product=product, location=location, period=period, status="approved",
                                   planned_prod_qty=Decimal("80"))  # fmt: skip
    stock = inventory.objects.create(product=product, location=location, on_hand_qty=Decimal("-3"),
                                     safety_stock=Decimal("50"), reorder_point=Decimal("20"),
                                     max_stock=Decimal("10"), status="unknown")  # fmt: skip
    duplicate = inventory.objects.create(product=product, location=location, on_hand_qty=Decimal("7"))
    snapshot.objects.create(product=product, location=location, period=period, on_hand_qty=Decimal("-1"),
                            status="bogus", captured_at=datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC))  # fmt: skip

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    supply = new.get_model("planning", "SupplyPlan")
    live = supply.objects.get(is_current=True)
    history = supply.objects.get(is_current=False)
    # The most recently written row stays live; the other becomes its history, nothing is deleted.
    assert (live.pk, live.version, live.status, live.planned_prod_qty) == (second.pk, 2, "approved", Decimal("80"))
    assert (history.pk, history.version, history.history_of_id) == (first.pk, 1, second.pk)
    assert (history.status, history.planned_prod_qty, history.capacity_used) == ("draft", 0, 100)

    inventory = new.get_model("planning", "Inventory")
    kept = inventory.objects.get()
    # The latest duplicate is kept; the older one is removed and its values kept in the audit row.
    assert kept.pk == duplicate.pk
    audit = new.get_model("governance", "AuditEvent").objects.filter(event_type="planning.data_quality.backfilled")
    by_table = {event.target_id: event.metadata for event in audit}
    assert set(by_table) == {"supply_plans", "inventory", "inventory_snapshots"}
    assert by_table["supply_plans"]["counts"] == {"unknown_status": 1, "negative_planned_prod_qty": 1,
                                                  "out_of_range_capacity_used": 1,
                                                  "duplicate_live_rows_folded": 1}  # fmt: skip
    assert by_table["inventory"]["counts"]["duplicate_rows_removed"] == 1
    assert by_table["inventory"]["removed_rows"][0]["id"] == str(stock.pk)
    assert by_table["inventory"]["removed_rows"][0]["on_hand_qty"] == "0.00"  # negatives were repaired first
    snap = new.get_model("planning", "InventorySnapshot").objects.get()
    assert (snap.on_hand_qty, snap.status) == (0, "normal")
    # The backfill's audit rows were sealed into the hash chain (governance 0005 runs after it).
    from governance import audit_chain

    assert audit_chain.verify().ok
    assert audit_chain.triggers_present()

    # The constraints are in force now: the same kind of dirty write is refused by the database.
    with pytest.raises(IntegrityError), transaction.atomic():
        supply.objects.filter(pk=live.pk).update(planned_prod_qty=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        inventory.objects.filter(pk=kept.pk).update(status="unknown")
    with pytest.raises(IntegrityError), transaction.atomic():
        supply.objects.create(product_id=product.pk, location_id=location.pk, period=period)


@pytest.mark.django_db(transaction=True)
def test_policy_levels_out_of_order_are_raised_not_dropped():
    old = _migrate(BEFORE)
    product = old.get_model("planning", "Product").objects.create(sku="LEG-2", name="Legacy 2")
    location = old.get_model("planning", "Location").objects.create(code="LEG2", name="Legacy 2")
    old.get_model("planning", "Inventory").objects.create(product=product, location=location, on_hand_qty=5,
                                                          safety_stock=50, reorder_point=20, max_stock=10)  # fmt: skip

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    row = new.get_model("planning", "Inventory").objects.get()
    assert (row.safety_stock, row.reorder_point, row.max_stock) == (50, 50, 50)


@pytest.mark.django_db(transaction=True)
def test_clean_data_is_left_alone_and_nothing_is_recorded():
    _migrate(BEFORE)
    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert (
        not new.get_model("governance", "AuditEvent")
        .objects.filter(event_type="planning.data_quality.backfilled")
        .exists()
    )
