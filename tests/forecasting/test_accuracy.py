"""Accuracy at a lag: materialisation (FC-50, FC-53) and the reports (FC-51, FC-54, FC-55, API-FC-17…20).

The fixtures are tiny and the expected figures are worked out by hand from FRM-20…27.
"""

import datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from forecasting import accuracy
from forecasting.accuracy import accuracy_refresh
from forecasting.choices import ConsensusStatus
from forecasting.models import Forecast, ForecastAccuracyPoint, ForecastConsensus
from forecasting.series import SeriesKey, add_months, last_closed_month
from governance import bus
from governance.choices import Role
from governance.services.scopes import user_scopes_set
from planning import events as planning_events
from planning.models import DemandPlan
from tests.factories import CategoryFactory, ProductFactory
from tests.forecasting.builders import make_run

pytestmark = pytest.mark.django_db

JAN, FEB, MAR, APR = (datetime.date(2025, m, 1) for m in (1, 2, 3, 4))
WINDOW = (datetime.date(2024, 1, 1), datetime.date(2025, 6, 1))
URL = "/api/v1/forecasting/accuracy"


def set_actuals(product, values: dict[datetime.date, float], region="Global", channel="All"):
    DemandPlan.objects.bulk_create(
        DemandPlan(product=product, period=p, region=region, channel=channel, forecast_qty=Decimal("0"),
                   actual_qty=Decimal(str(q)), status="approved")
        for p, q in values.items()
    )  # fmt: skip


def approve_consensus(run, period, qty):
    return ForecastConsensus.objects.create(
        forecast_run=run, product=run.product, region=run.region, channel=run.channel, period=period,
        baseline_qty=Decimal(str(qty)), pre_consensus_qty=Decimal(str(qty)), final_consensus_qty=Decimal(str(qty)),
        status=ConsensusStatus.APPROVED, approved_at=timezone.now(),
    )  # fmt: skip


def client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def product():
    p = ProductFactory()
    # Last year's months feed the naive layer (P - 12); this year's are the actuals being measured.
    set_actuals(p, {datetime.date(2024, 1, 1): 80, datetime.date(2024, 2, 1): 150, datetime.date(2024, 3, 1): 70,
                    JAN: 100, FEB: 200, MAR: 50})  # fmt: skip
    return p


@pytest.fixture
def runs(product):
    """Lag-1 forecasts 110, 160, 50 for Jan, Feb, Mar (95 % band: +-20 %)."""
    return [make_run(product, as_of=p, predictions=[q]) for p, q in ((JAN, 110), (FEB, 160), (MAR, 50))]


def points(**filters):
    return list(
        ForecastAccuracyPoint.objects.filter(**filters).order_by("period", "lag", "layer")
        .values_list("period", "lag", "layer", "model_type", "forecast_qty", "actual_qty")
    )  # fmt: skip


# Materialisation ---------------------------------------------------------------------------------


def test_forecast_of_record_is_the_latest_non_discarded_run_per_as_of(product):
    older = make_run(product, as_of=MAR, predictions=[100, 110, 120], model="theta")
    latest = make_run(product, as_of=MAR, predictions=[90, 95, 130], model="ets")
    discarded = make_run(product, as_of=MAR, predictions=[1, 1, 1], model="arima")
    discarded.discarded_at = timezone.now()
    discarded.save(update_fields=["discarded_at"])
    set_actuals(product, {APR: 100, datetime.date(2025, 5, 1): 120})

    written = accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)

    stat = points(layer="statistical")
    may = datetime.date(2025, 5, 1)
    assert stat == [(MAR, 1, "statistical", "ets", Decimal("90.00"), Decimal("50.00")),
                    (APR, 2, "statistical", "ets", Decimal("95.00"), Decimal("100.00")),
                    (may, 3, "statistical", "ets", Decimal("130.00"), Decimal("120.00"))]  # fmt: skip
    row = ForecastAccuracyPoint.objects.get(layer="statistical", lag=1)
    assert (row.run_id, row.error, row.abs_error, row.ape) == (latest.pk, Decimal("40.00"), Decimal("40.00"),
                                                               Decimal("80.0000"))  # fmt: skip
    assert (row.lower_bound, row.upper_bound, row.in_interval) == (Decimal("72.00"), Decimal("108.00"), False)
    assert older.pk != latest.pk
    # No run as of Jan or Feb: those statistical points are absent, never zero-filled.
    assert not ForecastAccuracyPoint.objects.filter(layer="statistical", period__in=[JAN, FEB]).exists()
    assert written == ForecastAccuracyPoint.objects.count()


def test_points_without_an_actual_are_absent(product):
    make_run(product, as_of=MAR, predictions=[90, 95])  # April has no actual yet
    accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    assert [p[0] for p in points(layer="statistical")] == [MAR]


def test_discarded_result_row_is_ignored(product):
    run = make_run(product, as_of=MAR, predictions=[90])
    Forecast.objects.filter(run=run).update(discarded_at=timezone.now())
    accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    assert points(layer="statistical") == []


def test_naive_layer_is_last_years_month_at_short_lags(product, runs):
    accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    naive = {(p, lag): (f, a) for p, lag, _, _, f, a in points(layer="naive", lag=1)}
    # P - 12 lies before O = P at lag 1: the actual of the same month last year.
    assert naive[(JAN, 1)] == (Decimal("80.00"), Decimal("100.00"))
    assert naive[(MAR, 1)] == (Decimal("70.00"), Decimal("50.00"))
    assert ForecastAccuracyPoint.objects.filter(layer="naive", model_type="seasonal_naive", lag=3).exists()


def test_naive_rule_both_branches():
    key = SeriesKey(7)
    actuals = {(key, datetime.date(2024, 3, 1)): 30.0, (key, datetime.date(2025, 1, 1)): 11.0,
               (key, datetime.date(2025, 2, 1)): 12.0}  # fmt: skip
    frame = accuracy.naive_forecasts(actuals, [key], [datetime.date(2025, 3, 1)], range(1, 15))
    by_lag = dict(zip(frame["lag"], frame["forecast_qty"], strict=True))
    assert by_lag[1] == 30.0  # P - 12 = 2024-03 lies before O = 2025-03
    assert by_lag[12] == 30.0  # O = 2024-04: still after P - 12
    # Lag 13: O = 2024-03 = P - 12, not before O, so the last actual before O. None exists: absent.
    assert 13 not in by_lag
    assert 14 not in by_lag
    frame = accuracy.naive_forecasts(actuals, [key], [datetime.date(2025, 4, 1)], range(1, 4))
    # P - 12 = 2024-04 has no actual: the last actual before O is used instead.
    assert dict(zip(frame["lag"], frame["forecast_qty"], strict=True)) == {1: 12.0, 2: 12.0, 3: 11.0}


def test_consensus_layer_uses_the_approved_row_of_the_run_as_of_o(product, runs):
    jan_run = runs[0]
    approve_consensus(jan_run, JAN, 105)
    draft = ForecastConsensus.objects.create(
        forecast_run=runs[1], product=product, period=FEB, baseline_qty=Decimal("1"), final_consensus_qty=Decimal("1"),
        status=ConsensusStatus.DRAFT,
    )  # fmt: skip
    accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    rows = ForecastAccuracyPoint.objects.filter(layer="consensus")
    assert [(r.period, r.lag, r.model_type, r.forecast_qty, r.consensus_id, r.in_interval) for r in rows] == [
        (JAN, 1, "consensus", Decimal("105.00"), rows[0].consensus_id, None)
    ]
    assert rows[0].consensus_id != draft.pk


def test_refresh_is_idempotent_and_touches_only_the_given_series(product, runs):
    other = ProductFactory()
    set_actuals(other, {JAN: 100})
    make_run(other, as_of=JAN, predictions=[130])
    first = accuracy_refresh(periods=WINDOW)
    again = accuracy_refresh(periods=WINDOW)
    assert first == again == ForecastAccuracyPoint.objects.count()
    ForecastAccuracyPoint.objects.filter(product=other).update(forecast_qty=Decimal("1"))
    accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    assert set(ForecastAccuracyPoint.objects.filter(product=other).values_list("forecast_qty", flat=True)) == {
        Decimal("1.00")
    }


# Reports -----------------------------------------------------------------------------------------


@pytest.fixture
def refreshed(product, runs):
    accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    return product


def test_report_for_one_series_matches_frm_20_to_25(users, refreshed):
    body = client_for(users[Role.DEMAND_PLANNER]).get(URL, {"product_id": refreshed.pk, "lag": 1}).json()
    assert len(body) == 1
    row = body[0]
    # A = 100, 200, 50; F = 110, 160, 50; e = 10, -40, 0.
    assert row == {
        "layer": "statistical", "model_type": "exp_smoothing", "lag": 1, "product_id": refreshed.pk,
        "region": "Global", "channel": "All", "mape": 10.0, "smape": 10.582, "wape": 14.2857, "rmse": 23.8048,
        "nrmse_pct": 20.4041, "mae": 16.6667, "mdae": 10.0, "r2": 0.8543, "bias": -3.3333, "hit_rate": 100.0,
        "tracking_signal": -1.8, "score": 13.5714, "period_count": 3, "sample_count": 1,
        "interval_coverage_pct": 66.6667, "avg_mape": None, "wape_pooled": None, "bias_pooled": None,
    }  # fmt: skip


def test_report_layers_and_period_filter(users, refreshed):
    client = client_for(users[Role.EXECUTIVE])
    body = client.get(URL, {"product_id": refreshed.pk, "layer": "all", "period_from": "2025-01"}).json()
    assert [(r["layer"], r["model_type"]) for r in body] == [("naive", "seasonal_naive"),
                                                              ("statistical", "exp_smoothing")]  # fmt: skip
    naive = body[0]
    assert (naive["wape"], naive["mae"], naive["interval_coverage_pct"]) == (25.7143, 30.0, None)
    body = client.get(URL, {"product_id": refreshed.pk, "period_from": "2025-02", "period_to": "2025-02"}).json()
    assert body[0]["period_count"] == 1
    assert body[0]["wape"] == 20.0


def test_report_without_product_averages_products_and_pools_points(users, refreshed):
    other = ProductFactory()
    set_actuals(other, {JAN: 100})
    make_run(other, as_of=JAN, predictions=[130])
    accuracy_refresh(keys=[SeriesKey(other.pk)], periods=WINDOW)
    body = client_for(users[Role.ADMIN]).get(URL).json()
    row = body[0]
    # Product 1: MAPE 10, WAPE 14.2857, bias -3.3333; product 2: 30, 30, 30.
    assert (row["product_id"], row["mape"], row["avg_mape"], row["wape"], row["bias"]) == (0, 20.0, 20.0, 22.1429,
                                                                                           13.3333)  # fmt: skip
    # Pooled: sum|e| = 50 + 30 over sum|A| = 350 + 100; sum e = -30 + 30.
    assert (row["wape_pooled"], row["bias_pooled"]) == (17.7778, 0.0)
    assert (row["period_count"], row["sample_count"]) == (4, 2)
    assert row["interval_coverage_pct"] == 50.0  # 2 of 4 actuals inside the band


def test_fva_stair_step(users, refreshed, runs):
    for run, qty in zip(runs, (105, 190, 48), strict=True):
        approve_consensus(run, run.as_of_period, qty)
    # A fourth statistical point without consensus is not part of FVA.
    set_actuals(refreshed, {APR: 100, datetime.date(2024, 4, 1): 100})
    make_run(refreshed, as_of=APR, predictions=[100])
    accuracy_refresh(keys=[SeriesKey(refreshed.pk)], periods=WINDOW)

    body = client_for(users[Role.FINANCE_ANALYST]).get(f"{URL}/fva", {"lag": 1}).json()
    assert body["lag"] == 1
    assert body["point_count"] == 3
    assert body["layers"] == [
        {"layer": "naive", "wape": 25.7143, "mae": 30.0, "bias": -1.6667, "point_count": 3,
         "fva_vs_previous_pct": None},
        {"layer": "statistical", "wape": 14.2857, "mae": 16.6667, "bias": -3.3333, "point_count": 3,
         "fva_vs_previous_pct": 11.4286},
        {"layer": "consensus", "wape": 4.8571, "mae": 5.6667, "bias": -1.3333, "point_count": 3,
         "fva_vs_previous_pct": 9.4286},
    ]  # fmt: skip
    (item,) = body["by_product"]
    assert (item["product_id"], item["sku"], item["point_count"]) == (refreshed.pk, refreshed.sku, 3)
    assert [layer["fva_vs_previous_pct"] for layer in item["layers"]] == [None, 11.4286, 9.4286]

    elsewhere = CategoryFactory()
    body = client_for(users[Role.ADMIN]).get(f"{URL}/fva", {"category_id": elsewhere.pk}).json()
    assert body["point_count"] == 0
    assert body["by_product"] == []


def test_trend_is_pooled_per_closed_month(users):
    p1, p2 = ProductFactory(), ProductFactory()
    last = last_closed_month()
    prev = add_months(last, -1)
    for p, actual, forecast in ((p1, 100, 110), (p2, 300, 240)):
        set_actuals(p, {prev: actual, last: actual})
        make_run(p, as_of=prev, predictions=[forecast, forecast])
        make_run(p, as_of=last, predictions=[forecast])
    accuracy_refresh()
    body = client_for(users[Role.SUPPLY_PLANNER]).get(f"{URL}/trend", {"months": 2}).json()
    # e = 10 and -60 in each month: WAPE 70 / 400, MAPE mean(10, 20), bias mean(10, -20).
    expected = {"layer": "statistical", "wape": 17.5, "mape": 15.0, "bias": -5.0, "sample_count": 2}
    assert body == [{"period": f"{prev:%Y-%m-%d}", **expected}, {"period": f"{last:%Y-%m-%d}", **expected}]
    assert client_for(users[Role.ADMIN]).get(f"{URL}/trend", {"months": 37}).status_code == 400


def _drift_frame(apes: list[float], model="ets", product_id=1, zero_at=()) -> pd.DataFrame:
    rows = []
    for i, ape in enumerate(apes):
        period = add_months(datetime.date(2023, 1, 1), i)
        actual = 0.0 if i in zero_at else 100.0
        rows.append(
            (product_id, "Global", "All", period, 1, "statistical", model, actual + ape, actual, None, None, None)
        )
    return pd.DataFrame(rows, columns=accuracy.FRAME_COLUMNS)


def test_fva_stair_steps_split_the_consensus_into_its_override_streams(users, refreshed, runs):
    # A = 100, 200, 50; statistical F = 110, 160, 50. Consensus per month:
    # Jan 110 +10 sales -20 marketing, cap 95 (pre 100, final 95); Feb 160 +30 +20 -5 finance (205); Mar 50.
    drivers = ((110, 10, -20, 0, 95, 100, 95), (160, 30, 20, -5, None, 205, 205), (50, 0, 0, 0, None, 50, 50))
    for run, (base, sales, mkt, fin, cap, pre, final) in zip(runs, drivers, strict=True):
        ForecastConsensus.objects.create(
            forecast_run=run, product=run.product, period=run.as_of_period, baseline_qty=base,
            sales_override_qty=sales, marketing_uplift_qty=mkt, finance_adjustment_qty=fin, constraint_cap_qty=cap,
            pre_consensus_qty=pre, final_consensus_qty=final, status=ConsensusStatus.APPROVED,
            approved_at=timezone.now(),
        )  # fmt: skip
    accuracy_refresh(keys=[SeriesKey(refreshed.pk)], periods=WINDOW)

    body = client_for(users[Role.DEMAND_PLANNER]).get(f"{URL}/fva", {"lag": 1}).json()
    steps = [(s["step"], s["wape"], s["fva_vs_previous_pct"], s["point_count"]) for s in body["stair_steps"]]
    # Sum |A| = 350. Baseline = statistical (|e| 50); + sales 120, 190, 50 (|e| 30); + marketing 100, 210, 50
    # (10); + finance 100, 205, 50 (5); the cap gives 95, 205, 50 (10): it took value away.
    assert steps == [
        ("naive", 25.7143, None, 3), ("statistical", 14.2857, 11.4286, 3), ("baseline", 14.2857, 0.0, 3),
        ("sales_override", 8.5714, 5.7143, 3), ("marketing_uplift", 2.8571, 5.7143, 3),
        ("finance_adjustment", 1.4286, 1.4286, 3), ("consensus", 2.8571, -1.4286, 3),
    ]  # fmt: skip
    assert [layer["layer"] for layer in body["layers"]] == ["naive", "statistical", "consensus"]


def test_drift_window_maths_and_severity():
    frame = _drift_frame([10.0] * 6 + [25.0] * 6)
    (alert,) = accuracy.drift_alerts(frame, threshold_pct=10, min_points=6)
    assert (alert["previous_mape"], alert["recent_mape"], alert["degradation_pct"], alert["severity"]) == (
        10.0, 25.0, 15.0, "medium")  # fmt: skip
    assert accuracy.drift_alerts(frame, threshold_pct=5, min_points=6)[0]["severity"] == "high"
    assert accuracy.drift_alerts(frame, threshold_pct=16, min_points=6) == []
    assert accuracy.drift_alerts(frame, threshold_pct=10, min_points=13) == []
    # 7 points: window max(3, min(6, 3)) = 3; previous = points 2..4, recent = 5..7 (the first is unused).
    (alert,) = accuracy.drift_alerts(_drift_frame([99, 10, 20, 30, 40, 50, 60]), threshold_pct=10, min_points=3)
    assert (alert["previous_mape"], alert["recent_mape"], alert["degradation_pct"]) == (20.0, 50.0, 30.0)
    # 5 usable points (a zero actual is skipped): window 3 needs 6 points, so no alert.
    frame = _drift_frame([10, 10, 10, 50, 50, 50], zero_at=(0,))
    assert accuracy.drift_alerts(frame, threshold_pct=0, min_points=3) == []


def test_drift_alerts_api_sorted_by_degradation(users):
    p1, p2 = ProductFactory(), ProductFactory()
    now = timezone.now()
    rows = []
    for product, apes in ((p1, [10] * 6 + [22] * 6), (p2, [10] * 6 + [45] * 6)):
        for i, ape in enumerate(apes):
            rows.append(ForecastAccuracyPoint(
                product=product, period=add_months(datetime.date(2024, 1, 1), i), lag=1, layer="statistical",
                model_type="ets", forecast_qty=Decimal(100 + ape), actual_qty=Decimal(100), error=Decimal(ape),
                abs_error=Decimal(ape), ape=Decimal(ape), computed_at=now,
            ))  # fmt: skip
    ForecastAccuracyPoint.objects.bulk_create(rows)
    body = client_for(users[Role.EXECUTIVE]).get(f"{URL}/drift-alerts").json()
    found = [(a["product_id"], a["degradation_pct"], a["severity"]) for a in body]
    assert found == [(p2.pk, 35.0, "high"), (p1.pk, 12.0, "medium")]
    bad = client_for(users[Role.EXECUTIVE]).get(f"{URL}/drift-alerts", {"min_points": 2})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "INVALID_PARAMETER"


# Access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/trend", "/fva", "/drift-alerts"])
def test_viewer_gets_403(users, path):
    assert client_for(users[Role.VIEWER]).get(URL + path).status_code == 403


def test_reads_follow_the_category_scope(users, refreshed, make_user):
    other = ProductFactory()
    set_actuals(other, {JAN: 100})
    make_run(other, as_of=JAN, predictions=[130])
    accuracy_refresh(keys=[SeriesKey(other.pk)], periods=WINDOW)
    scoped = make_user(Role.DEMAND_PLANNER)
    user_scopes_set(actor=users[Role.ADMIN], user=scoped,
                    scopes=[{"type": "category", "id": refreshed.category_id, "access": "view"}])  # fmt: skip
    body = client_for(scoped).get(URL).json()
    assert body[0]["sample_count"] == 1
    assert body[0]["wape_pooled"] == 14.2857
    assert client_for(scoped).get(URL, {"product_id": other.pk}).json() == []


# Triggers ----------------------------------------------------------------------------------------


def test_actuals_events_queue_a_refresh_of_that_product(monkeypatch, product, runs):
    queued = []
    monkeypatch.setattr("forecasting.receivers_accuracy._enqueue", queued.append)
    without_runs = ProductFactory()
    bus.dispatch(planning_events.DEMAND_PLAN_ACTUAL_RECORDED, {"demand_plan_id": 1, "product_id": without_runs.pk})
    assert queued == []
    bus.dispatch(planning_events.DEMAND_PLAN_ACTUAL_RECORDED, {"demand_plan_id": 1, "product_id": product.pk})
    assert queued == [[product.pk]]
    no_actual = DemandPlan.objects.create(product=product, period=APR, forecast_qty=Decimal("5"))
    bus.dispatch(planning_events.DEMAND_PLAN_CREATED, {"demand_plan_id": no_actual.pk, "product_id": product.pk})
    assert queued == [[product.pk]]


def test_recording_an_actual_through_the_service_refreshes_the_points(monkeypatch, users, product, runs,
                                                                      django_capture_on_commit_callbacks):  # fmt: skip
    from forecasting.tasks_accuracy import refresh_accuracy
    from planning.services import demand_plan_update

    # The worker's part, run in place: the handler's queued task.
    monkeypatch.setattr("forecasting.receivers_accuracy._enqueue", lambda ids: refresh_accuracy(product_ids=ids))
    monkeypatch.setattr("forecasting.tasks_accuracy.default_periods", lambda: WINDOW)
    accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    plan = DemandPlan.objects.get(product=product, period=MAR)
    with django_capture_on_commit_callbacks(execute=True):
        demand_plan_update(actor=users[Role.ADMIN], plan=plan, data={"actual_qty": Decimal("60")})
    point = ForecastAccuracyPoint.objects.get(product=product, period=MAR, lag=1, layer="statistical")
    assert (point.actual_qty, point.error) == (Decimal("60.00"), Decimal("-10.00"))


def test_refresh_task_rebuilds_the_products_series(monkeypatch, product, runs):
    from forecasting.tasks_accuracy import refresh_accuracy

    monkeypatch.setattr("forecasting.tasks_accuracy.default_periods", lambda: WINDOW)
    expected = accuracy_refresh(keys=[SeriesKey(product.pk)], periods=WINDOW)
    ForecastAccuracyPoint.objects.all().delete()
    assert refresh_accuracy(product_ids=[product.pk]) == expected == ForecastAccuracyPoint.objects.count()


def test_run_created_for_a_past_as_of_month_queues_a_refresh(monkeypatch, product):
    queued = []
    monkeypatch.setattr("forecasting.receivers_accuracy._enqueue", queued.append)
    past = make_run(product, as_of=MAR, predictions=[90])
    current = make_run(product, as_of=add_months(last_closed_month(), 1), predictions=[90])
    bus.dispatch("forecasting.run.created", {"run_ids": [current.pk]})
    assert queued == []
    bus.dispatch("forecasting.run.created", {"run_ids": [past.pk, current.pk]})
    assert queued == [[product.pk]]


def test_refresh_reads_and_writes_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    products = [ProductFactory() for _ in range(6)]
    for p in products:
        set_actuals(p, {datetime.date(2024, m, 1): 100 + m for m in range(1, 13)} | {JAN: 120, FEB: 130})
        make_run(p, as_of=JAN, predictions=[118, 125, 140])
        run = make_run(p, as_of=FEB, predictions=[128, 133])
        approve_consensus(run, FEB, 131)
    # Runs, results, consensus, actuals, delete and insert: the same few queries for 6 series as for 1.
    with django_assert_max_num_queries(12):
        written = accuracy_refresh(periods=WINDOW)
    assert written == ForecastAccuracyPoint.objects.count() > 6 * 3
