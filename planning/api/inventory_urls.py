"""Inventory API routes (see planning/api/urls.py).

The fixed paths (`/inventory/health`, `/inventory/alerts`, `/inventory/snapshots`,
`/inventory/policies/{id}/override`) come before the row routes, and row ids only match digits,
so none of them is ever read as `/inventory/{id}`. Snapshots and overrides are routed by hand:
a router would also route the list and detail that ServiceViewSet provides and these do not offer.
"""

from django.urls import re_path

from genxsop.api.routers import OptionalSlashRouter
from planning.api.inventory_views import InventoryPolicyViewSet, InventorySnapshotViewSet, InventoryViewSet

router = OptionalSlashRouter()
router.register("inventory", InventoryViewSet, basename="inventory")

urlpatterns: list = [
    re_path(r"^inventory/snapshots/?$", InventorySnapshotViewSet.as_view({"get": "list"}),
            name="inventory-snapshot-list"),
    re_path(r"^inventory/policies/(?P<pk>\d+)/override/?$", InventoryPolicyViewSet.as_view({"put": "override"}),
            name="inventory-policy-override"),
    *router.urls,
]  # fmt: skip
