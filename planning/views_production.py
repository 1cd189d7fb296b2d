"""Console page of Production Scheduling (UI-06): generate a supply plan's schedule, its capacity diagnostics
and slots with their status and order, and a timeline. Reads through planning.selectors.production, writes
through planning.services.production."""

from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, raise_page_error
from planning import permissions as perms
from planning.charts import capacity_bar_chart, timeline_chart
from planning.choices import ScheduleStatus
from planning.models import ProductionSchedule
from planning.selectors import production as sel
from planning.selectors.supply import supply_plan_get
from planning.services import production as svc

PLANS_SHOWN = 300
DEFAULT_SHIFTS = ("Shift-A", "Shift-B")


def _shift_choices() -> list[tuple[str, str]]:
    names = list(settings.SHIFT_START_HOURS or {}) or ["Shift-A", "Shift-B", "Shift-C"]
    return [(name, f"{name} ({int(settings.SHIFT_START_HOURS[name]):02d}:00)" if name in settings.SHIFT_START_HOURS
             else name) for name in names]  # fmt: skip


def _short_label(group: dict, groups: list[dict]) -> str:
    """The axis label of a group: only the dimensions that differ between groups (shift without `Shift-`)."""
    parts = [group[key].removeprefix("Shift-") if key == "shift" else group[key]
             for key in ("workcenter", "line", "shift") if len({g[key] for g in groups}) > 1]  # fmt: skip
    return "/".join(parts) or group["shift"]


def _plan_label(plan, slot_count: int = 0) -> str:
    label = f"{plan.product.sku} · {plan.location.code} · {plan.period:%b %Y} · {plan.planned_prod_qty:,.2f}"
    return f"{label} ({slot_count} slots)" if slot_count else label


class GenerateForm(forms.Form):
    """UI-06 Generate Schedule: names are comma-separated; the service trims and de-duplicates them."""

    supply_plan_id = forms.TypedChoiceField(coerce=int, label="Supply plan")
    workcenters = forms.CharField(max_length=500, initial="WC-1", help_text="Comma-separated, e.g. WC-1, WC-2.")
    lines = forms.CharField(max_length=500, initial="Line-1", help_text="Comma-separated.")
    duration_hours_per_slot = forms.IntegerField(min_value=1, max_value=24, initial=8, label="Hours per slot")
    shifts = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, initial=list(DEFAULT_SHIFTS))
    confirm_replace = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, plans=(), counts=None, **kwargs):
        super().__init__(*args, **kwargs)
        counts = counts or {}
        self.fields["supply_plan_id"].choices = [(p.pk, _plan_label(p, counts.get(p.pk, 0))) for p in plans]
        self.fields["shifts"].choices = _shift_choices()

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"workcenters": data["workcenters"].split(","), "lines": data["lines"].split(","),
                "shifts": data["shifts"], "duration_hours_per_slot": data["duration_hours_per_slot"]}  # fmt: skip


class ProductionMixin(ConsolePermissionMixin):
    permission_required = perms.VIEW_PRODUCTION_SCHEDULE


def _slot_counts(user) -> dict[int, int]:
    from django.db.models import Count

    rows = ProductionSchedule.objects.for_user(user).values("supply_plan_id").annotate(n=Count("id"))
    return {row["supply_plan_id"]: row["n"] for row in rows}


class ProductionScheduleView(ProductionMixin, TemplateView):
    """The page: ?supply_plan_id chooses the plan whose diagnostics, slots and timeline are shown (default the
    newest scheduled plan)."""

    template_name = "planning/production/schedule.html"

    @cached_property
    def can_generate(self) -> bool:
        return self.request.user.has_perm(perms.ADD_PRODUCTION_SCHEDULE)

    @cached_property
    def counts(self) -> dict[int, int]:
        return _slot_counts(self.request.user)

    @cached_property
    def schedulable(self) -> list:
        return list(sel.production_schedulable_plans(user=self.request.user)[:PLANS_SHOWN])

    def selected_plan(self):
        user = self.request.user
        raw = self.request.GET.get("supply_plan_id") or self.request.POST.get("supply_plan_id")
        if raw:
            try:
                return supply_plan_get(user=user, pk=int(raw))
            except (ValueError, errors.NotFound):
                messages.error(self.request, "That supply plan is not in your scope.")
        return sel.production_scheduled_plans(user=user).first()

    def generate_form(self, plan):
        initial = {"supply_plan_id": plan.pk} if plan is not None else {}
        return GenerateForm(initial=initial, plans=self.schedulable, counts=self.counts)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        plan = kwargs.get("plan") or self.selected_plan()
        context["plan"] = plan
        context["can_generate"] = self.can_generate
        context["viewable_plans"] = [(p, self.counts.get(p.pk, 0)) for p in
                                     sel.production_scheduled_plans(user=user)[:PLANS_SHOWN]]  # fmt: skip
        if self.can_generate and "form" not in context:
            context["form"] = self.generate_form(plan)
        if plan is None:
            return context
        context["plan_slot_count"] = self.counts.get(plan.pk, 0)
        context["summary"] = summary = sel.production_capacity_summary(user=user, supply_plan_id=plan.pk)
        groups = summary["groups"]
        share = summary["capacity_max_qty"] / len(groups) if groups and summary["capacity_max_qty"] > 0 else None
        context["capacity_share"] = share
        context["capacity_chart"] = capacity_bar_chart(
            [{"label": f"{g['workcenter']} · {g['line']} · {g['shift']}", "short": _short_label(g, groups),
              "value": g["total_planned_qty"]} for g in groups],
            capacity_share=share,
        )  # fmt: skip
        slots = list(sel.production_schedule_list(user=user, filters={"supply_plan_id": plan.pk}))
        zone = ZoneInfo(settings.PLANNING_TIME_ZONE)
        labels = dict(ScheduleStatus.choices)
        rows = []
        for i, slot in enumerate(slots):
            statuses = svc.production_schedule_allowed_statuses(user, slot)
            movable = "resequence" in svc.production_schedule_allowed_actions(user, slot)
            rows.append({"slot": slot, "start": slot.planned_start_at.astimezone(zone),
                         "end": slot.planned_end_at.astimezone(zone),
                         "targets": [(s, labels[s]) for s in statuses],
                         "can_up": movable and i > 0, "can_down": movable and i < len(slots) - 1})  # fmt: skip
        context["rows"] = rows
        context["time_zone"] = settings.PLANNING_TIME_ZONE
        lanes = list(dict.fromkeys(f"{s.workcenter} · {s.line}" for s in slots))
        context["timeline"] = timeline_chart(lanes, [
            {"row": f"{s.workcenter} · {s.line}", "start": s.planned_start_at, "end": s.planned_end_at,
             "label": str(s.sequence_order), "status": s.status,
             "title": f"#{s.sequence_order} {s.workcenter} · {s.line} · {s.shift}: {s.planned_qty:,.2f} "
                      f"({s.planned_start_at.astimezone(zone):%b %d %H:%M}-{s.planned_end_at.astimezone(zone):%H:%M}, "
                      f"{labels[s.status]})"}
            for s in slots
        ], zone=zone)  # fmt: skip
        context["status_labels"] = ScheduleStatus.choices
        return context


def _back(plan_id) -> str:
    return f"{reverse('planning:production_schedule')}?supply_plan_id={plan_id}"


class ProductionScheduleGenerateView(ProductionScheduleView):
    """POST of the Generate Schedule form. A plan that already has slots is regenerated only after the
    planner confirms that its slots will be replaced (the page asks once, listing what goes)."""

    permission_required = (perms.VIEW_PRODUCTION_SCHEDULE, perms.ADD_PRODUCTION_SCHEDULE)
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = GenerateForm(request.POST, plans=self.schedulable, counts=self.counts)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        plan = supply_plan_get(user=request.user, pk=form.cleaned_data["supply_plan_id"])
        existing = self.counts.get(plan.pk, 0)
        if existing and not form.cleaned_data["confirm_replace"]:
            confirm = {"count": existing, "label": _plan_label(plan), "data": request.POST,
                       "shifts": form.cleaned_data["shifts"]}  # fmt: skip
            return self.render_to_response(self.get_context_data(form=form, plan=plan, confirm=confirm))
        try:
            result = svc.production_schedule_generate(actor=request.user, supply_plan=plan,
                                                      **form.service_kwargs())  # fmt: skip
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_error(None, exc.message)
            for name, msgs in (exc.fields or {}).items():
                if name in form.fields:
                    for message in msgs:
                        form.add_error(name, message)
            return self.render_to_response(self.get_context_data(form=form, plan=plan), status=400)
        replaced = f", replacing {result.replaced}" if result.replaced else ""
        messages.success(request, f"{len(result.slots)} slots generated for {_plan_label(plan)}{replaced}.")
        for warning in result.warnings:
            messages.warning(request, warning)
        return HttpResponseRedirect(_back(plan.pk))


class SlotActionView(ProductionMixin, View):
    """POST of a slot's Set Status or Reorder control; refusals come back as an error message."""

    http_method_names = ["post"]
    action = ""

    def get_permission_required(self):
        needed = perms.SET_PRODUCTION_SCHEDULE_STATUS if self.action == "status" else perms.ADD_PRODUCTION_SCHEDULE
        return (perms.VIEW_PRODUCTION_SCHEDULE, needed)

    def post(self, request, pk):
        slot = sel.production_schedule_get(user=request.user, pk=pk)
        try:
            if self.action == "status":
                status = request.POST.get("status", "")
                if status not in ScheduleStatus.values:
                    raise errors.ValidationFailed("Choose a status.")
                svc.production_schedule_set_status(actor=request.user, slot=slot, status=status)
                messages.success(request, f"Slot {slot.sequence_order} is now {ScheduleStatus(status).label.lower()}.")
            else:
                direction = request.POST.get("direction", "")
                svc.production_schedule_resequence(actor=request.user, slot=slot, direction=direction)
                messages.success(request, f"Slot {slot.workcenter} · {slot.shift} moved {direction}.")
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
        return HttpResponseRedirect(_back(slot.supply_plan_id))
