"""Local accounts at the console (ACC-14, ACC-17, ACC-20, UI-02, UI-19): sign-in and out, reset, settings."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from governance import events
from governance.choices import ActorType, AuthSource, Role
from governance.models import AuditEvent
from tests.conftest import PASSWORD
from tests.governance.login_helpers import assert_csp_clean, is_signed_in, sign_in

NEW_PASSWORD = "Quiet-Harbor-Compass-77"


@pytest.fixture
def planner(make_user):
    return make_user(Role.DEMAND_PLANNER, email="pat@example.test", full_name="Pat Planner", department="Demand")


def test_sign_in_is_audited_and_welcomes_the_user_by_name(client, planner):
    response = sign_in(client, "PAT@example.test")

    assert response.status_code == 302
    assert is_signed_in(client)
    page = client.get(response["Location"])
    assert "Pat Planner" in page.content.decode()
    event = AuditEvent.objects.get(event_type=events.LOGIN_SUCCEEDED)
    assert (event.actor, event.actor_type, event.target_id) == (planner, ActorType.USER, str(planner.pk))
    assert (event.source, event.metadata["method"]) == ("ui", "password")
    assert event.ip_address == "127.0.0.1"
    assert PASSWORD not in str(event.metadata)


def test_sign_out_is_audited(client, planner):
    sign_in(client, planner.email)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert not is_signed_in(client)
    event = AuditEvent.objects.get(event_type=events.LOGOUT)
    assert (event.actor, event.metadata["reason"]) == (planner, "user")


def test_password_reset_by_email_sets_a_new_password(client, planner):
    # Given the planner forgot their password and asks for a reset e-mail
    response = client.post(reverse("account_reset_password"), {"email": "pat@example.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pat@example.test"]
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)

    # When they follow the link and choose a new password that meets the policy
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    weak = client.post(set_url, {"password1": "password", "password2": "password"})
    assert weak.status_code == 200
    assert weak.context["form"].errors
    done = client.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302

    # Then the new password signs in, the old one no longer does, and the reset is audited
    client.post(reverse("account_logout"))
    assert sign_in(client, planner.email, PASSWORD).status_code == 200
    assert sign_in(client, planner.email, NEW_PASSWORD).status_code == 302
    event = AuditEvent.objects.get(event_type=events.USER_PASSWORD_RESET)
    assert event.target_id == str(planner.pk)
    assert NEW_PASSWORD not in str(event.metadata)


def test_password_reset_for_an_unknown_email_answers_the_same_and_sends_no_link(client, planner):
    known = client.post(reverse("account_reset_password"), {"email": planner.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.test"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    # allauth tells the unknown address that no account exists, without a link
    assert [m.to for m in mail.outbox] == [[planner.email], ["nobody@example.test"]]
    assert "/accounts/password/reset/key/" not in mail.outbox[1].body


def test_sign_up_is_closed_by_default(client, db):
    response = client.get(reverse("account_signup"))
    assert "closed" in response.content.decode().lower()
    client.post(
        reverse("account_signup"), {"email": "new@example.test", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert not is_signed_in(client)


class TestSettingsPages:
    def test_user_menu_links_to_settings(self, client, planner):
        client.force_login(planner)
        assert reverse("governance:settings") in client.get("/").content.decode()
        assert client.get(reverse("governance:settings"))["Location"] == reverse("governance:settings_profile")

    def test_anonymous_visitors_go_to_the_login_page(self, client, db):
        response = client.get(reverse("governance:settings_profile"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    def test_profile_change_is_saved_and_audited(self, client, planner):
        client.force_login(planner)
        page = client.get(reverse("governance:settings_profile"))
        assert_csp_clean(page.content.decode())
        assert page.context["form"].initial == {"full_name": "Pat Planner", "department": "Demand"}

        response = client.post(
            reverse("governance:settings_profile"), {"full_name": "Pat Q. Planner", "department": "Supply"}
        )

        assert response.status_code == 302
        planner.refresh_from_db()
        assert (planner.full_name, planner.department) == ("Pat Q. Planner", "Supply")
        event = AuditEvent.objects.get(event_type=events.USER_UPDATED)
        assert event.before == {"full_name": "Pat Planner", "department": "Demand"}
        assert event.after == {"full_name": "Pat Q. Planner", "department": "Supply"}

    def test_profile_needs_a_name(self, client, planner):
        client.force_login(planner)
        response = client.post(reverse("governance:settings_profile"), {"full_name": "  ", "department": ""})
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not AuditEvent.objects.filter(event_type=events.USER_UPDATED).exists()

    def test_security_page_shows_password_policy_and_mfa_state(self, client, planner):
        client.force_login(planner)
        page = client.get(reverse("governance:settings_security"))
        html = page.content.decode()
        assert_csp_clean(html)
        assert "at least 12 characters" in html
        assert reverse("account_change_password") in html
        assert reverse("mfa_activate_totp") in html

    def test_sso_users_see_no_password_change(self, client, planner):
        planner.auth_source = AuthSource.SSO
        planner.save(update_fields=["auth_source"])
        client.force_login(planner)
        html = client.get(reverse("governance:settings_security")).content.decode()
        assert reverse("account_change_password") not in html
        assert "identity provider" in html

    def test_password_change_page_is_csp_clean(self, client, planner):
        client.force_login(planner)
        assert_csp_clean(client.get(reverse("account_change_password")).content.decode())
