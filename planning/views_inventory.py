"""Console pages for inventory (routes listed in `urlpatterns`, included by planning/urls.py)."""

urlpatterns: list = []
