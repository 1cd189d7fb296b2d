"""Supply planning API (API-SUP-01…15), gap closing, and the demand history series (API-DEM-16/17):
thin adapters over planning.selectors and planning.services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from genxsop.errors import NotFound, ValidationFailed
from planning import permissions as perms
from planning import selectors, services
from planning.api import supply_serializers as ss
from planning.api.plan_views import PlanViewSet, plan_schema
from planning.filtersets import SupplyPlanFilterSet
from planning.models import DEFAULT_LOCATION_CODE, Location


def location_by_code(user, code: str | None, field: str = "location") -> Location:
    """PLN-03: plans name a location by its code (default Main); an unknown code is 400."""
    code = (code or "").strip() or DEFAULT_LOCATION_CODE
    location = selectors.location_list(user=user).filter(code=code).first()
    if location is None:
        raise ValidationFailed(fields={field: [f"Unknown location {code!r}."]})
    return location


@extend_schema_view(
    list=extend_schema(
        summary="List supply plans",
        description="Current rows by default (`include_history=true` adds history rows); default order "
        "`-period, sku`. `category_id` includes the category's subtree; `status`, `location` (codes) and "
        "`source` take comma-separated values.",
        responses={200: ss.SupplyPlanSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    **plan_schema(
        label="supply plan", serializer=ss.SupplyPlanSerializer, create_input=ss.SupplyPlanCreateInputSerializer,
        update_input=ss.SupplyPlanUpdateInputSerializer, actual_input=ss.SupplyPlanActualInputSerializer,
        version_serializer=ss.SupplyPlanVersionSerializer, actual_description="`actual_prod_qty`",
    ),
)  # fmt: skip
class SupplyPlanViewSet(PlanViewSet):
    """Supply plans (PLN-05) and their lifecycle (WF-11)."""

    list_selector = staticmethod(selectors.supply_plan_list)
    get_selector = staticmethod(selectors.supply_plan_get)
    versions_selector = staticmethod(selectors.supply_plan_versions)
    serializer_class = ss.SupplyPlanSerializer
    version_serializer_class = ss.SupplyPlanVersionSerializer
    filterset_class = SupplyPlanFilterSet
    update_input_serializer = ss.SupplyPlanUpdateInputSerializer
    actual_input_serializer = ss.SupplyPlanActualInputSerializer
    deleted_message = "Supply plan deleted successfully"
    plan_services = {
        "update": services.supply_plan_update, "delete": services.supply_plan_delete,
        "submit": services.supply_plan_submit, "withdraw": services.supply_plan_withdraw,
        "approve": services.supply_plan_approve, "reject": services.supply_plan_reject,
        "reopen": services.supply_plan_reopen, "unlock": services.supply_plan_unlock,
        "bulk": services.supply_plan_bulk_transition,
    }  # fmt: skip
    plan_permissions = {
        "view": perms.VIEW_SUPPLY_PLAN, "add": perms.ADD_SUPPLY_PLAN, "change": perms.CHANGE_SUPPLY_PLAN,
        "delete": perms.DELETE_SUPPLY_PLAN, "submit": perms.SUBMIT_SUPPLY_PLAN, "approve": perms.APPROVE_SUPPLY_PLAN,
    }  # fmt: skip

    def create(self, request):
        data = validated_body(ss.SupplyPlanCreateInputSerializer, request.data)
        try:
            product = selectors.product_get(user=request.user, pk=data.pop("product_id"))
        except NotFound:
            raise ValidationFailed(fields={"product_id": ["Product not found."]}) from None
        location = location_by_code(request.user, data.pop("location", None))
        plan = services.supply_plan_create(actor=request.user, product=product, location=location, data=data)
        return self._reload(plan, status.HTTP_201_CREATED)

    def prepare_update(self, data: dict, plan) -> dict:
        if "location" in data:
            # The location is part of the business key; the service refuses a different one.
            data["location_id"] = location_by_code(self.request.user, data.pop("location")).pk
        return data


class GatedView(APIView):
    """An endpoint outside a viewset, gated by one permission as the first layer (HasActionPermission);
    the selector or service it calls checks scope and rules again."""

    permission_classes = [HasActionPermission]
    action = "call"
    permission = ""

    @property
    def action_permissions(self) -> dict[str, str]:
        return {self.action: self.permission}


_GAP_PARAMETERS = [
    OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD; default the current month."),
    OpenApiParameter("period_to", OpenApiTypes.STR, description="Last period of a range (at most 24 periods)."),
    OpenApiParameter("product_id", OpenApiTypes.INT),
    OpenApiParameter("category_id", OpenApiTypes.INT, description="The category and its subtree."),
    OpenApiParameter("status", OpenApiTypes.STR, description="critical, shortage, balanced, excess; comma-separated."),
]


class GapAnalysisView(GatedView):
    permission = perms.VIEW_SUPPLY_PLAN

    @extend_schema(
        summary="Supply gap analysis",
        description="FRM-02: one item per product and period with current demand rows in the caller's scope, "
        "ordered by period, then coverage gap % ascending.",
        parameters=_GAP_PARAMETERS,
        responses={200: ss.GapAnalysisItemSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    )
    def get(self, request):
        items = selectors.gap_analysis(user=request.user, params=request.query_params)
        return Response(ss.GapAnalysisItemSerializer(items, many=True).data)


class GapCloseView(GatedView):
    permission = perms.CHANGE_SUPPLY_PLAN

    @extend_schema(
        summary="Close or adjust a product-period's gap",
        description="Sets the planned production of the product's supply plan at the location (default: the "
        "one planning the most, else Main) to `planned_prod_qty`, by default the UI-05 proposal max(0, planned - "
        "plan gap of FRM-02): planned + |plan gap| for a shortage or critical gap, planned - plan gap for an "
        "excess. A new version of a draft or rejected plan, or a new draft. A submitted, approved or locked plan "
        "is 409 INVALID_STATE_TRANSITION (withdraw or reopen it first); a balanced or demand-less product-period, "
        "or a quantity the plan already has, is 409 BUSINESS_RULE_VIOLATION.",
        request=ss.GapCloseInputSerializer,
        responses={200: ss.SupplyPlanSerializer, **error_responses(*WRITE_ERRORS, 409)},
    )
    def post(self, request):
        data = validated_body(ss.GapCloseInputSerializer, request.data)
        try:
            product = selectors.product_get(user=request.user, pk=data["product_id"])
        except NotFound:
            raise ValidationFailed(fields={"product_id": ["Product not found."]}) from None
        location = location_by_code(request.user, data["location"]) if data.get("location") else None
        plan = services.supply_gap_close(actor=request.user, product=product, period=data["period"],
                                         location=location, planned_prod_qty=data.get("planned_prod_qty"),
                                         expected_version=data.get("expected_version"))  # fmt: skip
        plan = selectors.supply_plan_get(user=request.user, pk=plan.pk)
        response = Response(ss.SupplyPlanSerializer(plan, context={"request": request}).data)
        response["ETag"] = f'W/"{plan.version}"'
        return response


_HISTORY_PARAMETERS = [
    OpenApiParameter("product_id", OpenApiTypes.INT, required=True),
    OpenApiParameter("region", OpenApiTypes.STR, description="Omitted with channel: the product total."),
    OpenApiParameter("channel", OpenApiTypes.STR),
    OpenApiParameter("months", OpenApiTypes.INT, description="1..120, default 24, counting the current month."),
    OpenApiParameter("only_actuals", OpenApiTypes.BOOL),
]
HISTORY_COLUMNS = ["period", "forecast_qty", "actual_qty", "consensus_qty", "region", "channel", "status"]


class DemandHistoryView(GatedView):
    permission = perms.VIEW_DEMAND_PLAN

    @extend_schema(
        summary="Demand history of a product",
        description="The monthly series, ascending; for the product total (no region/channel) quantities are "
        "summed over the current rows of each month and `status` is the least advanced one.",
        parameters=_HISTORY_PARAMETERS,
        responses={200: ss.DemandHistoryPointSerializer(many=True), **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request):
        points = selectors.demand_history(user=request.user, params=request.query_params)
        return Response(ss.DemandHistoryPointSerializer(points, many=True).data)


class _FileDownload(DefaultContentNegotiation):
    """A download answers whatever the client accepts (e.g. `Accept: text/csv`); errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DemandHistoryExportView(GatedView):
    permission = perms.VIEW_DEMAND_PLAN
    content_negotiation_class = _FileDownload

    @extend_schema(
        summary="Export the demand history of a product (CSV)",
        description=f"`demand_history_product_<id>.csv` with the columns {', '.join(HISTORY_COLUMNS)}; text "
        "beginning with = + - @ is prefixed with a single quote (INT-23).",
        parameters=_HISTORY_PARAMETERS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
                   **error_responses(400, *READ_ERRORS, 404)},
    )  # fmt: skip
    def get(self, request):
        from planning.fileio.writer import file_response

        points = selectors.demand_history(user=request.user, params=request.query_params)
        rows = ([point[column] for column in HISTORY_COLUMNS] for point in points)
        name = f"demand_history_product_{request.query_params['product_id']}.csv"
        return file_response(dataset="demand_history", fmt="csv", header=HISTORY_COLUMNS, rows=rows, name=name)
