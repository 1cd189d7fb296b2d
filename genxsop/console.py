"""Building blocks of console pages: the shape every entity's list, form and delete pages share.

An entity's views name their selector, service calls, permissions and templates; these mixins do
the rest the same way everywhere. Permission checks here only choose what to show and give the
403 page early: the services re-check every write.
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme

from genxsop import errors

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25


def raise_page_error(exc: errors.DomainError) -> None:
    """Turn a selector or service refusal into the console's 403/404 page; other refusals return."""
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


def filters_from(request, keys) -> dict:
    """The non-blank query parameters named in `keys`: an emptied filter input means no filter."""
    return {key: value for key in keys if (value := request.GET.get(key, "").strip())}


def safe_next(request, fallback: str) -> str:
    """The posted or queried `next` when it stays on this site, else `fallback` (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


class ConsolePermissionMixin(PermissionRequiredMixin):
    """Signed-in users with `permission_required` only; anonymous visitors go to the login page.

    A domain PermissionDenied or NotFound raised anywhere in the view becomes the 403 or 404 page.
    """

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except (errors.PermissionDenied, errors.NotFound) as exc:
            raise_page_error(exc)
            raise


class SelectedObjectMixin:
    """The object named by the URL's `pk`, loaded once through the scoped selector.

    Set `object_selector = staticmethod(selectors.<entity>_get)`; an id outside the caller's
    scope is the 404 page, like an unknown one. The object is also in the template context
    under `context_object_name`.
    """

    object_selector = None
    context_object_name = "object"

    @cached_property
    def object(self):
        try:
            return self.object_selector(user=self.request.user, pk=self.kwargs["pk"])
        except errors.DomainError as exc:
            # The property may first be read outside dispatch (a lazily rendered template).
            raise_page_error(exc)
            raise

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context[self.context_object_name] = self.object
        return context


class PermissionFlagsMixin:
    """`can_add`, `can_change` and `can_delete` in the context, for the permissions the view names."""

    add_permission: str | None = None
    change_permission: str | None = None
    delete_permission: str | None = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        for flag, permission in (
            ("can_add", self.add_permission),
            ("can_change", self.change_permission),
            ("can_delete", self.delete_permission),
        ):
            if permission:
                context[flag] = user.has_perm(permission)
        return context


class ListMixin(PermissionFlagsMixin):
    """A filtered, paginated list read through `list_selector(user=..., filters=...)`.

    Only the query parameters in `filter_keys` reach the selector. A filter value the selector
    refuses is shown as `filter_error` above the unfiltered list rather than as an error page.
    The context carries the page (see `paginate`), `filters` and `opts`, the model's `_meta`
    (as in the Django admin) that templates/console/list.html takes its wording from.
    """

    list_selector = None
    filter_keys: tuple[str, ...] = ()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = filters_from(self.request, self.filter_keys)
        try:
            queryset = self.list_selector(user=user, filters=filters)
        except errors.ValidationFailed as exc:
            context["filter_error"] = exc.message
            filters = {}
            queryset = self.list_selector(user=user)
        context.update(paginate(self.request, queryset))
        context["filters"] = filters
        context["opts"] = queryset.model._meta
        return context


class ServiceFormMixin:
    """A FormView whose valid form is handed to `save(data)`, which calls the service.

    A service refusal is the 403/404 page when it is one, else an error on the form (placed by
    the form's `add_domain_error`). On success: `success_message`, formatted with the saved
    object as `object`, then a redirect to `success_url_for(object)`.
    """

    success_message = ""

    def save(self, data: dict):
        raise NotImplementedError

    def success_url_for(self, obj) -> str:
        return self.get_success_url()

    def form_valid(self, form):
        try:
            # A copy: the form keeps its own cleaned_data for showing a refusal.
            obj = self.save(dict(form.cleaned_data))
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message.format(object=obj))
        return HttpResponseRedirect(self.success_url_for(obj))


class ServiceDeleteMixin(SelectedObjectMixin):
    """GET asks for confirmation; POST calls `perform_delete(object)` and returns to `success_url`.

    `perform_delete` calls the service and adds the success message; a refusal such as IN_USE becomes
    an error message on the page returned to, not an error page.
    """

    template_name = "console/confirm_delete.html"
    success_url = None
    delete_note = ""

    def object_label(self) -> str:
        return str(self.object)

    # Not `delete`: View.dispatch would route HTTP DELETE requests to it.
    def perform_delete(self, obj) -> None:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(object_label=self.object_label(), note=self.delete_note, cancel_url=str(self.success_url))
        return context

    def post(self, request, *args, **kwargs):
        obj = self.object
        try:
            self.perform_delete(obj)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
        return HttpResponseRedirect(str(self.success_url))
