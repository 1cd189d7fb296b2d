"""OPS-44: the dashboard and KPI overview reads come from the shared cache per (endpoint, role, scope), a
change through a service or a domain event retires them, callers with another scope never share an entry,
DASHBOARD_CACHE_SECONDS=0 turns the cache off, and a failing cache only costs the cache."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from genxsop import readcache
from governance import bus
from governance.choices import Role
from planning import services
from planning.models import Inventory
from planning.services import kpis as kpi_services
from tests.planning import test_dashboard_api as api_tests
from tests.planning.test_dashboard_api import URL, scoped_planner

pytestmark = pytest.mark.django_db

w = api_tests.w  # two categories (Audio: speaker, Garden: mower), stock at MAIN, demand and supply plans

D = Decimal
WARM_BUDGET = 3  # the token lookup and the audit mark (2), with one to spare


def call(client, path, **query):
    """(status, body, queries) of one API call."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL + path, query)
    return response.status_code, response.json(), len(queries)


@pytest.fixture
def admin_api(w):
    return w.client_for(w.admin)


@pytest.mark.parametrize("path", ["summary", "alerts", "kpi-overview", "activity", "sop-status"])
def test_second_call_is_served_from_the_cache_with_the_same_body(w, admin_api, path, settings):
    status, first, cold = call(admin_api, path)
    _, second, warm = call(admin_api, path)
    assert status == 200
    assert second == first
    assert warm < cold
    settings.DASHBOARD_CACHE_SECONDS = 0
    _, uncached, _ = call(admin_api, path)
    assert uncached == first  # what the cache serves is what a computation answers


def test_summary_query_count_drops_to_the_request_overhead(w, admin_api, django_assert_max_num_queries):
    _, _, cold = call(admin_api, "summary")
    # A warm call costs the token authentication and the audit mark, whatever the data.
    with django_assert_max_num_queries(WARM_BUDGET):
        call(admin_api, "summary")
    assert cold > WARM_BUDGET


@pytest.mark.parametrize("path", ["dashboard", "alerts", "summary"])
def test_kpi_reads_are_cached(w, admin_api, path):
    otd = {"metric_name": "supplier_otd", "period": "2026-01", "value": D("90")}
    kpi_services.kpi_metric_create(actor=w.users[Role.EXECUTIVE], data=otd)
    first = admin_api.get(f"/api/v1/kpi/{path}")
    with CaptureQueriesContext(connection) as warm:
        admin_api.get(f"/api/v1/kpi/{path}")
    cache.clear()
    with CaptureQueriesContext(connection) as recomputed:
        again = admin_api.get(f"/api/v1/kpi/{path}")
    assert first.status_code == 200
    assert first.json() == again.json()
    assert len(warm) < len(recomputed)


# Invalidation ------------------------------------------------------------------------------------------


def test_a_demand_plan_submit_shows_on_the_next_summary(w, admin_api):
    before = call(admin_api, "summary")[1]["demand_plans"]
    plan = w.speaker.demand_plans.filter(is_current=True, period=w.month).get()
    services.demand_plan_submit(actor=w.admin, plan=plan)
    after = call(admin_api, "summary")[1]["demand_plans"]
    # One of the three drafts in the window moved to submitted.
    assert (before["draft"], before["submitted"]) == (3, 0)
    assert (after["draft"], after["submitted"]) == (2, 1)


def test_an_inventory_update_shows_on_the_next_summary_and_alerts(w, admin_api):
    assert call(admin_api, "summary")[1]["inventory_health"]["critical"] == 1
    assert [r["sku"] for r in call(admin_api, "alerts")[1]["inventory_critical"]] == ["MOW-1"]
    services.inventory_update(actor=w.admin, inventory=w.mower_stock, data={"on_hand_qty": D("50")})
    health = call(admin_api, "summary")[1]["inventory_health"]
    # Mower 50 on hand >= reorder 20 -> normal; value 50 x 2.50 = 125.00, + speaker 1,000.00 = 1,125.00.
    assert (health["normal"], health["critical"], health["total_value"]) == (2, 0, "1125.00")
    assert call(admin_api, "alerts")[1]["inventory_critical"] == []


def test_a_manual_kpi_value_shows_on_the_next_overview_and_kpi_summary(w, admin_api):
    executive = w.users[Role.EXECUTIVE]
    kpi_services.kpi_metric_create(
        actor=executive, data={"metric_name": "supplier_otd", "period": "2026-01", "value": D("96")}
    )
    otd = next(r for r in call(admin_api, "kpi-overview")[1] if r["code"] == "supplier_otd")
    assert D(otd["value"]) == D("96")
    period = admin_api.get("/api/v1/kpi/summary").json()["period"]
    kpi_services.kpi_metric_create(
        actor=executive, data={"metric_name": "supplier_otd", "period": "2026-02", "value": D("90")}
    )
    otd = next(r for r in call(admin_api, "kpi-overview")[1] if r["code"] == "supplier_otd")
    assert (otd["period"], D(otd["value"])) == ("2026-02-01", D("90"))
    assert (period, admin_api.get("/api/v1/kpi/summary").json()["period"]) == ("2026-01-01", "2026-02-01")


def test_a_domain_event_retires_entries_even_for_a_write_without_audit(
    w, admin_api, django_capture_on_commit_callbacks
):
    assert call(admin_api, "summary")[1]["inventory_health"]["critical"] == 1
    # A write outside the services (no audit row) is seen only once its event is published.
    Inventory.objects.filter(pk=w.mower_stock.pk).update(status="normal")
    assert call(admin_api, "summary")[1]["inventory_health"]["critical"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        bus.publish_on_commit("planning.inventory.status_recomputed", inventory_ids=[w.mower_stock.pk])
    assert call(admin_api, "summary")[1]["inventory_health"]["critical"] == 0


@pytest.mark.parametrize("write", ["demand_plan", "inventory", "kpi"])
def test_the_service_events_alone_retire_the_entries(
    w, admin_api, monkeypatch, django_capture_on_commit_callbacks, settings, write
):
    """With the audit mark held still, the committed event of each write is what retires the entry."""
    monkeypatch.setattr(readcache, "_audit_mark", lambda: 0)
    path = "kpi-overview" if write == "kpi" else "summary"
    before = call(admin_api, path)[1]
    with django_capture_on_commit_callbacks(execute=True):
        if write == "demand_plan":
            plan = w.speaker.demand_plans.filter(is_current=True, period=w.month).get()
            services.demand_plan_update(actor=w.admin, plan=plan, data={"forecast_qty": D("120")})
            services.demand_plan_submit(actor=w.admin, plan=plan)
        elif write == "inventory":
            services.inventory_update(actor=w.admin, inventory=w.mower_stock, data={"on_hand_qty": D("50")})
        else:
            otd = {"metric_name": "supplier_otd", "period": "2026-01", "value": D("96")}
            kpi_services.kpi_metric_create(actor=w.users[Role.EXECUTIVE], data=otd)
    after = call(admin_api, path)[1]
    assert after != before
    settings.DASHBOARD_CACHE_SECONDS = 0
    assert call(admin_api, path)[1] == after


def test_account_events_leave_the_entries_alone(w, admin_api, django_capture_on_commit_callbacks):
    call(admin_api, "summary")
    generation = cache.get(readcache.GENERATION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        bus.publish_on_commit("governance.login.succeeded", user_id=w.admin.pk)
    assert cache.get(readcache.GENERATION_KEY) == generation
    with django_capture_on_commit_callbacks(execute=True):
        bus.publish_on_commit("governance.sop_cycle.advanced", cycle_id=1)
    assert cache.get(readcache.GENERATION_KEY) != generation


def test_an_evicted_generation_never_revives_old_entries(w, admin_api):
    call(admin_api, "summary")
    Inventory.objects.filter(pk=w.mower_stock.pk).update(status="normal")
    cache.delete(readcache.GENERATION_KEY)  # e.g. culled by the cache backend
    assert call(admin_api, "summary")[1]["inventory_health"]["critical"] == 0


# Scopes ------------------------------------------------------------------------------------------------


def test_callers_with_other_scopes_never_see_each_others_entry(w, make_user):
    audio_planner = scoped_planner(w, make_user, w.audio)
    garden_planner = scoped_planner(w, make_user, w.garden)
    audio, garden = w.client_for(audio_planner), w.client_for(garden_planner)
    first = call(audio, "summary")
    second = call(garden, "summary")
    again = call(audio, "summary")
    # Audio holds the speaker (100 x 10.00), Garden the mower (4 x 2.50); same role, different scope.
    assert (first[1]["inventory_health"]["total_value"], first[1]["products_tracked"]) == ("1000.00", 1)
    assert (second[1]["inventory_health"]["total_value"], second[1]["products_tracked"]) == ("10.00", 1)
    assert again[1] == first[1]
    assert again[2] < first[2]  # the Audio entry, served from the cache
    admin = call(w.client_for(w.admin), "summary")[1]
    assert admin["products_tracked"] == 2
    keys = {readcache.entry_key("dashboard.summary", u, ()) for u in (audio_planner, garden_planner, w.admin)}
    assert len(keys) == 3


def test_callers_with_the_same_role_and_scope_share_an_entry(w, make_user):
    one, other = scoped_planner(w, make_user, w.audio), scoped_planner(w, make_user, w.audio)
    one_api, other_api = w.client_for(one), w.client_for(other)  # issuing a token is an audited change
    first = call(one_api, "summary")
    second = call(other_api, "summary")
    assert second[1] == first[1]
    assert second[2] < first[2]


def test_roles_do_not_share_entries(w):
    """A viewer's alerts leave unreadable lists empty; the inventory manager's do not."""
    viewer_api, manager_api = w.client_for(w.users[Role.VIEWER]), w.client_for(w.users[Role.INVENTORY_MANAGER])
    viewer = call(viewer_api, "alerts")[1]
    planner = call(manager_api, "alerts")[1]
    assert viewer["inventory_critical"] == []
    assert [r["sku"] for r in planner["inventory_critical"]] == ["MOW-1"]


# Switch and failures -----------------------------------------------------------------------------------


def test_zero_seconds_turns_the_cache_off(w, admin_api, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    call(admin_api, "summary")  # the token's first use costs an extra write
    _, first, cold = call(admin_api, "summary")
    _, second, again = call(admin_api, "summary")
    assert second == first
    assert again == cold > WARM_BUDGET
    assert not any(cache.get(k) for k in [readcache.GENERATION_KEY, readcache.entry_key("dashboard.summary", w.admin)])


class BrokenCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


def test_a_failing_cache_falls_back_to_computing(w, admin_api, monkeypatch, client):
    _, expected, _ = call(admin_api, "summary")
    cache.clear()
    monkeypatch.setattr(readcache, "cache", BrokenCache())
    for path in ("summary", "alerts", "kpi-overview", "activity", "sop-status"):
        assert call(admin_api, path)[0] == 200
    assert call(admin_api, "summary")[1] == expected
    assert admin_api.get("/api/v1/kpi/summary").status_code == 200
    client.force_login(w.admin)
    assert client.get("/").status_code == 200


class ReadOnlyCache:
    def __getattr__(self, name):
        return getattr(cache, name)

    def set(self, *args, **kwargs):
        raise ConnectionError("cache full")


def test_a_failing_cache_write_still_answers(w, admin_api, monkeypatch):
    monkeypatch.setattr(readcache, "cache", ReadOnlyCache())
    status, body, _ = call(admin_api, "summary")
    assert (status, body["products_tracked"]) == (200, 2)


# Console home ------------------------------------------------------------------------------------------


def test_console_home_reuses_the_cached_reads(w, client):
    client.force_login(w.users[Role.EXECUTIVE])
    with CaptureQueriesContext(connection) as cold:
        first = client.get("/")
    with CaptureQueriesContext(connection) as warm:
        second = client.get("/")
    assert first.status_code == second.status_code == 200
    assert len(warm) < len(cold)
    services.inventory_update(actor=w.admin, inventory=w.mower_stock, data={"on_hand_qty": D("50")})
    html = client.get("/").content.decode()
    # 1,000.00 + 50 x 2.50 = 1,125.00 once the update retires the entry.
    assert 'data-value="1125.00"' in html
