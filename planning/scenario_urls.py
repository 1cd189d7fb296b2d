"""Console pages of scenarios (UI-10)."""

urlpatterns: list = []
