"""Shared-cache reads of the dashboard and KPI overviews (OPS-44).

An entry is keyed by (endpoint, parameters, role, object-scope signature) and, where the result depends
on the person rather than the role, the user id; so an entry is never served to a caller with another
role or scope. Each entry remembers the data version it was computed at, and a read serves it only while
that version is still current:

- the *generation*, a token in the shared cache replaced by any domain event that can change what the
  dashboards show (GOV-42); every process sees the new token at once when the cache is shared;
- the newest audit event id: every audited state change moves it, including the bulk paths that record
  their audit rows without publishing an event, and it is visible inside the writer's transaction.

Both are read before the result is computed, so a write that lands meanwhile leaves the new entry stale
rather than the stale one current. `DASHBOARD_CACHE_SECONDS` bounds an entry's life; 0 turns caching off.
A failing cache never fails the read: the result is computed as if there were no cache.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from genxsop.scoping import object_scope
from governance import bus

logger = logging.getLogger(__name__)

GENERATION_KEY = "readcache:generation"
_PREFIX = "readcache:v1"
# Account, security and export events change nothing a dashboard shows; a role or scope change gives the
# user a different key instead.
_QUIET_PREFIXES = (
    "governance.login.",
    "governance.user.",
    "governance.api_token.",
    "governance.auth_token.",
    "governance.mfa.",
    "governance.sso.",
    "governance.scope.",
    "governance.audit_log.",
    "governance.audit_chain.",
    "governance.comment.",
    "planning.data.exported",
)


def enabled() -> bool:
    return getattr(settings, "DASHBOARD_CACHE_SECONDS", 0) > 0


def scope_signature(user) -> str:
    """`all` for an unrestricted caller, else a stable hash of the resolved scope (subtrees included, so a
    moved category gives a new signature)."""
    scope = object_scope(user)
    if scope.unrestricted:
        return "all"
    parts = []
    for ids in (scope.category_view, scope.category_change, scope.location_view, scope.location_change):
        parts.append("*" if ids is None else ",".join(str(i) for i in sorted(ids)))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def entry_key(endpoint: str, user, params: tuple = (), *, per_user: bool = False) -> str:
    who = f"u{user.pk}" if per_user else f"{user.role}{'!' if user.is_superuser else ''}"
    args = hashlib.sha256(repr(params).encode()).hexdigest()[:16] if params else "-"
    # Plan windows and overdue days follow the business date (CNV-04): a new day is a new entry.
    today = timezone.now().astimezone(ZoneInfo(settings.PLANNING_TIME_ZONE)).date()
    return f"{_PREFIX}:{endpoint}:{args}:{who}:{scope_signature(user)}:{today:%Y%m%d}"


def _audit_mark() -> int:
    from governance.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def cached(endpoint: str, user, compute: Callable[[], Any], *, params: tuple = (), per_user: bool = False) -> Any:
    """`compute()` from the shared cache when a current entry exists, else computed and stored."""
    if not enabled():
        return compute()
    key = entry_key(endpoint, user, params, per_user=per_user)
    mark = _audit_mark()
    try:
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY) or _start_generation()
        entry = found.get(key)
        if isinstance(entry, tuple) and len(entry) == 3 and entry[:2] == (generation, mark):
            return entry[2]
    except Exception:
        logger.warning("read_cache_unavailable", exc_info=True, extra={"endpoint": endpoint})
        return compute()
    value = compute()
    try:
        cache.set(key, (generation, mark, value), settings.DASHBOARD_CACHE_SECONDS)
    except Exception:
        logger.warning("read_cache_unavailable", exc_info=True, extra={"endpoint": endpoint})
    return value


def _start_generation() -> str:
    # A fresh token, never a counter restarting at 0: an evicted generation must not revive old entries.
    token = uuid.uuid4().hex
    cache.add(GENERATION_KEY, token, None)
    return cache.get(GENERATION_KEY) or token


def invalidate() -> None:
    """Retire every entry (they expire on their own; none is served again)."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("read_cache_invalidation_failed", exc_info=True)


@bus.subscribe("*")
def invalidate_on_event(event: str, payload: dict) -> None:
    """GOV-42: any plan, inventory, KPI, cycle, scenario, publication, exception, recommendation or
    production change (and any other domain event but the quiet ones) retires the cached reads."""
    if not event.startswith(_QUIET_PREFIXES):
        invalidate()
