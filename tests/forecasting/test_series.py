"""FC-10/11 histories: product totals vs detail keys, missing months, corrections, closed months only."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forecasting.models import ForecastAnomaly
from forecasting.series import (
    SeriesKey,
    active_total_keys,
    add_months,
    last_closed_month,
    load_histories,
    series_actuals,
)
from planning.models import DemandPlan
from tests.factories import ProductFactory
from tests.forecasting.history_data import months_back, write_actuals

pytestmark = pytest.mark.django_db


def test_month_arithmetic():
    assert add_months(datetime.date(2026, 11, 15), 1) == datetime.date(2026, 12, 1)
    assert add_months(datetime.date(2026, 1, 31), -1) == datetime.date(2025, 12, 1)
    assert add_months(datetime.date(2026, 12, 1), 13) == datetime.date(2028, 1, 1)
    assert last_closed_month(datetime.date(2026, 3, 9)) == datetime.date(2026, 2, 1)
    assert last_closed_month(datetime.date(2026, 1, 1)) == datetime.date(2025, 12, 1)


def test_total_key_sums_every_current_row_and_detail_key_reads_its_own():
    product = ProductFactory()
    write_actuals(product, [10, 20, 30], region="EU", channel="Retail")
    write_actuals(product, [1, 2, 3], region="US", channel="Retail")
    total, eu = SeriesKey(product.pk), SeriesKey(product.pk, "EU", "Retail")
    histories = load_histories([total, eu])
    assert histories[total].raw.tolist() == [11, 22, 33]
    assert histories[eu].raw.tolist() == [10, 20, 30]
    assert histories[total].periods == [months_back(2), months_back(1), months_back(0)]
    assert histories[total].flags == []


def test_history_rows_that_are_not_current_do_not_count():
    product = ProductFactory()
    live = write_actuals(product, [10, 20, 30])
    DemandPlan.objects.filter(pk=live[0].pk).update(version=2)
    DemandPlan.objects.create(product=product, period=live[0].period, forecast_qty=0, actual_qty=500,
                              is_current=False, history_of=live[0], version=1)  # fmt: skip
    assert load_histories([SeriesKey(product.pk)])[SeriesKey(product.pk)].raw.tolist() == [10, 20, 30]


def test_only_closed_months_are_used():
    product = ProductFactory()
    write_actuals(product, [10, 20, 30, 40], end=add_months(timezone.localdate(), 0))  # ends in the open month
    history = load_histories([SeriesKey(product.pk)])[SeriesKey(product.pk)]
    assert history.raw.tolist() == [10, 20, 30]
    assert history.end == last_closed_month()


def test_as_of_cuts_the_history_before_the_first_forecast_month():
    product = ProductFactory()
    write_actuals(product, [1, 2, 3, 4, 5, 6])
    history = load_histories([SeriesKey(product.pk)], as_of=months_back(1))[SeriesKey(product.pk)]
    assert history.raw.tolist() == [1, 2, 3, 4]
    assert history.end == months_back(2)


def test_history_runs_from_first_to_last_month_with_an_actual():
    product = ProductFactory()
    write_actuals(product, [None, 5, 6, 7, None])  # no actual yet in the last closed month
    history = load_histories([SeriesKey(product.pk)])[SeriesKey(product.pk)]
    assert history.raw.tolist() == [5, 6, 7]
    assert history.start == months_back(3)
    assert history.end == months_back(1)
    assert "missing_months" not in history.flags


def test_missing_months_count_as_zero_by_default(settings):
    settings.FORECAST_MISSING_AS_ZERO = True
    product = ProductFactory()
    write_actuals(product, [5, None, 7, 8])
    history = load_histories([SeriesKey(product.pk)])[SeriesKey(product.pk)]
    assert history.raw.tolist() == [5, 0, 7, 8]
    assert len(history.periods) == 4
    assert history.flags == ["missing_months"]
    assert history.missing_periods == [months_back(2)]


def test_missing_months_are_dropped_when_configured(settings):
    settings.FORECAST_MISSING_AS_ZERO = False
    product = ProductFactory()
    write_actuals(product, [5, None, 7, 8])
    history = load_histories([SeriesKey(product.pk)])[SeriesKey(product.pk)]
    assert history.raw.tolist() == [5, 7, 8]
    assert history.periods == [months_back(3), months_back(1), months_back(0)]
    assert history.flags == ["missing_months"]


def _anomaly(product, period, status, corrected=None, method="zscore"):
    return ForecastAnomaly.objects.create(
        product=product, period=period, value=Decimal("900"), expected=Decimal("10"), method=method,
        direction="spike", severity="high", status=status, corrected_value=corrected, detected_at=timezone.now(),
    )  # fmt: skip


def test_corrected_anomalies_replace_the_value_for_training_only():
    product = ProductFactory()
    write_actuals(product, [10, 900, 12, 11])
    _anomaly(product, months_back(2), "corrected", Decimal("11"))
    history = load_histories([SeriesKey(product.pk)])[SeriesKey(product.pk)]
    assert history.raw.tolist() == [10, 900, 12, 11]
    assert history.values.tolist() == [10, 11, 12, 11]
    assert history.flags == ["corrected_history"]
    uncorrected = load_histories([SeriesKey(product.pk)], use_corrections=False)[SeriesKey(product.pk)]
    assert uncorrected.values.tolist() == [10, 900, 12, 11]


def test_open_and_acknowledged_anomalies_inside_the_history_raise_outliers():
    product, other = ProductFactory(), ProductFactory()
    write_actuals(product, [10, 900, 12, 11])
    write_actuals(other, [10, 12, 11])
    _anomaly(product, months_back(2), "acknowledged")
    _anomaly(other, months_back(20), "open")  # outside the history
    _anomaly(other, months_back(1), "dismissed")
    histories = load_histories([SeriesKey(product.pk), SeriesKey(other.pk)])
    assert histories[SeriesKey(product.pk)].flags == ["outliers"]
    assert histories[SeriesKey(product.pk)].values.tolist() == [10, 900, 12, 11]
    assert histories[SeriesKey(other.pk)].flags == []


def test_keys_without_actuals_get_an_empty_history():
    product = ProductFactory()
    history = load_histories([SeriesKey(product.pk, "EU", "Web")])[SeriesKey(product.pk, "EU", "Web")]
    assert history.periods == []
    assert len(history.raw) == 0
    assert history.start is None


def test_many_keys_take_a_fixed_number_of_queries():
    products = [ProductFactory() for _ in range(12)]
    for product in products:
        write_actuals(product, [1, 2, 3, 4])
        write_actuals(product, [1, 1, 1, 1], region="EU", channel="Web")
    keys = [SeriesKey(p.pk) for p in products] + [SeriesKey(p.pk, "EU", "Web") for p in products]
    with CaptureQueriesContext(connection) as queries:
        histories = load_histories(keys)
    assert len(queries) <= 3
    assert histories[keys[0]].raw.tolist() == [2, 3, 4, 5]


def test_series_actuals_are_raw_per_month():
    product = ProductFactory()
    write_actuals(product, [10, 900, None, 11])
    _anomaly(product, months_back(2), "corrected", Decimal("11"))
    key = SeriesKey(product.pk)
    actuals = series_actuals([key], months_back(3), months_back(1))
    assert actuals == {(key, months_back(3)): 10.0, (key, months_back(2)): 900.0}


def test_active_total_keys_skip_discontinued_products():
    active, gone = ProductFactory(), ProductFactory(status="discontinued")
    keys = active_total_keys()
    assert SeriesKey(active.pk) in keys
    assert SeriesKey(gone.pk) not in keys
    assert active_total_keys([gone.pk]) == []
