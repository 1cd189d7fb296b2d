"""API rate limits (API-13, ACC-18), counted in the shared cache.

DRF's throttles copy the rate table when their module is imported; these read it on every request,
so a changed REST_FRAMEWORK setting (tests, reloaded configuration) takes effect.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings

from genxsop import context

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _LiveRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        # The client address as the request middleware resolved it (TRUSTED_PROXY_COUNT), so a
        # forged X-Forwarded-For cannot buy a fresh budget.
        return context.current().ip_address or super().get_ident(request)


class AnonThrottle(_LiveRateMixin, throttling.AnonRateThrottle):
    """API_THROTTLE_RATE_ANON per client address."""


class UserThrottle(_LiveRateMixin, throttling.UserRateThrottle):
    """API_THROTTLE_RATE_USER per user (a user's API tokens share the user's budget)."""


class WriteThrottle(_LiveRateMixin, throttling.UserRateThrottle):
    """API_THROTTLE_RATE_WRITE: unsafe methods only, per user (per address when anonymous)."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class LoginThrottle(_LiveRateMixin, throttling.SimpleRateThrottle):
    """AUTH_THROTTLE_RATE: attempts on the login endpoints per client address, signed in or not (ACC-18)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
