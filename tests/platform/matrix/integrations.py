"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from datetime import date

from tests.platform.matrix.roles import INTEG

_SYNC = {"meta": {"source_system": "matrix", "dry_run": True}, "items": [{"sku": "MX-1", "name": "Matrix product"}]}

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("POST", "/integrations/erp/products/sync", INTEG, _SYNC),
    ("POST", "/integrations/erp/inventory/sync", INTEG, {}),  # an invalid envelope: 400 past the gate
    ("POST", "/integrations/erp/demand-actuals/sync", INTEG, {}),
    ("POST", "/integrations/erp/supply-actuals/sync", INTEG, {}),
    ("POST", "/integrations/erp/publish/demand-plan/{id}", INTEG, None),  # approved, unpublished: 409
    ("POST", "/integrations/erp/publish/supply-plan/{id}", INTEG, None),  # a draft: 409 NOT_PUBLISHED
    ("GET", "/integrations/erp/outbox", INTEG, None),
    ("POST", "/integrations/erp/outbox/{message_id}/ack", INTEG, {}),
    ("POST", "/integrations/erp/outbox/{message_id}/retry", INTEG, None),  # pending: 409
    ("GET", "/integrations/batches", INTEG, None),
    ("GET", "/integrations/batches/{batch_uuid}", INTEG, None),  # others: 403 unless their own file import
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    from governance.choices import Role
    from governance.services import user_create
    from planning import services
    from planning.integrations.batch import run_batch
    from planning.models import OutboundMessage

    demand = services.demand_plan_create(actor=admin, product=product, data={"period": date(2026, 6, 1),
                                                                             "forecast_qty": 5})  # fmt: skip
    services.demand_plan_submit(actor=admin, plan=demand)
    approver = user_create(actor=admin, email="matrix-approver@matrix.test", full_name="Approver", role=Role.EXECUTIVE)
    demand = services.demand_plan_approve(actor=approver, plan=demand)
    supply = services.supply_plan_create(actor=admin, product=product, location=location,
                                         data={"period": date(2026, 6, 1), "planned_prod_qty": 5})  # fmt: skip
    # Not published through the gate, so the publish endpoint answers 409 NOT_PUBLISHED past the role check;
    # the outbox rows need a message, written directly (publishing has its own tests).
    message = OutboundMessage.objects.create(payload={"version_stamp": "W-202606-v1", "items": []},
                                             payload_sha256="0" * 64, created_by=admin)  # fmt: skip
    batch, _, _ = run_batch(actor=admin, operation="products_sync", channel="api", items=_SYNC["items"],
                            meta=_SYNC["meta"])  # fmt: skip
    ids = {
        "/integrations/erp/publish/demand-plan/": demand.pk,
        "/integrations/erp/publish/supply-plan/": supply.pk,
        "{message_id}": message.message_id,
        "{batch_uuid}": batch.batch_uuid,
    }
    return ids, {}
