"""Supply plan services (PLN-05, WF-11, WF-12): the lifecycle through the shared plan engine."""

from decimal import Decimal

import pytest

from genxsop import errors
from governance.models import AuditEvent
from planning import selectors, services
from planning.choices import PlanStatus
from planning.models import Location, SupplyPlan
from tests.planning import supply_world
from tests.planning.supply_world import APRIL, supply

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(users):
    return supply_world.build(users)


def row_values(plan) -> dict:
    return SupplyPlan.objects.filter(pk=plan.pk).values().get()


def events_of(plan) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(plan.pk), target_type="supply_plan")
                .order_by("occurred_at", "id").values_list("event_type", flat=True))  # fmt: skip


def test_a_plan_walks_create_submit_reject_revise_submit_approve_reopen_with_audit(w):
    plan = supply(w, capacity_max=Decimal("80"), supplier_name="Acme")
    assert (plan.status, plan.version, plan.location.code, plan.load_pct) == (PlanStatus.DRAFT, 1, "PLANT-A", 125)
    services.supply_plan_submit(actor=w.planner, plan=plan)
    services.supply_plan_reject(actor=w.exec, plan=plan, comment="Too much")
    plan = services.supply_plan_update(actor=w.planner, plan=plan, data={"planned_prod_qty": Decimal("70")})
    assert (plan.status, plan.version) == (PlanStatus.DRAFT, 2)
    services.supply_plan_submit(actor=w.planner, plan=plan)
    plan = services.supply_plan_approve(actor=w.exec, plan=plan, comment="OK")
    assert (plan.status, plan.approved_by) == (PlanStatus.APPROVED, w.exec)
    plan = services.supply_plan_reopen(actor=w.exec, plan=plan, reason="New capacity")
    assert plan.status == PlanStatus.DRAFT
    assert events_of(plan) == [
        "planning.supply_plan.created", "planning.supply_plan.submitted", "planning.supply_plan.rejected",
        "planning.supply_plan.updated", "planning.supply_plan.submitted", "planning.supply_plan.approved",
        "planning.supply_plan.reopened",
    ]  # fmt: skip
    rejected = AuditEvent.objects.get(event_type="planning.supply_plan.rejected", target_id=str(plan.pk))
    assert (rejected.message, rejected.before["status"], rejected.after["status"]) == ("Too much", "submitted",
                                                                                      "rejected")  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "action"),
    [([], "approve"), ([], "withdraw"), (["submit"], "submit"), (["submit"], "reopen"),
     (["submit", "approve"], "reject"), (["submit", "approve"], "edit"), (["submit"], "delete")],
)  # fmt: skip
def test_forbidden_transitions_answer_409_and_leave_the_row_unchanged(w, setup, action):
    plan = supply(w)
    for step in setup:
        actor = w.exec if step == "approve" else w.planner
        getattr(services, f"supply_plan_{step}")(actor=actor, plan=plan)
    before = row_values(plan)
    count = AuditEvent.objects.count()
    actor = w.exec if action in ("approve", "reject", "reopen") else w.planner
    calls = {
        "edit": lambda: services.supply_plan_update(actor=actor, plan=plan, data={"planned_prod_qty": 1}),
        "delete": lambda: services.supply_plan_delete(actor=actor, plan=plan),
        "reopen": lambda: services.supply_plan_reopen(actor=actor, plan=plan, reason="x"),
    }
    call = calls.get(action) or (lambda: getattr(services, f"supply_plan_{action}")(actor=actor, plan=plan))
    with pytest.raises(errors.InvalidStateTransition) as caught:
        call()
    assert caught.value.context["current_status"] == before["status"]
    assert row_values(plan) == before
    assert AuditEvent.objects.count() == count


def test_each_content_change_makes_a_version_and_the_versions_list_the_changes(w):
    plan = supply(w, capacity_max=Decimal("200"))
    services.supply_plan_update(actor=w.planner, plan=plan, data={"planned_prod_qty": Decimal("150"),
                                                                 "change_reason": "Promo"})  # fmt: skip
    services.supply_plan_update(actor=w.planner, plan=plan, data={"supplier_name": "Acme"})
    # An unchanged value and the actual make no version.
    services.supply_plan_update(actor=w.planner, plan=plan, data={"supplier_name": "Acme", "actual_prod_qty": 9})
    versions = selectors.supply_plan_versions(user=w.planner, pk=plan.pk)
    assert [(v["version"], v["is_current"], v["changed_fields"]) for v in versions] == [
        (3, True, ["supplier_name"]), (2, False, ["planned_prod_qty"]),
        (1, False, ["planned_prod_qty", "capacity_max", "capacity_used", "supplier_name", "lead_time_days",
                    "cost_per_unit", "constraints"]),
    ]  # fmt: skip
    assert versions[1]["change_reason"] == "Promo"
    assert (versions[2]["planned_prod_qty"], versions[1]["load_pct"]) == (Decimal("100.00"), Decimal("75.00"))
    history = SupplyPlan.objects.get(history_of=plan, version=1)
    assert [v["version"] for v in selectors.supply_plan_versions(user=w.planner, pk=history.pk)] == [3, 2, 1]


def test_stale_expected_version_is_409_and_changes_nothing(w):
    plan = supply(w)
    services.supply_plan_update(actor=w.planner, plan=plan, data={"planned_prod_qty": 5})
    before = row_values(plan)
    with pytest.raises(errors.StaleVersion):
        services.supply_plan_update(actor=w.planner, plan=plan, data={"planned_prod_qty": 7}, expected_version=1)
    with pytest.raises(errors.StaleVersion):
        services.supply_plan_submit(actor=w.planner, plan=plan, expected_version=1)
    assert row_values(plan) == before


def test_duplicate_key_and_deactivated_location_are_409(w):
    supply(w)
    with pytest.raises(errors.DuplicateEntity):
        supply(w)
    Location.objects.filter(pk=w.dc.pk).update(is_active=False)
    with pytest.raises(errors.Conflict) as caught:
        supply(w, location=Location.objects.get(pk=w.dc.pk), period=APRIL)
    assert caught.value.code == "BUSINESS_RULE_VIOLATION"
    assert "deactivated" in caught.value.message
    assert SupplyPlan.objects.count() == 1


def test_the_submitter_cannot_approve_their_own_plan(w):
    plan = supply(w, actor=w.admin)
    services.supply_plan_submit(actor=w.admin, plan=plan)
    with pytest.raises(errors.SelfApprovalForbidden):
        services.supply_plan_approve(actor=w.admin, plan=plan)
    assert SupplyPlan.objects.get(pk=plan.pk).status == PlanStatus.SUBMITTED


def test_allowed_actions_follow_role_and_state(w):
    plan = supply(w)
    assert services.supply_plan_allowed_actions(user=w.planner, plan=plan) == ["edit", "record_actual", "submit",
                                                                               "delete"]  # fmt: skip
    assert services.supply_plan_allowed_actions(user=w.exec, plan=plan) == []
    assert services.supply_plan_allowed_actions(user=w.demand_planner, plan=plan) == []
    plan = services.supply_plan_submit(actor=w.planner, plan=plan)
    assert services.supply_plan_allowed_actions(user=w.exec, plan=plan) == ["approve", "reject"]


def test_the_actual_is_recorded_in_any_status_without_a_version(w):
    plan = supply(w)
    services.supply_plan_submit(actor=w.planner, plan=plan)
    services.supply_plan_approve(actor=w.exec, plan=plan)
    plan = services.supply_plan_update(actor=w.planner, plan=plan, data={"actual_prod_qty": Decimal("90")})
    assert (plan.actual_prod_qty, plan.version, plan.status) == (Decimal("90"), 1, PlanStatus.APPROVED)
    assert AuditEvent.objects.filter(event_type="planning.supply_plan.actual_recorded").count() == 1


def test_list_filters_by_location_code_category_and_history(w):
    a = supply(w)
    b = supply(w, location=w.dc)
    c = supply(w, product=w.mower, period=APRIL)
    services.supply_plan_update(actor=w.planner, plan=a, data={"planned_prod_qty": 1})

    def ids(**filters):
        return [p.pk for p in selectors.supply_plan_list(user=w.planner, filters=filters)]

    assert ids() == [c.pk, b.pk, a.pk]  # -period, sku, location code
    assert ids(location="DC-B") == [b.pk]
    assert ids(location="DC-B,Main") == [b.pk]
    assert ids(category_id=str(w.garden.pk)) == [c.pk]
    assert len(ids(include_history="true")) == 4
    with pytest.raises(errors.ValidationFailed):
        ids(status="nonsense")
