"""Logging: request id on every record, JSON or plain text to stdout (OPS-04, OPS-06, OPS-07)."""

import json
import logging
import re
from datetime import UTC, datetime

from genxsop import context

# Attributes every LogRecord has; anything else on a record is an `extra` field and is emitted.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id", "trace_id"}
# OPS-07: field names whose values must never reach a log line, whoever passes them.
_SECRET_KEY_RE = re.compile(r"authorization|cookie|passw|secret|pepper|api_key|(^|_)token$|^credentials?$", re.I)
REDACTED = "[redacted]"


class RequestIdFilter(logging.Filter):
    """Stamp every record with the active request (or job) id and trace id; '-' outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        if ctx.request_id == "-":
            # Django logs 4xx/5xx responses after the middleware chain has returned, with the
            # request attached; the middleware left the request's context on it for this.
            ctx = getattr(getattr(record, "request", None), "request_context", None) or ctx
        if not getattr(record, "request_id", None):
            record.request_id = ctx.request_id
        if not getattr(record, "trace_id", None):
            record.trace_id = ctx.trace_id
            record._trace_from_context = True
        return True


def _is_request(value) -> bool:
    from django.http import HttpRequest  # imported late: this module loads while settings are read

    return isinstance(value, HttpRequest)


def _extras(record: logging.LogRecord) -> dict:
    out = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD_ATTRS or key.startswith("_"):
            continue
        if _is_request(value):
            # Django's own loggers attach the request: its repr carries the query string (which
            # may hold a secret) and it would drag headers along. The request id correlates.
            continue
        out[key] = REDACTED if _SECRET_KEY_RE.search(key) else value
    return out


def _utc_timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "timestamp": _utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or "-",
        }
        trace_id = getattr(record, "trace_id", "")
        if trace_id:
            payload["trace_id"] = trace_id
        for key, value in _extras(record).items():
            payload.setdefault(key, value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def _escape(text: str) -> str:
    # A newline in a logged path or message would forge a second log line in plain-text output.
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def _kv(value) -> str:
    text = "null" if value is None else str(value)
    if not text or any(ch.isspace() or ch in '"=' for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class StandardFormatter(logging.Formatter):
    """`<asctime> <LEVEL> <logger> [<request_id>] <message> key=value ...` (OPS-06)."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or "-"
        text = (
            f"{self.formatTime(record)} {record.levelname} {record.name} [{request_id}] {_escape(record.getMessage())}"
        )
        fields = _extras(record)
        # The trace id is on every record in JSON; in plain text it would drown the line, so it is
        # shown only where the caller passed it on purpose (request_completed).
        if record.__dict__.get("trace_id") and not getattr(record, "_trace_from_context", False):
            fields = {**fields, "trace_id": record.trace_id}
        if fields:
            text += " " + " ".join(f"{key}={_kv(value)}" for key, value in fields.items())
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


LOG_FORMATS = {"json", "standard"}


def build_logging_config(*, level: str, fmt: str) -> dict:
    if fmt not in LOG_FORMATS:
        # Settings validate LOG_FORMAT first; this guards callers that build a config themselves.
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(sorted(LOG_FORMATS))}; got {fmt!r}.")
    app_logger = {"handlers": ["stdout"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "genxsop.logging.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "genxsop.logging.JsonFormatter"},
            "standard": {"()": "genxsop.logging.StandardFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": fmt,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": dict(app_logger),
            # runserver's access line repeats request_completed (with a socket repr for 4xx); its
            # 5xx lines (ERROR) still come through.
            "django.server": {"handlers": ["stdout"], "level": "ERROR", "propagate": False},
            "genxsop": dict(app_logger),
            "planning": dict(app_logger),
            "forecasting": dict(app_logger),
            "governance": dict(app_logger),
            "django-q": dict(app_logger),
        },
    }
