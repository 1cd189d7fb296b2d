"""The event bus delivers after commit, isolates failing subscribers and carries ids only (GOV-40)."""

import pytest

from governance import bus
from planning import events
from planning.services import category_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    seen = []

    def good(event, payload):
        seen.append((event, payload))

    def broken(event, payload):
        raise ValueError("subscriber bug")

    for handler in (broken, good):
        bus.subscribe(events.CATEGORY_CREATED)(handler)
    yield seen
    bus._subscribers[events.CATEGORY_CREATED] = [
        s for s in bus._subscribers[events.CATEGORY_CREATED] if s.handler not in (good, broken)
    ]


def test_subscribers_run_only_after_commit(admin_user, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        category = category_create(actor=admin_user, name="Wearables")
    assert received == []  # nothing delivered while the transaction is open
    for callback in callbacks:
        callback()
    assert received == [(events.CATEGORY_CREATED, {"category_id": category.pk, "request_id": "-"})]


def test_a_failing_subscriber_neither_blocks_others_nor_undoes_the_change(
    admin_user, received, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        category_create(actor=admin_user, name="Cookware")
    assert len(received) == 1
    assert "event_subscriber_failed" in caplog.text
    from planning.models import Category

    assert Category.objects.filter(name="Cookware").exists()


def test_background_subscribers_are_handed_to_the_worker_under_a_job_id(
    monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append((args, kwargs)))

    def slow(event, payload):  # pragma: no cover - runs in the worker
        raise AssertionError("must not run inline")

    bus.subscribe(events.LOCATION_CREATED, background=True)(slow)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            bus.dispatch(events.LOCATION_CREATED, {"location_id": 7, "request_id": "req-1"})
    finally:
        bus._subscribers[events.LOCATION_CREATED] = [
            s for s in bus._subscribers[events.LOCATION_CREATED] if s.handler is not slow
        ]
    ((args, kwargs),) = queued
    assert args[0] == "governance.bus.run_handler"
    assert args[2:] == (events.LOCATION_CREATED, {"location_id": 7, "request_id": "req-1"})
    assert kwargs["job_id"] == kwargs["q_options"]["task_name"]


def test_run_handler_calls_the_subscriber_with_the_payload():
    seen = []

    def collect(event, payload):
        seen.append((event, payload))

    import tests.governance.test_bus as module

    module.collect_for_test = collect
    try:
        bus.run_handler("tests.governance.test_bus.collect_for_test", "x.y.z", {"a": 1}, job_id="job-9")
    finally:
        del module.collect_for_test
    assert seen == [("x.y.z", {"a": 1})]
