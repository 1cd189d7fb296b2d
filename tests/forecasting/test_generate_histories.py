"""`forecast_compute_histories`: forecasts for histories the caller already holds, in one engine call."""

import pytest

from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION
from forecasting.series import SeriesKey, add_months, load_histories
from forecasting.services import forecast_compute, forecast_compute_histories
from genxsop.errors import ValidationFailed
from tests.factories import ProductFactory
from tests.forecasting.history_data import months_back, seasonal, write_actuals

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys():
    first, second = ProductFactory(), ProductFactory()
    write_actuals(first, seasonal(36))
    write_actuals(second, [5.0, 6.0])  # too short to forecast
    return [SeriesKey(first.pk, TOTAL_REGION, TOTAL_CHANNEL), SeriesKey(second.pk, TOTAL_REGION, TOTAL_CHANNEL)]


def test_each_history_is_forecast_from_its_own_end_with_its_as_of_recorded(keys):
    now = add_months(months_back(0), 1)
    earlier = add_months(now, -4)
    current = load_histories(keys, as_of=now)
    past = load_histories(keys[:1], as_of=earlier)
    histories = [current[keys[0]], past[keys[0]], current[keys[1]]]
    out = forecast_compute_histories(histories, horizon=3, as_of=[now, earlier, now])
    assert [c.key for c in out] == [keys[0], keys[0], keys[1]]
    assert [c.as_of for c in out] == [now, earlier, now]
    assert out[0].ok
    assert out[1].ok
    assert out[0].periods == [add_months(now, i) for i in range(3)]
    assert out[1].periods == [add_months(earlier, i) for i in range(3)]
    assert out[2].error_code == "INSUFFICIENT_DATA"
    assert out[0].diagnostics["candidate_metrics"]
    assert out[0].diagnostics["selection_reason"]


def test_same_numbers_as_forecast_compute_for_the_same_history(keys):
    expected = forecast_compute(keys[:1], horizon=4, model_type="exp_smoothing")[0]
    history = load_histories(keys[:1])[keys[0]]
    got = forecast_compute_histories([history], horizon=4, model_type="exp_smoothing")[0]
    assert got.model_used == expected.model_used == "exp_smoothing"
    assert got.predicted == expected.predicted
    assert got.lower95 == expected.lower95
    assert got.upper80 == expected.upper80


def test_invalid_requests_are_refused(keys):
    history = load_histories(keys[:1])[keys[0]]
    with pytest.raises(ValidationFailed):
        forecast_compute_histories([history], horizon=3, model_type="no_such_model")
    with pytest.raises(ValueError, match="one entry per history"):
        forecast_compute_histories([history], horizon=3, as_of=[None, None])
