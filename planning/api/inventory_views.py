"""Inventory API (API-INV-01…04, 22…24): thin adapters over planning.selectors and planning.services."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from genxsop.api.schema import ID_PARAMETER, IF_MATCH_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body
from genxsop.api.viewsets import ServiceViewSet, VersionedRowMixin
from planning import permissions as perms
from planning import selectors, services
from planning.api import inventory_serializers as s

_WRITE = {200: s.InventorySerializer, **error_responses(*WRITE_ERRORS, 404, 409)}
_UPDATE_SCHEMA = extend_schema(
    summary="Update an inventory row",
    description="Quantities, dates and policy levels; all optional (PUT is partial like PATCH). Status, valuation "
    "and days of supply are derived (FRM-03/04/05) and recomputed; sending them is 400. A reorder point below the "
    "safety stock or a max stock below the reorder point is 400 naming the field; a stale `If-Match` or "
    "`expected_version` is 409 STALE_VERSION.",
    parameters=[ID_PARAMETER, IF_MATCH_PARAMETER],
    request=s.InventoryUpdateInputSerializer,
    responses=_WRITE,
)


@extend_schema_view(
    list=extend_schema(
        summary="List inventory rows",
        description="Rows in the caller's category and location scope; default order `sku, location`. "
        "`category_id` includes the category's subtree; `location` and `status` take comma-separated values; "
        "`search` matches SKU or product name.",
        responses={200: s.InventorySerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get an inventory row",
        description='Carries `ETag: W/"<version>"` (WF-05).',
        parameters=[ID_PARAMETER],
        responses={200: s.InventorySerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    update=_UPDATE_SCHEMA,
    partial_update=_UPDATE_SCHEMA,
    health=extend_schema(
        summary="Inventory health summary",
        description="FRM-11 over the caller's scope: rows per status, each as % of the rows (1 dp), and the "
        "total valuation; all 0 without rows.",
        responses={200: s.InventoryHealthSerializer, **error_responses(*READ_ERRORS)},
    ),
    alerts=extend_schema(
        summary="Inventory alerts",
        description="Critical, low and excess rows in the caller's scope, at most 50 per list, in `sku, location` "
        "order.",
        responses={200: s.InventoryAlertsSerializer, **error_responses(*READ_ERRORS)},
    ),
)  # fmt: skip
class InventoryViewSet(VersionedRowMixin, ServiceViewSet):
    """Inventory rows (PLN-06): stock position, policy levels and derived health."""

    list_selector = staticmethod(selectors.inventory_list)
    get_selector = staticmethod(selectors.inventory_get)
    serializer_class = s.InventorySerializer
    filterset_class = selectors.InventoryFilterSet
    action_permissions = {
        "list": perms.VIEW_INVENTORY,
        "retrieve": perms.VIEW_INVENTORY,
        "health": perms.VIEW_INVENTORY,
        "alerts": perms.VIEW_INVENTORY,
        "update": perms.CHANGE_INVENTORY,
        "partial_update": perms.CHANGE_INVENTORY,
    }

    def update(self, request, pk):
        row = self.get_object()
        data = validated_body(s.InventoryUpdateInputSerializer, request.data)
        expected = self._expected_version(data)
        services.inventory_update(actor=request.user, inventory=row, data=data, expected_version=expected)
        return self._render(selectors.inventory_get(user=request.user, pk=row.pk))

    def partial_update(self, request, pk):
        return self.update(request, pk)

    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def health(self, request):
        return Response(s.InventoryHealthSerializer(selectors.inventory_health(user=request.user)).data)

    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def alerts(self, request):
        return Response(s.InventoryAlertsSerializer(selectors.inventory_alerts(user=request.user)).data)


@extend_schema_view(
    override=extend_schema(
        summary="Override the policy levels of an inventory row",
        description="Sets safety stock, reorder point and/or max stock by hand with a required reason (3..500 "
        "characters, kept in the audit log); `policy_source` becomes `override` and the derived values are "
        "recomputed.",
        parameters=[ID_PARAMETER, IF_MATCH_PARAMETER],
        request=s.InventoryPolicyOverrideInputSerializer,
        responses=_WRITE,
    ),
)
class InventoryPolicyViewSet(VersionedRowMixin, ServiceViewSet):
    """Policy overrides of inventory rows (API-INV-24)."""

    get_selector = staticmethod(selectors.inventory_get)
    serializer_class = s.InventorySerializer
    action_permissions = {"override": perms.OVERRIDE_INVENTORY_POLICY}

    @action(detail=True, methods=["put"])
    def override(self, request, pk):
        row = self.get_object()
        data = validated_body(s.InventoryPolicyOverrideInputSerializer, request.data)
        expected = self._expected_version(data)
        reason = data.pop("reason")
        services.inventory_policy_override(
            actor=request.user, inventory=row, data=data, reason=reason, expected_version=expected
        )
        return self._render(selectors.inventory_get(user=request.user, pk=row.pk))


@extend_schema_view(
    list=extend_schema(
        summary="List month-end inventory snapshots",
        description="Snapshots in the caller's category and location scope, newest period first; `period_from` "
        "and `period_to` take YYYY-MM or YYYY-MM-DD; `location` takes comma-separated codes.",
        responses={200: s.InventorySnapshotSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
)
class InventorySnapshotViewSet(ServiceViewSet):
    """Month-end inventory history (PLN-07)."""

    list_selector = staticmethod(selectors.inventory_snapshot_list)
    serializer_class = s.InventorySnapshotSerializer
    filterset_class = selectors.InventorySnapshotFilterSet
    action_permissions = {"list": perms.VIEW_INVENTORY_SNAPSHOT}
