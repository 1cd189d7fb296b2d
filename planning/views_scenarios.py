"""Console pages of scenarios (UI-10): the card grid, the create/edit form, the detail page with results,
comments and history, the workflow buttons and the side-by-side comparison with its impact chart.

Reads go through planning.selectors.scenarios and writes through planning.services.scenarios; every
button comes from `scenario_allowed_actions` and the services re-check each action.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.views.generic import FormView, TemplateView, View

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, SelectedObjectMixin, paginate, raise_page_error, safe_next
from governance.selectors import audit_history, comment_list
from planning import permissions as perms
from planning.charts import Frame, Scale, nice_ticks, tick_label
from planning.choices import ScenarioStatus, ScenarioType
from planning.forms import ConsoleForm, category_options
from planning.selectors import scenarios as selectors
from planning.services import scenarios as services

TYPE_LABELS = {
    ScenarioType.WHAT_IF: "What-If Analysis", ScenarioType.STRESS_TEST: "Stress Test",
    ScenarioType.BASELINE: "Baseline", ScenarioType.BEST_CASE: "Best Case", ScenarioType.WORST_CASE: "Worst Case",
}  # fmt: skip
ACTION_URLS = ("run", "submit", "approve", "reject", "reopen", "designate_operating_plan", "undesignate", "clone",
               "delete")  # fmt: skip
_DONE = {
    "run": "run", "submit": "submitted for approval", "approve": "approved", "reject": "rejected",
    "reopen": "reopened", "designate_operating_plan": "designated as the operating plan",
    "undesignate": "no longer the operating plan", "clone": "cloned", "delete": "deleted",
}  # fmt: skip
MAIN_PARAMETERS = ("demand_change_pct", "supply_capacity_pct", "price_change_pct", "inventory_release_pct")
ADVANCED_PARAMETERS = ("inventory_carry_rate_pct", "stockout_penalty_per_unit", "service_weight", "cost_weight",
                       "cash_weight")  # fmt: skip
FIGURES = (
    ("demand_qty", "Demand (units)", "qty"), ("supply_qty", "Planned supply (units)", "qty"),
    ("inventory_available_qty", "Inventory available (units)", "qty"),
    ("effective_supply_qty", "Effective supply (units)", "qty"), ("revenue", "Revenue", "money"),
    ("margin", "Margin", "money"), ("inventory_value", "Inventory value", "money"),
    ("service_level", "Service level", "pct"),
)  # fmt: skip
IMPACTS = (
    ("revenue_impact", "Revenue impact", "money"), ("margin_impact", "Margin impact", "money"),
    ("inventory_impact", "Inventory impact", "money"), ("service_level_impact", "Service level impact", "pct"),
)  # fmt: skip
TRADEOFF = (
    ("inventory_carrying_cost", "Carrying cost", "money"), ("stockout_penalty_cost", "Stockout penalty", "money"),
    ("working_capital_delta", "Working capital Δ", "money"), ("composite_score", "Composite score", "score"),
    ("open_inventory_exceptions", "Open inventory exceptions", "count"),
    ("high_risk_exception_count", "High-risk exceptions", "count"),
)  # fmt: skip
DELTAS = (
    ("demand_qty", "Demand Δ (units)", "qty"), ("supply_qty", "Supply Δ (units)", "qty"),
    ("revenue", "Revenue Δ", "money"), ("margin", "Margin Δ", "money"),
    ("inventory_value", "Inventory value Δ", "money"), ("service_level", "Service level Δ", "pct"),
    ("composite_score", "Composite Δ", "score"),
)  # fmt: skip


def scenario_url(name: str, *args) -> str:
    return reverse(f"planning:scenario_{name}", args=args)


class ScenarioForm(ConsoleForm):
    """UI-10 create/edit: name, type, description, period, the four main FRM-30 changes, the advanced
    parameters and the scope. Ranges are checked by the service, whose messages land on these inputs."""

    field_aliases = {f"parameters.{name}": name for name in (*MAIN_PARAMETERS, *ADVANCED_PARAMETERS)} | {
        "parameters.period": "period", "scope.category_ids": "categories", "scope.location_codes": "locations",
        "parameters": None,
    }  # fmt: skip

    name = forms.CharField(max_length=255)
    scenario_type = forms.ChoiceField(label="Type", choices=[(k.value, v) for k, v in TYPE_LABELS.items()],
                                      initial=ScenarioType.WHAT_IF)  # fmt: skip
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    period = forms.CharField(label="Scenario Period", required=False, max_length=10,
                             widget=forms.TextInput(attrs={"type": "month"}),
                             help_text="Default: the latest month with demand plans.")  # fmt: skip
    demand_change_pct = forms.DecimalField(label="Demand Change %", required=False, help_text="-100 to 500")
    supply_capacity_pct = forms.DecimalField(label="Supply Capacity Change %", required=False, help_text="-100 to 500")
    price_change_pct = forms.DecimalField(label="Price Change %", required=False, help_text="-100 to 500")
    inventory_release_pct = forms.DecimalField(label="Inventory Release %", required=False, help_text="-100 to 100")
    inventory_carry_rate_pct = forms.DecimalField(label="Carry rate %", required=False, help_text="0 to 100; 18")
    stockout_penalty_per_unit = forms.DecimalField(label="Stockout penalty per unit", required=False,
                                                   help_text="Default: 25 % of the average selling price")  # fmt: skip
    service_weight = forms.DecimalField(label="Service weight", required=False, help_text="0 to 1; 0.45")
    cost_weight = forms.DecimalField(label="Cost weight", required=False, help_text="0 to 1; 0.30")
    cash_weight = forms.DecimalField(label="Cash weight", required=False, help_text="0 to 1; 0.25")
    categories = forms.TypedMultipleChoiceField(
        label="Scope: categories",
        coerce=int,
        required=False,
        help_text="None: company-wide (your own scope if you have one).",
    )
    locations = forms.MultipleChoiceField(label="Scope: locations", required=False)

    def __init__(self, *args, categories=(), locations=(), type_locked=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = list(categories)
        self.fields["locations"].choices = [(code, code) for code in locations]
        if type_locked:
            self.fields["scenario_type"].disabled = True
            self.fields["scenario_type"].help_text = "The type changes only while the scenario is a draft."

    def main_fields(self):
        return [self[name] for name in ("name", "scenario_type", "description", "period", *MAIN_PARAMETERS)]

    def advanced_fields(self):
        return [self[name] for name in ADVANCED_PARAMETERS]

    def scope_fields(self):
        return [self["categories"], self["locations"]]

    def service_data(self) -> dict:
        data = self.cleaned_data
        parameters = {name: _plain(data[name]) for name in (*MAIN_PARAMETERS, *ADVANCED_PARAMETERS)
                      if data.get(name) is not None}  # fmt: skip
        if data.get("period"):
            parameters["period"] = data["period"]
        scope = {}
        if data.get("categories"):
            scope["category_ids"] = list(data["categories"])
        if data.get("locations"):
            scope["location_codes"] = list(data["locations"])
        return {"name": data["name"], "description": data.get("description") or "",
                "scenario_type": data["scenario_type"], "parameters": parameters, "scope": scope}  # fmt: skip


def _plain(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def _figure_rows(spec, *sources) -> list[dict]:
    return [{"label": label, "kind": kind, "values": [(src or {}).get(key) for src in sources]}
            for key, label, kind in spec]  # fmt: skip


class ScenarioMixin(ConsolePermissionMixin):
    permission_required = (perms.VIEW_SCENARIO,)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["type_labels"] = {k.value: v for k, v in TYPE_LABELS.items()}
        return context


class ScenarioObjectMixin(SelectedObjectMixin):
    object_selector = staticmethod(selectors.scenario_get)
    context_object_name = "scenario"


class ScenarioListView(ScenarioMixin, TemplateView):
    """UI-10 card grid: status badge, type chip, period, operating-plan badge, impacts and trade-off tiles
    once run, and the buttons the caller may use. Cards can be ticked for the comparison."""

    template_name = "planning/scenarios/scenario_list.html"
    filter_keys = ("status", "scenario_type", "period", "search")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = {k: v for k in self.filter_keys if (v := self.request.GET.get(k, "").strip())}
        try:
            queryset = selectors.scenario_list(user=user, filters=filters)
        except errors.ValidationFailed as exc:
            context["filter_error"] = exc.message
            filters = {}
            queryset = selectors.scenario_list(user=user)
        context.update(paginate(self.request, queryset))
        context["cards"] = [
            {"scenario": s, "actions": services.scenario_allowed_actions(user=user, scenario=s),
             "tradeoff": (s.results or {}).get("tradeoff") or {}, "type_label": TYPE_LABELS.get(s.scenario_type)}
            for s in context["page"].object_list
        ]  # fmt: skip
        context.update(filters=filters, status_choices=ScenarioStatus.choices, can_add=user.has_perm(
            perms.ADD_SCENARIO), compare_max=selectors.COMPARE_MAX)  # fmt: skip
        return context


class ScenarioFormView(ScenarioMixin, FormView):
    template_name = "planning/scenarios/scenario_form.html"
    form_class = ScenarioForm

    def get_form_kwargs(self):
        from planning.selectors import category_list, location_list

        kwargs = super().get_form_kwargs()
        user = self.request.user
        kwargs["categories"] = category_options(category_list(user=user)) if user.has_perm(perms.VIEW_CATEGORY) else []
        kwargs["locations"] = (list(location_list(user=user).order_by("code").values_list("code", flat=True))
                               if user.has_perm(perms.VIEW_LOCATION) else [])  # fmt: skip
        return kwargs

    def form_valid(self, form):
        try:
            scenario = self.save(form.service_data())
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message.format(name=scenario.name))
        return HttpResponseRedirect(scenario_url("detail", scenario.pk))


class ScenarioCreateView(ScenarioFormView):
    permission_required = (perms.VIEW_SCENARIO, perms.ADD_SCENARIO)
    success_message = "Scenario “{name}” created as a draft."

    def save(self, data):
        return services.scenario_create(actor=self.request.user, data=data)


class ScenarioUpdateView(ScenarioObjectMixin, ScenarioFormView):
    permission_required = (perms.VIEW_SCENARIO, perms.CHANGE_SCENARIO)
    success_message = "Scenario “{name}” saved; it is a draft again."

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            scenario = self.object
            if "edit" not in services.scenario_allowed_actions(user=request.user, scenario=scenario):
                messages.error(request, f"This scenario is {scenario.get_status_display().lower()}; it cannot be "
                                        "edited.")  # fmt: skip
                return HttpResponseRedirect(scenario_url("detail", scenario.pk))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["type_locked"] = self.object.status != ScenarioStatus.DRAFT
        return kwargs

    def get_initial(self):
        scenario = self.object
        parameters = scenario.parameters or {}
        scope = scenario.scope or {}
        return {"name": scenario.name, "description": scenario.description, "scenario_type": scenario.scenario_type,
                "period": scenario.period.strftime("%Y-%m") if scenario.period else "",
                **{k: parameters.get(k) for k in (*MAIN_PARAMETERS, *ADVANCED_PARAMETERS)},
                "categories": scope.get("category_ids", []), "locations": scope.get("location_codes", [])}  # fmt: skip

    def save(self, data):
        return services.scenario_update(actor=self.request.user, scenario=self.object, data=data)


class ScenarioDetailView(ScenarioMixin, ScenarioObjectMixin, TemplateView):
    """The scenario with its parameters, results tables (baseline against scenario), impacts and trade-off;
    tabs Comments (decisions and remarks) and History (audit)."""

    template_name = "planning/scenarios/scenario_detail.html"
    tabs = ("details", "comments", "history")

    @staticmethod
    def scope_label(scope: dict) -> str:
        from planning.models import Category

        parts = []
        if scope.get("category_ids"):
            names = (
                Category.objects.filter(pk__in=scope["category_ids"]).order_by("name").values_list("name", flat=True)
            )
            parts.append("Categories: " + ", ".join(names))
        if scope.get("location_codes"):
            parts.append("Locations: " + ", ".join(scope["location_codes"]))
        return " · ".join(parts)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, scenario = self.request.user, self.object
        context["actions"] = services.scenario_allowed_actions(user=user, scenario=scenario)
        context["type_label"] = TYPE_LABELS.get(scenario.scenario_type)
        context["scope_label"] = self.scope_label(scenario.scope or {})
        tab = self.request.GET.get("tab")
        context["tab"] = tab if tab in self.tabs else "details"
        results = scenario.results or {}
        context["results"] = results
        context["figures"] = _figure_rows(FIGURES, results.get("baseline"), results.get("scenario"))
        for row in context["figures"]:
            base, new = row["values"]
            row["delta"] = round(new - base, 2) if base is not None and new is not None else None
        context["impacts"] = [{"label": label, "kind": kind, "value": results.get(key)} for key, label, kind in IMPACTS]
        tradeoff = results.get("tradeoff") or {}
        context["tradeoff"] = [
            {"label": label, "kind": kind, "value": tradeoff.get(key)}
            for key, label, kind in (*TRADEOFF, ("medium_risk_exception_count", "Medium-risk exceptions", "count"))
        ]
        parameters = scenario.parameters or {}
        inputs = results.get("inputs") or {}
        context["parameters"] = [
            {"label": services.PARAMETER_LABELS[name], "given": parameters.get(name), "used": inputs.get(name)}
            for name in services.PARAMETERS
        ]  # fmt: skip
        if context["tab"] == "comments":
            context["comments"] = comment_list(user=user, entity_type="scenario", entity_id=str(scenario.pk))
        elif context["tab"] == "history":
            from planning.views import history_rows

            events = list(audit_history(user=user, target_type="scenario", target_id=scenario.pk))
            context["history"] = history_rows(
                events,
                model=type(scenario),
                names={},
                choices={"status": ScenarioStatus, "scenario_type": ScenarioType},
            )
        return context


class ScenarioActionView(ScenarioMixin, ScenarioObjectMixin, View):
    """POST-only workflow button. A refusal other than 403/404 returns to the page with its message."""

    http_method_names = ["post"]
    action = ""

    def get_permission_required(self):
        return (perms.VIEW_SCENARIO,)

    def perform(self, scenario, comment: str):
        user = self.request.user
        if self.action == "delete":
            return services.scenario_delete(actor=user, scenario=scenario)
        if self.action == "run":
            return services.scenario_run(actor=user, scenario=scenario)
        if self.action == "clone":
            return services.scenario_clone(actor=user, scenario=scenario, name=self.request.POST.get("name"))
        service = {"submit": services.scenario_submit, "approve": services.scenario_approve,
                   "reject": services.scenario_reject, "reopen": services.scenario_reopen,
                   "designate_operating_plan": services.scenario_designate_operating_plan,
                   "undesignate": services.scenario_undesignate}[self.action]  # fmt: skip
        return service(actor=user, scenario=scenario, comment=comment)

    def post(self, request, *args, **kwargs):
        scenario = self.object
        detail = scenario_url("detail", scenario.pk)
        comment = (request.POST.get("reason") or request.POST.get("comment") or "").strip()
        try:
            result = self.perform(scenario, comment)
        except errors.DomainError as exc:
            raise_page_error(exc)
            message = exc.message
            for field_messages in (exc.fields or {}).values():
                message = " ".join(str(m) for m in field_messages)
            messages.error(request, message)
            return HttpResponseRedirect(safe_next(request, detail))
        messages.success(request, f"Scenario “{scenario.name}” {_DONE[self.action]}.")
        if self.action == "clone":
            return HttpResponseRedirect(scenario_url("detail", result.pk))
        if self.action == "delete":
            target = request.POST.get("next") or ""
            grid = scenario_url("list")
            return HttpResponseRedirect(grid if f"/{scenario.pk}/" in target else safe_next(request, grid))
        return HttpResponseRedirect(safe_next(request, detail))


# The comparison -------------------------------------------------------------------------------

SERIES = 6  # one colour per compared scenario (chart__bar--s0…s5)


def impact_chart(compared: list[dict], metrics, *, suffix: str = "") -> dict | None:
    """A grouped bar chart, one group per impact metric and one bar per scenario (server-side SVG; colours
    from the chart__bar--s<i> classes). None when no scenario has results."""
    values = [row.get(key) for row in compared for key, _, _ in metrics]
    if all(v is None for v in values):
        return None
    frame = Frame(height=280, left=72)
    ticks = nice_ticks(min(float(v) for v in values if v is not None), max(float(v) for v in values if v is not None))
    y = Scale(ticks[0], ticks[-1], frame.y0, frame.y1)
    slot = (frame.x1 - frame.x0) / len(metrics)
    group = slot * 0.75
    width = round(group / max(len(compared), 1), 1)
    bars, labels = [], []
    for i, (key, label, _kind) in enumerate(metrics):
        centre = frame.x0 + slot * (i + 0.5)
        labels.append({"x": round(centre, 1), "y": frame.y0 + 18, "label": label})
        for j, row in enumerate(compared):
            value = row.get(key)
            if value is None:
                continue
            top, bottom = sorted((y(value), y(0)))
            bars.append({"x": round(centre - group / 2 + j * width, 1), "y": top, "width": max(width - 2, 1),
                         "height": max(round(bottom - top, 1), 0.5), "series": j % SERIES, "value": value,
                         "label": f"{row['name']}: {label}"})  # fmt: skip
    return {
        "frame": frame, "bars": bars, "x_labels": labels, "baseline": y(0),
        "y_ticks": [{"y": y(t), "label": tick_label(t, suffix)} for t in ticks],
        "legend": [{"series": j % SERIES, "name": row["name"]} for j, row in enumerate(compared)],
    }  # fmt: skip


class ScenarioCompareView(ScenarioMixin, TemplateView):
    """UI-10 Compare: tick 2 to 6 scenarios → side by side (baseline and scenario figures, impacts, trade-off,
    deltas against the first) with grouped bar charts of the impacts and their data tables."""

    template_name = "planning/scenarios/scenario_compare.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        raw = self.request.GET.getlist("ids")
        ids = [v for item in raw for v in item.split(",") if v.strip()]
        context["choices"] = selectors.scenario_list(user=user)[:200]
        context["selected"] = {str(v) for v in ids}
        context["compare_min"], context["compare_max"] = selectors.COMPARE_MIN, selectors.COMPARE_MAX
        if not ids:
            return context
        try:
            compared = selectors.scenario_compare(user=user, ids=ids)
        except errors.ValidationFailed as exc:
            context["compare_error"] = " ".join(str(m) for msgs in (exc.fields or {}).values() for m in msgs)
            return context
        except errors.NotFound as exc:
            context["compare_error"] = exc.message
            return context
        context["compared"] = compared
        context["ids_param"] = ",".join(str(row["id"]) for row in compared)
        context["sections"] = [
            {"title": "Baseline", "rows": _figure_rows(FIGURES, *(r["baseline"] for r in compared))},
            {"title": "Scenario", "rows": _figure_rows(FIGURES, *(r["scenario"] for r in compared))},
            {"title": "Impacts", "rows": _figure_rows(IMPACTS, *compared), "signed": True},
            {"title": "Trade-off", "rows": _figure_rows(TRADEOFF, *(r["tradeoff"] for r in compared))},
            {"title": f"Δ against {compared[0]['name']}", "signed": True,
             "rows": _figure_rows(DELTAS, *(r["deltas"] for r in compared))},
        ]  # fmt: skip
        context["money_chart"] = impact_chart(compared, IMPACTS[:3])
        context["service_chart"] = impact_chart(compared, IMPACTS[3:], suffix="%")
        context["impact_rows"] = _figure_rows(IMPACTS, *compared)
        return context


urlpatterns = [
    path("scenarios/", ScenarioListView.as_view(), name="scenario_list"),
    path("scenarios/new/", ScenarioCreateView.as_view(), name="scenario_create"),
    path("scenarios/compare/", ScenarioCompareView.as_view(), name="scenario_compare"),
    path("scenarios/<int:pk>/", ScenarioDetailView.as_view(), name="scenario_detail"),
    path("scenarios/<int:pk>/edit/", ScenarioUpdateView.as_view(), name="scenario_edit"),
    *[path(f"scenarios/<int:pk>/{action.replace('_', '-')}/", ScenarioActionView.as_view(action=action),
           name=f"scenario_{action}") for action in ACTION_URLS],
]  # fmt: skip
