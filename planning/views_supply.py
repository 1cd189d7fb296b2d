"""Console pages of supply planning (UI-05): the plans grid and pages shared with demand plans
(planning.views_plans), and the supply gap analysis with its chart and "Close Gap" / "Adjust Plan"."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, filters_from, raise_page_error, safe_next
from planning import charts, selectors, services
from planning import permissions as perms
from planning.choices import GapStatus, PlanStatus, ProductStatus
from planning.filtersets import parse_month
from planning.forms import ConsoleForm, SupplyPlanForm, category_options
from planning.models import Location, SupplyPlan
from planning.views_plans import (
    PlanBulkView,
    PlanConsole,
    PlanCreateView,
    PlanDetailView,
    PlanListView,
    PlanTransitionView,
    PlanUpdateView,
    QuantityEdit,
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
        "unlock": services.supply_plan_unlock,
    },
    version_columns=[("planned_prod_qty", "Planned"), ("capacity_max", "Capacity max"),
                     ("capacity_used", "Capacity used %"), ("supplier_name", "Supplier"),
                     ("lead_time_days", "Lead time"), ("cost_per_unit", "Cost/unit"), ("constraints", "Constraints")],
    quantity_edits=(
        QuantityEdit(action="adjust", field="planned_prod_qty", label="Planned qty", needs="edit", verb="Adjust"),
        QuantityEdit(action="record_actual", field="actual_prod_qty", label="Actual qty", needs="record_actual",
                     verb="Record actual", required=True),
    ),
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

CLOSE_PERMISSIONS = (perms.VIEW_SUPPLY_PLAN, perms.ADD_SUPPLY_PLAN, perms.CHANGE_SUPPLY_PLAN)
EDITABLE_STATUSES = (PlanStatus.DRAFT, PlanStatus.REJECTED)
GAP_LEGEND = [("demand", "Demand"), ("supply", "Effective supply"), ("coverage", "Coverage gap %")]


def gap_chart(items: list[dict]) -> charts.Chart | None:
    """UI-05 chart of one product: demand and effective supply bars per period, coverage % as a line."""
    if not items:
        return None
    months = charts.month_range(items[0]["period"], items[-1]["period"])
    by_month = {item["period"]: item for item in items}

    def values(key):
        return {month: item[key] for month, item in by_month.items()}

    (demand, demand_label), (supply, supply_label), (coverage, coverage_label) = GAP_LEGEND
    bars = [{"key": demand, "label": demand_label, "values": values("demand_qty")},
            {"key": supply, "label": supply_label, "values": values("effective_supply_qty")}]  # fmt: skip
    line = {"key": coverage, "label": coverage_label, "values": values("coverage_gap_pct")}
    return charts.bar_line_chart(months, bars, line)


class SupplyGapAnalysisView(ConsolePermissionMixin, TemplateView):
    """The gap per product and period, coloured by status, with the chart of one product; SUP_W users
    get "Close Gap" on shortages and "Adjust Plan" on excesses."""

    permission_required = perms.VIEW_SUPPLY_PLAN
    template_name = "planning/supply_gap_analysis.html"
    filter_keys = ("period", "period_to", "product_id", "category_id", "status")

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
        chart_products = list(dict.fromkeys((item["product_id"], item["sku"], item["product_name"]) for item in items))
        wanted = self.request.GET.get("chart", "")
        chart_product = next(
            (p for p in chart_products if str(p[0]) == wanted), chart_products[0] if chart_products else None
        )
        chart_items = [item for item in items if chart_product and item["product_id"] == chart_product[0]]
        chart_items.sort(key=lambda item: item["period"])
        context.update(
            items=items, filters=filters, category_choices=_categories(user), status_choices=GapStatus.choices,
            product_choices=selectors.products_active_first(user=user).only("pk", "sku", "name", "status"),
            can_close=user.has_perms(CLOSE_PERMISSIONS), current_period=selectors.planning_today().replace(day=1),
            chart_products=chart_products, chart_product=chart_product, chart_items=chart_items,
            chart=gap_chart(chart_items), chart_filters=list(filters.items()), legend=GAP_LEGEND,
        )  # fmt: skip
        return context


class GapCloseForm(ConsoleForm):
    field_aliases = {"location_id": "location"}

    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), empty_label=None,
        help_text="The plan at this location is edited, or created as a draft.",
    )  # fmt: skip
    planned_prod_qty = forms.DecimalField(label="Planned quantity", min_value=0, max_digits=12, decimal_places=2)

    def __init__(self, *args, locations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations if locations is not None else Location.objects.none()
        self.fields["location"].label_from_instance = lambda loc: f"{loc.code} · {loc.name}"


class SupplyGapCloseView(ConsolePermissionMixin, FormView):
    """UI-05 "Close Gap" / "Adjust Plan": GET shows the proposal of one product-period
    (?product=&period=, optionally &location=code) in a pre-filled form; POST writes it through
    supply_gap_close, which re-checks everything, and returns to the gap analysis."""

    permission_required = CLOSE_PERMISSIONS
    template_name = "planning/supply_gap_close.html"
    form_class = GapCloseForm

    @cached_property
    def product(self):
        return selectors.product_get(user=self.request.user, pk=self.request.GET.get("product"))

    @cached_property
    def period(self):
        try:
            return parse_month(self.request.GET.get("period", ""))
        except errors.ValidationFailed:
            raise Http404("Unknown period.") from None

    @cached_property
    def locations(self):
        return selectors.location_list(user=self.request.user, filters={"is_active": "true"}).order_by("code")

    @cached_property
    def proposal(self) -> dict:
        code = self.request.POST.get("location") if self.request.method == "POST" else None
        chosen = None
        if code:
            chosen = self.locations.filter(pk=code).first() if code.isdigit() else None
        elif self.request.GET.get("location"):
            chosen = self.locations.filter(code=self.request.GET["location"]).first()
        return selectors.gap_close_proposal(user=self.request.user, product=self.product, period=self.period,
                                            location=chosen)  # fmt: skip

    def back_url(self) -> str:
        return safe_next(self.request, f"{reverse('planning:supply_gap_analysis')}?period={self.period:%Y-%m}")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "locations": self.locations}

    def get_initial(self):
        proposal = self.proposal
        location = proposal["location"]
        return {"location": location.pk if location is not None else None, "planned_prod_qty": proposal["proposed_qty"]}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        proposal = self.proposal
        context.update(
            product=self.product, period=self.period, proposal=proposal, item=proposal["item"],
            action=proposal["action"], location_rows=proposal["rows"], back_url=self.back_url(),
            blocked=proposal["row"] is not None and proposal["row"].status not in EDITABLE_STATUSES,
        )  # fmt: skip
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            plan = services.supply_gap_close(
                actor=self.request.user, product=self.product, period=self.period,
                location=data["location"], planned_prod_qty=data["planned_prod_qty"],
            )  # fmt: skip
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Supply plan {plan.product.sku} {plan.period:%b %Y} at {plan.location.code} now plans "
            f"{plan.planned_prod_qty:,.0f} units (version {plan.version}, {plan.get_status_display().lower()}).",
        )
        return HttpResponseRedirect(self.back_url())


urlpatterns = [
    path("supply/gap-analysis/", SupplyGapAnalysisView.as_view(), name="supply_gap_analysis"),
    path("supply/gap-analysis/close/", SupplyGapCloseView.as_view(), name="supply_gap_close"),
    *plan_urlpatterns(SUPPLY_CONSOLE, "supply", SupplyPlanViews),
]
