"""Supply API routes and the demand history (see planning/api/urls.py). Included before the main
router, so these fixed paths win over any `{id}` route that shares their prefix."""

from django.urls import re_path

from genxsop.api.routers import OptionalSlashRouter
from planning.api.supply_views import (
    DemandHistoryExportView,
    DemandHistoryView,
    GapAnalysisView,
    GapCloseView,
    SupplyPlanViewSet,
)

router = OptionalSlashRouter()
router.register("supply/plans", SupplyPlanViewSet, basename="supply-plan")

urlpatterns: list = [
    re_path(r"^supply/gap-analysis/?$", GapAnalysisView.as_view(), name="supply-gap-analysis"),
    re_path(r"^supply/gap-analysis/close/?$", GapCloseView.as_view(), name="supply-gap-close"),
    re_path(r"^demand/history/?$", DemandHistoryView.as_view(), name="demand-history"),
    re_path(r"^demand/history/export/?$", DemandHistoryExportView.as_view(), name="demand-history-export"),
    *router.urls,
]
