"""Typed readers for environment variables.

Every reader raises ImproperlyConfigured naming the variable, so that a bad value stops the
process at startup with a message the operator can act on (OPS-12).
"""

import json
import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# DRF's rate syntax: a count per second, minute, hour or day ("600/min", "30/m", "5/second").
_RATE_RE = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    raw = os.environ.get(name, default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: dict[str, str]) -> str:
    """Read a case-insensitive enum; `choices` maps accepted spellings (aliases too) to canonical values."""
    raw = os.environ.get(name, default).strip().lower()
    if raw not in choices:
        allowed = ", ".join(sorted(set(choices)))
        raise ImproperlyConfigured(f"{name} must be one of {allowed}; got {raw!r}.")
    return choices[raw]


def env_json(name: str, default: object) -> object:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} must be valid JSON: {exc}.") from None


def env_rate(name: str, default: str) -> str:
    """A throttle rate such as `600/min`; checked here rather than failing on the first request."""
    value = env_str(name, default).lower()
    if not _RATE_RE.fullmatch(value):
        raise ImproperlyConfigured(f"{name} must be a count per s, min, hour or day such as 60/min; got {value!r}.")
    return value


_DAILY_CRON_RE = re.compile(r"([0-5]?[0-9]) ([01]?[0-9]|2[0-3]) \* \* \*")


def env_daily_cron(name: str, default: str) -> str:
    """A daily cron expression `M H * * *` (UTC); the only form our schedules run without croniter."""
    raw = os.environ.get(name, default).strip()
    if not _DAILY_CRON_RE.fullmatch(" ".join(raw.split())):
        raise ImproperlyConfigured(f"{name} must be a daily cron expression 'M H * * *' (UTC), got {raw!r}.")
    return " ".join(raw.split())
