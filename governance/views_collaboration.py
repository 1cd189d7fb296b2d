"""Console pages for notifications (UI-18), my action items and the decisions list (S&OP governance).

Thin callers of the governance selectors and services: the status form posts to
`action_item_update`, the notification buttons to `notification_mark_read` / `_mark_all_read`.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, filters_from, paginate, raise_page_error, safe_next
from governance import selectors
from governance.choices import ACTION_ITEM_OPEN_STATUSES, ACTION_ITEM_TRANSITIONS, ActionItemStatus, DecisionCategory
from governance.services import action_items as action_item_services
from governance.services import notifications as notification_services


class NotificationListView(LoginRequiredMixin, TemplateView):
    """Everyone's own notifications, newest first; `?unread=1` for the unread ones."""

    template_name = "governance/notifications.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unread_only = self.request.GET.get("unread") == "1"
        notifications = selectors.notification_list(user=self.request.user, unread=True if unread_only else None)
        context.update(paginate(self.request, notifications), unread_only=unread_only)
        return context


class NotificationReadView(LoginRequiredMixin, View):
    """Mark one notification read, then open its URL (or go back to the list)."""

    def post(self, request, pk):
        try:
            notification = notification_services.notification_mark_read(actor=request.user, pk=pk)
        except errors.DomainError as exc:
            raise_page_error(exc)
            raise
        fallback = reverse("governance:notifications")
        # Only a path on this site: a stored URL must never send the user elsewhere (`//x`, `/\\x`, `https:`).
        url = notification.url
        local = url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=set())
        return HttpResponseRedirect(url if local else safe_next(request, fallback))


class NotificationReadAllView(LoginRequiredMixin, View):
    def post(self, request):
        count = notification_services.notification_mark_all_read(actor=request.user)
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
        return HttpResponseRedirect(reverse("governance:notifications"))


def _next_statuses(item) -> list[tuple[str, str]]:
    allowed = ACTION_ITEM_TRANSITIONS[ActionItemStatus(item.status)]
    return [(value, label) for value, label in ActionItemStatus.choices if value in allowed]


class ActionItemListView(ConsolePermissionMixin, TemplateView):
    """My action items (or, for EXEC_C, everyone's with `?scope=all`), by due date, overdue highlighted."""

    permission_required = action_item_services.VIEW_ACTION_ITEM
    template_name = "governance/action_items.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = filters_from(self.request, ("status", "overdue"))
        can_manage = user.has_perm(action_item_services.CHANGE_ACTION_ITEM)
        show_all = can_manage and self.request.GET.get("scope") == "all"
        if not show_all:
            filters["owner_id"] = str(user.pk)
        try:
            items = selectors.action_item_list(user=user, filters=filters)
        except errors.ValidationFailed:
            items = selectors.action_item_list(user=user, filters={"owner_id": str(user.pk)})
        context.update(paginate(self.request, items), filters=filters, show_all=show_all, can_manage=can_manage,
                       status_choices=ActionItemStatus.choices)  # fmt: skip
        today = timezone.localdate()
        context["rows"] = [
            {"item": item, "overdue": item.status in ACTION_ITEM_OPEN_STATUSES and item.due_date < today,
             "next_statuses": _next_statuses(item) if (can_manage or item.owner_id == user.pk) else []}
            for item in context["page"].object_list
        ]  # fmt: skip
        return context


class ActionItemStatusView(ConsolePermissionMixin, View):
    permission_required = action_item_services.VIEW_ACTION_ITEM

    def post(self, request, pk):
        back = safe_next(request, reverse("governance:action_items"))
        item = selectors.action_item_get(user=request.user, pk=pk)
        data = {"status": request.POST.get("status", "")}
        if "notes" in request.POST:
            data["notes"] = request.POST["notes"]
        try:
            action_item_services.action_item_update(actor=request.user, item=item, data=data)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
            return HttpResponseRedirect(back)
        messages.success(request, f"“{item.title}” updated.")
        return HttpResponseRedirect(back)


class DecisionListView(ConsolePermissionMixin, TemplateView):
    permission_required = "governance.view_decision"
    template_name = "governance/decisions.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = filters_from(self.request, ("category", "status", "from", "to"))
        try:
            decisions = selectors.decision_list(user=self.request.user, filters=filters)
        except errors.ValidationFailed as exc:
            messages.error(self.request, exc.message)
            filters, decisions = {}, selectors.decision_list(user=self.request.user)
        context.update(paginate(self.request, decisions), filters=filters, category_choices=DecisionCategory.choices)
        return context
