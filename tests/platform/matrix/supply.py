"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from datetime import date

from planning import services
from tests.platform.matrix.roles import APPR, DEM_W, NV, SUP_W

# Bulk bodies name an id no one can see: the call reaches the service, which reports it per id.
_BULK = {"ids": [999999]}

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/supply/plans", NV, None),
    ("POST", "/supply/plans", SUP_W, {}),
    ("GET", "/supply/plans/{id}", NV, None),
    ("PUT", "/supply/plans/{id}", SUP_W, {}),
    ("PATCH", "/supply/plans/{id}", SUP_W, {}),
    ("DELETE", "/supply/plans/{id}", SUP_W, None),  # a submitted plan: 409 for every allowed role
    ("GET", "/supply/plans/{id}/versions", NV, None),
    ("POST", "/supply/plans/{id}/actual", SUP_W, {}),
    ("POST", "/supply/plans/{id}/submit", SUP_W, {}),
    ("POST", "/supply/plans/{id}/withdraw", SUP_W, {}),
    ("POST", "/supply/plans/{id}/approve", APPR, {}),
    ("POST", "/supply/plans/{id}/reject", APPR, {}),
    ("POST", "/supply/plans/{id}/reopen", APPR, {}),
    ("POST", "/supply/plans/{id}/unlock", APPR, {}),  # no justification: 400 for every allowed role
    ("POST", "/supply/plans/bulk/{bulk_action}", SUP_W, _BULK),  # {bulk_action} = submit
    ("POST", "/demand/plans/bulk/{bulk_action}", DEM_W, _BULK),
    ("GET", "/supply/gap-analysis", NV, None),
    ("POST", "/supply/gap-analysis/close", SUP_W, {}),
    ("GET", "/demand/history", NV, None),  # no product_id: 400 for every allowed role
    ("GET", "/demand/history/export", NV, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    draft = services.supply_plan_create(actor=admin, product=product, location=location,
                                        data={"period": date(2026, 3, 1), "planned_prod_qty": 10})  # fmt: skip
    submitted = services.supply_plan_create(actor=admin, product=product, location=location,
                                            data={"period": date(2026, 4, 1), "planned_prod_qty": 10})  # fmt: skip
    services.supply_plan_submit(actor=admin, plan=submitted)
    ids = {"/supply/plans/": draft.pk, "{bulk_action}": "submit"}
    return ids, {("DELETE", "/supply/plans/{id}"): submitted.pk}
