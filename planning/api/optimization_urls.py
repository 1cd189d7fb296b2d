"""Inventory optimisation runs, policy recommendations and the control-tower summary (API-INV-05…07, 10…14, 16).

Included before the inventory routes, so `/inventory/optimization/...` and `/inventory/recommendations/...` are
never read as an inventory row."""

from django.urls import re_path

from planning.api import optimization_views as ov

urlpatterns: list = [
    re_path(r"^inventory/optimization/runs/?$", ov.PolicyRunListView.as_view(), name="inventory-policy-runs"),
    re_path(r"^inventory/optimization/runs/(?P<run_id>[0-9A-Za-z-]+)/?$", ov.PolicyRunDetailView.as_view(),
            name="inventory-policy-run-detail"),
    re_path(r"^inventory/recommendations/?$", ov.RecommendationListView.as_view(),
            name="inventory-recommendations"),
    re_path(r"^inventory/recommendations/generate/?$", ov.RecommendationGenerateView.as_view(),
            name="inventory-recommendations-generate"),
    re_path(r"^inventory/recommendations/auto-apply/?$", ov.RecommendationAutoApplyView.as_view(),
            name="inventory-recommendations-auto-apply"),
    re_path(r"^inventory/recommendations/(?P<pk>\d+)/decision/?$", ov.RecommendationDecisionView.as_view(),
            name="inventory-recommendation-decision"),
    re_path(r"^inventory/recommendations/(?P<pk>\d+)/approve/?$", ov.RecommendationApproveView.as_view(),
            name="inventory-recommendation-approve"),
    re_path(r"^inventory/control-tower/summary/?$", ov.ControlTowerSummaryView.as_view(),
            name="inventory-control-tower-summary"),
]  # fmt: skip
