"""Role-matrix rows of the production area (see tests/platform/matrix/__init__.py)."""

from datetime import date

from governance.choices import Role
from governance.services import user_create
from planning import services
from planning.services.production import production_schedule_generate
from tests.platform.matrix.roles import PS_EXEC, PS_R, SUP_W

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/production-scheduling/schedules", PS_R, None),
    ("POST", "/production-scheduling/generate", SUP_W, {}),  # no supply_plan_id: 400 for every allowed role
    ("PATCH", "/production-scheduling/schedules/{id}/status", PS_EXEC, {}),  # no status: 400
    ("GET", "/production-scheduling/capacity-summary", PS_R, None),  # no supply_plan_id: 400
    ("POST", "/production-scheduling/schedules/{id}/resequence", SUP_W, {}),  # no direction: 400
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    # Only approved plans are scheduled, and the submitter may not approve their own (ACC-05).
    approver = user_create(actor=admin, email="ps-approver@matrix.test", full_name="PS approver",
                           role=Role.EXECUTIVE)  # fmt: skip
    plan = services.supply_plan_create(actor=admin, product=product, location=location,
                                       data={"period": date(2026, 5, 1), "planned_prod_qty": 10})  # fmt: skip
    services.supply_plan_submit(actor=admin, plan=plan)
    plan = services.supply_plan_approve(actor=approver, plan=plan)
    slots = production_schedule_generate(actor=admin, supply_plan=plan, workcenters=["WC-1"], lines=["Line-1"],
                                         shifts=["Shift-A"], duration_hours_per_slot=8).slots  # fmt: skip
    return {"/production-scheduling/schedules/": slots[0].pk}, {}
