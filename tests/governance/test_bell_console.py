"""The header bell, opening a notification, and the "My approvals" queue (UI-01, UI-18, GOV-81)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from forecasting import services as forecasting
from governance.choices import Role
from governance.models import Notification
from governance.services.notifications import notification_create_many
from governance.views_my_work import bell_for, time_ago
from planning import services
from planning.models import Scenario
from tests.forecasting.builders import make_run

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


def notify(user, title, *, url="", kind="mention", minutes_ago=0):
    (note,) = notification_create_many(recipients=[user], kind=kind, title=title, url=url)
    if minutes_ago:
        Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return note


def bell_html(client) -> str:
    html = client.get("/notifications/").content.decode()
    match = re.search(r"<details class=\"bell-menu\".*?</details>", html, re.S)
    assert match, "the header has a bell"
    return match.group(0)


# The bell ------------------------------------------------------------------------------------------


def test_the_bell_shows_the_unread_count_and_the_latest_ten_newest_first(users, client):
    user = users[Role.FINANCE_ANALYST]
    for i in range(12):
        notify(user, f"Note {i:02d}", minutes_ago=120 - i)  # Note 11 is the newest
    Notification.objects.filter(recipient=user, title="Note 11").update(read_at=timezone.now())
    client.force_login(user)
    bell = bell_html(client)
    assert re.search(r"data-unread-count>11<", bell)
    assert 'aria-label="Notifications, 11 unread"' in bell
    titles = re.findall(r'<span class="bell-item__title">(.*?)</span>', bell)
    assert titles == [f"Note {i:02d}" for i in range(11, 1, -1)]
    assert bell.count("is-unread") == 9  # Note 11 is read
    assert "1\xa0hour ago" in bell
    for note in Notification.objects.filter(recipient=user, title__in=titles):
        assert f'action="/notifications/{note.pk}/read/"' in bell
    assert 'action="/notifications/read-all/"' in bell
    assert "Mark all read" in bell
    assert 'href="/notifications/"' in bell
    assert "View all" in bell
    assert 'href="/action-items/"' in bell
    assert "/my-approvals/" not in bell  # finance analysts approve nothing
    assert "<script" not in bell
    assert "style=" not in bell


def test_an_empty_bell_says_so_and_offers_no_mark_all(users, client):
    client.force_login(users[Role.VIEWER])
    bell = bell_html(client)
    assert "No notifications yet." in bell
    assert "data-unread-count" not in bell
    assert "Mark all read" not in bell
    assert "/action-items/" not in bell  # viewers have no action items page (ACC-06)


def test_mark_all_read_from_the_bell_empties_the_count(users, client):
    user = users[Role.SUPPLY_PLANNER]
    notify(user, "One")
    notify(user, "Two")
    client.force_login(user)
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert "data-unread-count" not in bell_html(client)


def test_the_bell_costs_one_query_and_none_where_it_is_not_rendered(users, client, django_assert_num_queries):
    user = users[Role.EXECUTIVE]
    for i in range(3):
        notify(user, f"N{i}")
    user.has_perm("planning.view_demandplan")  # the page has loaded the permissions already (navigation)
    with django_assert_num_queries(1):
        bell = bell_for(user)
    assert [item["title"] for item in bell.latest] == ["N2", "N1", "N0"]
    assert bell.can_approve
    assert bell.can_see_action_items


def test_time_ago_is_short():
    now = timezone.now()
    assert time_ago(now - timedelta(seconds=20), now) == "just now"
    assert time_ago(now - timedelta(minutes=5), now) == "5\xa0minutes ago"
    assert time_ago(now - timedelta(days=3, hours=4), now) == "3\xa0days ago"


# Opening a notification ----------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(users, client):
    user = users[Role.DEMAND_PLANNER]
    note = notify(user, "Demand plan approved", url="/demand/?status=approved&period_from=2026-03")
    client.force_login(user)
    response = client.post(f"/notifications/{note.pk}/read/")
    assert response.status_code == 302
    assert response["Location"] == "/demand/?status=approved&period_from=2026-03"
    note.refresh_from_db()
    assert note.read_at is not None


@pytest.mark.parametrize(
    "url", ["https://evil.example/phish", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "demand/3/"]
)
def test_opening_a_notification_never_leaves_the_site(users, client, url):
    user = users[Role.DEMAND_PLANNER]
    note = notify(user, "Suspicious", url=url)
    client.force_login(user)
    response = client.post(f"/notifications/{note.pk}/read/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_someone_elses_notification_is_not_found_and_stays_unread(users, client):
    note = notify(users[Role.EXECUTIVE], "Private", url="/demand/")
    client.force_login(users[Role.DEMAND_PLANNER])
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


# My approvals --------------------------------------------------------------------------------------


@pytest.fixture
def queue(users):
    admin, planner, supplier = users[Role.ADMIN], users[Role.DEMAND_PLANNER], users[Role.SUPPLY_PLANNER]
    category = services.category_create(actor=admin, name="Audio")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category})
    plant = services.location_create(actor=admin, data={"code": "PLANT-A", "name": "Plant A", "location_type": "plant"})
    submitted = services.demand_plan_create(actor=planner, product=speaker,
                                            data={"period": MARCH, "forecast_qty": Decimal("100")})  # fmt: skip
    services.demand_plan_submit(actor=planner, plan=submitted)
    services.demand_plan_create(actor=planner, product=speaker,  # a draft waits for nobody
                                data={"period": date(2026, 4, 1), "forecast_qty": Decimal("100")})  # fmt: skip
    own = services.demand_plan_create(actor=admin, product=speaker,
                                      data={"period": date(2026, 5, 1), "forecast_qty": Decimal("100")})  # fmt: skip
    services.demand_plan_submit(actor=admin, plan=own)
    supply = services.supply_plan_create(actor=supplier, product=speaker, location=plant,
                                         data={"period": MARCH, "planned_prod_qty": Decimal("80")})  # fmt: skip
    services.supply_plan_submit(actor=supplier, plan=supply)
    run = make_run(speaker, as_of=date(2027, 1, 1), predictions=[100, 110])
    consensus = forecasting.consensus_create(actor=planner, data={"forecast_run_audit_id": run.pk,
                                                                  "period": date(2027, 1, 1)})  # fmt: skip
    forecasting.consensus_propose(actor=planner, consensus=consensus)
    scenario = Scenario.objects.create(name="Price rise 5%", status="submitted", period=MARCH, submitted_by=planner,
                                       submitted_at=timezone.now())  # fmt: skip
    Scenario.objects.create(name="Draft idea", status="draft", period=MARCH)
    return {"demand": submitted, "own": own, "supply": supply, "consensus": consensus, "scenario": scenario}


def groups_of(html: str) -> dict[str, int]:
    return {key: int(count) for key, count in re.findall(
        r'data-approval-group="(\w+)".*?data-count>(\d+)<', html, re.S)}  # fmt: skip


def test_an_executive_sees_every_queue_with_counts_and_links(users, client, queue):
    client.force_login(users[Role.EXECUTIVE])
    response = client.get("/my-approvals/")
    assert response.status_code == 200
    html = response.content.decode()
    assert groups_of(html) == {"demand": 2, "supply": 1, "consensus": 1, "scenarios": 1}
    assert re.search(r"data-approvals-total>5<", html)
    assert f'href="/demand/{queue["demand"].pk}/"' in html
    assert f'href="/demand/{queue["own"].pk}/"' in html
    assert f'href="/supply/{queue["supply"].pk}/"' in html
    assert f"run={queue['consensus'].forecast_run_id}" in html
    assert "Price rise 5%" in html
    assert "Draft idea" not in html
    assert "/my-approvals/" in bell_html(client)


def test_an_admin_does_not_see_what_they_submitted_themselves(users, client, queue):
    client.force_login(users[Role.ADMIN])
    html = client.get("/my-approvals/").content.decode()
    assert groups_of(html)["demand"] == 1  # segregation of duties (ACC-05): not their own submission
    assert f'href="/demand/{queue["own"].pk}/"' not in html


def test_a_coordinator_sees_only_the_consensus_queue(users, client, queue):
    client.force_login(users[Role.SOP_COORDINATOR])
    html = client.get("/my-approvals/").content.decode()
    assert groups_of(html) == {"consensus": 1}


@pytest.mark.parametrize("role", [Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.FINANCE_ANALYST, Role.VIEWER])
def test_non_approvers_get_403_and_no_link(users, client, role):
    client.force_login(users[role])
    assert client.get("/my-approvals/").status_code == 403
    assert "/my-approvals/" not in client.get("/notifications/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/my-approvals/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_notifications_page_links_my_approvals_for_approvers(users, client):
    client.force_login(users[Role.EXECUTIVE])
    html = client.get("/notifications/").content.decode()
    assert html.count('href="/my-approvals/"') == 2  # the page's button and the bell
