"""Scenario API routes (API-SCN-01…17). The compare paths come first: they share the `/scenarios/` prefix
with the detail routes."""

from django.urls import re_path

from genxsop.api.routers import OptionalSlashRouter
from planning.api.scenario_views import ScenarioCompareExportView, ScenarioCompareView, ScenarioViewSet

router = OptionalSlashRouter()
router.register("scenarios", ScenarioViewSet, basename="scenario")

urlpatterns: list = [
    re_path(r"^scenarios/compare/?$", ScenarioCompareView.as_view(), name="scenario-compare"),
    re_path(r"^scenarios/compare/export/?$", ScenarioCompareExportView.as_view(), name="scenario-compare-export"),
    *router.urls,
]
