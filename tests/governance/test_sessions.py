"""ACC-21 / ACC-17: console sessions rotate on login, time out idle and absolutely, and end on password change."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from governance import events
from governance.choices import Role
from governance.middleware import SESSION_AUTH_AT, SESSION_SEEN_AT
from governance.models import AuditEvent
from governance.services import sessions_revoke_for_user
from tests.conftest import PASSWORD
from tests.governance.login_helpers import is_signed_in, sign_in

NEW_PASSWORD = "Fresh-Orbit-Lantern-42"


@pytest.fixture
def planner(make_user):
    return make_user(Role.DEMAND_PLANNER, email="pat@example.test")


def _shift(client, **seconds_ago):
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def _sessions_of(user) -> list[str]:
    return [s.session_key for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]


def test_login_rotates_the_session_key(client, planner):
    session = client.session
    session["visited"] = True
    session.save()
    before = session.session_key

    sign_in(client, planner.email)

    assert is_signed_in(client)
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_activity_within_the_idle_limit_keeps_the_session_alive(client, planner):
    sign_in(client, planner.email)
    _shift(client, **{SESSION_SEEN_AT: 59 * 60})

    assert client.get("/").status_code == 200
    assert int(time.time()) - client.session[SESSION_SEEN_AT] < 5


def test_idle_session_is_signed_out_and_sent_to_the_login_page(client, planner):
    sign_in(client, planner.email)
    _shift(client, **{SESSION_SEEN_AT: 61 * 60})

    response = client.get(reverse("planning:product_list"), follow=True)

    assert response.redirect_chain[0][0] == reverse("account_login") + "?next=%2Fcatalog%2Fproducts%2F"
    assert "Your session has expired" in response.content.decode()
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(event_type=events.LOGOUT)
    assert (event.actor, event.metadata["reason"]) == (planner, "idle_timeout")


def test_session_ends_after_the_absolute_limit_even_when_active(client, planner):
    sign_in(client, planner.email)
    _shift(client, **{SESSION_AUTH_AT: 12 * 3600 + 1, SESSION_SEEN_AT: 10})

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not is_signed_in(client)
    assert AuditEvent.objects.get(event_type=events.LOGOUT).metadata["reason"] == "absolute_timeout"


def test_timeouts_follow_the_settings(client, planner, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    sign_in(client, planner.email)
    _shift(client, **{SESSION_SEEN_AT: 6 * 60})
    assert client.get("/").status_code == 302


def test_expired_session_on_the_api_is_simply_anonymous(client, planner):
    sign_in(client, planner.email)
    _shift(client, **{SESSION_SEEN_AT: 61 * 60})

    response = client.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert not is_signed_in(client)


def test_probes_do_not_touch_the_session(client, planner):
    sign_in(client, planner.email)
    _shift(client, **{SESSION_SEEN_AT: 61 * 60})
    assert client.get("/health").status_code == 200
    assert is_signed_in(client)


def test_password_change_ends_the_other_sessions_and_keeps_this_one(client, planner):
    # Given the planner is signed in on two devices
    other = Client()
    sign_in(client, planner.email)
    sign_in(other, planner.email)
    assert len(_sessions_of(planner)) == 2

    # When they change their password on the first one
    page = client.get(reverse("account_change_password"))
    assert "at least 12 characters" in page.content.decode()  # the policy is shown
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    # Then this device stays signed in and the other one is out
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert _sessions_of(planner) == [client.session.session_key]
    event = AuditEvent.objects.get(event_type=events.USER_PASSWORD_CHANGED)
    assert (event.actor, event.metadata["sessions_revoked"]) == (planner, 1)
    assert NEW_PASSWORD not in str(event.metadata)
    assert PASSWORD not in str(event.metadata)
    # and the new password is the one that works
    client.post(reverse("account_logout"))
    assert sign_in(client, planner.email, NEW_PASSWORD).status_code == 302


def test_password_change_refuses_a_password_against_the_policy(client, planner):
    sign_in(client, planner.email)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not AuditEvent.objects.filter(event_type=events.USER_PASSWORD_CHANGED).exists()


def test_revoking_sessions_leaves_other_users_alone(client, planner, make_user):
    viewer = make_user(Role.VIEWER)
    other = Client()
    sign_in(client, planner.email)
    sign_in(other, viewer.email)

    assert sessions_revoke_for_user(user=planner) == 1

    assert not is_signed_in(client) or client.get("/").status_code == 302
    assert other.get("/").status_code == 200
