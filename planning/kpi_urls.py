"""Console routes of the KPI Dashboard (UI-13)."""

from django.urls import path

from planning import views_kpi as v

urlpatterns: list = [
    path("kpi/", v.KpiDashboardView.as_view(), name="kpi_dashboard"),
    path("kpi/record/", v.KpiRecordView.as_view(), name="kpi_record"),
    path("kpi/refresh/", v.KpiRefreshView.as_view(), name="kpi_refresh"),
    path("kpi/values/<int:pk>/delete/", v.KpiMetricDeleteView.as_view(), name="kpi_metric_delete"),
    path("kpi/<slug:code>/", v.KpiDetailView.as_view(), name="kpi_detail"),
    path("kpi/<slug:code>/definition/", v.KpiDefinitionEditView.as_view(), name="kpi_definition_edit"),
]
