"""Inventory derived values (FRM-03 status, FRM-04 valuation, FRM-05 days of supply), their
recomputation after every change (PLN-06) and the month-end snapshot (PLN-07, OPS-41).

Every expected number is worked out by hand in the test, from the formula in the spec.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from governance.choices import Role
from governance.models import AuditEvent
from planning import events, inventory_rules, services
from planning.choices import InventoryStatus, SnapshotSource
from planning.inventory_rules import days_of_supply, inventory_status, inventory_valuation
from planning.models import Inventory, InventorySnapshot

D = Decimal
TODAY = datetime.date(2026, 3, 15)  # forward window Mar+Apr+May 2026 = 92 days; past Dec+Jan+Feb = 90 days


# FRM-03 -------------------------------------------------------------------------------------


N = None  # no max stock


@pytest.mark.parametrize(
    ("case", "on_hand", "allocated", "in_transit", "ss", "rop", "max_stock", "expected"),
    [
        # available = 50 - 20 = 30 < SS 40
        ("available below safety stock", 50, 20, 0, 40, 60, N, "critical"),
        # available = 10 - 10 = 0 <= 0 while ROP 5 > 0 (SS 0, so the first rule does not fire)
        ("nothing available with a reorder point", 10, 10, 0, 0, 5, N, "critical"),
        # available = 10 - 15 = -5 <= 0 with ROP 1
        ("over-allocated", 10, 15, 0, 0, 1, N, "critical"),
        # available 0 but no reorder point and no safety stock: nothing to protect
        ("empty without policy", 0, 0, 0, 0, 0, N, "normal"),
        # available 100 - 20 = 80 >= SS 50; position = 80 + 10 = 90 < ROP 100
        ("position below reorder point", 100, 20, 10, 50, 100, N, "low"),
        # available 500 >= 50, position 500 >= 100, on hand 500 > max 400
        ("above max stock", 500, 0, 0, 50, 100, 400, "excess"),
        ("within policy", 200, 0, 0, 50, 100, 400, "normal"),
        # boundaries: equality is never a breach
        ("available equals safety stock", 50, 0, 0, 50, 50, N, "normal"),
        ("position equals reorder point", 80, 0, 20, 10, 100, N, "normal"),
        ("on hand equals max stock", 400, 0, 0, 0, 100, 400, "normal"),
        ("available just below safety stock", D("49.99"), 0, 0, 50, 50, N, "critical"),
        # precedence: critical before excess (available 20 < 50), low before excess (position 10 < 100)
        ("critical wins over excess", 500, 480, 0, 50, 50, 400, "critical"),
        ("low wins over excess", 500, 490, 0, 0, 100, 400, "low"),
        # in transit lifts the position but not what is available: 10 < SS 20
        ("in transit lifts the position only", 10, 0, 200, 20, 100, N, "critical"),
    ],
)
def test_status_follows_frm03(case, on_hand, allocated, in_transit, ss, rop, max_stock, expected):
    status = inventory_status(on_hand=D(on_hand), allocated=D(allocated), in_transit=D(in_transit),
                              safety_stock=D(ss), reorder_point=D(rop),
                              max_stock=None if max_stock is None else D(max_stock))  # fmt: skip
    assert status == expected, case


# FRM-04 -------------------------------------------------------------------------------------


def test_valuation_is_on_hand_times_unit_cost_rounded_half_up():
    # 12.50 x 3.35 = 41.875 -> 41.88
    assert inventory_valuation(on_hand=D("12.50"), unit_cost=D("3.35")) == D("41.88")


def test_valuation_takes_the_erps_value_when_given():
    assert inventory_valuation(on_hand=D("12.50"), unit_cost=D("3.35"), erp_valuation=D("1234.567")) == D("1234.57")


def test_valuation_is_zero_without_a_cost_or_an_erp_value():
    assert inventory_valuation(on_hand=D("12.50"), unit_cost=None) == D("0.00")


# FRM-05 (pure part) -------------------------------------------------------------------------


def test_days_of_supply_is_available_over_daily_demand_capped_and_null_when_undefined():
    assert days_of_supply(available=D("200"), daily_demand_row=D("20")) == D("10.00")
    assert days_of_supply(available=D("100"), daily_demand_row=D("3")) == D("33.33")
    assert days_of_supply(available=D("-10"), daily_demand_row=D("3")) == D("0.00")
    assert days_of_supply(available=D("100"), daily_demand_row=None) is None
    assert days_of_supply(available=D("1000000"), daily_demand_row=D("0.0001")) == D("999999.99")


# With the database --------------------------------------------------------------------------


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(
        actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category, "unit_cost": D("10.00")}
    )
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    dc = services.location_create(actor=admin, data={"code": "DC", "name": "Distribution centre"})
    return SimpleNamespace(admin=admin, category=category, product=product, main=main, dc=dc)


def stock(w, location=None, product=None, **data):
    return services.inventory_create(actor=w.admin, product=product or w.product, location=location or w.main,
                                     data={"on_hand_qty": D("200"), **data})  # fmt: skip


def plan(w, period, product=None, **qty):
    data = {"period": period, "forecast_qty": D("0"), **{k: D(str(v)) for k, v in qty.items()}}
    return services.demand_plan_create(actor=w.admin, product=product or w.product, data=data)


def recomputed(row: Inventory, today=TODAY) -> Inventory:
    row = Inventory.objects.get(pk=row.pk)
    inventory_rules.recompute([row], today=today)
    return row


@pytest.mark.django_db
def test_forward_demand_uses_consensus_then_adjusted_then_forecast(w):
    # Mar: consensus 920 wins over adjusted 50 and forecast 100; Apr: adjusted 460 wins over forecast 999;
    # May: forecast 460. d = (920 + 460 + 460) / 92 days = 20 per day; available 200 / 20 = 10 days.
    plan(w, datetime.date(2026, 3, 1), forecast_qty=100, adjusted_qty=50, consensus_qty=920)
    plan(w, datetime.date(2026, 4, 1), forecast_qty=999, adjusted_qty=460)
    plan(w, datetime.date(2026, 5, 1), forecast_qty=460)
    plan(w, datetime.date(2026, 6, 1), forecast_qty=100000)  # outside the three months
    plan(w, datetime.date(2026, 2, 1), forecast_qty=100000, actual_qty=100000)  # past: unused while forward > 0
    row = stock(w)
    assert recomputed(row).days_of_supply == D("10.00")


@pytest.mark.django_db
def test_a_consensus_of_zero_is_a_plan_and_falls_back_to_actuals(w):
    # Forward: consensus 0 beats forecast 500 in every month, so forward demand is 0 and the past is used:
    # actuals Dec 300 + Jan 300 + Feb 300 = 900 over 31 + 31 + 28 = 90 days = 10 per day; 55 / 10 = 5.5.
    for month in (3, 4, 5):
        plan(w, datetime.date(2026, month, 1), forecast_qty=500, consensus_qty=0)
    plan(w, datetime.date(2025, 12, 1), actual_qty=300)
    plan(w, datetime.date(2026, 1, 1), actual_qty=300)
    plan(w, datetime.date(2026, 2, 1), actual_qty=300)
    plan(w, datetime.date(2025, 11, 1), actual_qty=100000)  # not one of the last three closed months
    row = stock(w, on_hand_qty=D("55"))
    assert recomputed(row).days_of_supply == D("5.50")


@pytest.mark.django_db
def test_demand_splits_evenly_across_stocking_locations(w):
    # d_P = 1840 / 92 = 20; k = 2 rows -> d_row = 10; MAIN available 200 - 50 = 150 -> 15 days; DC 40 -> 4 days.
    plan(w, datetime.date(2026, 3, 1), forecast_qty=1840)
    main = stock(w, allocated_qty=D("50"))
    dc = stock(w, location=w.dc, on_hand_qty=D("40"))
    assert recomputed(main).days_of_supply == D("15.00")
    assert recomputed(dc).days_of_supply == D("4.00")


@pytest.mark.django_db
def test_days_of_supply_is_null_without_any_demand_signal(w):
    plan(w, datetime.date(2026, 3, 1), forecast_qty=0)
    row = stock(w)
    assert recomputed(row).days_of_supply is None


@pytest.mark.django_db
def test_days_of_supply_is_capped(w):
    # d = 0.01 / 92 per day; 1 000 000 available would be 9.2 billion days.
    plan(w, datetime.date(2026, 3, 1), forecast_qty=D("0.01"))
    row = stock(w, on_hand_qty=D("1000000"))
    assert recomputed(row).days_of_supply == D("999999.99")


def _this_month() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate().replace(day=1)


@pytest.mark.django_db
def test_a_new_stocking_location_recomputes_the_other_rows(w):
    # Whatever the number of days in the window, a second stocking row halves each row's daily demand
    # (k = 2), so the first row's days of supply double.
    plan(w, _this_month(), forecast_qty=9000)
    first = stock(w)
    alone = Inventory.objects.get(pk=first.pk).days_of_supply
    stock(w, location=w.dc)
    shared = Inventory.objects.get(pk=first.pk).days_of_supply
    assert alone is not None
    assert abs(shared - 2 * alone) <= D("0.01")


@pytest.mark.django_db
def test_changing_a_demand_plan_recomputes_days_of_supply(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        demand = plan(w, _this_month(), forecast_qty=9000)
        row = stock(w)
    before = Inventory.objects.get(pk=row.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.demand_plan_update(actor=w.admin, plan=demand, data={"forecast_qty": D("4500")})
    after = Inventory.objects.get(pk=row.pk)
    # Half the demand, twice the days; the version (the edit guard) does not move.
    assert abs(after.days_of_supply - 2 * before.days_of_supply) <= D("0.01")
    assert after.version == before.version
    with django_capture_on_commit_callbacks(execute=True):
        services.demand_plan_delete(actor=w.admin, plan=demand)
    assert Inventory.objects.get(pk=row.pk).days_of_supply is None


@pytest.mark.django_db
def test_a_product_cost_change_revalues_its_rows(w, django_capture_on_commit_callbacks):
    row = stock(w, on_hand_qty=D("12.50"))
    assert Inventory.objects.get(pk=row.pk).valuation == D("125.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(actor=w.admin, product=w.product, data={"unit_cost": D("3.35")})
    # 12.50 x 3.35 = 41.875 -> 41.88
    assert Inventory.objects.get(pk=row.pk).valuation == D("41.88")


@pytest.mark.django_db
def test_a_row_valued_by_the_erp_keeps_that_value_until_its_quantity_changes(w):
    row = stock(w, valuation=D("999.99"))
    services.product_update(actor=w.admin, product=w.product, data={"unit_cost": D("1.00")})
    services.inventory_refresh_products(product_ids=[w.product.pk])
    assert Inventory.objects.get(pk=row.pk).valuation == D("999.99")
    services.inventory_update(actor=w.admin, inventory=row, data={"on_hand_qty": D("30")})
    # The ERP valued 200 units; 30 units are valued at cost again: 30 x 1.00.
    assert Inventory.objects.get(pk=row.pk).valuation == D("30.00")


@pytest.mark.django_db
def test_the_status_follows_every_quantity_and_policy_change(w):
    row = stock(w, safety_stock=D("50"), reorder_point=D("100"), max_stock=D("300"))
    assert row.status == InventoryStatus.NORMAL
    row = services.inventory_update(actor=w.admin, inventory=row, data={"allocated_qty": D("160")})
    assert row.status == InventoryStatus.CRITICAL  # available 40 < 50
    row = services.inventory_update(actor=w.admin, inventory=row, data={"allocated_qty": D("120")})
    assert row.status == InventoryStatus.LOW  # available 80, position 80 < 100
    row = services.inventory_policy_override(actor=w.admin, inventory=row, reason="seasonal low",
                                             data={"safety_stock": D("10"), "reorder_point": D("20"),
                                                   "max_stock": D("150")})  # fmt: skip
    assert row.status == InventoryStatus.EXCESS  # on hand 200 > 150
    assert Inventory.objects.get(pk=row.pk).status == InventoryStatus.EXCESS


# Month-end snapshots ------------------------------------------------------------------------


@pytest.mark.django_db
def test_snapshot_capture_copies_every_row_and_is_idempotent(w):
    a = stock(w, safety_stock=D("10"), reorder_point=D("20"))
    stock(w, location=w.dc, on_hand_qty=D("5"))
    first = services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 2, 14))
    assert (first["created"], first["updated"], first["unchanged"]) == (2, 0, 0)
    snap = InventorySnapshot.objects.get(product=w.product, location=w.main)
    assert (snap.period, snap.on_hand_qty, snap.safety_stock, snap.valuation, snap.status, snap.source) == (
        datetime.date(2026, 2, 1), D("200.00"), D("10.00"), D("2000.00"), "normal", SnapshotSource.MONTH_CLOSE,
    )  # fmt: skip
    assert AuditEvent.objects.filter(event_type=events.INVENTORY_SNAPSHOT_CAPTURED).count() == 2

    again = services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 2, 1))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert AuditEvent.objects.filter(event_type=events.INVENTORY_SNAPSHOT_CAPTURED).count() == 2

    services.inventory_update(actor=w.admin, inventory=a, data={"on_hand_qty": D("150")})
    moved = services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 2, 1))
    assert (moved["created"], moved["updated"], moved["unchanged"]) == (0, 1, 1)
    assert InventorySnapshot.objects.get(product=w.product, location=w.main).on_hand_qty == D("150.00")
    assert InventorySnapshot.objects.count() == 2


@pytest.mark.django_db
def test_month_close_keeps_the_erps_snapshot(w):
    stock(w)
    services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 2, 1), source=SnapshotSource.ERP)
    InventorySnapshot.objects.update(on_hand_qty=D("7"))
    result = services.inventory_snapshot_capture(actor=None, period=datetime.date(2026, 2, 1))
    assert result["kept"] == 1
    assert InventorySnapshot.objects.get().on_hand_qty == D("7.00")


@pytest.mark.django_db
def test_snapshot_capture_by_a_person_needs_the_permission(w, users):
    from genxsop.errors import PermissionDenied

    stock(w)
    with pytest.raises(PermissionDenied):
        services.inventory_snapshot_capture(actor=users[Role.INVENTORY_MANAGER], period=datetime.date(2026, 2, 1))
    assert services.inventory_snapshot_capture(actor=w.admin, period=datetime.date(2026, 2, 1))["created"] == 1


@pytest.mark.django_db
def test_the_command_closes_the_previous_month_by_default(w, capsys):
    stock(w)
    call_command("capture_inventory_snapshots", "--period", "2026-01")
    assert "1 created" in capsys.readouterr().out
    assert InventorySnapshot.objects.get().period == datetime.date(2026, 1, 1)
    call_command("capture_inventory_snapshots")
    assert InventorySnapshot.objects.filter(period=services.previous_month()).count() == 1
    event = AuditEvent.objects.filter(event_type=events.INVENTORY_SNAPSHOT_CAPTURED).first()
    assert (event.source, event.actor_type) == ("cli", "system")


@pytest.mark.django_db
def test_values_from_files_are_cleaned_before_the_rules_and_audited_as_stored(w):
    row = services.inventory_create(actor=w.admin, product=w.product, location=w.main,
                                    data={"on_hand_qty": "30", "safety_stock": "5", "reorder_point": 7})  # fmt: skip
    event = AuditEvent.objects.get(event_type=events.INVENTORY_CREATED)
    assert (event.after["on_hand_qty"], event.after["reorder_point"], event.after["valuation"]) == (
        "30.00", "7.00", "300.00",
    )  # fmt: skip
    from genxsop.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        services.inventory_update(actor=w.admin, inventory=row, data={"on_hand_qty": "lots"})
    assert "on_hand_qty" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        services.inventory_update(actor=w.admin, inventory=row, data={"reorder_point": "2"})
    assert "reorder_point" in refused.value.fields


@pytest.mark.django_db
def test_the_daily_month_close_job_writes_the_closed_month_once_and_keeps_it_as_it_ended(w):
    from planning.services.inventory import previous_month
    from planning.tasks import capture_month_end_snapshots

    row = stock(w)
    first = capture_month_end_snapshots()
    assert first["created"] == 1
    assert InventorySnapshot.objects.get().period == previous_month()
    # Stock moves during the new month; the next days' runs leave the closed month as it ended.
    services.inventory_update(actor=w.admin, inventory=row, data={"on_hand_qty": D("120")})
    assert capture_month_end_snapshots() is None
    assert InventorySnapshot.objects.get().on_hand_qty == D("200.00")
