"""Console pages of supply planning (UI-05): the plans grid and pages shared with demand plans
(planning.views_plans), and the supply gap analysis with its "Close gap" action."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.generic import TemplateView, View

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, filters_from, raise_page_error, safe_next
from planning import permissions as perms
from planning import selectors, services
from planning.choices import GapStatus, ProductStatus
from planning.filtersets import parse_month
from planning.forms import SupplyPlanForm, category_options
from planning.models import SupplyPlan
from planning.views_plans import (
    PlanBulkView,
    PlanConsole,
    PlanCreateView,
    PlanDetailView,
    PlanListView,
    PlanTransitionView,
    PlanUpdateView,
    plan_urlpatterns,
)

SUPPLY_CONSOLE = PlanConsole(
    name="supply_plan", label="Supply plan", section="Supply Planning", model=SupplyPlan,
    view_perm=perms.VIEW_SUPPLY_PLAN, add_perm=perms.ADD_SUPPLY_PLAN, change_perm=perms.CHANGE_SUPPLY_PLAN,
    submit_perm=perms.SUBMIT_SUPPLY_PLAN, approve_perm=perms.APPROVE_SUPPLY_PLAN,
    list_selector=selectors.supply_plan_list, get_selector=selectors.supply_plan_get,
    versions_selector=selectors.supply_plan_versions, allowed_actions=services.supply_plan_allowed_actions,
    services={
        "update": services.supply_plan_update, "submit": services.supply_plan_submit,
        "withdraw": services.supply_plan_withdraw, "approve": services.supply_plan_approve,
        "reject": services.supply_plan_reject, "reopen": services.supply_plan_reopen,
        "delete": services.supply_plan_delete, "bulk": services.supply_plan_bulk_transition,
    },
    version_columns=[("planned_prod_qty", "Planned"), ("capacity_max", "Capacity max"),
                     ("capacity_used", "Capacity used %"), ("supplier_name", "Supplier"),
                     ("lead_time_days", "Lead time"), ("cost_per_unit", "Cost/unit"), ("constraints", "Constraints")],
)  # fmt: skip


def _categories(user) -> list:
    return category_options(selectors.category_list(user=user)) if user.has_perm(perms.VIEW_CATEGORY) else []


class SupplyPlanListView(PlanListView):
    console = SUPPLY_CONSOLE
    template_name = "planning/supply_plan_list.html"
    filter_keys = ("search", "status", "period_from", "period_to", "location", "category_id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["category_choices"] = _categories(user)
        context["location_choices"] = selectors.location_list(user=user) if user.has_perm(perms.VIEW_LOCATION) else []
        return context


class SupplyPlanDetailView(PlanDetailView):
    console = SUPPLY_CONSOLE
    template_name = "planning/supply_plan_detail.html"

    def history_names(self, events) -> dict:
        ids = {str(v) for e in events for side in (e.before or {}, e.after or {})
               for k, v in side.items() if k == "location_id" and v is not None}  # fmt: skip
        if not ids:
            return {}
        codes = {str(loc.pk): loc.code for loc in selectors.location_list(user=self.request.user).filter(pk__in=ids)}
        return {"location_id": codes}


class SupplyPlanFormMixin:
    console = SUPPLY_CONSOLE
    form_class = SupplyPlanForm


class SupplyPlanCreateView(SupplyPlanFormMixin, PlanCreateView):
    success_message = "Supply plan for {object.product.sku} {object.period:%b %Y} at {object.location.code} created."

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        user = self.request.user
        kwargs["products"] = selectors.product_list(user=user, filters={"status": ProductStatus.ACTIVE})
        kwargs["locations"] = selectors.location_list(user=user, filters={"is_active": "true"})
        return kwargs

    def save(self, data):
        product, location = data.pop("product"), data.pop("location")
        return services.supply_plan_create(actor=self.request.user, product=product, location=location, data=data)


class SupplyPlanUpdateView(SupplyPlanFormMixin, PlanUpdateView):
    success_message = (
        "Supply plan for {object.product.sku} {object.period:%b %Y} at {object.location.code} saved "
        "(version {object.version})."
    )

    def get_initial(self):
        plan = self.object
        fields = ("planned_prod_qty", "capacity_max", "supplier_name", "lead_time_days", "cost_per_unit", "constraints")
        return {**{name: getattr(plan, name) for name in fields}, "expected_version": plan.version}


class SupplyPlanTransitionView(PlanTransitionView):
    console = SUPPLY_CONSOLE


class SupplyPlanBulkView(PlanBulkView):
    console = SUPPLY_CONSOLE


class SupplyPlanViews:
    List, Create, Detail, Update = SupplyPlanListView, SupplyPlanCreateView, SupplyPlanDetailView, SupplyPlanUpdateView
    Transition, Bulk = SupplyPlanTransitionView, SupplyPlanBulkView


# Gap analysis (UI-05, FRM-02) ----------------------------------------------------------------


class SupplyGapAnalysisView(ConsolePermissionMixin, TemplateView):
    """The gap per product and period, coloured by status; SUP_W users get "Close gap" on shortages."""

    permission_required = perms.VIEW_SUPPLY_PLAN
    template_name = "planning/supply_gap_analysis.html"
    filter_keys = ("period", "period_to", "category_id", "status")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = filters_from(self.request, self.filter_keys)
        try:
            items = selectors.gap_analysis(user=user, params=filters)
        except errors.ValidationFailed as exc:
            messages_text = [str(m) for msgs in (exc.fields or {}).values() for m in msgs]
            context["filter_error"] = " ".join(messages_text) or exc.message
            filters = {}
            items = selectors.gap_analysis(user=user, params={})
        context.update(
            items=items, filters=filters, category_choices=_categories(user), status_choices=GapStatus.choices,
            can_close=user.has_perms((perms.ADD_SUPPLY_PLAN, perms.CHANGE_SUPPLY_PLAN)),
            current_period=selectors.planning_today().replace(day=1),
        )  # fmt: skip
        return context


class SupplyGapCloseView(ConsolePermissionMixin, View):
    """POST: propose the supply that closes one product-period's gap (supply_gap_close), then back to
    the gap analysis with a message naming the plan written."""

    permission_required = (perms.VIEW_SUPPLY_PLAN, perms.ADD_SUPPLY_PLAN, perms.CHANGE_SUPPLY_PLAN)
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        page = safe_next(request, reverse("planning:supply_gap_analysis"))
        try:
            period = parse_month(request.POST.get("period", ""))
            product = selectors.product_get(user=request.user, pk=request.POST.get("product_id"))
            plan = services.supply_gap_close(actor=request.user, product=product, period=period)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
            return HttpResponseRedirect(page)
        messages.success(
            request,
            f"Supply plan {plan.product.sku} {plan.period:%b %Y} at {plan.location.code} now plans "
            f"{plan.planned_prod_qty:,.0f} units (version {plan.version}, {plan.get_status_display().lower()}).",
        )
        return HttpResponseRedirect(page)


urlpatterns = [
    path("supply/gap-analysis/", SupplyGapAnalysisView.as_view(), name="supply_gap_analysis"),
    path("supply/gap-analysis/close/", SupplyGapCloseView.as_view(), name="supply_gap_close"),
    *plan_urlpatterns(SUPPLY_CONSOLE, "supply", SupplyPlanViews),
]
