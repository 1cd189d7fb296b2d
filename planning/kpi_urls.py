"""Console routes of the KPI Dashboard (UI-13)."""

urlpatterns: list = []
