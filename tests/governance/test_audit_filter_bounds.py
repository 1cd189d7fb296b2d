"""Audit log instants with extreme offsets (found by API fuzzing): compared in UTC, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/audit/logs", "/api/v1/audit/export"])
def test_an_offset_postgresql_cannot_hold_is_compared_in_utc(admin_api, path):
    # Python takes offsets up to ±23:59, PostgreSQL only up to ±15:59.
    response = admin_api.get(path, {"from": "2020-01-01T00:00:00-19:07", "to": "2999-12-31T23:59:59+20:00"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_outside_the_representable_years_in_utc_is_400(admin_api, value):
    response = admin_api.get("/api/v1/audit/logs", {"from": value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "INVALID_PARAMETER"
    assert body["error"]["details"]["fields"] == {"from": ["Out of range."]}
