"""Dashboard API (API-DASH-01…05): every role may call it, aggregates follow the caller's scope (ACC-06),
lists from unreadable modules are empty, and each endpoint costs a bounded number of queries."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from forecasting.series import add_months
from governance.choices import ActionItemStatus, Role
from governance.models import ActionItem
from governance.services.cycles import cycle_create
from governance.services.scopes import user_scopes_set
from planning import services
from planning.choices import KpiCategory, KpiDirection, KpiStatus, KpiTrend
from planning.models import KpiDefinition, KpiMetric
from planning.selectors.supply import planning_today

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/dashboard/"


def define(code, name, category=KpiCategory.SERVICE, unit="%", direction=KpiDirection.HIGHER_IS_BETTER, target=None):
    definition, _ = KpiDefinition.objects.get_or_create(
        code=code, defaults={"name": name, "category": category, "unit": unit, "direction": direction, "target": target}
    )
    return definition


def metric(
    code,
    period,
    value,
    *,
    status=KpiStatus.ON_TARGET,
    target=None,
    variance_pct=None,
    trend=KpiTrend.STABLE,
    category=KpiCategory.SERVICE,
):
    return KpiMetric.objects.create(
        metric_name=code,
        metric_category=category,
        period=period,
        value=D(str(value)),
        unit="%",
        status=status,
        target=None if target is None else D(str(target)),
        trend=trend,
        variance_pct=None if variance_pct is None else D(str(variance_pct)),
    )


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(
        actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio, "unit_cost": D("10.00")}
    )
    mower = services.product_create(
        actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden, "unit_cost": D("2.50")}
    )
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    # Speaker: 100 on hand, safety 10, reorder 20 -> normal, valued 100 x 10.00 = 1,000.00.
    speaker_stock = services.inventory_create(
        actor=admin,
        product=speaker,
        location=main,
        data={"on_hand_qty": D("100"), "safety_stock": D("10"), "reorder_point": D("20")},
    )
    # Mower: 4 on hand < safety 10 -> critical, valued 4 x 2.50 = 10.00.
    mower_stock = services.inventory_create(
        actor=admin,
        product=mower,
        location=main,
        data={"on_hand_qty": D("4"), "safety_stock": D("10"), "reorder_point": D("20")},
    )
    month = planning_today().replace(day=1)
    # Inside the window (this month .. +11): speaker this month and +11, mower this month; +12 is outside.
    for product, offset in ((speaker, 0), (speaker, 11), (mower, 0), (speaker, 12)):
        services.demand_plan_create(
            actor=admin, product=product, data={"period": add_months(month, offset), "forecast_qty": D("100")}
        )
    services.supply_plan_create(
        actor=admin, product=speaker, location=main, data={"period": month, "planned_prod_qty": D("80")}
    )
    return SimpleNamespace(
        users=users,
        admin=admin,
        audio=audio,
        garden=garden,
        speaker=speaker,
        mower=mower,
        main=main,
        speaker_stock=speaker_stock,
        mower_stock=mower_stock,
        month=month,
        client_for=api_client_for,
    )


def get(w, role_or_user, path, **query):
    user = w.users[role_or_user] if isinstance(role_or_user, str) else role_or_user
    response = w.client_for(user).get(URL + path, query)
    assert response.status_code == 200, response.content
    return response.json()


def scoped_planner(w, make_user, category):
    planner = make_user(Role.SUPPLY_PLANNER)
    user_scopes_set(actor=w.admin, user=planner, scopes=[{"type": "category", "id": category.pk, "access": "view"}])
    return planner


# API-DASH-01 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_gets_the_summary_with_aggregates(w, role):
    body = get(w, role, "summary")
    # Three current rows in the window, all drafts; the +12 row is outside it.
    assert body["demand_plans"] == {"draft": 3, "submitted": 0, "approved": 0, "rejected": 0, "locked": 0, "total": 3}
    assert body["supply_plans"]["total"] == 1
    # 1,000.00 + 10.00 = 1,010.00; one normal and one critical row.
    assert body["inventory_health"] == {
        "total_products": 2,
        "normal": 1,
        "low": 0,
        "critical": 1,
        "excess": 0,
        "total_value": "1010.00",
    }
    assert body["products_tracked"] == 2
    assert body["period_from"] == w.month.isoformat()
    assert body["period_to"] == add_months(w.month, 11).isoformat()


def test_a_user_scoped_to_one_category_counts_only_that_category(w, make_user):
    planner = scoped_planner(w, make_user, w.audio)
    body = get(w, planner, "summary")
    # Speaker only: two demand rows in the window, its supply row, its stock row (1,000.00, normal).
    assert body["demand_plans"]["total"] == 2
    assert body["supply_plans"]["total"] == 1
    assert body["inventory_health"]["total_products"] == 1
    assert body["inventory_health"]["critical"] == 0
    assert body["inventory_health"]["total_value"] == "1000.00"
    assert body["products_tracked"] == 1


def test_summary_kpis_are_the_latest_value_of_each_code_and_null_without_rows(w):
    define("otif", "OTIF")
    metric("otif", add_months(w.month, -3), 90)
    metric("otif", add_months(w.month, -1), 93.5)
    metric("otif", add_months(w.month, -2), 97)
    body = get(w, Role.VIEWER, "summary")
    assert D(body["kpis"]["otif"]) == D("93.5")  # the newest period, not the last written or the largest
    assert body["kpis"]["fill_rate"] is None
    assert body["sop_cycle"] is None
    assert body["last_publication"] is None


def test_summary_carries_the_active_cycle_with_its_current_step(w):
    cycle = cycle_create(actor=w.admin, data={"period": w.month})
    body = get(w, Role.VIEWER, "summary")
    step = cycle.steps.get(step_number=1)
    assert body["sop_cycle"] == {
        "id": cycle.pk,
        "name": cycle.cycle_name,
        "current_step": 1,
        "step_name": step.name,
        "status": "active",
        "due_date": step.due_date.isoformat(),
    }


# API-DASH-02 -------------------------------------------------------------------------------------------


def _overdue_item(w, days=3):
    return ActionItem.objects.create(
        title="Chase supplier",
        owner=w.users[Role.SUPPLY_PLANNER],
        due_date=planning_today() - datetime.timedelta(days=days),
        status=ActionItemStatus.OPEN,
    )


def test_a_bias_alert_says_how_far_outside_its_tolerance_it_is(w):
    # Forecast bias is closest-to-zero with a 5 % tolerance. At -7 % the adverse deviation is
    # (|-7| - 5) / 5 = 40 % (critical); its variance_pct, (-7 - 5) / 5 = -240 %, is not what the alert says.
    define("forecast_bias", "Forecast bias", category=KpiCategory.DEMAND, direction=KpiDirection.CLOSEST_TO_ZERO,
           target=D("5"))  # fmt: skip
    metric("forecast_bias", add_months(w.month, -1), -7, status=KpiStatus.CRITICAL, target=5, variance_pct="-240")
    alerts = get(w, Role.EXECUTIVE, "alerts")["kpi_alerts"]
    assert [(a["metric"], a["message"]) for a in alerts] == [("forecast_bias", "Forecast bias is 40.0% off target")]


def test_alerts_for_a_reader_of_everything(w):
    define("fill_rate", "Fill rate", target=D("98"))
    define("otif", "OTIF", target=D("95"))
    # Fill rate 77 vs 98: adverse (98 - 77) / 98 = 21.4 % > 20 -> critical (stored by the KPI refresh).
    metric("fill_rate", add_months(w.month, -1), 77, status=KpiStatus.CRITICAL, target=98, variance_pct="-21.43")
    metric("otif", add_months(w.month, -1), 96, status=KpiStatus.ON_TARGET, target=95, variance_pct="1.05")
    item = _overdue_item(w)
    body = get(w, Role.EXECUTIVE, "alerts")
    assert [a["sku"] for a in body["inventory_critical"]] == ["MOW-1"]
    assert body["inventory_critical"][0]["on_hand"] == "4.00"
    assert body["inventory_low"] == []
    assert body["kpi_alerts"] == [
        {
            "type": "kpi",
            "severity": "critical",
            "message": "Fill rate is 21.4% off target",
            "metric": "fill_rate",
            "name": "Fill rate",
            "period": add_months(w.month, -1).isoformat(),
            "value": "77.0000",
            "target": "98.0000",
            "direction": "higher_is_better",
        }
    ]
    assert [(i["id"], i["days_overdue"]) for i in body["overdue_action_items"]] == [(item.pk, 3)]
    # 1 critical stock row + 1 KPI alert + 1 overdue action item.
    assert body["total_alerts"] == 3


def test_alerts_from_modules_the_role_cannot_read_are_empty_and_not_counted(w):
    define("fill_rate", "Fill rate", target=D("98"))
    metric("fill_rate", add_months(w.month, -1), 77, status=KpiStatus.CRITICAL, target=98, variance_pct="-21.43")
    _overdue_item(w)
    viewer = get(w, Role.VIEWER, "alerts")
    # The viewer reads KPIs only: the stock and action-item lists stay empty.
    assert viewer["inventory_critical"] == []
    assert viewer["overdue_action_items"] == []
    assert len(viewer["kpi_alerts"]) == 1
    assert viewer["total_alerts"] == 1
    planner = get(w, Role.DEMAND_PLANNER, "alerts")  # no inventory read (ACC-06)
    assert planner["inventory_critical"] == []
    assert planner["total_alerts"] == 2  # the KPI alert and the overdue item


def test_alerts_follow_the_object_scope(w, make_user):
    planner = scoped_planner(w, make_user, w.audio)
    body = get(w, planner, "alerts")
    assert body["inventory_critical"] == []  # the mower is in Garden
    assert body["total_alerts"] == 0


def test_alert_limit_is_validated(w):
    response = w.client_for(w.admin).get(URL + "alerts", {"limit": 51})
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "INVALID_PARAMETER"


# API-DASH-03 -------------------------------------------------------------------------------------------


def test_sop_status_without_and_with_an_active_cycle(w):
    assert get(w, Role.VIEWER, "sop-status") == {"active": False, "message": "No active S&OP cycle"}
    cycle = cycle_create(actor=w.admin, data={"period": w.month})
    body = get(w, Role.VIEWER, "sop-status")
    assert body["active"] is True
    assert body["id"] == cycle.pk
    assert body["current_step"] == 1
    assert [s["step"] for s in body["steps"]] == [1, 2, 3, 4, 5]
    assert body["steps"][0]["status"] == "in_progress"


# API-DASH-04 -------------------------------------------------------------------------------------------


def test_kpi_overview_gives_the_latest_row_and_a_twelve_point_sparkline(w):
    define("otif", "OTIF", target=D("95"))
    # 14 months of values 80, 81, ... 93: the sparkline keeps the last 12 (82 … 93), oldest first.
    for i in range(14):
        metric(
            "otif",
            add_months(w.month, -14 + i),
            80 + i,
            target=95,
            trend=KpiTrend.IMPROVING,
            status=KpiStatus.WARNING if 80 + i < 95 else KpiStatus.ON_TARGET,
            variance_pct=(80 + i - 95) / 95 * 100,
        )
    rows = {r["code"]: r for r in get(w, Role.VIEWER, "kpi-overview")}
    otif = rows["otif"]
    assert D(otif["value"]) == D("93")
    assert otif["period"] == add_months(w.month, -1).isoformat()
    assert otif["status"] == "warning"
    assert otif["trend"] == "improving"
    assert [D(p["value"]) for p in otif["sparkline"]] == [D(v) for v in range(82, 94)]
    assert otif["sparkline"][0]["period"] == add_months(w.month, -12).isoformat()


def test_kpi_overview_filters_by_category(w):
    define("otif", "OTIF")
    define("forecast_accuracy", "Forecast accuracy", category=KpiCategory.DEMAND)
    codes = {r["code"] for r in get(w, Role.VIEWER, "kpi-overview", category="demand")}
    assert "forecast_accuracy" in codes
    assert "otif" not in codes
    assert w.client_for(w.admin).get(URL + "kpi-overview", {"category": "nope"}).status_code == 400


# API-DASH-05 -------------------------------------------------------------------------------------------


def test_activity_lists_events_on_readable_entities_newest_first(w):
    rows = get(w, Role.ADMIN, "activity", limit=50)
    types = {r["target_type"] for r in rows}
    assert {"product", "inventory", "demand_plan", "supply_plan"} <= types
    times = [r["occurred_at"] for r in rows]
    assert times == sorted(times, reverse=True)
    stock = next(r for r in rows if r["target_type"] == "inventory")
    assert stock["url"].startswith("/inventory/")
    assert "user" not in types  # account events stay on the audit log
    created = next(r for r in rows if r["event_type"] == "planning.product.created")
    assert created["action"] == "created product"
    assert created["actor_name"]


def test_activity_excludes_entities_the_caller_cannot_read(w, make_user):
    planner = get(w, Role.DEMAND_PLANNER, "activity", limit=50)
    assert {r["target_type"] for r in planner} >= {"demand_plan", "product"}
    assert "inventory" not in {r["target_type"] for r in planner}  # no inventory read
    assert get(w, Role.VIEWER, "activity", limit=50) == []  # nothing the viewer may read was changed
    scoped = get(w, scoped_planner(w, make_user, w.audio), "activity", limit=50)
    assert {r["target_id"] for r in scoped if r["target_type"] == "product"} == {str(w.speaker.pk)}
    assert {r["target_id"] for r in scoped if r["target_type"] == "inventory"} == {str(w.speaker_stock.pk)}


def test_activity_limit(w):
    assert len(get(w, Role.ADMIN, "activity", limit=2)) == 2
    assert w.client_for(w.admin).get(URL + "activity", {"limit": 0}).status_code == 400


# Query budgets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "budget"),
    [("summary", 16), ("alerts", 16), ("sop-status", 8), ("kpi-overview", 8), ("activity", 30)],
)
def test_query_budget_does_not_grow_with_the_data(w, django_assert_max_num_queries, path, budget):
    define("otif", "OTIF")
    for i in range(24):
        metric("otif", add_months(w.month, -24 + i), 90)
    cycle_create(actor=w.admin, data={"period": w.month})
    for days in (1, 2, 3):
        _overdue_item(w, days)
    client = w.client_for(w.users[Role.EXECUTIVE])
    with django_assert_max_num_queries(budget):
        assert client.get(URL + path).status_code == 200


def test_unauthenticated_is_401(w, anon_client):
    assert anon_client.get(URL + "summary").status_code == 401


def test_answers_without_and_with_a_trailing_slash(w):
    client = w.client_for(w.admin)
    assert client.get(URL + "summary/").status_code == 200
    assert client.get(URL + "summary").status_code == 200
    assert timezone.now()  # keeps the import used for readers comparing with the console tests
