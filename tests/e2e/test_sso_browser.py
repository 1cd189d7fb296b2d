"""SSO in a real browser against a real OpenID provider (panva oidc-provider on loopback, tests/sso).

The provider runs on 127.0.0.1 and the live server on localhost, so their cookies stay apart.
Without node/npm the tests skip, except in CI (env CI set), where they must fail instead.
"""

import copy
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from governance import events
from governance.choices import AuthSource, Role
from governance.models import AuditEvent, SsoIdentity, User
from tests.e2e.console import csp_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SSO_DIR = Path(__file__).resolve().parent.parent / "sso"
CLIENT_ID = "sop-console"
CLIENT_SECRET = "sop-secret"  # the loopback provider's test client


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the SSO e2e tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def provider(live_server, tmp_path):
    """Start tests/sso/provider.mjs on a free port for this live server; yields the issuer URL."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _unavailable("node and npm are needed for the SSO e2e tests (apt-get install -y nodejs npm)")
    if not (SSO_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run([npm, "ci", "--prefix", str(SSO_DIR), "--no-audit", "--no-fund"], check=True, timeout=300)  # noqa: S603
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OP_PORT": str(port), "OP_ISSUER": issuer, "RP_BASE": live_server.url,
           "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET}  # fmt: skip
    log = (tmp_path / "provider.log").open("wb")  # a file, not a pipe: a full pipe would block the provider
    process = subprocess.Popen([node, str(SSO_DIR / "provider.mjs")], env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=1) as answer:  # noqa: S310
                    json.load(answer)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "provider.log").read_text(errors="replace")
                    pytest.fail(f"the OIDC provider did not start: {output[-2000:]}")
                time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def sso(settings, provider):
    """Point the OIDC settings at the loopback provider, as the OIDC_* environment variables would."""
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_ISSUER = provider
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider}/auth"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider}/me"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider}/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{provider}/session/end"
    settings.OIDC_ROLE_MAPPING = {"planners": Role.DEMAND_PLANNER, "sop-admins": Role.ADMIN}
    # The CSP is computed from the environment at startup (form-action gets the provider origin).
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [*policy["DIRECTIVES"]["form-action"], provider]
    settings.CONTENT_SECURITY_POLICY = policy
    from governance import oidc

    oidc.clear_jwks_cache()
    return provider


def _sign_in_at_provider(page, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any-password")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    if "/interaction/" in page.url:  # the consent step, the first time this client is used
        page.locator("button[type=submit]").click()


def test_sso_login_provisions_the_user_and_logout_ends_the_provider_session(page, live_server, sso):
    # Given an anonymous visitor on the sign-in page
    page.goto("/accounts/login/?next=/catalog/products/")

    # When they choose single sign-on and sign in at the provider as a member of "planners"
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso}/interaction/**")
    _sign_in_at_provider(page, "planner1")

    # Then they come back signed in, to where they were going, as a JIT user with the mapped role
    page.wait_for_url(f"{live_server.url}/catalog/products/")
    assert page.locator(".user-menu__name").inner_text() == "Pat Planner"
    user = User.objects.get(email="planner1@example.test")
    assert user.role == Role.DEMAND_PLANNER
    assert user.auth_source == AuthSource.SSO
    assert not user.has_usable_password()
    assert SsoIdentity.objects.get(user=user).issuer == sso
    provisioned = AuditEvent.objects.get(event_type=events.SSO_PROVISIONED)
    assert provisioned.metadata["subject"] == "planner1"
    assert provisioned.metadata["role"] == Role.DEMAND_PLANNER
    assert AuditEvent.objects.filter(event_type=events.SSO_LOGIN, target_id=str(user.pk)).count() == 1

    # When they sign out of the console
    page.locator(".user-menu__summary").click()
    page.get_by_role("button", name="Sign out").click()

    # Then the provider's end-session page confirms, and they land on the console's sign-in page
    page.wait_for_url(f"{sso}/session/end**")
    page.locator("button[autofocus], button[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/accounts/login/**")

    # And the provider session is gone: signing in again asks for credentials
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso}/interaction/**")
    assert page.locator("input[name=login]").is_visible()
    assert csp_violations(page) == []


def test_refused_token_shows_an_error_on_the_login_page_not_a_500(page, live_server, sso, settings):
    # Given a console that expects another issuer than the one signing the tokens (a mix-up)
    settings.OIDC_OP_ISSUER = f"{sso}/tenant-b"

    # When someone completes the provider login
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso}/interaction/**")
    _sign_in_at_provider(page, "admin1")

    # Then they are back on the sign-in page with an explanation, signed out, and nobody was created
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.get_by_text("Single sign-on failed. Try again or contact an administrator.").is_visible()
    assert not User.objects.filter(email="admin1@example.test").exists()
    refused = AuditEvent.objects.get(event_type=events.SSO_REFUSED)
    assert refused.metadata["reason"] == "invalid_id_token"
    assert refused.metadata["subject"] == "admin1"


def test_unmapped_user_is_refused_when_unmapped_users_are_denied(page, live_server, sso, settings):
    settings.OIDC_DENY_UNMAPPED = True
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso}/interaction/**")
    _sign_in_at_provider(page, "outsider1")

    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.get_by_text("Your account has not been provisioned").is_visible()
    assert not User.objects.filter(email="outsider1@example.test").exists()


@pytest.mark.parametrize(
    ("provider_login", "local_email", "link_by_email"),
    [
        pytest.param("unverified1", "lena.local@example.test", True, id="email-not-verified"),
        pytest.param("planner1", "planner1@example.test", False, id="verified-but-linking-off"),
    ],
)
def test_local_account_with_the_same_email_is_not_taken_over(
    page, live_server, sso, settings, provider_login, local_email, link_by_email
):
    # Given a local account with a password whose email the provider's account also claims
    from governance.services import user_create
    from tests.conftest import PASSWORD

    settings.OIDC_LINK_BY_EMAIL = link_by_email
    local = user_create(actor=None, email=local_email, full_name="Lena Local", role=Role.VIEWER, password=PASSWORD)

    # When someone signs in through SSO with that provider account (unverified email, or linking off)
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso}/interaction/**")
    _sign_in_at_provider(page, provider_login)

    # Then the console refuses on its sign-in page and the local account is untouched
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.get_by_text("Your account has not been provisioned").is_visible()
    assert page.locator(".user-menu__name").count() == 0
    assert not SsoIdentity.objects.exists()
    assert User.objects.count() == 1
    local.refresh_from_db()
    assert (local.role, local.auth_source, local.role_managed_by) == (Role.VIEWER, AuthSource.LOCAL, AuthSource.LOCAL)
    refused = AuditEvent.objects.get(event_type=events.SSO_REFUSED)
    assert (refused.metadata["reason"], refused.metadata["subject"]) == ("email_in_use", provider_login)

    # And the owner still signs in with the local password, as themselves
    page.locator("input[name=login]").fill(local_email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".user-menu__name").inner_text() == "Lena Local"
    assert not SsoIdentity.objects.filter(user=local).exists()
    assert csp_violations(page) == []
