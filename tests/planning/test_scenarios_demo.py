"""DEMO-10: the demo scenarios, their states, idempotency and the reset."""

from datetime import date

import pytest

from genxsop import context
from governance.choices import Role
from governance.models import AuditEvent
from governance.services import user_create
from planning import demo_scenarios
from planning.models import Scenario
from planning.services.scenarios import operating_plan_scenario
from tests.planning.test_scenarios_world import build_world

pytestmark = pytest.mark.django_db
ANCHOR = date(2026, 3, 1)


@pytest.fixture
def demo_users(users):
    world = build_world(users)
    for email, role in ((demo_scenarios.PLANNER, Role.DEMAND_PLANNER), (demo_scenarios.SUPPLY, Role.SUPPLY_PLANNER),
                        (demo_scenarios.FINANCE, Role.FINANCE_ANALYST),
                        (demo_scenarios.COORDINATOR, Role.SOP_COORDINATOR),
                        (demo_scenarios.EXECUTIVE, Role.EXECUTIVE)):  # fmt: skip
        user_create(actor=world.admin, email=email, full_name=email.split("@")[0].title(), role=role)
    return world


def test_the_demo_scenarios_have_their_documented_states(demo_users):
    with context.cli_context():
        result = demo_scenarios.load(anchor=ANCHOR)
    assert result == {"scenarios": 5, "existing": 0}
    states = {s.name: (s.scenario_type, s.status, s.period, s.is_operating_plan) for s in Scenario.objects.all()}
    assert states == {
        "Baseline February 2026": ("baseline", "approved", date(2026, 2, 1), True),
        "Holiday promotion +12 %": ("what_if", "completed", ANCHOR, False),
        "Supplier disruption \u221215 %": ("stress_test", "submitted", ANCHOR, False),
        "Price increase +3 %": ("what_if", "draft", ANCHOR, False),
        "Best case demand +8 %": ("best_case", "rejected", ANCHOR, False),
    }
    assert operating_plan_scenario(ANCHOR) is None
    assert operating_plan_scenario(date(2026, 2, 1)).name == "Baseline February 2026"
    holiday = Scenario.objects.get(name="Holiday promotion +12 %")
    assert holiday.results["baseline"]["demand_qty"] == 210
    assert holiday.run_by.email == demo_scenarios.PLANNER
    baseline = Scenario.objects.get(name="Baseline February 2026")
    assert baseline.approved_by.email == demo_scenarios.EXECUTIVE
    assert baseline.submitted_by.email == demo_scenarios.COORDINATOR
    assert AuditEvent.objects.filter(target_type="scenario", source="cli").count() >= 5


def test_loading_twice_changes_nothing_and_the_reset_removes_them(demo_users):
    with context.cli_context():
        demo_scenarios.load(anchor=ANCHOR)
        assert demo_scenarios.load(anchor=ANCHOR) == {"scenarios": 0, "existing": 5}
    assert Scenario.objects.count() == 5
    # A scenario a user made in the console survives the reset.
    from planning.services.scenarios import scenario_create

    scenario_create(actor=demo_users.demand, data={"name": "Mine"})
    with context.cli_context():
        assert demo_scenarios.delete_demo_scenarios(actor=demo_users.admin) == 5
    assert list(Scenario.objects.values_list("name", flat=True)) == ["Mine"]
