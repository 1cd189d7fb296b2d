"""Console pages of the catalog (UI-14, UI-22).

Thin callers: reads go through planning.selectors, writes through planning.services. The
permission checks here only decide what to show and give the 403 page early; the services
re-check every write.
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView, RedirectView, TemplateView

from genxsop import errors
from governance.choices import Source
from governance.selectors import audit_history
from planning import permissions as perms
from planning import selectors, services
from planning.choices import LocationType, ProductStatus
from planning.forms import CategoryForm, LocationForm, ProductForm, ReasonForm, category_options
from planning.models import Product

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
PRODUCT_FILTER_KEYS = ("search", "status", "category_id")
LOCATION_FILTER_KEYS = ("search", "location_type", "is_active")
EMPTY = "\u2014"


def raise_page_error(exc: errors.DomainError) -> None:
    """Turn a selector or service refusal into the console's 403/404 page."""
    if isinstance(exc, errors.PermissionDenied):
        raise PermissionDenied(exc.message) from None
    if isinstance(exc, errors.NotFound):
        raise Http404(exc.message) from None


def paginate(request, queryset) -> dict:
    """Page of `queryset` from ?page and ?page_size, with the page links of UI-01."""
    try:
        page_size = int(request.GET.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        page_size = DEFAULT_PAGE_SIZE
    if page_size not in PAGE_SIZES:
        page_size = DEFAULT_PAGE_SIZE
    paginator = Paginator(queryset, page_size)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "page": page,
        "page_size": page_size,
        "page_sizes": PAGE_SIZES,
        "page_range": list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
    }


def _filters_from(request, keys) -> dict:
    return {key: value for key in keys if (value := request.GET.get(key, "").strip())}


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


class CatalogMixin(PermissionRequiredMixin):
    """Signed-in users with the page's permissions only; anonymous visitors go to the login page."""

    permission_required = perms.VIEW_PRODUCT
    catalog_section = "products"

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except (errors.PermissionDenied, errors.NotFound) as exc:
            raise_page_error(exc)
            raise

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


class ProductListView(CatalogMixin, TemplateView):
    template_name = "planning/product_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = _filters_from(self.request, PRODUCT_FILTER_KEYS)
        try:
            queryset = selectors.product_list(user=user, filters=filters)
        except errors.ValidationFailed as exc:
            context["filter_error"] = exc.message
            filters = {}
            queryset = selectors.product_list(user=user)
        context.update(paginate(self.request, queryset))
        context["rows"] = [
            {"product": product, "actions": services.product_allowed_actions(user=user, product=product)}
            for product in context["page"].object_list
        ]
        context["filters"] = filters
        context["status_choices"] = ProductStatus.choices
        context["category_choices"] = (
            category_options(selectors.category_list(user=user)) if user.has_perm(perms.VIEW_CATEGORY) else []
        )
        context["can_add"] = user.has_perm(perms.ADD_PRODUCT)
        return context


class ProductObjectMixin:
    """Loads the product named in the URL through the scoped selector (404 outside the scope)."""

    @cached_property
    def product(self) -> Product:
        try:
            return selectors.product_get(user=self.request.user, pk=self.kwargs["pk"])
        except errors.DomainError as exc:
            raise_page_error(exc)
            raise


HISTORY_FIELD_LABELS = {"category_id": "Category", "sku": "SKU", "abc_class": "ABC class"}


def _field_label(name: str) -> str:
    if name in HISTORY_FIELD_LABELS:
        return HISTORY_FIELD_LABELS[name]
    try:
        return str(Product._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:  # a field removed since the event was written keeps its raw name
        return name.replace("_", " ").capitalize()


def _history_rows(events, category_names: dict[str, str]) -> list[dict]:
    def shown(name, value):
        if value is None or value == "":
            return EMPTY
        if name == "category_id":
            return category_names.get(str(value), f"#{value}")
        if name == "status":
            return ProductStatus(value).label if value in ProductStatus.values else value
        return value

    rows = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        names = event.changed_fields or sorted(set(before) | set(after))
        if event.before is None:
            # A creation lists every field; the empty ones say nothing.
            names = [name for name in names if after.get(name) not in (None, "")]
        rows.append(
            {
                "event": event,
                "action": event.event_type.rsplit(".", 1)[-1].replace("_", " ").capitalize(),
                "created": event.before is None,
                "source": Source(event.source).label if event.source in Source.values else event.source,
                "changes": [
                    {
                        "field": _field_label(name),
                        "before": shown(name, before.get(name)) if event.before is not None else None,
                        "after": shown(name, after.get(name)) if event.after is not None else None,
                    }
                    for name in names
                ],
            }
        )
    return rows


class ProductDetailView(CatalogMixin, ProductObjectMixin, TemplateView):
    template_name = "planning/product_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        product = self.product
        context["product"] = product
        context["actions"] = services.product_allowed_actions(user=user, product=product)
        context["tab"] = "history" if self.request.GET.get("tab") == "history" else "details"
        if context["tab"] == "history":
            events = list(audit_history(user=user, target_type="product", target_id=product.pk))
            names = {}
            if any("category_id" in (e.changed_fields or []) for e in events) and user.has_perm(perms.VIEW_CATEGORY):
                names = {str(c.pk): c.name for c in selectors.category_list(user=user)}
            context["history"] = _history_rows(events, names)
        return context


class ProductFormMixin(CatalogMixin):
    form_class = ProductForm
    template_name = "planning/product_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["categories"] = selectors.category_list(user=self.request.user)
        return kwargs

    def form_valid(self, form):
        try:
            product = self.save(form)
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message.format(product=product))
        return HttpResponseRedirect(reverse("planning:product_detail", args=[product.pk]))


class ProductCreateView(ProductFormMixin, FormView):
    permission_required = (perms.VIEW_PRODUCT, perms.ADD_PRODUCT)
    success_message = "Product {product.sku} created."

    def save(self, form):
        return services.product_create(actor=self.request.user, data=form.to_service_data())


class ProductUpdateView(ProductObjectMixin, ProductFormMixin, FormView):
    permission_required = (perms.VIEW_PRODUCT, perms.CHANGE_PRODUCT)
    success_message = "Product {product.sku} saved."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["editing"] = True
        return kwargs

    def get_initial(self):
        product = self.product
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["product"] = self.product
        return context

    def save(self, form):
        return services.product_update(actor=self.request.user, product=self.product, data=form.to_service_data())


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
        context.update(product=self.product, action=self.action, verb=self.verb)
        return context

    def form_valid(self, form):
        product = self.product
        detail = reverse("planning:product_detail", args=[product.pk])
        try:
            self.service(actor=self.request.user, product=product, reason=form.cleaned_data["reason"])
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(self.request, exc.message)
            return HttpResponseRedirect(detail)
        messages.success(self.request, f"Product {product.sku} {self.done}.")
        return HttpResponseRedirect(_safe_next(self.request, detail))


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


class CategoryListView(CatalogMixin, TemplateView):
    permission_required = perms.VIEW_CATEGORY
    catalog_section = "categories"
    template_name = "planning/category_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["tree"] = selectors.category_tree(user=user)
        context["can_add"] = user.has_perm(perms.ADD_CATEGORY)
        context["can_change"] = user.has_perm(perms.CHANGE_CATEGORY)
        context["can_delete"] = user.has_perm(perms.DELETE_CATEGORY)
        if context["can_add"]:
            context["form"] = CategoryForm(categories=selectors.category_list(user=user), auto_id="id_new_%s")
        return context


class CategoryObjectMixin:
    @cached_property
    def category(self):
        try:
            return selectors.category_get(user=self.request.user, pk=self.kwargs["pk"])
        except errors.DomainError as exc:
            raise_page_error(exc)
            raise


class CategoryFormMixin(CatalogMixin):
    catalog_section = "categories"
    form_class = CategoryForm
    template_name = "planning/category_form.html"

    def editing(self):
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["categories"] = selectors.category_list(user=self.request.user)
        kwargs["editing"] = self.editing()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["category"] = self.editing()
        return context

    def form_valid(self, form):
        try:
            category = self.save(form.cleaned_data)
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message.format(category=category))
        return HttpResponseRedirect(reverse("planning:category_list"))


class CategoryCreateView(CategoryFormMixin, FormView):
    permission_required = (perms.VIEW_CATEGORY, perms.ADD_CATEGORY)
    success_message = "Category \u201c{category.name}\u201d created."

    def get_initial(self):
        return {"parent": self.request.GET.get("parent") or None}

    def save(self, data):
        return services.category_create(
            actor=self.request.user, name=data["name"], parent=data["parent"], description=data["description"]
        )


class CategoryUpdateView(CategoryObjectMixin, CategoryFormMixin, FormView):
    permission_required = (perms.VIEW_CATEGORY, perms.CHANGE_CATEGORY)
    success_message = "Category \u201c{category.name}\u201d saved."

    def editing(self):
        return self.category

    def get_initial(self):
        c = self.category
        return {"name": c.name, "parent": c.parent_id, "description": c.description}

    def save(self, data):
        return services.category_update(actor=self.request.user, category=self.category, data=data)


class CategoryDeleteView(CategoryObjectMixin, CatalogMixin, TemplateView):
    """POST deletes an empty category; GET asks for confirmation. IN_USE is shown as an error message."""

    permission_required = (perms.VIEW_CATEGORY, perms.DELETE_CATEGORY)
    catalog_section = "categories"
    template_name = "planning/confirm_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object_label=f"category \u201c{self.category.name}\u201d",
            cancel_url=reverse("planning:category_list"),
        )
        return context

    def post(self, request, *args, **kwargs):
        category = self.category
        try:
            services.category_delete(actor=request.user, category=category)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Category \u201c{category.name}\u201d deleted.")
        return HttpResponseRedirect(reverse("planning:category_list"))


# Locations --------------------------------------------------------------------


class LocationListView(CatalogMixin, TemplateView):
    permission_required = perms.VIEW_LOCATION
    catalog_section = "locations"
    template_name = "planning/location_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = _filters_from(self.request, LOCATION_FILTER_KEYS)
        try:
            queryset = selectors.location_list(user=user, filters=filters)
        except errors.ValidationFailed as exc:
            context["filter_error"] = exc.message
            filters = {}
            queryset = selectors.location_list(user=user)
        context.update(paginate(self.request, queryset))
        context["filters"] = filters
        context["type_choices"] = LocationType.choices
        context["can_add"] = user.has_perm(perms.ADD_LOCATION)
        context["can_change"] = user.has_perm(perms.CHANGE_LOCATION)
        context["can_delete"] = user.has_perm(perms.DELETE_LOCATION)
        return context


class LocationObjectMixin:
    @cached_property
    def location(self):
        try:
            return selectors.location_get(user=self.request.user, pk=self.kwargs["pk"])
        except errors.DomainError as exc:
            raise_page_error(exc)
            raise


class LocationFormMixin(CatalogMixin):
    catalog_section = "locations"
    form_class = LocationForm
    template_name = "planning/location_form.html"

    def form_valid(self, form):
        try:
            location = self.save(form.cleaned_data)
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message.format(location=location))
        return HttpResponseRedirect(reverse("planning:location_list"))


class LocationCreateView(LocationFormMixin, FormView):
    permission_required = (perms.VIEW_LOCATION, perms.ADD_LOCATION)
    success_message = "Location {location.code} created."

    def save(self, data):
        return services.location_create(actor=self.request.user, data=data)


class LocationUpdateView(LocationObjectMixin, LocationFormMixin, FormView):
    permission_required = (perms.VIEW_LOCATION, perms.CHANGE_LOCATION)
    success_message = "Location {location.code} saved."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["editing"] = True
        return kwargs

    def get_initial(self):
        loc = self.location
        return {"name": loc.name, "location_type": loc.location_type, "region": loc.region}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["location"] = self.location
        return context

    def save(self, data):
        return services.location_update(actor=self.request.user, location=self.location, data=data)


class LocationDeleteView(LocationObjectMixin, CatalogMixin, TemplateView):
    """POST deletes an unreferenced location or deactivates a referenced one (API-LOC-05)."""

    permission_required = (perms.VIEW_LOCATION, perms.DELETE_LOCATION)
    catalog_section = "locations"
    template_name = "planning/confirm_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object_label=f"location {self.location.code}",
            note="A location that plans or stock refer to is deactivated instead of deleted.",
            cancel_url=reverse("planning:location_list"),
        )
        return context

    def post(self, request, *args, **kwargs):
        location = self.location
        try:
            kept = services.location_delete(actor=request.user, location=location)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("planning:location_list"))
        if kept is None:
            messages.success(request, f"Location {location.code} deleted.")
        else:
            messages.info(request, f"Location {location.code} is in use, so it was deactivated instead of deleted.")
        return HttpResponseRedirect(reverse("planning:location_list"))
