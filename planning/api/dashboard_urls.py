"""Dashboard routes (API-DASH-01…05)."""

urlpatterns: list = []
