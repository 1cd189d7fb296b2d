"""Admin building blocks shared by every app: writes through services, read-only models (OPS-63)."""

from django.contrib import messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import transaction
from django.http import HttpResponseRedirect

from genxsop.errors import DomainError


def adopt_saved(obj, saved) -> None:
    """Make the admin's unsaved instance stand for the row a service created (for logging and redirects)."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


def describe(exc: DomainError) -> str:
    """The refusal in words: the field messages when there are any, else the general message."""
    details = [
        str(m)
        for messages_ in (exc.fields or {}).values()
        for m in (messages_ if isinstance(messages_, list | tuple) else [messages_])
    ]
    return " ".join(details) if details else exc.message


class ServiceAdminMixin:
    """Admin writes go through the services; a service refusal becomes an error message, not a 500.

    The admin runs each add/change/delete in a transaction, so a refusal rolls back its log entry too.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusal_as_message(request, super().changeform_view, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusal_as_message(request, super().delete_view, object_id, extra_context)

    def _refusal_as_message(self, request, view, *args):
        try:
            return view(request, *args)
        except DomainError as exc:
            self.message_user(request, describe(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions["delete_selected"] = (service_delete_selected, name, description)
        return actions

    def run_per_row(self, request, queryset, operation, *, done: str) -> None:
        """Apply `operation(obj)` to each row in its own transaction and report successes and failures."""
        succeeded, failures = 0, []
        for obj in queryset:
            try:
                with transaction.atomic():
                    operation(obj)
            except DomainError as exc:
                failures.append(f"{obj}: {describe(exc)}")
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} {done}.", messages.SUCCESS)
        for failure in failures:
            self.message_user(request, failure, messages.ERROR)


def service_delete_selected(modeladmin, request, queryset):
    """Django's confirmation page, then one service call per row with failures reported (not a bulk DELETE)."""
    if not request.POST.get("post"):
        return django_delete_selected(modeladmin, request, queryset)
    if not modeladmin.has_delete_permission(request):
        return django_delete_selected(modeladmin, request, queryset)

    def delete(obj):
        modeladmin.log_deletions(request, [obj])
        modeladmin.delete_model(request, obj)

    modeladmin.run_per_row(request, queryset, delete, done="deleted")
    return None


class ReadOnlyAdminMixin:
    """Rows the admin may show but never add, change or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
