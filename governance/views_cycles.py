"""Console pages of the S&OP cycle (UI-11): the cycle cards, create and edit forms, the cycle page
with the gate panel of the current step, and the cycle actions.

Thin callers of governance.services.cycles; buttons show only for the actions in `allowed_actions`
and every post is re-checked by the service.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from genxsop import errors
from genxsop.console import ConsolePermissionMixin, raise_page_error
from governance import selectors
from governance.choices import (
    ACTION_ITEM_OPEN_STATUSES,
    ACTION_ITEM_TRANSITIONS,
    ActionItemPriority,
    ActionItemStatus,
    CycleStatus,
    DecisionCategory,
)
from governance.permissions import ADD_SOP_CYCLE, CHANGE_SOP_CYCLE, VIEW_SOP_CYCLE
from governance.scorecard import executive_board
from governance.services import action_items as action_item_services
from governance.services import cycles as cycle_services
from governance.services import decisions as decision_services
from governance.views_comments import CommentPostView, comments_context

User = get_user_model()
STEPS = range(1, cycle_services.STEP_COUNT + 1)


def _owner_choices():
    return User.objects.filter(is_active=True, is_service_account=False).order_by("full_name", "email")


def _owner_field(label: str) -> forms.ModelChoiceField:
    field = forms.ModelChoiceField(queryset=_owner_choices(), required=False, label=label, empty_label="— nobody —")
    field.label_from_instance = lambda user: f"{user.full_name} ({user.get_role_display()})"
    return field


class CycleForm(forms.Form):
    """Create and edit: name, period (create only), per-step due dates and owners, notes."""

    cycle_name = forms.CharField(
        max_length=255, required=False, label="Name", help_text='Default "<Month YYYY> S&OP Cycle".'
    )
    period = forms.DateField(
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text="The month the cycle plans.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["period"]
        for n in STEPS:
            name = cycle_services.CYCLE_STEP_NAMES[n]
            self.fields[f"step_{n}_owner"] = _owner_field(f"Step {n} owner · {name}")
            self.fields[f"step_{n}_due_date"] = forms.DateField(
                required=False, label=f"Step {n} due date", widget=forms.DateInput(attrs={"type": "date"})
            )

    def step_rows(self):
        return [(self[f"step_{n}_owner"], self[f"step_{n}_due_date"]) for n in STEPS]

    def service_data(self, *, editing: bool) -> dict:
        data = self.cleaned_data
        steps = {}
        for n in STEPS:
            values = {}
            if data.get(f"step_{n}_owner") is not None or editing:
                values["owner"] = data.get(f"step_{n}_owner")
            if data.get(f"step_{n}_due_date") is not None:
                values["due_date"] = data[f"step_{n}_due_date"]
            if values:
                steps[n] = values
        out = {"cycle_name": data.get("cycle_name", ""), "notes": data.get("notes", ""), "steps": steps}
        if not editing:
            out["period"] = data["period"]
        return out


class StepForm(forms.Form):
    owner = _owner_field("Owner")
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10_000)

    def __init__(self, *args, notes_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _owner_choices()
        if notes_only:
            del self.fields["owner"]
            del self.fields["due_date"]


def _apply_field_errors(form: forms.Form, exc: errors.DomainError) -> None:
    for name, msgs in (exc.fields or {}).items():
        target = name.replace("_id", "") if name.replace("_id", "") in form.fields else None
        for msg in msgs if isinstance(msgs, list) else [msgs]:
            form.add_error(target, str(msg))
    if not exc.fields:
        form.add_error(None, exc.message)


def _step_cards(cycle, user, today):
    steps = sorted(cycle.steps.all(), key=lambda s: s.step_number)
    return [
        {
            "step": s,
            "overdue": cycle_services.step_is_overdue(s, cycle, today),
            "actions": cycle_services.step_allowed_actions(user=user, cycle=cycle, step=s),
        }
        for s in steps
    ]


def _card(cycle, user, today) -> dict:
    steps = _step_cards(cycle, user, today)
    done = cycle.overall_status == CycleStatus.COMPLETED
    percent = 100 if done else (cycle.current_step - 1) * 20
    return {
        "cycle": cycle,
        "steps": steps,
        "percent": percent,
        "overdue": [s for s in steps if s["overdue"]],
        "actions": cycle_services.cycle_allowed_actions(user=user, cycle=cycle),
    }


class CycleListView(ConsolePermissionMixin, TemplateView):
    """UI-11: one card per cycle, newest period first, with the overdue-step banner."""

    permission_required = VIEW_SOP_CYCLE
    template_name = "governance/cycles/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = timezone.localdate()
        status = self.request.GET.get("status", "")
        try:
            cycles = selectors.sop_cycle_list(user=user, filters={"overall_status": status})
        except errors.ValidationFailed:
            status, cycles = "", selectors.sop_cycle_list(user=user)
        context.update(
            cards=[_card(c, user, today) for c in cycles[:50]],
            overdue_steps=list(selectors.overdue_cycle_steps(today=today)),
            can_create=user.has_perm(ADD_SOP_CYCLE),
            status=status,
            status_choices=CycleStatus.choices,
        )
        return context


class CycleCreateView(ConsolePermissionMixin, View):
    permission_required = ADD_SOP_CYCLE
    template_name = "governance/cycles/form.html"

    def get(self, request):
        today = timezone.localdate()
        return self._render(request, CycleForm(initial={"period": today.replace(day=1)}))

    def post(self, request):
        form = CycleForm(request.POST)
        if form.is_valid():
            try:
                cycle = cycle_services.cycle_create(actor=request.user, data=form.service_data(editing=False))
            except errors.DomainError as exc:
                raise_page_error(exc)
                _apply_field_errors(form, exc)
            else:
                messages.success(request, f"“{cycle.cycle_name}” created; step 1 is in progress.")
                return HttpResponseRedirect(reverse("governance:cycle_detail", args=[cycle.pk]))
        return self._render(request, form, status=400)

    def _render(self, request, form, status=200):
        return render(request, self.template_name, {"form": form, "editing": False}, status=status)


class CycleEditView(ConsolePermissionMixin, View):
    permission_required = CHANGE_SOP_CYCLE
    template_name = "governance/cycles/form.html"

    def get(self, request, pk):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        initial = {"cycle_name": cycle.cycle_name, "notes": cycle.notes}
        for step in cycle.steps.all():
            initial[f"step_{step.step_number}_owner"] = step.owner_id
            initial[f"step_{step.step_number}_due_date"] = step.due_date
        return self._render(request, cycle, CycleForm(initial=initial, editing=True))

    def post(self, request, pk):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        form = CycleForm(request.POST, editing=True)
        if form.is_valid():
            try:
                cycle_services.cycle_update(actor=request.user, cycle=cycle, data=form.service_data(editing=True))
            except errors.DomainError as exc:
                raise_page_error(exc)
                _apply_field_errors(form, exc)
            else:
                messages.success(request, f"“{cycle.cycle_name}” saved.")
                return HttpResponseRedirect(reverse("governance:cycle_detail", args=[cycle.pk]))
        return self._render(request, cycle, form, status=400)

    def _render(self, request, cycle, form, status=200):
        return render(request, self.template_name, {"form": form, "editing": True, "cycle": cycle}, status=status)


def _next_statuses(item) -> list[tuple[str, str]]:
    allowed = ACTION_ITEM_TRANSITIONS[ActionItemStatus(item.status)]
    return [(value, label) for value, label in ActionItemStatus.choices if value in allowed]


class CycleDetailView(ConsolePermissionMixin, TemplateView):
    """The cycle page: progress, step tiles, gate panel of the current step, decisions, action items,
    notes and history."""

    permission_required = VIEW_SOP_CYCLE
    template_name = "governance/cycles/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = timezone.localdate()
        cycle = selectors.sop_cycle_list(user=user).filter(pk=selectors.sop_cycle_get(user=user, pk=kwargs["pk"]).pk)
        cycle = cycle.get()
        card = _card(cycle, user, today)
        gate = None
        if cycle.overall_status == CycleStatus.ACTIVE:
            gate = cycle_services.cycle_gate_evaluate(cycle=cycle)
        can_manage_items = user.has_perm(action_item_services.CHANGE_ACTION_ITEM)
        items = selectors.action_item_list(user=user).filter(cycle=cycle).select_related("owner")
        context.update(
            card=card,
            cycle=cycle,
            actions=card["actions"],
            gate=gate,
            current=next((s for s in card["steps"] if s["step"].step_number == cycle.current_step), None),
            decisions=selectors.decision_list(user=user).filter(cycle=cycle),
            items=[
                {
                    "item": i,
                    "overdue": i.status in ACTION_ITEM_OPEN_STATUSES and i.due_date < today,
                    "next_statuses": _next_statuses(i) if (can_manage_items or i.owner_id == user.pk) else [],
                }
                for i in items
            ],
            can_record_decision=cycle.overall_status == CycleStatus.ACTIVE
            and user.has_perm(decision_services.ADD_DECISION),
            can_add_item=cycle.overall_status == CycleStatus.ACTIVE
            and (
                user.has_perm(action_item_services.ADD_ACTION_ITEM)
                or any(s["step"].owner_id == user.pk for s in card["steps"])
            ),
            category_choices=DecisionCategory.choices,
            priority_choices=ActionItemPriority.choices,
            owners=_owner_choices(),
            history=list(selectors.audit_history(user=user, target_type="sop_cycle", target_id=cycle.pk)[:50]),
            min_justification=cycle_services.MIN_JUSTIFICATION,
            # UI-11 Executive Service/Cost/Cash board: EXEC_C only, hidden for every other role.
            scorecard=executive_board(user=user, cycle=cycle),
            **comments_context(
                user=user, entity_type="sop_cycle", entity_id=cycle.pk,
                post_url=reverse("governance:cycle_comment", args=[cycle.pk]), form=kwargs.get("comment_form"),
            ),
        )  # fmt: skip
        return context


class CycleCommentView(CommentPostView):
    """UI-11 cycle comments (GOV-80): a refused comment shows the cycle page again with its reason."""

    entity_type = "sop_cycle"
    detail_view = CycleDetailView
    detail_url_name = "governance:cycle_detail"


class _CycleAction(ConsolePermissionMixin, View):
    """A POST that calls one cycle service and returns to the cycle page with a message."""

    permission_required = VIEW_SOP_CYCLE
    success = ""

    def call(self, request, cycle):
        raise NotImplementedError

    def post(self, request, pk, **kwargs):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        back = reverse("governance:cycle_detail", args=[cycle.pk])
        try:
            self.call(request, cycle)
        except errors.DomainError as exc:
            raise_page_error(exc)
            details = [c["detail"] for c in (exc.context or {}).get("checks", []) if not c.get("passed")]
            fields = [
                str(m) for msgs in (exc.fields or {}).values() for m in (msgs if isinstance(msgs, list) else [msgs])
            ]
            messages.error(request, " ".join([exc.message, *fields]) if fields else exc.message)
            for detail in details:
                messages.warning(request, detail)
            return HttpResponseRedirect(back)
        messages.success(request, self.success.format(name=cycle.cycle_name))
        return HttpResponseRedirect(back)


def _override(request):
    text = request.POST.get("justification", "").strip()
    return {"justification": text} if text or "override" in request.POST else None


class CycleAdvanceView(_CycleAction):
    success = "“{name}” advanced to the next step."

    def call(self, request, cycle):
        cycle_services.cycle_advance(
            actor=request.user, cycle=cycle, comment=request.POST.get("comment", ""), override=_override(request)
        )


class CycleSkipView(_CycleAction):
    success = "Step skipped; the next step of “{name}” is in progress."

    def call(self, request, cycle):
        cycle_services.cycle_skip_step(actor=request.user, cycle=cycle, reason=request.POST.get("reason", ""))


class CycleCompleteView(_CycleAction):
    success = "“{name}” completed."

    def call(self, request, cycle):
        cycle_services.cycle_complete(
            actor=request.user, cycle=cycle, comment=request.POST.get("comment", ""), override=_override(request)
        )


class CycleCancelView(_CycleAction):
    success = "“{name}” cancelled."

    def call(self, request, cycle):
        cycle_services.cycle_cancel(actor=request.user, cycle=cycle, reason=request.POST.get("reason", ""))


class CycleStepStartView(_CycleAction):
    success = "Step started."

    def call(self, request, cycle):
        cycle_services.cycle_step_update(
            actor=request.user, cycle=cycle, step_number=int(self.kwargs["n"]), data={"status": "in_progress"}
        )


class CycleDecisionView(_CycleAction):
    success = "Decision recorded."

    def call(self, request, cycle):
        data = {
            "title": request.POST.get("title", ""),
            "description": request.POST.get("description", ""),
            "category": request.POST.get("category", ""),
            "step_number": cycle.current_step,
        }
        decision_services.decision_record(actor=request.user, cycle=cycle, data=data)


class CycleActionItemView(_CycleAction):
    success = "Action item added."

    def call(self, request, cycle):
        owner_id = request.POST.get("owner", "")
        owner = User.objects.filter(pk=owner_id).first() if owner_id.isdigit() else None
        form = forms.DateField(required=True)
        try:
            due = form.clean(request.POST.get("due_date", ""))
        except forms.ValidationError:
            raise errors.ValidationFailed(fields={"due_date": ["A due date is required."]}) from None
        data = {
            "title": request.POST.get("title", ""),
            "description": request.POST.get("description", ""),
            "owner": owner,
            "due_date": due,
            "priority": request.POST.get("priority") or "medium",
        }
        action_item_services.action_item_create(actor=request.user, cycle=cycle, data=data)


class CycleStepEditView(ConsolePermissionMixin, View):
    """COORD edits owner, due date and notes; the step's owner edits the notes of an in-progress step."""

    permission_required = VIEW_SOP_CYCLE
    template_name = "governance/cycles/step_form.html"

    def _load(self, request, pk, n):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        step = cycle.steps.filter(step_number=n).select_related("owner").first()
        if step is None:
            raise errors.NotFound()
        actions = cycle_services.step_allowed_actions(user=request.user, cycle=cycle, step=step)
        if "edit" not in actions and "edit_notes" not in actions:
            raise errors.PermissionDenied()
        return cycle, step, "edit" not in actions

    def get(self, request, pk, n):
        cycle, step, notes_only = self._load(request, pk, n)
        form = StepForm(
            initial={"owner": step.owner_id, "due_date": step.due_date, "notes": step.notes}, notes_only=notes_only
        )
        return self._render(request, cycle, step, form)

    def post(self, request, pk, n):
        cycle, step, notes_only = self._load(request, pk, n)
        form = StepForm(request.POST, notes_only=notes_only)
        if form.is_valid():
            data = dict(form.cleaned_data)
            if not notes_only and data.get("due_date") is None:
                data.pop("due_date")
            try:
                cycle_services.cycle_step_update(actor=request.user, cycle=cycle, step_number=n, data=data)
            except errors.DomainError as exc:
                raise_page_error(exc)
                _apply_field_errors(form, exc)
            else:
                messages.success(request, f"Step {n} ({step.name}) saved.")
                return HttpResponseRedirect(reverse("governance:cycle_detail", args=[cycle.pk]))
        return self._render(request, cycle, step, form, status=400)

    def _render(self, request, cycle, step, form, status=200):
        return render(request, self.template_name, {"form": form, "cycle": cycle, "step": step}, status=status)
