"""The batch engine behind ERP/WMS sync and file imports (INT-01…08, WF-80)."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from genxsop.errors import IdempotencyInProgress, IdempotencyKeyReused, PermissionDenied, ValidationFailed
from governance import audit_chain
from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import services
from planning.choices import BatchStatus, InventoryStatus, PlanSource, PlanStatus
from planning.integrations.appliers import InventoryApplier
from planning.integrations.batch import request_hash, run_batch
from planning.integrations.bulk import bulk_update_rows, insert_rows
from planning.models import (
    Category,
    DemandPlan,
    IntegrationBatch,
    Inventory,
    InventorySnapshot,
    Location,
    Product,
    SupplyPlan,
)

pytestmark = pytest.mark.django_db

THIS_MONTH = timezone.localdate().replace(day=1)
LAST_MONTH = (THIS_MONTH.replace(day=1) - timezone.timedelta(days=1)).replace(day=1)


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio,
                                                         "unit_cost": Decimal("10.00")})  # fmt: skip
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden})
    wh = services.location_create(actor=admin, data={"code": "WH1", "name": "Warehouse 1"})
    main = services.location_create(actor=admin, data={"code": "Main", "name": "Main plant"})
    return SimpleNamespace(admin=admin, coord=users[Role.SOP_COORDINATOR], planner=users[Role.DEMAND_PLANNER],
                           audio=audio, garden=garden, speaker=speaker, mower=mower, wh=wh, main=main)  # fmt: skip


def sync(w, operation, items, actor=None, **meta):
    meta = {"source_system": "SAP", **meta}
    if "idempotency_key" not in meta and "batch_id" not in meta and not meta.get("dry_run"):
        sync.n += 1
        meta["idempotency_key"] = f"k-{sync.n}"
    return run_batch(actor=actor or w.coord, operation=operation, channel="api", items=items, meta=meta)


sync.n = 0


def counts():
    return (Product.objects.count(), Inventory.objects.count(), DemandPlan.objects.count(), SupplyPlan.objects.count(),
            Location.objects.count(), Category.objects.count(), AuditEvent.objects.count())  # fmt: skip


# Idempotency (INT-03) -------------------------------------------------------------------------------


def test_replay_with_the_same_key_returns_the_first_body_and_writes_nothing(w):
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 50}]
    batch, body, replayed = sync(w, "inventory_sync", items, idempotency_key="inv-1")
    assert (replayed, body["created"], body["status"]) == (False, 1, "completed")
    before = (*counts(), IntegrationBatch.objects.count())
    again, replay_body, replayed = sync(w, "inventory_sync", items, idempotency_key="inv-1")
    assert replayed is True
    assert again.pk == batch.pk
    assert replay_body == {**body, "replayed": True}
    assert (*counts(), IntegrationBatch.objects.count()) == before


def test_same_key_with_a_different_body_is_409(w):
    sync(w, "inventory_sync", [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 50}], idempotency_key="k")
    with pytest.raises(IdempotencyKeyReused):
        sync(w, "inventory_sync", [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 51}], idempotency_key="k")


def test_a_key_whose_first_call_is_still_processing_is_409(w):
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 1}]
    digest = request_hash("inventory_sync", items, {"source_system": "SAP", "idempotency_key": "busy"})
    IntegrationBatch.objects.create(channel="api", operation="inventory_sync", source_system="SAP",
                                    idempotency_key="busy", request_hash=digest)  # fmt: skip
    with pytest.raises(IdempotencyInProgress):
        sync(w, "inventory_sync", items, idempotency_key="busy")


def test_a_key_older_than_the_retention_period_is_forgotten(w):
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 5}]
    first, _, _ = sync(w, "inventory_sync", items, idempotency_key="old")
    IntegrationBatch.objects.filter(pk=first.pk).update(created_at=timezone.now() - timezone.timedelta(days=91))
    second, body, replayed = sync(w, "inventory_sync", [{**items[0], "on_hand_qty": 6}], idempotency_key="old")
    assert replayed is False
    assert second.pk != first.pk
    assert body["updated"] == 1


def test_batch_id_is_the_key_when_no_idempotency_key_is_given(w):
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 50}]
    _, body, _ = sync(w, "inventory_sync", items, batch_id="B-7")
    assert body["idempotency_key"] == "B-7"
    assert sync(w, "inventory_sync", items, batch_id="B-7")[2] is True


def test_a_key_is_required_unless_dry_run(w):
    with pytest.raises(ValidationFailed, match="idempotency_key or batch_id is required"):
        run_batch(actor=w.coord, operation="inventory_sync", channel="api", meta={"source_system": "SAP"},
                  items=[{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 1}])  # fmt: skip
    assert IntegrationBatch.objects.get().status == BatchStatus.REJECTED
    with override_settings(INTEGRATION_REQUIRE_IDEMPOTENCY_KEY=False):
        _, body, _ = run_batch(actor=w.coord, operation="inventory_sync", channel="api",
                               meta={"source_system": "SAP"}, items=[{"sku": "SPK-1", "location": "WH1",
                                                                      "on_hand_qty": 1}])  # fmt: skip
    assert body["created"] == 1


def test_header_and_body_keys_must_agree(w):
    with pytest.raises(ValidationFailed):
        sync(w, "inventory_sync", [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 1}], idempotency_key="a",
             idempotency_key_header="b")  # fmt: skip


def test_dry_run_writes_only_the_batch_and_does_not_consume_the_key(w):
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 50}, {"sku": "NOPE", "location": "WH1",
                                                                       "on_hand_qty": 1}]  # fmt: skip
    before = counts()
    batch, body, _ = sync(w, "inventory_sync", items, idempotency_key="dr", dry_run=True)
    assert (body["dry_run"], body["created"], body["failed"], body["status"]) == (True, 1, 1, "partial")
    assert counts() == before
    assert batch.idempotency_key is None
    assert batch.dry_run
    _, body, replayed = sync(w, "inventory_sync", items, idempotency_key="dr")
    assert (replayed, body["created"]) == (False, 1)
    assert Inventory.objects.count() == 1


# Per-item processing (INT-04, INT-04a) ---------------------------------------------------------------


def test_atomic_batch_with_one_bad_item_writes_nothing(w):
    before = counts()
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 5}, {"sku": "SPK-1", "location": "WH1",
                                                                      "on_hand_qty": -1}]  # fmt: skip
    batch, body, _ = sync(w, "inventory_sync", items, atomic=True)
    assert (body["status"], body["success"], body["created"], body["failed"]) == ("failed", False, 0, 1)
    assert counts()[:-1] == before[:-1]  # only the batch's own audit row
    assert [r["outcome"] for r in batch.item_results] == ["not_applied", "failed"]


def test_non_atomic_batch_applies_valid_items_and_reports_each_failure(w):
    items = [
        {"sku": "SPK-1", "location": "WH1", "on_hand_qty": "12.5"},
        {"sku": "GHOST", "location": "WH1", "on_hand_qty": 1},
        {"sku": "MOW-1", "location": "WH1", "on_hand_qty": "many"},
        {"sku": "MOW-1", "location": "WH1"},
        {"sku": "SPK-1", "location": "WH1", "on_hand_qty": 3},
        {"sku": "MOW-1", "location": "WH1", "on_hand_qty": 4, "last_receipt_date": "2026-02-30"},
    ]
    batch, body, _ = sync(w, "inventory_sync", items)
    assert (body["status"], body["created"], body["failed"], body["processed"]) == ("partial", 1, 5, 6)
    assert [(e["index"], e["code"], e["field"]) for e in body["errors"]] == [
        (1, "UNKNOWN_SKU", "sku"), (2, "INVALID_VALUE", "on_hand_qty"), (3, "REQUIRED_FIELD", "on_hand_qty"),
        (4, "DUPLICATE_IN_BATCH", ""), (5, "INVALID_VALUE", "last_receipt_date"),
    ]  # fmt: skip
    assert body["errors"][0]["key"] == "GHOST/WH1"
    assert Inventory.objects.get().on_hand_qty == Decimal("12.50")
    assert len(batch.item_results) == 6
    assert batch.status == BatchStatus.PARTIAL


def test_a_row_the_database_refuses_fails_alone(w, monkeypatch):
    write = InventoryApplier.write

    def refusing(self, items):
        write(self, items)
        if any(i.values["sku"] == "MOW-1" for i in items):
            raise IntegrityError("refused")

    monkeypatch.setattr(InventoryApplier, "write", refusing)
    _, body, _ = sync(w, "inventory_sync", [{"sku": "SPK-1", "location": "DC1", "on_hand_qty": 1},
                                             {"sku": "MOW-1", "location": "DC1", "on_hand_qty": 2}])  # fmt: skip
    assert (body["status"], body["created"], body["failed"]) == ("partial", 1, 1)
    assert body["errors"][0]["index"] == 1
    assert list(Inventory.objects.values_list("product__sku", "location__code")) == [("SPK-1", "DC1")]


def test_every_item_failing_is_status_failed(w):
    _, body, _ = sync(w, "inventory_sync", [{"sku": "X", "location": "WH1", "on_hand_qty": 1}])
    assert body["status"] == "failed"


def test_control_totals_mismatch_is_400_and_nothing_is_applied(w):
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 5}, {"sku": "MOW-1", "location": "WH1",
                                                                      "on_hand_qty": 7}]  # fmt: skip
    before = counts()
    with pytest.raises(ValidationFailed, match="Control totals"):
        sync(w, "inventory_sync", items, idempotency_key="ct", control_totals={"items": 2, "quantity_sum": 11})
    assert counts() == before
    assert IntegrationBatch.objects.get().status == BatchStatus.REJECTED
    totals = {"items": 2, "quantity_sum": "12"}
    _, body, _ = sync(w, "inventory_sync", items, idempotency_key="ct", control_totals=totals)
    assert body["created"] == 2


@pytest.mark.parametrize(
    "meta",
    [{}, {"source_system": ""}, {"source_system": "x" * 101}, {"source_system": "SAP", "dry_run": "maybe"}],
)
def test_an_invalid_envelope_is_rejected(w, meta):
    with pytest.raises(ValidationFailed):
        run_batch(actor=w.coord, operation="products_sync", channel="api", meta={**meta, "idempotency_key": "k"},
                  items=[{"sku": "A", "name": "A"}])  # fmt: skip
    assert IntegrationBatch.objects.get().status == BatchStatus.REJECTED


def test_items_limit(w):
    with override_settings(INTEGRATION_MAX_ITEMS=2), pytest.raises(ValidationFailed):
        sync(w, "products_sync", [{"sku": f"A{i}", "name": "A"} for i in range(3)])
    with pytest.raises(ValidationFailed):
        sync(w, "products_sync", [])


def test_sync_needs_the_integration_permission(w):
    with pytest.raises(PermissionDenied):
        sync(w, "products_sync", [{"sku": "A", "name": "A"}], actor=w.planner)


def test_items_outside_the_owners_scope_are_not_found(w, users):
    # INTEG roles are never scoped; a scoped integration account holds the permission directly.
    owner = users[Role.SUPPLY_PLANNER]
    owner.user_permissions.add(Permission.objects.get(codename="add_integrationbatch"))
    owner = type(owner).objects.get(pk=owner.pk)
    user_scopes_set(actor=w.admin, user=owner, scopes=[{"type": "category", "id": w.audio.pk, "access": "change"}])
    _, body, _ = sync(w, "demand_actuals_sync", actor=owner, items=[
        {"sku": "SPK-1", "period": LAST_MONTH.isoformat(), "actual_qty": 5},
        {"sku": "MOW-1", "period": LAST_MONTH.isoformat(), "actual_qty": 5},
    ])  # fmt: skip
    assert body["created"] == 1
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "NOT_FOUND")]
    assert not DemandPlan.objects.filter(product=w.mower).exists()


# Products (INT-05) ------------------------------------------------------------------------------------


def test_products_sync_upserts_by_sku_and_finds_or_creates_the_category(w):
    sub = services.category_create(actor=w.admin, name="Garden", parent=w.audio)  # same name, level 1
    items = [
        {"sku": "NEW-1", "name": "New one", "category_name": "Garden", "unit_cost": "4.50", "status": "new"},
        {"sku": "NEW-2", "name": "Other", "category_name": "Brand new"},
        {"sku": "SPK-1", "name": "Speaker", "unit_cost": 10},
        {"sku": "MOW-1", "name": "Mower II", "lead_time_days": 30},
    ]
    batch, body, _ = sync(w, "products_sync", items)
    assert (body["created"], body["updated"], body["skipped"], body["failed"]) == (2, 1, 1, 0), body
    new1 = Product.objects.get(sku="NEW-1")
    assert (new1.category, new1.status, new1.unit_cost) == (w.garden, "new", Decimal("4.50"))
    assert new1.category != sub
    brand = Product.objects.get(sku="NEW-2").category
    assert (brand.name, brand.level, brand.parent) == ("Brand new", 0, None)
    mower = Product.objects.get(sku="MOW-1")
    assert (mower.name, mower.lead_time_days) == ("Mower II", 30)
    update = AuditEvent.objects.get(event_type="planning.product.updated", target_id=str(mower.pk))
    assert update.changed_fields == ["lead_time_days", "name"]
    assert update.metadata["source"] == "erp"
    assert update.metadata["batch_uuid"] == str(batch.batch_uuid)
    assert AuditEvent.objects.filter(event_type="planning.product.created").count() == 4  # 2 in the fixture
    assert AuditEvent.objects.filter(event_type="planning.category.created", target_id=str(brand.pk)).exists()


def test_products_sync_follows_the_product_lifecycle_for_status(w):
    _, body, _ = sync(w, "products_sync", [
        {"sku": "SPK-1", "name": "Speaker", "status": "discontinued"},
        {"sku": "MOW-1", "name": "Mower", "status": "new"},
    ])  # fmt: skip
    assert (body["updated"], body["failed"]) == (1, 1), body
    assert [(e["index"], e["code"], e["field"]) for e in body["errors"]] == [(1, "INVALID_VALUE", "status")]
    assert Product.objects.get(sku="SPK-1").status == "discontinued"
    assert Product.objects.get(sku="MOW-1").status == "active"


def test_product_import_walks_a_category_path(w):
    _, body, _ = run_batch(actor=w.admin, operation="import_products", channel="file",
                           meta={"source_system": "file", "dry_run": False, "atomic": True},
                           items=[{"sku": "P-1", "name": "P", "category": "Audio/Speakers", "unit_cost": "",
                                   "min_order_qty": "6"}])  # fmt: skip
    assert body["created"] == 1, body
    product = Product.objects.get(sku="P-1")
    assert (product.category.name, product.category.parent, product.min_order_qty) == ("Speakers", w.audio, 6)


# Inventory (INT-06) -----------------------------------------------------------------------------------


def test_inventory_sync_recomputes_status_valuation_and_snapshot(w):
    # Given a position with SS 20 / ROP 40 (set by hand) and 100 units of demand a month ahead
    row = services.inventory_create(actor=w.admin, product=w.speaker, location=w.wh,
                                    data={"on_hand_qty": 100, "safety_stock": 20, "reorder_point": 40})  # fmt: skip
    assert row.status == InventoryStatus.NORMAL
    # When the WMS reports 30 on hand with 15 allocated: available 15 < SS 20
    _, body, _ = sync(w, "inventory_sync", [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 30,
                                              "allocated_qty": 15}], snapshot_period="2026-01",
                      as_of="2026-01-31T23:00:00Z")  # fmt: skip
    assert body["updated"] == 1
    row.refresh_from_db()
    # Then the row is critical, valued at 30 x 10.00, its version moved and the snapshot exists
    assert (row.status, row.valuation, row.version) == (InventoryStatus.CRITICAL, Decimal("300.00"), 2)
    assert row.snapshot_at.isoformat().startswith("2026-01-31T23:00")
    snap = InventorySnapshot.objects.get(product=w.speaker, location=w.wh, period=date(2026, 1, 1))
    assert (snap.on_hand_qty, snap.status, snap.source) == (Decimal("30.00"), "critical", "erp")
    event = AuditEvent.objects.get(event_type="planning.inventory.updated", target_id=str(row.pk))
    assert event.before["status"] == "normal"
    assert event.after["status"] == "critical"


def test_inventory_sync_creates_a_missing_location_unless_told_not_to(w):
    _, body, _ = sync(w, "inventory_sync", [{"sku": "SPK-1", "location": "DC9", "on_hand_qty": 1,
                                              "valuation": "99.99"}])  # fmt: skip
    assert body["created"] == 1
    loc = Location.objects.get(code="DC9")
    assert loc.location_type == "warehouse"
    row = Inventory.objects.get(location=loc)
    assert (row.valuation, row.valuation_from_erp, row.policy_source, row.safety_stock) == (
        Decimal("99.99"), True, "erp", Decimal("0"))  # fmt: skip
    _, body, _ = sync(w, "inventory_sync", [{"sku": "SPK-1", "location": "DC10", "on_hand_qty": 1}],
                      create_missing_locations=False)  # fmt: skip
    assert body["errors"][0]["code"] == "UNKNOWN_LOCATION"


def test_unchanged_inventory_is_skipped(w):
    items = [{"sku": "SPK-1", "location": "WH1", "on_hand_qty": 5}]
    sync(w, "inventory_sync", items)
    _, body, _ = sync(w, "inventory_sync", items)
    assert (body["skipped"], body["updated"]) == (1, 0)
    assert Inventory.objects.get().version == 1


# Actuals (INT-07, INT-08) -----------------------------------------------------------------------------


def _approved_plan(w):
    plan = services.demand_plan_create(actor=w.planner, product=w.speaker,
                                       data={"period": LAST_MONTH, "forecast_qty": 100})  # fmt: skip
    services.demand_plan_submit(actor=w.planner, plan=plan)
    return services.demand_plan_approve(actor=w.admin, plan=plan)


def test_demand_actual_is_recorded_on_an_approved_plan_without_a_new_version(w):
    plan = _approved_plan(w)
    month = LAST_MONTH.strftime("%Y-%m")
    _, body, _ = sync(w, "demand_actuals_sync", [{"sku": "SPK-1", "period": month, "actual_qty": 90}])
    assert body["updated"] == 1, body
    plan.refresh_from_db()
    assert (plan.actual_qty, plan.version, plan.status) == (Decimal("90.00"), 1, PlanStatus.APPROVED)
    assert DemandPlan.objects.filter(history_of=plan).count() == 0
    event = AuditEvent.objects.get(event_type="planning.demand_plan.actual_recorded")
    assert (event.before, event.after) == ({"actual_qty": None}, {"actual_qty": "90.00"})
    _, body, _ = sync(w, "demand_actuals_sync", [{"sku": "SPK-1", "period": month, "actual_qty": "90.00"}])
    assert body["skipped"] == 1


def test_missing_demand_plan_is_created_subject_to_granularity(w):
    month = LAST_MONTH.isoformat()
    services.demand_plan_create(actor=w.planner, product=w.mower, data={"period": LAST_MONTH, "region": "EU",
                                                                        "forecast_qty": 5})  # fmt: skip
    _, body, _ = sync(w, "demand_actuals_sync", [
        {"sku": "SPK-1", "period": month, "actual_qty": 7},
        {"sku": "MOW-1", "period": month, "actual_qty": 7},  # total row beside a detail row
        {"sku": "SPK-1", "period": month, "region": "EU", "actual_qty": 1},  # detail beside the new total
        {"sku": "SPK-1", "period": THIS_MONTH.replace(year=THIS_MONTH.year + 1).isoformat(), "actual_qty": 1},
    ])  # fmt: skip
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "GRANULARITY_CONFLICT"), (2, "GRANULARITY_CONFLICT"), (3, "INVALID_VALUE")]  # fmt: skip
    plan = DemandPlan.objects.get(product=w.speaker)
    assert (plan.forecast_qty, plan.actual_qty, plan.status, plan.source, plan.notes) == (
        Decimal("0.00"), Decimal("7.00"), "draft", PlanSource.ERP, "[Created by ERP actuals sync]")  # fmt: skip
    _, body, _ = sync(w, "demand_actuals_sync", [{"sku": "MOW-1", "period": month, "region": "US",
                                                   "actual_qty": 1}], create_missing_plans=False)  # fmt: skip
    assert body["errors"][0]["code"] == "NOT_FOUND"


def test_supply_actuals_sync(w):
    plan = services.supply_plan_create(actor=w.admin, product=w.speaker, location=w.main,
                                       data={"period": LAST_MONTH, "planned_prod_qty": 10})  # fmt: skip
    _, body, _ = sync(w, "supply_actuals_sync", [
        {"sku": "SPK-1", "period": LAST_MONTH.isoformat(), "actual_prod_qty": 11},
        {"sku": "MOW-1", "period": LAST_MONTH.isoformat(), "location": "WH1", "actual_prod_qty": 3},
        {"sku": "MOW-1", "period": LAST_MONTH.isoformat(), "location": "NOWHERE", "actual_prod_qty": 3},
    ])  # fmt: skip
    assert (body["updated"], body["created"]) == (1, 1)
    assert body["errors"][0]["code"] == "UNKNOWN_LOCATION"
    plan.refresh_from_db()
    assert (plan.actual_prod_qty, plan.version) == (Decimal("11.00"), 1)
    created = SupplyPlan.objects.get(product=w.mower)
    assert (created.location, created.status, created.source) == (w.wh, "draft", "erp")


# Plan imports through the services (INT-20) ----------------------------------------------------------


def _import(w, operation, rows, actor=None, **meta):
    return run_batch(actor=actor or w.admin, operation=operation, channel="file", items=rows,
                     meta={"source_system": "file", "dry_run": False, "atomic": False, **meta},
                     file_info={"file_name": "x.csv", "file_format": "csv", "file_size": 10,
                                "file_sha256": "0" * 64})  # fmt: skip


def test_demand_plan_import_versions_like_the_services(w):
    plan = services.demand_plan_create(actor=w.planner, product=w.speaker,
                                       data={"period": date(2026, 3, 1), "forecast_qty": 100})  # fmt: skip
    batch, body, _ = _import(w, "import_demand_plans", [
        {"sku": "SPK-1", "period": "2026-03", "region": "", "channel": "", "forecast_qty": "120", "notes": "up"},
        {"sku": "MOW-1", "period": "2026-03-01", "forecast_qty": "5"},
        {"sku": "MOW-1", "period": "2026-04"},
    ], actor=w.planner)  # fmt: skip
    assert (body["updated"], body["created"], body["failed"]) == (1, 1, 1), body
    assert body["errors"][0]["code"] == "REQUIRED_FIELD"
    plan.refresh_from_db()
    assert (plan.version, plan.forecast_qty, plan.source) == (2, Decimal("120.00"), "import")
    history = DemandPlan.objects.get(history_of=plan)
    assert (history.version, history.forecast_qty) == (1, Decimal("100.00"))
    assert batch.file_name == "x.csv"
    assert batch.channel == "file"


def test_demand_plan_import_refuses_content_on_an_approved_plan_but_takes_the_actual(w):
    _approved_plan(w)
    month = LAST_MONTH.strftime("%Y-%m")
    _, body, _ = _import(w, "import_demand_plans", [
        {"sku": "SPK-1", "period": month, "forecast_qty": "1"},
    ], actor=w.planner)  # fmt: skip
    assert body["errors"][0]["code"] == "INVALID_STATE_TRANSITION"
    _, body, _ = _import(w, "import_demand_plans", [{"sku": "SPK-1", "period": month, "actual_qty": "3"}],
                         actor=w.planner)  # fmt: skip
    assert body["updated"] == 1


def test_atomic_and_validate_mode_plan_imports_write_nothing(w):
    rows = [{"sku": "SPK-1", "period": "2026-03", "forecast_qty": "1"}, {"sku": "NOPE", "period": "2026-03",
                                                                         "forecast_qty": "1"}]  # fmt: skip
    _, body, _ = _import(w, "import_demand_plans", rows, atomic=True)
    assert (body["status"], body["created"]) == ("failed", 0)
    _, body, _ = _import(w, "import_demand_plans", rows[:1], dry_run=True)
    assert (body["status"], body["created"], body["dry_run"]) == ("completed", 1, True)
    assert DemandPlan.objects.count() == 0


def test_supply_plan_import(w):
    _, body, _ = _import(w, "import_supply_plans", [
        {"sku": "SPK-1", "period": "2026-03", "planned_prod_qty": "10", "capacity_used": "101"},
        {"sku": "SPK-1", "period": "2026-04", "location": "WH1", "planned_prod_qty": "10", "supplier_name": "ACME"},
    ])  # fmt: skip
    assert body["created"] == 1
    assert (body["errors"][0]["code"], body["errors"][0]["field"]) == ("OUT_OF_RANGE", "capacity_used")
    assert SupplyPlan.objects.get().source == "import"


def test_inventory_import_checks_policy_order(w):
    _, body, _ = _import(w, "import_inventory", [
        {"sku": "SPK-1", "location": "WH1", "on_hand_qty": "5", "safety_stock": "10", "reorder_point": "5"},
        {"sku": "MOW-1", "location": "WH1", "on_hand_qty": "5", "safety_stock": "1", "reorder_point": "2"},
        {"sku": "MOW-1", "location": "NEW", "on_hand_qty": "5"},
    ])  # fmt: skip
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("OUT_OF_RANGE", "reorder_point"),
                                                                 ("UNKNOWN_LOCATION", "location")]  # fmt: skip
    assert Inventory.objects.get().policy_source == "manual"


# Set-based: the query count does not grow with the batch ---------------------------------------------


def _queries(w, n: int, operation: str, make_item) -> list[str]:
    skus = [f"Q{n}-{i:05d}" for i in range(n)]
    Product.objects.bulk_create([Product(sku=sku, name=sku, category=w.audio) for sku in skus])
    items = [make_item(sku) for sku in skus]
    with CaptureQueriesContext(connection) as ctx:
        _, body, _ = sync(w, operation, items)
    assert body["failed"] == 0, body["errors"][:3]
    return [q["sql"] for q in ctx.captured_queries]


def _reads(queries):
    return [q for q in queries if not q.lstrip().upper().startswith(("INSERT", "UPDATE"))]


@pytest.mark.parametrize(
    ("operation", "make_item"),
    [
        ("inventory_sync", lambda sku: {"sku": sku, "location": "WH1", "on_hand_qty": 5}),
        ("demand_actuals_sync", lambda sku: {"sku": sku, "period": LAST_MONTH.isoformat(), "actual_qty": 5}),
        ("products_sync", lambda sku: {"sku": sku, "name": "Renamed", "category_name": "Audio"}),
    ],
)
def test_sync_query_count_does_not_grow_with_the_batch(w, operation, make_item):
    _queries(w, 1, operation, make_item)  # warm the caller's permission and scope caches
    small, large = _queries(w, 50, operation, make_item), _queries(w, 500, operation, make_item)
    assert len(_reads(small)) == len(_reads(large))
    if connection.vendor == "postgresql":  # SQLite splits bulk statements by its 999-parameter limit
        assert len(small) == len(large)


# Set-based writes (ADR 0013): COPY on PostgreSQL, the ORM's bulk operations elsewhere ------------------


def test_a_large_sync_writes_every_row_and_a_verifiable_audit_row_for_each(w):
    skus = [f"BULK-{i:04d}" for i in range(1200)]  # more than one write chunk
    Product.objects.bulk_create([Product(sku=sku, name=sku, category=w.audio) for sku in skus])
    first = [{"sku": sku, "location": "WH1", "on_hand_qty": i % 7} for i, sku in enumerate(skus)]
    _, body, _ = sync(w, "inventory_sync", first)
    assert (body["created"], body["failed"]) == (1200, 0)
    rows = {r.product.sku: r for r in Inventory.objects.select_related("product").filter(location=w.wh)}
    assert {sku: rows[sku].on_hand_qty for sku in skus[:3]} == {"BULK-0000": 0, "BULK-0001": 1, "BULK-0002": 2}
    created = AuditEvent.objects.filter(event_type="planning.inventory.created")
    assert sorted(created.values_list("target_id", flat=True)) == sorted(str(r.pk) for r in rows.values())
    event = created.get(target_id=str(rows["BULK-0003"].pk))
    assert event.after["on_hand_qty"] == "3.00"
    assert event.metadata["source"] == "erp"

    second = [{**item, "on_hand_qty": item["on_hand_qty"] + 1} for item in first[:700]]
    second += [{**item, "on_hand_qty": 99} for item in first[700:701]]
    _, body, _ = sync(w, "inventory_sync", second)
    assert (body["updated"], body["failed"]) == (701, 0)
    row = Inventory.objects.get(pk=rows["BULK-0003"].pk)
    assert (row.on_hand_qty, row.version) == (Decimal("4.00"), rows["BULK-0003"].version + 1)
    assert Inventory.objects.get(pk=rows["BULK-0700"].pk).on_hand_qty == Decimal("99.00")
    assert Inventory.objects.get(pk=rows["BULK-0701"].pk).on_hand_qty == Decimal("1.00")  # not sent: unchanged
    updated = AuditEvent.objects.get(event_type="planning.inventory.updated", target_id=str(row.pk))
    assert (updated.before["on_hand_qty"], updated.after["on_hand_qty"]) == ("3.00", "4.00")
    assert AuditEvent.objects.filter(event_type="planning.inventory.updated").count() == 701
    assert audit_chain.verify().ok


def test_demand_actuals_create_then_update_in_bulk(w):
    skus = [f"ACT-{i:04d}" for i in range(1100)]
    Product.objects.bulk_create([Product(sku=sku, name=sku, category=w.audio) for sku in skus])
    items = [{"sku": sku, "period": LAST_MONTH.isoformat(), "actual_qty": i} for i, sku in enumerate(skus)]
    _, body, _ = sync(w, "demand_actuals_sync", items)
    assert (body["created"], body["failed"]) == (1100, 0)
    _, body, _ = sync(w, "demand_actuals_sync", [{**item, "actual_qty": item["actual_qty"] * 2} for item in items])
    assert (body["updated"], body["skipped"], body["failed"]) == (1099, 1, 0)  # 0 * 2 is unchanged
    plan = DemandPlan.objects.get(product__sku="ACT-0500", period=LAST_MONTH, is_current=True)
    assert (plan.actual_qty, plan.forecast_qty, plan.version, plan.source) == (Decimal("1000.00"), 0, 1, "erp")
    recorded = AuditEvent.objects.get(event_type="planning.demand_plan.actual_recorded", target_id=str(plan.pk))
    assert (recorded.before, recorded.after) == ({"actual_qty": "500.00"}, {"actual_qty": "1000.00"})
    assert audit_chain.verify().ok


def test_bulk_insert_gives_saved_rows_and_refuses_a_duplicate_as_a_database_error(w):
    locations = [Location(code=f"BL{i}", name=f"Bulk {i}") for i in range(3)]
    with transaction.atomic():
        insert_rows(Location, locations)
    assert all(not loc._state.adding for loc in locations)
    assert {loc.pk: loc.code for loc in locations} == dict(
        Location.objects.filter(code__startswith="BL").values_list("pk", "code")
    )
    for loc in locations:
        loc.name = f"Renamed {loc.code}"
    bulk_update_rows(Location, locations, ["name"])
    assert sorted(Location.objects.filter(code__startswith="BL").values_list("name", flat=True)) == [
        "Renamed BL0", "Renamed BL1", "Renamed BL2"
    ]  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Location, [Location(code="BL1", name="again")])
    assert Location.objects.filter(code="BL1").count() == 1
