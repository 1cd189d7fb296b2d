"""Role-matrix rows of the executive scorecard and the meeting pack (API-SOP-12, API-SOP-17; see
tests/platform/matrix/__init__.py). Both are reads for EXEC_C (admin, executive, sop_coordinator)."""

from tests.platform.matrix.roles import EXEC_C

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/sop-cycles/{id}/executive-scorecard", EXEC_C, None),
    ("GET", "/sop-cycles/{id}/meeting-pack", EXEC_C, None),  # no format: the default xlsx, 200
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    from datetime import date

    from governance.services.cycles import cycle_create

    # A cycle of its own (the other areas' cycles keep their ids and periods).
    cycle = cycle_create(actor=admin, data={"period": date(2026, 10, 1)})
    return {}, {(method, path): cycle.pk for method, path, _, _ in ENDPOINTS}
