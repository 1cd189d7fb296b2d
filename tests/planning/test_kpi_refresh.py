"""FRM-37/38: every computed KPI of a small hand-built world, worked out by hand.

Today is 2026-04-15, so March 2026 is the last closed month (t). Products A (price 20, cost 12) and
B (price 10, cost 4) are active; C (price 100, cost 50) is discontinued and must never count.
"""

import calendar
import datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone

from forecasting.models import ForecastAccuracyPoint
from forecasting.series import add_months
from governance.models import AuditEvent, Publication, PublicationItem, ReadinessEvaluation
from planning.models import DemandPlan, InventorySnapshot, KpiMetric, SupplyPlan
from planning.services.kpis import kpi_refresh, kpi_refresh_periods
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 4, 15)
FEB, MAR, APR, MAY, JUN = (datetime.date(2026, m, 1) for m in (2, 3, 4, 5, 6))


def _demand(product, period, *, region="Global", forecast, adjusted=None, consensus=None, actual=None):
    return DemandPlan.objects.create(product=product, period=period, region=region, forecast_qty=D(forecast),
                                     adjusted_qty=adjusted and D(adjusted), consensus_qty=consensus and D(consensus),
                                     actual_qty=None if actual is None else D(actual))  # fmt: skip


def _point(product, layer, f, a, *, lag=1, region="Global", model="ets"):
    return ForecastAccuracyPoint.objects.create(
        product=product,
        region=region,
        channel="All",
        period=MAR,
        lag=lag,
        layer=layer,
        model_type=model,
        forecast_qty=D(f),
        actual_qty=D(a),
        error=D(f) - D(a),
        abs_error=abs(D(f) - D(a)),
        computed_at=timezone.now(),
    )


@pytest.fixture
def world(users):
    a = ProductFactory(sku="A", selling_price="20.00", unit_cost="12.00")
    b = ProductFactory(sku="B", selling_price="10.00", unit_cost="4.00")
    c = ProductFactory(sku="C", selling_price="100.00", unit_cost="50.00", status="discontinued")
    plant, main = LocationFactory(code="PLANT"), LocationFactory(code="MAIN")
    # Demand of March: A consensus 110 (FRM-01), actual 100; B at two regions 60 (adjusted) / 30, actuals 40 / 30.
    row_a = _demand(a, MAR, forecast=100, consensus=110, actual=100)
    _demand(b, MAR, region="NA", forecast=50, adjusted=60, actual=40)
    _demand(b, MAR, region="EU", forecast=30, actual=30)
    _demand(c, MAR, forecast=10, actual=10)
    _demand(a, FEB, forecast=80, actual=80)  # COGS and revenue of the trailing year
    # The three months after March, for days of supply: A 60, B 90, A 30 (consensus) — C never counts.
    _demand(a, APR, forecast=60)
    _demand(b, MAY, forecast=90)
    _demand(a, JUN, forecast=50, consensus=30)
    _demand(c, APR, forecast=1000)
    # A publication of 20 Feb (before March began) froze A's March row at 95.
    evaluation = ReadinessEvaluation.objects.create(lane="monthly", period_from=MAR, period_to=MAR, outcome="go",
                                                    score=4, required_score=3, plan_fingerprint="x")  # fmt: skip
    publication = Publication.objects.create(
        version_stamp="M-202603-v1",
        lane="monthly",
        period_from=MAR,
        period_to=MAR,
        evaluation=evaluation,
        outcome="go",
        published_by=users["admin"],
        snapshot_sha256="x",
        published_at=datetime.datetime(2026, 2, 20, tzinfo=datetime.UTC),
    )
    PublicationItem.objects.create(publication=publication, plan_type="demand", plan_id=row_a.pk, plan_version=1,
                                   product=a, period=MAR, values={"demand_qty": "95.00"})  # fmt: skip
    # Supply of March.
    SupplyPlan.objects.create(product=a, period=MAR, location=plant, planned_prod_qty=D(120), actual_prod_qty=D(90),
                              capacity_max=D(150))  # fmt: skip
    SupplyPlan.objects.create(product=b, period=MAR, location=main, planned_prod_qty=D(60), actual_prod_qty=D(70))
    SupplyPlan.objects.create(product=b, period=MAR, location=plant, planned_prod_qty=D(20), capacity_max=D(50))
    SupplyPlan.objects.create(product=c, period=MAR, location=plant, planned_prod_qty=D(500), capacity_max=D(100))
    # Month-end stock: February (opening of March) and March.
    now = timezone.now()
    for period, product, location, on_hand, valuation, status in (
        (FEB, a, plant, 5, 60, "normal"), (FEB, b, main, 0, 0, "critical"),
        (MAR, a, plant, 30, 360, "normal"), (MAR, b, main, 100, 400, "excess"),
    ):  # fmt: skip
        InventorySnapshot.objects.create(period=period, product=product, location=location, on_hand_qty=D(on_hand),
                                         valuation=D(valuation), status=status, captured_at=now)  # fmt: skip
    # Accuracy points of March at lag 1, product totals: A has consensus 105 (chosen over statistical 90),
    # B statistical 80; naive 80 and 60. A lag-2 point and a region point must be ignored.
    _point(a, "statistical", 90, 100)
    _point(a, "consensus", 105, 100, model="consensus")
    _point(a, "naive", 80, 100, model="seasonal_naive")
    _point(b, "statistical", 80, 70)
    _point(b, "naive", 60, 70, model="seasonal_naive")
    _point(a, "statistical", 10, 100, lag=2)
    _point(b, "statistical", 1, 70, region="NA")
    _point(c, "statistical", 1000, 10)
    return {"a": a, "b": b}


EXPECTED = {
    # chosen (F, A): (105, 100), (80, 70). Σ|e| = 15, ΣA = 170, WAPE = 8.8235 → accuracy 100 - 8.8235.
    "forecast_accuracy": D("91.1765"),
    # mean(5/100, 10/70) x 100 = (5 + 14.285714) / 2
    "forecast_mape": D("9.6429"),
    # Σ(F - A) = 15 → 15 / 170 x 100
    "forecast_bias": D("8.8235"),
    # naive WAPE (20 + 10) / 170 = 17.6471 - 8.8235 = 15 / 170 x 100
    "forecast_value_added": D("8.8235"),
    # |95 - 100| + |60 - 40| + |30 - 30| = 25 over ΣA 170: 100 - 14.7059
    "demand_plan_adherence": D("85.2941"),
    # (120 + 20) / (150 + 50)
    "capacity_utilization": D("70.0000"),
    # (min(90, 120) + min(70, 60)) / (120 + 60) = 150 / 180
    "production_plan_adherence": D("83.3333"),
    # COGS Feb 80 x 12 + Mar (100 x 12 + 70 x 4) = 2440; mean snapshot valuation (60 + 760) / 2 = 410
    "inventory_turns": D("5.9512"),
    # 760 / ((60 x 12 + 90 x 4 + 30 x 12) / (30 + 31 + 30)) = 760 x 91 / 1440
    "days_of_supply": D("48.0278"),
    # 400 / 760
    "excess_obsolete_pct": D("52.6316"),
    # S_A = 5 + 90 = 95, S_B = 0 + 70 = 70; (min(100, 95) + min(70, 70)) / 170
    "fill_rate": D("97.0588"),
    # B in full, A not: 1 / 2
    "otif": D("50.0000"),
    # (100 x 20 + 70 x 10) / (95 x 20 + 60 x 10 + 30 x 10) = 2700 / 2800
    "revenue_vs_plan": D("96.4286"),
    # (100 x 8 + 70 x 6) / 2700 = 1220 / 2700
    "gross_margin": D("45.1852"),
    # mean valuation 410 / revenue (Feb 1600 + Mar 2700 = 4300)
    "working_capital_ratio": D("9.5349"),
}


def test_every_catalogue_kpi_of_the_month_is_computed_from_the_data(world):
    result = kpi_refresh(actor=None, period_from=MAR, period_to=MAR, today=TODAY)
    assert result == {"periods": ["2026-03-01"], "kpis_written": 15, "created": 15, "updated": 0, "unchanged": 0}
    rows = {r.metric_name: r for r in KpiMetric.objects.filter(period=MAR)}
    assert {name: r.value for name, r in rows.items()} == EXPECTED
    assert {r.source for r in rows.values()} == {"computed"}
    assert all(r.computed_at is not None for r in rows.values())
    # inputs say what the value was built from
    assert rows["fill_rate"].inputs == {"products": 2, "sum_demand": "170.0000", "sum_served": "165.0000",
                                        "opening_snapshot": "2026-02"}  # fmt: skip
    assert rows["demand_plan_adherence"].inputs["rows_from_publication"] == 1
    assert rows["forecast_accuracy"].inputs["points"] == 2


def test_status_and_target_come_from_the_definitions(world):
    kpi_refresh(actor=None, period_from=MAR, period_to=MAR, today=TODAY)
    rows = {r.metric_name: r for r in KpiMetric.objects.filter(period=MAR)}
    # accuracy 91.18 over target 85: variance 6.1765, on target
    assert (rows["forecast_accuracy"].target, rows["forecast_accuracy"].variance, rows["forecast_accuracy"].status) == (
        D("85.0000"),
        D("6.1765"),
        "on_target",
    )
    # bias 8.8235 against a tolerance of 5: adverse (8.8235 - 5) / 5 = 76 % → critical
    assert rows["forecast_bias"].status == "critical"
    # days of supply 48.03 above the 15-30 range: variance 18.0278, 18.0278 / 30 = 60.09 % → critical; no single target
    dos = rows["days_of_supply"]
    assert (dos.target, dos.variance, dos.variance_pct, dos.status) == (None, D("18.0278"), D("60.0927"), "critical")
    # otif 50 vs 95: adverse 47.4 % → critical; fill rate 97.06 vs 98: 0.96 % → on target
    assert (rows["otif"].status, rows["fill_rate"].status) == ("critical", "on_target")
    assert rows["gross_margin"].unit == "%"
    assert rows["inventory_turns"].unit == "turns"


def test_trend_uses_last_months_value_and_a_second_refresh_changes_nothing(world):
    KpiMetric.objects.create(metric_name="fill_rate", metric_category="service", period=FEB, value=D(90),
                             source="computed")  # fmt: skip
    kpi_refresh(actor=None, period_from=MAR, period_to=MAR, today=TODAY)
    fill = KpiMetric.objects.get(metric_name="fill_rate", period=MAR)
    # 97.0588 - 90 = +7.06 (7.8 % of 90) for a higher-is-better KPI
    assert (fill.previous_value, fill.trend) == (D("90.0000"), "improving")
    again = kpi_refresh(actor=None, period_from=MAR, period_to=MAR, today=TODAY)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 15)


def test_a_value_that_changes_is_updated_and_the_next_month_re_evaluated(world):
    # March was computed; then February gets a fill rate and is refreshed: March's trend follows.
    kpi_refresh(actor=None, period_from=MAR, period_to=MAR, today=TODAY)
    assert KpiMetric.objects.get(metric_name="fill_rate", period=MAR).trend == "stable"  # no February value yet
    # February: A_P = 80 (A), opening stock unknown (no January snapshot), no February production: not written.
    result = kpi_refresh(actor=None, period_from=FEB, period_to=FEB, today=TODAY)
    assert not KpiMetric.objects.filter(metric_name="fill_rate", period=FEB).exists()
    # ... but February's gross margin exists: A 80 x 8 / (80 x 20) = 40 %, and March's margin trend now compares
    # 45.1852 with 40: +13 % → improving.
    assert KpiMetric.objects.get(metric_name="gross_margin", period=FEB).value == D("40.0000")
    march = KpiMetric.objects.get(metric_name="gross_margin", period=MAR)
    assert (march.previous_value, march.trend) == (D("40.0000"), "improving")
    assert result["periods"] == ["2026-02-01"]


def test_open_and_future_months_are_never_written_and_the_default_is_three_closed_months(world):
    assert kpi_refresh_periods(today=TODAY) == [datetime.date(2026, 1, 1), FEB, MAR]
    assert kpi_refresh_periods("2026-03", "2026-09", today=TODAY) == [MAR]
    assert kpi_refresh_periods("2026-05-01", None, today=TODAY) == []
    result = kpi_refresh(actor=None, period_from="2026-03-01", period_to="2026-12-01", today=TODAY)
    assert result["periods"] == ["2026-03-01"]
    assert not KpiMetric.objects.filter(period__gte=APR).exists()


def test_months_without_inputs_write_nothing(world):
    result = kpi_refresh(actor=None, period_from="2025-06", period_to="2025-06", today=TODAY)
    assert result["kpis_written"] == 0
    assert not KpiMetric.objects.filter(period=datetime.date(2025, 6, 1)).exists()


def test_manual_values_are_left_alone(world, users):
    KpiMetric.objects.create(metric_name="supplier_otd", metric_category="supply", period=MAR, value=D(93),
                             source="manual")  # fmt: skip
    kpi_refresh(actor=None, period_from=MAR, period_to=MAR, today=TODAY)
    assert KpiMetric.objects.get(metric_name="supplier_otd").value == D("93.0000")


def test_one_audit_row_per_refresh_with_the_counts(world):
    kpi_refresh(actor=None, period_from=FEB, period_to=MAR, today=TODAY)
    events = AuditEvent.objects.filter(event_type="planning.kpi_metric.refreshed")
    assert events.count() == 1
    event = events.get()
    assert event.target_type == "kpi_refresh"
    assert event.target_id == "2026-02..2026-03"
    assert event.metadata["created"] == KpiMetric.objects.count()
    assert event.actor_id is None
    # a refresh that changes nothing leaves no audit row
    kpi_refresh(actor=None, period_from=FEB, period_to=MAR, today=TODAY)
    assert events.count() == 1


def test_refresh_is_set_based(world, django_assert_max_num_queries):
    # Three months, every source read once: the query count does not grow with products or months.
    with django_assert_max_num_queries(20):
        kpi_refresh(actor=None, period_from="2026-01", period_to=MAR, today=TODAY)


def test_a_person_needs_the_refresh_permission(world, users):
    from genxsop.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        kpi_refresh(actor=users["viewer"], period_from=MAR, period_to=MAR, today=TODAY)
    assert kpi_refresh(actor=users["sop_coordinator"], period_from=MAR, period_to=MAR, today=TODAY)["created"] == 15


def test_the_month_rollover_job_refreshes_the_closed_months_kpis(world):
    # GOV-42 "month rolled over": the month-close snapshot job refreshes that month's KPIs right after.
    from planning.models import Inventory
    from planning.services.inventory import previous_month
    from planning.tasks import capture_month_end_snapshots

    closed = previous_month()
    Inventory.objects.create(product=world["a"], location=LocationFactory(code="DC"), on_hand_qty=D(10),
                             valuation=D(120))  # fmt: skip
    for offset in (1, 2, 3):  # demand after the closed month, for days of supply
        _demand(world["a"], add_months(closed, offset), forecast=31)
    result = capture_month_end_snapshots()
    assert result["created"] == 1
    assert result["kpis"]["periods"] == [f"{closed:%Y-%m-%d}"]
    # 120 / ((3 x 31 x 12) / days of the three months)
    days = sum(calendar.monthrange(m.year, m.month)[1] for m in (add_months(closed, i) for i in (1, 2, 3)))
    expected = (D(120) / (D(3 * 31 * 12) / days)).quantize(D("0.0001"))
    assert KpiMetric.objects.get(metric_name="days_of_supply", period=closed).value == expected
