"""KPI routes (API-KPI-01…14)."""

urlpatterns: list = []
