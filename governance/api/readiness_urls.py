"""Publish readiness and publish policy API routes (API-GOV-10, 11, 17, 18)."""

from django.urls import re_path

from governance.api import readiness_views as views

urlpatterns: list = [
    re_path(r"^governance/publish/readiness/?$", views.ReadinessView.as_view(), name="publish-readiness"),
    re_path(
        r"^governance/publish/readiness/(?P<evaluation_id>[0-9a-fA-F-]{32,36})/?$",
        views.ReadinessDetailView.as_view(),
        name="publish-readiness-detail",
    ),
    re_path(r"^governance/publish-policies/?$", views.PublishPolicyListView.as_view(), name="publish-policy-list"),
    re_path(
        r"^governance/publish-policies/(?P<lane>[a-z]+)/?$",
        views.PublishPolicyDetailView.as_view(),
        name="publish-policy-detail",
    ),
]
