"""Forecasting console pages under /forecasting/ (UI-09, UI-21 job monitor)."""

from django.urls import path

from forecasting import views, views_accuracy, views_actions, views_jobs

app_name = "forecasting"
urlpatterns = [
    path("forecasting/", views.WorkbenchView.as_view(), name="workbench"),
    path("forecasting/generate/", views_actions.GenerateView.as_view(), name="generate"),
    path("forecasting/anomalies/detect/", views_actions.DetectAnomaliesView.as_view(), name="anomalies_detect"),
    path("forecasting/runs/<int:pk>/promote/", views_actions.PromoteView.as_view(), name="promote"),
    path("forecasting/runs/<int:pk>/discard/", views_actions.DiscardRunView.as_view(), name="run_discard"),
    path(
        "forecasting/results/by-product/<int:product_id>/delete/",
        views_actions.DeleteProductResultsView.as_view(),
        name="results_delete_product",
    ),
    path("forecasting/consensus/new/", views_actions.ConsensusFormView.as_view(), name="consensus_create"),
    path("forecasting/consensus/<int:pk>/edit/", views_actions.ConsensusFormView.as_view(), name="consensus_edit"),
    *[
        path(
            f"forecasting/consensus/<int:pk>/{action}/",
            views_actions.ConsensusActionView.as_view(action=action),
            name=f"consensus_{action}",
        )
        for action in ("propose", "approve", "return", "delete")
    ],
    path("forecasting/accuracy/", views_accuracy.AccuracyView.as_view(), name="accuracy"),
    path("forecasting/anomalies/", views_accuracy.AnomalyListView.as_view(), name="anomalies"),
    *[
        path(
            f"forecasting/anomalies/<int:pk>/{action}/",
            views_accuracy.AnomalyTriageView.as_view(action=action),
            name=f"anomaly_{action}",
        )
        for action in ("acknowledge", "correct", "dismiss", "reopen")
    ],
    path("forecasting/jobs/", views_jobs.JobListView.as_view(), name="jobs"),
    path("forecasting/jobs/cleanup/", views_jobs.JobCleanupView.as_view(), name="jobs_cleanup"),
    path("forecasting/jobs/<str:job_id>/cancel/", views_jobs.JobActionView.as_view(action="cancel"), name="job_cancel"),
    path("forecasting/jobs/<str:job_id>/retry/", views_jobs.JobActionView.as_view(action="retry"), name="job_retry"),
]
