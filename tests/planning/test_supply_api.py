"""Supply planning API (API-SUP-01…15), closing a gap over HTTP, and the demand history (API-DEM-16/17)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import AuditEvent
from planning import services
from planning.models import Location, SupplyPlan
from tests.planning import supply_world
from tests.planning.supply_world import APRIL, MARCH, demand, supply

pytestmark = pytest.mark.django_db

API = "/api/v1/supply/plans"


@pytest.fixture
def w(users, api_client_for):
    w = supply_world.build(users)
    w.api = api_client_for(w.planner)
    w.exec_api = api_client_for(w.exec)
    w.client_for = api_client_for
    return w


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response.json()["detail"]["code"] == code
    return response.json()["detail"]


def test_create_defaults_to_main_and_answers_the_representation(w):
    response = w.api.post(API, {"product_id": w.speaker.pk, "period": "2026-03-17", "planned_prod_qty": 120,
                                "capacity_max": "100", "supplier_name": "Acme"}, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["location"], body["location_name"], body["period"], body["status"], body["version"]) == (
        "Main", "Main plant", "2026-03-01", "draft", 1)  # fmt: skip
    assert (body["planned_prod_qty"], body["load_pct"], body["sku"], body["product_name"]) == (
        "120.00", "120.00", "SPK-1", "Speaker")  # fmt: skip
    assert body["allowed_actions"] == ["edit", "record_actual", "submit", "delete"]
    assert body["created_by_name"] == w.planner.full_name
    assert response["ETag"] == 'W/"1"'
    assert AuditEvent.objects.filter(event_type="planning.supply_plan.created", target_id=str(body["id"])).exists()


def test_unknown_location_is_400_and_deactivated_is_409(w):
    body = {"product_id": w.speaker.pk, "period": "2026-03", "location": "NOWHERE"}
    detail = assert_error(w.api.post(API, body, format="json"), 400, "VALIDATION_ERROR")
    assert "location" in detail["fields"]
    Location.objects.filter(pk=w.dc.pk).update(is_active=False)
    assert_error(w.api.post(API, {**body, "location": "DC-B"}, format="json"), 409, "BUSINESS_RULE_VIOLATION")
    assert SupplyPlan.objects.count() == 0


def test_duplicate_key_is_409(w):
    supply(w)
    body = {"product_id": w.speaker.pk, "period": "2026-03", "location": "PLANT-A"}
    assert_error(w.api.post(API, body, format="json"), 409, "DUPLICATE_ENTITY")


def test_patch_with_if_match_versions_and_a_stale_one_is_409(w):
    plan = supply(w)
    response = w.api.patch(f"{API}/{plan.pk}", {"planned_prod_qty": 150, "location": "PLANT-A"}, format="json",
                           HTTP_IF_MATCH='W/"1"')  # fmt: skip
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response["ETag"]) == (2, 'W/"2"')
    assert_error(w.api.patch(f"{API}/{plan.pk}", {"planned_prod_qty": 1}, format="json", HTTP_IF_MATCH='W/"1"'),
                 409, "STALE_VERSION")  # fmt: skip
    assert_error(w.api.patch(f"{API}/{plan.pk}", {"location": "DC-B"}, format="json"), 400, "VALIDATION_ERROR")
    assert_error(w.api.patch(f"{API}/{plan.pk}", {"status": "approved"}, format="json"), 400, "VALIDATION_ERROR")
    assert SupplyPlan.objects.get(pk=plan.pk).planned_prod_qty == Decimal("150")


def test_transitions_over_http_and_self_approval_is_403(w):
    plan = supply(w)
    assert w.api.post(f"{API}/{plan.pk}/submit", {"comment": "go"}, format="json").json()["status"] == "submitted"
    assert_error(w.api.post(f"{API}/{plan.pk}/approve", {}, format="json"), 403, "PERMISSION_DENIED")
    assert_error(w.api.post(f"{API}/{plan.pk}/submit", {}, format="json"), 409, "INVALID_STATE_TRANSITION")
    body = w.exec_api.post(f"{API}/{plan.pk}/approve").json()
    assert (body["status"], body["approved_by"], body["allowed_actions"]) == ("approved", w.exec.pk, ["reopen"])
    assert_error(w.exec_api.post(f"{API}/{plan.pk}/reopen", {}, format="json"), 400, "VALIDATION_ERROR")
    assert w.exec_api.post(f"{API}/{plan.pk}/reopen", {"reason": "Capacity"}, format="json").json()["status"] == "draft"

    own = supply(w, actor=w.admin, period=APRIL)
    admin_api = w.client_for(w.admin)
    admin_api.post(f"{API}/{own.pk}/submit")
    assert_error(admin_api.post(f"{API}/{own.pk}/approve"), 403, "SELF_APPROVAL_FORBIDDEN")


def test_actual_endpoint_versions_endpoint_and_delete(w):
    plan = supply(w)
    services.supply_plan_update(actor=w.planner, plan=plan, data={"capacity_max": Decimal("200")})
    body = w.api.post(f"{API}/{plan.pk}/actual", {"actual_prod_qty": 80}, format="json").json()
    assert (body["actual_prod_qty"], body["version"]) == ("80.00", 2)
    versions = w.api.get(f"{API}/{plan.pk}/versions").json()
    assert next((v["version"], v["changed_fields"]) for v in versions) == (2, ["capacity_max"])
    assert versions[0]["load_pct"] == "50.00"
    response = w.api.delete(f"{API}/{plan.pk}")
    assert response.json() == {"message": "Supply plan deleted successfully"}
    assert not SupplyPlan.objects.filter(pk=plan.pk).exists()
    assert AuditEvent.objects.filter(event_type="planning.supply_plan.deleted").count() == 1


def test_list_filters_and_query_budget(w):
    supply(w)
    supply(w, location=w.dc)
    supply(w, product=w.mower, period=APRIL)

    def ids(query=""):
        response = w.api.get(f"{API}?{query}")
        assert response.status_code == 200, response.content
        return [row["location"] + ":" + row["sku"] for row in response.json()["items"]]

    assert ids() == ["PLANT-A:MOW-1", "DC-B:SPK-1", "PLANT-A:SPK-1"]
    assert ids("location=DC-B") == ["DC-B:SPK-1"]
    assert ids(f"product_id={w.mower.pk}") == ["PLANT-A:MOW-1"]
    assert ids("period_to=2026-03&status=draft") == ["DC-B:SPK-1", "PLANT-A:SPK-1"]
    assert_error(w.api.get(f"{API}?status=nope"), 400, "INVALID_PARAMETER")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert w.api.get(API).status_code == 200
        return len(captured)

    few = queries()
    for month in range(5, 13):
        supply(w, product=w.radio, period=MARCH.replace(month=month))
    assert queries() == few


def test_a_reader_sees_but_cannot_write_and_the_viewer_gets_403(w):
    plan = supply(w)
    finance = w.client_for(w.finance)
    assert finance.get(f"{API}/{plan.pk}").json()["allowed_actions"] == []
    assert_error(finance.patch(f"{API}/{plan.pk}", {"planned_prod_qty": 1}, format="json"), 403, "PERMISSION_DENIED")
    viewer = w.client_for(w.viewer)
    assert_error(viewer.get(API), 403, "PERMISSION_DENIED")
    assert_error(viewer.get("/api/v1/supply/gap-analysis"), 403, "PERMISSION_DENIED")


def test_gap_analysis_and_close_over_http(w):
    demand(w, forecast_qty=Decimal("150"))
    plan = supply(w, planned_prod_qty=Decimal("100"))
    items = w.api.get("/api/v1/supply/gap-analysis?period=2026-03").json()
    assert [(i["sku"], i["coverage_gap_qty"], i["gap_pct"], i["status"]) for i in items] == [
        ("SPK-1", "-50.00", "-33.33", "critical")]  # fmt: skip
    assert_error(w.api.get("/api/v1/supply/gap-analysis?period=2026-01&period_to=2028-01"), 400, "INVALID_PARAMETER")
    reader = w.client_for(w.finance)
    assert_error(reader.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-03"},
                             format="json"), 403, "PERMISSION_DENIED")  # fmt: skip
    response = w.api.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-03"},
                          format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["planned_prod_qty"], body["version"], body["location"]) == (plan.pk, "150.00", 2,
                                                                                           "PLANT-A")  # fmt: skip
    again = w.api.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-03"},
                       format="json")  # fmt: skip
    assert_error(again, 409, "BUSINESS_RULE_VIOLATION")
    bad = w.api.post("/api/v1/supply/gap-analysis/close", {"product_id": w.speaker.pk, "period": "2026-03",
                                                            "location": "NOWHERE"}, format="json")  # fmt: skip
    assert_error(bad, 400, "VALIDATION_ERROR")


def test_demand_history_and_its_csv_export(w):
    demand(w, region="EU", channel="Retail", forecast_qty=Decimal("10"), actual_qty=Decimal("9"))
    demand(w, region="=cmd", channel="Retail", forecast_qty=Decimal("5"))
    api = w.client_for(w.demand_planner)
    points = api.get(f"/api/v1/demand/history?product_id={w.speaker.pk}&months=120").json()
    assert [(p["period"], p["forecast_qty"], p["actual_qty"], p["region"], p["status"]) for p in points] == [
        ("2026-03-01", "15.00", "9.00", "Global", "draft")]  # fmt: skip
    assert_error(api.get("/api/v1/demand/history"), 400, "INVALID_PARAMETER")
    assert_error(api.get("/api/v1/demand/history?product_id=999999"), 404, "NOT_FOUND")

    query = f"product_id={w.speaker.pk}&region==cmd&channel=Retail&months=120"
    response = api.get(f"/api/v1/demand/history/export?{query}", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="demand_history_product_{w.speaker.pk}.csv"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == ["period,forecast_qty,actual_qty,consensus_qty,region,channel,status",
                     "2026-03-01,5.00,,,'=cmd,Retail,draft"]  # fmt: skip


def test_location_detail_counts_its_current_supply_plans(w):
    plan = supply(w)
    services.supply_plan_update(actor=w.planner, plan=plan, data={"planned_prod_qty": Decimal("1")})
    supply(w, period=APRIL)
    body = w.client_for(w.admin).get(f"/api/v1/locations/{w.plant.pk}").json()
    assert body["supply_plan_rows"] == 2  # the history row does not count
