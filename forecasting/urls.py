"""Forecasting console pages under /forecasting/."""

urlpatterns = []
