"""Console pages for supply (routes listed in `urlpatterns`, included by planning/urls.py)."""

urlpatterns: list = []
