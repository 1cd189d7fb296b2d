"""Role-matrix rows of S&OP cycles (API-SOP-01…11; see tests/platform/matrix/__init__.py).

Read: every role but viewer. Create, edit, step edits, advance and cancel: COORD (the step owner
may also start a step and edit its notes: tests/governance/test_cycles_api.py). Skip and complete:
EXEC. The bodies are empty, so allowed callers get past the permission layer to a 400 or 409.
"""

from tests.platform.matrix.roles import COORD, EXEC, NV

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/sop-cycles", NV, None),
    ("POST", "/sop-cycles", COORD, {}),
    ("GET", "/sop-cycles/active", NV, None),
    ("GET", "/sop-cycles/{id}", NV, None),
    ("PUT", "/sop-cycles/{id}", COORD, {}),
    ("PATCH", "/sop-cycles/{id}", COORD, {}),
    ("PATCH", "/sop-cycles/{id}/steps/{n}", COORD, {}),
    ("GET", "/sop-cycles/{id}/gates", NV, None),
    ("POST", "/sop-cycles/{id}/advance", COORD, {}),
    ("POST", "/sop-cycles/{id}/skip-step", EXEC, {}),
    ("POST", "/sop-cycles/{id}/complete", EXEC, {}),
    ("POST", "/sop-cycles/{id}/cancel", COORD, {}),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    from datetime import date

    from governance.services.cycles import cycle_create

    # A cycle of its own, so the other areas' cycle keeps its id; an empty advance body fails no gate
    # that matters here (the allowed roles get 200 or 409), skip and cancel bodies lack the reason (400).
    cycle = cycle_create(actor=admin, data={"period": date(2026, 9, 1)})
    op_ids = {(method, path): cycle.pk for method, path, _, _ in ENDPOINTS if "{id}" in path}
    return {"{n}": 1}, op_ids
