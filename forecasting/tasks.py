"""Background work of the forecasting app (FC-70…77): the job runner, the reaper, the schedules.

`run_forecast_job` is delivered at least once. It starts only by winning the queued → running
update, commits its work in chunks of at most CHUNK_SIZE series, each chunk in one transaction
that first re-reads the job row under a lock and writes only while the job is still running with
no cancel requested (FC-72). The series a chunk commits are listed in the job's result in the same
transaction, so a redelivered attempt resumes after them and never writes a series twice.
"""

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from forecasting.choices import JobErrorCode, JobKind, RunSource
from forecasting.choices import JobStatus as S
from forecasting.models import Forecast, ForecastJob, ForecastRun
from forecasting.series import SeriesKey
from forecasting.services import jobs as job_services
from genxsop.tasks import job

logger = logging.getLogger(__name__)

CHUNK_SIZE = 50  # series per committed chunk (FC-72)
# Series per engine call. The cross-series models (gradient boosting) fit one model per call, so
# their cost is per call, not per series: computing 50 at a time made them ~75 % of a portfolio
# job. A batch is computed at once and committed in chunks; liveness comes from the heartbeat
# thread, and a cancel still stops before the next chunk (the computed rest is dropped).
COMPUTE_BATCH = 1000
_CANCEL_POLL_SECONDS = 0.25
_MAX_ERROR_CHARS = 2000


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


class _Heartbeat(threading.Thread):
    """Keeps `heartbeat_at` fresh while the main thread computes (FC-71), on its own connection."""

    def __init__(self, job_pk: int, period: float):
        super().__init__(name=f"forecast-job-{job_pk}-heartbeat", daemon=True)
        self.job_pk, self.period, self.done = job_pk, period, threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(self.period):
                try:
                    ForecastJob.objects.filter(pk=self.job_pk, status=S.RUNNING).update(heartbeat_at=timezone.now())
                except Exception:  # a busy database must not end the job; the next beat tries again
                    logger.warning("forecast_job_heartbeat_failed", extra={"job_pk": self.job_pk}, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only (they are thread-local)

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=max(5.0, self.period * 2))


@dataclass
class _Outcome:
    key: SeriesKey
    computed: object | None  # a SeriesForecast without error, or None
    status: str  # completed | skipped | failed
    error: str | None = None
    error_code: str | None = None


class _Stop(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # cancel | timeout | lost


class _Runner:
    def __init__(self, job_row: ForecastJob):
        self.job = job_row
        self.pk = job_row.pk
        self.deadline = time.monotonic() + settings.FORECAST_JOB_TIMEOUT_SECONDS
        self.period = max(0.2, settings.FORECAST_JOB_HEARTBEAT_SECONDS / 2)
        self.reason: str | None = None
        self._last_poll = 0.0
        self._last_beat = time.monotonic()
        # Inside a caller's transaction (tests run the task in-process) a second connection could
        # neither see the row nor wait for its lock to be released: beat inline instead.
        self.heartbeat = None
        if not transaction.get_connection().in_atomic_block:
            self.heartbeat = _Heartbeat(self.pk, self.period)
        region = job_row.scope.get("region") or "Global"
        channel = job_row.scope.get("channel") or "All"
        if job_row.kind == JobKind.GENERATE:
            product_ids = [job_row.product_id] if job_row.product_id else []
        elif job_row.scope.get("all_active"):
            product_ids = job_services.active_product_ids_for(job_row)
        else:
            product_ids = list(job_row.scope.get("product_ids") or [])
        self.keys = [SeriesKey(pid, region, channel) for pid in product_ids]
        system = job_row.requested_by.email.lower() == job_services.SYSTEM_EMAIL
        self.source = RunSource.SCHEDULE if system else RunSource.JOB
        previous = (job_row.result_json or {}).get("series") or []
        self.series: list[dict] = list(previous)
        self.done_keys = {(s["product_id"], s["region"], s["channel"]) for s in previous}
        self.done_keys |= set(ForecastRun.objects.filter(job_id=self.pk).values_list("product_id", "region", "channel"))

    # -- checkpoints ------------------------------------------------------------------------------

    def should_stop(self) -> bool:
        """Checked before each chunk and by the engine between model fits (FC-72)."""
        if self.reason:
            return True
        now = time.monotonic()
        if now > self.deadline:
            self.reason = "timeout"
            return True
        if self.heartbeat is None and now - self._last_beat >= self.period:
            ForecastJob.objects.filter(pk=self.pk, status=S.RUNNING).update(heartbeat_at=timezone.now())
            self._last_beat = now
        if now - self._last_poll >= _CANCEL_POLL_SECONDS:
            self._last_poll = now
            row = ForecastJob.objects.filter(pk=self.pk).values_list("status", "cancel_requested_at").first()
            if row is None or row[0] != S.RUNNING:
                self.reason = "lost"
            elif row[1] is not None:
                self.reason = "cancel"
        return self.reason is not None

    # -- work -------------------------------------------------------------------------------------

    def run(self) -> str:
        if self.heartbeat is not None:
            self.heartbeat.start()
        try:
            return self._run()
        finally:
            if self.heartbeat is not None:
                self.heartbeat.stop()

    def _run(self) -> str:
        total = len(self.keys)
        ForecastJob.objects.filter(pk=self.pk).update(series_total=total)
        remaining = [k for k in self.keys if (k.product_id, k.region, k.channel) not in self.done_keys]
        size = max(1, min(CHUNK_SIZE, getattr(settings, "FORECAST_JOB_CHUNK_SIZE", CHUNK_SIZE)))
        batch = max(size, COMPUTE_BATCH - COMPUTE_BATCH % size)
        try:
            if not remaining:
                return self._commit([], final=True)
            status = S.RUNNING
            for start in range(0, len(remaining), batch):
                if start:
                    self._pause()
                if self.should_stop():
                    raise _Stop(self.reason)
                outcomes = self._compute(remaining[start : start + batch])
                for offset in range(0, len(outcomes), size):
                    if offset:
                        self._pause()
                    if self.should_stop():
                        raise _Stop(self.reason)  # computed, but not written: a cancel wins over the chunk
                    final = start + offset + size >= len(remaining)
                    status = self._commit(outcomes[offset : offset + size], final=final)
            return status
        except _Stop as stop:
            return self._stop(stop.reason)

    def _pause(self) -> None:
        """Worker tests stretch a job between chunks (FORECAST_JOB_CHUNK_PAUSE_SECONDS, never set in
        production) so that a kill or a cancel lands mid-job; checkpoints keep running meanwhile."""
        until = time.monotonic() + getattr(settings, "FORECAST_JOB_CHUNK_PAUSE_SECONDS", 0)
        while time.monotonic() < until and not self.should_stop():
            time.sleep(0.05)

    def _compute(self, keys: list[SeriesKey]) -> list[_Outcome]:
        from forecasting.services.generate import forecast_compute

        kwargs = {"horizon": self.job.horizon, "model_type": self.job.model_type or None,
                  "model_params": self.job.model_params or None, "should_stop": self.should_stop}  # fmt: skip
        try:
            computed = forecast_compute(keys, **kwargs)
        except Exception:
            if self.reason:
                raise _Stop(self.reason) from None
            if len(keys) == 1:
                logger.exception("forecast_series_failed", extra={"job_pk": self.pk, "product_id": keys[0].product_id})
                return [_Outcome(keys[0], None, "failed", "Internal error while forecasting this series.",
                                 JobErrorCode.INTERNAL_ERROR)]  # fmt: skip
            # One bad series must not sink its chunk (FC-73): isolate it.
            return [outcome for key in keys for outcome in self._compute([key])]
        by_key = {c.key: c for c in computed}
        outcomes = []
        for key in keys:
            c = by_key.get(key)
            if c is None:
                if self.reason:
                    raise _Stop(self.reason)
                outcomes.append(
                    _Outcome(key, None, "failed", "The series was not computed.", JobErrorCode.INTERNAL_ERROR)
                )
            elif c.error:
                skipped = c.error_code == JobErrorCode.INSUFFICIENT_DATA
                outcomes.append(_Outcome(key, None, "skipped" if skipped else "failed", c.error, c.error_code))
            else:
                outcomes.append(_Outcome(key, c, "completed"))
        return outcomes

    def _commit(self, outcomes: list[_Outcome], *, final: bool) -> str:
        """One chunk: guard, write, progress and (for the last chunk) the final status, atomically."""
        before = self.series
        try:
            return self._commit_guarded(outcomes, final=final)
        except BaseException:
            self.series = before  # the chunk rolled back: it is not part of the result
            raise

    def _commit_guarded(self, outcomes: list[_Outcome], *, final: bool) -> str:
        from forecasting.services.generate import forecast_write

        with transaction.atomic():
            row = ForecastJob.objects.select_for_update().get(pk=self.pk)
            if row.status != S.RUNNING:
                raise _Stop("lost")
            if row.cancel_requested_at is not None:
                raise _Stop("cancel")
            ok = [o.computed for o in outcomes if o.computed is not None]
            runs = forecast_write(ok, actor=row.requested_by, job=row, source=self.source,
                                  request_id=row.request_id) if ok else []  # fmt: skip
            run_of = {(r.product_id, r.region, r.channel): r for r in runs}
            self.series = list(self.series)
            for o in outcomes:
                run = run_of.get((o.key.product_id, o.key.region, o.key.channel))
                status = o.status if o.status != "completed" or run is not None else "failed"
                self.series.append({
                    "product_id": o.key.product_id, "region": o.key.region, "channel": o.key.channel,
                    "status": status, "run_id": run.pk if run else None,
                    "selected_model": run.selected_model if run else None,
                    "model_used": run.model_used if run else None,
                    "records_created": run.records_created if run else 0,
                    "error": o.error if status != "completed" else None,
                    "error_code": o.error_code if status != "completed" else None,
                })  # fmt: skip
            done = sum(1 for s in self.series if s["status"] == "completed")
            failed = len(self.series) - done
            total = len(self.keys)
            row.series_done, row.series_failed = done, failed
            row.progress_pct = round(100 * (done + failed) / total, 2) if total else 100
            row.heartbeat_at = timezone.now()
            row.result_json = self._result(row, partial=not final)
            fields = ["series_done", "series_failed", "progress_pct", "heartbeat_at", "result_json", "updated_at"]
            if not final:
                row.save(update_fields=fields)
                return S.RUNNING
            row.save(update_fields=fields)
            return self._finish(row)

    def _result(self, row: ForecastJob, *, partial: bool) -> dict:
        if row.kind == JobKind.GENERATE:
            return self._generate_result(row)
        return {"series_total": len(self.keys), "series_done": row.series_done, "series_failed": row.series_failed,
                "partial": partial, "series": self.series}  # fmt: skip

    def _generate_result(self, row: ForecastJob) -> dict:
        entry = self.series[0] if self.series else {}
        run_id = entry.get("run_id")
        forecasts = []
        if run_id:
            forecasts = [
                {"period": f["period"].isoformat(), "predicted_qty": str(f["predicted_qty"]),
                 "lower_bound": str(f["lower_bound"]), "upper_bound": str(f["upper_bound"]),
                 "interval_level": str(f["interval_level"]), "confidence": str(f["confidence"]),
                 "model_type": f["model_type"], "lag": f["lag"]}
                for f in Forecast.objects.filter(run_id=run_id).order_by("period").values(
                    "period", "predicted_qty", "lower_bound", "upper_bound", "interval_level", "confidence",
                    "model_type", "lag")
            ]  # fmt: skip
        key = self.keys[0] if self.keys else SeriesKey(row.product_id or 0)
        return {"product_id": key.product_id, "region": key.region, "channel": key.channel, "horizon": row.horizon,
                "model_type": entry.get("model_used") or row.model_type,
                "records_created": entry.get("records_created", 0),
                "run_id": run_id, "forecasts": forecasts}  # fmt: skip

    def _finish(self, row: ForecastJob) -> str:
        """The last chunk's transaction: completed unless every attempted series failed (FC-73)."""
        completed = [s for s in self.series if s["status"] == "completed"]
        if completed or not self.series:
            moved = job_services.forecast_job_transition(self.pk, "complete", guard=Q(cancel_requested_at__isnull=True))
            target = S.COMPLETED
        else:
            codes = {s.get("error_code") for s in self.series}
            code = JobErrorCode.INSUFFICIENT_DATA if codes == {JobErrorCode.INSUFFICIENT_DATA} else (
                JobErrorCode.INTERNAL_ERROR)  # fmt: skip
            error = self.series[0]["error"] if len(self.series) == 1 else f"All {len(self.series)} series failed."
            moved = job_services.forecast_job_transition(self.pk, "fail", error=(error or "")[:_MAX_ERROR_CHARS],
                                                         error_code=code)  # fmt: skip
            target = S.FAILED
        if not moved:  # only a concurrent cancel can get here: the guarded transaction must not write
            raise _Stop("cancel")
        job_services.record_worker_event(self.pk, target)
        return target

    def _stop(self, reason: str) -> str:
        if reason == "lost":  # the reaper or a later attempt owns the job now
            return "lost"
        with transaction.atomic():
            row = ForecastJob.objects.select_for_update().get(pk=self.pk)
            if row.status != S.RUNNING:
                return "lost"
            result = self._result(row, partial=True) if row.kind == JobKind.BATCH_GENERATE else None
            if reason == "cancel" or row.cancel_requested_at is not None:
                by = row.cancel_requested_by
                job_services.forecast_job_transition(self.pk, "cancel", result_json=result,
                                                     error=f"Cancelled by {by}" if by else "Cancelled",
                                                     error_code=JobErrorCode.CANCELLED)  # fmt: skip
                target = S.CANCELLED
            else:
                seconds = settings.FORECAST_JOB_TIMEOUT_SECONDS
                job_services.forecast_job_transition(self.pk, "fail", result_json=result,
                                                     error=f"The job ran longer than {seconds} seconds.",
                                                     error_code=JobErrorCode.TIMEOUT)  # fmt: skip
                target = S.FAILED
            job_services.record_worker_event(self.pk, target)
        return target


@job
def run_forecast_job(job_pk: int) -> str:
    """Run one forecast job (FC-70…73); returns the status it left the job in, or why it did nothing."""
    now = timezone.now()
    started = job_services.forecast_job_transition(job_pk, "start", started_at=now, heartbeat_at=now,
                                                   worker=_worker_name())  # fmt: skip
    if not started:
        logger.info("forecast_job_not_started", extra={"job_pk": job_pk})
        return "not-started"
    row = ForecastJob.objects.select_related("requested_by").get(pk=job_pk)
    logger.info("forecast_job_started", extra={"job_pk": job_pk, "job": row.job_id, "attempt": row.attempt})
    try:
        status = _Runner(row).run()
    except Exception as exc:
        logger.exception("forecast_job_failed", extra={"job_pk": job_pk})
        with transaction.atomic():
            moved = job_services.forecast_job_transition(
                job_pk,
                "fail",
                error=f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_CHARS],
                error_code=JobErrorCode.INTERNAL_ERROR,
            )
            if moved:
                job_services.record_worker_event(job_pk, S.FAILED)
        status = S.FAILED
    logger.info("forecast_job_finished", extra={"job_pk": job_pk, "status": status})
    return status


@job
def reap_forecast_jobs() -> dict:
    """FC-74, every minute and when a worker starts: requeue or fail lost jobs, re-enqueue orphans."""
    return job_services.forecast_jobs_reap()


@job
def cleanup_forecast_jobs() -> dict:
    """FC-76 daily with FORECAST_JOB_RETENTION_DAYS."""
    return job_services.forecast_jobs_cleanup(actor=None)


@job
def nightly_forecast() -> dict | None:
    """FC-77: a batch job over every active product total, then the anomaly scan and accuracy refresh."""
    if not settings.FORECAST_NIGHTLY_ENABLED:
        return None
    created = job_services.forecast_nightly_job_create()
    out = {"job_id": created.job_id}
    for module, name in (("forecasting.services.anomalies", "anomalies_scan_active"),
                         ("forecasting.accuracy", "accuracy_refresh")):  # fmt: skip
        out[name] = _call_optional(module, name, job=created)
    return out


def _call_optional(module: str, name: str, *, job=None):
    import importlib
    import inspect

    try:
        func = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    accepted = inspect.signature(func).parameters
    kwargs = {key: value for key, value in (("actor", None), ("job", job)) if key in accepted}
    try:
        return func(**kwargs)
    except Exception:  # the nightly forecast stands on its own; the follow-ups report their own errors
        logger.exception("nightly_follow_up_failed", extra={"func": f"{module}.{name}"})
        return None


def reap_when_a_worker_starts(sender=None, proc_name: str = "", **kwargs) -> None:
    """django-q2 `post_spawn` receiver: a restarted cluster takes over lost jobs at once (FC-74).

    In sync mode django-q runs its worker function inside the caller (a test, a request), so there is
    no worker process to hand over to, and closing "old" connections would close the caller's
    connection in the middle of its transaction.
    """
    from django_q.conf import Conf

    if Conf.SYNC:
        return
    try:
        reap_forecast_jobs()
    except Exception:  # never keep a worker from starting
        logger.exception("forecast_reaper_at_start_failed")
    finally:
        close_old_connections()


__all__ = [
    "CHUNK_SIZE",
    "COMPUTE_BATCH",
    "cleanup_forecast_jobs",
    "nightly_forecast",
    "reap_forecast_jobs",
    "reap_when_a_worker_starts",
    "run_forecast_job",
]
