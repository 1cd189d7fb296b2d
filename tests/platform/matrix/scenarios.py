"""Role-matrix rows of scenarios (API-SCN-01…17; see tests/platform/matrix/__init__.py).

Reads are SCN_R; create, edit, delete, run, submit, reopen and clone are FC_W; approve, reject and the
operating-plan designation are APPR. Each operation gets a scenario in the state it needs, so the first
allowed caller succeeds and the later ones get past the permission layer with 409 at worst.
"""

from tests.platform.matrix.roles import APPR, FC_W, SCN_R

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/scenarios", SCN_R, None),
    ("POST", "/scenarios", FC_W, {"name": "Matrix what-if", "parameters": {"demand_change_pct": 5}}),
    ("GET", "/scenarios/{id}", SCN_R, None),
    ("PUT", "/scenarios/{id}", FC_W, {"description": "Edited"}),
    ("PATCH", "/scenarios/{id}", FC_W, {"description": "Edited"}),
    ("DELETE", "/scenarios/{id}", FC_W, None),  # a completed scenario: 409 for every allowed role
    ("POST", "/scenarios/{id}/run", FC_W, None),
    ("POST", "/scenarios/{id}/submit", FC_W, {}),
    ("POST", "/scenarios/{id}/approve", APPR, {}),
    ("POST", "/scenarios/{id}/reject", APPR, {}),
    ("POST", "/scenarios/{id}/reopen", FC_W, None),
    ("POST", "/scenarios/{id}/designate-operating-plan", APPR, {}),
    ("POST", "/scenarios/{id}/undesignate-operating-plan", APPR, None),
    ("POST", "/scenarios/{id}/clone", FC_W, {}),
    ("GET", "/scenarios/{id}/tradeoff-summary", SCN_R, None),
    ("POST", "/scenarios/compare", SCN_R, {"scenario_ids": []}),  # 400 for every allowed role
    ("GET", "/scenarios/compare", SCN_R, None),  # no ids: 400
    ("GET", "/scenarios/compare/export", SCN_R, None),  # no ids: 400
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    from governance.choices import Role
    from governance.models import User
    from governance.services import user_create
    from planning.services import scenarios as svc

    # Segregation of duties: the admin submits, so another approver decides.
    approver = User.objects.filter(role=Role.EXECUTIVE, is_active=True).first() or user_create(
        actor=admin, email="scenario-approver@matrix.test", full_name="Scenario Approver", role=Role.EXECUTIVE
    )

    def make(name: str, period: str = "2026-03", *, until: str = "draft"):
        scenario = svc.scenario_create(actor=admin, data={"name": name, "parameters": {"period": period}})
        steps = (
            ["run", "submit", until]
            if until in ("approve", "reject", "designate")
            else {"draft": [], "completed": ["run"], "submitted": ["run", "submit"]}[until]
        )
        for step in steps:
            if step == "run":
                scenario = svc.scenario_run(actor=admin, scenario=scenario)
            elif step == "submit":
                scenario = svc.scenario_submit(actor=admin, scenario=scenario)
            elif step == "reject":
                scenario = svc.scenario_reject(actor=approver, scenario=scenario)
            else:
                scenario = svc.scenario_approve(actor=approver, scenario=scenario)
                if step == "designate":
                    scenario = svc.scenario_designate_operating_plan(actor=approver, scenario=scenario)
        return scenario.pk

    draft = make("Matrix draft")
    completed = make("Matrix completed", until="completed")
    submitted = make("Matrix submitted", until="submitted")
    rejected = make("Matrix rejected", until="reject")
    approved = make("Matrix approved", until="approve")
    designated = make("Matrix operating plan", "2026-04", until="designate")
    op_ids = {
        ("DELETE", "/scenarios/{id}"): completed,
        ("POST", "/scenarios/{id}/submit"): completed,
        ("POST", "/scenarios/{id}/approve"): submitted,
        ("POST", "/scenarios/{id}/reject"): submitted,
        ("POST", "/scenarios/{id}/reopen"): rejected,
        ("POST", "/scenarios/{id}/designate-operating-plan"): approved,
        ("POST", "/scenarios/{id}/undesignate-operating-plan"): designated,
    }
    return {"/scenarios/": draft}, op_ids
