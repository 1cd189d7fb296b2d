"""Console pages of publishing (UI-12)."""

urlpatterns: list = []
