"""API-SCN-14…17: side-by-side comparison with deltas, the trade-off summary and the comparison export."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from governance.models import AuditEvent
from planning import events
from planning.services import scenarios as svc
from tests.planning.test_scenarios_world import audio_scope, build_world

pytestmark = pytest.mark.django_db
API = "/api/v1/scenarios"


@pytest.fixture
def w(users):
    return build_world(users)


@pytest.fixture
def reader(w):
    c = APIClient()
    c.force_login(w.finance)
    return c


def run(w, name, **params):
    scenario = svc.scenario_create(actor=w.demand, data={"name": name, "scope": audio_scope(w),
                                                         "parameters": {"period": "2026-03", **params}})  # fmt: skip
    return svc.scenario_run(actor=w.demand, scenario=scenario)


@pytest.fixture
def three(w):
    shortage = run(w, "Shortage", demand_change_pct=-10, supply_capacity_pct=-20, price_change_pct=5,
                   inventory_release_pct=50)  # fmt: skip
    excess = run(w, "Excess", supply_capacity_pct=50)
    draft = svc.scenario_create(actor=w.demand, data={"name": "Not run", "parameters": {"period": "2026-03"}})
    return shortage, excess, draft


def test_compare_answers_in_the_order_asked_with_deltas_against_the_first(reader, three):
    shortage, excess, draft = three
    response = reader.post(f"{API}/compare", [shortage.pk, excess.pk, draft.pk], format="json")
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [r["id"] for r in rows] == [shortage.pk, excess.pk, draft.pk]
    first, second, third = rows
    assert first["revenue_impact"] == -154
    assert first["margin_impact"] == 14
    assert first["inventory_impact"] == -126
    assert first["service_level_impact"] == 1.67
    assert first["composite_score"] == 0.77
    assert first["baseline"]["demand_qty"] == 200
    assert first["scenario"]["revenue"] == 2646
    assert first["deltas"] == {"demand_qty": 0, "supply_qty": 0, "revenue": 0, "margin": 0, "inventory_value": 0,
                               "service_level": 0, "composite_score": 0}  # fmt: skip
    # Excess minus shortage: demand 200 - 180; supply 225 - 120; revenue 2 800 - 2 646; margin 1 120 - 1 134;
    # value 762 - 174; service 100 - 91.67; composite 4.36 - 0.77.
    assert second["deltas"] == {"demand_qty": 20, "supply_qty": 105, "revenue": 154, "margin": -14,
                                "inventory_value": 588, "service_level": 8.33, "composite_score": 3.59}  # fmt: skip
    assert third["deltas"] == dict.fromkeys(first["deltas"])
    assert third["baseline"] == {}
    assert third["composite_score"] is None


def test_compare_accepts_an_object_and_get_with_ids(reader, three):
    shortage, excess, _ = three
    by_object = reader.post(f"{API}/compare", {"scenario_ids": [excess.pk, shortage.pk]}, format="json").json()
    by_query = reader.get(f"{API}/compare?ids={excess.pk},{shortage.pk}").json()
    assert by_object == by_query
    assert by_query[1]["deltas"]["revenue"] == -154


@pytest.mark.parametrize("body", [[], [1], {"scenario_ids": [1]}, [1, 2, 3, 4, 5, 6, 7], "x", ["a", "b"]])
def test_compare_needs_two_to_six_ids(reader, body):
    assert reader.post(f"{API}/compare", body, format="json").status_code == 400


def test_compare_of_an_unknown_id_is_404(reader, three):
    assert reader.get(f"{API}/compare?ids={three[0].pk},999999").status_code == 404


def test_tradeoff_summary_of_a_run_and_a_draft(reader, three):
    shortage, _, draft = three
    body = reader.get(f"{API}/{shortage.pk}/tradeoff-summary").json()
    assert body == {
        "scenario_id": shortage.pk, "status": "completed", "period": "2026-03-01",
        "tradeoff": {"inventory_carrying_cost": 0, "stockout_penalty_cost": 52.5, "working_capital_delta": -126,
                     "composite_score": 0.77, "open_inventory_exceptions": 2, "high_risk_exception_count": 1},
        "service_level": {"baseline": 90, "scenario": 91.67, "delta": 1.67},
    }  # fmt: skip
    body = reader.get(f"{API}/{draft.pk}/tradeoff-summary").json()
    assert body == {
        "scenario_id": draft.pk,
        "status": "draft",
        "message": "Scenario has no computed results yet. Run the scenario first.",
        "tradeoff": None,
    }


def test_compare_export_csv_and_xlsx_are_audited(reader, three):
    shortage, excess, _ = three
    response = reader.get(f"{API}/compare/export?ids={shortage.pk},{excess.pk}&format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == ["Shortage", "Excess"]
    assert rows[0]["revenue_impact"] == "-154.0"
    assert rows[1]["delta_supply_qty"] == "105.0"
    response = reader.get(f"{API}/compare/export?ids={shortage.pk},{excess.pk}&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(event_type=events.DATA_EXPORTED, target_id="scenario_comparison").count() == 2
    assert reader.get(f"{API}/compare/export?ids={shortage.pk}").status_code == 400
    assert reader.get(f"{API}/compare/export?ids={shortage.pk},{excess.pk}&format=pdf").status_code == 400
