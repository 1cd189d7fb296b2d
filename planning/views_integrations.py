"""Console pages for integrations (UI-13): sync and import batches with their item results, and the
ERP outbox. INTEG roles only; routes listed in `urlpatterns`, included by planning/urls.py."""

from django.urls import path
from django.views.generic import TemplateView

from genxsop.console import ConsolePermissionMixin, ListMixin
from planning import permissions as perms
from planning import selectors
from planning.choices import BatchChannel, BatchOperation, BatchStatus, OutboundStatus


class IntegrationBatchListView(ConsolePermissionMixin, ListMixin, TemplateView):
    permission_required = perms.VIEW_INTEGRATION_BATCH
    template_name = "planning/integration_batch_list.html"
    list_selector = staticmethod(selectors.integration_batch_list)
    filter_keys = ("search", "operation", "status", "channel", "from", "to")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(operation_choices=BatchOperation.choices, status_choices=BatchStatus.choices,
                       channel_choices=BatchChannel.choices)  # fmt: skip
        return context


class IntegrationBatchDetailView(ConsolePermissionMixin, TemplateView):
    # The console is the operators' view; the API also lets a file import's actor read their batch.
    permission_required = perms.VIEW_INTEGRATION_BATCH
    template_name = "planning/integration_batch_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch = selectors.integration_batch_get(user=self.request.user, batch_uuid=self.kwargs["batch_uuid"])
        # File rows are numbered as in the spreadsheet: the header is row 1.
        offset = 2 if batch.channel == BatchChannel.FILE else 0
        show = self.request.GET.get("show", "")
        results = [r for r in batch.item_results or [] if show != "failed" or r.get("outcome") == "failed"]
        context.update(batch=batch, results=[{**r, "position": r["index"] + offset} for r in results],
                       position_label="Row" if offset else "Index", show=show)  # fmt: skip
        return context


class OutboundMessageListView(ConsolePermissionMixin, ListMixin, TemplateView):
    permission_required = perms.VIEW_OUTBOUND_MESSAGE
    template_name = "planning/outbound_message_list.html"
    list_selector = staticmethod(selectors.outbound_message_list)
    filter_keys = ("status", "kind")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status_choices"] = OutboundStatus.choices
        return context


urlpatterns: list = [
    path("integrations/", IntegrationBatchListView.as_view(), name="integration_batch_list"),
    path("integrations/batches/<uuid:batch_uuid>/", IntegrationBatchDetailView.as_view(),
         name="integration_batch_detail"),
    path("integrations/outbox/", OutboundMessageListView.as_view(), name="outbound_message_list"),
]  # fmt: skip
