"""The load bench's floor view is not part of a normal deployment (BENCH_FLOOR_VIEW, OPS-60)."""

import pytest
from django.test import RequestFactory

from genxsop.bench_floor import floor

pytestmark = pytest.mark.django_db


def test_the_floor_view_is_not_mounted_by_default(client, settings):
    assert settings.BENCH_FLOOR_VIEW is False
    response = client.get("/bench/floor")
    assert response.status_code == 404


def test_the_floor_view_answers_a_constant_json_body_to_get_only():
    response = floor(RequestFactory().get("/bench/floor"))
    assert response.status_code == 200
    assert response.content == b'{"status": "ok"}'
    assert floor(RequestFactory().post("/bench/floor")).status_code == 405
