"""Model comparison (FC-40…43, API-FC-21/22): shape, ranking, parameter grids, errors."""

import json

import pytest
from rest_framework.test import APIClient

from forecasting.models import ForecastRun
from tests.factories import ProductFactory
from tests.forecasting.history_data import months_back, seasonal, write_actuals

pytestmark = pytest.mark.django_db
API = "/api/v1/forecasting"


@pytest.fixture
def reader(users):
    client = APIClient()
    client.force_login(users["finance_analyst"])
    return client


@pytest.fixture
def product():
    product = ProductFactory()
    write_actuals(product, seasonal(30))
    return product


def test_comparison_ranks_the_requested_models_by_score(reader, product):
    query = f"product_id={product.pk}&models=moving_average,ewma&models=seasonal_naive&models=nope&test_months=4"
    response = reader.get(f"{API}/model-comparison?{query}&horizon=2")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["product_id"] == product.pk
    assert (body["region"], body["channel"]) == ("Global", "All")
    assert body["history_months"] == 30
    assert body["test_months"] == 4
    assert body["min_train_months"] == 6
    assert body["ignored_models"] == ["nope"]
    assert body["parameter_grid_used"] == {}
    assert body["demand_pattern"] == "smooth"
    models = body["models"]
    assert {m["model_type"] for m in models} == {"moving_average", "ewma", "seasonal_naive"}
    assert [m["rank"] for m in models] == [1, 2, 3]
    scores = [m["score"] for m in models]
    assert scores == sorted(scores)
    row = models[0]
    assert set(row) >= {"mape", "smape", "wape", "rmse", "nrmse_pct", "mae", "mdae", "r2", "bias", "hit_rate",
                        "mase", "tracking_signal", "period_count", "score", "best_params", "series"}  # fmt: skip
    assert [p["period"] for p in row["series"]] == [months_back(i).isoformat() for i in (3, 2, 1, 0)]
    # 4 origins, two steps each except the last origin (one month left)
    assert row["period_count"] == 7
    assert [(s["step"], s["count"]) for s in row["by_step"]] == [(1, 4), (2, 3)]


def test_default_comparison_covers_every_available_model_and_the_ensemble(reader, product):
    body = reader.post(f"{API}/compare", {"product_id": product.pk}, format="json").json()
    names = [m["model_type"] for m in body["models"]]
    assert {"moving_average", "exp_smoothing", "theta", "ensemble"} <= set(names)
    assert "prophet" not in names
    assert ForecastRun.objects.count() == 0


def test_parameter_grid_keeps_the_best_parameters(reader, product):
    grid = {"ewma": [{"alpha": 0.1}, {"alpha": 0.9}]}
    body = {"product_id": product.pk, "models": ["ewma"], "parameter_grid": grid, "include_parameter_results": True}
    response = reader.post(f"{API}/compare", body, format="json")
    assert response.status_code == 200, response.content
    row = response.json()["models"][0]
    tried = row["parameter_results"]
    assert [t["params"]["alpha"] for t in tried] == [0.1, 0.9]
    best = min(tried, key=lambda t: t["score"])
    assert row["best_params"] == best["params"]
    assert row["score"] == best["score"]
    assert response.json()["parameter_grid_used"]["ewma"][0]["alpha"] == 0.1


def test_grid_in_the_query_string_is_json(reader, product):
    grid = json.dumps({"moving_average": [{"window": 3}]})
    response = reader.get(f"{API}/model-comparison", {"product_id": product.pk, "models": "moving_average",
                                                       "parameter_grid": grid})  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["models"][0]["best_params"]["window"] == 3


@pytest.mark.parametrize(
    "grid",
    [{"ewma": [{"alpha": 5}]}, {"ewma": [{"nope": 1}]}, {"ewma": {"alpha": 0.2}}, {"no_model": [{}]}, "[1]"],
)
def test_a_bad_grid_is_400(reader, product, grid):
    response = reader.post(f"{API}/compare", {"product_id": product.pk, "parameter_grid": grid}, format="json")
    assert response.status_code == 400


def test_bounds_are_checked(reader, product):
    assert reader.get(f"{API}/model-comparison", {"product_id": product.pk, "test_months": 0}).status_code == 400
    assert reader.get(f"{API}/model-comparison", {"product_id": product.pk, "min_train_months": 2}).status_code == 400
    assert reader.get(f"{API}/model-comparison").status_code == 400


def test_a_short_series_is_422(reader):
    short = ProductFactory()
    write_actuals(short, [1, 2, 3, 4, 5, 6])
    response = reader.get(f"{API}/model-comparison", {"product_id": short.pk})
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "INSUFFICIENT_DATA"


def test_viewer_cannot_compare(users, product):
    client = APIClient()
    client.force_login(users["viewer"])
    assert client.post(f"{API}/compare", {"product_id": product.pk}, format="json").status_code == 403
