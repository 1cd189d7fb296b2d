"""Console routes of Production Scheduling (UI-06)."""

from django.urls import path

from planning import views_production as views

urlpatterns: list = [
    path("production-scheduling/", views.ProductionScheduleView.as_view(), name="production_schedule"),
    path("production-scheduling/generate/", views.ProductionScheduleGenerateView.as_view(),
         name="production_schedule_generate"),
    path("production-scheduling/slots/<int:pk>/status/", views.SlotActionView.as_view(action="status"),
         name="production_schedule_status"),
    path("production-scheduling/slots/<int:pk>/move/", views.SlotActionView.as_view(action="move"),
         name="production_schedule_move"),
]  # fmt: skip
