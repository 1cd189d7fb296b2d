"""Routes of this forecasting area (see forecasting/api/urls.py)."""

urlpatterns = []
