"""Forecasting demo data (DEMO-08): backfilled runs, consensus, anomalies and accuracy points.

Loading the demo takes seconds, so it is loaded once for the module; each test runs in its own
transaction on top of it.
"""

import datetime
import io
from collections import Counter

import pytest
from django.core.management import call_command

from forecasting.choices import ConsensusStatus, RunSource
from forecasting.models import ForecastAccuracyPoint, ForecastAnomaly, ForecastConsensus, ForecastRun
from forecasting.series import add_months
from governance.models import AuditEvent
from planning.choices import ProductStatus
from planning.models import Product
from tests.planning.test_demo import wipe

pytestmark = pytest.mark.django_db

ANCHOR = "2025-06"
ANCHOR_DATE = datetime.date(2025, 6, 1)


def run_loader(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", "--anchor", ANCHOR, *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            yield run_loader()
        finally:
            wipe()


def test_every_active_product_total_has_a_run_per_past_as_of_month_and_a_current_run(loaded):
    active = set(Product.objects.filter(status=ProductStatus.ACTIVE).values_list("pk", flat=True))
    runs = ForecastRun.objects.filter(source=RunSource.DEMO)
    assert set(runs.values_list("product_id", flat=True)) == active
    assert set(runs.values_list("region", "channel").distinct()) == {("Global", "All")}
    wanted = {add_months(ANCHOR_DATE, -k) for k in range(13)}
    per_product = Counter(runs.values_list("product_id", flat=True))
    assert set(per_product.values()) == {13}
    assert set(runs.values_list("as_of_period", flat=True)) == wanted
    horizons = dict(runs.values_list("as_of_period", "horizon").distinct())
    assert horizons[ANCHOR_DATE] == 12
    assert {h for m, h in horizons.items() if m < ANCHOR_DATE} == {6}
    # Each historical run saw only the months before its as-of month.
    assert all(r.history_end == add_months(r.as_of_period, -1) for r in runs)
    assert "self-check: demo forecast runs for 13 as-of months" in loaded


def test_accuracy_points_exist_at_lags_1_and_3_for_every_layer(loaded):
    points = ForecastAccuracyPoint.objects.all()
    layers_by_lag = {lag: set(points.filter(lag=lag).values_list("layer", flat=True)) for lag in (1, 3)}
    assert layers_by_lag == {1: {"naive", "statistical", "consensus"}, 3: {"naive", "statistical", "consensus"}}
    assert not points.filter(period__gte=ANCHOR_DATE).exists()  # only closed months have an actual
    assert "accuracy points" in loaded


def test_consensus_has_one_approved_row_per_series_period_and_a_current_mix(loaded):
    rows = ForecastConsensus.objects.filter(is_current=True)
    approved = Counter(rows.filter(status=ConsensusStatus.APPROVED).values_list("product_id", "period"))
    assert set(approved.values()) == {1}
    assert rows.filter(status=ConsensusStatus.SUPERSEDED).exists()
    current = rows.filter(forecast_run__as_of_period=ANCHOR_DATE)
    statuses = set(current.values_list("status", flat=True))
    assert {ConsensusStatus.APPROVED, ConsensusStatus.PROPOSED} <= statuses
    audited = set(AuditEvent.objects.filter(event_type__startswith="forecasting.consensus.")
                  .values_list("target_id", flat=True))  # fmt: skip
    assert {str(pk) for pk in rows.values_list("pk", flat=True)} <= audited
    # Open rows were entered through the consensus service: a proposal carries its proposer.
    assert not current.filter(status=ConsensusStatus.PROPOSED, proposed_by__isnull=True).exists()
    assert ForecastAnomaly.objects.exists()


def test_a_second_load_writes_no_forecasting_rows(loaded):
    before = (ForecastRun.objects.count(), ForecastConsensus.objects.count(), ForecastAccuracyPoint.objects.count())
    output = run_loader()
    after = (ForecastRun.objects.count(), ForecastConsensus.objects.count(), ForecastAccuracyPoint.objects.count())
    assert after == before
    assert "forecast data" in output


def _seasonal_product():
    from decimal import Decimal

    from planning.models import DemandPlan
    from tests.factories import ProductFactory

    product = ProductFactory()
    DemandPlan.objects.bulk_create(
        DemandPlan(product=product, period=add_months(ANCHOR_DATE, -t), forecast_qty=Decimal(0), status="approved",
                   actual_qty=Decimal(100 + 20 * ((ANCHOR_DATE.month - t) % 12 == 0) + t % 3))
        for t in range(1, 31)
    )  # fmt: skip
    return product


def test_cut_history_is_the_history_loaded_as_of_that_month():
    from forecasting import demo
    from forecasting.series import SeriesKey, load_histories

    key = SeriesKey(_seasonal_product().pk)
    full = load_histories([key], as_of=ANCHOR_DATE)[key]
    for k in (1, 5, 12):
        as_of = add_months(ANCHOR_DATE, -k)
        cut, loaded_then = demo._cut_history(full, as_of), load_histories([key], as_of=as_of)[key]
        assert cut.periods == loaded_then.periods
        assert list(cut.values) == list(loaded_then.values)


def test_both_compute_paths_give_a_run_per_as_of_month():
    from forecasting import demo
    from forecasting.series import SeriesKey

    keys = [SeriesKey(_seasonal_product().pk), SeriesKey(_seasonal_product().pk)]
    for computed in (demo._compute_in_one_call(keys, ANCHOR_DATE), demo._compute_per_as_of(keys, ANCHOR_DATE)):
        as_of = Counter((c.key, c.periods[0], len(c.periods)) for c in computed)
        assert set(as_of.values()) == {1}
        assert {(p, n) for _, p, n in as_of} == {(ANCHOR_DATE, 12)} | {
            (add_months(ANCHOR_DATE, -k), 6) for k in range(1, 13)
        }
