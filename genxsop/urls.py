from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerSplitView

from genxsop import health, metrics, views
from genxsop.api_urls import api_root
from genxsop.errors_views import api_not_found

handler400 = "genxsop.errors_views.bad_request"
handler403 = "genxsop.errors_views.permission_denied"
handler404 = "genxsop.errors_views.page_not_found"
handler500 = "genxsop.errors_views.server_error"

urlpatterns = [
    re_path(r"^health/?$", health.health, name="health"),
    re_path(r"^ready/?$", health.ready, name="ready"),
    re_path(r"^metrics/?$", metrics.metrics_view, name="metrics"),
    re_path(r"^csp-report/?$", views.csp_report, name="csp-report"),
    path("api/v1/", include("genxsop.api_urls")),
    re_path(r"^api/v1$", api_root),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="api-docs"),
    re_path(r"^(docs|redoc)/?$", RedirectView.as_view(url="/api/docs/", permanent=False)),
    re_path(r"^api/.*$", api_not_found),
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("oidc/", include("mozilla_django_oidc.urls")),  # SSO (ACC-27); 404 while OIDC_ENABLED is false
    path("", include("genxsop.console_urls")),
]
if settings.BENCH_FLOOR_VIEW:
    # Before the console's catch-all routes; see genxsop/bench_floor.py.
    from genxsop.bench_floor import floor

    urlpatterns.insert(0, re_path(r"^bench/floor/?$", floor, name="bench-floor"))
