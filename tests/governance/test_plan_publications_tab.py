"""The Publications tab of a plan's page (GOV-70): every publication that froze the row, newest first,
with its stamp, lane, status, publisher, the frozen version and quantity; publication readers only."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from governance.choices import Role
from governance.services import publishing
from planning import services
from tests.governance.login_helpers import assert_csp_clean
from tests.governance.test_publishing_world import make_world, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users):
    return make_world(users)


def tab_of(name: str, plan) -> str:
    return reverse(f"planning:{name}_detail", args=[plan.pk]) + "?tab=publications"


def plan_reader_without_publications(make_user):
    """Reads demand plans but not publications: no role is like that, so the permission is given directly."""
    user = make_user(Role.VIEWER)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="planning", codename="view_demandplan"))
    return type(user).objects.get(pk=user.pk)


def test_the_tab_lists_the_publications_of_a_demand_row_newest_first(client, users, world):
    row = world.demand[world.periods[0]]
    first = publish(world)
    second = publish(world, actor=world.executive)
    client.force_login(users[Role.FINANCE_ANALYST])
    response = client.get(tab_of("demand_plan", row))
    assert response.status_code == 200
    assert [i.publication.version_stamp for i in response.context["publication_items"]] == [
        second.version_stamp, first.version_stamp]  # fmt: skip
    html = response.content.decode()
    assert 'aria-current="page">Publications</a>' in html
    assert f'<a class="mono" href="/publish/{second.pk}/">{second.version_stamp}</a>' in html
    assert f'href="/publish/{first.pk}/"' in html
    assert html.index(second.version_stamp) < html.index(first.version_stamp, html.index('id="plan-publications"'))
    assert "Monthly" in html
    assert "Superseded" in html
    assert "Published" in html
    assert escape(world.executive.full_name) in html
    assert escape(world.coordinator.full_name) in html
    assert 'v1 <span class="muted">(this version)</span>' in html
    assert "100.00" in html  # the frozen demand quantity
    assert ">approved<" in html
    assert ">locked<" in html
    assert_csp_clean(html)


def test_the_tab_of_a_supply_row_shows_the_frozen_production_quantity(client, users, world):
    row = world.supply[world.periods[1]]
    weekly = publish(world, lane="weekly")
    client.force_login(users[Role.SUPPLY_PLANNER])
    response = client.get(tab_of("supply_plan", row))
    assert response.status_code == 200
    items = response.context["publication_items"]
    assert [(i.publication_id, i.plan_type, i.plan_id, i.plan_version) for i in items] == [
        (weekly.pk, "supply", row.pk, 1)]  # fmt: skip
    html = response.content.decode()
    assert weekly.version_stamp in html
    assert "Weekly" in html
    assert "100.00" in html


def test_a_later_version_of_the_row_points_at_the_version_the_publication_froze(client, users, world):
    row = world.demand[world.periods[0]]
    publication = publish(world)
    row.refresh_from_db()
    services.demand_plan_unlock(actor=world.executive, plan=row, justification="Customer order moved",
                                override_freeze=True)  # fmt: skip
    row.refresh_from_db()
    services.demand_plan_update(actor=world.coordinator, plan=row, data={"forecast_qty": 120})
    row.refresh_from_db()
    assert row.version == 2
    client.force_login(users[Role.DEMAND_PLANNER])
    html = client.get(tab_of("demand_plan", row)).content.decode()
    assert publication.version_stamp in html
    assert "<td>v1</td>" in html  # the publication froze version 1, not the one on screen
    # The history row of version 1 lists its live row's publications, and is the version they froze.
    page = client.get(tab_of("demand_plan", row.versions.get(version=1))).content.decode()
    assert publication.version_stamp in page
    assert 'v1 <span class="muted">(this version)</span>' in page


def test_a_row_never_published_says_so(client, users, world):
    row = world.demand_row(world.product, world.periods[0], region="North", status="draft")
    client.force_login(users[Role.DEMAND_PLANNER])
    response = client.get(tab_of("demand_plan", row))
    assert response.status_code == 200
    assert list(response.context["publication_items"]) == []
    assert "No publication has contained this plan row yet." in response.content.decode()


def test_users_who_cannot_read_publications_get_no_tab_and_no_rows(client, make_user, world):
    row = world.demand[world.periods[0]]
    publication = publish(world)
    reader = plan_reader_without_publications(make_user)
    assert list(publishing.publications_of_plan(user=reader, plan_type="demand", plan_id=row.pk)) == []
    client.force_login(reader)
    response = client.get(tab_of("demand_plan", row))
    assert response.status_code == 200
    assert response.context["tab"] == "details"
    assert "?tab=publications" not in response.content.decode()
    assert "publication_items" not in response.context
    assert publication.item_count > 0


def test_the_selector_reads_only_the_named_row(users, world):
    demand, supply = world.demand[world.periods[0]], world.supply[world.periods[0]]
    publication = publish(world)
    reader = users[Role.INVENTORY_MANAGER]
    demand_items = list(publishing.publications_of_plan(user=reader, plan_type="demand", plan_id=demand.pk))
    assert [(i.publication_id, i.plan_id) for i in demand_items] == [(publication.pk, demand.pk)]
    supply_items = list(publishing.publications_of_plan(user=reader, plan_type="supply", plan_id=supply.pk))
    assert [(i.plan_type, i.plan_id) for i in supply_items] == [("supply", supply.pk)]
    with pytest.raises(ValueError, match="unknown plan type"):
        publishing.publications_of_plan(user=reader, plan_type="demand_plan", plan_id=demand.pk)


def test_the_tab_query_count_does_not_grow_with_publications(client, users, world):
    row = world.demand[world.periods[0]]
    client.force_login(users[Role.DEMAND_PLANNER])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(tab_of("demand_plan", row)).status_code == 200
        return len(captured)

    publish(world)
    one = queries()
    publish(world, actor=world.executive)
    publish(world, lane="weekly")
    assert queries() == one
