"""`/api/v1/`: every app's API routes, the schema and the service root (API-01)."""

from django.conf import settings
from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from genxsop.api import schema  # noqa: F401  (registers the authentication schemes with drf-spectacular)
from genxsop.api.authentication import ApiTokenAuthentication, ConsoleSessionAuthentication
from genxsop.api.login_authentication import LoginTokenAuthentication
from genxsop.errors_views import api_not_found


@extend_schema(
    summary="Service metadata",
    responses=inline_serializer(
        "ServiceRoot",
        {
            "app": serializers.CharField(),
            "status": serializers.CharField(),
            "docs": serializers.CharField(),
            "version": serializers.CharField(required=False, help_text="Only for authenticated callers."),
        },
    ),
)
@api_view(["GET"])
@authentication_classes([ApiTokenAuthentication, LoginTokenAuthentication, ConsoleSessionAuthentication])
@permission_classes([AllowAny])  # public; also tells the schema that credentials are optional here
def api_root(request):
    body = {"app": settings.APP_NAME, "status": "running", "docs": "/api/docs/"}
    if request.user and request.user.is_authenticated:
        body["version"] = settings.APP_VERSION
    return Response(body)


app_name = "api"
urlpatterns = [
    path("", api_root, name="root"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("", include("planning.api.urls")),
    path("", include("governance.api.urls")),
    path("", include("forecasting.api.urls")),
    re_path(r"^.*$", api_not_found, name="not-found"),
]
