"""Console pages of the catalog (UI-14) and demand planning (UI-04), in the UI-22 layout.

Thin callers: reads go through planning.selectors, writes through planning.services. The shape
shared with every other entity's pages lives in genxsop.console; what is here is the catalog's own.
"""

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.views.generic import FormView, RedirectView, TemplateView

from genxsop import errors
from genxsop.console import (
    ConsolePermissionMixin,
    ListMixin,
    PermissionFlagsMixin,
    SelectedObjectMixin,
    ServiceDeleteMixin,
    ServiceFormMixin,
    raise_page_error,
    safe_next,
)
from governance.choices import Source
from governance.selectors import audit_history
from planning import permissions as perms
from planning import selectors, services
from planning.choices import LocationType, ProductStatus
from planning.forms import CategoryForm, DemandPlanForm, LocationForm, ProductForm, ReasonForm, category_options
from planning.models import DemandPlan, Product
from planning.views_plans import (
    PlanBulkView,
    PlanConsole,
    PlanCreateView,
    PlanDetailView,
    PlanListView,
    PlanTransitionView,
    PlanUpdateView,
    QuantityEdit,
)

EMPTY = "\u2014"


class CatalogMixin(ConsolePermissionMixin):
    """A catalog page: the section tabs the user may open, the current one marked."""

    permission_required = perms.VIEW_PRODUCT
    catalog_section = "products"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["catalog_section"] = self.catalog_section
        context["catalog_tabs"] = [
            tab
            for tab in (
                ("products", "Products", "planning:product_list", perms.VIEW_PRODUCT),
                ("categories", "Categories", "planning:category_list", perms.VIEW_CATEGORY),
                ("locations", "Locations", "planning:location_list", perms.VIEW_LOCATION),
            )
            if user.has_perm(tab[3])
        ]
        return context


class CatalogIndexView(RedirectView):
    pattern_name = "planning:product_list"


# Products ---------------------------------------------------------------------


class ProductListView(ListMixin, CatalogMixin, TemplateView):
    template_name = "planning/product_list.html"
    list_selector = staticmethod(selectors.product_list)
    filter_keys = ("search", "status", "category_id")
    add_permission = perms.ADD_PRODUCT

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["rows"] = [
            {"product": product, "actions": services.product_allowed_actions(user=user, product=product)}
            for product in context["page"].object_list
        ]
        context["status_choices"] = ProductStatus.choices
        context["category_choices"] = (
            category_options(selectors.category_list(user=user)) if user.has_perm(perms.VIEW_CATEGORY) else []
        )
        return context


class ProductObjectMixin(SelectedObjectMixin):
    object_selector = staticmethod(selectors.product_get)
    context_object_name = "product"


HISTORY_FIELD_LABELS = {"category_id": "Category", "sku": "SKU", "abc_class": "ABC class", "location_id": "Location"}


def _field_label(name: str, model=Product) -> str:
    if name in HISTORY_FIELD_LABELS:
        return HISTORY_FIELD_LABELS[name]
    try:
        return str(model._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:  # a field removed since the event was written keeps its raw name
        return name.replace("_", " ").capitalize()


def history_rows(events, *, model, names: dict[str, dict[str, str]], choices: dict) -> list[dict]:
    """History tab rows (UI-22) of `model`'s audit events: labelled fields, before and after values.

    `names` maps an id field to {id: display name} (a category's name, a location's code);
    `choices` maps a field to its TextChoices, so stored codes show as their labels.
    """

    def shown(name, value):
        if value is None or value == "":
            return EMPTY
        if name in names:
            return names[name].get(str(value), f"#{value}")
        if name in choices:
            return choices[name](value).label if value in choices[name].values else value
        return value

    rows = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        fields = event.changed_fields or sorted(set(before) | set(after))
        if event.before is None:
            # A creation lists every field; the empty ones say nothing.
            fields = [name for name in fields if after.get(name) not in (None, "")]
        rows.append(
            {
                "event": event,
                "action": event.event_type.rsplit(".", 1)[-1].replace("_", " ").capitalize(),
                "created": event.before is None,
                "source": Source(event.source).label if event.source in Source.values else event.source,
                "changes": [
                    {
                        "field": _field_label(name, model),
                        "before": shown(name, before.get(name)) if event.before is not None else None,
                        "after": shown(name, after.get(name)) if event.after is not None else None,
                    }
                    for name in fields
                ],
            }
        )
    return rows


def _history_rows(events, category_names: dict[str, str]) -> list[dict]:
    return history_rows(events, model=Product, names={"category_id": category_names},
                        choices={"status": ProductStatus})  # fmt: skip


class ProductDetailView(CatalogMixin, ProductObjectMixin, TemplateView):
    template_name = "planning/product_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        product = self.object
        context["actions"] = services.product_allowed_actions(user=user, product=product)
        context["tab"] = "history" if self.request.GET.get("tab") == "history" else "details"
        if context["tab"] == "history":
            events = list(audit_history(user=user, target_type="product", target_id=product.pk))
            names = {}
            if any("category_id" in (e.changed_fields or []) for e in events) and user.has_perm(perms.VIEW_CATEGORY):
                names = {str(c.pk): c.name for c in selectors.category_list(user=user)}
            context["history"] = _history_rows(events, names)
        return context


class ProductFormMixin(ServiceFormMixin, CatalogMixin):
    form_class = ProductForm
    template_name = "planning/product_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["categories"] = selectors.category_list(user=self.request.user)
        return kwargs

    def success_url_for(self, obj) -> str:
        return reverse("planning:product_detail", args=[obj.pk])


class ProductCreateView(ProductFormMixin, FormView):
    permission_required = (perms.VIEW_PRODUCT, perms.ADD_PRODUCT)
    success_message = "Product {object.sku} created."

    def save(self, data):
        return services.product_create(actor=self.request.user, data=data)


class ProductUpdateView(ProductObjectMixin, ProductFormMixin, FormView):
    permission_required = (perms.VIEW_PRODUCT, perms.CHANGE_PRODUCT)
    success_message = "Product {object.sku} saved."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["editing"] = True
        return kwargs

    def get_initial(self):
        product = self.object
        return {
            "name": product.name,
            "category": product.category_id,
            "product_family": product.product_family,
            "unit_of_measure": product.unit_of_measure,
            "unit_cost": product.unit_cost,
            "selling_price": product.selling_price,
            "lead_time_days": product.lead_time_days,
            "min_order_qty": product.min_order_qty,
            "description": product.description,
        }

    def save(self, data):
        return services.product_update(actor=self.request.user, product=self.object, data=data)


class ProductTransitionView(CatalogMixin, ProductObjectMixin, FormView):
    """Discontinue or activate (WF-01): a POST with an optional reason; GET shows the confirmation."""

    permission_required = (perms.VIEW_PRODUCT, perms.DISCONTINUE_PRODUCT)
    form_class = ReasonForm
    template_name = "planning/product_transition.html"
    action = ""
    service = staticmethod(services.product_discontinue)
    verb = ""
    done = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(action=self.action, verb=self.verb)
        return context

    def form_valid(self, form):
        product = self.object
        detail = reverse("planning:product_detail", args=[product.pk])
        try:
            self.service(actor=self.request.user, product=product, reason=form.cleaned_data["reason"])
        except errors.DomainError as exc:
            # Unlike a form error, a refused transition has nothing to correct on this page.
            raise_page_error(exc)
            messages.error(self.request, exc.message)
            return HttpResponseRedirect(detail)
        messages.success(self.request, f"Product {product.sku} {self.done}.")
        return HttpResponseRedirect(safe_next(self.request, detail))


class ProductDiscontinueView(ProductTransitionView):
    action = "discontinue"
    service = staticmethod(services.product_discontinue)
    verb = "Discontinue"
    done = "discontinued"


class ProductActivateView(ProductTransitionView):
    action = "activate"
    service = staticmethod(services.product_activate)
    verb = "Activate"
    done = "activated"


# Categories -------------------------------------------------------------------


class CategoryListView(PermissionFlagsMixin, CatalogMixin, TemplateView):
    """The whole tree on one page, unpaginated: at most three levels (PLN-01)."""

    permission_required = perms.VIEW_CATEGORY
    catalog_section = "categories"
    template_name = "planning/category_list.html"
    add_permission = perms.ADD_CATEGORY
    change_permission = perms.CHANGE_CATEGORY
    delete_permission = perms.DELETE_CATEGORY

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["tree"] = selectors.category_tree(user=user)
        if context["can_add"]:
            context["form"] = CategoryForm(categories=selectors.category_list(user=user), auto_id="id_new_%s")
        return context


class CategoryObjectMixin(SelectedObjectMixin):
    object_selector = staticmethod(selectors.category_get)
    context_object_name = "category"


class CategoryFormMixin(ServiceFormMixin, CatalogMixin):
    catalog_section = "categories"
    form_class = CategoryForm
    template_name = "planning/category_form.html"
    success_url = reverse_lazy("planning:category_list")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["categories"] = selectors.category_list(user=self.request.user)
        return kwargs


class CategoryCreateView(CategoryFormMixin, FormView):
    permission_required = (perms.VIEW_CATEGORY, perms.ADD_CATEGORY)
    success_message = "Category \u201c{object.name}\u201d created."

    def get_initial(self):
        return {"parent": self.request.GET.get("parent") or None}

    def save(self, data):
        return services.category_create(
            actor=self.request.user, name=data["name"], parent=data["parent"], description=data["description"]
        )


class CategoryUpdateView(CategoryObjectMixin, CategoryFormMixin, FormView):
    permission_required = (perms.VIEW_CATEGORY, perms.CHANGE_CATEGORY)
    success_message = "Category \u201c{object.name}\u201d saved."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["editing"] = self.object
        return kwargs

    def get_initial(self):
        c = self.object
        return {"name": c.name, "parent": c.parent_id, "description": c.description}

    def save(self, data):
        return services.category_update(actor=self.request.user, category=self.object, data=data)


class CategoryDeleteView(ServiceDeleteMixin, CategoryObjectMixin, CatalogMixin, TemplateView):
    """Deletes an empty category; IN_USE is shown as an error message."""

    permission_required = (perms.VIEW_CATEGORY, perms.DELETE_CATEGORY)
    catalog_section = "categories"
    success_url = reverse_lazy("planning:category_list")

    def object_label(self) -> str:
        return f"category \u201c{self.object.name}\u201d"

    def perform_delete(self, obj) -> None:
        services.category_delete(actor=self.request.user, category=obj)
        messages.success(self.request, f"Category \u201c{obj.name}\u201d deleted.")


# Locations --------------------------------------------------------------------


class LocationListView(ListMixin, CatalogMixin, TemplateView):
    permission_required = perms.VIEW_LOCATION
    catalog_section = "locations"
    template_name = "planning/location_list.html"
    list_selector = staticmethod(selectors.location_list)
    filter_keys = ("search", "location_type", "is_active")
    add_permission = perms.ADD_LOCATION
    change_permission = perms.CHANGE_LOCATION
    delete_permission = perms.DELETE_LOCATION

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["type_choices"] = LocationType.choices
        return context


class LocationObjectMixin(SelectedObjectMixin):
    object_selector = staticmethod(selectors.location_get)
    context_object_name = "location"


class LocationFormMixin(ServiceFormMixin, CatalogMixin):
    catalog_section = "locations"
    form_class = LocationForm
    template_name = "planning/location_form.html"
    success_url = reverse_lazy("planning:location_list")


class LocationCreateView(LocationFormMixin, FormView):
    permission_required = (perms.VIEW_LOCATION, perms.ADD_LOCATION)
    success_message = "Location {object.code} created."

    def save(self, data):
        return services.location_create(actor=self.request.user, data=data)


class LocationUpdateView(LocationObjectMixin, LocationFormMixin, FormView):
    permission_required = (perms.VIEW_LOCATION, perms.CHANGE_LOCATION)
    success_message = "Location {object.code} saved."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["editing"] = True
        return kwargs

    def get_initial(self):
        loc = self.object
        return {"name": loc.name, "location_type": loc.location_type, "region": loc.region}

    def save(self, data):
        return services.location_update(actor=self.request.user, location=self.object, data=data)


class LocationDeleteView(ServiceDeleteMixin, LocationObjectMixin, CatalogMixin, TemplateView):
    """Deletes an unreferenced location or deactivates a referenced one (API-LOC-05)."""

    permission_required = (perms.VIEW_LOCATION, perms.DELETE_LOCATION)
    catalog_section = "locations"
    success_url = reverse_lazy("planning:location_list")
    delete_note = "A location that plans or stock refer to is deactivated instead of deleted."

    def object_label(self) -> str:
        return f"location {self.object.code}"

    def perform_delete(self, obj) -> None:
        if services.location_delete(actor=self.request.user, location=obj) is None:
            messages.success(self.request, f"Location {obj.code} deleted.")
        else:
            messages.info(self.request, f"Location {obj.code} is in use, so it was deactivated instead of deleted.")


# Demand plans (UI-04) -----------------------------------------------------------

DEMAND_CONSOLE = PlanConsole(
    name="demand_plan", label="Demand plan", section="Demand Planning", model=DemandPlan,
    view_perm=perms.VIEW_DEMAND_PLAN, add_perm=perms.ADD_DEMAND_PLAN, change_perm=perms.CHANGE_DEMAND_PLAN,
    submit_perm=perms.SUBMIT_DEMAND_PLAN, approve_perm=perms.APPROVE_DEMAND_PLAN,
    list_selector=selectors.demand_plan_list,
    get_selector=selectors.demand_plan_get, versions_selector=selectors.demand_plan_versions,
    allowed_actions=services.demand_plan_allowed_actions,
    services={
        "update": services.demand_plan_update, "submit": services.demand_plan_submit,
        "withdraw": services.demand_plan_withdraw, "approve": services.demand_plan_approve,
        "reject": services.demand_plan_reject, "reopen": services.demand_plan_reopen,
        "delete": services.demand_plan_delete, "bulk": services.demand_plan_bulk_transition,
        "unlock": services.demand_plan_unlock,
    },
    version_columns=[("forecast_qty", "Forecast"), ("adjusted_qty", "Adjusted"), ("consensus_qty", "Consensus"),
                     ("confidence", "Confidence"), ("notes", "Notes")],
    quantity_edits=(
        QuantityEdit(action="adjust", field="adjusted_qty", label="Adjusted qty", needs="edit", verb="Adjust"),
        QuantityEdit(action="record_actual", field="actual_qty", label="Actual qty", needs="record_actual",
                     verb="Record actual", required=True),
    ),
)  # fmt: skip


class DemandPlanListView(PlanListView):
    console = DEMAND_CONSOLE
    template_name = "planning/demand_plan_list.html"
    filter_keys = ("search", "status", "period_from", "period_to", "region", "channel", "category_id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["category_choices"] = (
            category_options(selectors.category_list(user=user)) if user.has_perm(perms.VIEW_CATEGORY) else []
        )
        return context


class DemandPlanDetailView(PlanDetailView):
    console = DEMAND_CONSOLE
    template_name = "planning/demand_plan_detail.html"


class DemandPlanFormMixin:
    console = DEMAND_CONSOLE
    form_class = DemandPlanForm


class DemandPlanCreateView(DemandPlanFormMixin, PlanCreateView):
    success_message = "Demand plan for {object.product.sku} {object.period:%b %Y} created."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["products"] = selectors.product_list(user=self.request.user, filters={"status": ProductStatus.ACTIVE})
        return kwargs

    def save(self, data):
        product = data.pop("product")
        return services.demand_plan_create(actor=self.request.user, product=product, data=data)


class DemandPlanUpdateView(DemandPlanFormMixin, PlanUpdateView):
    success_message = "Demand plan for {object.product.sku} {object.period:%b %Y} saved (version {object.version})."

    def get_initial(self):
        plan = self.object
        return {
            "forecast_qty": plan.forecast_qty,
            "adjusted_qty": plan.adjusted_qty,
            "confidence": plan.confidence,
            "notes": plan.notes,
            "expected_version": plan.version,
        }


class DemandPlanTransitionView(PlanTransitionView):
    console = DEMAND_CONSOLE


class DemandPlanBulkView(PlanBulkView):
    console = DEMAND_CONSOLE


class DemandPlanViews:
    List, Create, Detail, Update = DemandPlanListView, DemandPlanCreateView, DemandPlanDetailView, DemandPlanUpdateView
    Transition, Bulk = DemandPlanTransitionView, DemandPlanBulkView
