"""Planning routes; every path answers with and without a trailing slash, never redirecting (API-02).

Each area keeps its routes in its own module; the order below matters where a fixed path segment
(`/inventory/health`) and a detail path (`/inventory/{id}`) share a prefix.
"""

from genxsop.api.routers import OptionalSlashRouter
from planning.api import (
    dashboard_urls,
    integration_urls,
    inventory_urls,
    io_urls,
    kpi_urls,
    optimization_urls,
    production_urls,
    scenario_urls,
    supply_urls,
)
from planning.api.demand_views import DemandPlanViewSet
from planning.api.views import CategoryViewSet, LocationViewSet, ProductViewSet

app_name = "planning-api"

router = OptionalSlashRouter()
router.register("products/categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("locations", LocationViewSet, basename="location")
router.register("demand/plans", DemandPlanViewSet, basename="demand-plan")

urlpatterns = [
    *io_urls.urlpatterns,
    *supply_urls.urlpatterns,
    *optimization_urls.urlpatterns,
    *inventory_urls.urlpatterns,
    *kpi_urls.urlpatterns,
    *production_urls.urlpatterns,
    *dashboard_urls.urlpatterns,
    *integration_urls.urlpatterns,
    *scenario_urls.urlpatterns,
    *router.urls,
]
