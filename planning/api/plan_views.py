"""The API shape demand and supply plans share (WF-03…05, WF-10…13): reads with an ETag, edits and
transitions guarded by `If-Match`, versions, and bulk transitions. A subclass names its selectors,
services, serializers and permissions; `plan_schema` documents the shared operations for it.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from genxsop.api.pagination import EnvelopePagination
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.schema import IF_MATCH_PARAMETER as IF_MATCH
from genxsop.api.validation import validated_body
from genxsop.api.viewsets import ServiceViewSet, VersionedRowMixin
from planning.api import serializers as s
from planning.selectors.plans import plan_page
from planning.services.plans import BULK_ACTIONS

BULK_ACTION_PARAMETER = OpenApiParameter(
    "bulk_action", str, OpenApiParameter.PATH, enum=list(BULK_ACTIONS),
    description="The transition applied to every id.",
)  # fmt: skip


def plan_schema(*, label: str, serializer, create_input, update_input, actual_input, version_serializer,
                actual_description: str) -> dict:  # fmt: skip
    """`extend_schema_view` arguments for the operations every plan viewset has."""
    write = {200: serializer, **error_responses(*WRITE_ERRORS, 404, 409)}
    transition = {200: serializer, **error_responses(*READ_ERRORS, 400, 404, 409)}

    def action_schema(summary, request, description="", extra_errors=()):
        responses = {**transition, **error_responses(*extra_errors)} if extra_errors else transition
        return extend_schema(summary=summary, description=description, parameters=[ID_PARAMETER, IF_MATCH],
                             request=request, responses=responses)  # fmt: skip

    edit = (f"Content changes make a new version (WF-12) and are allowed in draft and rejected; {actual_description} "
            "alone records the actual in any status.")  # fmt: skip
    return {
        "retrieve": extend_schema(
            summary=f"Get a {label} (live or history row)", description='Carries `ETag: W/"<version>"` (WF-05).',
            parameters=[ID_PARAMETER], responses={200: serializer, **error_responses(*READ_ERRORS, 404)},
        ),
        "create": extend_schema(
            summary=f"Create a {label} (draft, version 1)", request=create_input,
            responses={201: serializer, **error_responses(*WRITE_ERRORS, 409)},
        ),
        "update": extend_schema(summary=f"Edit a {label}", description=f"Partial, like PATCH. {edit}",
                                parameters=[ID_PARAMETER, IF_MATCH], request=update_input, responses=write),
        "partial_update": extend_schema(summary=f"Edit a {label}", description=edit,
                                        parameters=[ID_PARAMETER, IF_MATCH], request=update_input, responses=write),
        "destroy": extend_schema(
            summary=f"Delete a draft or rejected {label}",
            description="Deletes the live row and its history rows; a plan that was ever approved is 409 IN_USE.",
            parameters=[ID_PARAMETER, IF_MATCH],
            responses={200: s.MessageSerializer, **error_responses(*READ_ERRORS, 404, 409)},
        ),
        "actual": action_schema(f"Record the actual of a {label}", actual_input,
                                "Allowed in every status, no new version (record_actual); history rows are "
                                "409 ENTITY_LOCKED."),
        "submit": action_schema(f"Submit a draft {label}", s.PlanActionInputSerializer),
        "withdraw": action_schema(f"Withdraw a submitted {label}", s.PlanActionInputSerializer),
        "approve": action_schema(f"Approve a submitted {label}", s.PlanActionInputSerializer,
                                 "The submitter cannot approve it (403 SELF_APPROVAL_FORBIDDEN, ACC-05).", (403,)),
        "reject": action_schema(f"Reject a submitted {label}", s.PlanActionInputSerializer,
                                'The comment (default "Rejected") is kept in the audit log.'),
        "reopen": action_schema(f"Reopen an approved {label}", s.PlanReopenInputSerializer),
        "unlock": action_schema(
            f"Unlock a published {label}", s.PlanUnlockInputSerializer,
            "WF-10 unlock: locked → draft, APPR with a justification (kept as an `override` comment). Inside the "
            "freeze window of the lane that published the row, `override_freeze: true` is also required (else 409 "
            "FREEZE_WINDOW_VIOLATION).",
        ),
        "versions": extend_schema(
            summary=f"Versions of a {label}",
            description="Every version, newest first, with `changed_fields` relative to the previous one (WF-12).",
            parameters=[ID_PARAMETER],
            responses={200: version_serializer(many=True), **error_responses(*READ_ERRORS, 404)},
        ),
        "bulk": extend_schema(
            summary=f"Submit, withdraw, approve or reject many {label}s",
            description="Each id runs in its own transaction and reports its own result (WF-13): an id outside "
            "the caller's scope reports NOT_FOUND, an illegal move INVALID_STATE_TRANSITION. The role gate is the "
            "action's own (submit/withdraw: writers, approve/reject: approvers).",
            parameters=[BULK_ACTION_PARAMETER], request=s.PlanBulkInputSerializer,
            responses={200: s.PlanBulkResponseSerializer, **error_responses(*WRITE_ERRORS, 404)},
        ),
    }  # fmt: skip


class PlanPagination(EnvelopePagination):
    """The envelope of API-05, with the count and page of `plan_page` (cheap in the default order)."""

    def count_and_slice(self, queryset, start: int, stop: int) -> tuple[int, list]:
        return plan_page(queryset, start, stop)


# No class docstring: drf-spectacular would show it as the description of every subclass without one.
class PlanViewSet(VersionedRowMixin, ServiceViewSet):
    versions_selector = None
    version_serializer_class = None
    pagination_class = PlanPagination
    create_input_serializer = None
    update_input_serializer = None
    actual_input_serializer = None
    deleted_message = ""
    # The plan's services: update, delete, submit, withdraw, approve, reject, reopen, unlock, bulk.
    plan_services: dict = {}
    # Permission names: view, add, change, delete, submit (also withdraw), approve (also reject, reopen, unlock).
    plan_permissions: dict = {}

    @property
    def action_permissions(self) -> dict[str, str]:
        p = self.plan_permissions
        bulk = getattr(self, "kwargs", {}).get("bulk_action")
        bulk_perm = {"submit": p["submit"], "withdraw": p["submit"], "approve": p["approve"],
                     "reject": p["approve"]}.get(bulk, p["view"])  # fmt: skip
        return {
            "list": p["view"], "retrieve": p["view"], "versions": p["view"], "create": p["add"],
            "update": p["change"], "partial_update": p["change"], "actual": p["change"], "adjust": p["change"],
            "destroy": p["delete"], "submit": p["submit"], "withdraw": p["submit"], "approve": p["approve"],
            "reject": p["approve"], "reopen": p["approve"], "unlock": p["approve"], "bulk": bulk_perm,
        }  # fmt: skip

    def _reload(self, plan, status_code=status.HTTP_200_OK) -> Response:
        return self._render(self.get_selector(user=self.request.user, pk=plan.pk), status_code)

    def prepare_update(self, data: dict, plan) -> dict:
        """Hook: turn API spellings of the body into the service's (supply: location code)."""
        return data

    def update(self, request, pk):
        return self._content_action(self.update_input_serializer)

    def partial_update(self, request, pk):
        return self.update(request, pk)

    @action(detail=True, methods=["post"])
    def actual(self, request, pk):
        return self._content_action(self.actual_input_serializer)

    def _content_action(self, serializer_class) -> Response:
        plan = self.get_object()
        data = validated_body(serializer_class, self.request.data)
        expected = self._expected_version(data)
        data = self.prepare_update(data, plan)
        self.plan_services["update"](actor=self.request.user, plan=plan, data=data, expected_version=expected)
        return self._reload(plan)

    def destroy(self, request, pk):
        plan = self.get_object()
        self.plan_services["delete"](actor=request.user, plan=plan, expected_version=self._expected_version({}))
        return Response({"message": self.deleted_message})

    def _transition(self, name: str) -> Response:
        plan = self.get_object()
        reopen = name == "reopen"
        serializer_class = s.PlanReopenInputSerializer if reopen else s.PlanActionInputSerializer
        data = validated_body(serializer_class, self.request.data or {})
        expected = self._expected_version(data)
        comment = data.get("comments") or data.get("comment") or ""
        kwargs = {"reason": data["reason"]} if reopen else {"comment": comment}
        self.plan_services[name](actor=self.request.user, plan=plan, expected_version=expected, **kwargs)
        return self._reload(plan)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk):
        return self._transition("submit")

    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk):
        return self._transition("withdraw")

    @action(detail=True, methods=["post"])
    def approve(self, request, pk):
        return self._transition("approve")

    @action(detail=True, methods=["post"])
    def reject(self, request, pk):
        return self._transition("reject")

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk):
        return self._transition("reopen")

    @action(detail=True, methods=["post"])
    def unlock(self, request, pk):
        plan = self.get_object()
        data = validated_body(s.PlanUnlockInputSerializer, request.data)
        self.plan_services["unlock"](actor=request.user, plan=plan, justification=data["justification"],
                                     override_freeze=data["override_freeze"],
                                     expected_version=self._expected_version(data))  # fmt: skip
        return self._reload(plan)

    # A plain list, neither paged nor filtered: without these the schema would document the envelope.
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request, pk):
        rows = self.versions_selector(user=request.user, pk=pk)
        return Response(self.version_serializer_class(rows, many=True).data)

    @action(detail=False, methods=["post"], url_path=r"bulk/(?P<bulk_action>[^/.]+)")
    def bulk(self, request, bulk_action):
        data = validated_body(s.PlanBulkInputSerializer, request.data)
        result = self.plan_services["bulk"](actor=request.user, action=bulk_action, ids=data["ids"],
                                            comment=data.get("comments") or data.get("comment") or "")  # fmt: skip
        return Response(s.PlanBulkResponseSerializer(result).data)
