"""API-GOV-10/11/17/18, the overall outcome of both lanes, publish policy updates and the scorecard partial."""

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from rest_framework.test import APIClient

from forecasting.models import ForecastAccuracyPoint
from genxsop.errors import PermissionDenied, ValidationFailed
from governance.choices import Role, StepStatus
from governance.models import AuditEvent, PublishPolicy, ReadinessEvaluation, SopCycleStep
from governance.services.publish_policies import publish_policy_update
from governance.services.readiness import readiness_evaluate, readiness_evaluate_lanes
from planning.models import Product
from tests.governance.test_readiness_world import World, gate


@pytest.fixture
def world(users):
    return World(users[Role.ADMIN])


URL = "/api/v1/governance/publish/readiness"
POLICIES = "/api/v1/governance/publish-policies"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


# Overall outcome -------------------------------------------------------------------------------------------------


def test_both_lanes_go(world):
    result = readiness_evaluate_lanes(actor=world.admin)
    assert result["overall"] == "go_both"
    assert [e.lane for e in result["evaluations"]] == ["weekly", "monthly"]


def test_a_missed_point_keeps_the_monthly_lane_only(world):
    # Monthly needs 3 of 4 points, weekly 4 of 4
    ForecastAccuracyPoint.objects.update(ape=Decimal("60"))
    result = readiness_evaluate_lanes(actor=world.admin)
    assert result["overall"] == "go_monthly_only"
    weekly, monthly = result["evaluations"]
    assert (weekly.outcome, weekly.score, weekly.required_score) == ("no_go", 3, 4)
    assert (monthly.outcome, monthly.score, monthly.required_score) == ("go", 3, 3)


def test_step_four_open_keeps_the_weekly_lane_only(world):
    SopCycleStep.objects.filter(cycle=world.cycle, step_number=4).update(status=StepStatus.IN_PROGRESS)
    assert readiness_evaluate_lanes(actor=world.admin)["overall"] == "go_weekly_only"


def test_a_failed_must_pass_gate_is_no_go_whatever_the_score(world):
    Product.objects.filter(pk=world.product.pk).update(selling_price=None)
    result = readiness_evaluate_lanes(actor=world.admin)
    assert result["overall"] == "no_go"
    assert all(e.score == 4 and e.outcome == "no_go" for e in result["evaluations"])


def test_two_missed_points_are_no_go_for_monthly(world):
    ForecastAccuracyPoint.objects.update(ape=Decimal("60"), error=Decimal("40"))
    evaluation = readiness_evaluate(actor=world.admin, lane="monthly")
    assert (evaluation.outcome, evaluation.score) == ("no_go", 2)


def test_an_inactive_lane_is_left_out_of_both(world):
    PublishPolicy.objects.filter(lane="weekly").update(is_active=False)
    result = readiness_evaluate_lanes(actor=world.admin)
    assert [e.lane for e in result["evaluations"]] == ["monthly"]
    assert result["overall"] == "go_monthly_only"


def test_a_dry_run_needs_the_add_evaluation_permission_but_a_publish_time_one_does_not(world, users):
    with pytest.raises(PermissionDenied):
        readiness_evaluate(actor=users[Role.VIEWER], lane="weekly")
    evaluation = readiness_evaluate(actor=users[Role.VIEWER], lane="weekly", dry_run=False, request_id="req-1")
    assert (evaluation.dry_run, evaluation.request_id) == (False, "req-1")


# API -------------------------------------------------------------------------------------------------------------


def test_post_readiness_evaluates_both_lanes_and_stores_dry_runs(world, users):
    response = client_for(users[Role.SOP_COORDINATOR]).post(URL, {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["overall"] == "go_both"
    assert [e["lane"] for e in body["evaluations"]] == ["weekly", "monthly"]
    monthly = body["evaluations"][1]
    assert monthly["outcome"] == "go"
    assert monthly["dry_run"] is True
    assert (monthly["score"], monthly["required_score"]) == (4, 3)
    assert [g["gate"] for g in monthly["must_pass"]] == [
        "product_master_complete", "inventory_snapshot_current", "demand_actuals_current", "calendar_alignment",
        "plans_approved", "operating_plan_scenario", "sop_step_gates", "freeze_window_respected",
        "version_stamping", "rollback_ready",
    ]  # fmt: skip
    assert [c["check"] for c in monthly["scored"]] == ["accuracy", "bias", "supply_feasibility", "inventory_risk"]
    assert monthly["policy_snapshot"]["required_score"] == 3
    assert monthly["policy_snapshot"]["horizon"]["freeze_periods"] == [world.month.isoformat()]
    assert monthly["plan_counts"]["demand"] == len(world.periods)
    assert monthly["evaluated_by"] == users[Role.SOP_COORDINATOR].pk
    assert len(monthly["plan_fingerprint"]) == 64
    stored = ReadinessEvaluation.objects.get(evaluation_id=monthly["evaluation_id"])
    assert stored.request_id
    assert stored.request_id == response.headers.get("X-Request-ID", stored.request_id)
    assert AuditEvent.objects.filter(event_type="governance.readiness.evaluated").count() == 2


def test_post_readiness_for_one_lane_with_a_period_and_cycle(world, users):
    body = client_for(users[Role.ADMIN]).post(URL, {"lane": "monthly", "period_from": world.periods[1].isoformat(),
                                                    "sop_cycle_id": world.cycle.pk}, format="json").json()  # fmt: skip
    (evaluation,) = body["evaluations"]
    assert evaluation["period_from"] == world.periods[1].isoformat()
    assert evaluation["sop_cycle_id"] == world.cycle.pk
    assert body["overall"] == "no_go"  # no operating plan nor cycle for that month
    assert set(evaluation["failed_gates"]) == {"operating_plan_scenario", "sop_step_gates"}
    assert evaluation["non_overridable_failed"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lane": "daily"}, "lane"),
        ({"period_from": "next month"}, "period_from"),
        ({"sop_cycle_id": 999}, "sop_cycle_id"),
    ],
)
def test_post_readiness_refuses_bad_bodies(world, body, field):
    response = client_for(world.admin).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["detail"]["fields"]


def test_get_evaluation_returns_the_stored_evaluation(world, users):
    evaluation = readiness_evaluate(actor=world.admin, lane="weekly")
    response = client_for(users[Role.DEMAND_PLANNER]).get(f"{URL}/{evaluation.evaluation_id}")
    assert response.status_code == 200
    assert response.json()["evaluation_id"] == str(evaluation.evaluation_id)
    assert response.json()["must_pass"] == evaluation.must_pass
    assert client_for(world.admin).get(f"{URL}/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_get_publish_policies_lists_both_lanes(world, users):
    response = client_for(users[Role.FINANCE_ANALYST]).get(POLICIES)
    assert response.status_code == 200
    assert [(p["lane"], p["horizon_unit"], p["required_score"]) for p in response.json()] == [
        ("monthly", "months", 3), ("weekly", "weeks", 4)]  # fmt: skip
    assert response.json()[0]["mape_threshold_pct"] == "30.00"


# Publish policies ------------------------------------------------------------------------------------------------


def test_put_publish_policy_changes_it_and_audits_the_change(world):
    response = client_for(world.admin).put(f"{POLICIES}/monthly/", {"required_score": 4, "freeze_months": 2},
                                           format="json")  # fmt: skip
    assert response.status_code == 200
    assert (response.json()["required_score"], response.json()["freeze_months"]) == (4, 2)
    assert response.json()["updated_by_id"] == world.admin.pk
    event = AuditEvent.objects.get(event_type="governance.publish_policy.updated")
    assert event.before == {"required_score": 3, "freeze_months": 1}
    assert event.after == {"required_score": 4, "freeze_months": 2}
    # The next evaluation uses it and keeps it in its snapshot
    evaluation = readiness_evaluate(actor=world.admin, lane="monthly")
    assert (evaluation.required_score, evaluation.policy_snapshot["freeze_months"]) == (4, 2)
    assert len(evaluation.policy_snapshot["horizon"]["freeze_periods"]) == 2


def test_put_publish_policy_without_change_writes_nothing(world):
    response = client_for(world.admin).put(f"{POLICIES}/weekly", {"required_score": 4}, format="json")
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(event_type="governance.publish_policy.updated").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"horizon_min": 10, "horizon_max": 9}, "horizon_min"),
        ({"horizon_min": 20}, "horizon_min"),  # above the stored horizon_max of 18
        ({"required_score": 5}, "required_score"),
        ({"mape_threshold_pct": "0"}, "mape_threshold_pct"),
        ({"bias_threshold_pct": "-1"}, "bias_threshold_pct"),
        ({"actuals_coverage_min_pct": "120"}, "actuals_coverage_min_pct"),
        ({"accuracy_lag": 0}, "accuracy_lag"),
        ({"horizon_unit": "weeks"}, "horizon_unit"),
        ({"lane": "weekly"}, "lane"),
    ],
)
def test_put_publish_policy_refuses_invalid_values(world, body, field):
    response = client_for(world.admin).put(f"{POLICIES}/monthly", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]["fields"]
    assert PublishPolicy.objects.get(lane="monthly").required_score == 3
    assert not AuditEvent.objects.filter(event_type="governance.publish_policy.updated").exists()


def test_put_publish_policy_of_an_unknown_lane_is_404(world):
    assert client_for(world.admin).put(f"{POLICIES}/daily", {"required_score": 1}, format="json").status_code == 404


def test_publish_policy_update_is_for_administrators_only(world, users):
    with pytest.raises(PermissionDenied):
        publish_policy_update(actor=users[Role.EXECUTIVE], lane="weekly", data={"required_score": 3})
    with pytest.raises(ValidationFailed):
        publish_policy_update(actor=world.admin, lane="weekly", data={"horizon_max": 2})


# Scorecard partial -----------------------------------------------------------------------------------------------


def test_the_scorecard_shows_outcome_score_sections_and_evidence(world):
    Product.objects.filter(pk=world.product.pk).update(category=None)
    evaluation = readiness_evaluate(actor=world.admin, lane="monthly")
    assert gate(evaluation, "product_master_complete")["passed"] is False

    html = render_to_string("governance/publish/_scorecard.html", {"evaluation": evaluation})
    assert "No-Go" in html
    assert "4/4" in html
    assert "required 3" in html
    for section in ("Data integrity", "Governance", "Safety"):
        assert f"<caption>{section}</caption>" in html
    assert "<details>" in html
    assert "Evidence (1)" in html
    assert f'href="/catalog/products/{world.product.pk}/"' in html
    assert "A-100" in html
    assert "(not overridable)" in html  # version_stamping and rollback_ready
    assert "<script" not in html
    assert "style=" not in html


# Admin -----------------------------------------------------------------------------------------------------------

ADMIN_FORM = {
    "horizon_min": 6, "horizon_max": 12, "freeze_days": 0, "freeze_months": 1, "required_score": 3,
    "mape_threshold_pct": "30.00", "bias_threshold_pct": "10.00", "accuracy_lag": 3, "accuracy_window_months": 6,
    "inventory_max_age_hours": 72, "inventory_freshness_min_pct": "95.00", "actuals_coverage_min_pct": "95.00",
    "is_active": "on",
}  # fmt: skip


def test_publish_policy_changes_in_admin_go_through_the_service(client, users):
    client.force_login(users[Role.ADMIN])
    policy = PublishPolicy.objects.get(lane="monthly")
    url = f"/admin/governance/publishpolicy/{policy.pk}/change/"
    assert client.get("/admin/governance/publishpolicy/").status_code == 200
    assert client.get("/admin/governance/publishpolicy/add/").status_code == 403

    assert client.post(url, ADMIN_FORM).status_code == 302
    policy.refresh_from_db()
    assert (policy.horizon_max, policy.updated_by) == (12, users[Role.ADMIN])
    event = AuditEvent.objects.get(event_type="governance.publish_policy.updated")
    assert (event.source, event.before, event.after) == ("admin", {"horizon_max": 18}, {"horizon_max": 12})

    client.post(url, {**ADMIN_FORM, "horizon_min": 13})  # above horizon_max: refused, nothing changes
    policy.refresh_from_db()
    assert policy.horizon_min == 6
    assert AuditEvent.objects.filter(event_type="governance.publish_policy.updated").count() == 1


def test_readiness_evaluations_are_read_only_in_admin(client, world):
    evaluation = readiness_evaluate(actor=world.admin, lane="weekly")
    client.force_login(world.admin)
    assert client.get("/admin/governance/readinessevaluation/").status_code == 200
    assert client.get(f"/admin/governance/readinessevaluation/{evaluation.pk}/change/").status_code == 200
    assert client.get("/admin/governance/readinessevaluation/add/").status_code == 403
    delete = client.post(f"/admin/governance/readinessevaluation/{evaluation.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert ReadinessEvaluation.objects.filter(pk=evaluation.pk).exists()
