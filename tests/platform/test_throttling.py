"""API rate limits (API-13, ACC-18): per user, per anonymous client, on writes and on the login endpoints."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from genxsop.settings.env import env_rate
from governance.choices import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1"
GENEROUS = "10000/min"


@pytest.fixture
def rates(settings):
    """`rates(login="3/min")`: the test's own limits, everything else generous; counters start at zero."""

    def apply(**overrides):
        table = {"anon": GENEROUS, "user": GENEROUS, "writes": GENEROUS, "login": GENEROUS, **overrides}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": table}
        cache.clear()

    return apply


def assert_rate_limited(response) -> None:
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    detail = response.json()["detail"]
    assert detail["code"] == "RATE_LIMITED"
    assert detail["context"]["retry_after"] == retry_after
    assert detail["request_id"] == response["X-Request-ID"]


def test_login_attempts_are_limited_per_client_address(users, rates):
    rates(login="3/min")
    email = users[Role.VIEWER].email
    client = APIClient()

    answers = [
        client.post(f"{API}/auth/login", {"email": email, "password": "wrong"}, format="json").status_code
        for _ in range(3)
    ]
    assert answers == [401, 401, 401]

    # Even the right password waits: the limit is on attempts, not failures.
    assert_rate_limited(client.post(f"{API}/auth/login", {"email": email, "password": PASSWORD}, format="json"))
    # Another address has its own budget.
    other = APIClient(REMOTE_ADDR="10.1.2.3")
    assert other.post(f"{API}/auth/login", {"email": email, "password": PASSWORD}, format="json").status_code == 200


def test_refresh_shares_the_login_budget(users, rates):
    rates(login="2/min")
    client = APIClient()

    credentials = {"email": users[Role.VIEWER].email, "password": PASSWORD}
    assert client.post(f"{API}/auth/login", credentials).status_code == 200
    assert client.post(f"{API}/auth/refresh", {"refresh_token": "gxr_x"}, format="json").status_code == 401

    assert_rate_limited(client.post(f"{API}/auth/refresh", {"refresh_token": "gxr_x"}, format="json"))


def test_writes_have_their_own_limit_per_user(users, rates):
    rates(writes="2/min")
    client = APIClient()
    client.force_login(users[Role.VIEWER])

    for _ in range(2):
        assert client.post(f"{API}/auth/logout", {}, format="json").status_code == 204

    assert_rate_limited(client.post(f"{API}/auth/logout", {}, format="json"))
    # Reads are not writes.
    assert client.get(f"{API}/auth/me").status_code == 200
    # Another user is not affected.
    other = APIClient()
    other.force_login(users[Role.ADMIN])
    assert other.post(f"{API}/auth/logout", {}, format="json").status_code == 204


def test_requests_are_limited_per_user_whatever_the_credential(users, rates, api_client_for):
    rates(user="3/min")
    planner = users[Role.DEMAND_PLANNER]
    token_client = api_client_for(planner)
    session_client = APIClient()
    session_client.force_login(planner)

    assert token_client.get(f"{API}/auth/me").status_code == 200
    assert session_client.get(f"{API}/auth/me").status_code == 200
    assert token_client.get(f"{API}/auth/me").status_code == 200

    assert_rate_limited(session_client.get(f"{API}/auth/me"))


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, moved by hand: `clock.now = 30.0`."""
    from genxsop.api import throttling

    class Clock:
        now = 1_000_000.0

    for throttle in (throttling.UserThrottle, throttling.AnonThrottle, throttling.WriteThrottle):
        monkeypatch.setattr(throttle, "timer", lambda self: Clock.now)
    return Clock


def test_the_user_limit_is_a_sliding_window(users, rates, api_client_for, clock):
    rates(user="3/min")
    client = api_client_for(users[Role.DEMAND_PLANNER])
    start = clock.now
    for offset in (0, 20, 40):
        clock.now = start + offset
        assert client.get(f"{API}/auth/me").status_code == 200

    clock.now = start + 59
    response = client.get(f"{API}/auth/me")
    assert_rate_limited(response)
    assert int(response["Retry-After"]) == 1  # the request at 0 leaves the window at 60

    clock.now = start + 60.5
    assert client.get(f"{API}/auth/me").status_code == 200
    clock.now = start + 61
    assert_rate_limited(client.get(f"{API}/auth/me"))


def test_the_stored_counter_stays_small_whatever_the_rate(users, rates, api_client_for, clock):
    rates(user="100000/min")
    planner = users[Role.DEMAND_PLANNER]
    client = api_client_for(planner)
    for _ in range(300):
        clock.now += 0.25
        assert client.get(f"{API}/auth/me").status_code == 200

    stored = cache.get(f"throttle_user_{planner.pk}")
    # One entry per second of the window rather than one per request, still counting the 240 requests of
    # the last minute (and at most the few of the second that straddles its start).
    assert len(stored) <= 61
    assert 240 <= sum(count for _, count, _ in stored) <= 244


def test_anonymous_clients_are_limited_per_address(rates):
    rates(anon="2/min")
    client = APIClient()

    assert [client.get(f"{API}/").status_code for _ in range(2)] == [200, 200]

    assert_rate_limited(client.get(f"{API}/"))


def test_a_forged_forwarded_for_header_buys_no_fresh_budget(users, rates, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    rates(login="1/min")
    client = APIClient()
    body = {"email": users[Role.VIEWER].email, "password": "wrong"}

    assert client.post(f"{API}/auth/login", body, format="json", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 401

    assert_rate_limited(client.post(f"{API}/auth/login", body, format="json", HTTP_X_FORWARDED_FOR="2.2.2.2"))


@pytest.mark.parametrize("value", ["30/min", "5/s", "1000/hour", "2/day", " 60/M "])
def test_rate_settings_accept_drf_rates(monkeypatch, value):
    monkeypatch.setenv("AUTH_THROTTLE_RATE", value)

    assert env_rate("AUTH_THROTTLE_RATE", "30/min") == value.strip().lower()


@pytest.mark.parametrize("value", ["30 per minute", "0/min", "min/30", "30/fortnight", "30"])
def test_a_malformed_rate_stops_startup(monkeypatch, value):
    monkeypatch.setenv("AUTH_THROTTLE_RATE", value)

    with pytest.raises(ImproperlyConfigured, match="AUTH_THROTTLE_RATE"):
        env_rate("AUTH_THROTTLE_RATE", "30/min")
