"""Out-of-range input is 400 with the error body, not a 500 or a nonsense answer (found by API fuzzing)."""

import io

import pytest

pytestmark = pytest.mark.django_db

BEYOND_BIGINT = 2**63


def _fields(response) -> dict:
    body = response.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["detail"]["fields"] == body["error"]["details"]["fields"]
    return body["error"]["details"]["fields"]


@pytest.mark.parametrize(
    "body",
    [[1, BEYOND_BIGINT], {"scenario_ids": [BEYOND_BIGINT, 2]}, [0, 1], [-5, 3]],
    ids=["list-beyond-bigint", "object-beyond-bigint", "zero", "negative"],
)
def test_comparing_scenario_ids_outside_the_id_range_is_400(admin_api, body):
    response = admin_api.post("/api/v1/scenarios/compare", body, format="json")
    assert response.status_code == 400, response.content
    assert "is not a scenario id" in _fields(response)["scenario_ids"][0]


def test_the_comparison_query_and_export_refuse_an_id_beyond_bigint_too(admin_api):
    for path in ("/api/v1/scenarios/compare", "/api/v1/scenarios/compare/export"):
        response = admin_api.get(path, {"ids": f"1,{BEYOND_BIGINT}"})
        assert response.status_code == 400, (path, response.content)
        assert "scenario_ids" in _fields(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [({"period_from": "0500-05"}, "period_from"), ({"period_from": "1999-12-01"}, "period_from"),
     ({"period_to": "2101-01"}, "period_to")],
)  # fmt: skip
def test_a_kpi_refresh_outside_the_planning_years_is_400(admin_api, body, field):
    response = admin_api.post("/api/v1/kpi/refresh", body, format="json")
    assert response.status_code == 400, response.content
    assert _fields(response)[field] == ["Periods lie between 2000-01 and 2100-12."]


def test_a_kpi_refresh_inside_the_planning_years_still_runs(admin_api):
    response = admin_api.post("/api/v1/kpi/refresh", {"period_from": "2000-01", "period_to": "2000-02"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["periods"] == ["2000-01-01", "2000-02-01"]


@pytest.mark.parametrize(
    ("path", "body"),
    [("/api/v1/integrations/erp/products/sync", {"meta": {"source_system": "S\x00P"}, "items": []}),
     ("/api/v1/integrations/erp/products/sync", {"meta": {"source_system": "SAP"}, "items": [{"sku\x00": "1"}]}),
     ("/api/v1/products", {"sku": "NUL-1", "name": "Nul\x00name"})],
    ids=["envelope-value", "item-key", "product-name"],
)  # fmt: skip
def test_a_nul_character_anywhere_in_a_json_body_is_400_and_nothing_is_written(admin_api, path, body):
    from planning.models import IntegrationBatch, Product

    response = admin_api.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "NUL" in response.json()["error"]["message"]
    assert not IntegrationBatch.objects.exists()
    assert not Product.objects.filter(sku="NUL-1").exists()


def test_integration_batch_instants_are_compared_in_utc(admin_api):
    response = admin_api.get("/api/v1/integrations/batches", {"from": "2020-01-01T00:00:00+21:30"})
    assert response.status_code == 200, response.content
    response = admin_api.get("/api/v1/integrations/batches", {"to": "0001-01-01T00:00:00+00:01"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "INVALID_PARAMETER"


def test_kpi_trends_refuse_a_nul_character_in_a_metric_name(admin_api):
    response = admin_api.get("/api/v1/kpi/trends", {"metric_name": "forecast\x00accuracy"})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"]["fields"] == {"metric_name": ["Must not contain the NUL character."]}


def test_an_xlsx_export_drops_control_characters_xml_cannot_carry(admin_api, admin_user):
    from openpyxl import load_workbook

    from planning import services as catalog

    catalog.product_create(actor=admin_user, data={"sku": "CTL-1", "name": "Bell\x07name\x1f"})
    response = admin_api.get("/api/v1/products/export", {"format": "xlsx"})
    assert response.status_code == 200, response.content
    body = response.getvalue() if not response.streaming else b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(body)).active
    cells = {value for row in sheet.iter_rows(min_row=2, values_only=True) for value in row}
    assert "Bellname" in cells
