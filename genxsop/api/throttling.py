"""API rate limits (API-13, ACC-18), counted in the shared cache.

DRF's throttles copy the rate table when their module is imported; these read it on every request,
so a changed REST_FRAMEWORK setting (tests, reloaded configuration) takes effect.

DRF keeps one timestamp per request in the window, read, unpickled, pickled and written back on every
request: with a high rate (integrations, the load bench) that is thousands of entries per request.
These keep at most `SLOTS` (slot, count, newest timestamp) triples instead, so the cost stays flat
whatever the rate. A slot is counted until its newest request leaves the window, so no window of the
rate's duration ever admits more than its count, as with DRF's list.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings

from genxsop import context

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _LiveRateMixin:
    SLOTS = 60

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        horizon = self.now - self.duration
        # Newest first; anything else under the key (a list of floats from DRF's format) starts afresh.
        stored = self.cache.get(self.key)
        slots = [s for s in stored if isinstance(s, tuple) and s[2] > horizon] if isinstance(stored, list) else []
        self.history = slots
        if sum(count for _, count, _ in slots) >= self.num_requests:
            return self.throttle_failure()
        slot = int(self.now * self.SLOTS // self.duration)
        if slots and slots[0][0] == slot:
            slots[0] = (slot, slots[0][1] + 1, self.now)
        else:
            slots.insert(0, (slot, 1, self.now))
            del slots[self.SLOTS + 1 :]
        self.cache.set(self.key, slots, self.duration)
        return True

    def wait(self):
        used = sum(count for _, count, _ in self.history)
        remaining = self.duration - (self.now - self.history[-1][2]) if self.history else self.duration
        available = self.num_requests - used + 1
        if available <= 0:
            return None
        return remaining / float(available)

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
