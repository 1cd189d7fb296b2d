"""Decisions, action items, comments with threads and mentions, notifications (GOV-10…13, GOV-80/81,
API-SOP-13…16, API-GOV-01…04, 20…27), the overdue reminder and the console pages."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.choices import Role
from governance.models import ActionItem, AuditEvent, Comment, Decision, Notification, SopCycle
from governance.schedules import SCHEDULES
from governance.services.action_items import action_item_create, action_items_notify_overdue
from governance.services.comments import comment_record
from governance.services.decisions import decision_record
from governance.services.scopes import user_scopes_set
from planning import services as planning

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def cycle(users):
    return SopCycle.objects.create(cycle_name="March 2026", period=date(2026, 3, 1), created_by=users[Role.ADMIN])


@pytest.fixture
def api(users, api_client_for):
    clients = {}

    def get(role):
        if role not in clients:
            clients[role] = api_client_for(users[role])
        return clients[role]

    return get


def audit_rows(event_type, target) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type, target_id=str(target.pk)).order_by("id"))


# Decisions -----------------------------------------------------------------------------------


def test_exec_c_records_a_decision_with_an_audit_row_and_others_are_refused(users, cycle, api):
    body = {"title": "Cut Q2 apparel forecast by 5 %", "category": "demand", "step_number": 2}
    for role in (Role.DEMAND_PLANNER, Role.FINANCE_ANALYST, Role.VIEWER):
        response = api(role).post(f"{API}/sop-cycles/{cycle.pk}/decisions", body, format="json")
        assert response.status_code == 403, role
    assert not Decision.objects.exists()
    response = api(Role.SOP_COORDINATOR).post(f"{API}/sop-cycles/{cycle.pk}/decisions", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["title"] == body["title"]
    assert data["status"] == "active"
    assert data["cycle_id"] == cycle.pk
    assert data["decided_by_id"] == users[Role.SOP_COORDINATOR].pk
    decision = Decision.objects.get(pk=data["id"])
    (row,) = audit_rows("governance.decision.recorded", decision)
    assert row.actor == users[Role.SOP_COORDINATOR]
    assert row.related_id == str(cycle.pk)
    assert row.after["title"] == body["title"]


def test_a_decision_that_supersedes_another_marks_it_superseded(users, cycle, api):
    old = decision_record(actor=users[Role.EXECUTIVE], cycle=cycle, data={"title": "Old", "category": "supply"})
    response = api(Role.EXECUTIVE).post(f"{API}/sop-cycles/{cycle.pk}/decisions",
                                        {"title": "New", "category": "supply", "supersedes_id": old.pk},
                                        format="json")  # fmt: skip
    assert response.status_code == 201
    old.refresh_from_db()
    assert old.status == "superseded"
    assert old.superseded_by_id == response.json()["id"]
    (row,) = audit_rows("governance.decision.superseded", old)
    assert row.before["status"] == "active"
    assert row.after["status"] == "superseded"
    again = api(Role.EXECUTIVE).post(f"{API}/sop-cycles/{cycle.pk}/decisions",
                                     {"title": "Newer", "category": "supply", "supersedes_id": old.pk},
                                     format="json")  # fmt: skip
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "INVALID_STATE_TRANSITION"


def test_a_closed_cycle_takes_no_decisions_or_action_items(users, cycle, api):
    cycle.overall_status = "cancelled"
    cycle.save()
    response = api(Role.ADMIN).post(f"{API}/sop-cycles/{cycle.pk}/decisions", {"title": "X", "category": "other"},
                                    format="json")  # fmt: skip
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ENTITY_LOCKED"
    response = api(Role.ADMIN).post(f"{API}/sop-cycles/{cycle.pk}/action-items", {
        "title": "X", "owner_id": users[Role.ADMIN].pk, "due_date": "2026-04-01"}, format="json")  # fmt: skip
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ENTITY_LOCKED"


def test_decision_lists_and_detail_with_linked_action_items(users, cycle, api):
    exec_ = users[Role.EXECUTIVE]
    d1 = decision_record(actor=exec_, cycle=cycle, data={"title": "Demand", "category": "demand"})
    decision_record(actor=exec_, cycle=None, data={"title": "Policy", "category": "policy"})
    data = {"title": "Follow up", "owner": users[Role.SUPPLY_PLANNER], "decision": d1, "due_date": date(2026, 3, 20)}
    item = action_item_create(actor=exec_, cycle=cycle, data=data)
    response = api(Role.INVENTORY_MANAGER).get(f"{API}/decisions", {"cycle_id": cycle.pk})
    assert response.status_code == 200
    body = response.json()
    rows = body.get("items") or body.get("results") or body.get("data")
    assert [d["title"] for d in rows] == ["Demand"]
    detail = api(Role.FINANCE_ANALYST).get(f"{API}/decisions/{d1.pk}").json()
    assert [a["id"] for a in detail["action_items"]] == [item.pk]
    in_cycle = api(Role.DEMAND_PLANNER).get(f"{API}/sop-cycles/{cycle.pk}/decisions").json()
    assert [d["id"] for d in in_cycle] == [d1.pk]
    assert api(Role.VIEWER).get(f"{API}/decisions/{d1.pk}").status_code == 403
    assert api(Role.DEMAND_PLANNER).get(f"{API}/decisions/999999").status_code == 404


# Action items --------------------------------------------------------------------------------


def test_creating_an_action_item_notifies_its_owner_and_is_audited(users, cycle, api):
    owner = users[Role.SUPPLY_PLANNER]
    response = api(Role.EXECUTIVE).post(f"{API}/sop-cycles/{cycle.pk}/action-items", {
        "title": "Confirm extra shift", "owner_id": owner.pk, "due_date": "2026-03-15", "priority": "high"},
        format="json")  # fmt: skip
    assert response.status_code == 201
    item = ActionItem.objects.get(pk=response.json()["id"])
    assert (item.status, item.priority, item.owner, item.cycle) == ("open", "high", owner, cycle)
    (note,) = Notification.objects.filter(recipient=owner)
    assert note.kind == "assignment"
    assert note.entity_type == "action_item"
    assert note.entity_id == str(item.pk)
    (row,) = audit_rows("governance.action_item.created", item)
    assert row.metadata["notified"] == [owner.pk]
    # A viewer cannot own an action item (ACC-04): 400.
    response = api(Role.EXECUTIVE).post(f"{API}/sop-cycles/{cycle.pk}/action-items", {
        "title": "X", "owner_id": users[Role.VIEWER].pk, "due_date": "2026-03-15"}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert "owner_id" in response.json()["error"]["details"]["fields"]


def test_step_owners_create_action_items_in_their_cycle_and_other_planners_may_not(users, cycle, api):
    from governance.models import SopCycleStep

    planner = users[Role.DEMAND_PLANNER]
    body = {"title": "Check promo", "owner_id": planner.pk, "due_date": "2026-03-10"}
    assert api(Role.DEMAND_PLANNER).post(f"{API}/sop-cycles/{cycle.pk}/action-items", body,
                                         format="json").status_code == 403  # fmt: skip
    SopCycleStep.objects.create(cycle=cycle, step_number=2, name="Demand Review", owner=planner)
    assert api(Role.DEMAND_PLANNER).post(f"{API}/sop-cycles/{cycle.pk}/action-items", body,
                                         format="json").status_code == 201  # fmt: skip


def test_action_item_transitions_follow_wf51(users, cycle, api):
    owner = users[Role.INVENTORY_MANAGER]
    item = action_item_create(actor=users[Role.ADMIN], cycle=cycle,
                              data={"title": "Count DC-EU", "owner": owner, "due_date": date(2026, 3, 9)})  # fmt: skip
    url = f"{API}/action-items/{item.pk}"
    refused = api(Role.INVENTORY_MANAGER).patch(url, {"status": "done"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "INVALID_STATE_TRANSITION"
    assert api(Role.INVENTORY_MANAGER).patch(url, {"status": "in_progress", "notes": "Started"},
                                             format="json").status_code == 200  # fmt: skip
    done = api(Role.INVENTORY_MANAGER).patch(url, {"status": "done"}, format="json").json()
    assert done["status"] == "done"
    assert done["completed_at"] is not None
    assert api(Role.INVENTORY_MANAGER).patch(url, {"status": "cancelled"}, format="json").status_code == 409
    reopened = api(Role.SOP_COORDINATOR).patch(url, {"status": "open"}, format="json").json()
    assert reopened["status"] == "open"
    assert reopened["completed_at"] is None
    assert api(Role.SOP_COORDINATOR).patch(url, {"status": "cancelled"}, format="json").status_code == 200
    events = [r.after["status"] for r in audit_rows("governance.action_item.updated", item)]
    assert events == ["in_progress", "done", "open", "cancelled"]


def test_the_owner_changes_status_and_notes_only_and_others_nothing(users, cycle, api, make_user):
    owner = users[Role.INVENTORY_MANAGER]
    item = action_item_create(actor=users[Role.ADMIN], cycle=cycle,
                              data={"title": "Count", "owner": owner, "due_date": date(2026, 3, 9)})  # fmt: skip
    url = f"{API}/action-items/{item.pk}"
    assert api(Role.INVENTORY_MANAGER).patch(url, {"due_date": "2026-04-01"}, format="json").status_code == 403
    assert api(Role.FINANCE_ANALYST).patch(url, {"notes": "mine now"}, format="json").status_code == 403
    new_owner = users[Role.FINANCE_ANALYST]
    response = api(Role.EXECUTIVE).patch(url, {"due_date": "2026-04-01", "owner_id": new_owner.pk, "priority": "low"},
                                         format="json")  # fmt: skip
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.due_date, item.owner, item.priority) == (date(2026, 4, 1), new_owner, "low")
    assert Notification.objects.filter(recipient=new_owner, kind="assignment").count() == 1


def test_action_item_list_defaults_to_the_caller_and_filters_overdue(users, cycle, api):
    admin, owner = users[Role.ADMIN], users[Role.SUPPLY_PLANNER]
    today = timezone.localdate()
    late = action_item_create(actor=admin, cycle=cycle, data={"title": "Late", "owner": owner,
                                                              "due_date": today - timedelta(days=2)})  # fmt: skip
    action_item_create(actor=admin, cycle=cycle, data={"title": "Later", "owner": owner,
                                                       "due_date": today + timedelta(days=2)})  # fmt: skip
    action_item_create(actor=admin, cycle=cycle, data={"title": "Other", "owner": admin, "due_date": today})

    def rows(response):
        assert response.status_code == 200
        body = response.json()
        return [r["title"] for r in (body.get("items") or body.get("results") or body.get("data"))]

    assert rows(api(Role.SUPPLY_PLANNER).get(f"{API}/action-items")) == ["Late", "Later"]
    assert rows(api(Role.SUPPLY_PLANNER).get(f"{API}/action-items", {"overdue": "true"})) == ["Late"]
    assert rows(api(Role.EXECUTIVE).get(f"{API}/action-items", {"owner_id": admin.pk})) == ["Other"]
    cycle_rows = api(Role.FINANCE_ANALYST).get(f"{API}/sop-cycles/{cycle.pk}/action-items", {"owner_id": owner.pk})
    assert [r["title"] for r in cycle_rows.json()] == ["Late", "Later"]
    assert api(Role.FINANCE_ANALYST).get(f"{API}/action-items/{late.pk}").json()["overdue"] is True


def test_overdue_reminders_are_sent_once_per_item_per_day(users, cycle):
    admin, owner = users[Role.ADMIN], users[Role.SUPPLY_PLANNER]
    today = timezone.localdate()
    late = action_item_create(actor=admin, cycle=cycle, data={"title": "Late", "owner": owner,
                                                              "due_date": today - timedelta(days=1)})  # fmt: skip
    done = action_item_create(actor=admin, cycle=cycle, data={"title": "Done", "owner": owner,
                                                              "due_date": today - timedelta(days=1)})  # fmt: skip
    ActionItem.objects.filter(pk=done.pk).update(status="done")
    action_item_create(actor=admin, cycle=cycle, data={"title": "Future", "owner": owner, "due_date": today})
    assert action_items_notify_overdue(today=today) == 1
    assert action_items_notify_overdue(today=today) == 0
    (note,) = Notification.objects.filter(kind="action_item_due")
    assert (note.recipient, note.entity_id) == (owner, str(late.pk))
    (row,) = AuditEvent.objects.filter(event_type="governance.action_item.overdue_notified")
    assert row.metadata["action_item_ids"] == [late.pk]
    assert row.actor is None
    assert "governance.notify_overdue_action_items" in {s.name for s in SCHEDULES}


# Comments ------------------------------------------------------------------------------------


@pytest.fixture
def plan(users):
    admin = users[Role.ADMIN]
    category = planning.category_create(actor=admin, name="Audio")
    product = planning.product_create(actor=admin, data={"sku": "CL-1", "name": "Collab", "category": category})
    return planning.demand_plan_create(actor=users[Role.DEMAND_PLANNER], product=product,
                                       data={"period": date(2026, 5, 1), "forecast_qty": Decimal("40")})  # fmt: skip


def test_mentions_by_id_and_email_notify_readers_only(users, plan, api, make_user):
    admin = users[Role.ADMIN]
    garden = planning.category_create(actor=admin, name="Garden")
    outsider = make_user(Role.DEMAND_PLANNER, email="outsider@example.test")
    user_scopes_set(actor=admin, user=outsider, scopes=[{"type": "category", "id": garden.pk, "access": "change"}])
    supply, viewer = users[Role.SUPPLY_PLANNER], users[Role.VIEWER]
    content = f"Please check the May number, @{supply.email.upper()} and @outsider@example.test"
    response = api(Role.DEMAND_PLANNER).post(f"{API}/comments", {
        "entity_type": "demand_plan", "entity_id": str(plan.pk), "content": content, "mentions": [viewer.pk]},
        format="json")  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert sorted(m["id"] for m in body["mentions"]) == sorted([supply.pk, outsider.pk, viewer.pk])
    assert sorted(u["id"] for u in body["unnotified_mentions"]) == sorted([outsider.pk, viewer.pk])
    notes = Notification.objects.filter(kind="mention")
    assert [n.recipient for n in notes] == [supply]
    assert (notes[0].entity_type, notes[0].entity_id) == ("demand_plan", str(plan.pk))
    comment = Comment.objects.get(pk=body["id"])
    (row,) = audit_rows("governance.comment.created", comment)
    assert row.metadata["notified"] == [supply.pk]
    assert row.related_type == "demand_plan"


def test_replies_stay_on_the_same_entity_and_unreadable_entities_are_404(users, plan, api, cycle):
    parent = api(Role.DEMAND_PLANNER).post(f"{API}/comments", {
        "entity_type": "demand_plan", "entity_id": str(plan.pk), "content": "First"}, format="json").json()  # fmt: skip
    reply = api(Role.SUPPLY_PLANNER).post(f"{API}/comments", {
        "entity_type": "demand_plan", "entity_id": str(plan.pk), "content": "Reply", "parent_id": parent["id"]},
        format="json")  # fmt: skip
    assert reply.status_code == 201
    assert reply.json()["parent_id"] == parent["id"]
    decision = decision_record(actor=users[Role.EXECUTIVE], cycle=cycle, data={"title": "D", "category": "other"})
    elsewhere = api(Role.SUPPLY_PLANNER).post(f"{API}/comments", {
        "entity_type": "decision", "entity_id": str(decision.pk), "content": "Reply", "parent_id": parent["id"]},
        format="json")  # fmt: skip
    assert elsewhere.status_code == 400
    assert api(Role.VIEWER).post(f"{API}/comments", {"entity_type": "demand_plan", "entity_id": str(plan.pk),
                                                     "content": "x"}, format="json").status_code == 403  # fmt: skip
    unknown = api(Role.SUPPLY_PLANNER).post(f"{API}/comments", {"entity_type": "demand_plan", "entity_id": "999999",
                                                                "content": "x"}, format="json")  # fmt: skip
    assert unknown.status_code == 404


def test_authors_edit_their_comments_and_decision_comments_are_immutable(users, plan, api):
    created = api(Role.DEMAND_PLANNER).post(f"{API}/comments", {
        "entity_type": "demand_plan", "entity_id": str(plan.pk), "content": "Draft"}, format="json").json()  # fmt: skip
    url = f"{API}/comments/{created['id']}"
    assert api(Role.SUPPLY_PLANNER).patch(url, {"content": "Hijack"}, format="json").status_code == 403
    assert api(Role.DEMAND_PLANNER).patch(url, {"content": ""}, format="json").status_code == 400
    edited = api(Role.DEMAND_PLANNER).patch(url, {"content": "Final"}, format="json")
    assert edited.status_code == 200
    assert edited.json()["content"] == "Final"
    assert edited.json()["edited_at"]
    comment = Comment.objects.get(pk=created["id"])
    (row,) = audit_rows("governance.comment.edited", comment)
    assert (row.before["content"], row.after["content"]) == ("Draft", "Final")
    from django.db import transaction

    with transaction.atomic():
        approval = comment_record(actor=users[Role.EXECUTIVE], target=plan, kind="approval", content="OK")
    response = api(Role.EXECUTIVE).patch(f"{API}/comments/{approval.pk}", {"content": "Changed"}, format="json")
    assert response.status_code == 409
    assert api(Role.ADMIN).delete(f"{API}/comments/{approval.pk}").status_code == 409
    approval.refresh_from_db()
    assert approval.content == "OK"
    assert approval.deleted_at is None


def test_soft_delete_by_the_author_or_an_admin(users, plan, api):
    def post(role, text):
        return api(role).post(f"{API}/comments", {"entity_type": "demand_plan", "entity_id": str(plan.pk),
                                                  "content": text}, format="json").json()  # fmt: skip

    mine, theirs = post(Role.DEMAND_PLANNER, "Mine"), post(Role.SUPPLY_PLANNER, "Theirs")
    assert api(Role.DEMAND_PLANNER).delete(f"{API}/comments/{theirs['id']}").status_code == 403
    assert api(Role.DEMAND_PLANNER).delete(f"{API}/comments/{mine['id']}").status_code == 204
    assert api(Role.ADMIN).delete(f"{API}/comments/{theirs['id']}").status_code == 204
    listed = api(Role.FINANCE_ANALYST).get(f"{API}/comments", {"entity_type": "demand_plan",
                                                               "entity_id": plan.pk}).json()  # fmt: skip
    rows = listed.get("items") or listed.get("results") or listed.get("data")
    assert [(r["content"], r["deleted"]) for r in rows] == [("[deleted]", True), ("[deleted]", True)]
    assert Comment.objects.filter(deleted_at__isnull=False).count() == 2
    row = AuditEvent.objects.get(event_type="governance.comment.deleted", target_id=str(theirs["id"]))
    assert row.actor == users[Role.ADMIN]
    assert api(Role.DEMAND_PLANNER).patch(f"{API}/comments/{mine['id']}", {"content": "x"},
                                          format="json").status_code == 409  # fmt: skip


# Notifications -------------------------------------------------------------------------------


def test_notifications_are_private_and_reading_them_is_not_audited(users, api):
    me, other = users[Role.FINANCE_ANALYST], users[Role.SUPPLY_PLANNER]
    first = Notification.objects.create(recipient=me, kind="mention", title="One")
    Notification.objects.create(recipient=me, kind="assignment", title="Two")
    theirs = Notification.objects.create(recipient=other, kind="mention", title="Not yours")
    api(Role.FINANCE_ANALYST)  # its API token is created (and audited) now, before the count
    before = AuditEvent.objects.count()
    listed = api(Role.FINANCE_ANALYST).get(f"{API}/notifications").json()
    rows = listed.get("items") or listed.get("results") or listed.get("data")
    assert [r["title"] for r in rows] == ["Two", "One"]
    assert api(Role.FINANCE_ANALYST).get(f"{API}/notifications/unread-count").json() == {"unread": 2}
    assert api(Role.FINANCE_ANALYST).post(f"{API}/notifications/{theirs.pk}/read").status_code == 404
    read = api(Role.FINANCE_ANALYST).post(f"{API}/notifications/{first.pk}/read")
    assert read.status_code == 200
    assert read.json()["read_at"]
    unread = api(Role.FINANCE_ANALYST).get(f"{API}/notifications", {"unread": "true"}).json()
    assert [r["title"] for r in (unread.get("items") or unread.get("results") or unread.get("data"))] == ["Two"]
    assert api(Role.FINANCE_ANALYST).post(f"{API}/notifications/read-all").json() == {"updated": 1}
    assert api(Role.FINANCE_ANALYST).get(f"{API}/notifications/unread-count").json() == {"unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert AuditEvent.objects.count() == before


# Console -------------------------------------------------------------------------------------


def test_console_pages_render_with_data_and_the_bell_shows_the_unread_count(users, cycle, client):
    owner = users[Role.SUPPLY_PLANNER]
    today = timezone.localdate()
    decision = decision_record(actor=users[Role.EXECUTIVE], cycle=cycle,
                               data={"title": "Add a weekend shift", "category": "supply"})  # fmt: skip
    data = {"title": "Book the shift", "owner": owner, "due_date": today - timedelta(days=3), "decision": decision}
    late = action_item_create(actor=users[Role.EXECUTIVE], cycle=cycle, data=data)
    client.force_login(owner)
    page = client.get("/action-items/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Book the shift" in html
    assert "Overdue" in html
    assert "is-overdue" in html
    assert "data-unread-count" in html  # the assignment notification
    assert "<script>" not in html
    assert "style=" not in html
    response = client.post(f"/action-items/{late.pk}/status/", {"status": "in_progress"})
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.status == "in_progress"
    response = client.post(f"/action-items/{late.pk}/status/", {"status": "open"}, follow=True)
    late.refresh_from_db()
    assert late.status == "in_progress"  # refused transition, shown as a message
    page = client.get("/decisions/")
    assert page.status_code == 200
    assert "Add a weekend shift" in page.content.decode()
    page = client.get("/notifications/")
    assert page.status_code == 200
    assert "Action item assigned: Book the shift" in page.content.decode()
    note = Notification.objects.get(recipient=owner)
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert "data-unread-count" not in client.get("/notifications/").content.decode()


def test_viewers_see_no_governance_pages_but_their_notifications(users, client):
    client.force_login(users[Role.VIEWER])
    assert client.get("/action-items/").status_code == 403
    assert client.get("/decisions/").status_code == 403
    assert client.get("/notifications/").status_code == 200
