"""The executive scorecard of an S&OP cycle (GOV-53, FRM-35, API-SOP-12) and its board on the cycle page (UI-11)."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from governance import scorecard
from governance.choices import Role
from governance.models import ActionItem, Decision, Publication, ReadinessEvaluation
from governance.services import cycles
from planning.models import Inventory, InventoryPolicyException, InventoryPolicyRecommendation, KpiMetric, Scenario
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

PERIOD = datetime.date(2031, 3, 1)
OTHER_PERIOD = datetime.date(2031, 4, 1)
EXEC_C = (Role.ADMIN, Role.EXECUTIVE, Role.SOP_COORDINATOR)
OTHERS = (Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.INVENTORY_MANAGER, Role.FINANCE_ANALYST, Role.VIEWER)


# Builders (rows the scorecard only reads) --------------------------------------------------------


def results(*, baseline=92.5, simulated=95.0, carrying=120.0, stockout=30.0, composite=0.75, wc=1500.0,
            value=12000.0) -> dict:  # fmt: skip
    """A stored FRM-30/31 `results` object with the figures the scorecard reads."""
    return {
        "period": PERIOD.isoformat(),
        "baseline": {"service_level": baseline, "inventory_value": value - wc},
        "scenario": {"service_level": simulated, "inventory_value": value},
        "service_level_impact": round(simulated - baseline, 2),
        "tradeoff": {"inventory_carrying_cost": carrying, "stockout_penalty_cost": stockout,
                     "working_capital_delta": wc, "composite_score": composite},
    }  # fmt: skip


def make_scenario(name, *, period=PERIOD, status="completed", operating=False, run_minutes_ago=60, **figures):
    return Scenario.objects.create(
        name=name, period=period, status=status, is_operating_plan=operating, results=results(**figures),
        run_at=timezone.now() - datetime.timedelta(minutes=run_minutes_ago),
    )  # fmt: skip


def make_inventories(n: int) -> list[Inventory]:
    product = ProductFactory()
    locations = [LocationFactory() for _ in range(n)]
    return [Inventory.objects.create(product=product, location=loc, on_hand_qty=10) for loc in locations]


def make_exceptions(n: int, *, severity="high", status="open", exception_type="stockout_risk"):
    return [
        InventoryPolicyException.objects.create(inventory=inv, exception_type=exception_type, severity=severity,
                                                status=status, recommended_action="Expedite")
        for inv in make_inventories(n)
    ]  # fmt: skip


def make_recommendations(n: int, *, status="pending"):
    return [
        InventoryPolicyRecommendation.objects.create(inventory=inv, recommended_safety_stock=5,
                                                     recommended_reorder_point=8, rationale="Demand grew",
                                                     status=status)
        for inv in make_inventories(n)
    ]  # fmt: skip


def make_kpi(code, period, value, *, category="demand", unit="%", target=None, status="no_target"):
    return KpiMetric.objects.create(metric_name=code, metric_category=category, period=period, value=value,
                                    unit=unit, target=target, status=status)  # fmt: skip


def make_evaluation(lane, period_from, period_to, *, outcome="go", minutes_ago=0, cycle=None, must_pass=None):
    evaluation = ReadinessEvaluation.objects.create(
        lane=lane, period_from=period_from, period_to=period_to, outcome=outcome, score=4, required_score=3,
        plan_fingerprint="f" * 64, sop_cycle=cycle, must_pass=must_pass or [],
    )  # fmt: skip
    # created_at is auto_now_add: set the order explicitly.
    ReadinessEvaluation.objects.filter(pk=evaluation.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    evaluation.refresh_from_db()
    return evaluation


def make_publication(lane, *, status="published", by, evaluation=None, stamp=None, minutes_ago=0):
    evaluation = evaluation or make_evaluation(lane, PERIOD, datetime.date(2031, 8, 1))
    return Publication.objects.create(
        version_stamp=stamp or f"{lane}-{uuid.uuid4().hex[:8]}", lane=lane, period_from=evaluation.period_from,
        period_to=evaluation.period_to, evaluation=evaluation, outcome="go", status=status, published_by=by,
        published_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )  # fmt: skip


@pytest.fixture
def cycle(users):
    return cycles.cycle_create(actor=users[Role.SOP_COORDINATOR], data={"period": PERIOD})


@pytest.fixture
def executive(users):
    return users[Role.EXECUTIVE]


def card_of(user, cycle) -> dict:
    return scorecard.executive_scorecard(user=user, cycle=cycle)


# FRM-35 (1) scenario choice -----------------------------------------------------------------------


def test_the_operating_plan_of_the_period_wins_over_a_later_run(executive, cycle):
    operating = make_scenario("Operating plan", status="approved", operating=True, run_minutes_ago=300)
    make_scenario("Later what-if", status="completed", run_minutes_ago=5)

    card = card_of(executive, cycle)

    assert card["scenario"]["id"] == operating.pk
    assert card["scenario"]["is_operating_plan"] is True
    assert card["notice"] is None


def test_without_operating_plan_the_most_recently_run_completed_or_approved_scenario_is_used(executive, cycle):
    make_scenario("Completed, older", status="completed", run_minutes_ago=120)
    newest = make_scenario("Approved, newer", status="approved", run_minutes_ago=60)
    # Submitted, draft and rejected scenarios are not candidates, however recent.
    make_scenario("Submitted, newest", status="submitted", run_minutes_ago=1)
    make_scenario("Rejected, newest", status="rejected", run_minutes_ago=2)
    Scenario.objects.create(name="Draft", period=PERIOD, status="draft")

    assert card_of(executive, cycle)["scenario"]["id"] == newest.pk


def test_scenarios_of_other_periods_are_never_used(executive, cycle):
    make_scenario("April operating plan", period=OTHER_PERIOD, status="approved", operating=True)
    make_scenario("April what-if", period=OTHER_PERIOD, status="completed", run_minutes_ago=1)

    card = card_of(executive, cycle)

    assert card["scenario"] is None
    assert card["notice"] == "No scenario for this period"
    zero = Decimal("0.00")
    assert card["service"] == {"baseline": zero, "scenario": zero, "delta": zero}
    assert card["cost"] == {"inventory_carrying_cost": zero, "stockout_penalty_cost": zero, "composite_score": zero}
    assert card["cash"] == {"working_capital_delta": zero, "inventory_value_estimate": zero}
    # Δservice 0 is neither ≥ 1 nor < 0.
    assert card["decision_signal"] == "review_required"


# FRM-35 (2) figures ---------------------------------------------------------------------------------------


def test_service_cost_and_cash_come_from_the_scenario_results(executive, cycle):
    make_scenario("Plan", baseline=92.5, simulated=95.0, carrying=120.0, stockout=30.0, composite=0.75, wc=1500.0,
                  value=12000.0)  # fmt: skip

    card = card_of(executive, cycle)

    # delta = 95.00 - 92.50 = 2.50
    assert card["service"] == {"baseline": Decimal("92.50"), "scenario": Decimal("95.00"), "delta": Decimal("2.50")}
    assert card["cost"] == {"inventory_carrying_cost": Decimal("120.00"), "stockout_penalty_cost": Decimal("30.00"),
                            "composite_score": Decimal("0.75")}  # fmt: skip
    assert card["cash"] == {
        "working_capital_delta": Decimal("1500.00"),
        "inventory_value_estimate": Decimal("12000.00"),
    }


# FRM-35 (3) risk -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pending", "high_risk", "expected"),
    [
        (0, 0, "low"),
        (20, 5, "low"),  # both at the medium bounds, which are "more than"
        (21, 0, "medium"),
        (0, 6, "medium"),
        (50, 20, "medium"),  # both at the high bounds
        (51, 0, "high"),
        (0, 21, "high"),
    ],
)
def test_backlog_risk_thresholds(pending, high_risk, expected):
    assert scorecard.backlog_risk(pending=pending, high_risk=high_risk) == expected


def test_risk_counts_open_and_in_progress_exceptions_and_pending_recommendations(executive, cycle):
    make_exceptions(4, severity="high", status="open")
    make_exceptions(2, severity="high", status="in_progress")
    make_exceptions(3, severity="medium", status="open")
    make_exceptions(5, severity="high", status="resolved")  # closed: not counted
    make_exceptions(1, severity="high", status="dismissed")
    make_recommendations(21, status="pending")
    make_recommendations(3, status="accepted")

    risk = card_of(executive, cycle)["risk"]

    # open = 4 + 2 + 3 = 9; high = 4 + 2 = 6 (> 5: medium); pending = 21 (> 20: medium)
    assert risk == {"open_exceptions": 9, "high_risk": 6, "pending_recommendations": 21, "backlog_risk": "medium"}


# FRM-35 (4) decision signal ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "composite", "backlog", "expected"),
    [
        ("1.00", "0.00", "low", "recommended"),  # both bounds inclusive
        ("2.50", "0.75", "medium", "recommended"),
        ("2.50", "0.75", "high", "review_required"),  # a high backlog blocks a recommendation
        ("0.99", "5.00", "low", "review_required"),
        ("3.00", "-0.01", "low", "review_required"),
        ("-0.01", "1.00", "high", "not_recommended"),
        ("-5.00", "-1.00", "medium", "review_required"),  # worse service, but the backlog is not high
        ("0.00", "0.00", "high", "review_required"),
    ],
)
def test_decision_signal_rules(delta, composite, backlog, expected):
    signal = scorecard.decision_signal(service_delta=Decimal(delta), composite=Decimal(composite), backlog=backlog)
    assert signal == expected


def test_a_better_service_with_a_positive_composite_and_a_low_backlog_is_recommended(executive, cycle):
    make_scenario("Plan", baseline=90.0, simulated=91.0, composite=0.0)  # Δ = 1.00, composite 0.00
    assert card_of(executive, cycle)["decision_signal"] == "recommended"


def test_a_worse_service_with_a_high_backlog_is_not_recommended(executive, cycle):
    make_scenario("Plan", baseline=97.0, simulated=96.5, composite=-0.2)  # Δ = -0.50
    make_exceptions(21, severity="high")  # 21 > 20 high-risk: backlog high

    card = card_of(executive, cycle)

    assert card["risk"]["backlog_risk"] == "high"
    assert card["decision_signal"] == "not_recommended"


# FRM-35 (5) KPIs, readiness, publication, decisions, action items ------------------------------------------------


def test_kpis_are_the_latest_value_per_code_and_null_without_one(executive, cycle):
    make_kpi("forecast_accuracy", datetime.date(2031, 1, 1), "84.2000", target="85", status="warning")
    make_kpi("forecast_accuracy", datetime.date(2031, 2, 1), "87.5000", target="85", status="on_target")
    make_kpi("otif", datetime.date(2030, 12, 1), "93.0000", category="service")
    make_kpi("forecast_mape", datetime.date(2031, 2, 1), "12.0000")  # not on the scorecard

    kpis = card_of(executive, cycle)["kpis"]

    assert list(kpis) == list(scorecard.SCORECARD_KPIS)
    assert kpis["forecast_accuracy"]["value"] == Decimal("87.5000")
    assert kpis["forecast_accuracy"]["period"] == datetime.date(2031, 2, 1)
    assert kpis["forecast_accuracy"]["status"] == "on_target"
    assert kpis["otif"]["value"] == Decimal("93.0000")
    for code in ("forecast_bias", "fill_rate", "inventory_turns", "days_of_supply", "gross_margin"):
        assert kpis[code] is None


def test_readiness_is_the_latest_evaluation_per_lane_for_the_cycle_period(executive, cycle):
    make_evaluation("monthly", PERIOD, datetime.date(2031, 8, 1), outcome="go", minutes_ago=90)
    latest_monthly = make_evaluation("monthly", PERIOD, datetime.date(2031, 8, 1), outcome="no_go", minutes_ago=30,
                                     must_pass=[{"gate": "plans_approved", "passed": False},
                                                {"gate": "product_master", "passed": True}])  # fmt: skip
    # Newer, but for another period: a monthly horizon starting in April, a weekly one not covering March.
    make_evaluation("monthly", OTHER_PERIOD, datetime.date(2031, 9, 1), minutes_ago=1)
    make_evaluation("weekly", datetime.date(2031, 5, 1), datetime.date(2031, 6, 1), minutes_ago=1)
    weekly = make_evaluation("weekly", datetime.date(2031, 2, 1), PERIOD, minutes_ago=45)

    readiness = card_of(executive, cycle)["readiness"]

    assert readiness["monthly"]["evaluation_id"] == str(latest_monthly.evaluation_id)
    assert readiness["monthly"]["outcome"] == "no_go"
    assert readiness["monthly"]["failed_gates"] == ["plans_approved"]
    assert readiness["weekly"]["evaluation_id"] == str(weekly.evaluation_id)


def test_readiness_of_a_lane_without_evaluation_is_null(executive, cycle):
    assert card_of(executive, cycle)["readiness"] == {"weekly": None, "monthly": None}


def test_publication_is_the_current_monthly_one(executive, cycle, users):
    make_publication("monthly", status="superseded", by=executive, stamp="M-OLD", minutes_ago=60)
    make_publication("weekly", by=executive, stamp="W-NOW")
    current = make_publication("monthly", by=executive, stamp="M-NOW", minutes_ago=5)

    publication = card_of(executive, cycle)["publication"]

    assert publication["id"] == current.pk
    assert publication["version_stamp"] == "M-NOW"
    assert publication["published_by_name"] == executive.full_name


def test_counts_decisions_and_open_action_items_of_the_cycle(executive, cycle, users):
    other = cycles.cycle_create(actor=users[Role.SOP_COORDINATOR], data={"period": OTHER_PERIOD})
    now = timezone.now()
    for title in ("Raise safety stock", "Approve plan"):
        Decision.objects.create(cycle=cycle, title=title, category="supply", decided_by=executive, decided_at=now)
    Decision.objects.create(cycle=other, title="Elsewhere", category="supply", decided_by=executive, decided_at=now)
    due = PERIOD + datetime.timedelta(days=10)
    for status in ("open", "in_progress", "done", "cancelled"):
        ActionItem.objects.create(cycle=cycle, title=f"Item {status}", owner=executive, due_date=due, status=status)
    ActionItem.objects.create(cycle=other, title="Elsewhere", owner=executive, due_date=due)

    card = card_of(executive, cycle)

    assert card["decisions_count"] == 2
    assert card["open_action_items"] == 2  # open + in progress


def test_the_scorecard_runs_a_bounded_number_of_queries(executive, cycle, django_assert_max_num_queries):
    make_scenario("Plan")
    make_exceptions(5)
    make_recommendations(5)
    for month in range(1, 4):
        for code in scorecard.SCORECARD_KPIS:
            make_kpi(code, datetime.date(2031, month, 1), "50")
    make_evaluation("monthly", PERIOD, datetime.date(2031, 8, 1))
    make_publication("monthly", by=executive)
    executive = type(executive).objects.get(pk=executive.pk)  # a fresh permission cache

    # Permissions, scenario, exceptions, recommendations, KPIs, 2 readiness lanes, publication, decisions,
    # action items: 11 today, whatever the number of rows.
    with django_assert_max_num_queries(12):
        card_of(executive, cycle)


def test_roles_without_the_permission_are_refused(users, cycle):
    from genxsop.errors import PermissionDenied

    for role in OTHERS:
        with pytest.raises(PermissionDenied):
            card_of(users[role], cycle)


# API-SOP-12 ---------------------------------------------------------------------------------------------------


def url(cycle_id) -> str:
    return f"/api/v1/sop-cycles/{cycle_id}/executive-scorecard"


def test_api_answers_the_frm35_object_as_strings_with_two_decimals(users, cycle, api_client_for):
    operating = make_scenario("Operating plan", status="approved", operating=True)
    make_kpi("forecast_accuracy", datetime.date(2031, 2, 1), "87.5000", target="85", status="on_target")

    response = api_client_for(users[Role.EXECUTIVE]).get(url(cycle.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"cycle_id", "cycle_name", "period", "scenario", "service", "cost", "cash", "risk",
                         "decision_signal", "notice", "kpis", "readiness", "publication", "decisions_count",
                         "open_action_items"}  # fmt: skip
    assert body["cycle_id"] == cycle.pk
    assert body["period"] == "2031-03-01"
    assert body["scenario"]["id"] == operating.pk
    assert body["service"] == {"baseline": "92.50", "scenario": "95.00", "delta": "2.50"}
    assert body["cost"] == {"inventory_carrying_cost": "120.00", "stockout_penalty_cost": "30.00",
                            "composite_score": "0.75"}  # fmt: skip
    assert body["cash"] == {"working_capital_delta": "1500.00", "inventory_value_estimate": "12000.00"}
    assert body["risk"] == {"open_exceptions": 0, "high_risk": 0, "pending_recommendations": 0, "backlog_risk": "low"}
    assert body["decision_signal"] == "recommended"  # Δ 2.50 ≥ 1, composite 0.75 ≥ 0, backlog low
    assert body["notice"] is None
    assert body["kpis"]["forecast_accuracy"]["value"] == "87.5000"
    assert body["kpis"]["otif"] is None
    assert body["readiness"] == {"weekly": None, "monthly": None}
    assert body["publication"] is None


def test_api_without_a_scenario_carries_the_notice(users, cycle, api_client_for):
    body = api_client_for(users[Role.SOP_COORDINATOR]).get(url(cycle.pk) + "/").json()
    assert body["scenario"] is None
    assert body["notice"] == "No scenario for this period"
    assert body["service"] == {"baseline": "0.00", "scenario": "0.00", "delta": "0.00"}


@pytest.mark.parametrize("role", EXEC_C + OTHERS)
def test_api_status_per_role(users, cycle, api_client_for, role):
    response = api_client_for(users[role]).get(url(cycle.pk))
    assert response.status_code == (200 if role in EXEC_C else 403)
    if role not in EXEC_C:
        assert response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_api_unknown_cycle_is_404_and_anonymous_is_401(users, cycle, api_client_for, anon_client):
    response = api_client_for(users[Role.EXECUTIVE]).get(url(cycle.pk + 1000))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert anon_client.get(url(cycle.pk)).status_code == 401


# UI-11 board ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", EXEC_C)
def test_exec_c_sees_the_board_on_the_cycle_page(client, users, cycle, role):
    make_scenario("Operating plan", status="approved", operating=True)
    make_kpi("forecast_accuracy", datetime.date(2031, 2, 1), "87.5000", target="85", status="on_target")
    client.force_login(users[role])

    html = client.get(f"/sop-cycle/{cycle.pk}/").content.decode()

    assert 'id="executive-scorecard"' in html
    assert 'data-decision-signal="recommended"' in html
    assert "Recommended" in html
    assert "2.50 pp" in html  # Service Δ
    assert "120.00" in html  # carrying cost
    assert "1500.00" in html  # working capital Δ
    assert "Operating plan" in html
    assert 'data-kpi="forecast_accuracy"' in html
    assert "87.5 %" in html
    assert "Feb 2031 · On target" in html
    assert f'href="/api/v1/sop-cycles/{cycle.pk}/meeting-pack?format=xlsx"' in html
    assert "Download meeting pack" in html


def test_the_board_shows_the_notice_when_the_period_has_no_scenario(client, users, cycle):
    client.force_login(users[Role.EXECUTIVE])
    html = client.get(f"/sop-cycle/{cycle.pk}/").content.decode()
    assert 'id="scorecard-notice"' in html
    assert "No scenario for this period" in html
    assert "Review required" in html


@pytest.mark.parametrize("role", [Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.INVENTORY_MANAGER,
                                  Role.FINANCE_ANALYST])  # fmt: skip
def test_other_roles_do_not_see_the_board(client, users, cycle, role):
    make_scenario("Operating plan", status="approved", operating=True)
    client.force_login(users[role])

    page = client.get(f"/sop-cycle/{cycle.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="executive-scorecard"' not in html
    assert "meeting-pack" not in html
