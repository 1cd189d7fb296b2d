"""ACC-19 / UI-19: TOTP enrolment with recovery codes, the MFA sign-in step, roles that must enrol."""

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.urls import reverse

from governance import events
from governance.choices import AuthSource, Role
from governance.models import AuditEvent
from tests.governance.login_helpers import (
    assert_csp_clean,
    confirm_password,
    enrol_totp,
    is_signed_in,
    recovery_codes,
    sign_in,
    totp_now,
)


@pytest.fixture
def planner(make_user):
    return make_user(Role.DEMAND_PLANNER, email="pat@example.test")


@pytest.fixture
def enrolled(client, planner):
    """A planner who enrolled TOTP in Settings and signed out again; yields (user, secret)."""
    sign_in(client, planner.email)
    secret = enrol_totp(client)
    client.post(reverse("account_logout"))
    cache.clear()  # forget the used codes: the next step may fall in the same 30 s window
    return planner, secret


def test_enrolment_from_settings_shows_a_qr_code_and_is_audited(client, planner, django_capture_on_commit_callbacks):
    sign_in(client, planner.email)
    security = client.get(reverse("governance:settings_security"))
    assert reverse("mfa_activate_totp") in security.content.decode()

    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    reauth = client.get(reverse("account_reauthenticate"))
    assert_csp_clean(reauth.content.decode())
    confirm_password(client)
    page = client.get(reverse("mfa_activate_totp"))
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    assert_csp_clean(html)
    # allauth's own messages and mails follow once the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_activate_totp"), {"code": totp_now(page.context["form"].secret)})

    assert Authenticator.objects.filter(user=planner, type=Authenticator.Type.TOTP).exists()
    assert len(recovery_codes(planner)) == 10
    event = AuditEvent.objects.get(event_type=events.MFA_ENABLED)
    assert (event.actor, event.target_id, event.metadata["type"]) == (planner, str(planner.pk), "totp")
    assert event.target_type == "user"  # not the request's lazy wrapper
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert_csp_clean(codes.content.decode())
    assert recovery_codes(planner)[0] in codes.content.decode()


def test_wrong_enrolment_code_enrols_nothing(client, planner):
    sign_in(client, planner.email)
    confirm_password(client)
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=planner).exists()
    assert not AuditEvent.objects.filter(event_type=events.MFA_ENABLED).exists()


def test_enrolled_user_needs_the_current_code_after_the_password(client, enrolled):
    planner, secret = enrolled

    after_password = sign_in(client, planner.email)
    assert after_password.status_code == 302
    assert after_password["Location"] == reverse("mfa_authenticate")
    assert not is_signed_in(client)
    step = client.get(reverse("mfa_authenticate"))
    assert_csp_clean(step.content.decode())

    wrong = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert wrong.status_code == 200
    assert not is_signed_in(client)

    right = client.post(reverse("mfa_authenticate"), {"code": totp_now(secret)})
    assert right.status_code == 302
    assert is_signed_in(client)
    success = AuditEvent.objects.filter(event_type=events.LOGIN_SUCCEEDED, actor=planner).latest("id")
    assert success.metadata["method"] == "password+totp"
    failed = AuditEvent.objects.get(event_type=events.LOGIN_FAILED, metadata__reason="mfa_code")
    assert "123456" not in str(failed.metadata)


def test_a_used_code_cannot_be_replayed(client, enrolled):
    planner, secret = enrolled
    code = totp_now(secret)
    sign_in(client, planner.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    client.post(reverse("account_logout"))

    sign_in(client, planner.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert not is_signed_in(client)


def test_a_recovery_code_signs_in_once(client, enrolled):
    planner, _ = enrolled
    code = recovery_codes(planner)[0]

    sign_in(client, planner.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert is_signed_in(client)
    assert code not in recovery_codes(planner)
    client.post(reverse("account_logout"))

    sign_in(client, planner.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert not is_signed_in(client)


def test_removing_the_authenticator_is_audited(client, enrolled):
    planner, secret = enrolled
    sign_in(client, planner.email)
    client.post(reverse("mfa_authenticate"), {"code": totp_now(secret)})

    confirm_password(client)
    page = client.get(reverse("mfa_deactivate_totp"))
    assert_csp_clean(page.content.decode())
    client.post(reverse("mfa_deactivate_totp"))

    assert not Authenticator.objects.filter(user=planner, type=Authenticator.Type.TOTP).exists()
    assert AuditEvent.objects.filter(event_type=events.MFA_DISABLED, target_id=str(planner.pk)).count() == 1


class TestAuditAtomicity:
    """GOV-31: the Authenticator row and its audit row commit together, or neither does."""

    @staticmethod
    def _break_audit(monkeypatch):
        from governance import audit

        def fail(**kwargs):
            raise RuntimeError("audit store unavailable")

        monkeypatch.setattr(audit, "record", fail)

    @staticmethod
    def _post_expecting_error(client, url, data=None):
        client.raise_request_exception = False
        try:
            return client.post(url, data or {})
        finally:
            client.raise_request_exception = True

    def test_enrolment_writes_exactly_one_audit_row(self, client, planner):
        sign_in(client, planner.email)
        enrol_totp(client)
        assert Authenticator.objects.filter(user=planner, type=Authenticator.Type.TOTP).count() == 1
        assert AuditEvent.objects.filter(event_type=events.MFA_ENABLED, target_id=str(planner.pk)).count() == 1
        # the recovery codes made alongside are part of the enrolment, not an event of their own
        assert not AuditEvent.objects.filter(event_type=events.MFA_RECOVERY_CODES_REGENERATED).exists()

    def test_enrolment_is_rolled_back_when_its_audit_row_cannot_be_written(self, client, planner, monkeypatch):
        sign_in(client, planner.email)
        confirm_password(client)
        page = client.get(reverse("mfa_activate_totp"))
        self._break_audit(monkeypatch)
        response = self._post_expecting_error(
            client, reverse("mfa_activate_totp"), {"code": totp_now(page.context["form"].secret)}
        )

        assert response.status_code == 500
        assert not Authenticator.objects.filter(user=planner).exists()  # neither TOTP nor recovery codes
        assert not AuditEvent.objects.filter(event_type=events.MFA_ENABLED).exists()

    def test_removal_is_rolled_back_when_its_audit_row_cannot_be_written(self, client, enrolled, monkeypatch):
        planner, secret = enrolled
        sign_in(client, planner.email)
        client.post(reverse("mfa_authenticate"), {"code": totp_now(secret)})
        confirm_password(client)
        self._break_audit(monkeypatch)

        response = self._post_expecting_error(client, reverse("mfa_deactivate_totp"))

        assert response.status_code == 500
        kinds = set(Authenticator.objects.filter(user=planner).values_list("type", flat=True))
        assert kinds == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
        assert not AuditEvent.objects.filter(event_type=events.MFA_DISABLED).exists()

    def test_deleting_a_user_is_not_audited_as_an_mfa_removal(self, client, enrolled):
        planner, _ = enrolled
        # A person who acted cannot be deleted at all: the audit log protects its actors (ADR 0015).
        with pytest.raises(ProtectedError), transaction.atomic():
            planner.delete()
        assert not AuditEvent.objects.filter(event_type=events.MFA_DISABLED).exists()


class TestRequiredRoles:
    @pytest.fixture(autouse=True)
    def _require_mfa_for_admins(self, settings):
        settings.MFA_REQUIRED_ROLES = [Role.ADMIN]

    def test_admin_without_totp_is_sent_to_enrolment_before_any_page(self, client, admin_user):
        sign_in(client, admin_user.email)

        for url in ("/", reverse("planning:product_list"), reverse("governance:settings_profile")):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"] == reverse("mfa_activate_totp")
        # what enrolment and leaving need stays reachable
        confirm_password(client)
        assert client.get(reverse("mfa_activate_totp")).status_code == 200
        assert client.get("/health").status_code == 200
        assert client.get("/api/v1/auth/me").status_code != 302

    def test_after_enrolment_the_console_opens(self, client, admin_user):
        sign_in(client, admin_user.email)
        enrol_totp(client)
        assert client.get("/").status_code == 200

    def test_other_roles_are_not_asked(self, client, planner):
        sign_in(client, planner.email)
        assert client.get("/").status_code == 200

    def test_sso_users_rely_on_the_identity_provider(self, client, admin_user):
        admin_user.auth_source = AuthSource.SSO
        admin_user.save(update_fields=["auth_source"])
        client.force_login(admin_user)
        assert client.get("/").status_code == 200

    def test_signing_out_stays_possible(self, client, admin_user):
        sign_in(client, admin_user.email)
        response = client.post(reverse("account_logout"))
        assert response.status_code == 302
        assert not is_signed_in(client)


def test_an_anonymous_reset_request_cannot_block_mfa_enrolment(client, planner):
    # Given someone asks for a password reset for the planner's address (which allauth records
    # as an unverified address) ...
    client.post(reverse("account_reset_password"), {"email": planner.email})
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.filter(user=planner, verified=False).exists()
    # ... the planner can still sign in and enrol TOTP.
    sign_in(client, planner.email)
    enrol_totp(client)
    assert Authenticator.objects.filter(user=planner, type=Authenticator.Type.TOTP).exists()
