"""KPI routes (API-KPI-01…14). The fixed paths come before the id route, whose ids match digits only."""

from django.urls import re_path

from planning.api import kpi_views as v

urlpatterns: list = [
    re_path(r"^kpi/metrics/?$", v.KpiMetricListView.as_view(), name="kpi-metric-list"),
    re_path(r"^kpi/metrics/(?P<metric_id>\d+)/?$", v.KpiMetricDetailView.as_view(), name="kpi-metric-detail"),
    re_path(r"^kpi/dashboard/?$", v.KpiDashboardView.as_view(), name="kpi-dashboard"),
    re_path(r"^kpi/alerts/?$", v.KpiAlertsView.as_view(), name="kpi-alerts"),
    re_path(r"^kpi/targets/?$", v.KpiTargetsView.as_view(), name="kpi-targets"),
    re_path(r"^kpi/summary/?$", v.KpiSummaryView.as_view(), name="kpi-summary"),
    re_path(r"^kpi/trends/?$", v.KpiTrendsView.as_view(), name="kpi-trends"),
    re_path(r"^kpi/definitions/?$", v.KpiDefinitionListView.as_view(), name="kpi-definition-list"),
    re_path(r"^kpi/definitions/(?P<code>[-a-zA-Z0-9_]+)/?$", v.KpiDefinitionDetailView.as_view(),
            name="kpi-definition-detail"),
    re_path(r"^kpi/refresh/?$", v.KpiRefreshView.as_view(), name="kpi-refresh"),
    re_path(r"^kpi/export/?$", v.KpiExportView.as_view(), name="kpi-export"),
]  # fmt: skip
