"""Production scheduling routes (API-PS-01…05)."""

from django.urls import re_path

from planning.api import production_views as views

urlpatterns: list = [
    re_path(r"^production-scheduling/schedules/?$", views.ScheduleListView.as_view(),
            name="production-schedule-list"),
    re_path(r"^production-scheduling/generate/?$", views.GenerateView.as_view(), name="production-schedule-generate"),
    re_path(r"^production-scheduling/schedules/(?P<pk>\d+)/status/?$", views.ScheduleStatusView.as_view(),
            name="production-schedule-status"),
    re_path(r"^production-scheduling/schedules/(?P<pk>\d+)/resequence/?$", views.ScheduleResequenceView.as_view(),
            name="production-schedule-resequence"),
    re_path(r"^production-scheduling/capacity-summary/?$", views.CapacitySummaryView.as_view(),
            name="production-capacity-summary"),
]  # fmt: skip
