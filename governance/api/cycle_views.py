"""S&OP cycle endpoints (API-SOP-01…11): thin callers of governance.services.cycles over the selectors.

Writes check the permission before reading the body, so a refused caller gets 403, not a 400 about
the body it was never allowed to send.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from genxsop.api.permissions import IsAuthenticatedWithTokenScope
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.services import require_perm
from governance import selectors
from governance.api import cycle_serializers as cs
from governance.models import SopCycle
from governance.permissions import (
    ADD_SOP_CYCLE,
    CHANGE_SOP_CYCLE,
    COMPLETE_SOP_CYCLE,
    OVERRIDE_SOP_CYCLE_GATE,
    SKIP_SOP_CYCLE_STEP,
    VIEW_SOP_CYCLE,
)
from governance.services import cycles as cycle_services

STATUS_PARAMETER = OpenApiParameter(
    "overall_status", OpenApiTypes.STR, enum=["active", "completed", "cancelled"], required=False
)
STEP_PARAMETER = OpenApiParameter("n", OpenApiTypes.INT, OpenApiParameter.PATH, description="Step number, 1 to 5.")


def _cycle(request, pk) -> SopCycle:
    return selectors.sop_cycle_list(user=request.user).get(pk=selectors.sop_cycle_get(user=request.user, pk=pk).pk)


def _out(request, cycle: SopCycle) -> dict:
    return cs.SopCycleSerializer(_cycle(request, cycle.pk), context={"user": request.user}).data


class _Base(GenericAPIView):
    permission_classes = [IsAuthenticatedWithTokenScope]
    serializer_class = cs.SopCycleSerializer
    queryset = SopCycle.objects.none()  # schema only: the rows come from the selectors


class SopCycleListView(_Base):
    @extend_schema(
        summary="S&OP cycles",
        description="Newest period first (API-SOP-01); `overall_status` filters.",
        parameters=[STATUS_PARAMETER],
        responses={200: cs.SopCycleSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        filters = {"overall_status": request.query_params.get("overall_status", "")}
        page = self.paginate_queryset(selectors.sop_cycle_list(user=request.user, filters=filters))
        return self.get_paginated_response(cs.SopCycleSerializer(page, many=True, context={"user": request.user}).data)

    @extend_schema(
        summary="Create an S&OP cycle",
        description="COORD (API-SOP-02). Five steps; step 1 starts and its owner is notified. Default name "
        '"<Month YYYY> S&OP Cycle", default due dates the period + 5, 12, 18, 22 and 25 days (GOV-50). A second '
        "active or completed cycle of the period is 409 DUPLICATE_ENTITY.",
        request=cs.CycleCreateInputSerializer,
        responses={201: cs.SopCycleSerializer, **error_responses(*WRITE_ERRORS, 409)},
    )
    def post(self, request):
        require_perm(request.user, ADD_SOP_CYCLE)
        data = validated_body(cs.CycleCreateInputSerializer, request.data)
        data["steps"] = cs.steps_from(data)
        cycle = cycle_services.cycle_create(actor=request.user, data=data)
        return Response(_out(request, cycle), status=status.HTTP_201_CREATED)


class SopCycleActiveView(_Base):
    serializer_class = cs.ActiveCycleSerializer

    @extend_schema(
        summary="The active S&OP cycle",
        description="The most recent active cycle with `active: true`, or `{active: false, message}` (API-SOP-03).",
        responses={200: cs.ActiveCycleSerializer, **error_responses(*READ_ERRORS)},
    )
    def get(self, request):
        require_perm(request.user, VIEW_SOP_CYCLE)
        cycle = cycle_services.cycle_active()
        if cycle is None:
            return Response({"active": False, "message": "No S&OP cycle is active."})
        return Response({"active": True, **_out(request, cycle)})


class SopCycleDetailView(_Base):
    @extend_schema(
        summary="An S&OP cycle",
        parameters=[ID_PARAMETER],
        responses={200: cs.SopCycleSerializer, **error_responses(*READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        return Response(_out(request, selectors.sop_cycle_get(user=request.user, pk=pk)))

    @extend_schema(
        summary="Edit an S&OP cycle",
        description="COORD (API-SOP-05): name, notes, step owners and due dates. Each new line of the legacy "
        "`decisions` / `action_items` text becomes a structured decision / action item (owner the caller, due the "
        "step-5 due date or in 30 days). A completed or cancelled cycle is 409 ENTITY_LOCKED.",
        parameters=[ID_PARAMETER],
        request=cs.CycleUpdateInputSerializer,
        responses={200: cs.SopCycleSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def put(self, request, pk):
        return self._update(request, pk)

    @extend_schema(
        summary="Edit an S&OP cycle (partial)",
        parameters=[ID_PARAMETER],
        request=cs.CycleUpdateInputSerializer,
        responses={200: cs.SopCycleSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, pk):
        return self._update(request, pk)

    def _update(self, request, pk):
        require_perm(request.user, CHANGE_SOP_CYCLE)
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        data = validated_body(cs.CycleUpdateInputSerializer, request.data)
        data["steps"] = cs.steps_from(data)
        cycle = cycle_services.cycle_update(actor=request.user, cycle=cycle, data=data)
        return Response(_out(request, cycle))


class SopCycleStepView(_Base):
    serializer_class = cs.SopCycleStepSerializer

    @extend_schema(
        summary="Edit a step of an S&OP cycle",
        description="COORD: owner, due date, notes, and `status: in_progress` to start the pending current step. "
        "The step's owner may start it and edit its notes while it is in progress (API-SOP-06, ACC-04). Starting "
        "step 2 (3) moves the locked demand (supply) plans outside every freeze window back to draft (GOV-51).",
        parameters=[ID_PARAMETER, STEP_PARAMETER],
        request=cs.StepUpdateInputSerializer,
        responses={200: cs.SopCycleStepSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def patch(self, request, pk, n):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        data = validated_body(cs.StepUpdateInputSerializer, request.data)
        if "owner_id" in data:
            data["owner"] = cs.user_ref(data.pop("owner_id"), "owner_id")
        step = cycle_services.cycle_step_update(actor=request.user, cycle=cycle, step_number=int(n), data=data)
        step.cycle = SopCycle.objects.get(pk=cycle.pk)
        return Response(cs.SopCycleStepSerializer(step, context={"user": request.user}).data)


class SopCycleGatesView(_Base):
    serializer_class = cs.GateResultSerializer

    @extend_schema(
        summary="Evaluate a step gate",
        description="WF-42: each check with value, threshold, pass/fail, what is missing and up to 50 offending "
        "keys; warnings do not block (API-SOP-07). Reads only.",
        parameters=[ID_PARAMETER, cs.GateQuerySerializer],
        responses={200: cs.GateResultSerializer, **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request, pk):
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        query = validated_query(cs.GateQuerySerializer, request)
        return Response(cycle_services.cycle_gate_evaluate(cycle=cycle, step=query.get("step")))


class SopCycleAdvanceView(_Base):
    @extend_schema(
        summary="Advance an S&OP cycle",
        description="COORD (API-SOP-08). The current step's gate must pass (else 409 GATE_FAILED with context "
        "`{checks, warnings}`), or an EXEC sends `override.justification` (at least 20 characters). At step 5 the "
        "answer is 409 INVALID_STATE_TRANSITION: use complete.",
        parameters=[ID_PARAMETER],
        request=cs.AdvanceInputSerializer,
        responses={200: cs.SopCycleSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        overriding = isinstance(request.data, dict) and bool(request.data.get("override"))
        require_perm(request.user, OVERRIDE_SOP_CYCLE_GATE if overriding else CHANGE_SOP_CYCLE)
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        data = validated_body(cs.AdvanceInputSerializer, request.data)
        cycle = cycle_services.cycle_advance(actor=request.user, cycle=cycle, comment=data.get("comment", ""),
                                             override=data.get("override"))  # fmt: skip
        return Response(_out(request, cycle))


class SopCycleSkipStepView(_Base):
    @extend_schema(
        summary="Skip the current step",
        description="EXEC (API-SOP-09): the current step (1 to 4) is skipped with a reason and the next one starts.",
        parameters=[ID_PARAMETER],
        request=cs.ReasonInputSerializer,
        responses={200: cs.SopCycleSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        require_perm(request.user, SKIP_SOP_CYCLE_STEP)
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        data = validated_body(cs.ReasonInputSerializer, request.data)
        cycle = cycle_services.cycle_skip_step(actor=request.user, cycle=cycle, reason=data["reason"])
        return Response(_out(request, cycle))


class SopCycleCompleteView(_Base):
    @extend_schema(
        summary="Complete an S&OP cycle",
        description="EXEC (API-SOP-10) at step 5: an approved operating-plan scenario of the period and a published "
        "monthly publication linked to the cycle (else 409 GATE_FAILED), or `override.justification`. Not at step 5: "
        "409 INVALID_STATE_TRANSITION.",
        parameters=[ID_PARAMETER],
        request=cs.AdvanceInputSerializer,
        responses={200: cs.SopCycleSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        require_perm(request.user, COMPLETE_SOP_CYCLE)
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        data = validated_body(cs.AdvanceInputSerializer, request.data)
        cycle = cycle_services.cycle_complete(actor=request.user, cycle=cycle, comment=data.get("comment", ""),
                                              override=data.get("override"))  # fmt: skip
        return Response(_out(request, cycle))


class SopCycleCancelView(_Base):
    @extend_schema(
        summary="Cancel an S&OP cycle",
        description="COORD (API-SOP-11), with a reason; the period is then free for a new cycle.",
        parameters=[ID_PARAMETER],
        request=cs.ReasonInputSerializer,
        responses={200: cs.SopCycleSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    )
    def post(self, request, pk):
        require_perm(request.user, CHANGE_SOP_CYCLE)
        cycle = selectors.sop_cycle_get(user=request.user, pk=pk)
        data = validated_body(cs.ReasonInputSerializer, request.data)
        cycle = cycle_services.cycle_cancel(actor=request.user, cycle=cycle, reason=data["reason"])
        return Response(_out(request, cycle))
