"""Reactions of the governance app to signals of Django, allauth and django-axes.

Each receiver only translates the signal into a call of a governance service, which writes the
state and the audit row in one transaction (GOV-30/31). Signal arguments may carry
credentials: only the email is ever passed on.
"""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth import signals as auth_signals
from django.db.models import signals as model_signals
from django.dispatch import receiver

from governance.models import User
from governance.services import sessions

# Backends whose logins are local-account sign-ins; SSO logins are recorded by the SSO flow.
LOCAL_BACKENDS = {
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
}


@receiver(auth_signals.user_logged_in, dispatch_uid="governance.login_succeeded")
def _logged_in(sender, request, user, **kwargs):
    # Only a session login (django.contrib.auth.login) stamps the session; API logins issue tokens.
    if request is not None and "_auth_user_id" in getattr(request, "session", {}):
        from governance.middleware import mark_session_start

        mark_session_start(request)
    # Only sign-ins made through a web request are events; Client.force_login and the shell are not.
    if getattr(user, "backend", None) in LOCAL_BACKENDS and hasattr(request, "request_context"):
        method = "password+totp" if sessions.user_has_totp(user) else "password"
        sessions.login_success_record(user=user, method=method)


@receiver(auth_signals.user_login_failed, dispatch_uid="governance.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    from governance.axes import get_username

    email = get_username(request, credentials)
    # axes handled the signal first (its app is listed earlier): it marks the request locked and
    # counts the failure, except for attempts refused because the account was already locked.
    locked = bool(getattr(request, "axes_locked_out", False))
    failures = getattr(request, "axes_failures_since_start", None)
    already_locked = locked and failures is None
    sessions.login_failure_record(
        email=email, failures=failures, reason="locked" if already_locked else "invalid_credentials"
    )
    if locked:
        sessions.login_lockout_record(email=email)


@receiver(auth_signals.user_logged_out, dispatch_uid="governance.logged_out")
def _logged_out(sender, request, user, **kwargs):
    if user is None or not getattr(user, "is_authenticated", False):
        return
    from governance.middleware import LOGOUT_REASON_ATTR

    sessions.logout_record(user=user, reason=getattr(request, LOGOUT_REASON_ATTR, "user"))


@receiver(account_signals.password_changed, dispatch_uid="governance.password_changed")
def _password_changed(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    sessions.password_changed_record(user=user, keep_session_key=session.session_key if session else None)


@receiver(account_signals.password_reset, dispatch_uid="governance.password_reset")
def _password_reset(sender, request, user, **kwargs):
    sessions.password_reset_record(user=user)


# allauth announces an added authenticator only after its transaction committed, so TOTP
# enrolment and removal are audited from the model signals, inside the transaction that writes
# the Authenticator row (GOV-31; MfaChangeAtomicMiddleware wraps allauth's pages).
@receiver(model_signals.post_save, sender=Authenticator, dispatch_uid="governance.mfa_added")
def _mfa_added(sender, instance, created, raw=False, **kwargs):
    if created and not raw and instance.type == Authenticator.Type.TOTP:
        sessions.mfa_enabled_record(user=instance.user, kind=instance.type)


@receiver(model_signals.post_delete, sender=Authenticator, dispatch_uid="governance.mfa_removed")
def _mfa_removed(sender, instance, origin=None, **kwargs):
    # Deleting the user takes their authenticators along; that is not an MFA change of its own.
    if instance.type == Authenticator.Type.TOTP and not isinstance(origin, User):
        sessions.mfa_disabled_record(user=instance.user, kind=instance.type)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="governance.mfa_reset")
def _mfa_reset(sender, request, user, authenticator, **kwargs):
    if authenticator.type == authenticator.Type.RECOVERY_CODES:
        sessions.mfa_recovery_codes_regenerated_record(user=user)


@receiver(mfa_signals.authentication_failed, dispatch_uid="governance.mfa_failed")
def _mfa_failed(sender, request, user, authenticator, **kwargs):
    sessions.login_failure_record(email=user.email, reason="mfa_code")
