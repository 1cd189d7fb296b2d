"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from planning import services
from tests.platform.matrix.roles import *  # noqa: F403
from tests.platform.matrix.roles import INV_R, INV_W

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/inventory", INV_R, None),
    ("GET", "/inventory/health", INV_R, None),
    ("GET", "/inventory/alerts", INV_R, None),
    ("GET", "/inventory/snapshots", INV_R, None),
    ("GET", "/inventory/{id}", INV_R, None),
    ("PUT", "/inventory/{id}", INV_W, {}),  # an empty body changes nothing: 200
    ("PATCH", "/inventory/{id}", INV_W, {}),
    ("PUT", "/inventory/policies/{id}/override", INV_W, {}),  # no reason: 400 for every allowed role
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    row = services.inventory_create(actor=admin, product=product, location=location, data={"on_hand_qty": 10})
    return {"/inventory/": row.pk, "/inventory/policies/": row.pk}, {}
