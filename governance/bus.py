"""In-process domain event bus (GOV-40).

Services call `publish_on_commit(event, **ids)`; after the transaction commits every subscriber
runs in isolation: a failing handler is logged and never affects the committed change or the
other handlers. Handlers registered with `background=True` run as django-q2 tasks. Payloads carry
ids and the request id, never model instances.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils.module_loading import import_string

from genxsop import context
from genxsop.tasks import enqueue, job

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    handler: Callable
    background: bool


_subscribers: dict[str, list[Subscription]] = defaultdict(list)


def subscribe(event: str, *, background: bool = False):
    """Decorator: `@subscribe("planning.product.created")`; `"*"` receives every event."""

    def register(handler: Callable) -> Callable:
        if not any(s.handler is handler for s in _subscribers[event]):
            _subscribers[event].append(Subscription(handler, background))
        return handler

    return register


def subscribers(event: str) -> list[Subscription]:
    return [*_subscribers.get(event, []), *_subscribers.get("*", [])]


def publish_on_commit(event: str, **payload) -> None:
    """Deliver `event` once the surrounding transaction commits (immediately when there is none)."""
    payload.setdefault("request_id", context.request_id())
    transaction.on_commit(lambda: dispatch(event, payload))


def dispatch(event: str, payload: dict) -> None:
    for sub in subscribers(event):
        dotted = f"{sub.handler.__module__}.{sub.handler.__qualname__}"
        try:
            if sub.background:
                enqueue("governance.bus.run_handler", dotted, event, payload)
            else:
                sub.handler(event, payload)
        except Exception:
            logger.exception("event_subscriber_failed", extra={"event": event, "handler": dotted})


@job
def run_handler(dotted: str, event: str, payload: dict) -> None:
    """django-q2 entry point for background subscribers: runs under its job id, names its origin."""
    logger.info("event_subscriber_started", extra={"event": event, "handler": dotted,
                                                   "origin_request_id": payload.get("request_id")})  # fmt: skip
    import_string(dotted)(event, payload)
