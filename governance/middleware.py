"""Console session rules: idle and absolute timeouts (ACC-21) and enforced MFA enrolment (ACC-19)."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from genxsop.middleware import PROBE_PATHS

SESSION_AUTH_AT = "gx_auth_at"  # when this session signed in (epoch seconds)
SESSION_SEEN_AT = "gx_seen_at"  # last request of this session (epoch seconds)
LOGOUT_REASON_ATTR = "gx_logout_reason"  # read by the logout receiver for the audit row
# Writing the session on every request would cost a write per page; a minute of slack is plenty
# against an idle limit counted in minutes.
SEEN_AT_RESOLUTION = 60


def _is_exempt(path: str) -> bool:
    return path.rstrip("/") in PROBE_PATHS or path.startswith((settings.STATIC_URL, "/csp-report"))


def mark_session_start(request) -> None:
    """Stamp a freshly signed-in session (called by the login receiver)."""
    now = int(time.time())
    request.session[SESSION_AUTH_AT] = now
    request.session[SESSION_SEEN_AT] = now


class SessionTimeoutMiddleware:
    """Signs a console session out after SESSION_IDLE_TIMEOUT_MINUTES without a request, or
    SESSION_ABSOLUTE_TIMEOUT_HOURS after sign-in, whichever comes first. Console pages then go to
    the sign-in page with a message; API calls made with the session continue as anonymous (401).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _is_exempt(request.path_info) and request.user.is_authenticated:
            expired = self._expired(request)
            if expired:
                setattr(request, LOGOUT_REASON_ATTR, expired)
                logout(request)
                if not request.path_info.startswith("/api/"):
                    messages.info(request, "Your session has expired. Please sign in again.")
                    query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
                    return HttpResponseRedirect(reverse("account_login") + (f"?{query}" if query else ""))
        return self.get_response(request)

    @staticmethod
    def _expired(request) -> str:
        session = request.session
        now = int(time.time())
        auth_at = session.get(SESSION_AUTH_AT)
        seen_at = session.get(SESSION_SEEN_AT)
        if auth_at is None or seen_at is None:
            # A session from before this rule (or made by a test client's login()): start the clocks.
            session.setdefault(SESSION_AUTH_AT, now)
            session[SESSION_SEEN_AT] = now
            return ""
        if now - int(auth_at) >= settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600:
            return "absolute_timeout"
        if now - int(seen_at) >= settings.SESSION_IDLE_TIMEOUT_MINUTES * 60:
            return "idle_timeout"
        if now - int(seen_at) >= SEEN_AT_RESOLUTION:
            session[SESSION_SEEN_AT] = now
        return ""


class MfaEnrolmentMiddleware:
    """Users whose role is in MFA_REQUIRED_ROLES reach no console page before enrolling TOTP.

    The enrolment pages (allauth's /accounts/2fa/ and re-authentication), sign-out, static files,
    probes and the API stay reachable; the API enforces MFA at its own login (ACC-19).
    """

    ALLOWED_URL_NAMES = ("account_logout", "account_reauthenticate", "mfa_reauthenticate")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.MFA_REQUIRED_ROLES
            and not _is_exempt(request.path_info)
            and not request.path_info.startswith(("/api/", "/accounts/2fa/"))
            and request.user.is_authenticated
            and request.path_info not in self._allowed_paths()
        ):
            from governance.services.sessions import mfa_enrolment_required

            if mfa_enrolment_required(request.user):
                messages.warning(request, "Your role requires two-factor authentication. Set up an authenticator app.")
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    def _allowed_paths(self) -> set[str]:
        return {reverse(name) for name in self.ALLOWED_URL_NAMES}


class MfaChangeAtomicMiddleware:
    """Runs allauth's MFA change pages (POST) in one database transaction (GOV-31).

    allauth writes the Authenticator rows and the receivers in governance.receivers write the
    audit row from the model signals, so both commit together or not at all. A response that
    ends in a server error (an exception the view did not handle) rolls everything back.
    """

    URL_NAMES = ("mfa_activate_totp", "mfa_deactivate_totp", "mfa_generate_recovery_codes")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or request.path_info not in self._paths():
            return self.get_response(request)
        with transaction.atomic():
            response = self.get_response(request)
            # Inner middleware turns an exception into the error page before it reaches here.
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response

    def _paths(self) -> set[str]:
        return {reverse(name) for name in self.URL_NAMES}
