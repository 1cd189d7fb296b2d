"""Retention of authentication leftovers (GOV-04, OPS-42): API login tokens and console sessions.

Run daily by the schedules in `governance.schedules`; safe to run at any time and any number of
times, since each run deletes only what is past its retention at that moment.
"""

import logging
from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance import audit, events
from governance.models import AuthToken

logger = logging.getLogger(__name__)

AUTH_TOKEN_RETENTION = timedelta(days=7)  # OPS-42: "7 days after expiry" (or revocation); no setting


class _Ref:
    """The audit target of a sweep: a set of rows, not one row."""

    def __init__(self, pk: str, label: str):
        self.pk = pk
        self.label = label

    def __str__(self) -> str:
        return self.label


@transaction.atomic
def auth_token_purge_expired(*, now: datetime | None = None) -> int:
    """Delete API login tokens that expired or were revoked more than 7 days ago; return how many.

    A system change (no actor). Always writes one governance.auth_token.purged audit row with the
    count and the cutoff, also when nothing was due, as evidence that the sweep ran.
    """
    now = now or timezone.now()
    cutoff = now - AUTH_TOKEN_RETENTION
    deleted, _ = AuthToken.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)).delete()
    audit.record(
        actor=None,
        event_type=events.AUTH_TOKEN_PURGED,
        target=_Ref("expired", "Expired or revoked API login tokens"),
        target_type="auth_tokens",
        after={"deleted": deleted},
        metadata={"cutoff": cutoff.isoformat(), "retention_days": AUTH_TOKEN_RETENTION.days},
    )
    logger.info("auth_tokens_purged", extra={"deleted": deleted, "cutoff": cutoff.isoformat()})
    return deleted


def session_purge_expired(*, now: datetime | None = None) -> int:
    """Delete console sessions past their expiry date (what `clearsessions` does); return how many.

    Housekeeping of rows nobody can use any more, so logged rather than audited.
    """
    now = now or timezone.now()
    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    logger.info("sessions_purged", extra={"deleted": deleted})
    return deleted


METRIC_BUCKET_RETENTION = timedelta(days=90)  # GOV-18


def metric_buckets_purge(*, now: datetime | None = None) -> int:
    """Delete SLI buckets older than 90 days, their sums carried into one row per route and method so that
    the /metrics counters never decrease; return how many. Housekeeping, so logged, not audited."""
    from django.db.models import Sum

    from genxsop import metrics
    from governance.models import ServiceMetricBucket

    cutoff = (now or timezone.now()) - METRIC_BUCKET_RETENTION
    with transaction.atomic():
        doomed = ServiceMetricBucket.objects.filter(minute__lt=cutoff).exclude(process=metrics.CARRY_PROCESS)
        totals = doomed.order_by().values("route_group", "method", "is_ml")
        for row in totals.annotate(**{f"sum_{f}": Sum(f) for f in metrics.COUNTER_FIELDS}):
            key = {"minute": metrics.CARRY_MINUTE, "route_group": row["route_group"], "method": row["method"],
                   "process": metrics.CARRY_PROCESS}  # fmt: skip
            metrics.add_counts(key, row["is_ml"], {f: row[f"sum_{f}"] or 0 for f in metrics.COUNTER_FIELDS})
        deleted, _ = doomed.delete()
    logger.info("metric_buckets_purged", extra={"deleted": deleted, "cutoff": cutoff.isoformat()})
    return deleted
