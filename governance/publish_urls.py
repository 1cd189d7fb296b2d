"""Console pages of publishing (UI-12)."""

from django.urls import path

from governance import views_publish as v

urlpatterns: list = [
    path("publish/", v.PublishPageView.as_view(), name="publish"),
    path("publish/check/", v.PublishCheckView.as_view(), name="publish_check"),
    path("publish/publish/", v.PublishCreateView.as_view(), name="publish_create"),
    path("publish/<int:pk>/", v.PublicationDetailView.as_view(), name="publication_detail"),
    path("publish/<int:pk>/rollback/", v.PublicationRollbackView.as_view(), name="publication_rollback"),
    path("publish/<int:pk>/download/", v.PublicationDownloadView.as_view(), name="publication_download"),
    path("publish/<int:pk>/comments/", v.PublicationCommentView.as_view(), name="publication_comment"),
]
