"""Production scheduling API (API-PS-01…05): thin adapters over planning.selectors.production and
planning.services.production."""

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from genxsop.errors import NotFound, ValidationFailed
from planning import permissions as perms
from planning import selectors as planning_selectors
from planning.api.supply_views import GatedView
from planning.choices import ScheduleStatus
from planning.selectors import production as sel
from planning.services import production as svc

_QTY = {"max_digits": 14, "decimal_places": 2}
WARNINGS_HEADER = "X-Schedule-Warnings"


def _display(user) -> str:
    return (user.full_name or user.email) if user is not None else ""


class ProductionScheduleSerializer(serializers.Serializer):
    """One production slot (PLN-14) with the caller's allowed WF-70 actions."""

    id = serializers.IntegerField()
    supply_plan_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    location = serializers.CharField(source="supply_plan.location.code", help_text="Location code of the plan.")
    period = serializers.DateField(help_text="First day of the supply plan's month.")
    workcenter = serializers.CharField()
    line = serializers.CharField()
    shift = serializers.CharField()
    sequence_order = serializers.IntegerField(help_text="1..N within the supply plan, unique.")
    planned_qty = serializers.DecimalField(**_QTY)
    planned_start_at = serializers.DateTimeField()
    planned_end_at = serializers.DateTimeField()
    # The enum is documented once, on the status input.
    status = serializers.CharField(help_text="draft, released, in_progress or completed (WF-70).")
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    created_by_name = serializers.SerializerMethodField()
    released_by = serializers.IntegerField(source="released_by_id", allow_null=True)
    released_by_name = serializers.SerializerMethodField()
    released_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="WF-70 actions the caller may take now: release, unrelease, start, complete, resequence."
    )
    allowed_statuses = serializers.SerializerMethodField(
        help_text="The statuses the caller may send to the status endpoint now."
    )

    def get_created_by_name(self, obj) -> str:
        return _display(obj.created_by)

    def get_released_by_name(self, obj) -> str:
        return _display(obj.released_by)

    def get_allowed_actions(self, obj) -> list[str]:
        return svc.production_schedule_allowed_actions(self.context["request"].user, obj)

    def get_allowed_statuses(self, obj) -> list[str]:
        return svc.production_schedule_allowed_statuses(self.context["request"].user, obj)


class ScheduleGenerateInputSerializer(serializers.Serializer):
    """API-PS-02. Names are trimmed and de-duplicated in input order by the service; blank-only lists are 400."""

    supply_plan_id = serializers.IntegerField(min_value=1)
    workcenters = serializers.ListField(child=serializers.CharField(allow_blank=True, trim_whitespace=False),
                                        default=lambda: ["WC-1"], max_length=50)  # fmt: skip
    lines = serializers.ListField(child=serializers.CharField(allow_blank=True, trim_whitespace=False),
                                  default=lambda: ["Line-1"], max_length=50)  # fmt: skip
    shifts = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), default=lambda: ["Shift-A", "Shift-B"],
        max_length=20,
        help_text="Shifts of SHIFT_START_HOURS start at their hour; any other starts at 06:00 with a warning.",
    )  # fmt: skip
    duration_hours_per_slot = serializers.IntegerField(min_value=1, max_value=24, default=8)


class ScheduleStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ScheduleStatus.choices, help_text="The target status (WF-70).")


# A plain string in the schema: an enum named `direction` would collide with the KPI direction enum.
@extend_schema_field({"type": "string", "pattern": "^(up|down)$", "description": "`up` or `down`."})
class _DirectionField(serializers.ChoiceField):
    pass


class ScheduleResequenceInputSerializer(serializers.Serializer):
    direction = _DirectionField(choices=["up", "down"])


class CapacityGroupSerializer(serializers.Serializer):
    workcenter = serializers.CharField()
    line = serializers.CharField()
    shift = serializers.CharField()
    slot_count = serializers.IntegerField()
    total_planned_qty = serializers.DecimalField(**_QTY)


class CapacitySummarySerializer(serializers.Serializer):
    """FRM-34."""

    supply_plan_id = serializers.IntegerField()
    slot_count = serializers.IntegerField()
    planned_total_qty = serializers.DecimalField(**_QTY)
    capacity_max_qty = serializers.DecimalField(**_QTY, help_text="The plan's capacity_max; 0 when it has none.")
    utilization_pct = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="planned_total / capacity_max x 100; 0 when the capacity is 0."
    )
    overloaded = serializers.BooleanField(help_text="capacity_max > 0 and planned_total > capacity_max.")
    groups = CapacityGroupSerializer(many=True)


def _slots_response(request, slots, code=status.HTTP_200_OK, **kwargs) -> Response:
    return Response(ProductionScheduleSerializer(slots, many=True, context={"request": request}).data, status=code,
                    **kwargs)  # fmt: skip


_LIST_FILTERS = [
    OpenApiParameter("product_id", OpenApiTypes.INT),
    OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD (any day of the month)."),
    OpenApiParameter("supply_plan_id", OpenApiTypes.INT),
    OpenApiParameter("workcenter", OpenApiTypes.STR, description="Comma-separated."),
    OpenApiParameter("line", OpenApiTypes.STR, description="Comma-separated."),
    OpenApiParameter("shift", OpenApiTypes.STR, description="Comma-separated."),
    OpenApiParameter("status", OpenApiTypes.STR,
                     description="draft, released, in_progress, completed; comma-separated."),
]  # fmt: skip


class ScheduleListView(GatedView):
    permission = perms.VIEW_PRODUCTION_SCHEDULE

    @extend_schema(
        summary="List production schedule slots",
        description="Slots in the caller's category and location scope, ordered by period, then each supply plan's "
        "sequence. A plain array.",
        parameters=_LIST_FILTERS,
        responses={200: ProductionScheduleSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        return _slots_response(request, sel.production_schedule_list(user=request.user, filters=request.query_params))


class GenerateView(GatedView):
    permission = perms.ADD_PRODUCTION_SCHEDULE

    @extend_schema(
        summary="Generate the schedule of a supply plan",
        description="FRM-33: every workcenter x line x shift in that nesting order becomes a draft slot numbered "
        "1..N; the planned quantity is split into N parts truncated to cents, the leftover cents going one each to "
        "the first slots. Slot i starts on the plan's period date + ⌊(i-1)/shifts⌋ days at its shift's start hour "
        "(SHIFT_START_HOURS, in PLANNING_TIME_ZONE) and lasts duration_hours_per_slot. A shift missing from the "
        f"calendar starts at 06:00 and is reported in the `{WARNINGS_HEADER}` header (a JSON array of messages). "
        "Only the live row of an approved or locked supply plan is scheduled (409 BUSINESS_RULE_VIOLATION "
        "otherwise); no planned quantity is 400. Regenerating replaces every slot of the plan, and is 409 IN_USE "
        "once any slot is in progress or completed.",
        request=ScheduleGenerateInputSerializer,
        parameters=[OpenApiParameter(WARNINGS_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201],
                                     description="JSON array of warnings; present only when there are any.")],
        responses={201: ProductionScheduleSerializer(many=True), **error_responses(*WRITE_ERRORS, 404, 409)},
    )  # fmt: skip
    def post(self, request):
        data = validated_body(ScheduleGenerateInputSerializer, request.data)
        try:
            plan = planning_selectors.supply_plan_get(user=request.user, pk=data.pop("supply_plan_id"))
        except NotFound:
            raise ValidationFailed(fields={"supply_plan_id": ["Supply plan not found."]}) from None
        result = svc.production_schedule_generate(actor=request.user, supply_plan=plan, **data)
        slots = sel.production_schedule_list(user=request.user, filters={"supply_plan_id": plan.pk})
        headers = {WARNINGS_HEADER: json.dumps(result.warnings)} if result.warnings else None
        return _slots_response(request, slots, status.HTTP_201_CREATED, headers=headers)


class ScheduleStatusView(GatedView):
    permission = perms.SET_PRODUCTION_SCHEDULE_STATUS

    @extend_schema(
        summary="Set the status of a slot",
        description="WF-70: draft → released, released → draft, released → in_progress, in_progress → completed. "
        "Any other move is 409 INVALID_STATE_TRANSITION with `current_status`, `action` and `allowed_actions`. "
        "Releasing records who released the slot and when.",
        parameters=[ID_PARAMETER],
        request=ScheduleStatusInputSerializer,
        responses={200: ProductionScheduleSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, pk):
        slot = sel.production_schedule_get(user=request.user, pk=pk)
        data = validated_body(ScheduleStatusInputSerializer, request.data)
        svc.production_schedule_set_status(actor=request.user, slot=slot, status=data["status"])
        slot = sel.production_schedule_get(user=request.user, pk=pk)
        return Response(ProductionScheduleSerializer(slot, context={"request": request}).data)


class ScheduleResequenceView(GatedView):
    permission = perms.ADD_PRODUCTION_SCHEDULE

    @extend_schema(
        summary="Move a slot one place up or down",
        description="Swaps the slot with its neighbour in the supply plan's sequence; both must be draft or "
        "released (409 INVALID_STATE_TRANSITION otherwise). At either end nothing changes. Answers every slot of "
        "the plan in sequence order.",
        parameters=[ID_PARAMETER],
        request=ScheduleResequenceInputSerializer,
        responses={200: ProductionScheduleSerializer(many=True), **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        slot = sel.production_schedule_get(user=request.user, pk=pk)
        data = validated_body(ScheduleResequenceInputSerializer, request.data)
        svc.production_schedule_resequence(actor=request.user, slot=slot, direction=data["direction"])
        slots = sel.production_schedule_list(user=request.user, filters={"supply_plan_id": slot.supply_plan_id})
        return _slots_response(request, slots)


class CapacitySummaryView(GatedView):
    permission = perms.VIEW_PRODUCTION_SCHEDULE

    @extend_schema(
        summary="Capacity summary of a supply plan's schedule",
        description="FRM-34 over the plan's slots in the caller's scope: slot count, planned total, the plan's "
        "capacity_max (0 when null), utilisation % (0 when the capacity is 0), overloaded (planned total above a "
        "positive capacity) and one group per workcenter, line and shift.",
        parameters=[OpenApiParameter("supply_plan_id", OpenApiTypes.INT, required=True)],
        responses={200: CapacitySummarySerializer, **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request):
        plan_id = request.query_params.get("supply_plan_id")
        summary = sel.production_capacity_summary(user=request.user, supply_plan_id=plan_id)
        return Response(CapacitySummarySerializer(summary).data)
