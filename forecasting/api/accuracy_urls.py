"""Accuracy routes (API-FC-17…20, see forecasting/api/urls.py); fixed sub-paths before the report."""

from django.urls import re_path

from forecasting.api.accuracy_views import AccuracyReportView, AccuracyTrendView, DriftAlertsView, FvaReportView

urlpatterns = [
    re_path(r"^forecasting/accuracy/trend/?$", AccuracyTrendView.as_view(), name="forecasting-accuracy-trend"),
    re_path(r"^forecasting/accuracy/fva/?$", FvaReportView.as_view(), name="forecasting-accuracy-fva"),
    re_path(r"^forecasting/accuracy/drift-alerts/?$", DriftAlertsView.as_view(), name="forecasting-accuracy-drift"),
    re_path(r"^forecasting/accuracy/?$", AccuracyReportView.as_view(), name="forecasting-accuracy"),
]
