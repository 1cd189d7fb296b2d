"""Inventory analytics (FRM-10, 12, 15, 16, 17; API-INV-15, 18…21; UI-08 tabs): each formula against
numbers worked out by hand, then the API bodies and the console page."""

import datetime
import math
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import override_settings
from django.utils import timezone

from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.services import inventory_analytics as frm
from planning.services.exceptions import policy_exception_create

D = Decimal
API = "/api/v1/inventory"
NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


# FRM-10 ------------------------------------------------------------------------------------------------


def _quality(**kw):
    base = {"on_hand": D(10), "allocated": D(0), "safety_stock": D(5), "reorder_point": D(8), "max_stock": D(20),
            "valuation": D(50), "seen_at": NOW, "now": NOW, "product_active": True, "has_demand": True}  # fmt: skip
    return frm.data_quality(**{**base, **kw})


def test_data_quality_complete_fresh_consistent_is_high():
    q = _quality()
    assert (q["completeness_score"], q["freshness_score"], q["consistency_score"], q["overall_score"]) == (
        D("1.0000"), D("1.0000"), D("1.0000"), D("1.0000"))  # fmt: skip
    assert q["quality_tier"] == "high"


def test_data_quality_medium_and_low_by_hand():
    # max missing: 4/5 = 0.8; 200 h old: 0.5; allocated > on hand: 1 - 0.5 = 0.5
    # overall = 0.4 x 0.8 + 0.3 x 0.5 + 0.3 x 0.5 = 0.32 + 0.15 + 0.15 = 0.62 -> medium
    q = _quality(max_stock=None, allocated=D(11), seen_at=NOW - datetime.timedelta(hours=200))
    assert (q["completeness_score"], q["freshness_score"], q["consistency_score"]) == (D("0.8"), D("0.5"), D("0.5"))
    assert (q["overall_score"], q["quality_tier"]) == (D("0.6200"), "medium")
    # Both issues (demand but no SS/ROP): consistency 0; 100 h old: 0.75
    # overall = 0.32 + 0.225 + 0 = 0.545 -> low
    q = _quality(max_stock=None, allocated=D(11), safety_stock=D(0), reorder_point=D(0),
                 seen_at=NOW - datetime.timedelta(hours=100))  # fmt: skip
    assert (q["consistency_score"], q["freshness_score"], q["overall_score"], q["quality_tier"]) == (
        D("0"), D("0.75"), D("0.5450"), "low")  # fmt: skip
    # Without demand, zero SS and ROP are not an issue.
    assert _quality(safety_stock=D(0), reorder_point=D(0), has_demand=False)["consistency_score"] == D(1)


# FRM-12 ------------------------------------------------------------------------------------------------


def test_working_capital_by_hand():
    out = frm.working_capital(total_value=D(1150), excess_value=D(1000), low_exposure=D(50),
                              excess_above_max_value=D(500), carrying_rate_pct=18)  # fmt: skip
    # 18 % of 1150 = 207; / 12 = 17.25; index = 100 - 1050 / 1150 x 100 = 8.695... -> 8.7
    assert out["estimated_carrying_cost_annual"] == D("207.00")
    assert out["estimated_carrying_cost_monthly"] == D("17.25")
    assert out["inventory_health_index"] == D("8.7")
    empty = frm.working_capital(total_value=0, excess_value=0, low_exposure=0, excess_above_max_value=0,
                                carrying_rate_pct=18)  # fmt: skip
    assert (empty["inventory_health_index"], empty["estimated_carrying_cost_annual"]) == (D("100.0"), D("0.00"))


# FRM-14 ------------------------------------------------------------------------------------------------


def test_escalation_rules():
    today = datetime.date(2026, 3, 10)
    assert frm.escalation(severity="high", due_date=None, today=today)[0] == "L2"
    assert frm.escalation(severity="medium", due_date=datetime.date(2026, 3, 7), today=today)[:2] == (
        "L2", "Exception overdue by 3 days")  # fmt: skip
    assert frm.escalation(severity="low", due_date=datetime.date(2026, 3, 8), today=today)[:2] == (
        "L1", "Exception overdue by 2 days")  # fmt: skip
    assert frm.escalation(severity="medium", due_date=today, today=today) is None
    assert frm.escalation(severity="medium", due_date=None, today=today) is None


# FRM-15 ------------------------------------------------------------------------------------------------


def _row(pk, location, status, on_hand, rop, max_stock=None, allocated=0, in_transit=0, product_id=1):
    return {"id": pk, "product_id": product_id, "product_name": "Speaker", "location": location, "status": status,
            "on_hand": D(on_hand), "allocated": D(allocated), "in_transit": D(in_transit), "reorder_point": D(rop),
            "max_stock": None if max_stock is None else D(max_stock)}  # fmt: skip


def test_rebalance_one_donor_two_receivers_never_over_allocates():
    rows = [
        _row(1, "MAIN", "excess", 100, 20, 50),  # surplus 100 - 50 = 50
        _row(2, "DC", "critical", 5, 40),  # need 40 - 5 = 35
        _row(3, "WH", "low", 25, 60),  # need 60 - 25 = 35
    ]
    out = frm.rebalance(rows)
    # Critical first: 35 of the 50; the low row gets the remaining 15, not 35.
    assert [(r["from_inventory_id"], r["to_inventory_id"], r["transfer_qty"]) for r in out] == [
        (1, 2, D("35.00")), (1, 3, D("15.00"))]  # fmt: skip
    assert sum(r["transfer_qty"] for r in out) == D(50)
    # uplift: critical 60 + min(25, 35/35 x 20) = 80; low 75 + min(25, 15/35 x 20 = 8.571) = 83.57
    assert [r["estimated_service_uplift_pct"] for r in out] == [D("80.00"), D("83.57")]
    # Below the minimum transfer the second suggestion is skipped.
    assert [r["to_inventory_id"] for r in frm.rebalance(rows, min_transfer_qty=D(20))] == [2]


def test_rebalance_picks_the_largest_donor_and_never_the_same_location():
    rows = [
        _row(1, "MAIN", "excess", 60, 10, 50),  # surplus 10
        _row(2, "DC", "excess", 90, 10, 50),  # surplus 40
        _row(3, "DC", "low", 0, 30, in_transit=10, product_id=2),  # another product: no donor
        _row(4, "MAIN", "low", 10, 30),  # position 10, need 20
    ]
    assert [(r["from_inventory_id"], r["to_inventory_id"], r["transfer_qty"]) for r in frm.rebalance(rows)] == [
        (2, 4, D("20.00"))]  # fmt: skip


# FRM-16 ------------------------------------------------------------------------------------------------


def test_scorecard_rag_and_maturity():
    none = frm.assessment_scorecard({a: [False] * 3 for a in frm._AREAS})
    assert (none["total_yes"], none["total_checks"], none["maturity_level"]) == (
        0, 15, "Level 1: Transactional / static settings")  # fmt: skip
    mixed = frm.assessment_scorecard({"Policy Logic": [True] * 3, "Forecast Integration": [True, True, False],
                                      "Supply Constraints": [True, False, False], "Governance & Cadence": [True] * 3,
                                      "Outcome KPIs": [True] * 3})  # fmt: skip
    # 3 + 2 + 1 + 3 + 3 = 12 -> level 3; 2/3 = 0.67 amber; 1/3 = 0.33 red
    assert mixed["maturity_level"] == "Level 3: Mature optimization foundation"
    assert [a["rag"] for a in mixed["areas"]] == ["green", "amber", "red", "green", "green"]


# FRM-17 ------------------------------------------------------------------------------------------------

# mud = 10/day, sdd = 2, L = 9 days, sdL = 0: mu = 90, sd = sqrt(9 x 4) = 6; ROP = 96 puts z at exactly 1.
NORMAL_CASE = frm.ServiceLevelInputs(demand_mean=10, demand_std=2, lead_time_mean=9, lead_time_std=0,
                                     reorder_point=96, safety_stock=6)  # fmt: skip


def test_service_level_analytical_by_hand():
    out = frm.service_level(NORMAL_CASE, target=0.95)
    assert (out["dlt"]["mean"], out["dlt"]["std"]) == (90.0, 6.0)
    # Phi(1) = 0.841345; shortage = 6 x (phi(1) - 1 x (1 - Phi(1))) = 6 x (0.241971 - 0.158655) = 0.49990
    assert out["cycle_service_level"] == pytest.approx(0.8413, abs=1e-4)
    assert out["stockout_probability"] == pytest.approx(0.1587, abs=1e-4)
    assert out["expected_shortage"] == pytest.approx(0.4999, abs=1e-4)
    assert out["fill_rate"] == pytest.approx(1 - 0.4999 / 90, abs=1e-4)
    # SS(0.95) = 1.644854 x 6 = 9.87; ROP = 99.87
    assert (out["recommended_safety_stock"], out["recommended_reorder_point"]) == (9.87, 99.87)
    assert [(c["target"], c["safety_stock"]) for c in out["curve"]] == [
        (0.90, 7.69), (0.95, 9.87), (0.97, 11.28), (0.99, 13.96)]  # fmt: skip
    assert len(out["distribution"]) == 20
    assert sum(b["probability"] for b in out["distribution"]) == pytest.approx(1, abs=1e-3)


def test_service_level_lead_time_variance_and_the_zero_sigma_case():
    varied = frm.ServiceLevelInputs(demand_mean=10, demand_std=2, lead_time_mean=9, lead_time_std=1,
                                    reorder_point=96, safety_stock=6)  # fmt: skip
    # sd^2 = 9 x 4 + 10^2 x 1^2 = 136
    assert frm.service_level(varied, target=0.95)["dlt"]["std"] == pytest.approx(math.sqrt(136), abs=1e-4)
    flat = frm.ServiceLevelInputs(demand_mean=10, demand_std=0, lead_time_mean=9, lead_time_std=0,
                                  reorder_point=80, safety_stock=0)  # fmt: skip
    out = frm.service_level(flat, target=0.95)
    # sd = 0, ROP 80 < mu 90: never covered; shortage 10; fill 1 - 10/90
    assert (out["cycle_service_level"], out["expected_shortage"]) == (0.0, 10.0)
    assert out["fill_rate"] == pytest.approx(0.8889, abs=1e-4)


def test_monte_carlo_is_reproducible_and_close_to_the_analytical_result():
    first = frm.service_level(NORMAL_CASE, target=0.95, method="monte_carlo", simulation_runs=50000, seed=7)
    again = frm.service_level(NORMAL_CASE, target=0.95, method="monte_carlo", simulation_runs=50000, seed=7)
    other = frm.service_level(NORMAL_CASE, target=0.95, method="monte_carlo", simulation_runs=50000, seed=8)
    assert first == again
    assert first["cycle_service_level"] != other["cycle_service_level"]
    assert first["cycle_service_level"] == pytest.approx(0.8413, abs=0.01)
    assert first["expected_shortage"] == pytest.approx(0.4999, abs=0.05)
    assert first["fill_rate"] == pytest.approx(0.9944, abs=0.002)


# API ------------------------------------------------------------------------------------------------------


@pytest.fixture
def w(db, users, api_client_for):
    admin = users[Role.ADMIN]
    cat = services.category_create(actor=admin, name="Audio")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": cat,
                                                         "unit_cost": D("10.00")})  # fmt: skip
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": cat,
                                                       "unit_cost": D("2.50")})  # fmt: skip
    locs = {code: services.location_create(actor=admin, data={"code": code, "name": code})
            for code in ("MAIN", "DC", "WH")}  # fmt: skip

    def stock(product, code, **data):
        return services.inventory_create(actor=admin, product=product, location=locs[code], data=data)

    # excess: valuation 1000, 50 above max x 10 = 500
    donor = stock(speaker, "MAIN", on_hand_qty=D(100), safety_stock=D(10), reorder_point=D(20), max_stock=D(50))
    # critical (5 < SS 10): valuation 50; need 40 - 5 = 35
    critical = stock(speaker, "DC", on_hand_qty=D(5), safety_stock=D(10), reorder_point=D(40))
    # low (position 25 < ROP 60): valuation 250; need 35
    low = stock(speaker, "WH", on_hand_qty=D(25), safety_stock=D(10), reorder_point=D(60))
    # normal: valuation 100
    normal = stock(mower, "MAIN", on_hand_qty=D(40), safety_stock=D(10), reorder_point=D(20), max_stock=D(100))
    reader = users[Role.FINANCE_ANALYST]
    return SimpleNamespace(
        admin=admin, speaker=speaker, mower=mower, donor=donor, critical=critical, low=low, normal=normal,
        api=api_client_for(reader), users=users, client_for=api_client_for,
    )  # fmt: skip


def test_api_working_capital(w):
    response = w.api.get(f"{API}/finance/working-capital")
    assert response.status_code == 200, response.content
    body = response.json()
    # total 1000 + 50 + 250 + 100 = 1400; annual 18 % = 252; monthly 21; excess 1000; low exposure 300;
    # index = 100 - 1300 / 1400 x 100 = 7.142... -> 7.1
    assert body == {
        "total_inventory_value": "1400.00", "estimated_carrying_cost_annual": "252.00",
        "estimated_carrying_cost_monthly": "21.00", "excess_inventory_value": "1000.00",
        "low_stock_exposure_value": "300.00", "excess_above_max_value": "500.00", "inventory_health_index": "7.1",
        "carrying_rate_pct": "18.0",
    }  # fmt: skip
    with override_settings(INVENTORY_CARRYING_RATE_PCT=24):
        assert w.api.get(f"{API}/finance/working-capital").json()["estimated_carrying_cost_annual"] == "336.00"


def test_api_rebalance_and_its_minimum(w):
    response = w.api.get(f"{API}/rebalance/recommendations")
    assert response.status_code == 200, response.content
    assert response.json() == [
        {"product_id": w.speaker.pk, "product_name": "Speaker", "from_inventory_id": w.donor.pk,
         "from_location": "MAIN", "to_inventory_id": w.critical.pk, "to_location": "DC", "transfer_qty": "35.00",
         "estimated_service_uplift_pct": "80.00"},
        {"product_id": w.speaker.pk, "product_name": "Speaker", "from_inventory_id": w.donor.pk,
         "from_location": "MAIN", "to_inventory_id": w.low.pk, "to_location": "WH", "transfer_qty": "15.00",
         "estimated_service_uplift_pct": "83.57"},
    ]  # fmt: skip
    assert len(w.api.get(f"{API}/rebalance/recommendations?min_transfer_qty=20").json()) == 1
    assert w.api.get(f"{API}/rebalance/recommendations?product_id={w.mower.pk}").json() == []
    assert w.api.get(f"{API}/rebalance/recommendations?min_transfer_qty=x").status_code == 400


def test_api_data_quality(w):
    response = w.api.get(f"{API}/data-quality?location=DC")
    assert response.status_code == 200, response.content
    (row,) = response.json()
    # Fresh, no max stock (4/5), consistent: 0.32 + 0.3 + 0.3 = 0.92 -> high
    assert row == {"inventory_id": w.critical.pk, "product_id": w.speaker.pk, "sku": "SPK-1", "location": "DC",
                   "completeness_score": "0.8000", "freshness_score": "1.0000", "consistency_score": "1.0000",
                   "overall_score": "0.9200", "quality_tier": "high"}  # fmt: skip
    assert len(w.api.get(f"{API}/data-quality").json()) == 4
    assert len(w.api.get(f"{API}/data-quality?product_id={w.mower.pk}").json()) == 1


def test_api_scorecard(w):
    policy_exception_create(actor=w.admin, inventory=w.critical, exception_type="stockout_risk",
                            recommended_action="Expedite")  # fmt: skip
    response = w.api.get(f"{API}/assessment/scorecard")
    assert response.status_code == 200, response.content
    body = response.json()
    # Policy 3 (SS, ROP, 4 statuses); Forecast 0 (no recommendations yet); Supply 3 (max, active, stockout);
    # Governance 1 (open exception); Outcome 2 (normal, off-normal): 9 -> level 2
    assert [(a["area"], a["score_0_to_3"], a["rag"]) for a in body["areas"]] == [
        ("Policy Logic", 3, "green"), ("Forecast Integration", 0, "red"), ("Supply Constraints", 3, "green"),
        ("Governance & Cadence", 1, "red"), ("Outcome KPIs", 2, "amber")]  # fmt: skip
    assert (body["total_yes"], body["total_checks"], body["maturity_level"]) == (
        9, 15, "Level 2: Partial optimization")  # fmt: skip


def test_api_service_level_reads_only(w):
    before = AuditEvent.objects.count()
    body = {"inventory_id": w.critical.pk, "method": "monte_carlo", "simulation_runs": 2000, "seed": 3}
    response = w.api.post(f"{API}/analytics/service-level", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    # No actuals and nothing on order: mud = max(1, 0) = 1, sdd = max(0.25, 0.25) = 0.25, split over the 3 rows
    # of the product; lead time 14 (no product or supply-plan lead time), sdL = max(0.5, 2.1) = 2.1.
    assert data["demand"] == {"mean": pytest.approx(1 / 3, abs=1e-4), "std": pytest.approx(0.25 / 3, abs=1e-4),
                              "source": "open_orders"}  # fmt: skip
    assert data["lead_time"] == {"mean": 14.0, "std": 2.1}
    # mu = 14/3; sd^2 = 14 x (0.25/3)^2 + (1/3)^2 x 2.1^2
    sigma = math.sqrt(14 * (0.25 / 3) ** 2 + (1 / 3) ** 2 * 2.1**2)
    assert data["dlt"] == {"mean": pytest.approx(14 / 3, abs=1e-4), "std": pytest.approx(sigma, abs=1e-4)}
    assert (data["method"], data["current"]) == ("monte_carlo", {"safety_stock": 10.0, "reorder_point": 40.0})
    assert data["cycle_service_level"] == 1.0
    assert w.api.post(f"{API}/analytics/service-level", body, format="json").json() == data
    by_key = w.api.post(f"{API}/analytics/service-level", {"product_id": w.speaker.pk, "location": "DC"},
                        format="json")  # fmt: skip
    assert (by_key.json()["inventory_id"], by_key.json()["method"]) == (w.critical.pk, "analytical")
    assert AuditEvent.objects.count() == before


def test_api_service_level_errors(w):
    assert w.api.post(f"{API}/analytics/service-level", {}, format="json").status_code == 400
    assert w.api.post(f"{API}/analytics/service-level", {"product_id": w.speaker.pk}, format="json").status_code == 400
    assert w.api.post(f"{API}/analytics/service-level", {"inventory_id": 999999}, format="json").status_code == 404
    too_many = {"inventory_id": w.critical.pk, "simulation_runs": 60000}
    assert w.api.post(f"{API}/analytics/service-level", too_many, format="json").status_code == 400


def test_the_analytics_need_inventory_read(w):
    viewer = w.client_for(w.users[Role.DEMAND_PLANNER])
    assert viewer.get(f"{API}/finance/working-capital").status_code == 403
    assert viewer.get(f"{API}/data-quality").status_code == 403


# Console -----------------------------------------------------------------------------------------------


def test_the_inventory_page_shows_the_analytics_tabs(w, client):
    exc = policy_exception_create(actor=w.admin, inventory=w.critical, exception_type="stockout_risk",
                                  recommended_action="Expedite replenishment", severity="high",
                                  owner=w.users[Role.INVENTORY_MANAGER],
                                  due_date=timezone.localdate() - datetime.timedelta(days=1))  # fmt: skip
    client.force_login(w.users[Role.INVENTORY_MANAGER])
    page = client.get("/inventory/?tab=exceptions")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Expedite replenishment" in html
    assert "High-severity exception requires immediate escalation" in html
    assert f'action="/inventory/exceptions/{exc.pk}/"' in html
    for tab, text in (("quality", "0.9200"), ("capital", "252.00"), ("rebalance", "35.00"),
                      ("assessment", "Level 2: Partial optimization")):  # fmt: skip
        response = client.get(f"/inventory/?tab={tab}")
        assert response.status_code == 200
        assert text in response.content.decode(), tab


def test_the_console_service_level_form_shows_the_result(w, client):
    client.force_login(w.users[Role.FINANCE_ANALYST])
    page = client.get(f"/inventory/?tab=service&inventory_id={w.critical.pk}&method=analytical&target=0.95")
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Cycle service level", "Fill rate", "Stockout probability", "Recommended safety stock"):
        assert label in html
    assert "0.99" in html  # the curve's last target
    assert "<script>" not in html
    assert "style=" not in html


def test_the_console_status_change_for_the_owner_and_refusal_for_others(w, client):
    owner = w.users[Role.EXECUTIVE]
    exc = policy_exception_create(actor=w.admin, inventory=w.critical, exception_type="stockout_risk",
                                  recommended_action="Expedite", owner=owner)  # fmt: skip
    client.force_login(owner)
    response = client.post(f"/inventory/exceptions/{exc.pk}/", {"status": "in_progress", "notes": "on it"})
    assert response.status_code == 302
    exc.refresh_from_db()
    assert (exc.status, exc.notes) == ("in_progress", "on it")
    client.force_login(w.users[Role.FINANCE_ANALYST])
    refused = client.post(f"/inventory/exceptions/{exc.pk}/", {"status": "resolved", "resolution_note": "x"})
    assert refused.status_code == 403
    exc.refresh_from_db()
    assert exc.status == "in_progress"
