"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from planning import services
from planning.services.exceptions import policy_exception_create
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
    ("GET", "/inventory/exceptions", INV_R, None),
    ("PATCH", "/inventory/exceptions/{id}", INV_W, {}),  # readers who do not own it: 403 from the service
    ("GET", "/inventory/control-tower/escalations", INV_R, None),
    ("GET", "/inventory/data-quality", INV_R, None),
    ("GET", "/inventory/finance/working-capital", INV_R, None),
    ("GET", "/inventory/assessment/scorecard", INV_R, None),
    ("GET", "/inventory/rebalance/recommendations", INV_R, None),
    ("POST", "/inventory/analytics/service-level", INV_R, {}),  # no row named: 400 for every allowed role
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    row = services.inventory_create(actor=admin, product=product, location=location, data={"on_hand_qty": 10})
    exception = policy_exception_create(actor=admin, inventory=row, exception_type="excess_risk",
                                        recommended_action="Reduce stock")  # fmt: skip
    return {"/inventory/": row.pk, "/inventory/policies/": row.pk, "/inventory/exceptions/": exception.pk}, {}
