"""Role-matrix rows of the compliance evidence pack (OPS-64; see tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import ADMIN

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/governance/evidence-pack", ADMIN, None),  # an admin without from/to gets 400, past the gate
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    return {}, {}
