"""Inventory policy exceptions (PLN-09, WF-61, ACC-04; API-INV-08, 09, 17): list, work, escalate."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from governance.choices import NotificationKind, Role
from governance.models import AuditEvent, Notification
from governance.services.scopes import user_scopes_set
from planning import events, services
from planning.models import InventoryPolicyException
from planning.services.exceptions import policy_exception_create, policy_exception_update

pytestmark = pytest.mark.django_db

API = "/api/v1/inventory"
D = Decimal


@pytest.fixture
def w(users, api_client_for, make_user):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden})
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    row = services.inventory_create(actor=admin, product=speaker, location=main, data={"on_hand_qty": D("5")})
    other = services.inventory_create(actor=admin, product=mower, location=main, data={"on_hand_qty": D("5")})
    manager = users[Role.INVENTORY_MANAGER]
    owner = make_user(Role.FINANCE_ANALYST, email="owner@example.test")  # reads exceptions, cannot change them
    bystander = make_user(Role.FINANCE_ANALYST, email="bystander@example.test")
    return SimpleNamespace(
        admin=admin, manager=manager, owner=owner, bystander=bystander, row=row, other=other, speaker=speaker,
        mower=mower, client_for=api_client_for, api=api_client_for(manager),
    )  # fmt: skip


def raise_exception(w, row=None, *, exception_type="stockout_risk", severity="medium", owner=None, due_date=None):
    return policy_exception_create(actor=w.admin, inventory=row or w.row, exception_type=exception_type,
                                   recommended_action="Expedite replenishment of 10 units", severity=severity,
                                   owner=owner, due_date=due_date)  # fmt: skip


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert detail["code"] == code
    return detail


# API-INV-08 --------------------------------------------------------------------------------------


def test_list_shows_the_exception_view_with_the_callers_actions(w):
    today = timezone.localdate()
    exc = raise_exception(w, owner=w.owner, due_date=today - datetime.timedelta(days=1), severity="high")
    response = w.api.get(f"{API}/exceptions")
    assert response.status_code == 200, response.content
    (body,) = response.json()
    assert body["id"] == exc.pk
    assert (body["inventory_id"], body["product_id"], body["sku"], body["location"]) == (
        w.row.pk, w.speaker.pk, "SPK-1", "MAIN")  # fmt: skip
    assert (body["exception_type"], body["severity"], body["status"]) == ("stockout_risk", "high", "open")
    assert (body["owner_user_id"], body["owner_name"]) == (w.owner.pk, w.owner.get_full_name())
    assert (body["due_date"], body["overdue"], body["run_id"]) == ((today - datetime.timedelta(days=1)).isoformat(),
                                                                   True, None)  # fmt: skip
    assert body["allowed_actions"] == ["dismiss", "resolve", "start"]
    # A reader who neither owns nor works exceptions sees no actions.
    listing = w.client_for(w.bystander).get(f"{API}/exceptions").json()
    assert listing[0]["allowed_actions"] == []


def test_list_filters(w):
    today = timezone.localdate()
    late = raise_exception(w, owner=w.owner, due_date=today - datetime.timedelta(days=2))
    later = raise_exception(w, w.other, exception_type="excess_risk", severity="low",
                            due_date=today + datetime.timedelta(days=3))  # fmt: skip

    def ids(query):
        response = w.api.get(f"{API}/exceptions?{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()]

    assert ids("") == [late.pk, later.pk]
    assert ids("overdue=true") == [late.pk]
    assert ids("overdue=false") == [later.pk]
    assert ids(f"owner_user_id={w.owner.pk}") == [late.pk]
    assert ids(f"product_id={w.mower.pk}") == [later.pk]
    assert ids("exception_type=excess_risk") == [later.pk]
    assert ids("severity=low,medium") == [late.pk, later.pk]
    assert ids("status=resolved") == []
    assert ids("location=ELSEWHERE") == []
    assert w.api.get(f"{API}/exceptions?status=bogus").status_code == 400


def test_list_is_scoped_by_category(w, make_user):
    raise_exception(w)
    theirs = raise_exception(w, w.other)
    scoped = make_user(Role.INVENTORY_MANAGER, email="garden@example.test")
    user_scopes_set(
        actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.mower.category_id, "access": "change"}]
    )
    assert [r["id"] for r in w.client_for(scoped).get(f"{API}/exceptions").json()] == [theirs.pk]


# API-INV-09 / WF-61 --------------------------------------------------------------------------------


def test_transitions_follow_the_map_and_are_audited(w):
    exc = raise_exception(w)
    url = f"{API}/exceptions/{exc.pk}"
    started = w.api.patch(url, {"status": "in_progress"}, format="json")
    assert started.status_code == 200, started.content
    assert (started.json()["status"], started.json()["allowed_actions"]) == ("in_progress", ["dismiss", "resolve"])
    # Resolving needs a note.
    error(w.api.patch(url, {"status": "resolved"}, format="json"), 400, "VALIDATION_ERROR")
    resolved = w.api.patch(url, {"status": "resolved", "resolution_note": "Expedited PO 42"}, format="json")
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["allowed_actions"] == ["reopen"]
    exc.refresh_from_db()
    assert (exc.status, exc.resolved_by_id, exc.resolution_note) == ("resolved", w.manager.pk, "Expedited PO 42")
    assert exc.resolved_at is not None
    # resolved -> in_progress is not a WF-61 move.
    detail = error(w.api.patch(url, {"status": "in_progress"}, format="json"), 409, "INVALID_STATE_TRANSITION")
    assert detail["context"]["allowed_actions"] == ["reopen"]
    reopened = w.api.patch(url, {"status": "open"}, format="json")
    assert reopened.status_code == 200, reopened.content
    exc.refresh_from_db()
    assert (exc.status, exc.resolved_by_id, exc.resolved_at) == ("open", None, None)
    dismissed = w.api.patch(url, {"status": "dismissed", "resolution_note": "Not a real risk"}, format="json")
    assert dismissed.json()["status"] == "dismissed"
    kinds = list(AuditEvent.objects.filter(event_type__startswith="planning.policy_exception.", target_id=str(exc.pk))
                 .order_by("id").values_list("event_type", "actor_id"))  # fmt: skip
    assert kinds == [
        (events.POLICY_EXCEPTION_CREATED, w.admin.pk),
        (events.POLICY_EXCEPTION_STARTED, w.manager.pk),
        (events.POLICY_EXCEPTION_RESOLVED, w.manager.pk),
        (events.POLICY_EXCEPTION_REOPENED, w.manager.pk),
        (events.POLICY_EXCEPTION_DISMISSED, w.manager.pk),
    ]
    event = AuditEvent.objects.get(event_type=events.POLICY_EXCEPTION_RESOLVED)
    assert (event.before["status"], event.after["status"]) == ("in_progress", "resolved")


def test_reopen_refuses_a_second_active_exception_of_the_type(w):
    first = raise_exception(w)
    policy_exception_update(actor=w.manager, exception=first, data={"status": "dismissed", "resolution_note": "x"})
    raise_exception(w)
    error(w.api.patch(f"{API}/exceptions/{first.pk}", {"status": "open"}, format="json"), 409, "DUPLICATE_ENTITY")


def test_assigning_an_owner_notifies_them_and_records_an_update(w):
    exc = raise_exception(w)
    due = (timezone.localdate() + datetime.timedelta(days=4)).isoformat()
    body = {"owner_user_id": w.owner.pk, "due_date": due, "notes": "Call supplier"}
    response = w.api.patch(f"{API}/exceptions/{exc.pk}", body, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["owner_user_id"], response.json()["due_date"], response.json()["notes"]) == (
        w.owner.pk, due, "Call supplier")  # fmt: skip
    note = Notification.objects.get(recipient=w.owner)
    assert note.kind == NotificationKind.EXCEPTION_ASSIGNED
    event = AuditEvent.objects.get(event_type=events.POLICY_EXCEPTION_UPDATED)
    assert (event.after["owner_id"], event.metadata["notified"]) == (w.owner.pk, [w.owner.pk])
    # An unchanged body writes nothing.
    assert w.api.patch(f"{API}/exceptions/{exc.pk}", {}, format="json").status_code == 200
    assert AuditEvent.objects.filter(event_type=events.POLICY_EXCEPTION_UPDATED).count() == 1


def test_an_owner_who_cannot_read_the_row_is_refused(w, users):
    exc = raise_exception(w)
    response = w.api.patch(f"{API}/exceptions/{exc.pk}", {"owner_user_id": users[Role.VIEWER].pk}, format="json")
    assert error(response, 400, "VALIDATION_ERROR")["fields"]["owner_user_id"]
    error(w.api.patch(f"{API}/exceptions/{exc.pk}", {"owner_user_id": 999999}, format="json"), 400,
          "VALIDATION_ERROR")  # fmt: skip


def test_the_owner_may_change_status_and_notes_only(w):
    exc = raise_exception(w, owner=w.owner)
    owner_api = w.client_for(w.owner)
    url = f"{API}/exceptions/{exc.pk}"
    response = owner_api.patch(url, {"status": "in_progress", "notes": "On it"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["notes"]) == ("in_progress", "On it")
    refused = error(owner_api.patch(url, {"due_date": "2030-01-01"}, format="json"), 403, "PERMISSION_DENIED")
    assert "due_date" in refused["message"]
    error(owner_api.patch(url, {"owner_user_id": w.bystander.pk}, format="json"), 403, "PERMISSION_DENIED")
    event = AuditEvent.objects.get(event_type=events.POLICY_EXCEPTION_STARTED)
    assert event.actor_id == w.owner.pk


def test_a_reader_who_is_not_the_owner_is_refused(w, users):
    exc = raise_exception(w, owner=w.owner)
    url = f"{API}/exceptions/{exc.pk}"
    error(w.client_for(w.bystander).patch(url, {"status": "in_progress"}, format="json"), 403, "PERMISSION_DENIED")
    # Without even the read permission the gate refuses before the body is read.
    error(w.client_for(users[Role.VIEWER]).patch(url, {"status": "in_progress"}, format="json"), 403,
          "PERMISSION_DENIED")  # fmt: skip
    assert InventoryPolicyException.objects.get(pk=exc.pk).status == "open"
    assert not AuditEvent.objects.filter(event_type=events.POLICY_EXCEPTION_STARTED).exists()


def test_an_exception_outside_the_scope_is_404(w, make_user):
    exc = raise_exception(w)
    scoped = make_user(Role.INVENTORY_MANAGER, email="garden2@example.test")
    user_scopes_set(
        actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.mower.category_id, "access": "change"}]
    )
    error(w.client_for(scoped).patch(f"{API}/exceptions/{exc.pk}", {"status": "in_progress"}, format="json"), 404,
          "NOT_FOUND")  # fmt: skip


# API-INV-17 / FRM-14 escalations ------------------------------------------------------------------------


def test_escalations_levels_reasons_and_order(w, make_user):
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    extra = [services.inventory_create(actor=w.admin, product=w.speaker,
                                       location=services.location_create(actor=w.admin, data={"code": f"L{i}",
                                                                                              "name": f"L{i}"}),
                                       data={"on_hand_qty": D("1")}) for i in range(3)]  # fmt: skip
    high_due = raise_exception(w, severity="high", due_date=today)  # L2 immediate
    late4 = raise_exception(w, w.other, due_date=today - 4 * day)  # L2 overdue by 4 days
    late1 = raise_exception(w, extra[0], due_date=today - day)  # L1 overdue by 1 day
    high_later = raise_exception(w, extra[1], severity="high", due_date=today + 2 * day)  # L1 high, not due
    raise_exception(w, extra[2], due_date=today + day)  # not escalated
    closed = raise_exception(w, exception_type="excess_risk", severity="high")
    policy_exception_update(actor=w.admin, exception=closed, data={"status": "dismissed", "resolution_note": "n"})
    response = w.api.get(f"{API}/control-tower/escalations")
    assert response.status_code == 200, response.content
    got = [(r["exception_id"], r["escalation_level"], r["escalation_reason"]) for r in response.json()]
    assert got == [
        (late4.pk, "L2", "Exception overdue by 4 days"),
        (high_due.pk, "L2", "High-severity exception requires immediate escalation"),
        (late1.pk, "L1", "Exception overdue by 1 day"),
        (high_later.pk, "L1", f"High-severity exception open, due {(today + 2 * day).isoformat()}"),
    ]
    first = response.json()[0]
    assert (first["inventory_id"], first["product_id"], first["location"], first["status"]) == (
        w.other.pk, w.mower.pk, "MAIN", "open")  # fmt: skip


def test_the_inventory_row_counts_its_active_exceptions(w):
    raise_exception(w)
    excess = raise_exception(w, exception_type="excess_risk")
    dismissal = {"status": "dismissed", "resolution_note": "Promotion stock, sold next week"}
    policy_exception_update(actor=w.manager, exception=excess, data=dismissal)
    body = w.api.get(API).json()
    rows = {r["id"]: r["open_exception_count"] for r in body["items"]}
    assert rows == {w.row.pk: 1, w.other.pk: 0}
    assert w.api.get(f"{API}/{w.row.pk}").json()["open_exception_count"] == 1
