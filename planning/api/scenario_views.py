"""Scenario API (API-SCN-01…17): thin adapters over planning.selectors.scenarios and
planning.services.scenarios. The role gate answers 403 before any body is read."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, XLSX_MEDIA_TYPE, error_responses
from genxsop.api.validation import validated_body
from genxsop.api.viewsets import ServiceViewSet
from genxsop.errors import ValidationFailed
from planning import permissions as perms
from planning.api import scenario_serializers as ss
from planning.selectors import scenarios as selectors
from planning.services import scenarios as services

_LIST_PARAMETERS = [
    OpenApiParameter(
        "status", OpenApiTypes.STR, description="draft, completed, submitted, approved, rejected; comma-separated."
    ),
    OpenApiParameter("scenario_type", OpenApiTypes.STR, description="Comma-separated types (aliases accepted)."),
    OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM or YYYY-MM-DD."),
    OpenApiParameter("is_operating_plan", OpenApiTypes.BOOL),
    OpenApiParameter("search", OpenApiTypes.STR, description="Part of the name."),
]
_WRITE = {200: ss.ScenarioSerializer, **error_responses(*WRITE_ERRORS, 404, 409)}
_TRANSITION = {200: ss.ScenarioSerializer, **error_responses(*READ_ERRORS, 400, 404, 409)}


def _action_schema(summary: str, description: str, request=ss.ScenarioActionInputSerializer, responses=None):
    return extend_schema(summary=summary, description=description, parameters=[ID_PARAMETER], request=request,
                         responses=responses or _TRANSITION)  # fmt: skip


@extend_schema_view(
    list=extend_schema(summary="List scenarios", description="Newest first. A scoped user sees only scenarios whose "
                       "scope lies within their own (ACC-13).", parameters=_LIST_PARAMETERS,
                       responses={200: ss.ScenarioSerializer(many=True), **error_responses(400, *READ_ERRORS)}),
    retrieve=extend_schema(summary="Get a scenario", parameters=[ID_PARAMETER],
                           responses={200: ss.ScenarioSerializer, **error_responses(*READ_ERRORS, 404)}),
    create=extend_schema(
        summary="Create a scenario (draft)",
        description="FRM-30 parameters are validated (400 for an unknown key, a value out of range or an unknown "
        "type); `assumptions` is an alias of `parameters`. The scope must lie within the caller's (ACC-13, 403); a "
        "scoped caller who names none gets their own.",
        request=ss.ScenarioCreateInputSerializer,
        responses={201: ss.ScenarioSerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(summary="Edit a scenario", description="Draft, completed and rejected scenarios return to "
                         "draft (results cleared); the type changes only in draft; approved ones are immutable (409).",
                         parameters=[ID_PARAMETER], request=ss.ScenarioUpdateInputSerializer, responses=_WRITE),
    partial_update=extend_schema(summary="Edit a scenario", parameters=[ID_PARAMETER],
                                 request=ss.ScenarioUpdateInputSerializer, responses=_WRITE),
    destroy=extend_schema(summary="Delete a draft or rejected scenario",
                          description="409 for other states and for a scenario a publication refers to.",
                          parameters=[ID_PARAMETER],
                          responses={204: None, **error_responses(*READ_ERRORS, 404, 409)}),
    run=_action_schema("Run a scenario", "FRM-30/31 over the live rows of its period and scope (the plans are only "
                       "read). Draft or completed → completed; 403 when the scope is outside the caller's.",
                       request=None, responses={**_TRANSITION, **error_responses(403)}),
    submit=_action_schema("Submit a run scenario", "Completed → submitted; the approvers are notified."),
    approve=_action_schema("Approve a submitted scenario", "The submitter cannot approve it (403 "
                           "SELF_APPROVAL_FORBIDDEN, ACC-05).", responses={**_TRANSITION, **error_responses(403)}),
    reject=_action_schema("Reject a submitted scenario", 'The comment (default "Rejected") is kept; the submitter '
                          "is notified."),
    reopen=_action_schema("Reopen a rejected scenario", "Rejected → draft; results cleared."),
    designate_operating_plan=_action_schema(
        "Designate the operating plan", "An approved scenario becomes the operating plan of its period; any other "
        "scenario of the period loses the flag; a scenario decision is recorded."),
    undesignate_operating_plan=_action_schema(
        "Withdraw the operating-plan designation", "409 IN_USE while a current publication uses it.", request=None),
    clone=_action_schema("Clone a scenario", 'A new draft with " (copy)" appended to the name, the same type, '
                         "parameters and scope.", request=ss.ScenarioCloneInputSerializer,
                         responses={201: ss.ScenarioSerializer, **error_responses(*WRITE_ERRORS, 404)}),
    tradeoff_summary=extend_schema(summary="Trade-off summary of a scenario (FRM-31)", parameters=[ID_PARAMETER],
                                   responses={200: ss.ScenarioTradeoffSummarySerializer,
                                              **error_responses(*READ_ERRORS, 404)}),
)  # fmt: skip
class ScenarioViewSet(ServiceViewSet):
    """Scenarios (PLN-11) and their lifecycle (WF-30)."""

    list_selector = staticmethod(selectors.scenario_list)
    get_selector = staticmethod(selectors.scenario_get)
    serializer_class = ss.ScenarioSerializer
    action_permissions = {
        "list": perms.VIEW_SCENARIO, "retrieve": perms.VIEW_SCENARIO, "tradeoff_summary": perms.VIEW_SCENARIO,
        "create": perms.ADD_SCENARIO, "update": perms.CHANGE_SCENARIO, "partial_update": perms.CHANGE_SCENARIO,
        "destroy": perms.DELETE_SCENARIO, "run": perms.RUN_SCENARIO, "submit": perms.RUN_SCENARIO,
        "reopen": perms.RUN_SCENARIO, "clone": perms.RUN_SCENARIO, "approve": perms.APPROVE_SCENARIO,
        "reject": perms.APPROVE_SCENARIO, "designate_operating_plan": perms.APPROVE_SCENARIO,
        "undesignate_operating_plan": perms.APPROVE_SCENARIO,
    }  # fmt: skip

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ss.ScenarioSerializer.Meta.model.objects.none()
        return self.list_selector(user=self.request.user, filters=self.request.query_params)

    def _reload(self, scenario, status_code=status.HTTP_200_OK) -> Response:
        return self._render(self.get_selector(user=self.request.user, pk=scenario.pk), status_code)

    def create(self, request):
        data = validated_body(ss.ScenarioCreateInputSerializer, request.data)
        scenario = services.scenario_create(actor=request.user, data=data)
        return self._reload(scenario, status.HTTP_201_CREATED)

    def update(self, request, pk):
        scenario = self.get_object()
        data = validated_body(ss.ScenarioUpdateInputSerializer, request.data)
        services.scenario_update(actor=request.user, scenario=scenario, data=data)
        return self._reload(scenario)

    def partial_update(self, request, pk):
        return self.update(request, pk)

    def destroy(self, request, pk):
        services.scenario_delete(actor=request.user, scenario=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _comment(self) -> str:
        data = validated_body(ss.ScenarioActionInputSerializer, self.request.data or {})
        return data.get("comment") or data.get("comments") or ""

    @action(detail=True, methods=["post"])
    def run(self, request, pk):
        scenario = services.scenario_run(actor=request.user, scenario=self.get_object())
        return self._reload(scenario)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk):
        scenario = self.get_object()
        services.scenario_submit(actor=request.user, scenario=scenario, comment=self._comment())
        return self._reload(scenario)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk):
        scenario = self.get_object()
        services.scenario_approve(actor=request.user, scenario=scenario, comment=self._comment())
        return self._reload(scenario)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk):
        scenario = self.get_object()
        services.scenario_reject(actor=request.user, scenario=scenario, comment=self._comment())
        return self._reload(scenario)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk):
        scenario = self.get_object()
        services.scenario_reopen(actor=request.user, scenario=scenario, comment=self._comment())
        return self._reload(scenario)

    @action(detail=True, methods=["post"], url_path="designate-operating-plan")
    def designate_operating_plan(self, request, pk):
        scenario = self.get_object()
        services.scenario_designate_operating_plan(actor=request.user, scenario=scenario, comment=self._comment())
        return self._reload(scenario)

    @action(detail=True, methods=["post"], url_path="undesignate-operating-plan")
    def undesignate_operating_plan(self, request, pk):
        scenario = self.get_object()
        services.scenario_undesignate(actor=request.user, scenario=scenario)
        return self._reload(scenario)

    @action(detail=True, methods=["post"])
    def clone(self, request, pk):
        scenario = self.get_object()
        data = validated_body(ss.ScenarioCloneInputSerializer, request.data or {})
        copy = services.scenario_clone(actor=request.user, scenario=scenario, name=data.get("name"))
        return self._reload(copy, status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"], url_path="tradeoff-summary")
    def tradeoff_summary(self, request, pk):
        summary = selectors.scenario_tradeoff_summary(user=request.user, pk=pk)
        return Response(ss.ScenarioTradeoffSummarySerializer(summary).data)


class _ReadView(APIView):
    permission_classes = [HasActionPermission]
    action = "read"
    action_permissions = {"read": perms.VIEW_SCENARIO}


_IDS_PARAMETER = OpenApiParameter("ids", OpenApiTypes.STR, required=True, description="2 to 6 ids, e.g. 1,2,3.")


class ScenarioCompareView(_ReadView):
    @extend_schema(
        summary="Compare scenarios side by side",
        description="`ids=1,2,3` (2 to 6). Each item carries its impacts, the baseline and scenario figures, the "
        "trade-off and `deltas` against the first scenario.",
        parameters=[_IDS_PARAMETER],
        responses={200: ss.ScenarioCompareItemSerializer(many=True), **error_responses(400, *READ_ERRORS, 404)},
    )
    def get(self, request):
        rows = selectors.scenario_compare(user=request.user, ids=request.query_params.get("ids", ""))
        return Response(ss.ScenarioCompareItemSerializer(rows, many=True).data)

    @extend_schema(
        summary="Compare scenarios side by side",
        description="The body is `{scenario_ids: [...]}` or a bare JSON array of ids (2 to 6; 400 otherwise).",
        request=ss.ScenarioCompareInputSerializer,
        responses={200: ss.ScenarioCompareItemSerializer(many=True), **error_responses(400, *READ_ERRORS, 404)},
    )
    def post(self, request):
        rows = selectors.scenario_compare(user=request.user, ids=request.data)
        return Response(ss.ScenarioCompareItemSerializer(rows, many=True).data)


class _FileDownload(DefaultContentNegotiation):
    """A download answers whatever the client accepts; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ScenarioCompareExportView(_ReadView):
    content_negotiation_class = _FileDownload

    @extend_schema(
        summary="Export a scenario comparison (CSV or XLSX)",
        description="One row per scenario with its impacts, baseline and scenario figures, trade-off and deltas "
        "against the first; the export is audited (planning.data.exported).",
        parameters=[_IDS_PARAMETER, OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"])],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The file."),
                   (200, XLSX_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
                   **error_responses(400, *READ_ERRORS, 404)},
    )  # fmt: skip
    def get(self, request):
        ids = request.query_params.get("ids", "")
        if not ids:
            raise ValidationFailed(fields={"ids": ["Give 2 to 6 scenario ids, e.g. ids=1,2."]})
        return services.scenario_compare_export(actor=request.user, ids=ids, fmt=request.query_params.get("format"))
