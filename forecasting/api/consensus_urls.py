"""Consensus, promotion and anomaly routes (API-FC-23…35, 37; see forecasting/api/urls.py).

Fixed segments (`consensus/export`, `anomalies/detect`) come before the `{id}` paths, and ids
only match digits.
"""

from django.urls import re_path

from forecasting.api.consensus_views import (
    AnomalyDetectView,
    AnomalyViewSet,
    ConsensusExportView,
    ConsensusViewSet,
    PromoteView,
)

_ID = r"(?P<pk>\d+)"

urlpatterns = [
    re_path(r"^forecasting/promote/?$", PromoteView.as_view(), name="forecasting-promote"),
    re_path(r"^forecasting/anomalies/detect/?$", AnomalyDetectView.as_view(), name="forecasting-anomalies-detect"),
    re_path(r"^forecasting/anomalies/?$", AnomalyViewSet.as_view({"get": "list"}), name="forecasting-anomaly-list"),
    re_path(rf"^forecasting/anomalies/{_ID}/?$", AnomalyViewSet.as_view({"patch": "partial_update"}),
            name="forecasting-anomaly-detail"),
    re_path(r"^forecasting/consensus/export/?$", ConsensusExportView.as_view(), name="forecasting-consensus-export"),
    re_path(r"^forecasting/consensus/?$", ConsensusViewSet.as_view({"get": "list", "post": "create"}),
            name="forecasting-consensus-list"),
    re_path(rf"^forecasting/consensus/{_ID}/?$",
            ConsensusViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
            name="forecasting-consensus-detail"),
    re_path(rf"^forecasting/consensus/{_ID}/versions/?$", ConsensusViewSet.as_view({"get": "versions"}),
            name="forecasting-consensus-versions"),
    re_path(rf"^forecasting/consensus/{_ID}/propose/?$", ConsensusViewSet.as_view({"post": "propose"}),
            name="forecasting-consensus-propose"),
    re_path(rf"^forecasting/consensus/{_ID}/return/?$", ConsensusViewSet.as_view({"post": "return_"}),
            name="forecasting-consensus-return"),
    re_path(rf"^forecasting/consensus/{_ID}/approve/?$", ConsensusViewSet.as_view({"post": "approve"}),
            name="forecasting-consensus-approve"),
]  # fmt: skip
