"""Generation (API-FC-02 service, FC-10…14, FC-21…25): runs, result rows, audit, validation, fallbacks."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from forecasting.models import Forecast, ForecastRun
from forecasting.series import SeriesKey, add_months
from forecasting.services import (
    InsufficientData,
    forecast_compute,
    forecast_generate,
    forecast_recommend,
    forecast_write,
    validate_model_request,
)
from genxsop.errors import PermissionDenied, ValidationFailed
from governance.models import AuditEvent
from tests.factories import ProductFactory
from tests.forecasting.history_data import months_back, seasonal, write_actuals

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    product = ProductFactory()
    write_actuals(product, seasonal(30))
    return product


def test_generate_writes_a_run_its_rows_and_one_audit_event(users, product):
    run = forecast_generate(actor=users["demand_planner"], product=product, horizon=4)
    run.refresh_from_db()
    assert run.history_months == 30
    assert run.history_end == months_back(0)
    assert run.as_of_period == add_months(months_back(0), 1)
    assert run.records_created == 4
    assert run.user == users["demand_planner"]
    assert run.source == "interactive"
    assert run.advisor_enabled is False
    assert Decimal("0") <= run.advisor_confidence <= Decimal("1")
    assert run.selection_reason
    assert run.candidate_metrics
    assert {"model_type", "rank", "score", "mape", "wape"} <= set(run.candidate_metrics[0])
    rows = list(Forecast.objects.filter(run=run).order_by("period"))
    assert [r.lag for r in rows] == [1, 2, 3, 4]
    assert [r.period for r in rows] == [add_months(run.as_of_period, i) for i in range(4)]
    for row in rows:
        assert row.model_type == run.model_used
        assert 0 <= row.lower_bound <= row.lower_80 <= row.predicted_qty <= row.upper_80 <= row.upper_bound
        assert row.interval_level == Decimal("95.00")
        assert 0 <= row.confidence <= 100
        assert row.features_used["run_audit_id"] == run.pk
        assert row.features_used["advisor_enabled"] is False
        assert set(row.features_used) == {"run_audit_id", "selection_reason", "advisor_confidence",
                                          "advisor_enabled", "fallback_used", "model_params", "warnings"}  # fmt: skip
    events = AuditEvent.objects.filter(event_type="forecasting.run.created", target_id=str(run.pk))
    assert events.count() == 1
    assert events.get().after["records_created"] == 4


def test_fewer_than_three_months_is_insufficient_data_and_writes_nothing(users):
    product = ProductFactory()
    write_actuals(product, [5, 6])
    with pytest.raises(InsufficientData) as caught:
        forecast_generate(actor=users["admin"], product=product)
    assert caught.value.status_code == 422
    assert caught.value.code == "INSUFFICIENT_DATA"
    assert caught.value.message == "Forecasting requires 3 history months, found 2"
    assert ForecastRun.objects.count() == 0


@pytest.mark.parametrize(
    ("model_type", "params", "field"),
    [
        ("no_such_model", None, "model_type"),
        ("moving_average", {"bogus": 1}, "model_params"),
        (None, {"window": 3}, "model_params"),
    ],
)
def test_bad_model_or_parameters_are_400(users, product, model_type, params, field):
    with pytest.raises(ValidationFailed) as caught:
        forecast_generate(actor=users["admin"], product=product, model_type=model_type, model_params=params)
    assert field in caught.value.fields
    assert ForecastRun.objects.count() == 0


@pytest.mark.parametrize("horizon", [0, 25, "x", True])
def test_horizon_outside_1_to_24_is_400(users, product, horizon):
    with pytest.raises(ValidationFailed) as caught:
        forecast_generate(actor=users["admin"], product=product, horizon=horizon)
    assert "horizon" in caught.value.fields


def test_validated_parameters_fill_defaults():
    model, params = validate_model_request("moving_average", {"window": 4})
    assert model == "moving_average"
    assert params["window"] == 4
    assert "trend_weight" in params
    assert validate_model_request(None, None) == (None, {})


def test_explicit_model_is_used_with_its_parameters(users, product):
    run = forecast_generate(actor=users["admin"], product=product, model_type="moving_average",
                            model_params={"window": 4}, horizon=3)  # fmt: skip
    assert run.requested_model == "moving_average"
    assert run.selected_model == run.model_used == "moving_average"
    assert run.fallback_used is False
    assert run.model_params["window"] == 4
    assert run.advisor_confidence == Decimal("1")
    assert run.selection_reason.startswith("Using user-selected model.")
    assert "Parameters: " in run.selection_reason


def test_a_model_that_cannot_run_falls_back_visibly(users):
    product = ProductFactory()
    write_actuals(product, [10, 12, 11, 13, 12, 14, 13, 15])  # 8 months: too short for arima and exp_smoothing
    run = forecast_generate(actor=users["admin"], product=product, model_type="arima", horizon=2)
    assert run.selected_model == "arima"
    assert run.model_used != "arima"
    assert run.fallback_used is True
    assert run.fallback_chain[0] == "arima"
    assert any(w.startswith("fallback:arima->") for w in run.warnings)
    assert set(run.results.values_list("model_type", flat=True)) == {run.model_used}


def test_discontinued_products_are_forecast_with_a_warning(users):
    product = ProductFactory(status="discontinued")
    write_actuals(product, seasonal(14))
    run = forecast_generate(actor=users["admin"], product=product, horizon=2)
    assert "discontinued_product" in run.warnings


def test_history_flags_reach_the_run(users, settings):
    settings.FORECAST_MISSING_AS_ZERO = True
    product = ProductFactory()
    write_actuals(product, [10, None, 12, 11, 13])
    run = forecast_generate(actor=users["admin"], product=product, horizon=2)
    assert "missing_months" in run.data_quality_flags
    assert "short_history" in run.data_quality_flags


def test_detail_series_are_forecast_on_their_own_rows(users):
    product = ProductFactory()
    write_actuals(product, seasonal(14), region="EU", channel="Web")
    write_actuals(product, [1000.0] * 14, region="US", channel="Web")
    run = forecast_generate(actor=users["admin"], product=product, region="EU", channel="Web", horizon=2)
    assert (run.region, run.channel) == ("EU", "Web")
    assert all(r.predicted_qty < 500 for r in run.results.all())


def test_viewers_cannot_generate(users, product):
    with pytest.raises(PermissionDenied):
        forecast_generate(actor=users["viewer"], product=product)


def test_recommendation_writes_nothing(users, product):
    answer = forecast_recommend(actor=users["admin"], product=product)
    assert answer["product_id"] == product.pk
    assert answer["region"] == "Global"
    assert answer["diagnostics"]["selected_model"]
    assert answer["diagnostics"]["advisor_enabled"] is False
    assert ForecastRun.objects.count() == 0


def test_compute_is_deterministic_and_set_based(users, product):
    short = ProductFactory()
    write_actuals(short, [1, 2])
    keys = [SeriesKey(product.pk), SeriesKey(short.pk)]
    first = forecast_compute(keys, horizon=3)
    second = forecast_compute(keys, horizon=3)
    assert first[0].predicted == second[0].predicted
    assert first[0].upper95 == second[0].upper95
    assert first[0].diagnostics == second[0].diagnostics
    assert first[1].error_code == "INSUFFICIENT_DATA"
    with transaction.atomic():
        runs = forecast_write(first, actor=users["admin"], source="job")
    assert len(runs) == 1
    assert runs[0].source == "job"
    assert first[0].diagnostics["run_audit_id"] == runs[0].pk
    assert AuditEvent.objects.filter(event_type="forecasting.run.created").count() == 1


def test_as_of_in_the_past_forecasts_from_that_point(users, product):
    computed = forecast_compute([SeriesKey(product.pk)], horizon=2, as_of=months_back(5))[0]
    assert computed.history.end == months_back(6)
    assert computed.periods == [months_back(5), months_back(4)]
    assert isinstance(computed.periods[0], datetime.date)


def test_an_inactive_series_is_forecast_as_zero(users):
    product = ProductFactory()
    write_actuals(product, [10.0] * 6 + [0.0] * 12)
    run = forecast_generate(actor=users["admin"], product=product, horizon=3)
    assert run.demand_pattern == "inactive"
    assert "inactive_series" in run.warnings
    assert "trailing_zeros" in run.data_quality_flags
    for row in run.results.all():
        assert row.predicted_qty == row.lower_bound == row.upper_bound == 0
        assert row.interval_method == "zero"


def test_an_unavailable_model_falls_back_with_a_warning(users, product):
    run = forecast_generate(actor=users["admin"], product=product, model_type="prophet", horizon=2)
    assert run.selected_model == "prophet"
    assert run.fallback_used is True
    assert "model_unavailable:prophet" in run.warnings


def test_the_ensemble_can_be_requested(users, product):
    run = forecast_generate(actor=users["admin"], product=product, model_type="ensemble",
                            model_params={"members": 2}, horizon=2)  # fmt: skip
    assert run.requested_model == "ensemble"
    assert run.advisor_confidence == Decimal("1")
    assert run.results.count() == 2


def _queries_for(users, n: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    products = [ProductFactory() for _ in range(n)]
    for product in products:
        write_actuals(product, seasonal(8))
    keys = [SeriesKey(p.pk) for p in products]
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        computed = forecast_compute(keys, horizon=2, model_type="moving_average")
        runs = forecast_write(computed, actor=users["admin"])
    assert len(runs) == n
    return len(queries)


def test_compute_and_write_take_the_same_queries_for_any_number_of_series(users):
    assert _queries_for(users, 2) == _queries_for(users, 6)
