"""Production scheduling routes (API-PS-01…05)."""

urlpatterns: list = []
