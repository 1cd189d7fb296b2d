"""Responses the OpenAPI schema used to describe wrongly (found by API fuzzing), each checked both ways:
what the schema documents and what the endpoint sends."""

from datetime import date

import pytest
from drf_spectacular.generators import SchemaGenerator

from genxsop.api.schema import XLSX_MEDIA_TYPE
from governance.services.cycles import cycle_create
from planning import services as catalog
from tests.factories import ProductFactory

API = "/api/v1"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def _ok_schema(schema, path: str, method: str = "get") -> dict:
    body = schema["paths"][API + path]["get" if method == "get" else method]["responses"]["200"]
    found = body["content"]["application/json"]["schema"]
    if "$ref" in found:
        found = schema["components"]["schemas"][found["$ref"].rsplit("/", 1)[1]]
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/audit/logs/", "/integrations/batches/", "/integrations/erp/outbox/"])
def test_hand_paginated_lists_are_documented_as_the_paginated_envelope(schema, admin_api, path):
    documented = _ok_schema(schema, path)
    assert set(documented["required"]) == {"items", "total", "page", "page_size", "total_pages"}
    body = admin_api.get(API + path).json()
    assert set(body) == {"items", "total", "page", "page_size", "total_pages"}


def test_the_entity_history_is_documented_as_the_paginated_envelope(schema):
    documented = _ok_schema(schema, "/audit/entity/{entity_type}/{entity_id}/")
    assert documented["properties"]["items"]["type"] == "array"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/sop-cycles/{id}/decisions/", "/sop-cycles/{id}/action-items/"])
def test_a_cycles_decisions_and_action_items_are_documented_as_the_plain_list_they_are(
    schema, admin_api, admin_user, path
):
    assert _ok_schema(schema, path)["type"] == "array"
    cycle = cycle_create(actor=admin_user, data={"period": date(2026, 5, 1)})
    response = admin_api.get(API + path.replace("{id}", str(cycle.pk)))
    assert response.status_code == 200, response.content
    assert response.json() == []


def test_a_publication_diff_is_documented_as_a_plain_list(schema):
    assert _ok_schema(schema, "/governance/publications/{id}/diff/")["type"] == "array"


@pytest.mark.parametrize(
    "path", ["/governance/publications/{id}/export/", "/scenarios/compare/export/", "/kpi/export/"]
)
def test_exports_that_offer_xlsx_document_its_media_type(schema, path):
    content = schema["paths"][API + path]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/csv", XLSX_MEDIA_TYPE}


def test_fields_that_can_be_null_are_documented_nullable(schema):
    components = schema["components"]["schemas"]
    assert components["Job"]["properties"]["retry_of"]["nullable"] is True
    for n in range(1, 6):
        assert components["SopCycle"]["properties"][f"step_{n}_status"]["nullable"] is True


@pytest.mark.django_db
def test_a_malformed_if_match_on_delete_is_a_documented_400(schema, admin_api, admin_user):
    for path in ("/demand/plans/{id}/", "/supply/plans/{id}/", "/forecasting/consensus/{id}/"):
        documented = schema["paths"][API + path]["delete"]["responses"]["400"]
        assert documented["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorResponse"
    product = catalog.product_create(actor=admin_user, data={"sku": "IFM-1", "name": "If-Match"})
    plan = catalog.demand_plan_create(actor=admin_user, product=product, data={"period": date(2026, 3, 1),
                                                                               "forecast_qty": 10})  # fmt: skip
    response = admin_api.delete(f"{API}/demand/plans/{plan.pk}", HTTP_IF_MATCH="not-an-etag")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "INVALID_PARAMETER"
    assert admin_api.get(f"{API}/demand/plans/{plan.pk}").status_code == 200  # not deleted


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/demand/plans/{id}/versions/", "/supply/plans/{id}/versions/"])
def test_a_plans_versions_are_documented_as_the_plain_list_they_are_without_list_filters(schema, path):
    assert _ok_schema(schema, path)["type"] == "array"
    parameters = schema["paths"][API + path]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["id"]


@pytest.mark.django_db
def test_a_demand_plans_versions_endpoint_sends_a_plain_list(admin_api, admin_user):
    plan = catalog.demand_plan_create(actor=admin_user, product=ProductFactory(),
                                      data={"period": date(2026, 5, 1), "forecast_qty": 10})  # fmt: skip
    response = admin_api.get(f"{API}/demand/plans/{plan.pk}/versions/")
    assert response.status_code == 200, response.content
    assert [row["version"] for row in response.json()] == [1]
