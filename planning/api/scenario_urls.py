"""Scenario API routes (API-SCN-01…17)."""

urlpatterns: list = []
