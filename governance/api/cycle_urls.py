"""S&OP cycle API routes (API-SOP-01…11)."""

urlpatterns: list = []
