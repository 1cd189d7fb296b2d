"""Console pages for integrations (routes listed in `urlpatterns`, included by planning/urls.py)."""

urlpatterns: list = []
