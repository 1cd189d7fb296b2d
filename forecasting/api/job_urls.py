"""Forecast job routes (API-FC-04…10). `jobs/metrics` and `jobs/cleanup` come before `jobs/{job_id}`."""

from django.urls import re_path

from forecasting.api.job_views import ForecastJobViewSet as V

_JOB = r"(?P<job_id>[0-9A-Za-z-]{1,64})"

urlpatterns: list = [
    re_path(r"^forecasting/generate-job/?$", V.as_view({"post": "generate_job"}), name="forecast-generate-job"),
    re_path(r"^forecasting/jobs/?$", V.as_view({"get": "list"}), name="forecast-job-list"),
    re_path(r"^forecasting/jobs/metrics/?$", V.as_view({"get": "metrics"}), name="forecast-job-metrics"),
    re_path(r"^forecasting/jobs/cleanup/?$", V.as_view({"post": "cleanup"}), name="forecast-job-cleanup"),
    re_path(rf"^forecasting/jobs/{_JOB}/?$", V.as_view({"get": "retrieve"}), name="forecast-job-detail"),
    re_path(rf"^forecasting/jobs/{_JOB}/cancel/?$", V.as_view({"post": "cancel"}), name="forecast-job-cancel"),
    re_path(rf"^forecasting/jobs/{_JOB}/retry/?$", V.as_view({"post": "retry"}), name="forecast-job-retry"),
]
