"""Who is acting and on whose request: context carried in ContextVars.

Middleware fills it for web requests, `job_context()`/`cli_context()` for tasks and commands.
Services, audit and logging read it, so no business signature needs the request (GOV-33).
"""

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RequestContext:
    request_id: str = "-"
    source: str = "cli"  # api | ui | admin | job | cli
    ip_address: str = ""
    user_agent: str = ""
    trace_id: str = ""
    api_token_id: int | None = None
    api_token_prefix: str = ""
    extra: dict = field(default_factory=dict)


_current: ContextVar[RequestContext | None] = ContextVar("genxsop_request_context", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    return ctx if ctx is not None else RequestContext()


def request_id() -> str:
    return current().request_id


def new_request_id() -> str:
    return str(uuid.uuid4())


def set_context(ctx: RequestContext):
    """Install `ctx`; returns the token to pass to `reset_context`."""
    return _current.set(ctx)


def reset_context(token) -> None:
    _current.reset(token)


def update_context(**changes) -> None:
    """Amend the active context (e.g. once DRF has authenticated an API token)."""
    _current.set(replace(current(), **changes))


@contextlib.contextmanager
def bound_context(**values) -> Iterator[RequestContext]:
    ctx = RequestContext(**values)
    token = set_context(ctx)
    try:
        yield ctx
    finally:
        reset_context(token)


def job_context(job_id: str | None = None) -> contextlib.AbstractContextManager[RequestContext]:
    """Context for django-q2 task bodies: the job id doubles as the request id of its log records."""
    return bound_context(request_id=job_id or new_request_id(), source="job")


def cli_context() -> contextlib.AbstractContextManager[RequestContext]:
    return bound_context(request_id=new_request_id(), source="cli")
