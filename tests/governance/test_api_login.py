"""API login tokens (ACC-16…20, API-AUTH-01…03, 06…08): login, refresh rotation, logout, password, sign-up."""

import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import user_login_failed
from django.utils import timezone
from rest_framework.test import APIClient

from governance.choices import Role
from governance.models import AuditEvent, AuthToken, User
from governance.services import api_token_create, user_set_role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1"
NEW_PASSWORD = "Another-Long-Passphrase-42"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]["code"] == code
    assert body["detail"]["request_id"] == response["X-Request-ID"]
    return body


def login(email: str, password: str = PASSWORD, **extra):
    return APIClient().post(f"{API}/auth/login", {"email": email, "password": password, **extra}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def events_of(event_type: str):
    return AuditEvent.objects.filter(event_type=event_type).order_by("id")


@pytest.fixture
def planner(users):
    return users[Role.DEMAND_PLANNER]


@pytest.fixture
def pair(planner) -> dict:
    response = login(planner.email)
    assert response.status_code == 200, response.content
    return response.json()


# Login ------------------------------------------------------------------------------------


def test_login_returns_an_opaque_token_pair_and_the_user(planner):
    assert planner.last_login is None

    response = login("Demand_Planner@Example.test")

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    assert body["refresh_expires_in"] == 7 * 24 * 3600
    assert body["access_token"].startswith("gxa_")
    assert body["refresh_token"].startswith("gxr_")
    assert (body["user"]["id"], body["user"]["role"]) == (planner.pk, "demand_planner")
    # Only digests are stored, never the plaintexts.
    rows = AuthToken.objects.filter(user=planner)
    assert sorted(rows.values_list("kind", flat=True)) == ["access", "refresh"]
    assert len({row.family_id for row in rows}) == 1
    for row in rows:
        assert row.digest not in (body["access_token"], body["refresh_token"])
        assert row.key in (body["access_token"] + body["refresh_token"])
    access = rows.get(kind="access")
    assert timedelta(minutes=29) < access.expires_at - timezone.now() <= timedelta(minutes=30)
    planner.refresh_from_db()
    assert planner.last_login is not None
    # Audited once, from the API, without any secret.
    (event,) = events_of("governance.login.succeeded")
    assert (event.actor, event.source, event.target_id) == (planner, "api", str(planner.pk))
    everything = str(list(AuditEvent.objects.values()))
    assert PASSWORD not in everything
    assert body["access_token"] not in everything
    assert body["refresh_token"] not in everything


def test_login_accepts_a_form_with_username(planner):
    response = APIClient().post(f"{API}/auth/login", {"username": planner.email, "password": PASSWORD})

    assert response.status_code == 200, response.content
    assert response.json()["access_token"].startswith("gxa_")


def test_lifetimes_follow_the_settings(planner, settings):
    settings.ACCESS_TOKEN_EXPIRE_MINUTES = 5
    settings.REFRESH_TOKEN_EXPIRE_DAYS = 1

    body = login(planner.email).json()

    assert (body["expires_in"], body["refresh_expires_in"]) == (300, 86400)


def test_wrong_password_and_unknown_email_get_the_same_answer(planner):
    wrong = assert_error(login(planner.email, "not-the-password"), 401, "AUTHENTICATION_FAILED")
    unknown = assert_error(login("nobody@example.test"), 401, "AUTHENTICATION_FAILED")

    assert wrong["detail"]["message"] == unknown["detail"]["message"] == "Invalid email or password."
    failed = events_of("governance.login.failed")
    assert failed.count() == 2
    assert [e.target_id for e in failed] == [str(planner.pk), ""]
    assert all(e.source == "api" for e in failed)
    assert "not-the-password" not in str(list(failed.values()))
    assert not AuthToken.objects.exists()


def test_missing_fields_are_a_validation_error():
    body = assert_error(APIClient().post(f"{API}/auth/login", {}, format="json"), 400, "VALIDATION_ERROR")

    assert set(body["detail"]["fields"]) == {"email", "password"}


def test_inactive_user_cannot_log_in(planner):
    User.objects.filter(pk=planner.pk).update(is_active=False)

    assert_error(login(planner.email), 401, "AUTHENTICATION_FAILED")


def test_sso_account_is_told_to_use_sso(planner):
    User.objects.filter(pk=planner.pk).update(auth_source="sso")

    assert_error(login(planner.email), 401, "SSO_ONLY_ACCOUNT")


def test_service_account_cannot_log_in(make_user):
    robot = make_user(Role.VIEWER, email="robot@example.test", is_service_account=True)
    assert_error(login(robot.email), 401, "AUTHENTICATION_FAILED")  # no usable password

    robot.set_password(PASSWORD)  # even if one were set behind the services' back
    robot.save()
    body = assert_error(login(robot.email), 401, "AUTHENTICATION_FAILED")
    assert "API tokens" in body["detail"]["message"]


def test_locked_account_answers_429_without_checking_the_password(planner):
    User.objects.filter(pk=planner.pk).update(locked_until=timezone.now() + timedelta(minutes=10))

    response = login(planner.email)  # the right password

    body = assert_error(response, 429, "TOO_MANY_ATTEMPTS")
    assert 540 < int(response["Retry-After"]) <= 601
    assert body["detail"]["context"]["retry_after"] == int(response["Retry-After"])
    assert not AuthToken.objects.exists()


def test_an_axes_lockout_flag_becomes_the_api_429(planner, monkeypatch):
    # Whatever lockout backend flags the request (django-axes sets request.axes_locked_out), the API
    # answers with its own 429 body.
    from governance.services import api_login

    def locked_out(request, **credentials):
        request.axes_locked_out = True
        user_login_failed.send(sender=__name__, credentials={"email": credentials["email"]}, request=request)

    monkeypatch.setattr(api_login, "authenticate", locked_out)

    response = login(planner.email)

    assert_error(response, 429, "TOO_MANY_ATTEMPTS")
    assert int(response["Retry-After"]) > 0


@pytest.mark.skipif(not apps.is_installed("axes"), reason="django-axes not installed")
def test_repeated_failures_lock_the_account_for_the_api_too(planner, settings):
    attempts = [login(planner.email, "wrong-password").status_code for _ in range(settings.LOGIN_MAX_FAILURES)]

    assert set(attempts[:-1]) == {401}
    response = login(planner.email)  # now even the right password is refused
    assert_error(response, 429, "TOO_MANY_ATTEMPTS")
    assert int(response["Retry-After"]) > 0


def test_login_opens_no_console_session(planner):
    response = login(planner.email)

    assert response.status_code == 200
    assert "sessionid" not in response.cookies


@pytest.mark.skipif(not apps.is_installed("axes"), reason="django-axes not installed")
def test_a_successful_login_resets_the_failure_count(planner, settings):
    almost = settings.LOGIN_MAX_FAILURES - 1
    for _ in range(almost):
        assert login(planner.email, "wrong-password").status_code == 401
    assert login(planner.email).status_code == 200
    planner.refresh_from_db()
    assert planner.failed_login_count == 0

    for _ in range(almost):
        assert login(planner.email, "wrong-password").status_code == 401

    assert login(planner.email).status_code == 200  # not locked: the count started again


def test_api_login_can_be_switched_off(planner, pair, settings):
    settings.API_LOGIN_ENABLED = False

    assert_error(login(planner.email), 403, "API_LOGIN_DISABLED")
    refresh = APIClient().post(f"{API}/auth/refresh", {"refresh_token": pair["refresh_token"]}, format="json")
    assert_error(refresh, 403, "API_LOGIN_DISABLED")
    providers = APIClient().get(f"{API}/auth/providers").json()
    assert providers["api_login_enabled"] is False


def test_password_login_is_off_when_local_login_is(planner, settings):
    settings.LOCAL_LOGIN_ENABLED = False

    assert_error(login(planner.email), 403, "API_LOGIN_DISABLED")


# MFA --------------------------------------------------------------------------------------

mfa = pytest.mark.skipif(not apps.is_installed("allauth.mfa"), reason="allauth.mfa not installed")


def _enrol_totp(user) -> str:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _current_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@mfa
def test_enrolled_user_needs_a_valid_otp_code(planner):
    secret = _enrol_totp(planner)

    missing = assert_error(login(planner.email), 401, "MFA_REQUIRED")
    assert "otp_code" in missing["detail"]["message"]
    assert_error(login(planner.email, otp_code="000000" if _current_code(secret) != "000000" else "111111"), 401,
                 "MFA_REQUIRED")  # fmt: skip
    assert not AuthToken.objects.exists()

    response = login(planner.email, otp_code=_current_code(secret))

    assert response.status_code == 200, response.content


@mfa
def test_wrong_password_with_mfa_is_still_invalid_credentials(planner):
    secret = _enrol_totp(planner)

    assert_error(login(planner.email, "wrong-password", otp_code=_current_code(secret)), 401, "AUTHENTICATION_FAILED")


def test_role_that_must_use_mfa_cannot_log_in_before_enrolling(planner, settings):
    settings.MFA_REQUIRED_ROLES = [Role.DEMAND_PLANNER]

    assert_error(login(planner.email), 401, "MFA_REQUIRED")


# Access tokens on other endpoints ---------------------------------------------------------


def test_access_token_carries_the_role_of_the_user(users):
    admin_token = login(users[Role.ADMIN].email).json()["access_token"]
    viewer_token = login(users[Role.VIEWER].email).json()["access_token"]

    assert bearer(admin_token).get(f"{API}/products").status_code == 200
    assert_error(bearer(viewer_token).get(f"{API}/products"), 403, "PERMISSION_DENIED")
    me = bearer(viewer_token).get(f"{API}/auth/me")
    assert (me.status_code, me.json()["role"]) == (200, "viewer")


def test_service_root_recognises_an_access_token(pair):
    assert "version" in bearer(pair["access_token"]).get(f"{API}/").json()


def test_role_change_applies_on_the_next_request(users, planner, pair):
    client = bearer(pair["access_token"])
    assert client.get(f"{API}/products").status_code == 200

    user_set_role(actor=users[Role.ADMIN], user=planner, role=Role.VIEWER)

    assert_error(client.get(f"{API}/products"), 403, "PERMISSION_DENIED")


def test_expired_access_token_is_token_expired(pair):
    AuthToken.objects.filter(kind="access").update(expires_at=timezone.now() - timedelta(seconds=1))

    response = bearer(pair["access_token"]).get(f"{API}/auth/me")

    assert_error(response, 401, "TOKEN_EXPIRED")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-4] + ("0000" if not t.endswith("0000") else "1111"), id="wrong-secret"),
        pytest.param(lambda t: "gxa_" + "a" * 12 + "_" + "0" * 64, id="unknown-key"),
        pytest.param(lambda t: "gxa_garbage", id="malformed"),
        pytest.param(lambda t: t.replace("gxa_", "gxr_", 1), id="refresh-prefix"),
    ],
)
def test_forged_access_tokens_are_refused(pair, mangle):
    assert_error(bearer(mangle(pair["access_token"])).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")


def test_refresh_token_is_not_an_access_token(pair):
    assert_error(bearer(pair["refresh_token"]).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")


def test_deactivated_user_loses_every_token(planner, pair):
    User.objects.filter(pk=planner.pk).update(is_active=False)

    assert_error(bearer(pair["access_token"]).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")
    refresh = APIClient().post(f"{API}/auth/refresh", {"refresh_token": pair["refresh_token"]}, format="json")
    assert_error(refresh, 401, "AUTHENTICATION_FAILED")


# Refresh ----------------------------------------------------------------------------------


def refresh(token: str):
    return APIClient().post(f"{API}/auth/refresh", {"refresh_token": token}, format="json")


def test_refresh_rotates_the_pair(pair):
    response = refresh(pair["refresh_token"])

    assert response.status_code == 200, response.content
    new = response.json()
    assert new["access_token"] != pair["access_token"]
    assert new["refresh_token"] != pair["refresh_token"]
    assert new["user"]["id"] == pair["user"]["id"]
    assert bearer(new["access_token"]).get(f"{API}/auth/me").status_code == 200
    old, child = AuthToken.objects.filter(kind="refresh").order_by("id")
    assert old.used_at is not None
    assert (child.parent_id, child.family_id) == (old.pk, old.family_id)
    # A refresh is not a new sign-in.
    assert events_of("governance.login.succeeded").count() == 1


def test_reusing_a_refresh_token_revokes_the_whole_family(planner, pair):
    other = login(planner.email).json()  # a second sign-in, e.g. another device
    rotated = refresh(pair["refresh_token"]).json()

    reuse = refresh(pair["refresh_token"])

    assert_error(reuse, 401, "AUTHENTICATION_FAILED")
    for token in (pair["access_token"], rotated["access_token"]):
        assert_error(bearer(token).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")
    assert_error(refresh(rotated["refresh_token"]), 401, "AUTHENTICATION_FAILED")
    # The other sign-in is untouched.
    assert bearer(other["access_token"]).get(f"{API}/auth/me").status_code == 200
    (event,) = events_of("governance.auth_token.revoked")
    assert event.after["reason"] == "reuse_detected"
    assert event.after["revoked_count"] == 4  # both pairs, the used refresh token included
    assert pair["refresh_token"] not in str(event.after)


@pytest.mark.parametrize("raw", ["", "gxr_nonsense", "gxa_" + "a" * 12 + "_" + "0" * 64])
def test_refresh_refuses_anything_but_a_refresh_token(pair, raw):
    response = refresh(raw or pair["access_token"])

    assert response.status_code in (400, 401)
    if raw:
        assert_error(response, 401, "AUTHENTICATION_FAILED")


def test_expired_refresh_token_is_token_expired(pair):
    AuthToken.objects.filter(kind="refresh").update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_error(refresh(pair["refresh_token"]), 401, "TOKEN_EXPIRED")


# Logout -----------------------------------------------------------------------------------


def test_logout_revokes_the_family_of_the_access_token(planner, pair):
    other = login(planner.email).json()

    response = bearer(pair["access_token"]).post(f"{API}/auth/logout", {}, format="json")

    assert response.status_code == 204
    assert_error(bearer(pair["access_token"]).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")
    assert_error(refresh(pair["refresh_token"]), 401, "AUTHENTICATION_FAILED")
    assert bearer(other["access_token"]).get(f"{API}/auth/me").status_code == 200
    (event,) = events_of("governance.auth_token.revoked")
    assert (event.actor, event.after["reason"], event.after["revoked_count"]) == (planner, "logout", 2)


def test_logout_with_a_refresh_token_from_the_console_session(planner, pair):
    client = APIClient()
    client.force_login(planner)

    response = client.post(f"{API}/auth/logout", {"refresh_token": pair["refresh_token"]}, format="json")

    assert response.status_code == 204
    assert_error(bearer(pair["access_token"]).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")


def test_logout_ignores_someone_elses_refresh_token(users, pair):
    client = APIClient()
    client.force_login(users[Role.VIEWER])

    assert client.post(f"{API}/auth/logout", {"refresh_token": pair["refresh_token"]}, format="json").status_code == 204
    assert bearer(pair["access_token"]).get(f"{API}/auth/me").status_code == 200


def test_logout_needs_authentication():
    assert_error(APIClient().post(f"{API}/auth/logout", {}, format="json"), 401, "AUTHENTICATION_REQUIRED")


# Change password --------------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD):
    return client.post(f"{API}/auth/change-password", {"current_password": current, "new_password": new}, format="json")


def test_change_password_keeps_this_sign_in_and_ends_the_others(planner, pair):
    other = login(planner.email).json()
    _, integration = api_token_create(actor=planner, user=planner, name="ERP", scopes=["planning:read"])

    response = change_password(bearer(pair["access_token"]))

    assert response.status_code == 200, response.content
    assert response.json() == {"message": "Password changed successfully"}
    assert bearer(pair["access_token"]).get(f"{API}/auth/me").status_code == 200
    assert_error(bearer(other["access_token"]).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")
    assert_error(refresh(other["refresh_token"]), 401, "AUTHENTICATION_FAILED")
    assert bearer(integration).get(f"{API}/products").status_code == 200  # API tokens are unaffected
    assert_error(login(planner.email), 401, "AUTHENTICATION_FAILED")
    assert login(planner.email, NEW_PASSWORD).status_code == 200
    (event,) = events_of("governance.user.password_changed")
    assert event.actor == planner
    assert NEW_PASSWORD not in str(event.metadata) + str(event.after) + str(event.before)


def test_change_password_from_the_console_session_keeps_that_session(planner, pair):
    client = APIClient()
    client.force_login(planner)

    assert change_password(client).status_code == 200

    assert client.get(f"{API}/auth/me").status_code == 200
    assert_error(bearer(pair["access_token"]).get(f"{API}/auth/me"), 401, "AUTHENTICATION_FAILED")


def test_change_password_needs_the_current_password(pair):
    body = assert_error(change_password(bearer(pair["access_token"]), current="nope"), 400, "INVALID_PASSWORD")

    assert "current_password" in body["detail"]["fields"]


def test_change_password_applies_the_policy(pair):
    body = assert_error(change_password(bearer(pair["access_token"]), new="short"), 400, "VALIDATION_ERROR")

    assert "new_password" in body["detail"]["fields"]


def test_sso_accounts_have_no_password_to_change(planner):
    User.objects.filter(pk=planner.pk).update(auth_source="sso")
    client = APIClient()
    client.force_login(User.objects.get(pk=planner.pk))

    assert_error(change_password(client), 401, "SSO_ONLY_ACCOUNT")


def test_integration_tokens_cannot_change_passwords(planner, api_client_for):
    assert_error(change_password(api_client_for(planner)), 403, "TOKEN_SCOPE_INSUFFICIENT")


# Registration and providers ---------------------------------------------------------------

NEWCOMER = {"email": "newcomer@example.test", "password": NEW_PASSWORD, "full_name": "New Comer"}


def register(**overrides):
    return APIClient().post(f"{API}/auth/register", {**NEWCOMER, **overrides}, format="json")


def test_registration_is_disabled_by_default():
    assert_error(register(), 403, "REGISTRATION_DISABLED")
    assert not User.objects.filter(email=NEWCOMER["email"]).exists()


def test_registration_creates_an_active_viewer_when_enabled(settings):
    settings.SELF_REGISTRATION_ENABLED = True

    response = register(role="viewer")

    assert response.status_code == 201, response.content
    user = User.objects.get(email=NEWCOMER["email"])
    assert (user.role, user.is_active, response.json()["role"]) == ("viewer", True, "viewer")
    assert login(NEWCOMER["email"], NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("role", ["admin", "demand_planner", "no_such_role"])
def test_registration_refuses_any_other_role(settings, role):
    settings.SELF_REGISTRATION_ENABLED = True

    assert_error(register(role=role), 403, "PERMISSION_DENIED")
    assert not User.objects.filter(email=NEWCOMER["email"]).exists()


def test_registration_refuses_a_taken_email(settings, planner):
    settings.SELF_REGISTRATION_ENABLED = True

    assert_error(register(email=planner.email.upper()), 409, "DUPLICATE_ENTITY")


def test_registration_applies_the_password_policy(settings):
    settings.SELF_REGISTRATION_ENABLED = True

    assert_error(register(password="12345678"), 400, "VALIDATION_ERROR")


def test_providers_describe_the_sign_in_options(settings):
    settings.SELF_REGISTRATION_ENABLED = True

    response = APIClient().get(f"{API}/auth/providers")

    assert response.status_code == 200
    assert response.json() == {
        "local_login_enabled": True,
        "api_login_enabled": True,
        "sso_enabled": False,
        "sso_login_url": None,
        "self_registration_enabled": True,
    }
