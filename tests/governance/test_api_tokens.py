"""Auth API: the signed-in user (API-AUTH-04) and integration tokens (API-AUTH-19…21)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.choices import Role
from governance.models import ApiToken, AuditEvent
from governance.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

API = "/api/v1"


def session_for(user) -> APIClient:
    """The console session: the only way besides login tokens to manage tokens (tokens cannot)."""
    client = APIClient()
    client.force_login(user)
    return client


def bearer(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]["code"] == body["error"]["code"] == code
    return body


# /auth/me -------------------------------------------------------------------------


def test_me_describes_the_signed_in_user(users):
    planner = users[Role.DEMAND_PLANNER]

    response = session_for(planner).get(f"{API}/auth/me")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == planner.pk
    assert body["email"] == "demand_planner@example.test"
    assert (body["role"], body["role_label"]) == ("demand_planner", "Demand Planner")
    assert body["is_active"] is True
    assert body["is_service_account"] is False
    assert body["auth_source"] == "local"
    assert body["created_at"].endswith("Z")
    assert "catalog" in body["modules"]
    assert "catalog.manage" not in body["capabilities"]
    assert "api_tokens.manage_own" in body["capabilities"]
    assert "password" not in body


def test_viewer_modules_leave_out_the_catalog(users):
    body = session_for(users[Role.VIEWER]).get(f"{API}/auth/me/").json()

    assert body["modules"] == ["dashboard", "kpi", "notifications"]


def test_admin_has_every_module_and_capability(users):
    body = session_for(users[Role.ADMIN]).get(f"{API}/auth/me").json()

    assert {"catalog", "audit"} <= set(body["modules"])
    assert {"catalog.manage", "users.manage", "api_tokens.manage_any"} <= set(body["capabilities"])


def test_me_needs_authentication(anon_client):
    assert_error(anon_client.get(f"{API}/auth/me"), 401, "AUTHENTICATION_REQUIRED")


def test_an_api_token_may_read_me(users, api_client_for):
    response = api_client_for(users[Role.SUPPLY_PLANNER], scopes=["planning:read"]).get(f"{API}/auth/me")

    assert response.status_code == 200
    assert response.json()["role"] == "supply_planner"


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", "/auth/me"), ("patch", "/auth/me"), ("get", "/auth/tokens"), ("post", "/auth/tokens"),
     ("delete", "/auth/tokens/1")],
)  # fmt: skip
def test_api_tokens_cannot_call_other_auth_endpoints(users, api_client_for, method, path):
    client = api_client_for(users[Role.ADMIN])
    tokens_before = ApiToken.objects.count()

    response = getattr(client, method)(API + path, {"name": "x", "scopes": ["planning:read"]}, format="json")

    assert_error(response, 403, "TOKEN_SCOPE_INSUFFICIENT")
    assert ApiToken.objects.count() == tokens_before


# Listing --------------------------------------------------------------------------


@pytest.fixture
def planner(users):
    return users[Role.DEMAND_PLANNER]


@pytest.fixture
def planner_tokens(planner):
    active, _ = api_token_create(actor=planner, user=planner, name="erp", scopes=["planning:read"])
    revoked, _ = api_token_create(actor=planner, user=planner, name="old", scopes=["planning:write"])
    api_token_revoke(actor=planner, token=revoked)
    return active, revoked


def test_list_shows_own_active_tokens_without_secrets(planner, planner_tokens, users):
    active, _ = planner_tokens
    api_token_create(actor=users[Role.ADMIN], user=users[Role.ADMIN], name="admin's", scopes=["ops:read"])

    response = session_for(planner).get(f"{API}/auth/tokens")

    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["total_pages"]) == (1, 1, 1)
    item = body["items"][0]
    assert item["id"] == active.pk
    assert item["prefix"] == active.prefix
    assert item["last4"] == active.last4
    assert (item["user_id"], item["created_by"], item["created_by_name"]) == (planner.pk, planner.pk, planner.full_name)
    assert item["scopes"] == ["planning:read"]
    assert item["status"] == "active"
    assert item["expires_at"].endswith("Z")
    assert "token" not in item
    assert "digest" not in item


def test_list_includes_revoked_tokens_on_request(planner, planner_tokens):
    body = session_for(planner).get(f"{API}/auth/tokens/?include_revoked=true").json()

    assert [(i["name"], i["status"]) for i in body["items"]] == [("old", "revoked"), ("erp", "active")]


def test_admin_lists_another_users_tokens(planner, planner_tokens, users):
    body = session_for(users[Role.ADMIN]).get(f"{API}/auth/tokens?user_id={planner.pk}").json()

    assert [i["name"] for i in body["items"]] == ["erp"]


def test_non_admin_cannot_list_another_users_tokens(planner, users):
    response = session_for(users[Role.EXECUTIVE]).get(f"{API}/auth/tokens?user_id={planner.pk}")

    assert_error(response, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(
    "query", ["user_id=abc", "user_id=99999999999999999999999", "include_revoked=perhaps", "page_size=0"]
)
def test_invalid_list_parameters_are_400(planner, query):
    assert_error(session_for(planner).get(f"{API}/auth/tokens?{query}"), 400, "INVALID_PARAMETER")


# Creating -------------------------------------------------------------------------


def test_create_returns_the_plaintext_once_and_it_works(planner):
    audit_mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    response = session_for(planner).post(
        f"{API}/auth/tokens", {"name": "ERP sync", "scopes": ["planning:read"], "expires_in_days": 30}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    plaintext = body["token"]
    assert plaintext.startswith(body["prefix"] + "_")
    assert body["last4"] == plaintext[-4:]
    assert body["status"] == "active"
    token = ApiToken.objects.get(pk=body["id"])
    assert plaintext not in (token.digest, token.key)
    assert (token.user, token.created_by, token.scopes) == (planner, planner, ["planning:read"])
    event = AuditEvent.objects.get(id__gt=audit_mark)
    assert (event.event_type, event.target_id, event.actor) == ("governance.api_token.created", str(token.pk), planner)
    assert event.request_id == response["X-Request-ID"]
    assert plaintext not in str(event.after)
    # The plaintext authenticates, and is never shown again.
    assert bearer(plaintext).get(f"{API}/products").status_code == 200
    listed = session_for(planner).get(f"{API}/auth/tokens").json()["items"]
    assert all("token" not in item for item in listed)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["planning:admin"]}, "scopes.0"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x"}, "scopes"),
        ({"scopes": ["planning:read"]}, "name"),
        ({"name": "x", "scopes": ["planning:read"], "expires_in_days": 366}, "expires_in_days"),
        ({"name": "x", "scopes": ["planning:read"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": ["planning:read"], "allowed_ips": ["10.0.0.0/33"]}, "allowed_ips"),
    ],
)
def test_invalid_token_requests_are_400(planner, body, field):
    response = session_for(planner).post(f"{API}/auth/tokens", body, format="json")

    assert field in assert_error(response, 400, "VALIDATION_ERROR")["detail"]["fields"]
    assert not ApiToken.objects.filter(user=planner).exists()


def test_non_admin_cannot_create_a_token_for_someone_else(planner, users):
    response = session_for(planner).post(
        f"{API}/auth/tokens", {"name": "x", "scopes": ["planning:read"], "user_id": users[Role.ADMIN].pk},
        format="json",
    )  # fmt: skip

    assert_error(response, 403, "PERMISSION_DENIED")
    assert not ApiToken.objects.exists()


def test_admin_issues_a_token_to_a_service_account(users, make_user):
    erp = make_user(Role.SUPPLY_PLANNER, email="erp@example.test", is_service_account=True)

    response = session_for(users[Role.ADMIN]).post(
        f"{API}/auth/tokens", {"name": "ERP", "scopes": ["integrations:write"], "user_id": erp.pk}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["user_id"], response.json()["created_by"]) == (erp.pk, users[Role.ADMIN].pk)


def test_admin_naming_an_unknown_user_is_400(users):
    response = session_for(users[Role.ADMIN]).post(
        f"{API}/auth/tokens", {"name": "x", "scopes": ["planning:read"], "user_id": 999999}, format="json"
    )

    assert "user_id" in assert_error(response, 400, "VALIDATION_ERROR")["detail"]["fields"]


def test_session_token_creation_needs_the_csrf_token(planner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(planner)

    response = client.post(
        f"{API}/auth/tokens", {"name": "x", "scopes": ["planning:read"]}, content_type="application/json"
    )

    assert_error(response, 403, "CSRF_FAILED")
    assert not ApiToken.objects.exists()


# Revoking -------------------------------------------------------------------------


def test_owner_revokes_a_token_and_it_stops_working(planner):
    token, plaintext = api_token_create(actor=planner, user=planner, name="erp", scopes=["planning:read"])
    client = session_for(planner)

    response = client.delete(f"{API}/auth/tokens/{token.pk}", {"reason": "rotated"}, format="json")

    assert response.status_code == 204
    assert response.content == b""
    token.refresh_from_db()
    assert (token.revoked_by, token.revoke_reason) == (planner, "rotated")
    event = AuditEvent.objects.get(event_type="governance.api_token.revoked")
    assert (event.target_id, event.message, event.request_id) == (str(token.pk), "rotated", response["X-Request-ID"])
    assert_error(bearer(plaintext).get(f"{API}/products"), 401, "AUTHENTICATION_FAILED")


def test_revoking_twice_is_204_and_audited_once(planner):
    token, _ = api_token_create(actor=planner, user=planner, name="erp", scopes=["planning:read"])
    client = session_for(planner)

    first = client.delete(f"{API}/auth/tokens/{token.pk}/")
    second = client.delete(f"{API}/auth/tokens/{token.pk}")

    assert first.status_code == second.status_code == 204
    assert AuditEvent.objects.filter(event_type="governance.api_token.revoked").count() == 1


def test_another_users_token_is_404_for_non_admins_and_revocable_by_admins(planner, users):
    token, _ = api_token_create(actor=planner, user=planner, name="erp", scopes=["planning:read"])

    stranger = session_for(users[Role.EXECUTIVE]).delete(f"{API}/auth/tokens/{token.pk}")
    admin = session_for(users[Role.ADMIN]).delete(f"{API}/auth/tokens/{token.pk}")

    assert_error(stranger, 404, "NOT_FOUND")
    assert admin.status_code == 204
    token.refresh_from_db()
    assert token.revoked_by == users[Role.ADMIN]


def test_unknown_token_id_is_404(planner):
    assert_error(session_for(planner).delete(f"{API}/auth/tokens/999999"), 404, "NOT_FOUND")
