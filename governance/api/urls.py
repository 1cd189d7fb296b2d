"""Auth routes; every path answers with and without a trailing slash, never redirecting (API-02)."""

from django.urls import re_path

from genxsop.api.routers import OptionalSlashRouter
from governance.api import audit_views, auth_views
from governance.api.comment_views import CommentListView
from governance.api.sso_views import SsoRoleMappingView
from governance.api.user_views import UserViewSet
from governance.api.views import ApiTokenViewSet, MeView

app_name = "governance-api"

router = OptionalSlashRouter()
router.register("auth/tokens", ApiTokenViewSet, basename="api-token")
router.register("auth/users", UserViewSet, basename="user")

urlpatterns = [
    re_path(r"^auth/me/?$", MeView.as_view(), name="me"),
    re_path(r"^auth/login/?$", auth_views.LoginView.as_view(), name="login"),
    re_path(r"^auth/refresh/?$", auth_views.RefreshView.as_view(), name="refresh"),
    re_path(r"^auth/logout/?$", auth_views.LogoutView.as_view(), name="logout"),
    re_path(r"^auth/change-password/?$", auth_views.ChangePasswordView.as_view(), name="change-password"),
    re_path(r"^auth/register/?$", auth_views.RegisterView.as_view(), name="register"),
    re_path(r"^auth/providers/?$", auth_views.ProvidersView.as_view(), name="providers"),
    re_path(r"^auth/sso/role-mappings/?$", SsoRoleMappingView.as_view(), name="sso-role-mappings"),
    re_path(r"^comments/?$", CommentListView.as_view(), name="comments"),
    re_path(r"^audit/logs/?$", audit_views.AuditLogListView.as_view(), name="audit-log-list"),
    re_path(r"^audit/logs/(?P<pk>[0-9]+)/?$", audit_views.AuditLogDetailView.as_view(), name="audit-log-detail"),
    re_path(r"^audit/export/?$", audit_views.AuditExportView.as_view(), name="audit-export"),
    re_path(
        r"^audit/entity/(?P<entity_type>[a-z_]+)/(?P<entity_id>[^/]+)/?$",
        audit_views.AuditEntityView.as_view(),
        name="audit-entity",
    ),
    re_path(r"^audit/chain/verify/?$", audit_views.AuditChainVerifyView.as_view(), name="audit-chain-verify"),
    *router.urls,
]
