"""The S&OP console (server-rendered pages)."""

from django.urls import include, path

from genxsop import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("", include("planning.urls")),
    path("", include("forecasting.urls")),
    path("", include("governance.administration_urls")),
    path("", include("governance.urls")),
]
