"""Helpers for tests that sign in through the real allauth forms."""

import re
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse

from tests.conftest import PASSWORD


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def totp_now(secret: str, *, offset: int = 0) -> str:
    """The RFC 6238 code an authenticator app would show for `secret` now (30 s steps)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def enrol_totp(client, password: str = PASSWORD) -> str:
    """Walk the enrolment page: read the secret it offers, answer with a fresh code; returns the secret."""
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate")):
        # Security changes ask for the password again, even right after signing in (allauth).
        confirm_password(client, password)
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def confirm_password(client, password: str = PASSWORD) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content.decode()[:2000]


def recovery_codes(user) -> list[str]:
    return Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES).wrap().get_unused_codes()


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_csp_clean(html: str) -> None:
    """No inline style attributes, and no inline script without the page's nonce (OPS-09)."""
    assert not re.search(r"\sstyle=", html), "inline style= attribute"
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or "nonce=" in tag or 'type="application/json"' in tag, tag
