"""Demand planning API (API-DEM-01…11, 13, 15): thin adapters over planning.selectors and planning.services."""

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from genxsop.api.viewsets import ServiceViewSet
from genxsop.errors import NotFound, ValidationFailed
from planning import permissions as perms
from planning import selectors, services
from planning.api import serializers as s
from planning.filtersets import DemandPlanFilterSet

IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description='Optimistic concurrency (WF-05): the ETag of the detail response, `W/"<version>"`.',
)  # fmt: skip
_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
_WRITE = {200: s.DemandPlanSerializer, **error_responses(*WRITE_ERRORS, 404, 409)}
_ACTION = {200: s.DemandPlanSerializer, **error_responses(*READ_ERRORS, 400, 404, 409)}


def _action_schema(summary: str, request, description: str = "", extra_errors=()):
    responses = {**_ACTION, **error_responses(*extra_errors)} if extra_errors else _ACTION
    return extend_schema(summary=summary, description=description, parameters=[ID_PARAMETER, IF_MATCH],
                         request=request, responses=responses)  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary="List demand plans",
        description="Current rows by default (`include_history=true` adds history rows); default order "
        "`-period, sku`. `category_id` includes the category's subtree; `status`, `region`, `channel` and "
        "`source` take comma-separated values.",
        responses={200: s.DemandPlanSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a demand plan (live or history row)",
        description='Carries `ETag: W/"<version>"` (WF-05).',
        parameters=[ID_PARAMETER],
        responses={200: s.DemandPlanSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a demand plan (draft, version 1)",
        request=s.DemandPlanCreateInputSerializer,
        responses={201: s.DemandPlanSerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(
        summary="Edit a demand plan",
        description="Partial, like PATCH. Content changes make a new version (WF-12) and are allowed in draft "
        "and rejected; `actual_qty` alone records the actual in any status.",
        parameters=[ID_PARAMETER, IF_MATCH],
        request=s.DemandPlanUpdateInputSerializer,
        responses=_WRITE,
    ),
    partial_update=extend_schema(
        summary="Edit a demand plan",
        description="Content changes make a new version (WF-12) and are allowed in draft and rejected; "
        "`actual_qty` alone records the actual in any status.",
        parameters=[ID_PARAMETER, IF_MATCH],
        request=s.DemandPlanUpdateInputSerializer,
        responses=_WRITE,
    ),
    destroy=extend_schema(
        summary="Delete a draft or rejected demand plan",
        description="Deletes the live row and its history rows; a plan that was ever approved is 409 IN_USE.",
        parameters=[ID_PARAMETER, IF_MATCH],
        responses={200: s.MessageSerializer, **error_responses(*READ_ERRORS, 404, 409)},
    ),
    adjust=_action_schema("Adjust a demand plan", s.DemandPlanAdjustInputSerializer, "Sets `adjusted_qty` "
                          "(and replaces `notes` when given); a content change like PATCH."),
    actual=_action_schema("Record the actual of a demand plan", s.DemandPlanActualInputSerializer,
                          "Allowed in every status, no new version (WF-10 record_actual); history rows are "
                          "409 ENTITY_LOCKED."),
    submit=_action_schema("Submit a draft demand plan", s.DemandPlanActionInputSerializer),
    withdraw=_action_schema("Withdraw a submitted demand plan", s.DemandPlanActionInputSerializer),
    approve=_action_schema("Approve a submitted demand plan", s.DemandPlanActionInputSerializer,
                           "The submitter cannot approve it (403 SELF_APPROVAL_FORBIDDEN, ACC-05).", (403,)),
    reject=_action_schema("Reject a submitted demand plan", s.DemandPlanActionInputSerializer,
                          'The comment (default "Rejected") is kept in the audit log.'),
    reopen=_action_schema("Reopen an approved demand plan", s.DemandPlanReopenInputSerializer),
    versions=extend_schema(
        summary="Versions of a demand plan",
        description="Every version, newest first, with `changed_fields` relative to the previous one (WF-12).",
        parameters=[ID_PARAMETER],
        responses={200: s.DemandPlanVersionSerializer(many=True), **error_responses(*READ_ERRORS, 404)},
    ),
)  # fmt: skip
class DemandPlanViewSet(ServiceViewSet):
    """Demand plans (PLN-04) and their lifecycle (WF-10)."""

    list_selector = staticmethod(selectors.demand_plan_list)
    get_selector = staticmethod(selectors.demand_plan_get)
    serializer_class = s.DemandPlanSerializer
    filterset_class = DemandPlanFilterSet
    action_permissions = {
        "list": perms.VIEW_DEMAND_PLAN,
        "retrieve": perms.VIEW_DEMAND_PLAN,
        "versions": perms.VIEW_DEMAND_PLAN,
        "create": perms.ADD_DEMAND_PLAN,
        "update": perms.CHANGE_DEMAND_PLAN,
        "partial_update": perms.CHANGE_DEMAND_PLAN,
        "adjust": perms.CHANGE_DEMAND_PLAN,
        "actual": perms.CHANGE_DEMAND_PLAN,
        "destroy": perms.DELETE_DEMAND_PLAN,
        "submit": perms.SUBMIT_DEMAND_PLAN,
        "withdraw": perms.SUBMIT_DEMAND_PLAN,
        "approve": perms.APPROVE_DEMAND_PLAN,
        "reject": perms.APPROVE_DEMAND_PLAN,
        "reopen": perms.APPROVE_DEMAND_PLAN,
    }

    def _render(self, instance, status_code=status.HTTP_200_OK) -> Response:
        response = super()._render(instance, status_code)
        response["ETag"] = f'W/"{instance.version}"'
        return response

    def _expected_version(self, data: dict) -> int | None:
        """`expected_version` in the body or `If-Match`; both given and different is 400."""
        header = self.request.headers.get("If-Match")
        from_header = None
        if header:
            match = _ETAG_RE.match(header)
            if not match:
                raise ValidationFailed("If-Match must be the ETag of the plan, e.g. W/\"3\".",
                                       code="INVALID_PARAMETER")  # fmt: skip
            from_header = int(match.group(1))
        from_body = data.pop("expected_version", None)
        if from_header is not None and from_body is not None and from_header != from_body:
            raise ValidationFailed(fields={"expected_version": ["Disagrees with the If-Match header."]})
        return from_body if from_body is not None else from_header

    def create(self, request):
        data = validated_body(s.DemandPlanCreateInputSerializer, request.data)
        try:
            product = selectors.product_get(user=request.user, pk=data.pop("product_id"))
        except NotFound:
            raise ValidationFailed(fields={"product_id": ["Product not found."]}) from None
        plan = services.demand_plan_create(actor=request.user, product=product, data=data)
        return self._render(selectors.demand_plan_get(user=request.user, pk=plan.pk), status.HTTP_201_CREATED)

    def update(self, request, pk):
        plan = self.get_object()
        data = validated_body(s.DemandPlanUpdateInputSerializer, request.data)
        expected = self._expected_version(data)
        services.demand_plan_update(actor=request.user, plan=plan, data=data, expected_version=expected)
        return self._render(selectors.demand_plan_get(user=request.user, pk=plan.pk))

    def partial_update(self, request, pk):
        return self.update(request, pk)

    @action(detail=True, methods=["post"])
    def adjust(self, request, pk):
        return self._content_action(s.DemandPlanAdjustInputSerializer)

    @action(detail=True, methods=["post"])
    def actual(self, request, pk):
        return self._content_action(s.DemandPlanActualInputSerializer)

    def _content_action(self, serializer_class) -> Response:
        request = self.request
        plan = self.get_object()
        data = validated_body(serializer_class, request.data)
        expected = self._expected_version(data)
        services.demand_plan_update(actor=request.user, plan=plan, data=data, expected_version=expected)
        return self._render(selectors.demand_plan_get(user=request.user, pk=plan.pk))

    def destroy(self, request, pk):
        plan = self.get_object()
        services.demand_plan_delete(actor=request.user, plan=plan, expected_version=self._expected_version({}))
        return Response({"message": "Demand plan deleted successfully"})

    def _transition(self, service, serializer_class=s.DemandPlanActionInputSerializer, **extra) -> Response:
        plan = self.get_object()
        data = validated_body(serializer_class, self.request.data or {})
        expected = self._expected_version(data)
        if serializer_class is s.DemandPlanReopenInputSerializer:
            kwargs = {"reason": data["reason"]}
        else:
            kwargs = {"comment": data.get("comments") or data.get("comment") or ""}
        service(actor=self.request.user, plan=plan, expected_version=expected, **kwargs)
        return self._render(selectors.demand_plan_get(user=self.request.user, pk=plan.pk))

    @action(detail=True, methods=["post"])
    def submit(self, request, pk):
        return self._transition(services.demand_plan_submit)

    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk):
        return self._transition(services.demand_plan_withdraw)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk):
        return self._transition(services.demand_plan_approve)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk):
        return self._transition(services.demand_plan_reject)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk):
        return self._transition(services.demand_plan_reopen, s.DemandPlanReopenInputSerializer)

    @action(detail=True, methods=["get"])
    def versions(self, request, pk):
        rows = selectors.demand_plan_versions(user=request.user, pk=pk)
        return Response(s.DemandPlanVersionSerializer(rows, many=True).data)
