"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import *  # noqa: F403

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = []


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    return {}, {}
