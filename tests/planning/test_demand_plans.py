"""Demand plan services (PLN-04, WF-10, WF-12): versions, the guarded lifecycle and its audit trail."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction

from genxsop.errors import (
    Conflict,
    DuplicateEntity,
    EntityLocked,
    GranularityConflict,
    InUse,
    InvalidStateTransition,
    PermissionDenied,
    SelfApprovalForbidden,
    StaleVersion,
    ValidationFailed,
)
from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.models import DemandPlan

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": category})
    return SimpleNamespace(
        admin=admin, planner=users[Role.DEMAND_PLANNER], exec=users[Role.EXECUTIVE], viewer=users[Role.VIEWER],
        finance=users[Role.FINANCE_ANALYST], product=product, category=category,
    )  # fmt: skip


def create(w, actor=None, **data):
    data = {"period": MARCH, "forecast_qty": Decimal("100"), **data}
    return services.demand_plan_create(actor=actor or w.planner, product=w.product, data=data)


def row_state(plan) -> dict:
    return DemandPlan.objects.filter(pk=plan.pk).values().get()


def events_of(plan) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="demand_plan", target_id=str(plan.pk))
        .order_by("id")
        .values_list("event_type", flat=True)
    )


# Create -----------------------------------------------------------------------


def test_create_normalises_the_period_trims_dimensions_and_starts_a_draft_at_version_1(w):
    plan = create(w, period=date(2026, 3, 17), region="  EU ", channel=" Retail")
    assert (plan.period, plan.region, plan.channel) == (MARCH, "EU", "Retail")
    assert (plan.status, plan.version, plan.is_current, plan.created_by) == ("draft", 1, True, w.planner)
    assert events_of(plan) == ["planning.demand_plan.created"]


def test_create_defaults_to_the_total_key(w):
    plan = create(w)
    assert (plan.region, plan.channel) == ("Global", "All")


@pytest.mark.parametrize("period", [date(1999, 12, 1), date(2101, 1, 1)])
def test_create_refuses_periods_outside_the_supported_range(w, period):
    with pytest.raises(ValidationFailed):
        create(w, period=period)


def test_create_refuses_a_blank_dimension(w):
    with pytest.raises(ValidationFailed):
        create(w, region="   ")


def test_create_refuses_a_duplicate_business_key(w):
    create(w, region="EU")
    with pytest.raises(DuplicateEntity):
        create(w, region="EU")
    assert DemandPlan.objects.count() == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [({}, {"region": "EU"}), ({"channel": "Retail"}, {})],
    ids=["total-then-detail", "detail-then-total"],
)
def test_create_refuses_mixing_total_and_detail_rows(w, first, second):
    create(w, **first)
    with pytest.raises(GranularityConflict):
        create(w, **second)
    # Another month is a different product-period.
    create(w, period=date(2026, 4, 1), **second)


def test_create_refuses_a_discontinued_product(w):
    services.product_discontinue(actor=w.admin, product=w.product)
    with pytest.raises(Conflict) as exc:
        create(w)
    assert exc.value.code == "BUSINESS_RULE_VIOLATION"


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.FINANCE_ANALYST, Role.VIEWER])
def test_create_needs_a_demand_writer_role(w, users, role):
    with pytest.raises(PermissionDenied):
        create(w, actor=users[role])


def test_the_database_holds_the_current_row_unique_and_history_check(w):
    plan = create(w)
    with pytest.raises(IntegrityError), transaction.atomic():
        DemandPlan.objects.create(product=w.product, period=MARCH, forecast_qty=1, version=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        DemandPlan.objects.create(product=w.product, period=MARCH, forecast_qty=1, version=2, is_current=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        DemandPlan.objects.filter(pk=plan.pk).update(confidence=101)


# Versions (WF-12) ---------------------------------------------------------------


def test_a_content_change_keeps_the_old_values_as_a_history_row_and_bumps_the_version(w):
    plan = create(w, notes="first")
    plan = services.demand_plan_update(
        actor=w.planner, plan=plan, data={"forecast_qty": Decimal("120"), "notes": "second", "change_reason": "promo"}
    )
    assert (plan.version, plan.forecast_qty, plan.notes, plan.change_reason) == (2, Decimal("120"), "second", "promo")
    history = DemandPlan.objects.get(history_of=plan)
    assert (history.version, history.forecast_qty, history.notes, history.is_current) == (
        1,
        Decimal(100),
        "first",
        False,
    )
    assert history.status == "draft"
    plan = services.demand_plan_update(actor=w.planner, plan=plan, data={"adjusted_qty": Decimal("90")})
    assert plan.version == 3
    assert list(DemandPlan.objects.filter(history_of=plan).order_by("version").values_list("version", flat=True)) == [
        1,
        2,
    ]
    assert events_of(plan) == ["planning.demand_plan.created", *["planning.demand_plan.updated"] * 2]


def test_an_edit_that_changes_nothing_makes_no_version(w):
    plan = create(w)
    plan = services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": Decimal("100.00")})
    assert plan.version == 1
    assert not DemandPlan.objects.filter(history_of=plan).exists()


def test_a_stale_expected_version_is_refused_and_changes_nothing(w):
    plan = create(w)
    plan = services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 5})
    before = row_state(plan)
    with pytest.raises(StaleVersion):
        services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 7}, expected_version=1)
    assert row_state(plan) == before


def test_an_actual_alone_is_recorded_in_any_status_without_a_version(w):
    plan = create(w)
    services.demand_plan_submit(actor=w.planner, plan=plan)
    services.demand_plan_approve(actor=w.exec, plan=plan)
    plan = services.demand_plan_update(actor=w.planner, plan=plan, data={"actual_qty": Decimal("95")})
    assert (plan.actual_qty, plan.version, plan.status) == (Decimal("95"), 1, "approved")
    assert plan.actual_updated_at is not None
    assert events_of(plan)[-1] == "planning.demand_plan.actual_recorded"


def test_a_status_in_the_body_is_ignored_when_equal_and_refused_otherwise(w):
    plan = create(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"status": "draft", "notes": "x"})
    with pytest.raises(ValidationFailed):
        services.demand_plan_update(actor=w.planner, plan=plan, data={"status": "approved"})
    assert DemandPlan.objects.get(pk=plan.pk).status == "draft"


def test_history_rows_never_change(w):
    plan = create(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 5})
    history = DemandPlan.objects.get(history_of=plan)
    with pytest.raises(EntityLocked):
        services.demand_plan_update(actor=w.planner, plan=history, data={"forecast_qty": 6})
    with pytest.raises(EntityLocked):
        services.demand_plan_submit(actor=w.planner, plan=history)


# Lifecycle (WF-10) ---------------------------------------------------------------


def test_the_happy_path_records_who_and_when_and_audits_each_step(w):
    plan = create(w)
    plan = services.demand_plan_submit(actor=w.planner, plan=plan, comment="ready")
    assert (plan.status, plan.submitted_by) == ("submitted", w.planner)
    plan = services.demand_plan_approve(actor=w.exec, plan=plan, comment="ok")
    assert (plan.status, plan.approved_by) == ("approved", w.exec)
    assert plan.approved_at is not None
    plan = services.demand_plan_reopen(actor=w.exec, plan=plan, reason="new promo")
    assert (plan.status, plan.approved_by, plan.submitted_by) == ("draft", None, None)
    assert plan.version == 1  # transitions make no versions
    approved = AuditEvent.objects.get(event_type="planning.demand_plan.approved")
    assert (approved.before["status"], approved.after["status"], approved.message) == ("submitted", "approved", "ok")
    assert events_of(plan)[1:] == [
        "planning.demand_plan.submitted", "planning.demand_plan.approved", "planning.demand_plan.reopened",
    ]  # fmt: skip


def test_withdraw_returns_to_draft_and_clears_the_submission(w):
    plan = services.demand_plan_submit(actor=w.planner, plan=create(w))
    plan = services.demand_plan_withdraw(actor=w.planner, plan=plan)
    assert (plan.status, plan.submitted_by, plan.submitted_at) == ("draft", None, None)


# (action, status the plan is brought to) pairs the transition map refuses.
FORBIDDEN = [
    ("submit", "submitted"), ("submit", "approved"), ("submit", "rejected"),
    ("withdraw", "draft"), ("withdraw", "approved"), ("withdraw", "rejected"),
    ("approve", "draft"), ("approve", "approved"), ("approve", "rejected"),
    ("reject", "draft"), ("reject", "approved"), ("reject", "rejected"),
    ("reopen", "draft"), ("reopen", "submitted"), ("reopen", "rejected"),
    ("edit", "submitted"), ("edit", "approved"), ("delete", "submitted"), ("delete", "approved"),
]  # fmt: skip


def bring_to(w, status: str):
    plan = create(w)
    if status != "draft":
        plan = services.demand_plan_submit(actor=w.planner, plan=plan)
    if status == "approved":
        plan = services.demand_plan_approve(actor=w.exec, plan=plan)
    if status == "rejected":
        plan = services.demand_plan_reject(actor=w.exec, plan=plan, comment="too high")
    return plan


def run(w, action: str, plan):
    approver = w.exec
    calls = {
        "submit": lambda: services.demand_plan_submit(actor=w.planner, plan=plan),
        "withdraw": lambda: services.demand_plan_withdraw(actor=w.planner, plan=plan),
        "approve": lambda: services.demand_plan_approve(actor=approver, plan=plan),
        "reject": lambda: services.demand_plan_reject(actor=approver, plan=plan),
        "reopen": lambda: services.demand_plan_reopen(actor=approver, plan=plan, reason="why"),
        "edit": lambda: services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 1}),
        "delete": lambda: services.demand_plan_delete(actor=w.planner, plan=plan),
    }
    return calls[action]()


@pytest.mark.parametrize(("action", "status"), FORBIDDEN, ids=[f"{a}-from-{s}" for a, s in FORBIDDEN])
def test_forbidden_transitions_answer_invalid_state_transition_and_change_nothing(w, action, status):
    plan = bring_to(w, status)
    before, audit_count = row_state(plan), AuditEvent.objects.count()
    with pytest.raises(InvalidStateTransition) as exc:
        run(w, action, plan)
    assert exc.value.context["current_status"] == status
    assert exc.value.context["action"] == action
    assert action not in exc.value.context["allowed_actions"]
    assert row_state(plan) == before
    assert AuditEvent.objects.count() == audit_count


def test_the_submitter_cannot_approve_their_own_submission(w):
    plan = services.demand_plan_submit(actor=w.admin, plan=create(w, actor=w.admin))
    with pytest.raises(SelfApprovalForbidden):
        services.demand_plan_approve(actor=w.admin, plan=plan)
    assert DemandPlan.objects.get(pk=plan.pk).status == "submitted"
    assert "approve" not in services.demand_plan_allowed_actions(user=w.admin, plan=plan)


def test_without_segregation_of_duties_self_approval_is_allowed_and_flagged(w, settings):
    settings.ENFORCE_SEGREGATION_OF_DUTIES = False
    plan = services.demand_plan_submit(actor=w.admin, plan=create(w, actor=w.admin))
    services.demand_plan_approve(actor=w.admin, plan=plan)
    assert AuditEvent.objects.get(event_type="planning.demand_plan.approved").metadata["self_approved"] is True


def test_reject_keeps_the_comment_in_the_audit_log_not_in_the_notes(w):
    plan = bring_to(w, "rejected")
    assert (plan.status, plan.rejected_by, plan.notes) == ("rejected", w.exec, "")
    event = AuditEvent.objects.get(event_type="planning.demand_plan.rejected")
    assert (event.message, event.metadata["comment_kind"]) == ("too high", "rejection")


def test_reject_without_a_comment_records_the_default_rejected(w):
    plan = services.demand_plan_submit(actor=w.planner, plan=create(w))
    services.demand_plan_reject(actor=w.exec, plan=plan, comment="  ")
    assert AuditEvent.objects.get(event_type="planning.demand_plan.rejected").message == "Rejected"


def test_reopen_requires_a_reason(w):
    plan = bring_to(w, "approved")
    with pytest.raises(ValidationFailed):
        services.demand_plan_reopen(actor=w.exec, plan=plan, reason=" ")
    assert DemandPlan.objects.get(pk=plan.pk).status == "approved"


def test_a_rejected_plan_is_revised_by_editing_it_back_to_draft(w):
    plan = bring_to(w, "rejected")
    plan = services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 80})
    assert (plan.status, plan.version) == ("draft", 2)
    assert DemandPlan.objects.get(history_of=plan).status == "rejected"


def test_approved_and_locked_plans_refuse_content_edits(w):
    plan = bring_to(w, "approved")
    with pytest.raises(InvalidStateTransition):
        services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 1})
    DemandPlan.objects.filter(pk=plan.pk).update(status="locked")  # publishing arrives later (GOV-63)
    with pytest.raises(EntityLocked):
        services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 1})


def test_delete_removes_the_live_row_and_its_history_and_keeps_the_before_snapshot(w):
    plan = create(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 5})
    pk = plan.pk
    services.demand_plan_delete(actor=w.planner, plan=plan)
    assert not DemandPlan.objects.exists()
    event = AuditEvent.objects.get(event_type="planning.demand_plan.deleted", target_id=str(pk))
    assert event.before["forecast_qty"] == "5.00"


def test_a_plan_that_was_ever_approved_cannot_be_deleted(w):
    plan = services.demand_plan_reopen(actor=w.exec, plan=bring_to(w, "approved"), reason="rework")
    with pytest.raises(InUse):
        services.demand_plan_delete(actor=w.planner, plan=plan)
    assert DemandPlan.objects.filter(pk=plan.pk).exists()


def test_allowed_actions_follow_role_and_state(w):
    plan = create(w)
    assert services.demand_plan_allowed_actions(user=w.planner, plan=plan) == ["edit", "record_actual", "submit",
                                                                                "delete"]  # fmt: skip
    assert services.demand_plan_allowed_actions(user=w.exec, plan=plan) == []
    plan = services.demand_plan_submit(actor=w.planner, plan=plan)
    assert services.demand_plan_allowed_actions(user=w.exec, plan=plan) == ["approve", "reject"]
    assert services.demand_plan_allowed_actions(user=w.planner, plan=plan) == ["record_actual", "withdraw"]
    assert services.demand_plan_allowed_actions(user=w.viewer, plan=plan) == []
