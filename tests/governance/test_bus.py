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
