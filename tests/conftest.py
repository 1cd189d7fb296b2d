"""Shared fixtures: one user per role and API clients authenticated as them."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from governance.choices import Role
from governance.services import api_token_create, user_create
from governance.tokens import SCOPES

PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db):
    def make(role: str = Role.VIEWER, email: str | None = None, **extra):
        return user_create(
            actor=None,
            email=email or f"{role}-{make.count}@example.test",
            full_name=extra.pop("full_name", f"{Role(role).label} {make.count}"),
            role=role,
            password=extra.pop("password", PASSWORD),
            **extra,
        )

    make.count = 0

    def counted(*args, **kwargs):
        make.count += 1
        return make(*args, **kwargs)

    return counted


@pytest.fixture
def users(make_user) -> dict[str, object]:
    """One active user per role, keyed by role code."""
    return {role.value: make_user(role.value, email=f"{role.value}@example.test") for role in Role}


@pytest.fixture
def admin_user(users):
    return users[Role.ADMIN]


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_client_for(db):
    """`api_client_for(user, scopes=None)` -> APIClient sending a real integration token."""

    def build(user, scopes=None) -> APIClient:
        _, plaintext = api_token_create(actor=user, user=user, name="tests", scopes=list(scopes or SCOPES))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        client.token = plaintext
        return client

    return build


@pytest.fixture
def admin_api(admin_user, api_client_for) -> APIClient:
    return api_client_for(admin_user)
