"""Demand planning API (API-DEM-01…11, 13…15): thin adapters over planning.selectors and planning.services."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action

from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, error_responses
from genxsop.api.validation import validated_body
from genxsop.errors import NotFound, ValidationFailed
from planning import permissions as perms
from planning import selectors, services
from planning.api import serializers as s
from planning.api.plan_views import IF_MATCH, PlanViewSet, plan_schema
from planning.filtersets import DemandPlanFilterSet


@extend_schema_view(
    list=extend_schema(
        summary="List demand plans",
        description="Current rows by default (`include_history=true` adds history rows); default order "
        "`-period, sku`. `category_id` includes the category's subtree; `status`, `region`, `channel` and "
        "`source` take comma-separated values.",
        responses={200: s.DemandPlanSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    adjust=extend_schema(
        summary="Adjust a demand plan",
        description="Sets `adjusted_qty` (and replaces `notes` when given); a content change like PATCH.",
        parameters=[ID_PARAMETER, IF_MATCH], request=s.DemandPlanAdjustInputSerializer,
        responses={200: s.DemandPlanSerializer, **error_responses(*READ_ERRORS, 400, 404, 409)},
    ),
    **plan_schema(
        label="demand plan", serializer=s.DemandPlanSerializer, create_input=s.DemandPlanCreateInputSerializer,
        update_input=s.DemandPlanUpdateInputSerializer, actual_input=s.DemandPlanActualInputSerializer,
        version_serializer=s.DemandPlanVersionSerializer, actual_description="`actual_qty`",
    ),
)  # fmt: skip
class DemandPlanViewSet(PlanViewSet):
    """Demand plans (PLN-04) and their lifecycle (WF-10)."""

    list_selector = staticmethod(selectors.demand_plan_list)
    get_selector = staticmethod(selectors.demand_plan_get)
    versions_selector = staticmethod(selectors.demand_plan_versions)
    serializer_class = s.DemandPlanSerializer
    version_serializer_class = s.DemandPlanVersionSerializer
    filterset_class = DemandPlanFilterSet
    update_input_serializer = s.DemandPlanUpdateInputSerializer
    actual_input_serializer = s.DemandPlanActualInputSerializer
    deleted_message = "Demand plan deleted successfully"
    plan_services = {
        "update": services.demand_plan_update, "delete": services.demand_plan_delete,
        "submit": services.demand_plan_submit, "withdraw": services.demand_plan_withdraw,
        "approve": services.demand_plan_approve, "reject": services.demand_plan_reject,
        "reopen": services.demand_plan_reopen, "unlock": services.demand_plan_unlock,
        "bulk": services.demand_plan_bulk_transition,
    }  # fmt: skip
    plan_permissions = {
        "view": perms.VIEW_DEMAND_PLAN, "add": perms.ADD_DEMAND_PLAN, "change": perms.CHANGE_DEMAND_PLAN,
        "delete": perms.DELETE_DEMAND_PLAN, "submit": perms.SUBMIT_DEMAND_PLAN, "approve": perms.APPROVE_DEMAND_PLAN,
    }  # fmt: skip

    def create(self, request):
        data = validated_body(s.DemandPlanCreateInputSerializer, request.data)
        try:
            product = selectors.product_get(user=request.user, pk=data.pop("product_id"))
        except NotFound:
            raise ValidationFailed(fields={"product_id": ["Product not found."]}) from None
        plan = services.demand_plan_create(actor=request.user, product=product, data=data)
        return self._reload(plan, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def adjust(self, request, pk):
        return self._content_action(s.DemandPlanAdjustInputSerializer)
