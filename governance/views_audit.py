"""The console's audit log (UI-17): search, one event with its field diff, export and chain check."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from genxsop.console import ConsolePermissionMixin, ListMixin
from governance import selectors
from governance.choices import Source
from governance.models import AuditChainHead
from governance.permissions import EXPORT_AUDIT_EVENT, VERIFY_AUDIT_EVENT, VIEW_AUDIT_EVENT
from governance.services.audit_log import audit_chain_verify

FILTER_KEYS = ("search", "actor", "event_type", "target_type", "target_id", "source", "request_id", "from", "to")


class AuditLogListView(ConsolePermissionMixin, ListMixin, TemplateView):
    permission_required = VIEW_AUDIT_EVENT
    template_name = "governance/audit_log.html"
    list_selector = staticmethod(selectors.audit_event_list)
    filter_keys = FILTER_KEYS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            source_choices=Source.choices,
            can_export=user.has_perm(EXPORT_AUDIT_EVENT),
            can_verify=user.has_perm(VERIFY_AUDIT_EVENT),
            export_query=urlencode(context["filters"]),
            chain_head=AuditChainHead.objects.filter(pk=1).first(),
        )
        return context


def _diff(event) -> list[dict]:
    before, after = event.before or {}, event.after or {}
    fields = event.changed_fields or sorted(set(before) | set(after))
    return [{"field": name, "before": before.get(name) if event.before is not None else None,
             "after": after.get(name) if event.after is not None else None} for name in fields]  # fmt: skip


class AuditEventDetailView(ConsolePermissionMixin, TemplateView):
    permission_required = VIEW_AUDIT_EVENT
    template_name = "governance/audit_event_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = selectors.audit_event_get(user=self.request.user, pk=self.kwargs["pk"])
        context.update(event=event, changes=_diff(event), created=event.before is None)
        return context


class AuditChainVerifyView(ConsolePermissionMixin, View):
    """Runs the verification (audited) and reports the outcome on the audit log page."""

    permission_required = VERIFY_AUDIT_EVENT
    http_method_names = ["post"]

    def post(self, request):
        result = audit_chain_verify(actor=request.user)
        if result.ok:
            messages.success(request, f"The audit chain verifies: {result.rows_checked} rows checked.")
        else:
            messages.error(request, f"The audit chain is broken: {result.first_problem.message}.")
        if not result.triggers:
            messages.warning(request, "The append-only triggers on the audit table are missing or disabled.")
        return HttpResponseRedirect(reverse("governance:audit_log"))
