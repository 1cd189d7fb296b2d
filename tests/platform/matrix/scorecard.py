"""Role-matrix rows of the scorecard area (see tests/platform/matrix/__init__.py)."""

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = []


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    return {}, {}
