"""Planning routes; every path answers with and without a trailing slash, never redirecting (API-02)."""

from genxsop.api.routers import OptionalSlashRouter
from planning.api.demand_views import DemandPlanViewSet
from planning.api.views import CategoryViewSet, LocationViewSet, ProductViewSet

app_name = "planning-api"

router = OptionalSlashRouter()
router.register("products/categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("locations", LocationViewSet, basename="location")
router.register("demand/plans", DemandPlanViewSet, basename="demand-plan")

urlpatterns = router.urls
