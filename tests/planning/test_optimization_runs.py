"""Inventory policy optimisation runs (PLN-08, FRM-06, WF-61 system actions, WF-62)."""

import datetime
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
from django.utils import timezone

from forecasting.models import ForecastAccuracyPoint
from forecasting.series import add_months, last_closed_month
from genxsop.errors import PermissionDenied, ValidationFailed
from governance.choices import Role
from governance.models import AuditEvent
from planning import events, services
from planning.models import Inventory, InventoryPolicyException, InventoryPolicyRun
from planning.services import optimization as opt
from planning.services.exceptions import policy_exception_create

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    cat = services.category_create(actor=admin, name="Audio")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": cat})
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    # No demand rows: d = (allocated + in transit) / review period = (20 + 50) / 7 = 10 per day.
    row = services.inventory_create(actor=admin, product=speaker, location=main, data={
        "on_hand_qty": D("100"), "allocated_qty": D("20"), "in_transit_qty": D("50")})  # fmt: skip
    return SimpleNamespace(admin=admin, manager=users[Role.INVENTORY_MANAGER], viewer=users[Role.VIEWER],
                           speaker=speaker, main=main, row=row, cat=cat)  # fmt: skip


def run(w, **params):
    return opt.policy_run_create(actor=w.manager, params=params)


def test_coverage_run_writes_policy_status_audit_and_a_stockout_exception(w):
    result = run(w)
    w.row.refresh_from_db()
    # d = 10, LT = 14 (request default; product lead time 0), z(0.95) = 1.65
    # SS = 10 x 1.65 x sqrt(14) = 16.5 x 3.741657 = 61.737 -> 61.74
    # ROP = 10 x 14 + 61.737 = 201.737 -> 201.74 ; max = 1.5 x 201.737 = 302.606 -> 302.61
    assert (w.row.safety_stock, w.row.reorder_point, w.row.max_stock) == (D("61.74"), D("201.74"), D("302.61"))
    assert w.row.policy_source == "optimization"
    # available 80 >= SS, position 80 + 50 = 130 < ROP -> low (FRM-03)
    assert w.row.status == "low"
    assert result.status == "completed"
    assert result.completed_at is not None
    assert (result.processed_count, result.updated_count, result.skipped_count, result.exception_count) == (1, 1, 0, 1)
    assert result.parameters["service_level_target"] == "0.95"
    assert result.parameters["method"] == "coverage"
    row_result = result.result["rows"][0]
    assert row_result["outcome"] == "updated"
    assert row_result["daily_demand"] == "10.0000"
    assert row_result["previous"] == {"safety_stock": "0.00", "reorder_point": "0.00", "max_stock": None}
    exc = InventoryPolicyException.objects.get(inventory=w.row)
    # stockout: ROP 201.74 - position 130 = 71.74; available 80 > SS 61.74 -> medium, due today + 5
    assert exc.exception_type == "stockout_risk"
    assert exc.severity == "medium"
    assert exc.recommended_action == "Expedite replenishment of 71.74 units"
    assert exc.due_date == timezone.localdate() + datetime.timedelta(days=5)
    assert exc.run_id == result.pk
    audit = AuditEvent.objects.get(event_type=events.INVENTORY_POLICY_OPTIMIZED)
    assert audit.target_id == str(w.row.pk)
    assert audit.after["reorder_point"] == "201.74"
    assert audit.metadata["run_id"] == result.run_id
    assert AuditEvent.objects.filter(event_type=events.POLICY_EXCEPTION_CREATED).count() == 1
    assert AuditEvent.objects.filter(event_type=events.POLICY_RUN_COMPLETED).count() == 1


def test_second_identical_run_changes_no_policy_and_updates_the_active_exception(w):
    first = run(w)
    second = run(w)
    assert (second.updated_count, second.exception_count) == (0, 1)
    assert second.result["rows"][0]["outcome"] == "unchanged"
    exc = InventoryPolicyException.objects.get(inventory=w.row)
    assert exc.run_id == second.pk != first.pk
    assert AuditEvent.objects.filter(event_type=events.INVENTORY_POLICY_OPTIMIZED).count() == 1
    assert AuditEvent.objects.filter(event_type=events.POLICY_EXCEPTION_UPDATED).count() == 1


def test_condition_cleared_resolves_the_active_exception_with_the_run_note(w):
    run(w)
    # Stock arrives: on hand 400 -> position 380 + 50 >= ROP; max 302.61 < 400 <= 2 x max -> medium excess
    services.inventory_update(actor=w.admin, inventory=w.row, data={"on_hand_qty": D("400")})
    second = run(w)
    stockout = InventoryPolicyException.objects.get(inventory=w.row, exception_type="stockout_risk")
    assert stockout.status == "resolved"
    assert stockout.resolution_note == f"Condition cleared by run {second.run_id}"
    assert stockout.resolved_by == w.manager
    excess = InventoryPolicyException.objects.get(inventory=w.row, exception_type="excess_risk")
    # on hand 400 - max 302.61 = 97.39
    assert excess.recommended_action == "Reduce or rebalance 97.39 units above max stock"
    assert excess.severity == "medium"
    assert excess.status == "open"
    assert AuditEvent.objects.filter(event_type=events.POLICY_EXCEPTION_RESOLVED,
                                     target_id=str(stockout.pk)).exists()  # fmt: skip


def test_hand_raised_exception_still_holding_is_updated_not_duplicated(w):
    manual = policy_exception_create(actor=w.admin, inventory=w.row, exception_type="stockout_risk",
                                     recommended_action="Call the supplier", severity="low")  # fmt: skip
    result = run(w)
    manual.refresh_from_db()
    assert manual.recommended_action == "Expedite replenishment of 71.74 units"
    assert manual.severity == "medium"
    assert manual.run_id == result.pk
    assert InventoryPolicyException.objects.filter(inventory=w.row).count() == 1


def test_high_severity_stockout_is_due_in_two_days(w):
    # available 5 - 0 = 5 <= SS -> high; demand from in transit 70 / 7 = 10
    services.inventory_update(actor=w.admin, inventory=w.row, data={"on_hand_qty": D("5"), "allocated_qty": D("0"),
                                                                    "in_transit_qty": D("70")})  # fmt: skip
    run(w)
    exc = InventoryPolicyException.objects.get(inventory=w.row, exception_type="stockout_risk")
    assert exc.severity == "high"
    assert exc.due_date == timezone.localdate() + datetime.timedelta(days=2)


def test_moq_and_lot_size_and_capacity_shape_the_policy(w):
    run(w, moq_units="250", lot_size_units="50", capacity_max_units="300")
    w.row.refresh_from_db()
    # ROP = max(201.74, MOQ 250) = 250 -> multiple of 50: 250; max 302.61 -> up to 350 -> capacity 300
    # ROP = min(250, 300) = 250; SS = min(61.74, 250) = 61.74
    assert (w.row.safety_stock, w.row.reorder_point, w.row.max_stock) == (D("61.74"), D("250.00"), D("300.00"))


def test_capacity_below_rop_caps_rop_and_ss():
    # ROP 201.74 > capacity 150 -> max 150, ROP 150; SS 61.74 stays; with capacity 40 SS is cut to 40 too
    ss, rop, mx = opt.shape_policy(D("61.7373"), D("201.7373"), D("302.606"), capacity=D("150"))
    assert (ss, rop, mx) == (D("61.74"), D("150.00"), D("150.00"))
    assert opt.shape_policy(D("61.7373"), D("201.7373"), D("302.606"), capacity=D("40")) == (D("40.00"),) * 3


def test_lead_time_variability_adds_to_coverage_lead_time_and_product_lead_time_wins(w):
    services.product_update(actor=w.admin, product=w.speaker, data={"lead_time_days": 7})
    run(w, lead_time_days="30", lead_time_variability_days="2")
    w.row.refresh_from_db()
    # LT = product 7 (replaces 30) + variability 2 = 9; SS = 10 x 1.65 x 3 = 49.50; ROP = 90 + 49.5 = 139.50
    # max = 1.5 x 139.5 = 209.25
    assert (w.row.safety_stock, w.row.reorder_point, w.row.max_stock) == (D("49.50"), D("139.50"), D("209.25"))


@pytest.mark.parametrize(("target", "z"), [("0.999", "2.33"), ("0.98", "2.05"), ("0.95", "1.65"), ("0.9", "1.28"),
                                           ("0.85", "0.84")])  # fmt: skip
def test_coverage_z_steps(target, z):
    assert opt.z_coverage(D(target)) == D(z)


def _points(product, errors):
    last = last_closed_month(timezone.localdate())
    for i, err in enumerate(errors):
        ForecastAccuracyPoint.objects.create(
            product=product, period=add_months(last, -i), lag=1, layer="statistical", model_type="ets",
            forecast_qty=D(100) + D(err), actual_qty=D(100), error=D(err), abs_error=abs(D(err)),
            computed_at=timezone.now(),
        )  # fmt: skip


def test_statistical_run_uses_the_spread_of_lag1_errors(w):
    _points(w.speaker, [10, -10, 10, -10, 10, -10])
    result = run(w, method="statistical")
    w.row.refresh_from_db()
    # sigma_P = sample std of +-10 x 6 = sqrt(600 / 5) = 10.954; sigma_d^2 = 120 / 30.4 / 1 = 3.9474
    # sigma_LT = 0.15 x 14 = 2.1; var = 14 x 3.9474 + 10^2 x 2.1^2 = 55.263 + 441 = 496.263; sqrt = 22.277
    # z = inv_cdf(0.95) = 1.64485 -> SS = 36.642 -> 36.64; ROP = 140 + 36.642 = 176.64; max = 264.96
    assert (w.row.safety_stock, w.row.reorder_point, w.row.max_stock) == (D("36.64"), D("176.64"), D("264.96"))
    assert result.result["rows"][0]["method"] == "statistical"


def test_statistical_with_fewer_than_six_errors_falls_back_to_coverage(w):
    _points(w.speaker, [10, -10, 10, -10, 10])
    result = run(w, method="statistical")
    w.row.refresh_from_db()
    assert result.result["rows"][0]["method"] == "coverage_fallback"
    assert w.row.reorder_point == D("201.74")


def test_row_without_demand_signal_is_skipped_with_a_data_quality_exception(w):
    services.inventory_update(actor=w.admin, inventory=w.row, data={"allocated_qty": D("0"), "in_transit_qty": D("0")})
    result = run(w)
    w.row.refresh_from_db()
    assert (result.processed_count, result.updated_count, result.skipped_count) == (1, 0, 1)
    assert w.row.reorder_point == 0
    exc = InventoryPolicyException.objects.get(inventory=w.row)
    assert (exc.exception_type, exc.recommended_action) == ("data_quality_risk",
                                                            "No demand signal for policy calculation")  # fmt: skip


def test_inactive_products_and_rows_outside_the_scope_filter_are_left_alone(w, users):
    other = services.product_create(actor=w.admin, data={"sku": "SPK-2", "name": "Other", "category": w.cat})
    row2 = services.inventory_create(actor=w.admin, product=other, location=w.main,
                                     data={"on_hand_qty": D("10"), "allocated_qty": D("7")})  # fmt: skip
    result = run(w, product_id=w.speaker.pk)
    assert result.processed_count == 1
    row2.refresh_from_db()
    assert row2.reorder_point == 0


def test_failed_run_records_the_error_and_writes_no_policy(w):
    with mock.patch.object(opt, "policy_exceptions_sync_for_run", side_effect=RuntimeError("disk full")):
        result = run(w)
    w.row.refresh_from_db()
    assert result.status == "failed"
    assert "disk full" in result.error
    assert w.row.reorder_point == 0
    assert w.row.policy_source == "manual"
    assert not AuditEvent.objects.filter(event_type=events.INVENTORY_POLICY_OPTIMIZED).exists()
    assert AuditEvent.objects.filter(event_type=events.POLICY_RUN_FAILED).count() == 1
    assert InventoryPolicyRun.objects.get().status == "failed"


def test_bad_parameters_are_400_and_record_no_run(w):
    with pytest.raises(ValidationFailed) as info:
        run(w, service_level_target="0.5", lead_time_days="0", method="magic")
    assert set(info.value.fields) == {"service_level_target", "lead_time_days", "method"}
    assert not InventoryPolicyRun.objects.exists()


def test_readers_cannot_run(w):
    with pytest.raises(PermissionDenied):
        opt.policy_run_create(actor=w.viewer, params={})
    assert Inventory.objects.get().reorder_point == 0
