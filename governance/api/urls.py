"""Auth routes; every path answers with and without a trailing slash, never redirecting (API-02)."""

from django.urls import re_path

from genxsop.api.routers import OptionalSlashRouter
from governance.api.views import ApiTokenViewSet, MeView

app_name = "governance-api"

router = OptionalSlashRouter()
router.register("auth/tokens", ApiTokenViewSet, basename="api-token")

urlpatterns = [
    re_path(r"^auth/me/?$", MeView.as_view(), name="me"),
    *router.urls,
]
