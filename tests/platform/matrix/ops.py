"""Role-matrix rows of the operations API (API-OPS-04; see tests/platform/matrix/__init__.py). `/metrics`
is outside /api/v1 and has its own tests (tests/platform/test_metrics.py)."""

from tests.platform.matrix.roles import EXEC_C

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/ops/slo", EXEC_C, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    return {}, {}
