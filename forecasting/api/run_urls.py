"""Generation, run, result and comparison routes (API-FC-01…03, 11…16, 21, 22, 36).

Fixed segments (`results/export`, `results/by-product/{product_id}`) come before `results/{id}`, and
ids only match digits, so no fixed path is ever read as an id.
"""

from django.urls import re_path

from forecasting.api.run_views import ForecastingActionViewSet as A
from forecasting.api.run_views import ForecastResultViewSet as R
from forecasting.api.run_views import ForecastRunViewSet as Runs

urlpatterns: list = [
    re_path(r"^forecasting/models/?$", A.as_view({"get": "models"}), name="forecast-models"),
    re_path(r"^forecasting/generate/?$", A.as_view({"post": "generate"}), name="forecast-generate"),
    re_path(r"^forecasting/recommendation/?$", A.as_view({"post": "recommendation"}), name="forecast-recommendation"),
    re_path(r"^forecasting/model-comparison/?$", A.as_view({"get": "comparison"}), name="forecast-model-comparison"),
    re_path(r"^forecasting/compare/?$", A.as_view({"post": "compare"}), name="forecast-compare"),
    re_path(r"^forecasting/runs/?$", Runs.as_view({"get": "list"}), name="forecast-run-list"),
    re_path(r"^forecasting/runs/(?P<pk>\d+)/?$", Runs.as_view({"get": "retrieve"}), name="forecast-run-detail"),
    re_path(r"^forecasting/results/?$", R.as_view({"get": "list"}), name="forecast-result-list"),
    re_path(r"^forecasting/results/export/?$", R.as_view({"get": "export"}), name="forecast-result-export"),
    re_path(r"^forecasting/results/by-product/(?P<product_id>\d+)/?$", R.as_view({"delete": "by_product"}),
            name="forecast-result-by-product"),
    re_path(r"^forecasting/results/(?P<pk>\d+)/?$", R.as_view({"get": "retrieve", "delete": "destroy"}),
            name="forecast-result-detail"),
]  # fmt: skip
