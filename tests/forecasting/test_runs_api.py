"""Generation, runs and results over the API (API-FC-01…03, 11…16, 36)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from forecasting.models import Forecast, ForecastConsensus, ForecastRun
from governance.models import AuditEvent
from tests.factories import ProductFactory
from tests.forecasting.builders import make_run
from tests.forecasting.history_data import seasonal, write_actuals

pytestmark = pytest.mark.django_db
API = "/api/v1/forecasting"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def planner(users):
    return client_for(users["demand_planner"])


@pytest.fixture
def product():
    product = ProductFactory()
    write_actuals(product, seasonal(26))
    return product


def test_models_lists_the_catalogue(planner):
    response = planner.get(f"{API}/models")
    assert response.status_code == 200
    by_id = {row["id"]: row for row in response.json()}
    assert {"moving_average", "ewma", "exp_smoothing", "seasonal_naive", "arima", "theta"} <= set(by_id)
    window = {p["name"]: p for p in by_id["moving_average"]["parameters"]}["window"]
    assert window["default"] == 6
    assert by_id["exp_smoothing"]["fallback"] == "moving_average"


def test_generate_answers_201_with_the_generate_response(planner, product):
    response = planner.post(f"{API}/generate", {"product_id": product.pk, "horizon": 3}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    run = ForecastRun.objects.get()
    assert body["run_id"] == run.pk
    assert (body["product_id"], body["region"], body["channel"]) == (product.pk, "Global", "All")
    assert body["model_type"] == run.model_used
    assert body["horizon"] == 3
    diagnostics = body["diagnostics"]
    assert diagnostics["run_audit_id"] == run.pk
    assert diagnostics["advisor_enabled"] is False
    assert diagnostics["history_months"] == 26
    assert set(diagnostics) >= {"selected_model", "model_used", "selection_reason", "advisor_confidence",
                                "fallback_used", "fallback_chain", "selected_model_params", "warnings",
                                "demand_pattern", "candidate_metrics", "data_quality_flags"}  # fmt: skip
    assert [f["lag"] for f in body["forecasts"]] == [1, 2, 3]
    first = body["forecasts"][0]
    assert isinstance(first["predicted_qty"], str)
    assert Decimal(first["lower_bound"]) <= Decimal(first["predicted_qty"]) <= Decimal(first["upper_bound"])
    assert first["interval_level"] == "95.00"


def test_generate_takes_parameters_from_the_query_string(planner, product):
    url = f"{API}/generate?product_id={product.pk}&horizon=2&model_type=ewma&model_params=%7B%22alpha%22%3A0.5%7D"
    response = planner.post(url, {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["diagnostics"]["selected_model_params"]["alpha"] == 0.5


def test_the_same_parameter_given_twice_differently_is_400(planner, product):
    response = planner.post(f"{API}/generate?horizon=2", {"product_id": product.pk, "horizon": 3}, format="json")
    assert response.status_code == 400
    assert "horizon" in response.json()["detail"]["fields"]


def test_generate_with_too_little_history_is_422(planner):
    short = ProductFactory()
    write_actuals(short, [4, 5])
    response = planner.post(f"{API}/generate", {"product_id": short.pk}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "INSUFFICIENT_DATA"
    assert response.json()["detail"]["message"] == "Forecasting requires 3 history months, found 2"


def test_generate_with_unknown_parameters_is_400(planner, product):
    body = {"product_id": product.pk, "model_type": "ewma", "model_params": {"beta": 1}}
    response = planner.post(f"{API}/generate", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "VALIDATION_ERROR"
    unknown = planner.post(f"{API}/generate", {"product_id": product.pk, "model_type": "nope"}, format="json")
    assert unknown.status_code == 400
    assert ForecastRun.objects.count() == 0


def test_generate_for_an_unknown_product_is_404(planner):
    assert planner.post(f"{API}/generate", {"product_id": 999999}, format="json").status_code == 404


def test_recommendation_returns_diagnostics_without_a_run(planner, product):
    response = planner.post(f"{API}/recommendation", {"product_id": product.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["diagnostics"]["selected_model"]
    assert ForecastRun.objects.count() == 0


def test_viewers_cannot_read_forecasting(users, product):
    viewer = client_for(users["viewer"])
    for path in ("/runs", "/results", "/models"):
        assert viewer.get(f"{API}{path}").status_code == 403


def test_runs_list_is_paginated_and_filtered(planner, product):
    other = ProductFactory()
    make_run(product, as_of=date(2026, 1, 1), predictions=[1, 2], model="ewma")
    newest = make_run(product, as_of=date(2026, 2, 1), predictions=[1, 2], model="theta")
    make_run(other, as_of=date(2026, 2, 1), predictions=[1, 2])
    body = planner.get(f"{API}/runs", {"product_id": product.pk}).json()
    assert body["total"] == 2
    assert body["items"][0]["id"] == newest.pk
    assert body["items"][0]["sku"] == product.sku
    assert planner.get(f"{API}/runs", {"model": "ewma"}).json()["total"] == 1
    assert planner.get(f"{API}/runs", {"as_of_from": "2026-02"}).json()["total"] == 2
    assert planner.get(f"{API}/runs", {"fallback_used": "maybe"}).status_code == 400


def test_run_detail_carries_diagnostics_and_results(planner, product):
    run = make_run(product, as_of=date(2026, 2, 1), predictions=[10, 20, 30])
    body = planner.get(f"{API}/runs/{run.pk}").json()
    assert body["diagnostics"]["run_audit_id"] == run.pk
    assert [r["lag"] for r in body["results"]] == [1, 2, 3]
    assert planner.get(f"{API}/runs/999999").status_code == 404


def test_results_show_the_latest_run_per_series_and_model(planner, product):
    old = make_run(product, as_of=date(2026, 1, 1), predictions=[1, 1], model="ewma")
    new = make_run(product, as_of=date(2026, 2, 1), predictions=[2, 2], model="ewma")
    theta = make_run(product, as_of=date(2026, 1, 1), predictions=[3, 3], model="theta")
    detail = make_run(product, as_of=date(2026, 1, 1), predictions=[4], model="ewma", region="EU", channel="Web")
    rows = planner.get(f"{API}/results", {"product_id": product.pk}).json()
    assert {r["run_id"] for r in rows} == {new.pk, theta.pk, detail.pk}
    assert [r["period"] for r in rows] == sorted(r["period"] for r in rows)
    everything = planner.get(f"{API}/results", {"product_id": product.pk, "current_only": "false"}).json()
    assert {r["run_id"] for r in everything} == {old.pk, new.pk, theta.pk, detail.pk}
    by_run = planner.get(f"{API}/results", {"run_id": old.pk}).json()
    assert {r["run_id"] for r in by_run} == {old.pk}
    row = rows[0]
    assert row["run_audit_id"] == row["run_id"]
    assert row["discarded"] is False
    assert set(row) >= {"selection_reason", "advisor_confidence", "advisor_enabled", "fallback_used",
                        "model_params", "warnings", "created_at", "confidence", "mape", "rmse"}  # fmt: skip


def test_discarding_every_row_of_the_latest_run_brings_back_the_previous_one(planner, product):
    old = make_run(product, as_of=date(2026, 1, 1), predictions=[1, 1], model="ewma")
    new = make_run(product, as_of=date(2026, 2, 1), predictions=[2, 2], model="ewma")
    for row in new.results.all():
        assert planner.delete(f"{API}/results/{row.pk}").status_code == 204
    new.refresh_from_db()
    assert new.discarded_at is not None
    rows = planner.get(f"{API}/results", {"product_id": product.pk}).json()
    assert {r["run_id"] for r in rows} == {old.pk}
    with_discarded = planner.get(f"{API}/results", {"run_id": new.pk, "include_discarded": "true"}).json()
    assert all(r["discarded"] for r in with_discarded)
    assert len(with_discarded) == 2
    assert AuditEvent.objects.filter(event_type="forecasting.result.discarded").count() == 2
    assert planner.delete(f"{API}/results/{row.pk}").status_code == 204  # again: nothing changes
    assert AuditEvent.objects.filter(event_type="forecasting.result.discarded").count() == 2


def test_discarding_one_row_keeps_its_run(planner, product):
    run = make_run(product, as_of=date(2026, 2, 1), predictions=[2, 2])
    row = run.results.first()
    planner.delete(f"{API}/results/{row.pk}")
    run.refresh_from_db()
    assert run.discarded_at is None
    row.refresh_from_db()
    assert row.discarded_by is not None


def _consensus(run, period, status, version=1):
    return ForecastConsensus.objects.create(forecast_run=run, product=run.product, period=period, baseline_qty=1,
                                            pre_consensus_qty=1, final_consensus_qty=1, status=status)  # fmt: skip


def test_discarding_a_product_deletes_open_consensus_and_keeps_decisions(planner, product):
    run = make_run(product, as_of=date(2026, 1, 1), predictions=[1, 2, 3, 4])
    other = make_run(ProductFactory(), as_of=date(2026, 1, 1), predictions=[1])
    _consensus(run, date(2026, 1, 1), "draft")
    _consensus(run, date(2026, 2, 1), "proposed")
    _consensus(run, date(2026, 3, 1), "approved")
    _consensus(run, date(2026, 4, 1), "superseded")
    response = planner.delete(f"{API}/results/by-product/{product.pk}")
    assert response.status_code == 200, response.content
    assert response.json() == {"product_id": product.pk, "deleted": 6, "forecasts_deleted": 4,
                               "consensus_deleted": 2, "consensus_retained": 2}  # fmt: skip
    assert set(ForecastConsensus.objects.values_list("status", flat=True)) == {"approved", "superseded"}
    assert not Forecast.objects.filter(run=run, discarded_at__isnull=True).exists()
    assert Forecast.objects.filter(run=other, discarded_at__isnull=True).count() == 1
    run.refresh_from_db()
    assert run.discarded_at is not None
    assert planner.get(f"{API}/results", {"product_id": product.pk}).json() == []
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.deleted").count() == 2
    assert planner.delete(f"{API}/results/by-product/999999").status_code == 404


def test_result_detail(planner, product):
    row = make_run(product, as_of=date(2026, 2, 1), predictions=[5]).results.get()
    body = planner.get(f"{API}/results/{row.pk}").json()
    assert body["id"] == row.pk
    assert body["predicted_qty"] == "5.00"
    assert planner.get(f"{API}/results/999999").status_code == 404


def test_too_many_result_rows_ask_for_narrower_filters(planner, product, settings):
    make_run(product, as_of=date(2026, 2, 1), predictions=[1, 2, 3])
    settings.API_LIST_MAX_ROWS = 2
    response = planner.get(f"{API}/results")
    assert response.status_code == 400
    assert "narrow" in response.json()["detail"]["message"]
    assert planner.get(f"{API}/results", {"period_to": "2026-03"}).status_code == 200


def test_results_export_as_csv_and_xlsx(planner, product):
    make_run(product, as_of=date(2026, 2, 1), predictions=[5, 6])
    response = planner.get(f"{API}/results/export", {"product_id": product.pk, "format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["predicted_qty"] for r in rows] == ["5.00", "6.00"]
    assert rows[0]["sku"] == product.sku
    xlsx = planner.get(f"{API}/results/export", {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert planner.get(f"{API}/results/export", {"format": "pdf"}).status_code == 400
    assert AuditEvent.objects.filter(event_type="planning.data.exported", target_id="forecasts").count() == 2


def test_object_scopes_limit_runs_results_and_generation(users, product):
    from governance.services.scopes import user_scopes_set

    outside = ProductFactory()
    write_actuals(outside, seasonal(26))
    scoped = users["supply_planner"]
    user_scopes_set(actor=users["admin"], user=scoped,
                    scopes=[{"type": "category", "id": product.category_id, "access": "change"}])  # fmt: skip
    mine = make_run(product, as_of=date(2026, 2, 1), predictions=[1])
    theirs = make_run(outside, as_of=date(2026, 2, 1), predictions=[1])
    client = client_for(scoped)
    assert [r["id"] for r in client.get(f"{API}/runs").json()["items"]] == [mine.pk]
    assert client.get(f"{API}/runs/{theirs.pk}").status_code == 404
    assert {r["run_id"] for r in client.get(f"{API}/results").json()} == {mine.pk}
    assert client.get(f"{API}/results/{theirs.results.get().pk}").status_code == 404
    assert client.delete(f"{API}/results/{theirs.results.get().pk}").status_code == 404
    assert client.post(f"{API}/generate", {"product_id": outside.pk}, format="json").status_code == 404
    assert client.delete(f"{API}/results/by-product/{outside.pk}").status_code == 404
    assert client.post(f"{API}/generate", {"product_id": product.pk, "horizon": 1}, format="json").status_code == 201
