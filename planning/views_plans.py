"""Console pages every plan entity shares (UI-04, UI-05, UI-22): the grid with its bulk bar and
inline quantity edits, the detail page with Versions, Publications and History tabs, the create/edit
form with the version guard (WF-05), the single-quantity pages (Adjust, Record actual), the workflow
buttons and the bulk action. An entity names its selectors, services, permissions and columns in a
`PlanConsole`; its views are these classes with that console set.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.defaultfilters import floatformat
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.generic import FormView, TemplateView, View

from genxsop import errors
from genxsop.console import (
    ConsolePermissionMixin,
    ListMixin,
    SelectedObjectMixin,
    ServiceFormMixin,
    raise_page_error,
    safe_next,
)
from governance.permissions import VIEW_PUBLICATION
from governance.selectors import audit_history, comment_list
from governance.services.publishing import publications_of_plan
from planning.choices import PlanSource, PlanStatus
from planning.forms import PlanQuantityForm
from planning.services.plans import BULK_ACTIONS

TRANSITIONS = ("submit", "withdraw", "approve", "reject", "reopen", "delete")
_DONE = {"submit": "submitted", "withdraw": "withdrawn", "approve": "approved", "reject": "rejected",
         "reopen": "reopened", "delete": "deleted"}  # fmt: skip


@dataclass(frozen=True)
class QuantityEdit:
    """One quantity a grid row edits in place and the plan page edits on its own page.

    `action` names the page (url planning:<console>_<action>); `needs` is the allowed action that must
    be offered on the row (WF-04): "edit" for a content field (new version), "record_actual" for the
    actual (any status, no version)."""

    action: str  # "adjust" or "record_actual"
    field: str  # the plan field the update service receives
    label: str  # "Adjusted qty"
    needs: str  # "edit" or "record_actual"
    verb: str  # the button on the plan page: "Adjust", "Record actual"
    required: bool = False  # blank clears an optional quantity; an actual must be a number


@dataclass(frozen=True)
class PlanConsole:
    name: str  # "demand_plan": url names planning:<name>_<page>, audit target type
    label: str  # "Demand plan"
    section: str  # "Demand Planning": the page the breadcrumbs return to
    model: type
    view_perm: str
    add_perm: str
    change_perm: str
    submit_perm: str
    approve_perm: str
    list_selector: Callable
    get_selector: Callable
    versions_selector: Callable
    allowed_actions: Callable
    services: dict  # create, update, submit, withdraw, approve, reject, reopen, delete, bulk
    version_columns: list = field(default_factory=list)  # [(field, label)]
    quantity_edits: tuple[QuantityEdit, ...] = ()

    def url(self, page: str, *args) -> str:
        return reverse(f"planning:{self.name}_{page}", args=args)

    def url_names(self) -> dict[str, str]:
        pages = ("list", "create", "detail", "edit", "bulk", *TRANSITIONS, *(q.action for q in self.quantity_edits),
                 *(("unlock",) if "unlock" in self.services else ()))  # fmt: skip
        return {page: f"planning:{self.name}_{page}" for page in pages}

    def describe(self, plan) -> str:
        """How messages name a plan: its SKU, month and (supply) location."""
        where = f" at {plan.location.code}" if hasattr(plan, "location_id") and hasattr(plan, "location") else ""
        return f"{plan.product.sku} {plan.period:%b %Y}{where}"

    def quantity_edit(self, action: str) -> QuantityEdit:
        return next(q for q in self.quantity_edits if q.action == action)

    def bulk_choices(self, user) -> list[tuple[str, str]]:
        perm = {"submit": self.submit_perm, "withdraw": self.submit_perm, "approve": self.approve_perm,
                "reject": self.approve_perm}  # fmt: skip
        return [(a, a.capitalize()) for a in BULK_ACTIONS if user.has_perm(perm[a])]


def plan_urlpatterns(console: PlanConsole, prefix: str, views) -> list:
    """The routes of one plan entity's pages; `views` holds its List/Create/Detail/Update/Transition/Bulk views."""
    name = console.name
    routes = [
        path(f"{prefix}/", views.List.as_view(), name=f"{name}_list"),
        path(f"{prefix}/new/", views.Create.as_view(), name=f"{name}_create"),
        path(f"{prefix}/bulk/", views.Bulk.as_view(), name=f"{name}_bulk"),
        path(f"{prefix}/<int:pk>/", views.Detail.as_view(), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/edit/", views.Update.as_view(), name=f"{name}_edit"),
    ]
    for action in TRANSITIONS:
        routes.append(path(f"{prefix}/<int:pk>/{action}/", views.Transition.as_view(action=action),
                           name=f"{name}_{action}"))  # fmt: skip
    if "unlock" in console.services:
        routes.append(path(f"{prefix}/<int:pk>/unlock/", PlanUnlockView.as_view(console=console),
                           name=f"{name}_unlock"))  # fmt: skip
    for edit in console.quantity_edits:
        routes.append(path(f"{prefix}/<int:pk>/{edit.action.replace('_', '-')}/",
                           PlanQuantityView.as_view(console=console, action=edit.action),
                           name=f"{name}_{edit.action}"))  # fmt: skip
    return routes


class PlanMixin(ConsolePermissionMixin):
    console: PlanConsole = None

    def get_permission_required(self):
        return self.permission_required or (self.console.view_perm,)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["plan_urls"] = self.console.url_names()
        context["plan_label"] = self.console.label
        context["plan_section"] = self.console.section
        return context


class PlanListView(ListMixin, PlanMixin, TemplateView):
    """The plans grid: current rows through the entity's FilterSet, actions per row, the bulk bar."""

    @property
    def list_selector(self):
        return self.console.list_selector

    @property
    def add_permission(self):
        return self.console.add_perm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        rows = []
        for plan in context["page"].object_list:
            actions = self.console.allowed_actions(user=user, plan=plan)
            # Which quantities this row edits in place, e.g. {"adjust": True, "record_actual": False}.
            inline = {q.action: q.needs in actions for q in self.console.quantity_edits}
            rows.append({"plan": plan, "actions": actions, "inline": inline})
        context["rows"] = rows
        context["status_choices"] = PlanStatus.choices
        context["bulk_actions"] = self.console.bulk_choices(user)
        return context


class PlanObjectMixin(SelectedObjectMixin):
    context_object_name = "plan"

    def object_selector(self, *, user, pk):
        return self.console.get_selector(user=user, pk=pk)


def plan_history_rows(events, *, model, names: dict | None = None) -> list[dict]:
    """History tab rows of a plan: field labels from the model, status and source as their labels."""
    from planning.views import history_rows

    return history_rows(events, model=model, names=names or {},
                        choices={"status": PlanStatus, "source": PlanSource})  # fmt: skip


class PlanDetailView(PlanMixin, PlanObjectMixin, TemplateView):
    """Header with status and allowed actions; tabs Details, Versions (WF-12), Publications (the
    publications that froze the row, GOV-70; publication readers only), Comments (the decisions taken
    with their reasons, GOV-80) and History (audit)."""

    tabs = ("details", "versions", "publications", "comments", "history")

    def history_names(self, events) -> dict:
        """Display names for id fields in the history (e.g. location codes)."""
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        plan = self.object
        context["actions"] = self.console.allowed_actions(user=user, plan=plan)
        context["show_publications"] = user.has_perm(VIEW_PUBLICATION)
        tab = self.request.GET.get("tab")
        offered = self.tabs if context["show_publications"] else tuple(t for t in self.tabs if t != "publications")
        context["tab"] = tab if tab in offered else "details"
        columns = self.console.version_columns
        if context["tab"] == "versions":

            def cells(row):
                changed = set(row["changed_fields"]) if row["version"] > 1 else set()
                return [{"value": row[name], "changed": name in changed} for name, _ in columns]

            versions = self.console.versions_selector(user=user, pk=plan.pk)
            context["versions"] = [{"row": row, "cells": cells(row)} for row in versions]
            context["version_columns"] = [label for _, label in columns]
        elif context["tab"] == "publications":
            # Items name the row by its current id; a history row shows its current row's publications.
            context["publication_items"] = list(publications_of_plan(
                user=user, plan_type=self.console.name.removesuffix("_plan"), plan_id=plan.history_of_id or plan.pk,
            ))  # fmt: skip
        elif context["tab"] == "comments":
            context["comments"] = comment_list(
                user=user, entity_type=self.console.name, entity_id=str(plan.history_of_id or plan.pk)
            )
        elif context["tab"] == "history":
            target = plan.history_of_id or plan.pk
            events = list(audit_history(user=user, target_type=self.console.name, target_id=target))
            context["history"] = plan_history_rows(events, model=self.console.model, names=self.history_names(events))
        return context


class PlanFormMixin(ServiceFormMixin, PlanMixin):
    template_name = "planning/plan_form.html"

    def success_url_for(self, obj) -> str:
        return self.console.url("detail", obj.pk)


class PlanCreateView(PlanFormMixin, FormView):
    def get_permission_required(self):
        return (self.console.view_perm, self.console.add_perm)


class PlanUpdateView(PlanObjectMixin, PlanFormMixin, FormView):
    """Edits draft or rejected plans; any other state returns to the plan with the refusal."""

    def get_permission_required(self):
        return (self.console.view_perm, self.console.change_perm)

    def dispatch(self, request, *args, **kwargs):
        # Permissions first (403 for roles that cannot edit at all), then the plan's state.
        if request.user.is_authenticated and self.has_permission():
            plan = self.object
            if "edit" not in self.console.allowed_actions(user=request.user, plan=plan):
                messages.error(
                    request,
                    f"This {self.console.label.lower()} is {plan.get_status_display().lower()}; it cannot be edited.",
                )
                return HttpResponseRedirect(self.console.url("detail", plan.pk))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["editing"] = True
        return kwargs

    def save(self, data):
        expected = data.pop("expected_version", None)
        return self.console.services["update"](actor=self.request.user, plan=self.object, data=data,
                                               expected_version=expected)  # fmt: skip


class PlanTransitionView(PlanMixin, PlanObjectMixin, View):
    """POST-only workflow action (WF-10/11). The services check permission and state; a refusal other
    than 403/404 returns to the page with the message. `reason` carries the dialog's reason."""

    http_method_names = ["post"]
    action = ""

    def perform(self, plan, reason: str):
        service = self.console.services[self.action]
        if self.action == "delete":
            return service(actor=self.request.user, plan=plan)
        if self.action == "reopen":
            return service(actor=self.request.user, plan=plan, reason=reason)
        return service(actor=self.request.user, plan=plan, comment=reason)

    def post(self, request, *args, **kwargs):
        plan = self.object
        detail = self.console.url("detail", plan.pk)
        label = self.console.describe(plan)
        try:
            self.perform(plan, (request.POST.get("reason") or "").strip())
        except errors.DomainError as exc:
            raise_page_error(exc)
            message = exc.message
            for field_messages in (exc.fields or {}).values():
                message = " ".join(str(m) for m in field_messages)
            messages.error(request, message)
            return HttpResponseRedirect(safe_next(request, detail))
        messages.success(request, f"{self.console.label} {label} {_DONE[self.action]}.")
        if self.action == "delete":
            grid = self.console.url("list")
            target = request.POST.get("next") or ""
            return HttpResponseRedirect(grid if f"/{plan.pk}/" in target else safe_next(request, grid))
        return HttpResponseRedirect(safe_next(request, detail))


class PlanUnlockView(PlanMixin, PlanObjectMixin, View):
    """POST-only unlock of a published plan (WF-10/11): APPR with a justification; inside the freeze
    window of the publishing lane the "override the freeze window" box must be ticked too."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        plan = self.object
        detail = self.console.url("detail", plan.pk)
        try:
            self.console.services["unlock"](
                actor=request.user, plan=plan, justification=(request.POST.get("justification") or "").strip(),
                override_freeze=request.POST.get("override_freeze") in ("on", "true", "1"),
            )  # fmt: skip
        except errors.DomainError as exc:
            raise_page_error(exc)
            message = exc.message
            for field_messages in (exc.fields or {}).values():
                message = " ".join(str(m) for m in field_messages)
            messages.error(request, message)
            return HttpResponseRedirect(safe_next(request, detail))
        messages.success(request, f"{self.console.label} {self.console.describe(plan)} unlocked; it is a draft again.")
        return HttpResponseRedirect(safe_next(request, detail))


class PlanBulkView(PlanMixin, View):
    """The grid's bulk bar (WF-13): the checked ids and one action, each id in its own transaction;
    the outcome is summarised as "N succeeded, M failed" with the reason of every failure."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        grid = self.console.url("list")
        action = request.POST.get("action", "")
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
        if action not in BULK_ACTIONS:
            messages.error(request, "Choose Submit, Withdraw, Approve or Reject.")
        elif not ids:
            messages.error(request, "Select at least one plan first.")
        else:
            try:
                result = self.console.services["bulk"](actor=request.user, action=action, ids=ids,
                                                       comment=(request.POST.get("reason") or "").strip())  # fmt: skip
            except errors.DomainError as exc:
                raise_page_error(exc)
                messages.error(request, exc.message)
                return HttpResponseRedirect(safe_next(request, grid))
            summary = f"{action.capitalize()}: {result['succeeded']} succeeded, {result['failed']} failed."
            failed = [r for r in result["results"] if not r["ok"]]
            # Name the failed rows the user can see; an id outside their scope stays a number.
            names = {
                p.pk: self.console.describe(p)
                for p in self.console.list_selector(user=request.user).filter(pk__in=[r["id"] for r in failed])
            }
            failures = [f"{names.get(r['id']) or '#' + str(r['id'])}: {r['error']['message']}" for r in failed]
            if failures:
                messages.warning(request, " ".join([summary, *failures]))
            else:
                messages.success(request, summary)
        return HttpResponseRedirect(safe_next(request, grid))


class PlanQuantityView(PlanMixin, PlanObjectMixin, FormView):
    """One quantity of a plan (Adjust, Record actual): the target of the grid's inline forms and the page
    the plan's buttons open. The form carries the version the user saw (WF-05); success returns to `next`
    (the grid page with its filters) naming the plan and its version. A refusal (stale version, wrong
    state, bad number) shows this page with the error and writes nothing."""

    template_name = "planning/plan_quantity_form.html"
    form_class = PlanQuantityForm
    action = ""

    @property
    def edit(self) -> QuantityEdit:
        return self.console.quantity_edit(self.action)

    def get_permission_required(self):
        return (self.console.view_perm, self.console.change_perm)

    def get(self, request, *args, **kwargs):
        plan = self.object
        if self.edit.needs not in self.console.allowed_actions(user=request.user, plan=plan):
            messages.error(request, f"{self.console.label} {self.console.describe(plan)} is "
                                    f"{plan.get_status_display().lower()}; its {self.edit.label.lower()} "
                                    "cannot be changed now.")  # fmt: skip
            return HttpResponseRedirect(self.console.url("detail", plan.pk))
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(field=self.edit.field, label=self.edit.label, required=self.edit.required)
        return kwargs

    def get_initial(self):
        return {self.edit.field: getattr(self.object, self.edit.field), "expected_version": self.object.version}

    def next_url(self) -> str:
        return safe_next(self.request, self.console.url("detail", self.object.pk))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = self.next_url()
        context.update(edit=self.edit, next=next_url, current=getattr(self.object, self.edit.field),
                       reload_url=f"{self.request.path}?{urlencode({'next': next_url})}")  # fmt: skip
        return context

    def form_valid(self, form):
        plan, edit = self.object, self.edit
        value = form.cleaned_data[edit.field]
        try:
            saved = self.console.services["update"](actor=self.request.user, plan=plan, data={edit.field: value},
                                                    expected_version=form.cleaned_data["expected_version"])  # fmt: skip
        except errors.StaleVersion as exc:
            now = (exc.context or {}).get("current_version")
            form.add_error(None, f"{self.console.label} {self.console.describe(plan)} was changed by someone else"
                                 f"{f' (now version {now})' if now else ''}; nothing was saved. Reload to see "
                                 "the current values, then try again.")  # fmt: skip
            return self.render_to_response(self.get_context_data(form=form, stale=True))
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        name = f"{self.console.label} {self.console.describe(saved)}"
        where = f"(version {saved.version}, {saved.get_status_display().lower()})"
        label = edit.label.lower()
        if getattr(plan, edit.field) == getattr(saved, edit.field):
            messages.info(self.request, f"{name}: {label} unchanged {where}.")
        elif value is None:
            messages.success(self.request, f"{name}: {label} cleared {where}.")
        else:
            verb = "recorded" if edit.needs == "record_actual" else "saved"
            messages.success(self.request, f"{name}: {label} {floatformat(value, '-2g')} {verb} {where}.")
        return HttpResponseRedirect(self.next_url())
