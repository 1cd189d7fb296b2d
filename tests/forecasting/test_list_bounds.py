"""The forecasting lists sent as plain arrays (API-FC-13 results, API-FC-27 consensus) are bounded.

Above API_LIST_MAX_ROWS matching rows they answer 400 INVALID_PARAMETER asking for narrower filters;
at or below it they answer exactly what they answered before; their exports (API-FC-36/37) are not
limited; and what a list costs the database does not grow with its rows.
"""

import csv
import io
from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator

from forecasting import services
from governance.choices import Role
from planning import services as planning
from tests.forecasting.builders import make_run

pytestmark = pytest.mark.django_db

API = "/api/v1/forecasting"
P1, P2, P3 = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    return SimpleNamespace(
        admin=admin, planner=users[Role.DEMAND_PLANNER], category=planning.category_create(actor=admin, name="Audio"),
        planner_api=api_client_for(users[Role.DEMAND_PLANNER]), finance_api=api_client_for(users[Role.FINANCE_ANALYST]),
        products=0,
    )  # fmt: skip


def add_series(w):
    """A product with a three-period run and consensus rows on it: one proposed, one draft edited
    into version 2 (a history row), one draft."""
    w.products += 1
    product = planning.product_create(
        actor=w.admin, data={"sku": f"SPK-{w.products}", "name": f"Speaker {w.products}", "category": w.category}
    )
    run = make_run(product, as_of=P1, predictions=[100, 110, 120])
    rows = [services.consensus_create(actor=w.planner, data={"forecast_run_audit_id": run.pk, "period": p})
            for p in (P1, P2, P3)]  # fmt: skip
    services.consensus_propose(actor=w.planner, consensus=rows[0])
    services.consensus_update(actor=w.planner, consensus=rows[1], data={"sales_override_qty": 5})
    return product, run


def too_many(response, limit: int) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == body["detail"]["code"] == "INVALID_PARAMETER"
    assert "narrow" in body["error"]["message"]
    assert f"more than {limit:,}" in body["error"]["message"]
    assert body["error"]["details"]["limit"] == limit
    assert body["detail"]["context"] == {"limit": limit}


# API-FC-27 consensus ------------------------------------------------------------------------------


def test_consensus_above_the_limit_is_400_and_narrower_filters_answer(w):
    add_series(w)
    with override_settings(API_LIST_MAX_ROWS=2):
        too_many(w.finance_api.get(f"{API}/consensus"), 2)
        narrowed = w.finance_api.get(f"{API}/consensus", {"period_to": "2027-02"})
        assert narrowed.status_code == 200, narrowed.content
        assert [(r["period"], r["version"]) for r in narrowed.json()] == [("2027-01-01", 1), ("2027-02-01", 2)]
        # History rows count towards the limit like any other matching row.
        too_many(w.finance_api.get(f"{API}/consensus", {"period_to": "2027-02", "include_history": "true"}), 2)


def test_consensus_at_the_limit_is_the_same_array_as_without_one(w):
    add_series(w)
    unlimited = w.finance_api.get(f"{API}/consensus", {"include_history": "true"})
    assert unlimited.status_code == 200
    assert len(unlimited.json()) == 4
    with override_settings(API_LIST_MAX_ROWS=4):
        assert w.finance_api.get(f"{API}/consensus", {"include_history": "true"}).json() == unlimited.json()


def test_consensus_list_shows_each_row_with_the_actions_its_detail_shows(w):
    add_series(w)
    listed = w.planner_api.get(f"{API}/consensus", {"include_history": "true"}).json()
    assert {r["status"] for r in listed} == {"proposed", "draft"}
    for row in listed:
        detail = w.planner_api.get(f"{API}/consensus/{row['id']}").json()
        assert row == detail
    by_period = {(r["period"], r["version"]): r for r in listed}
    assert by_period[("2027-01-01", 1)]["proposed_by_name"] == w.planner.full_name
    assert by_period[("2027-03-01", 1)]["allowed_actions"] == ["edit", "propose", "delete"]
    assert by_period[("2027-02-01", 1)]["allowed_actions"] == []  # a history row


def test_consensus_export_is_not_limited(w):
    add_series(w)
    with override_settings(API_LIST_MAX_ROWS=1):
        export = w.finance_api.get(f"{API}/consensus/export", {"format": "csv"})
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [r["period"] for r in rows] == ["2027-01-01", "2027-02-01", "2027-03-01"]


def test_consensus_list_query_count_does_not_grow_with_rows(w):
    add_series(w)
    w.finance_api.get(f"{API}/consensus")  # the first call of a token also records its use
    with CaptureQueriesContext(connection) as few:
        assert len(w.finance_api.get(f"{API}/consensus", {"include_history": "true"}).json()) == 4
    for _ in range(3):
        add_series(w)
    with CaptureQueriesContext(connection) as many:
        assert len(w.finance_api.get(f"{API}/consensus", {"include_history": "true"}).json()) == 16
    assert len(many) == len(few)


# API-FC-13 results --------------------------------------------------------------------------------


def test_results_above_the_limit_are_400_with_the_same_body(w):
    product, _ = add_series(w)
    with override_settings(API_LIST_MAX_ROWS=2):
        too_many(w.planner_api.get(f"{API}/results"), 2)
        narrowed = w.planner_api.get(f"{API}/results", {"product_id": product.pk, "period_to": "2027-02"})
        assert narrowed.status_code == 200
        assert [r["predicted_qty"] for r in narrowed.json()] == ["100.00", "110.00"]


def test_results_at_the_limit_are_the_same_array_as_without_one(w):
    add_series(w)
    unlimited = w.planner_api.get(f"{API}/results").json()
    assert len(unlimited) == 3
    with override_settings(API_LIST_MAX_ROWS=3):
        assert w.planner_api.get(f"{API}/results").json() == unlimited


def test_results_export_is_not_limited(w):
    add_series(w)
    with override_settings(API_LIST_MAX_ROWS=1):
        export = w.planner_api.get(f"{API}/results/export", {"format": "csv"})
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [r["predicted_qty"] for r in rows] == ["100.00", "110.00", "120.00"]


def test_results_list_query_count_does_not_grow_with_rows(w):
    add_series(w)
    w.planner_api.get(f"{API}/results")
    with CaptureQueriesContext(connection) as few:
        assert len(w.planner_api.get(f"{API}/results").json()) == 3
    for _ in range(3):
        _, run = add_series(w)
    make_run(run.product, as_of=P1, predictions=[1, 2, 3], model="ewma")  # a second model of one series
    with CaptureQueriesContext(connection) as many:
        body = w.planner_api.get(f"{API}/results").json()
    assert len(body) == 15
    assert len(many) == len(few)
    assert not any("candidate_metrics" in q["sql"] for q in many.captured_queries)


# OpenAPI ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


@pytest.mark.parametrize("path", ["/forecasting/consensus/", "/forecasting/results/", "/inventory/exceptions/"])
def test_the_schema_documents_the_row_limit(schema, path):
    operation = schema["paths"][f"/api/v1{path}"]["get"]
    assert "10,000" in operation["description"]
    assert "API_LIST_MAX_ROWS" in operation["responses"]["400"]["description"]
