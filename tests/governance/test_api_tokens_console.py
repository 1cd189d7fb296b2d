"""Console Settings → API tokens (UI-19): create (plaintext once), list, revoke; admins see everyone's."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.choices import Role
from governance.models import ApiToken, AuditEvent
from governance.services import api_token_create, user_create

pytestmark = pytest.mark.django_db

PAGE = "/settings/tokens/"
TOKEN_RE = re.compile(r"gxs_[a-z2-7]{12}_[0-9a-f]{64}")


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create(client, **fields):
    data = {"name": "ERP sync", "scopes": ["planning:read"], "expires_in_days": "30", "allowed_ips": "", **fields}
    return client.post(PAGE, data)


@pytest.fixture
def planner(users):
    return users[Role.DEMAND_PLANNER]


def test_page_needs_sign_in():
    response = Client().get(PAGE)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_page_lists_own_tokens_and_offers_every_scope(planner, users):
    api_token_create(actor=planner, user=planner, name="Mine", scopes=["planning:read"])
    api_token_create(actor=users[Role.VIEWER], user=users[Role.VIEWER], name="Not mine", scopes=["planning:read"])

    response = console(planner).get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Mine" in html
    assert "Not mine" not in html
    for scope in ("planning:read", "forecasting:write", "ops:read"):
        assert f'value="{scope}"' in html
    assert 'value="90"' in html  # API_TOKEN_DEFAULT_DAYS
    assert 'name="owner"' not in html  # only admins pick an owner
    assert "<script>" not in html  # CSP: external JS only
    assert "onclick" not in html
    assert "js/api_tokens.js" in html


def test_settings_menu_links_the_page(planner):
    html = console(planner).get("/").content.decode()

    assert f'href="{PAGE}"' in html


def test_create_shows_the_plaintext_once_and_it_works(planner):
    client = console(planner)

    response = create(client, scopes=["planning:read", "governance:read"], allowed_ips="127.0.0.1/32, 10.0.0.0/8")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    (plaintext,) = set(TOKEN_RE.findall(html))
    assert "shown only once" in html
    assert "data-copy-target" in html
    token = ApiToken.objects.get(user=planner)
    assert (token.name, token.scopes, token.created_by) == ("ERP sync", ["planning:read", "governance:read"], planner)
    assert token.allowed_ips == ["127.0.0.1/32", "10.0.0.0/8"]
    assert AuditEvent.objects.filter(event_type="governance.api_token.created", target_id=str(token.pk)).exists()
    # It authenticates against the API …
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.get("/api/v1/products").status_code == 200
    # … and is never shown again.
    listing = client.get(PAGE).content.decode()
    assert not TOKEN_RE.search(listing)
    assert f"{token.prefix}_…{token.last4}" in listing


def test_create_reports_bad_input_on_the_form(planner, settings):
    settings.API_TOKEN_MAX_DAYS = 60
    client = console(planner)

    too_long = create(client, expires_in_days="61")
    no_scope = create(client, scopes=[])
    bad_network = create(client, allowed_ips="not-a-network")

    for response in (too_long, no_scope, bad_network):
        assert response.status_code == 200
        assert "field--invalid" in response.content.decode() or "form-errors" in response.content.decode()
        assert not TOKEN_RE.search(response.content.decode())
    assert "not-a-network" in bad_network.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_stops_the_token(planner):
    token, plaintext = api_token_create(actor=planner, user=planner, name="Old", scopes=["planning:read"])
    client = console(planner)

    response = client.post(f"{PAGE}{token.pk}/revoke/", {"reason": "rotated"})

    assert (response.status_code, response["Location"]) == (302, PAGE)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoke_reason == "rotated"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.get("/api/v1/products").status_code == 401
    page = client.get(PAGE).content.decode()
    assert "has been revoked" in page  # the message …
    assert f"{token.prefix}_…" not in page  # … and the token has left the default list
    assert "Revoked" in client.get(PAGE, {"include_revoked": "1"}).content.decode()


def test_revoke_is_post_only(planner):
    token, _ = api_token_create(actor=planner, user=planner, name="Old", scopes=["planning:read"])

    assert console(planner).get(f"{PAGE}{token.pk}/revoke/").status_code == 405


def test_non_admin_cannot_see_or_revoke_others_tokens(planner, users):
    viewer = users[Role.VIEWER]
    token, _ = api_token_create(actor=viewer, user=viewer, name="Viewer's", scopes=["planning:read"])
    client = console(planner)

    assert "Viewer&#x27;s" not in client.get(PAGE, {"user_id": viewer.pk}).content.decode()
    assert client.post(f"{PAGE}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_non_admin_cannot_create_for_someone_else(planner, users):
    create(console(planner), owner=str(users[Role.VIEWER].pk))

    assert list(ApiToken.objects.values_list("user_id", flat=True)) == [planner.pk]  # the owner field is ignored


def test_admin_sees_every_token_and_filters_by_owner(admin_user, planner, users):
    api_token_create(actor=planner, user=planner, name="Planner's", scopes=["planning:read"])
    viewer = users[Role.VIEWER]
    api_token_create(actor=viewer, user=viewer, name="Viewer's", scopes=["planning:read"])
    client = console(admin_user)

    everyone = client.get(PAGE).content.decode()
    only_viewer = client.get(PAGE, {"user_id": viewer.pk}).content.decode()

    assert "Planner&#x27;s" in everyone
    assert "Viewer&#x27;s" in everyone
    assert "Viewer&#x27;s" in only_viewer
    assert "Planner&#x27;s" not in only_viewer


def test_admin_creates_a_token_for_a_service_account(admin_user, planner):
    robot = user_create(
        actor=admin_user, email="erp-bot@example.test", full_name="ERP bot", role=Role.DEMAND_PLANNER,
        is_service_account=True,
    )  # fmt: skip
    client = console(admin_user)
    assert "service account" in client.get(PAGE).content.decode()

    response = create(client, owner=str(robot.pk), name="ERP bot key")

    assert response.status_code == 200
    (plaintext,) = set(TOKEN_RE.findall(response.content.decode()))
    token = ApiToken.objects.get(name="ERP bot key")
    assert (token.user, token.created_by) == (robot, admin_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    me = api.get("/api/v1/auth/me").json()
    assert (me["id"], me["is_service_account"]) == (robot.pk, True)


def test_admin_revokes_another_users_token(admin_user, planner):
    token, _ = api_token_create(actor=planner, user=planner, name="Leaked", scopes=["planning:read"])

    response = console(admin_user).post(f"{PAGE}{token.pk}/revoke/", {"next": f"{PAGE}?user_id={planner.pk}"})

    assert (response.status_code, response["Location"]) == (302, f"{PAGE}?user_id={planner.pk}")
    token.refresh_from_db()
    assert (token.revoked_at is not None, token.revoked_by) == (True, admin_user)


def test_admin_without_an_owner_creates_their_own_token(admin_user):
    response = create(console(admin_user))

    assert response.status_code == 200
    assert TOKEN_RE.search(response.content.decode())
    assert ApiToken.objects.get().user == admin_user
