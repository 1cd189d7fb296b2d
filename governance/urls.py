"""Console pages of the governance app: Settings (UI-19), the audit log (UI-17), notifications (UI-18),
action items and decisions."""

from django.urls import path

from governance import cycle_urls, publish_urls, views, views_audit, views_my_work, views_tokens
from governance import views_collaboration as collab

app_name = "governance"

urlpatterns = [
    path("settings/", views.SettingsIndexView.as_view(), name="settings"),
    path("settings/profile/", views.ProfileSettingsView.as_view(), name="settings_profile"),
    path("settings/security/", views.SecuritySettingsView.as_view(), name="settings_security"),
    path("settings/tokens/", views_tokens.ApiTokenListView.as_view(), name="api_token_list"),
    path("settings/tokens/<int:pk>/revoke/", views_tokens.ApiTokenRevokeView.as_view(), name="api_token_revoke"),
    path("audit/", views_audit.AuditLogListView.as_view(), name="audit_log"),
    path("audit/<int:pk>/", views_audit.AuditEventDetailView.as_view(), name="audit_event_detail"),
    path("audit/verify/", views_audit.AuditChainVerifyView.as_view(), name="audit_chain_verify"),
    path("notifications/", collab.NotificationListView.as_view(), name="notifications"),
    path("notifications/read-all/", collab.NotificationReadAllView.as_view(), name="notifications_read_all"),
    path("notifications/<int:pk>/read/", collab.NotificationReadView.as_view(), name="notification_read"),
    path("my-approvals/", views_my_work.MyApprovalsView.as_view(), name="my_approvals"),
    path("action-items/", collab.ActionItemListView.as_view(), name="action_items"),
    path("action-items/<int:pk>/status/", collab.ActionItemStatusView.as_view(), name="action_item_status"),
    path("decisions/", collab.DecisionListView.as_view(), name="decisions"),
    *cycle_urls.urlpatterns,
    *publish_urls.urlpatterns,
]
