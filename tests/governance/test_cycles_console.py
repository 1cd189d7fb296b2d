"""The S&OP cycle console (UI-11): cards, forms, the cycle page with its gate panel, and the actions."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from governance.choices import Role
from governance.models import ActionItem, AuditEvent, Decision, SopCycle, SopCycleStep
from governance.services import cycles
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

LIST = "/sop-cycle/"
PERIOD = date(2031, 3, 1)
JUSTIFICATION = "Executive agreed to go on with partial data."


@pytest.fixture
def cycle(users):
    coord = users[Role.SOP_COORDINATOR]
    owners = {
        1: coord,
        2: users[Role.DEMAND_PLANNER],
        3: users[Role.SUPPLY_PLANNER],
        4: coord,
        5: users[Role.EXECUTIVE],
    }
    return cycles.cycle_create(
        actor=coord, data={"period": PERIOD, "steps": {n: {"owner": u} for n, u in owners.items()}}
    )


def login(client, users, role):
    client.force_login(users[role])
    return client


def test_the_list_shows_cards_with_progress_steps_and_the_overdue_banner(client, users, cycle):
    SopCycleStep.objects.filter(cycle=cycle, step_number=1).update(due_date=timezone.localdate() - timedelta(days=2))
    page = login(client, users, Role.SOP_COORDINATOR).get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "March 2031 S&amp;OP Cycle" in html
    assert "Step 1 of 5" in html
    assert 'value="0"' in html
    assert 'id="overdue-steps"' in html
    assert "data-overdue" in html
    assert "Data Gathering" in html
    assert "Executive S&amp;OP" in html
    assert 'href="/sop-cycle/new/"' in html
    assert f'action="/sop-cycle/{cycle.pk}/cancel/"' in html
    client.force_login(users[Role.FINANCE_ANALYST])
    html = client.get(LIST).content.decode()
    assert 'href="/sop-cycle/new/"' not in html
    assert "/cancel/" not in html
    client.force_login(users[Role.VIEWER])
    assert client.get(LIST).status_code == 403


def test_create_and_edit_forms(client, users):
    coord, planner = users[Role.SOP_COORDINATOR], users[Role.DEMAND_PLANNER]
    login(client, users, Role.SOP_COORDINATOR)
    assert client.get("/sop-cycle/new/").status_code == 200
    response = client.post(
        "/sop-cycle/new/",
        {"period": "2031-06", "step_1_owner": coord.pk, "step_2_owner": planner.pk, "notes": "Kick-off"},
    )
    cycle = SopCycle.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sop-cycle/{cycle.pk}/"
    assert cycle.cycle_name == "June 2031 S&OP Cycle"
    assert SopCycleStep.objects.get(cycle=cycle, step_number=2).owner == planner
    duplicate = client.post("/sop-cycle/new/", {"period": "2031-06"})
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.content.decode()
    assert client.get(f"/sop-cycle/{cycle.pk}/edit/").status_code == 200
    response = client.post(
        f"/sop-cycle/{cycle.pk}/edit/",
        {
            "cycle_name": "June review",
            "notes": "",
            "step_1_owner": coord.pk,
            "step_2_owner": planner.pk,
            "step_3_due_date": "2031-06-21",
        },
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.cycle_name == "June review"
    assert SopCycleStep.objects.get(cycle=cycle, step_number=3).due_date == date(2031, 6, 21)
    client.force_login(users[Role.EXECUTIVE])
    assert client.get("/sop-cycle/new/").status_code == 403
    assert client.get(f"/sop-cycle/{cycle.pk}/edit/").status_code == 403


def test_the_cycle_page_shows_the_failing_gate_with_evidence_and_disables_advance(client, users, cycle):
    product = ProductFactory(sku="CON-1")
    html = login(client, users, Role.SOP_COORDINATOR).get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert 'id="gate-panel"' in html
    assert 'data-gate-passed="false"' in html
    assert 'data-check="forecast_coverage" data-passed="false"' in html
    assert product.sku in html
    assert "Advance is disabled" in html
    assert "disabled" in html
    assert 'id="override-form"' not in html  # the coordinator may not override
    assert 'id="skip-form"' not in html
    html = login(client, users, Role.EXECUTIVE).get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert 'id="override-form"' in html
    assert "Advance with override" in html
    assert 'id="skip-form"' in html


def test_advance_override_skip_and_cancel_from_the_page(client, users, cycle):
    ProductFactory()
    login(client, users, Role.SOP_COORDINATOR)
    response = client.post(f"/sop-cycle/{cycle.pk}/advance/", follow=True)
    assert "does not pass" in response.content.decode()
    assert SopCycle.objects.get(pk=cycle.pk).current_step == 1
    login(client, users, Role.EXECUTIVE)
    response = client.post(f"/sop-cycle/{cycle.pk}/advance/", {"override": "1", "justification": "short"}, follow=True)
    assert "at least 20 characters" in response.content.decode()
    response = client.post(
        f"/sop-cycle/{cycle.pk}/advance/", {"override": "1", "justification": JUSTIFICATION}, follow=True
    )
    assert "advanced to the next step" in response.content.decode()
    assert SopCycle.objects.get(pk=cycle.pk).current_step == 2
    response = client.post(f"/sop-cycle/{cycle.pk}/skip/", {"reason": "Reviewed offline"}, follow=True)
    assert SopCycle.objects.get(pk=cycle.pk).current_step == 3
    assert SopCycleStep.objects.get(cycle=cycle, step_number=2).skip_reason == "Reviewed offline"
    assert client.post(f"/sop-cycle/{cycle.pk}/cancel/", {"reason": "x"}).status_code == 403  # not COORD
    assert SopCycle.objects.get(pk=cycle.pk).overall_status == "active"
    login(client, users, Role.SOP_COORDINATOR)
    client.post(f"/sop-cycle/{cycle.pk}/cancel/", {"reason": "Replaced by a new cycle"})
    cycle.refresh_from_db()
    assert cycle.overall_status == "cancelled"
    html = client.get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert "Replaced by a new cycle" in html
    assert 'id="gate-panel"' not in html
    assert AuditEvent.objects.filter(
        target_type="sop_cycle", target_id=str(cycle.pk), event_type="governance.sop_cycle.cancelled"
    ).exists()


def test_complete_at_step_5_from_the_page(client, users, cycle):
    for _ in range(4):
        cycles.cycle_skip_step(actor=users[Role.EXECUTIVE], cycle=SopCycle.objects.get(pk=cycle.pk), reason="Fast")
    html = login(client, users, Role.EXECUTIVE).get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert "Complete with override" in html
    assert "Complete needs the step-5 gate" in html
    client.post(f"/sop-cycle/{cycle.pk}/complete/", {"override": "1", "justification": JUSTIFICATION})
    cycle.refresh_from_db()
    assert cycle.overall_status == "completed"
    html = client.get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert "read-only" in html
    assert JUSTIFICATION in html


def test_step_edit_start_decisions_and_action_items(client, users, cycle):
    planner = users[Role.DEMAND_PLANNER]
    login(client, users, Role.SOP_COORDINATOR)
    assert client.get(f"/sop-cycle/{cycle.pk}/steps/1/").status_code == 200
    response = client.post(
        f"/sop-cycle/{cycle.pk}/steps/1/",
        {"owner": users[Role.FINANCE_ANALYST].pk, "due_date": "2031-03-07", "notes": "ERP extract"},
    )
    assert response.status_code == 302
    step = SopCycleStep.objects.get(cycle=cycle, step_number=1)
    assert step.notes == "ERP extract"
    assert step.due_date == date(2031, 3, 7)
    client.post(f"/sop-cycle/{cycle.pk}/decisions/", {"title": "Hold prices", "category": "financial"})
    assert Decision.objects.filter(cycle=cycle, title="Hold prices").exists()
    client.post(
        f"/sop-cycle/{cycle.pk}/action-items/",
        {"title": "Call supplier", "owner": planner.pk, "due_date": "2031-03-20", "priority": "high"},
    )
    item = ActionItem.objects.get(cycle=cycle)
    assert item.owner == planner
    assert item.priority == "high"
    html = client.get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert "Hold prices" in html
    assert "Call supplier" in html
    # The step owner edits notes only, once the step is in progress; a pending current step they start.
    client.force_login(planner)
    assert client.get(f"/sop-cycle/{cycle.pk}/steps/2/").status_code == 403
    SopCycle.objects.filter(pk=cycle.pk).update(current_step=2)
    SopCycleStep.objects.filter(cycle=cycle, step_number=1).update(status="completed")
    html = client.get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert f'action="/sop-cycle/{cycle.pk}/steps/2/start/"' in html
    client.post(f"/sop-cycle/{cycle.pk}/steps/2/start/")
    assert SopCycleStep.objects.get(cycle=cycle, step_number=2).status == "in_progress"
    page = client.get(f"/sop-cycle/{cycle.pk}/steps/2/").content.decode()
    assert 'name="owner"' not in page
    client.post(f"/sop-cycle/{cycle.pk}/steps/2/", {"notes": "Reviewing the consensus"})
    assert SopCycleStep.objects.get(cycle=cycle, step_number=2).notes == "Reviewing the consensus"
