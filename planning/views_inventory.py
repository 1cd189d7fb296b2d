"""Console pages for inventory (UI-08 overview and stock): list with health and alerts, detail with
history, edit and policy override. Reads through planning.selectors, writes through planning.services."""

from django.urls import path, reverse
from django.views.generic import FormView, TemplateView

from genxsop import errors
from genxsop.console import (
    ConsolePermissionMixin,
    ListMixin,
    SelectedObjectMixin,
    ServiceFormMixin,
    raise_page_error,
)
from genxsop.scoping import object_in_scope
from genxsop.services import require_perm
from governance.selectors import audit_history
from planning import permissions as perms
from planning import selectors, services
from planning.choices import InventoryStatus
from planning.forms import InventoryForm, InventoryOverrideForm, category_options
from planning.views import _history_rows

ALERTS_SHOWN = 10


def _write_flags(user, row) -> dict:
    """Which inventory writes `user` may offer on `row` (role and change scope; no query once cached)."""
    in_scope = object_in_scope(user, row, change=True)
    return {
        "can_edit": in_scope and user.has_perm(perms.CHANGE_INVENTORY),
        "can_override": in_scope and user.has_perm(perms.OVERRIDE_INVENTORY_POLICY),
    }


# Shown elsewhere on the page (the row's key, the actor of each event) or internal to the write path.
_HISTORY_HIDDEN = frozenset({"product_id", "location_id", "updated_by_id"})


def _history(user, row) -> list[dict]:
    """The row's audit events as History tab rows, without the fields that never say anything new."""
    events = list(audit_history(user=user, target_type="inventory", target_id=row.pk))
    for event in events:  # in memory only: the audit rows are never written back
        for attr in ("before", "after"):
            values = getattr(event, attr)
            if values is not None:
                setattr(event, attr, {k: v for k, v in values.items() if k not in _HISTORY_HIDDEN})
        event.changed_fields = [f for f in event.changed_fields or [] if f not in _HISTORY_HIDDEN]
    return _history_rows(events, {})


class InventoryMixin(ConsolePermissionMixin):
    permission_required = perms.VIEW_INVENTORY


class InventoryListView(ListMixin, InventoryMixin, TemplateView):
    """Health cards and alerts over the caller's scope, then the filtered stock grid."""

    template_name = "planning/inventory_list.html"
    list_selector = staticmethod(selectors.inventory_list)
    filter_keys = ("search", "category_id", "location", "status")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["health"] = selectors.inventory_health(user=user)
        context["health_cards"] = [
            (status, label, context["health"][f"{status}_count"], context["health"][f"{status}_pct"])
            for status, label in InventoryStatus.choices
        ]
        alerts = selectors.inventory_alerts(user=user, limit=ALERTS_SHOWN)
        context["alerts"] = [
            (status, InventoryStatus(status).label, rows, context["health"][f"{status}_count"])
            for status, rows in alerts.items()
        ]
        context["status_choices"] = InventoryStatus.choices
        context["category_choices"] = category_options(selectors.category_list(user=user))
        context["location_choices"] = [(loc.code, loc.name) for loc in selectors.location_list(user=user)]
        context["rows"] = [{"row": row, **_write_flags(user, row)} for row in context["page"].object_list]
        return context


class InventoryObjectMixin(SelectedObjectMixin):
    object_selector = staticmethod(selectors.inventory_get)
    context_object_name = "row"


class InventoryDetailView(InventoryMixin, InventoryObjectMixin, TemplateView):
    template_name = "planning/inventory_detail.html"
    tabs = ("details", "history")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        tab = self.request.GET.get("tab")
        context["tab"] = tab if tab in self.tabs else "details"
        if context["tab"] == "history":
            context["history"] = _history(user, self.object)
        context.update(_write_flags(user, self.object))
        return context


class InventoryWriteMixin(InventoryMixin, InventoryObjectMixin, ServiceFormMixin):
    """A form on one row; refused with the 403 page unless the row lies in the caller's change scope."""

    write_permission = ""

    def get_permission_required(self):
        return (perms.VIEW_INVENTORY, self.write_permission)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            try:
                require_perm(request.user, self.write_permission, self.object)
            except errors.DomainError as exc:
                raise_page_error(exc)
                raise
        return super().dispatch(request, *args, **kwargs)

    def success_url_for(self, obj) -> str:
        return reverse("planning:inventory_detail", args=[obj.pk])


class InventoryEditView(InventoryWriteMixin, FormView):
    """Quantities, dates and policy levels; a version changed since the form was opened writes nothing."""

    write_permission = perms.CHANGE_INVENTORY
    form_class = InventoryForm
    template_name = "planning/inventory_form.html"
    success_message = "Inventory {object.product.sku} at {object.location.code} saved."

    def get_initial(self):
        row = self.object
        names = [*services.INVENTORY_QUANTITY_FIELDS, *services.INVENTORY_POLICY_FIELDS]
        return {**{name: getattr(row, name) for name in names}, "expected_version": row.version}

    def save(self, data):
        expected = data.pop("expected_version")
        return services.inventory_update(
            actor=self.request.user, inventory=self.object, data=data, expected_version=expected
        )


class InventoryOverrideView(InventoryWriteMixin, FormView):
    write_permission = perms.OVERRIDE_INVENTORY_POLICY
    form_class = InventoryOverrideForm
    template_name = "planning/inventory_override.html"
    success_message = "Policy of {object.product.sku} at {object.location.code} overridden."

    def get_initial(self):
        row = self.object
        return {**{name: getattr(row, name) for name in services.INVENTORY_POLICY_FIELDS},
                "expected_version": row.version}  # fmt: skip

    def save(self, data):
        expected = data.pop("expected_version")
        reason = data.pop("reason")
        return services.inventory_policy_override(
            actor=self.request.user, inventory=self.object, data=data, reason=reason, expected_version=expected
        )


urlpatterns = [
    path("inventory/", InventoryListView.as_view(), name="inventory_list"),
    path("inventory/<int:pk>/", InventoryDetailView.as_view(), name="inventory_detail"),
    path("inventory/<int:pk>/edit/", InventoryEditView.as_view(), name="inventory_edit"),
    path("inventory/<int:pk>/override/", InventoryOverrideView.as_view(), name="inventory_override"),
]
