"""Publish readiness and publish policy API routes (API-GOV-10, 11, 17, 18)."""

urlpatterns: list = []
