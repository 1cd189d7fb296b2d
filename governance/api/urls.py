"""Auth routes; every path answers with and without a trailing slash, never redirecting (API-02)."""

from django.urls import re_path

from genxsop.api.routers import OptionalSlashRouter
from governance.api import audit_views, auth_views, cycle_urls, publication_urls, readiness_urls, scorecard_urls
from governance.api import collaboration_views as cv
from governance.api.comment_views import CommentDetailView, CommentListView
from governance.api.evidence_views import EvidencePackView
from governance.api.ops_views import SloReportView
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
    re_path(r"^comments/(?P<pk>[0-9]+)/?$", CommentDetailView.as_view(), name="comment-detail"),
    re_path(r"^decisions/?$", cv.DecisionListView.as_view(), name="decision-list"),
    re_path(r"^decisions/(?P<pk>[0-9]+)/?$", cv.DecisionDetailView.as_view(), name="decision-detail"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/decisions/?$", cv.CycleDecisionsView.as_view(), name="cycle-decisions"),
    re_path(r"^action-items/?$", cv.ActionItemListView.as_view(), name="action-item-list"),
    re_path(r"^action-items/(?P<pk>[0-9]+)/?$", cv.ActionItemDetailView.as_view(), name="action-item-detail"),
    re_path(
        r"^sop-cycles/(?P<pk>[0-9]+)/action-items/?$", cv.CycleActionItemsView.as_view(), name="cycle-action-items"
    ),
    re_path(r"^notifications/?$", cv.NotificationListView.as_view(), name="notification-list"),
    re_path(r"^notifications/unread-count/?$", cv.NotificationUnreadCountView.as_view(), name="notification-unread"),
    re_path(r"^notifications/read-all/?$", cv.NotificationReadAllView.as_view(), name="notification-read-all"),
    re_path(r"^notifications/(?P<pk>[0-9]+)/read/?$", cv.NotificationReadView.as_view(), name="notification-read"),
    re_path(r"^audit/logs/?$", audit_views.AuditLogListView.as_view(), name="audit-log-list"),
    re_path(r"^audit/logs/(?P<pk>[0-9]+)/?$", audit_views.AuditLogDetailView.as_view(), name="audit-log-detail"),
    re_path(r"^audit/export/?$", audit_views.AuditExportView.as_view(), name="audit-export"),
    re_path(
        r"^audit/entity/(?P<entity_type>[a-z_]+)/(?P<entity_id>[^/]+)/?$",
        audit_views.AuditEntityView.as_view(),
        name="audit-entity",
    ),
    re_path(r"^audit/chain/verify/?$", audit_views.AuditChainVerifyView.as_view(), name="audit-chain-verify"),
    re_path(r"^governance/evidence-pack/?$", EvidencePackView.as_view(), name="evidence-pack"),
    re_path(r"^ops/slo/?$", SloReportView.as_view(), name="ops-slo"),
    *scorecard_urls.urlpatterns,
    *cycle_urls.urlpatterns,
    *readiness_urls.urlpatterns,
    *publication_urls.urlpatterns,
    *router.urls,
]
