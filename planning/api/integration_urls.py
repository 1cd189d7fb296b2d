"""Integration API routes (see planning/api/urls.py); every path answers with and without a trailing slash."""

from django.urls import re_path

from planning.api import integration_views as v

_UUID = r"[0-9a-fA-F-]{32,36}"

urlpatterns: list = [
    re_path(r"^integrations/erp/products/sync/?$", v.ProductsSyncView.as_view(), name="integration-products-sync"),
    re_path(r"^integrations/erp/inventory/sync/?$", v.InventorySyncView.as_view(), name="integration-inventory-sync"),
    re_path(r"^integrations/erp/demand-actuals/sync/?$", v.DemandActualsSyncView.as_view(),
            name="integration-demand-actuals-sync"),
    re_path(r"^integrations/erp/supply-actuals/sync/?$", v.SupplyActualsSyncView.as_view(),
            name="integration-supply-actuals-sync"),
    re_path(r"^integrations/erp/publish/demand-plan/(?P<pk>\d+)/?$", v.PublishDemandPlanView.as_view(),
            name="integration-publish-demand-plan"),
    re_path(r"^integrations/erp/publish/supply-plan/(?P<pk>\d+)/?$", v.PublishSupplyPlanView.as_view(),
            name="integration-publish-supply-plan"),
    re_path(r"^integrations/erp/outbox/?$", v.OutboxListView.as_view(), name="integration-outbox"),
    re_path(rf"^integrations/erp/outbox/(?P<message_id>{_UUID})/ack/?$", v.OutboxAckView.as_view(),
            name="integration-outbox-ack"),
    re_path(rf"^integrations/erp/outbox/(?P<message_id>{_UUID})/retry/?$", v.OutboxRetryView.as_view(),
            name="integration-outbox-retry"),
    re_path(r"^integrations/batches/?$", v.BatchListView.as_view(), name="integration-batch-list"),
    re_path(rf"^integrations/batches/(?P<batch_uuid>{_UUID})/?$", v.BatchDetailView.as_view(),
            name="integration-batch-detail"),
]  # fmt: skip
