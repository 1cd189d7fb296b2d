"""Executive scorecard and meeting pack routes of a cycle (API-SOP-12, API-SOP-17)."""

urlpatterns: list = []
