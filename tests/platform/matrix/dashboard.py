"""Role-matrix rows of the dashboard area (see tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import ALL

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/dashboard/summary", ALL, None),
    ("GET", "/dashboard/alerts", ALL, None),
    ("GET", "/dashboard/sop-status", ALL, None),
    ("GET", "/dashboard/kpi-overview", ALL, None),
    ("GET", "/dashboard/activity", ALL, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    return {}, {}
