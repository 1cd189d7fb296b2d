"""Invitations (API-AUTH-10, UI-20): a person created without a password is e-mailed a set-password link."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from genxsop.errors import PermissionDenied
from governance import events
from governance.choices import AuthSource, Role
from governance.models import AuditEvent, User
from governance.services.admin_users import admin_user_create, user_invite
from tests.governance.login_helpers import assert_csp_clean, enrol_totp, is_signed_in, sign_in

pytestmark = pytest.mark.django_db
API = "/api/v1/auth/users"
NEW_PASSWORD = "Amber-Lantern-Orchard-31"
LINK = re.compile(r"https?://testserver(/accounts/password/reset/key/\S+/)")


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    client = APIClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def admin_console(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def invitation_link(message) -> str:
    return LINK.search(message.body).group(1)


def test_api_create_without_password_e_mails_an_invitation(admin_api, admin_user, django_capture_on_commit_callbacks):
    # When an admin creates a demand planner without a password through the API
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            API, {"email": "pat@example.test", "full_name": "Pat Planner", "role": "demand_planner"}, format="json"
        )
    assert response.status_code == 201, response.content

    # Then one e-mail goes to the new user, naming who invited them, their role and a set-password link
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@example.test"]
    assert admin_user.full_name in message.subject
    assert admin_user.full_name in message.body
    assert "Demand Planner" in message.body
    assert "/accounts/password/reset/key/" in invitation_link(message)

    # And the invitation is audited without the link or its key
    user = User.objects.get(email="pat@example.test")
    event = AuditEvent.objects.get(event_type=events.USER_INVITED)
    assert (event.actor, event.target_id, event.source) == (admin_user, str(user.pk), "api")
    assert event.metadata["resent"] is False
    key = invitation_link(message).rstrip("/").rsplit("/", 1)[-1]
    assert key not in str(event.metadata)
    assert "reset" not in str(event.metadata)


def test_invitee_sets_a_password_under_the_policy_and_then_signs_in(admin_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_api.post(API, {"email": "pat@example.test", "full_name": "Pat Planner", "role": "viewer"}, format="json")
    link = invitation_link(mail.outbox[0])
    invitee = Client()

    # When the invitee opens the link, they are asked to choose a password (the key leaves the URL)
    page = invitee.get(link, follow=True)
    assert page.status_code == 200
    set_url = page.redirect_chain[-1][0]
    assert "set-password" in set_url
    html = page.content.decode()
    assert "Choose your password" in html
    assert "Pat Planner" in html
    assert_csp_clean(html)

    # A password against the policy is refused
    weak = invitee.post(set_url, {"password1": "password", "password2": "password"})
    assert weak.status_code == 200
    assert weak.context["form"].errors
    assert not User.objects.get(email="pat@example.test").has_usable_password()

    # A good one is set; the link is then spent
    done = invitee.post(set_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert User.objects.get(email="pat@example.test").check_password(NEW_PASSWORD)
    spent = Client().get(link, follow=True)
    assert "Link no longer valid" in spent.content.decode()

    # And the password signs in, and the invitee may enrol TOTP: following the link verified the address
    assert sign_in(invitee, "pat@example.test", NEW_PASSWORD).status_code == 302
    assert is_signed_in(invitee)
    enrol_totp(invitee, NEW_PASSWORD)
    assert Authenticator.objects.filter(user__email="pat@example.test", type=Authenticator.Type.TOTP).exists()


def test_console_create_says_the_invitation_was_sent(admin_console, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_console.post(
            reverse("administration:user_create"),
            {"email": "sam@example.test", "full_name": "Sam Supply", "role": "supply_planner"},
            follow=True,
        )
    html = response.content.decode()
    assert "Invitation sent to sam@example.test" in html
    assert "Resend invitation" in html
    assert "invitation pending" in html
    assert [m.to for m in mail.outbox] == [["sam@example.test"]]
    assert AuditEvent.objects.filter(event_type=events.USER_INVITED, source="ui").count() == 1


def test_created_with_a_password_or_as_service_account_gets_no_invitation(
    admin_console, admin_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with_password = admin_console.post(
            reverse("administration:user_create"),
            {"email": "pw@example.test", "full_name": "Has Password", "role": "viewer", "password": NEW_PASSWORD},
            follow=True,
        )
        admin_api.post(API, {"email": "erp@example.test", "full_name": "ERP", "role": "sop_coordinator",
                             "is_service_account": True}, format="json")  # fmt: skip
    assert "Invitation sent" not in with_password.content.decode()
    assert "Resend invitation" not in with_password.content.decode()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(event_type=events.USER_INVITED).exists()
    erp = User.objects.get(email="erp@example.test")
    page = admin_console.get(reverse("administration:user_detail", args=[erp.pk])).content.decode()
    assert "Resend invitation" not in page


def test_resend_from_the_console_and_the_api(admin_console, admin_api, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = admin_user_create(actor=admin_user, email="pat@example.test", full_name="Pat", role="demand_planner")
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_console.post(reverse("administration:user_invite", args=[user.pk]), follow=True)
    assert "Invitation sent to pat@example.test" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        api = admin_api.post(f"{API}/{user.pk}/invite")
    assert api.status_code == 200
    assert api.json() == {"message": "Invitation sent to pat@example.test."}

    assert [m.to for m in mail.outbox] == [["pat@example.test"]] * 3
    resent = AuditEvent.objects.filter(event_type=events.USER_INVITED, metadata__resent=True)
    assert sorted(resent.values_list("source", flat=True)) == ["api", "ui"]
    # every link works until a password is set
    assert all("set-password" in Client().get(invitation_link(m))["Location"] for m in mail.outbox)


def test_resend_is_refused_once_the_invitation_no_longer_applies(admin_api, users, django_capture_on_commit_callbacks):
    has_password = users[Role.VIEWER]
    service = User.objects.create(email="svc@example.test", full_name="Svc", is_service_account=True)
    sso = User.objects.create(email="sso@example.test", full_name="Sso", auth_source=AuthSource.SSO)
    with django_capture_on_commit_callbacks(execute=True):
        for target, code in ((has_password, "BUSINESS_RULE_VIOLATION"), (service, "BUSINESS_RULE_VIOLATION"),
                             (sso, "SSO_ONLY_ACCOUNT")):  # fmt: skip
            response = admin_api.post(f"{API}/{target.pk}/invite")
            assert response.status_code == 409, target
            assert response.json()["error"]["code"] == code
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(event_type=events.USER_INVITED).exists()


def test_only_admins_invite(users):
    target = User.objects.create(email="new@example.test", full_name="New")
    target.set_unusable_password()
    target.save()
    with pytest.raises(PermissionDenied):
        user_invite(actor=users[Role.SOP_COORDINATOR], user=target)


def test_an_invitation_accepted_before_the_commit_sends_nothing(admin_user, django_capture_on_commit_callbacks):
    # A user who set a password between scheduling and sending gets no stale link.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = admin_user_create(actor=admin_user, email="pat@example.test", full_name="Pat", role="viewer")
    user.set_password(NEW_PASSWORD)
    user.save()
    for callback in callbacks:
        callback()
    assert mail.outbox == []
