"""Role-matrix rows of the audit log (API-GOV-30…32, 35; see tests/platform/matrix/__init__.py)."""

from tests.platform.matrix.roles import ADMIN, NV, OPS

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/audit/logs", OPS, None),  # EXEC_C: admin, executive, sop_coordinator
    ("GET", "/audit/logs/{id}", OPS, None),
    ("GET", "/audit/export", ADMIN, None),
    ("GET", "/audit/chain/verify", ADMIN, None),
    # Whoever can read the entity (a product here: every role but viewer, who gets 404 as for the product).
    ("GET", "/audit/entity/{entity_type}/{entity_id}", NV, None),
]

DENIED_STATUS = {("GET", "/audit/entity/{entity_type}/{entity_id}"): 404}


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    from governance.models import AuditEvent

    event = AuditEvent.objects.filter(target_type="product", target_id=str(product.pk)).first()
    return {"/audit/logs/": event.pk, "{entity_type}": "product", "{entity_id}": product.pk}, {}
