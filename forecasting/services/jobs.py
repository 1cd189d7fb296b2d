"""Forecast jobs (FC-04, FC-70…77, WF-21, API-FC-04…10): queue, cancel, retry, clean up, measure.

The job row, not the broker, is the source of truth: every status change is a conditional update
along `JOB_TRANSITIONS`, so a redelivered task, a late worker and the reaper can never move a
job backwards or out of a terminal status. The worker side lives in `forecasting.tasks`.
"""

import datetime
import logging
import math

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from forecasting import permissions as perms
from forecasting.choices import JOB_TERMINAL, JOB_TRANSITIONS, TOTAL_CHANNEL, TOTAL_REGION, JobErrorCode, JobKind
from forecasting.choices import JobStatus as S
from forecasting.models import ForecastJob
from genxsop import context, metrics, taskqueue, tasks
from genxsop.errors import InvalidStateTransition, NotFound, PermissionDenied, ValidationFailed
from genxsop.services import require_perm, snapshot
from governance import audit
from planning.choices import ProductStatus
from planning.models import Product

__all__ = [
    "JOB_CREATED",
    "JOB_TASK",
    "forecast_job_cancel",
    "forecast_job_create",
    "forecast_job_enqueue",
    "forecast_job_metrics",
    "forecast_job_retry",
    "forecast_job_transition",
    "forecast_jobs_cleanup",
    "forecast_jobs_reap",
    "forecast_nightly_job_create",
    "record_worker_event",
    "system_user",
]

logger = logging.getLogger(__name__)

JOB_TASK = "forecasting.tasks.run_forecast_job"
JOB_CREATED = "forecasting.job.created"
JOB_CANCELLED = "forecasting.job.cancelled"
JOB_CANCEL_REQUESTED = "forecasting.job.cancel_requested"
JOB_RETRIED = "forecasting.job.retried"
JOBS_CLEANED = "forecasting.jobs.cleaned"
SYSTEM_EMAIL = audit.SYSTEM_ACTOR_NAME
_PARAM_FIELDS = ("kind", "product_id", "scope", "horizon", "model_type", "model_params")


def forecast_job_transition(job_pk: int, action: str, *, guard: Q | None = None, **fields) -> bool:
    """Move the job along WF-21 `action` if its current status allows it (and `guard` holds); one UPDATE.

    Returns whether the row moved. Callers never assign a status themselves: concurrent workers,
    the reaper and OPS users race on this conditional update and exactly one of them wins.
    """
    moved = False
    now = timezone.now()
    for source, target in JOB_TRANSITIONS[action].items():
        if target in JOB_TERMINAL and "completed_at" not in fields:
            fields = {**fields, "completed_at": now}
        queryset = ForecastJob.objects.filter(pk=job_pk, status=source)
        if guard is not None:
            queryset = queryset.filter(guard)
        if queryset.update(status=target, updated_at=now, **fields):
            moved = True
            break
    return moved


def system_user():
    """The account scheduled work is requested by (FC-77): inactive, so nobody can sign in as it.

    Created on first use; like every account, its creation is an audit event (by the system).
    """
    from governance import events
    from governance.models import User

    user = User.objects.filter(email__iexact=SYSTEM_EMAIL).first()
    if user is None:
        with transaction.atomic():
            user = User(email=SYSTEM_EMAIL, full_name="System", is_active=False, is_service_account=True)
            user.set_unusable_password()
            user.save()
            audit.record(actor=None, event_type=events.USER_CREATED, target=user,
                         after=snapshot(user, ["email", "full_name", "role", "is_active", "is_service_account"]),
                         message="System account for scheduled work.")  # fmt: skip
    return user


def _validate_model(model_type, model_params) -> tuple[str | None, dict]:
    if model_params is not None and not isinstance(model_params, dict):
        raise ValidationFailed(fields={"model_params": ["Must be an object."]})
    try:
        from forecasting.services.generate import validate_model_request
    except ImportError:  # the generation module is not installed yet: nothing to validate against
        return model_type or None, dict(model_params or {})
    return validate_model_request(model_type or None, model_params or None)


def _validate_horizon(horizon) -> int:
    if horizon is None:
        return settings.FORECAST_DEFAULT_HORIZON
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= settings.FORECAST_MAX_HORIZON:
        raise ValidationFailed(fields={"horizon": [f"Must be an integer from 1 to {settings.FORECAST_MAX_HORIZON}."]})
    return horizon


def _check_products(actor, product_ids: list[int]) -> None:
    """Unknown or invisible products are 404 (ACC-11); visible ones outside the change scope are 403."""
    wanted = set(product_ids)
    visible = set(Product.objects.for_user(actor).filter(pk__in=wanted).values_list("pk", flat=True))
    missing = sorted(wanted - visible)
    if missing:
        raise NotFound("Product not found.", context={"product_ids": missing})
    writable = set(Product.objects.scope_for(actor, "change").filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - writable:
        raise PermissionDenied("Some products are outside your planning scope.",
                               context={"product_ids": sorted(wanted - writable)})  # fmt: skip


def forecast_job_enqueue(job: ForecastJob) -> str:
    """Hand the job to the workers once the current transaction commits; remember the task's name.

    The task carries only the job's pk (FC-70); the task name lets the reaper tell whether the
    broker still holds it.
    """
    task_id = tasks.enqueue(JOB_TASK, job.pk, q_options={"group": "forecast_jobs"})
    ForecastJob.objects.filter(pk=job.pk).update(task_id=task_id, updated_at=timezone.now())
    job.task_id = task_id
    return task_id


def _create(*, actor, kind, product, scope, horizon, model_type, model_params, idempotency_key=None, retry_of=None):
    job = ForecastJob(
        kind=kind,
        product=product,
        scope=scope,
        horizon=horizon,
        model_type=model_type,
        model_params=model_params,
        requested_by=actor,
        request_id=context.request_id() if context.request_id() != "-" else "",
        idempotency_key=idempotency_key,
        max_attempts=settings.FORECAST_JOB_MAX_ATTEMPTS,
        retry_of=retry_of,
    )
    job.save(force_insert=True)
    return job


def forecast_job_create(*, actor, product_ids=None, product_id=None, all_active=False, region=None, channel=None,
                        horizon=None, model_type=None, model_params=None,
                        idempotency_key=None) -> tuple[ForecastJob, bool]:  # fmt: skip
    """Queue a forecast job (API-FC-04). One `product_id` is a `generate` job; `product_ids` or
    `all_active` a `batch_generate` job. The same requester repeating an `idempotency_key` gets the
    job the key first created (created = False) and nothing new is queued.
    """
    require_perm(actor, perms.ADD_JOB)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 128:
            raise ValidationFailed(fields={"idempotency_key": ["At most 128 characters."]})
        existing = ForecastJob.objects.filter(requested_by=actor, idempotency_key=key).first()
        if existing is not None:
            return existing, False
    given = [product_id is not None, product_ids is not None, bool(all_active)]
    if sum(given) != 1:
        message = "Give exactly one of product_id, product_ids or all_active: true."
        raise ValidationFailed(message, fields={"product_id": [message]})
    horizon = _validate_horizon(horizon)
    model_type, model_params = _validate_model(model_type, model_params)
    region = (region or "").strip() or TOTAL_REGION
    channel = (channel or "").strip() or TOTAL_CHANNEL
    if product_ids is not None:
        if not isinstance(product_ids, list | tuple) or not product_ids:
            raise ValidationFailed(fields={"product_ids": ["Give at least one product id."]})
        if any(isinstance(p, bool) or not isinstance(p, int) for p in product_ids):
            raise ValidationFailed(fields={"product_ids": ["Product ids are integers."]})
        product_ids = sorted(set(product_ids))
    ids = [product_id] if product_id is not None else (product_ids or [])
    if ids:
        _check_products(actor, ids)
    product = Product.objects.get(pk=product_id) if product_id is not None else None
    kind = JobKind.GENERATE if product_id is not None else JobKind.BATCH_GENERATE
    scope = {"product_ids": ids, "all_active": bool(all_active), "region": region, "channel": channel}
    try:
        with transaction.atomic():
            job = _create(actor=actor, kind=kind, product=product, scope=scope, horizon=horizon, model_type=model_type,
                          model_params=model_params, idempotency_key=key)  # fmt: skip
            audit.record(actor=actor, event_type=JOB_CREATED, target=job, after=snapshot(job, list(_PARAM_FIELDS)))
            forecast_job_enqueue(job)
    except IntegrityError:
        # A concurrent request with the same key won the unique constraint: answer with its job.
        existing = ForecastJob.objects.filter(requested_by=actor, idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False
    return job, True


def forecast_nightly_job_create() -> ForecastJob:
    """FC-77: one batch job over every active product total, requested by the system user."""
    actor = system_user()
    scope = {"product_ids": [], "all_active": True, "region": TOTAL_REGION, "channel": TOTAL_CHANNEL}
    with transaction.atomic():
        job = _create(actor=actor, kind=JobKind.BATCH_GENERATE, product=None, scope=scope,
                      horizon=settings.FORECAST_DEFAULT_HORIZON, model_type=None, model_params={})  # fmt: skip
        audit.record(actor=None, event_type=JOB_CREATED, target=job, after=snapshot(job, list(_PARAM_FIELDS)),
                     message="Nightly forecast")  # fmt: skip
        forecast_job_enqueue(job)
    return job


def active_product_ids_for(job: ForecastJob) -> list[int]:
    """The products of an `all_active` job: active ones in the requester's scope (all for the system)."""
    queryset = Product.objects.filter(status=ProductStatus.ACTIVE)
    requester = job.requested_by
    if requester.email.lower() != SYSTEM_EMAIL:
        queryset = Product.objects.scope_for(requester, "change").filter(status=ProductStatus.ACTIVE)
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def _lock(job: ForecastJob) -> ForecastJob:
    return ForecastJob.objects.select_for_update().get(pk=job.pk)


def forecast_job_cancel(*, actor, job: ForecastJob) -> ForecastJob:
    """WF-21 cancel / request_cancel (API-FC-09): a queued job is cancelled at once; a running one is
    asked to stop at its next checkpoint (FC-72); a terminal one is 409."""
    require_perm(actor, perms.MANAGE_JOBS)
    with transaction.atomic():
        row = _lock(job)
        before = snapshot(row, ["status", "cancel_requested_at"])
        now = timezone.now()
        if row.status == S.QUEUED:
            forecast_job_transition(row.pk, "cancel", cancel_requested_at=now, cancel_requested_by=actor,
                                    error=f"Cancelled by {actor}", error_code=JobErrorCode.CANCELLED)  # fmt: skip
            event = JOB_CANCELLED
        elif row.status in JOB_TRANSITIONS["request_cancel"]:
            if row.cancel_requested_at is None:
                ForecastJob.objects.filter(pk=row.pk).update(cancel_requested_at=now, cancel_requested_by=actor,
                                                             updated_at=now)  # fmt: skip
            event = JOB_CANCEL_REQUESTED
        else:
            raise InvalidStateTransition(f"A {row.status} job cannot be cancelled.",
                                         context={"status": row.status, "job_id": row.job_id})  # fmt: skip
        row.refresh_from_db()
        audit.record(actor=actor, event_type=event, target=row, before=before,
                     after=snapshot(row, ["status", "cancel_requested_at"]))  # fmt: skip
    return row


def forecast_job_retry(*, actor, job: ForecastJob) -> ForecastJob:
    """WF-21 retry (API-FC-10): a failed or cancelled job is queued again as a new job with the same
    parameters and `retry_of` pointing at it; the source job is left as it is."""
    require_perm(actor, perms.MANAGE_JOBS)
    with transaction.atomic():
        row = _lock(job)
        if row.status not in JOB_TRANSITIONS["retry"]:
            raise InvalidStateTransition(f"Only failed or cancelled jobs can be retried; this one is {row.status}.",
                                         context={"status": row.status, "job_id": row.job_id})  # fmt: skip
        new = _create(actor=actor, kind=row.kind, product=row.product, scope=row.scope, horizon=row.horizon,
                      model_type=row.model_type, model_params=row.model_params, retry_of=row)  # fmt: skip
        audit.record(actor=actor, event_type=JOB_RETRIED, target=new, related=row,
                     after=snapshot(new, [*_PARAM_FIELDS, "retry_of"]))  # fmt: skip
        forecast_job_enqueue(new)
    return new


class _JobsTable:
    """The audit target of a set-based cleanup: the table, not one row."""

    pk = ForecastJob._meta.db_table

    def __str__(self) -> str:
        return "forecast jobs"


_DELETE_CHUNK = 500  # well under SQLite's bound-parameter limit


def forecast_jobs_cleanup(*, actor=None, retention_days: int | None = None, dry_run: bool = False) -> dict:
    """FC-76: delete terminal jobs finished before now - retention; their runs stay (job → NULL).

    `actor` None is the schedule or the management command. Writes `forecasting.jobs.cleaned`
    (also for a dry run, flagged as such, so an operator's preview is on record).
    """
    if actor is not None:
        require_perm(actor, perms.MANAGE_JOBS)
    days = settings.FORECAST_JOB_RETENTION_DAYS if retention_days is None else retention_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValidationFailed(fields={"retention_days": ["Must be an integer from 1 to 3650."]})
    cutoff = timezone.now() - datetime.timedelta(days=days)
    with transaction.atomic():
        doomed = ForecastJob.objects.filter(status__in=JOB_TERMINAL, completed_at__lt=cutoff)
        if dry_run:
            count = doomed.count()
        else:
            # Locked, so a concurrent cleanup waits and then skips them: each row is carried exactly once.
            locked = doomed.select_for_update().order_by("pk")
            rows = list(locked.values_list("pk", "status", "started_at", "completed_at"))
            count = len(rows)
            # /metrics keeps counting them (its job counters never go down when rows go).
            metrics.forecast_job_carry(row[1:] for row in rows)
            for start in range(0, count, _DELETE_CHUNK):
                # Retries keep their own row; only their link to a deleted source goes (SET NULL).
                ForecastJob.objects.filter(pk__in=[row[0] for row in rows[start : start + _DELETE_CHUNK]]).delete()
        result = {"retention_days": days, "cutoff": cutoff, "deleted_jobs": count, "dry_run": bool(dry_run)}
        audit.record(actor=actor, event_type=JOBS_CLEANED, target=_JobsTable(), target_type="table",
                     metadata={**result, "cutoff": cutoff.isoformat().replace("+00:00", "Z")})  # fmt: skip
    return result


def _seconds(delta: datetime.timedelta) -> float:
    return delta.total_seconds()


def forecast_job_metrics(*, actor) -> dict:
    """FC-75 over every job row. Processing time = completed_at - started_at of completed jobs; p95 by
    linear interpolation between the closest ranks."""
    require_perm(actor, perms.MANAGE_JOBS)
    now = timezone.now()
    counts = dict.fromkeys(S.values, 0)
    for status, n in _status_counts():
        counts[status] = n
    durations = np.array(
        [_seconds(done - started) * 1000 for started, done in ForecastJob.objects.filter(
            status=S.COMPLETED, started_at__isnull=False, completed_at__isnull=False,
        ).values_list("started_at", "completed_at")],
        dtype=float,
    )  # fmt: skip
    oldest = ForecastJob.objects.filter(status=S.QUEUED).order_by("created_at").values_list("created_at", flat=True)
    oldest = oldest.first()
    stale_before = now - datetime.timedelta(seconds=3 * settings.FORECAST_JOB_HEARTBEAT_SECONDS)
    running = ForecastJob.objects.filter(status=S.RUNNING)
    finished_30d = ForecastJob.objects.filter(completed_at__gte=now - datetime.timedelta(days=30))
    completed_30d = finished_30d.filter(status=S.COMPLETED).count()
    failed_30d = finished_30d.filter(status=S.FAILED).exclude(error_code=JobErrorCode.INSUFFICIENT_DATA).count()
    attempted = completed_30d + failed_30d
    return {
        "total_jobs": sum(counts.values()),
        "by_status": counts,
        "avg_processing_time_ms": round(float(durations.mean()), 1) if durations.size else None,
        "p95_processing_time_ms": round(float(np.percentile(durations, 95)), 1) if durations.size else None,
        "failed_last_24h": ForecastJob.objects.filter(
            status=S.FAILED, completed_at__gte=now - datetime.timedelta(hours=24)
        ).count(),
        "oldest_queued_age_seconds": math.floor(_seconds(now - oldest)) if oldest else None,
        "cancel_requested_running": running.filter(cancel_requested_at__isnull=False).count(),
        "stale_running": running.filter(
            Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
        ).count(),
        "success_rate_30d_pct": round(100 * completed_30d / attempted, 2) if attempted else None,
    }


def _status_counts():
    from django.db.models import Count

    return ForecastJob.objects.order_by().values_list("status").annotate(n=Count("pk"))


def record_worker_event(job_pk: int, status: str, *, metadata: dict | None = None) -> None:
    """Audit a status change made by a worker or the reaper (system actor, inside its transaction)."""
    row = ForecastJob.objects.get(pk=job_pk)
    audit.record(actor=None, event_type=f"forecasting.job.{status}", target=row,
                 after=snapshot(row, ["status", "attempt", "error_code", "series_done", "series_failed"]),
                 metadata=metadata)  # fmt: skip


ORPHAN_AFTER = datetime.timedelta(minutes=2)


def forecast_jobs_reap(*, now: datetime.datetime | None = None) -> dict:
    """FC-74. A running job whose heartbeat is older than 3 x FORECAST_JOB_HEARTBEAT_SECONDS lost its
    worker: requeued with attempt + 1 while attempt < max_attempts, else failed WORKER_LOST (TIMEOUT
    when it also ran past FORECAST_JOB_TIMEOUT_SECONDS). A running job past the timeout whose worker
    is alive but not checking in is failed TIMEOUT. A queued job whose task is no longer in the
    broker for 2 minutes is enqueued again."""
    now = now or timezone.now()
    stale_before = now - datetime.timedelta(seconds=3 * settings.FORECAST_JOB_HEARTBEAT_SECONDS)
    timed_out_before = now - datetime.timedelta(seconds=settings.FORECAST_JOB_TIMEOUT_SECONDS)
    stale = Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    out = {"requeued": 0, "failed": 0, "timed_out": 0, "reenqueued": 0}
    candidates = ForecastJob.objects.filter(Q(status=S.RUNNING) & (stale | Q(started_at__lt=timed_out_before)))
    for row in candidates.only("pk", "attempt", "max_attempts", "started_at", "heartbeat_at"):
        with transaction.atomic():
            guard = Q(pk=row.pk) & (stale | Q(started_at__lt=timed_out_before))
            if row.started_at and row.started_at < timed_out_before:
                moved = forecast_job_transition(row.pk, "fail", guard=guard, error_code=JobErrorCode.TIMEOUT,
                                                error=f"The job ran longer than {settings.FORECAST_JOB_TIMEOUT_SECONDS}"
                                                " seconds.")  # fmt: skip
                key, status = "timed_out", S.FAILED
            elif row.attempt < row.max_attempts:
                moved = forecast_job_transition(row.pk, "requeue", guard=guard & Q(attempt=row.attempt),
                                                attempt=row.attempt + 1, worker="", heartbeat_at=None,
                                                started_at=None)  # fmt: skip
                key, status = "requeued", S.QUEUED
            else:
                moved = forecast_job_transition(row.pk, "fail", guard=guard, error_code=JobErrorCode.WORKER_LOST,
                                                error=f"The worker stopped reporting; gave up after {row.attempt} "
                                                "attempts.")  # fmt: skip
                key, status = "failed", S.FAILED
            if not moved:
                continue
            out[key] += 1
            record_worker_event(row.pk, "requeued" if status == S.QUEUED else status)
            if status == S.QUEUED:
                forecast_job_enqueue(ForecastJob.objects.get(pk=row.pk))
    orphans = ForecastJob.objects.filter(status=S.QUEUED, updated_at__lt=now - ORPHAN_AFTER)
    # An unreachable broker could not take the task again either; the next run retries.
    pending = taskqueue.pending_task_names() if orphans.exists() else None
    if pending is not None:
        for row in orphans.only("pk", "task_id"):
            if row.task_id and row.task_id in pending:
                continue
            with transaction.atomic():
                if ForecastJob.objects.filter(pk=row.pk, status=S.QUEUED, task_id=row.task_id).exists():
                    forecast_job_enqueue(row)
                    out["reenqueued"] += 1
    if any(out.values()):
        logger.info("forecast_jobs_reaped", extra=out)
    return out
