"""Dashboard routes (API-DASH-01…05)."""

from django.urls import re_path

from planning.api import dashboard_views as v

urlpatterns: list = [
    re_path(r"^dashboard/summary/?$", v.SummaryView.as_view(), name="dashboard-summary"),
    re_path(r"^dashboard/alerts/?$", v.AlertsView.as_view(), name="dashboard-alerts"),
    re_path(r"^dashboard/sop-status/?$", v.SopStatusView.as_view(), name="dashboard-sop-status"),
    re_path(r"^dashboard/kpi-overview/?$", v.KpiOverviewView.as_view(), name="dashboard-kpi-overview"),
    re_path(r"^dashboard/activity/?$", v.ActivityView.as_view(), name="dashboard-activity"),
]
