"""Publication API routes (API-GOV-12…16, 19)."""

from django.urls import re_path

from governance.api import publication_views as v

urlpatterns: list = [
    re_path(r"^governance/publications/?$", v.PublicationListView.as_view(), name="publication-list"),
    re_path(r"^governance/publications/(?P<pk>[0-9]+)/?$", v.PublicationDetailView.as_view(),
            name="publication-detail"),
    re_path(r"^governance/publications/(?P<pk>[0-9]+)/diff/?$", v.PublicationDiffView.as_view(),
            name="publication-diff"),
    re_path(r"^governance/publications/(?P<pk>[0-9]+)/rollback/?$", v.PublicationRollbackView.as_view(),
            name="publication-rollback"),
    re_path(r"^governance/publications/(?P<pk>[0-9]+)/export/?$", v.PublicationExportView.as_view(),
            name="publication-export"),
]  # fmt: skip
