"""Policy recommendations under maker-checker (PLN-10, FRM-08, FRM-09, FRM-13, FRM-14, FRM-16, WF-60, ACC-05)."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from genxsop.errors import Conflict, InvalidStateTransition, PermissionDenied, SelfApprovalForbidden
from governance.choices import Role
from governance.models import AuditEvent
from planning import events, services
from planning.models import InventoryPolicyRecommendation
from planning.selectors import inventory_analytics as sel
from planning.services import optimization as opt
from planning.services.exceptions import policy_exception_create

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def w(users, make_user):
    admin = users[Role.ADMIN]
    cat = services.category_create(actor=admin, name="Audio")
    main = services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"})
    p1 = services.product_create(actor=admin, data={"sku": "NRM-1", "name": "Normal", "category": cat})
    p2 = services.product_create(actor=admin, data={"sku": "CRT-1", "name": "Critical", "category": cat})
    # normal: available 80 >= SS 10, position 130 >= ROP 40, on hand 100 <= max 200
    normal = services.inventory_create(actor=admin, product=p1, location=main, data={
        "on_hand_qty": D("100"), "allocated_qty": D("20"), "in_transit_qty": D("50"), "safety_stock": D("10"),
        "reorder_point": D("40"), "max_stock": D("200")})  # fmt: skip
    # critical: available 8 < SS 10
    critical = services.inventory_create(actor=admin, product=p2, location=main, data={
        "on_hand_qty": D("8"), "in_transit_qty": D("40"), "safety_stock": D("10"),
        "reorder_point": D("40")})  # fmt: skip
    return SimpleNamespace(admin=admin, maker=users[Role.INVENTORY_MANAGER], checker=users[Role.SUPPLY_PLANNER],
                           viewer=users[Role.VIEWER], exec=users[Role.EXECUTIVE], normal=normal, critical=critical,
                           main=main)  # fmt: skip


def generate(w, **kwargs):
    recs = opt.policy_recommendation_generate(actor=w.maker, **kwargs)
    return {r.inventory_id: r for r in recs}


def test_generation_formulas_by_hand(w):
    recs = generate(w)
    normal = recs[w.normal.pk]
    # pressure = (20 + 50) / 100 = 0.7; m = 1.05 + 0 + min(0.30, 0.14) = 1.19
    # SS = max(10 x 1.19, 1) = 11.90; ROP = max(40 x 1.19, 1.25 x 11.9) = 47.60; max = max(200 x 1.19, 1.4 x 47.6)
    # = 238.00; confidence = 0.72 + min(0.12, 0.07) = 0.79; impact = |47.6 - 40| / 40 x 100 = 19.00 < 20
    assert (normal.recommended_safety_stock, normal.recommended_reorder_point, normal.recommended_max_stock) == (
        D("11.90"),
        D("47.60"),
        D("238.00"),
    )
    assert (normal.confidence_score, normal.impact_pct, normal.high_impact) == (D("0.7900"), D("19.00"), False)
    assert (normal.current_safety_stock, normal.current_reorder_point, normal.current_max_stock) == (
        D("10.00"),
        D("40.00"),
        D("200.00"),
    )
    assert normal.signals["demand_pressure"] == 0.7
    assert normal.signals["inventory_status"] == "normal"
    assert normal.signals["quality_tier"] == "high"
    assert normal.signals["lead_time_days"] == 14.0
    assert "uplift 19.0%" in normal.rationale
    assert normal.status == "pending"
    assert normal.generated_by == w.maker
    critical = recs[w.critical.pk]
    # pressure = 40 / max(8, 1) = 5; m = 1.05 + 0.10 + min(0.30, 1.0) = 1.45
    # SS = 14.50; ROP = max(58, 18.125) = 58.00; max = max(0, 1.4 x 58) = 81.20
    # confidence = 0.72 + 0.08 + min(0.12, 0.5) = 0.92; impact = 18 / 40 = 45 % -> high
    assert (critical.recommended_safety_stock, critical.recommended_reorder_point,
            critical.recommended_max_stock) == (D("14.50"), D("58.00"), D("81.20"))  # fmt: skip
    assert (critical.confidence_score, critical.impact_pct, critical.high_impact) == (D("0.9200"), D("45.00"), True)
    assert AuditEvent.objects.filter(event_type=events.RECOMMENDATION_GENERATED).count() == 2


def test_impact_on_a_zero_reorder_point_divides_by_one_and_long_lead_time_costs_confidence():
    levels = opt.recommendation_levels(on_hand=D(10), allocated=D(0), in_transit=D(0), safety_stock=D(0),
                                       reorder_point=D(0), max_stock=None, status="normal",
                                       lead_time=D(30))  # fmt: skip
    # SS = max(0, 1) = 1; ROP = max(0, 1.25) = 1.25; impact = |1.25 - 0| / 1 x 100 = 125 %
    # confidence = 0.72 - 0.05 (lead time 30 > 20) = 0.67
    assert (levels["recommended_reorder_point"], levels["impact_pct"], levels["high_impact"]) == (
        D("1.25"),
        D("125.00"),
        True,
    )
    assert levels["confidence_score"] == D("0.6700")


def test_filters_min_confidence_max_items_and_quality_gate(w):
    # confidences 0.92 and 0.79: 0.80 keeps only the critical row
    assert list(generate(w, min_confidence=D("0.80"))) == [w.critical.pk]
    InventoryPolicyRecommendation.objects.all().delete()
    assert list(generate(w, max_items=1)) == [w.critical.pk]  # highest confidence first
    InventoryPolicyRecommendation.objects.all().delete()
    # critical row: completeness 4/5 (no max) -> 0.4 x 0.8 + 0.3 + 0.3 = 0.92; normal 1.0: a 0.95 gate drops it
    assert list(generate(w, min_quality_score=D("0.95"))) == [w.normal.pk]
    assert len(generate(w, min_quality_score=D("0.95"), enforce_quality_gate=False)) == 2


def test_regenerate_updates_the_pending_row_in_place_and_the_new_generator_is_the_maker(w):
    first = generate(w)[w.normal.pk]
    again = opt.policy_recommendation_generate(actor=w.checker)
    assert InventoryPolicyRecommendation.objects.count() == 2
    same = {r.inventory_id: r for r in again}[w.normal.pk]
    assert same.pk == first.pk
    assert same.generated_by == w.checker
    assert AuditEvent.objects.filter(event_type=events.RECOMMENDATION_REGENERATED).count() == 2


def test_apply_low_impact_pending_writes_the_row(w):
    rec = generate(w)[w.normal.pk]
    rec = opt.policy_recommendation_decide(actor=w.maker, recommendation=rec, decision="accepted", notes="ok")
    assert rec.status == "applied"
    assert rec.applied_via == "manual"
    assert rec.applied_by == w.maker
    assert rec.decided_by == w.maker
    assert rec.decision_notes == "ok"
    w.normal.refresh_from_db()
    assert (w.normal.safety_stock, w.normal.reorder_point, w.normal.max_stock) == (D("11.90"), D("47.60"), D("238.00"))
    assert w.normal.policy_source == "recommendation"
    assert w.normal.status == "normal"
    assert AuditEvent.objects.filter(event_type=events.INVENTORY_POLICY_APPLIED, target_id=str(w.normal.pk)).exists()
    with pytest.raises(InvalidStateTransition):  # applied is terminal
        opt.policy_recommendation_decide(actor=w.maker, recommendation=rec, decision="rejected")


def test_maker_checker_on_every_path(w, settings):
    rec = generate(w)[w.critical.pk]
    assert rec.high_impact
    # the generator may not approve: approve endpoint and decision without apply
    with pytest.raises(SelfApprovalForbidden):
        opt.policy_recommendation_approve(actor=w.maker, recommendation=rec)
    with pytest.raises(SelfApprovalForbidden):
        opt.policy_recommendation_decide(actor=w.maker, recommendation=rec, decision="accepted", apply_changes=False)
    # nobody may apply a pending high-impact row, not even another user
    for actor in (w.maker, w.checker, w.admin):
        with pytest.raises(Conflict) as info:
            opt.policy_recommendation_decide(actor=actor, recommendation=rec, decision="accepted")
        assert info.value.code == "APPROVAL_REQUIRED"
        assert info.value.message == "High-impact policy change requires approval before apply"
    # auto-apply skips it whatever the thresholds
    out = opt.policy_recommendation_auto_apply(actor=w.checker, min_confidence=0, max_demand_pressure=10,
                                               min_quality_score=0)  # fmt: skip
    assert {"id": rec.pk, "reason": "high_impact_requires_approval"} in out["skipped"]
    assert rec.pk not in out["recommendation_ids"]
    rec.refresh_from_db()
    assert rec.status == "pending"
    w.critical.refresh_from_db()
    assert w.critical.reorder_point == D("40.00")
    assert opt.recommendation_allowed_actions(w.maker, rec) == ["reject"]
    assert opt.recommendation_allowed_actions(w.checker, rec) == ["approve", "reject"]
    assert opt.recommendation_allowed_actions(w.viewer, rec) == []
    # the checker approves, then the maker may apply
    rec = opt.policy_recommendation_approve(actor=w.checker, recommendation=rec, notes="checked")
    assert rec.status == "accepted"
    assert rec.accepted_by == w.checker
    assert opt.recommendation_allowed_actions(w.maker, rec) == ["apply", "reject"]
    rec = opt.policy_recommendation_decide(actor=w.maker, recommendation=rec, decision="accepted")
    assert rec.status == "applied"
    w.critical.refresh_from_db()
    assert w.critical.reorder_point == D("58.00")


def test_self_approval_allowed_and_flagged_when_segregation_is_off(w, settings):
    settings.ENFORCE_SEGREGATION_OF_DUTIES = False
    rec = generate(w)[w.critical.pk]
    assert "approve" in opt.recommendation_allowed_actions(w.maker, rec)
    rec = opt.policy_recommendation_approve(actor=w.maker, recommendation=rec)
    assert rec.status == "accepted"
    event = AuditEvent.objects.get(event_type=events.RECOMMENDATION_APPROVED)
    assert event.metadata["self_approved"] is True


def test_reject_from_pending_and_accepted_and_readers_cannot_decide(w):
    recs = generate(w)
    with pytest.raises(PermissionDenied):
        opt.policy_recommendation_decide(actor=w.exec, recommendation=recs[w.normal.pk], decision="rejected")
    rec = opt.policy_recommendation_decide(actor=w.maker, recommendation=recs[w.normal.pk], decision="rejected",
                                           notes="too much")  # fmt: skip
    assert rec.status == "rejected"
    assert rec.decision_notes == "too much"
    rec2 = opt.policy_recommendation_approve(actor=w.checker, recommendation=recs[w.critical.pk])
    rec2 = opt.policy_recommendation_decide(actor=w.checker, recommendation=rec2, decision="rejected")
    assert rec2.status == "rejected"
    with pytest.raises(InvalidStateTransition):
        opt.policy_recommendation_approve(actor=w.checker, recommendation=rec2)


def test_auto_apply_eligibility_dry_run_and_apply(w):
    recs = generate(w)
    normal, critical = recs[w.normal.pk], recs[w.critical.pk]
    # defaults: min confidence 0.80 -> normal (0.79) skipped; critical pending high-impact skipped
    out = opt.policy_recommendation_auto_apply(actor=w.maker)
    assert out["eligible_count"] == 0
    assert out["applied_count"] == 0
    assert {s["id"]: s["reason"] for s in out["skipped"]} == {
        normal.pk: "confidence_below_minimum",
        critical.pk: "high_impact_requires_approval",
    }
    # accepted by the checker: critical passes the high-impact filter but its pressure 5 > 1.2
    opt.policy_recommendation_approve(actor=w.checker, recommendation=critical)
    out = opt.policy_recommendation_auto_apply(actor=w.maker, min_confidence=D("0.75"), dry_run=True)
    assert out["recommendation_ids"] == [normal.pk]
    assert out["applied_count"] == 0
    assert out["dry_run"]
    assert {s["id"]: s["reason"] for s in out["skipped"]} == {critical.pk: "demand_pressure_above_maximum"}
    normal.refresh_from_db()
    assert normal.status == "pending"  # the dry run wrote nothing
    out = opt.policy_recommendation_auto_apply(actor=w.maker, min_confidence=D("0.75"), max_demand_pressure=D("6"))
    # both eligible now; highest confidence first: critical 0.92, normal 0.79
    assert out["recommendation_ids"] == [critical.pk, normal.pk]
    assert out["applied_count"] == 2
    normal.refresh_from_db()
    assert normal.status == "applied"
    assert normal.applied_via == "auto"
    assert normal.decision_notes == "Autonomous apply (guardrails)"


def test_auto_apply_max_items(w):
    generate(w)
    opt.policy_recommendation_approve(
        actor=w.checker, recommendation=InventoryPolicyRecommendation.objects.get(inventory=w.critical)
    )
    out = opt.policy_recommendation_auto_apply(actor=w.maker, min_confidence=0, max_demand_pressure=10, max_items=1)
    assert out["applied_count"] == 1
    assert out["eligible_count"] == 2
    assert out["skipped"] == [{"id": InventoryPolicyRecommendation.objects.get(inventory=w.normal).pk,
                               "reason": "max_items_reached"}]  # fmt: skip


def test_control_tower_summary_by_hand(w):
    recs = generate(w)
    opt.policy_recommendation_decide(actor=w.maker, recommendation=recs[w.normal.pk], decision="rejected")
    opt.policy_recommendation_approve(actor=w.checker, recommendation=recs[w.critical.pk])
    generate(w)  # new pending rows for both inventory rows
    opt.policy_recommendation_auto_apply(actor=w.maker, min_confidence=0, max_demand_pressure=10, max_items=1)
    today = timezone.localdate()
    policy_exception_create(actor=w.admin, inventory=w.normal, exception_type="excess_risk", recommended_action="x",
                            due_date=today - datetime.timedelta(days=1))  # fmt: skip
    policy_exception_create(actor=w.admin, inventory=w.critical, exception_type="stockout_risk",
                            recommended_action="y", due_date=today)  # fmt: skip
    summary = sel.inventory_control_tower_summary(user=w.admin)
    # auto-apply took the accepted critical rec (0.92 first): statuses now rejected 1, applied 1, pending 2
    # acceptance = (0 accepted + 1 applied) / (0 + 1 + 1 rejected) = 50.0 %
    assert summary["pending_recommendations"] == 2
    assert summary["applied_recommendations"] == 1
    assert summary["accepted_recommendations"] == 0
    assert summary["acceptance_rate_pct"] == D("50.0")
    assert summary["autonomous_applied_24h"] == 1
    assert (summary["open_exceptions"], summary["overdue_exceptions"]) == (2, 1)
    assert summary["recommendation_backlog_risk"] == "low"


def test_backlog_risk_thresholds_and_empty_rate(w):
    summary = sel.inventory_control_tower_summary(user=w.admin)
    assert summary["acceptance_rate_pct"] == 0
    assert summary["recommendation_backlog_risk"] == "low"


def test_assessment_recommendation_checks_become_yes(w):
    before = sel.inventory_assessment_scorecard(user=w.admin)
    areas = {a["area"]: a for a in before["areas"]}
    assert areas["Forecast Integration"]["yes_count"] == 0
    recs = generate(w)
    opt.policy_recommendation_decide(actor=w.maker, recommendation=recs[w.normal.pk], decision="accepted",
                                     notes="fine")  # fmt: skip
    after = {a["area"]: a for a in sel.inventory_assessment_scorecard(user=w.admin)["areas"]}
    # pressure and quality signals on pending/applied rows, a confidence score -> 3 of 3
    assert after["Forecast Integration"]["yes_count"] == 3
    # no open exception, decided_by set, decision notes -> 2 of 3
    assert after["Governance & Cadence"]["yes_count"] == 2
    assert after["Outcome KPIs"]["yes_count"] >= 1 + areas["Outcome KPIs"]["yes_count"]
