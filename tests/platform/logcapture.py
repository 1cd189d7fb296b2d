"""Capture what the configured stdout log handler writes, formatter and filter included.

pytest's caplog sees records before our filter and formatter run; these tests are about the
lines an operator reads, so they borrow the real handler and point its stream at a buffer.
"""

import io
import json
import logging

import pytest

from genxsop.logging import JsonFormatter, StandardFormatter

APP_LOGGERS = ("", "django", "genxsop", "planning", "forecasting", "governance", "django-q")


def _stdout_handler() -> logging.StreamHandler:
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "stdout":
            return handler
    raise AssertionError("the LOGGING config has no 'stdout' handler on the root logger")


class CapturedLogs:
    def __init__(self, handler: logging.StreamHandler, buffer: io.StringIO):
        self.handler = handler
        self.buffer = buffer

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    def records(self) -> list[dict]:
        """Every line as JSON: fails if any line is not one JSON object."""
        return [json.loads(line) for line in self.lines()]

    def messages(self, message: str) -> list[dict]:
        return [record for record in self.records() if record["message"] == message]

    def use_standard_format(self) -> None:
        self.handler.setFormatter(StandardFormatter())

    def clear(self) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()


@pytest.fixture(name="captured_logs")
def captured_logs_fixture():
    handler = _stdout_handler()
    buffer = io.StringIO()
    old_stream = handler.setStream(buffer)
    old_formatter = handler.formatter
    handler.setFormatter(JsonFormatter())
    old_levels = {name: logging.getLogger(name).level for name in APP_LOGGERS}
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield CapturedLogs(handler, buffer)
    finally:
        for name, level in old_levels.items():
            logging.getLogger(name).setLevel(level)
        handler.setFormatter(old_formatter)
        handler.setStream(old_stream)
