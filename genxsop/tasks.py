"""Running work in django-q2 workers under a job id (OPS-04, OPS-19).

A task body decorated with `@job` runs inside `context.job_context(job_id)`, so every log record
and audit row it writes carries the job's id, as a web request's carry the request id. `enqueue()`
is the one way to hand such a task to the workers: it mints the job id, names the django-q task
after it and defers the hand-over until the surrounding transaction commits (a rolled-back change
never leaves a job behind, and the worker never reads rows that are not committed yet).

Delivery is at least once: task bodies take ids, load what they need and are idempotent.
"""

import functools
import inspect
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils.module_loading import import_string

from genxsop import context

logger = logging.getLogger(__name__)

_JOB_MARKER = "_genxsop_job"
MAX_JOB_ID_LENGTH = 100  # django-q's Task.name column


def job(func: Callable) -> Callable:
    """Make `func` a job entry point: run it under the job id the enqueuer passed as `job_id`.

    `job_id` and `trace_id` are consumed by the wrapper; `job_id` is passed on only when `func`
    declares it. Called without a job id (a schedule, a test) the run gets a fresh one.
    """
    wants_job_id = "job_id" in inspect.signature(func).parameters

    @functools.wraps(func)
    def run(*args, job_id: str | None = None, trace_id: str | None = None, **kwargs):
        with context.job_context(job_id, trace_id=trace_id) as ctx:
            if wants_job_id:
                kwargs["job_id"] = ctx.request_id
            return func(*args, **kwargs)

    setattr(run, _JOB_MARKER, True)
    return run


def enqueue(func_path: str, *args, job_id: str | None = None, q_options: dict | None = None, **kwargs) -> str:
    """Queue the `@job` task at `func_path` once the current transaction commits; return its job id.

    `q_options` passes django-q options (group, timeout, hook, ...); the task name is the job id so
    the admin's task list and the logs meet on one key.
    """
    target = import_string(func_path)
    if not getattr(target, _JOB_MARKER, False):
        raise TypeError(f"{func_path} is not decorated with genxsop.tasks.job")
    job_id = job_id or context.new_request_id()
    if not context.is_valid_request_id(job_id) or len(job_id) > MAX_JOB_ID_LENGTH:
        raise ValueError(f"job id {job_id!r} must match [A-Za-z0-9._:-]{{1,{MAX_JOB_ID_LENGTH}}}")
    options = {**(q_options or {}), "task_name": job_id}
    trace_id = context.current().trace_id or None

    def hand_over() -> None:
        from django_q.tasks import async_task

        try:
            async_task(func_path, *args, job_id=job_id, trace_id=trace_id, q_options=options, **kwargs)
        except Exception:
            # The caller's write has committed; failing now would turn a saved change into a 500. The
            # job rows that matter (forecast jobs) stay queued and the reaper hands them over again once
            # the broker answers; the log line is what an operator alerts on.
            logger.exception("job_enqueue_failed", extra={"job_id": job_id, "func": func_path})
            return
        logger.info("job_enqueued", extra={"job_id": job_id, "func": func_path})

    transaction.on_commit(hand_over)
    return job_id


@job
def ping(message: str = "pong") -> str:
    """Smoke task: proves that a worker picks up work and logs under the job id."""
    logger.info("job_ping", extra={"echo": message})
    return message
