"""Console pages of scenarios (UI-10)."""

from planning.views_scenarios import urlpatterns as _scenario_pages

urlpatterns: list = [*_scenario_pages]
