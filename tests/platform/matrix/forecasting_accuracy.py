"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import NV

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/forecasting/accuracy", NV, None),
    ("GET", "/forecasting/accuracy/trend", NV, None),
    ("GET", "/forecasting/accuracy/fva", NV, None),
    ("GET", "/forecasting/accuracy/drift-alerts", NV, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    return {}, {}
