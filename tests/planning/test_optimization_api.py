"""Optimisation runs, recommendations and the control-tower summary over the API (API-INV-05…07, 10…14, 16)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from governance.choices import Role
from governance.models import AuditEvent
from planning import events, services
from planning.models import InventoryPolicyRecommendation, InventoryPolicyRun

pytestmark = pytest.mark.django_db

API = "/api/v1/inventory"
D = Decimal


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    cat = services.category_create(actor=admin, name="Audio")
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": cat})
    row = services.inventory_create(actor=admin, product=speaker, location=main, data={
        "on_hand_qty": D("8"), "in_transit_qty": D("40"), "safety_stock": D("10"),
        "reorder_point": D("40")})  # fmt: skip
    maker, checker = users[Role.INVENTORY_MANAGER], users[Role.SUPPLY_PLANNER]
    return SimpleNamespace(admin=admin, row=row, speaker=speaker, maker=maker, checker=checker,
                           api=api_client_for(maker), checker_api=api_client_for(checker),
                           reader_api=api_client_for(users[Role.FINANCE_ANALYST]))  # fmt: skip


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert detail["code"] == code
    return detail


def test_run_create_list_and_detail(w):
    response = w.api.post(f"{API}/optimization/runs", {"service_level_target": 0.95, "lead_time_days": "14"},
                          format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    # d = in transit 40 / 7; SS = 5.714 x 1.65 x sqrt(14) = 35.28; ROP = 80 + 35.28 = 115.28 > position 48
    assert body["status"] == "completed"
    assert body["processed_count"] == 1
    assert body["updated_count"] == 1
    assert body["generated_at"].endswith("Z")
    (exc,) = body["exceptions"]
    assert exc["exception_type"] == "stockout_risk"
    assert exc["run_id"] == body["run_id"]
    assert exc["severity"] == "high"  # available 8 <= SS 35.28
    listing = w.api.get(f"{API}/optimization/runs").json()
    assert [r["run_id"] for r in listing] == [body["run_id"]]
    detail = w.api.get(f"{API}/optimization/runs/{body['run_id']}").json()
    assert detail["parameters"]["lead_time_days"] == "14"
    assert detail["requested_by"] == w.maker.pk
    assert detail["result"]["rows"][0]["safety_stock"] == "35.28"
    assert detail["location"] is None
    assert detail["error"] == ""
    assert w.api.get(f"{API}/optimization/runs/nope").status_code == 404
    assert w.api.get(f"{API}/exceptions").json()[0]["run_id"] == body["run_id"]


def test_run_validation_errors_are_400_with_fields(w):
    response = w.api.post(f"{API}/optimization/runs", {"service_level_target": "0.5", "lead_time_days": 400,
                                                       "review_period_days": 0, "method": "magic",
                                                       "moq_units": -1}, format="json")  # fmt: skip
    fields = error(response, 400, "VALIDATION_ERROR")["fields"]
    assert set(fields) == {"service_level_target", "lead_time_days", "review_period_days", "method", "moq_units"}
    assert not InventoryPolicyRun.objects.exists()
    assert error(w.api.get(f"{API}/optimization/runs?limit=0"), 400, "INVALID_PARAMETER")["fields"]["limit"]


def test_readers_cannot_run_or_list_runs(w):
    assert error(w.reader_api.post(f"{API}/optimization/runs", {}, format="json"), 403, "PERMISSION_DENIED")
    assert w.reader_api.get(f"{API}/optimization/runs").status_code == 403
    assert w.reader_api.get(f"{API}/recommendations").status_code == 200


def test_generate_decide_and_maker_checker_over_the_api(w):
    response = w.api.post(f"{API}/recommendations/generate", {"min_confidence": "0.5"}, format="json")
    assert response.status_code == 201, response.content
    (rec,) = response.json()
    assert rec["high_impact"] is True
    assert rec["impact_pct"] == "45.00"
    assert rec["confidence_score"] == "0.9200"
    assert rec["recommended_reorder_point"] == "58.00"
    assert rec["status"] == "pending"
    assert rec["generated_by"] == w.maker.pk
    assert rec["allowed_actions"] == ["reject"]
    url = f"{API}/recommendations/{rec['id']}"
    detail = error(w.api.post(f"{url}/approve", {}, format="json"), 403, "SELF_APPROVAL_FORBIDDEN")
    assert detail["message"]
    detail = error(w.checker_api.post(f"{url}/decision", {"decision": "accepted"}, format="json"), 409,
                   "APPROVAL_REQUIRED")  # fmt: skip
    assert detail["message"] == "High-impact policy change requires approval before apply"
    error(w.api.post(f"{url}/decision", {"decision": "accepted", "apply_changes": False}, format="json"), 403,
          "SELF_APPROVAL_FORBIDDEN")  # fmt: skip
    response = w.checker_api.post(f"{url}/approve", {"notes": "checked"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["accepted_by"] == w.checker.pk
    response = w.api.post(f"{url}/decision", {"decision": "accepted"}, format="json")
    assert response.json()["status"] == "applied"
    assert response.json()["applied_via"] == "manual"
    w.row.refresh_from_db()
    assert w.row.reorder_point == D("58.00")
    assert w.row.policy_source == "recommendation"
    error(w.api.post(f"{url}/decision", {"decision": "rejected"}, format="json"), 409, "INVALID_STATE_TRANSITION")
    assert AuditEvent.objects.filter(event_type=events.RECOMMENDATION_APPLIED).count() == 1
    listing = w.api.get(f"{API}/recommendations?status=applied").json()
    assert [r["id"] for r in listing] == [rec["id"]]
    assert listing[0]["allowed_actions"] == []


def test_decision_validation_and_404(w):
    w.api.post(f"{API}/recommendations/generate", {}, format="json")
    rec = InventoryPolicyRecommendation.objects.get()
    fields = error(w.api.post(f"{API}/recommendations/{rec.pk}/decision", {"decision": "maybe"}, format="json"),
                   400, "VALIDATION_ERROR")["fields"]  # fmt: skip
    assert "decision" in fields
    error(w.api.post(f"{API}/recommendations/99999/approve", {}, format="json"), 404, "NOT_FOUND")
    fields = error(w.api.post(f"{API}/recommendations/generate", {"max_items": 501}, format="json"), 400,
                   "VALIDATION_ERROR")["fields"]  # fmt: skip
    assert "max_items" in fields
    fields = error(w.api.post(f"{API}/recommendations/auto-apply", {"max_demand_pressure": 11}, format="json"), 400,
                   "VALIDATION_ERROR")["fields"]  # fmt: skip
    assert "max_demand_pressure" in fields


def test_auto_apply_never_applies_a_pending_high_impact_row(w):
    w.api.post(f"{API}/recommendations/generate", {}, format="json")
    rec = InventoryPolicyRecommendation.objects.get()
    body = w.api.post(f"{API}/recommendations/auto-apply", {"min_confidence": 0, "max_demand_pressure": 10,
                                                           "min_quality_score": 0}, format="json").json()  # fmt: skip
    assert body == {
        "eligible_count": 0,
        "applied_count": 0,
        "skipped_count": 1,
        "recommendation_ids": [],
        "skipped": [{"id": rec.pk, "reason": "high_impact_requires_approval"}],
        "dry_run": False,
    }


def test_control_tower_summary(w):
    w.api.post(f"{API}/recommendations/generate", {}, format="json")
    body = w.reader_api.get(f"{API}/control-tower/summary").json()
    assert body["pending_recommendations"] == 1
    assert body["acceptance_rate_pct"] == "0.0"
    assert body["recommendation_backlog_risk"] == "low"
    assert body["overdue_exceptions"] == 0
