"""API foundation: error body, authentication, token scopes, CSRF, routing and the OpenAPI schema."""

from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from governance.choices import Role
from governance.models import ApiToken, AuditEvent, User
from governance.services import api_token_create, api_token_revoke
from planning.api.views import ProductViewSet
from planning.models import Product

pytestmark = pytest.mark.django_db

API = "/api/v1"
PRODUCT = {"sku": "API-1", "name": "Foundation product"}


def bearer(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]["code"] == body["error"]["code"] == code
    return body


# The error body -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/nope/", "/api/v1/products/1/nope", "/api/elsewhere"])
def test_unknown_api_paths_answer_404_with_the_error_body(anon_client, path):
    response = anon_client.get(path)

    body = assert_error(response, 404, "NOT_FOUND")
    assert set(body) == {"error", "detail"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert set(body["detail"]) == {"code", "message", "request_id"}
    assert body["error"]["request_id"] == body["detail"]["request_id"] == response["X-Request-ID"]
    assert body["detail"]["message"]


def test_error_body_repeats_the_callers_request_id(anon_client):
    response = anon_client.get(f"{API}/products", HTTP_X_REQUEST_ID="client-req-42")

    assert response["X-Request-ID"] == "client-req-42"
    assert response.json()["detail"]["request_id"] == "client-req-42"


def test_validation_errors_carry_fields_in_both_envelopes(admin_api):
    body = assert_error(admin_api.post(f"{API}/products", {"sku": "X"}, format="json"), 400, "VALIDATION_ERROR")

    assert body["detail"]["fields"] == {"name": ["This field is required."]}
    assert body["error"]["details"] == {"fields": {"name": ["This field is required."]}}


def test_an_unexpected_error_is_500_without_internals(admin_api, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("SELECT secret FROM products")

    monkeypatch.setattr(ProductViewSet, "list_selector", staticmethod(explode))

    response = admin_api.get(f"{API}/products")

    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.content.decode()
    assert body["detail"]["request_id"] == response["X-Request-ID"]


# Authentication -----------------------------------------------------------------


def test_missing_credentials_are_401_with_a_bearer_challenge(anon_client):
    response = anon_client.get(f"{API}/products")

    assert_error(response, 401, "AUTHENTICATION_REQUIRED")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer gxs_notatoken", "Bearer gxs_abc def", f"Bearer gxs_{'a' * 12}_{'0' * 64}"])
def test_malformed_or_unknown_tokens_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(f"{API}/products")

    assert_error(response, 401, "AUTHENTICATION_FAILED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401_token_expired(admin_user):
    token, plaintext = api_token_create(actor=admin_user, user=admin_user, name="old", scopes=["planning:read"])
    past = timezone.now() - timedelta(days=1)
    ApiToken.objects.filter(pk=token.pk).update(created_at=past - timedelta(days=90), expires_at=past)

    response = bearer(plaintext).get(f"{API}/products")

    assert_error(response, 401, "TOKEN_EXPIRED")


def test_revoked_token_is_401_on_the_next_request(admin_user):
    token, plaintext = api_token_create(actor=admin_user, user=admin_user, name="gone", scopes=["planning:read"])
    client = bearer(plaintext)
    assert client.get(f"{API}/products").status_code == 200

    api_token_revoke(actor=admin_user, token=token)

    assert_error(client.get(f"{API}/products"), 401, "AUTHENTICATION_FAILED")


def test_token_of_a_deactivated_user_is_401(admin_user, make_user):
    planner = make_user(Role.DEMAND_PLANNER)
    _, plaintext = api_token_create(actor=planner, user=planner, name="t", scopes=["planning:read"])
    User.objects.filter(pk=planner.pk).update(is_active=False)

    assert_error(bearer(plaintext).get(f"{API}/products"), 401, "AUTHENTICATION_FAILED")


def test_token_used_outside_its_networks_is_401(admin_user):
    _, plaintext = api_token_create(
        actor=admin_user, user=admin_user, name="dc", scopes=["planning:read"], allowed_ips=["10.0.0.0/8"]
    )

    inside = bearer(plaintext).get(f"{API}/products", REMOTE_ADDR="10.1.2.3")
    outside = bearer(plaintext).get(f"{API}/products", REMOTE_ADDR="192.0.2.7")

    assert inside.status_code == 200
    assert_error(outside, 401, "AUTHENTICATION_FAILED")


# Token scopes -------------------------------------------------------------------


def test_read_only_token_reads_but_cannot_write(admin_user):
    _, plaintext = api_token_create(actor=admin_user, user=admin_user, name="ro", scopes=["planning:read"])
    client = bearer(plaintext)

    read = client.get(f"{API}/products")
    write = client.post(f"{API}/products", PRODUCT, format="json")

    assert read.status_code == 200
    assert_error(write, 403, "TOKEN_SCOPE_INSUFFICIENT")
    assert not Product.objects.exists()


def test_token_without_the_module_scope_cannot_read_it(admin_user):
    _, plaintext = api_token_create(actor=admin_user, user=admin_user, name="gov", scopes=["governance:read"])

    assert_error(bearer(plaintext).get(f"{API}/locations"), 403, "TOKEN_SCOPE_INSUFFICIENT")


def test_token_scope_never_widens_the_owners_role(users, api_client_for):
    planner_with_every_scope = api_client_for(users[Role.DEMAND_PLANNER])

    response = planner_with_every_scope.post(f"{API}/products", PRODUCT, format="json")

    assert_error(response, 403, "PERMISSION_DENIED")


def test_writes_made_with_a_token_record_it_in_the_audit_event(admin_user):
    token, plaintext = api_token_create(actor=admin_user, user=admin_user, name="erp", scopes=["planning:write"])

    response = bearer(plaintext).post(f"{API}/products", PRODUCT, format="json")

    event = AuditEvent.objects.get(event_type="planning.product.created")
    assert (event.api_token_id, event.api_token_prefix, event.actor_type) == (token.pk, token.prefix, "api_token")
    assert event.request_id == response["X-Request-ID"]


# Console session and CSRF ---------------------------------------------------------


@pytest.fixture
def session_client(admin_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def test_session_reads_need_no_csrf_token(session_client):
    assert session_client.get(f"{API}/products").status_code == 200


def test_session_write_without_csrf_token_is_403(session_client):
    response = session_client.post(f"{API}/products", PRODUCT, content_type="application/json")

    assert_error(response, 403, "CSRF_FAILED")
    assert not Product.objects.exists()


def test_session_write_with_csrf_token_succeeds_and_is_audited_as_the_user(session_client, admin_user):
    csrf = "a" * 32
    session_client.cookies["csrftoken"] = csrf

    response = session_client.post(f"{API}/products", PRODUCT, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(event_type="planning.product.created")
    assert (event.actor, event.actor_type, event.source) == (admin_user, "user", "api")
    assert event.request_id == response["X-Request-ID"]


# Routing, methods, service root ---------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1", "/api/v1/"])
def test_service_root_answers_on_both_spellings_without_redirect(anon_client, admin_api, path):
    anonymous = anon_client.get(path)
    signed_in = admin_api.get(path)

    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.json() == {"app": "GenXSOP", "status": "running", "docs": "/api/docs/"}
    assert "version" in signed_in.json()


def test_options_and_head_are_answered(admin_api):
    assert admin_api.options(f"{API}/products").status_code == 200
    assert admin_api.head(f"{API}/products").status_code == 200


# OpenAPI schema -------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn turns any warning (an undocumented view, an untyped field) into an error.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_schema_generates_without_warnings_and_validates(schema):
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/products/" in schema["paths"]


def test_schema_documents_the_paginated_envelope(schema):
    ok = schema["paths"]["/api/v1/products/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    envelope = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]

    assert set(envelope["required"]) == {"items", "total", "page", "page_size", "total_pages"}
    assert envelope["properties"]["items"]["items"]["$ref"].endswith("/Product")


def test_schema_documents_request_bodies_and_error_responses(schema):
    create = schema["paths"]["/api/v1/products/"]["post"]
    error = schema["components"]["schemas"]["ErrorResponse"]

    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ProductCreateInputRequest")
    for status in ("400", "401", "403", "409", "413", "415"):
        assert create["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    assert set(error["required"]) == {"error", "detail"}


def test_schema_is_served(anon_client):
    response = anon_client.get(f"{API}/schema/")

    assert response.status_code == 200
    assert b"openapi:" in response.content
