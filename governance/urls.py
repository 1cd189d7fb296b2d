"""Console pages of the governance app: the signed-in user's Settings (UI-19) and the audit log (UI-17)."""

from django.urls import path

from governance import views, views_audit, views_tokens

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
]
