"""Who is acting and on whose request: context carried in ContextVars.

Middleware fills it for web requests, `job_context()`/`cli_context()` for tasks and commands.
Services, audit and logging read it, so no business signature needs the request (GOV-33).
"""

import contextlib
import re
import secrets
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

# OPS-01: what an incoming X-Request-ID (or a job id) may look like. \Z, not $, so that a trailing
# newline cannot slip a header-splitting character into logs and responses.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")

# W3C Trace Context: version-traceid-parentid-flags, lowercase hex only. Version ff is invalid;
# future versions may append fields after the flags, version 00 may not.
_TRACEPARENT_RE = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^\s]*)?\Z")


@dataclass(frozen=True)
class RequestContext:
    request_id: str = "-"
    source: str = "cli"  # api | ui | admin | job | cli
    ip_address: str = ""
    user_agent: str = ""
    trace_id: str = ""
    span_id: str = ""
    trace_flags: str = "00"
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


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def is_valid_request_id(value: str) -> bool:
    return bool(REQUEST_ID_RE.match(value))


def parse_traceparent(value: str) -> tuple[str, str, str] | None:
    """(trace_id, parent_id, flags) of a valid W3C `traceparent` header, else None."""
    match = _TRACEPARENT_RE.match(value.strip())
    if not match:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id, parent_id, flags


def child_traceparent() -> str:
    """`traceparent` for an outbound call made on behalf of the current request or job (OPS-04a)."""
    ctx = current()
    trace_id = ctx.trace_id or new_trace_id()
    return f"00-{trace_id}-{new_span_id()}-{ctx.trace_flags or '00'}"


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
    values.setdefault("trace_id", new_trace_id())
    values.setdefault("span_id", new_span_id())
    ctx = RequestContext(**values)
    token = set_context(ctx)
    try:
        yield ctx
    finally:
        reset_context(token)


def job_context(job_id: str | None = None, *, trace_id: str | None = None) -> contextlib.AbstractContextManager:
    """Context for django-q2 task bodies: the job id doubles as the request id of its log records.

    `trace_id` continues the trace of the request that enqueued the job, when it is known.
    """
    return bound_context(request_id=job_id or new_request_id(), source="job", trace_id=trace_id or new_trace_id())


def cli_context() -> contextlib.AbstractContextManager[RequestContext]:
    return bound_context(request_id=new_request_id(), source="cli")
