"""FC-20/21: the parameter catalogue and its validation, and the models honouring the parameters."""

import numpy as np
import pytest

from forecasting.engine.base import Panel
from forecasting.engine.params import PARAMETERS, ParamError, catalogue_listing, validate_params
from forecasting.engine.pipeline import forecast_panel


def test_listing_has_every_fc20_model_in_table_order():
    rows = catalogue_listing()
    assert [r["id"] for r in rows] == [
        "moving_average",
        "ewma",
        "exp_smoothing",
        "seasonal_naive",
        "arima",
        "prophet",
        "lstm",
        "croston",
        "sba",
        "tsb",
        "theta",
        "gradient_boosting",
        "ensemble",
    ]
    by_id = {r["id"]: r for r in rows}
    assert set(by_id["arima"]) == {"id", "name", "family", "min_data_months", "available", "parameters", "fallback"}
    assert by_id["arima"]["fallback"] == "exp_smoothing"
    assert by_id["prophet"]["available"] is False
    assert by_id["ensemble"]["family"] == "combination"
    assert by_id["ensemble"]["min_data_months"] == 6
    window = by_id["moving_average"]["parameters"][0]
    assert window == {
        "name": "window",
        "type": "int",
        "default": 6,
        "min": 2,
        "max": 12,
        "choices": None,
        "aliases": [],
    }
    level = by_id["exp_smoothing"]["parameters"][2]
    assert level["name"] == "smoothing_level"
    assert level["aliases"] == ["alpha"]
    assert level["default"] is None
    assert by_id["exp_smoothing"]["parameters"][1]["choices"] == ["auto", "none", "additive", "multiplicative"]


def test_defaults_filled_and_aliases_resolved():
    assert validate_params("moving_average", {}) == {"window": 6, "trend_weight": 0.5}
    assert validate_params("moving_average", None) == {"window": 6, "trend_weight": 0.5}
    out = validate_params("exp_smoothing", {"alpha": "0.3", "damped_trend": "off", "seasonal": "None"})
    assert out == {
        "damped_trend": False,
        "seasonal": "none",
        "smoothing_level": 0.3,
        "smoothing_trend": None,
        "smoothing_seasonal": None,
    }
    assert validate_params("arima", {"p": 2.0, "d": "0"}) == {"p": 2, "d": 0, "q": 1}
    assert validate_params("ensemble", {"members": 4}) == {"members": 4}


@pytest.mark.parametrize(
    ("word", "value"), [("true", True), ("1", True), ("yes", True), ("ON", True), (0, False), ("no", False)]
)
def test_boolean_words(word, value):
    assert validate_params("exp_smoothing", {"damped_trend": word})["damped_trend"] is value


def test_unknown_key_lists_allowed_keys_and_aliases():
    with pytest.raises(ParamError) as err:
        validate_params("exp_smoothing", {"alpah": 0.2})
    assert "alpah" in err.value.message
    assert "smoothing_level" in err.value.message
    assert "alpha -> smoothing_level" in err.value.message
    assert err.value.details["unknown"] == ["alpah"]
    assert err.value.details["aliases"]["beta"] == "smoothing_trend"


@pytest.mark.parametrize(
    ("model", "params", "fragment"),
    [
        ("moving_average", {"window": 13}, "window must be between 2 and 12"),
        ("moving_average", {"window": 3.5}, "must be an integer"),
        ("ewma", {"alpha": 0.99}, "between 0.05 and 0.95"),
        ("ewma", {"alpha": "abc"}, "must be a number"),
        ("ewma", {"alpha": True}, "not a boolean"),
        ("exp_smoothing", {"damped_trend": "maybe"}, "must be a boolean"),
        ("exp_smoothing", {"seasonal": "weekly"}, "must be one of auto, none, additive, multiplicative"),
        ("exp_smoothing", {"alpha": 0.2, "smoothing_level": 0.3}, "given twice"),
        ("gradient_boosting", {"random_state": 7}, "between 42 and 42"),
        ("ensemble", {"members": 6}, "between 2 and 5"),
        ("theta", {"theta": float("nan")}, "finite"),
    ],
)
def test_bad_values_are_rejected(model, params, fragment):
    with pytest.raises(ParamError) as err:
        validate_params(model, params)
    assert fragment in err.value.message
    assert err.value.details["errors"]


def test_unknown_model():
    with pytest.raises(ParamError, match="Unknown model 'nope'"):
        validate_params("nope", {})


def test_every_declared_default_is_valid():
    for model_id, declared in PARAMETERS.items():
        assert validate_params(model_id, {p.name: p.default for p in declared}) == validate_params(model_id, {})


def _panel(rows) -> Panel:
    values = np.vstack(rows)
    return Panel(ids=tuple(f"s{i}" for i in range(len(rows))), values=values, start="2020-01")


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("moving_average", {"window": 2, "trend_weight": 0.0}),
        ("ewma", {"alpha": 0.9, "trend_weight": 1.0}),
        ("exp_smoothing", {"seasonal": "none", "alpha": 0.5, "damped_trend": "false"}),
        ("seasonal_naive", {"season_length": 6}),
        ("arima", {"p": 0, "d": 1, "q": 0}),
        ("theta", {"theta": 1}),
        ("croston", {"alpha": 0.5}),
        ("tsb", {"alpha_demand": 0.5, "alpha_probability": 0.5}),
        ("gradient_boosting", {"max_iter": 50, "max_depth": 2}),
    ],
)
def test_models_honour_validated_parameters(model, params):
    rng = np.random.default_rng(1)
    t = np.arange(48)
    smooth = 100 + 30 * np.sin(2 * np.pi * t / 6) + t + rng.normal(0, 3, 48)
    sporadic = np.where(rng.random(48) < 0.4, rng.integers(5, 30, 48), 0).astype(float)
    sporadic[-2] = 12.0
    panel = _panel([smooth, sporadic])
    default = forecast_panel(panel, h=6, m=12, model=model, params={model: validate_params(model, {})})
    tuned = forecast_panel(panel, h=6, m=12, model=model, params={model: validate_params(model, params)})
    assert tuned.models == default.models
    assert not np.allclose(tuned.forecast, default.forecast)


def test_known_closed_forms_with_parameters():
    series = _panel([np.array([10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120])])
    ma = forecast_panel(
        series, h=2, m=12, model="moving_average", params={"moving_average": {"window": 2, "trend_weight": 0}}
    )
    # weights 1, 2 on the last two points: (110 + 2·120) / 3
    np.testing.assert_allclose(ma.forecast[0], [350 / 3, 350 / 3])
    sn = forecast_panel(series, h=3, m=12, model="seasonal_naive", params={"seasonal_naive": {"season_length": 2}})
    np.testing.assert_allclose(sn.forecast[0], [110, 120, 110])
