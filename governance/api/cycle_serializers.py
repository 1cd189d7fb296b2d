"""Input and output shapes of the S&OP cycle API (API-SOP-01…11, §4.2 SopCycle representation)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from genxsop.errors import ValidationFailed
from governance.choices import CycleStatus, StepStatus
from governance.models import SopCycle
from governance.services import cycles as cycle_services

User = get_user_model()
STEPS = range(1, cycle_services.STEP_COUNT + 1)


# Output ----------------------------------------------------------------------------------------


class GateCheckSerializer(serializers.Serializer):
    check = serializers.CharField()
    passed = serializers.BooleanField()
    value = serializers.JSONField(help_text="Percent, count or flag, as the check measures it.")
    threshold = serializers.JSONField()
    detail = serializers.CharField(help_text="What is missing, in words.")
    evidence = serializers.ListField(child=serializers.CharField(), help_text="Up to 50 offending keys.")


class GateWarningSerializer(serializers.Serializer):
    warning = serializers.CharField()
    value = serializers.JSONField()
    detail = serializers.CharField()


class GateResultSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    name = serializers.CharField()
    passed = serializers.BooleanField()
    checks = GateCheckSerializer(many=True)
    warnings = GateWarningSerializer(many=True)
    evaluated_at = serializers.DateTimeField()


class SopCycleStepSerializer(serializers.Serializer):
    step = serializers.IntegerField(source="step_number")
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=StepStatus.choices)
    owner_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.SerializerMethodField()
    due_date = serializers.DateField(allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Pending or in progress past its due date.")
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by_id = serializers.IntegerField(allow_null=True)
    skip_reason = serializers.CharField()
    notes = serializers.CharField()
    gate_result = GateResultSerializer(allow_null=True)
    override_justification = serializers.CharField()
    allowed_actions = serializers.SerializerMethodField()

    def get_owner_name(self, step) -> str | None:
        return step.owner.full_name if step.owner_id else None

    def get_overdue(self, step) -> bool:
        return cycle_services.step_is_overdue(step, step.cycle)

    def get_allowed_actions(self, step) -> list[str]:
        user = self.context.get("user")
        return cycle_services.step_allowed_actions(user=user, cycle=step.cycle, step=step)


def _user_name(user) -> str | None:
    return user.full_name if user is not None else None


class SopCycleSerializer(serializers.Serializer):
    """The cycle with the compatible flat `step_N_*` fields, the `steps` structure, the GOV-52 text
    renderings of its decisions and action items, and `allowed_actions` (WF-04)."""

    id = serializers.IntegerField()
    cycle_name = serializers.CharField()
    period = serializers.DateField()
    current_step = serializers.IntegerField()
    overall_status = serializers.ChoiceField(choices=CycleStatus.choices)
    notes = serializers.CharField()
    # Null for a step number the cycle has no row for (the representation below reads them by number).
    step_1_status = serializers.CharField(allow_null=True)
    step_2_status = serializers.CharField(allow_null=True)
    step_3_status = serializers.CharField(allow_null=True)
    step_4_status = serializers.CharField(allow_null=True)
    step_5_status = serializers.CharField(allow_null=True)
    step_1_due_date = serializers.DateField(allow_null=True)
    step_2_due_date = serializers.DateField(allow_null=True)
    step_3_due_date = serializers.DateField(allow_null=True)
    step_4_due_date = serializers.DateField(allow_null=True)
    step_5_due_date = serializers.DateField(allow_null=True)
    step_1_owner_id = serializers.IntegerField(allow_null=True)
    step_2_owner_id = serializers.IntegerField(allow_null=True)
    step_3_owner_id = serializers.IntegerField(allow_null=True)
    step_4_owner_id = serializers.IntegerField(allow_null=True)
    step_5_owner_id = serializers.IntegerField(allow_null=True)
    steps = SopCycleStepSerializer(many=True)
    overdue_steps = serializers.ListField(child=serializers.IntegerField(), help_text="Numbers of overdue steps.")
    decisions = serializers.CharField(help_text="One line per decision: `- <title> (<decided_by>, <date>)`.")
    action_items = serializers.CharField(
        help_text="One line per action item: `- [<status>] <title> — <owner>, due <date>`."
    )
    decision_count = serializers.IntegerField()
    open_action_items = serializers.IntegerField()
    created_by_id = serializers.IntegerField(allow_null=True)
    created_by_name = serializers.CharField(allow_null=True)
    completed_by_id = serializers.IntegerField(allow_null=True)
    completed_by_name = serializers.CharField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_by_id = serializers.IntegerField(allow_null=True)
    cancelled_by_name = serializers.CharField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    allowed_actions = serializers.ListField(child=serializers.CharField())

    def to_representation(self, cycle: SopCycle) -> dict:
        user = self.context.get("user")
        steps = sorted(cycle.steps.all(), key=lambda s: s.step_number)
        for step in steps:
            step.cycle = cycle  # the step representation reads the cycle's state without another query
        by_number = {s.step_number: s for s in steps}
        step_data = SopCycleStepSerializer(steps, many=True, context=self.context).data
        out = {
            "id": cycle.pk,
            "cycle_name": cycle.cycle_name,
            "period": cycle.period.isoformat(),
            "current_step": cycle.current_step,
            "overall_status": cycle.overall_status,
            "notes": cycle.notes,
        }
        for field in ("status", "due_date", "owner_id"):
            for n in STEPS:
                step = by_number.get(n)
                value = getattr(step, field) if step is not None else None
                out[f"step_{n}_{field}"] = value.isoformat() if hasattr(value, "isoformat") else value
        out.update(
            steps=step_data,
            overdue_steps=[s["step"] for s in step_data if s["overdue"]],
            decisions=cycle_services.render_decisions(cycle),
            action_items=cycle_services.render_action_items(cycle),
            decision_count=cycle.decisions.count(),
            open_action_items=cycle_services.open_action_item_count(cycle),
            created_by_id=cycle.created_by_id,
            created_by_name=_user_name(cycle.created_by),
            completed_by_id=cycle.completed_by_id,
            completed_by_name=_user_name(cycle.completed_by),
            completed_at=serializers.DateTimeField().to_representation(cycle.completed_at)
            if cycle.completed_at
            else None,
            cancelled_by_id=cycle.cancelled_by_id,
            cancelled_by_name=_user_name(cycle.cancelled_by),
            cancelled_at=serializers.DateTimeField().to_representation(cycle.cancelled_at)
            if cycle.cancelled_at
            else None,
            cancel_reason=cycle.cancel_reason,
            created_at=serializers.DateTimeField().to_representation(cycle.created_at),
            updated_at=serializers.DateTimeField().to_representation(cycle.updated_at),
            allowed_actions=cycle_services.cycle_allowed_actions(user=user, cycle=cycle),
        )
        return out


class ActiveCycleSerializer(SopCycleSerializer):
    """API-SOP-03: the active cycle with `active: true`, or only `{active: false, message}`."""

    active = serializers.BooleanField()
    message = serializers.CharField(required=False)


# Input -----------------------------------------------------------------------------------------


def _step_fields() -> dict:
    fields = {"__module__": __name__}
    for n in STEPS:
        fields[f"step_{n}_due_date"] = serializers.DateField(required=False, allow_null=True)
        fields[f"step_{n}_owner_id"] = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    return fields


class _CycleCreateInput(serializers.Serializer):
    cycle_name = serializers.CharField(required=False, allow_blank=True, max_length=255,
                                       help_text='Default "<Month YYYY> S&OP Cycle".')  # fmt: skip
    period = serializers.DateField(help_text="Any day of the month; stored as the first.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class _CycleUpdateInput(serializers.Serializer):
    cycle_name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    decisions = serializers.CharField(
        required=False, allow_blank=True, max_length=50_000, help_text="Each new line becomes a decision."
    )
    action_items = serializers.CharField(
        required=False, allow_blank=True, max_length=50_000, help_text="Each new line becomes an action item."
    )
    overall_status = serializers.CharField(
        required=False, help_text="Ignored when unchanged; status changes use the action endpoints."
    )


# The five steps' due dates and owners, as flat fields (API-SOP-02/05).
CycleCreateInputSerializer = type("CycleCreateInputSerializer", (_CycleCreateInput,), _step_fields())
CycleUpdateInputSerializer = type("CycleUpdateInputSerializer", (_CycleUpdateInput,), _step_fields())


class StepUpdateInputSerializer(serializers.Serializer):
    owner_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    due_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    status = serializers.ChoiceField(
        choices=StepStatus.choices, required=False, help_text="`in_progress` starts the pending current step."
    )


class GateQuerySerializer(serializers.Serializer):
    step = serializers.IntegerField(required=False, min_value=1, max_value=5, help_text="Default: the current step.")


class OverrideSerializer(serializers.Serializer):
    justification = serializers.CharField(max_length=5000, help_text="At least 20 characters.")


class AdvanceInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    override = OverrideSerializer(required=False, allow_null=True, help_text="EXEC: advance past a failed gate.")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


def user_ref(pk, field: str):
    """The user with id `pk` (the services check that owners are active readers), or 400."""
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ValidationFailed(fields={field: ["Unknown user."]})
    return user


def steps_from(data: dict) -> dict:
    """`step_N_due_date` / `step_N_owner_id` fields of a body as the services' {n: {owner, due_date}}."""
    steps: dict[int, dict] = {}
    for n in STEPS:
        if f"step_{n}_due_date" in data:
            steps.setdefault(n, {})["due_date"] = data.pop(f"step_{n}_due_date")
        if f"step_{n}_owner_id" in data:
            steps.setdefault(n, {})["owner"] = user_ref(data.pop(f"step_{n}_owner_id"), f"step_{n}_owner_id")
    return steps


__all__ = [
    "ActiveCycleSerializer",
    "AdvanceInputSerializer",
    "CycleCreateInputSerializer",
    "CycleUpdateInputSerializer",
    "GateQuerySerializer",
    "GateResultSerializer",
    "ReasonInputSerializer",
    "SopCycleSerializer",
    "SopCycleStepSerializer",
    "StepUpdateInputSerializer",
    "steps_from",
    "user_ref",
]
