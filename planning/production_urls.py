"""Console routes of Production Scheduling (UI-06)."""

urlpatterns: list = []
