"""Logging: request id on every record, JSON or plain text to stdout (OPS-04, OPS-06)."""

import json
import logging
from datetime import UTC, datetime

from genxsop import context

# Attributes every LogRecord has; anything else on a record is an `extra` field and is emitted.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}
_REDACTED_KEYS = {"authorization", "cookie", "password", "token", "secret", "api_token_pepper"}


class RequestIdFilter(logging.Filter):
    """Stamp every record with the active request (or job) id; '-' outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = context.request_id()
        return True


def _extras(record: logging.LogRecord) -> dict:
    out = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD_ATTRS or key.startswith("_"):
            continue
        out[key] = "[redacted]" if key.lower() in _REDACTED_KEYS else value
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        payload.update(_extras(record))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class StandardFormatter(logging.Formatter):
    """`<asctime> <LEVEL> <logger> [<request_id>] <message> key=value ...`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        text = super().format(record)
        extras = _extras(record)
        if extras:
            text += " " + " ".join(f"{key}={value}" for key, value in extras.items())
        return text


def build_logging_config(*, level: str, fmt: str) -> dict:
    formatter = "json" if fmt == "json" else "standard"
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
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {"handlers": ["stdout"], "level": level, "propagate": False},
            # runserver's own access line duplicates our request_completed record.
            "django.server": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
            "genxsop": {"handlers": ["stdout"], "level": level, "propagate": False},
            "planning": {"handlers": ["stdout"], "level": level, "propagate": False},
            "forecasting": {"handlers": ["stdout"], "level": level, "propagate": False},
            "governance": {"handlers": ["stdout"], "level": level, "propagate": False},
            "django-q": {"handlers": ["stdout"], "level": level, "propagate": False},
        },
    }
