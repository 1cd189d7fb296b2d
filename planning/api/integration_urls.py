"""Integration API routes (see planning/api/urls.py)."""

urlpatterns: list = []
