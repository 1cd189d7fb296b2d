"""Inventory API routes (see planning/api/urls.py).

The fixed paths (`/inventory/health`, `/inventory/alerts`, `/inventory/snapshots`,
`/inventory/policies/{id}/override`, the exceptions and the analytics) come before the row routes,
and row ids only match digits, so none of them is ever read as `/inventory/{id}`. Snapshots,
overrides, exceptions and the analytics are routed by hand: a router would also route the list and
detail that ServiceViewSet provides and these do not offer.
"""

from django.urls import re_path

from genxsop.api.routers import OptionalSlashRouter
from planning.api import inventory_analytics_views as av
from planning.api.inventory_views import InventoryPolicyViewSet, InventorySnapshotViewSet, InventoryViewSet

router = OptionalSlashRouter()
router.register("inventory", InventoryViewSet, basename="inventory")

urlpatterns: list = [
    re_path(r"^inventory/snapshots/?$", InventorySnapshotViewSet.as_view({"get": "list"}),
            name="inventory-snapshot-list"),
    re_path(r"^inventory/policies/(?P<pk>\d+)/override/?$", InventoryPolicyViewSet.as_view({"put": "override"}),
            name="inventory-policy-override"),
    re_path(r"^inventory/exceptions/?$", av.PolicyExceptionListView.as_view(), name="inventory-exception-list"),
    re_path(r"^inventory/exceptions/(?P<pk>\d+)/?$", av.PolicyExceptionDetailView.as_view(),
            name="inventory-exception-detail"),
    re_path(r"^inventory/control-tower/escalations/?$", av.EscalationsView.as_view(),
            name="inventory-escalations"),
    re_path(r"^inventory/data-quality/?$", av.DataQualityView.as_view(), name="inventory-data-quality"),
    re_path(r"^inventory/finance/working-capital/?$", av.WorkingCapitalView.as_view(),
            name="inventory-working-capital"),
    re_path(r"^inventory/assessment/scorecard/?$", av.ScorecardView.as_view(), name="inventory-scorecard"),
    re_path(r"^inventory/rebalance/recommendations/?$", av.RebalanceView.as_view(), name="inventory-rebalance"),
    re_path(r"^inventory/analytics/service-level/?$", av.ServiceLevelView.as_view(),
            name="inventory-service-level"),
    *router.urls,
]  # fmt: skip
