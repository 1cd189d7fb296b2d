"""Catalog API (API-PROD-01…10, API-LOC-01…05): thin adapters over planning.selectors and planning.services."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from genxsop.api.filters import FilterSetSchemaBackend
from genxsop.api.permissions import HasActionPermission
from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.errors import NotFound, ValidationFailed
from planning import permissions as perms
from planning import selectors, services
from planning.api import serializers as s
from planning.filtersets import LocationFilterSet, ProductFilterSet
from planning.models import Category, Location, Product


def _category_ref(user, pk, field: str) -> Category | None:
    """The category a body refers to; an unknown id is a bad value in the body (400), not a missing page."""
    if pk is None:
        return None
    try:
        return selectors.category_get(user=user, pk=pk)
    except NotFound:
        raise ValidationFailed(fields={field: [f"Category {pk} does not exist."]}) from None


class CatalogViewSet(viewsets.GenericViewSet):
    permission_classes = [HasActionPermission]
    lookup_value_regex = r"\d+"
    action_permissions: dict[str, str] = {}

    def _render(self, serializer_class, instance, status_code=status.HTTP_200_OK) -> Response:
        return Response(serializer_class(instance, context=self.get_serializer_context()).data, status=status_code)


# Categories -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List categories",
        parameters=[s.CategoryListQuerySerializer],
        responses={200: s.CategoryNodeSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a category",
        parameters=[ID_PARAMETER],
        responses={200: s.CategorySerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a category",
        request=s.CategoryCreateInputSerializer,
        responses={201: s.CategorySerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(
        summary="Update a category",
        parameters=[ID_PARAMETER],
        request=s.CategoryUpdateInputSerializer,
        responses={200: s.CategorySerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    partial_update=extend_schema(
        summary="Update a category",
        parameters=[ID_PARAMETER],
        request=s.CategoryUpdateInputSerializer,
        responses={200: s.CategorySerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    destroy=extend_schema(
        summary="Delete an empty category",
        parameters=[ID_PARAMETER],
        responses={204: None, **error_responses(*READ_ERRORS, 404, 409)},
    ),
)
class CategoryViewSet(CatalogViewSet):
    """Product categories, at most three levels deep (PLN-01)."""

    pagination_class = None
    serializer_class = s.CategorySerializer
    action_permissions = {
        "list": perms.VIEW_CATEGORY,
        "retrieve": perms.VIEW_CATEGORY,
        "create": perms.ADD_CATEGORY,
        "update": perms.CHANGE_CATEGORY,
        "partial_update": perms.CHANGE_CATEGORY,
        "destroy": perms.DELETE_CATEGORY,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a real caller
            return Category.objects.none()
        return selectors.category_list(user=self.request.user)

    def list(self, request):
        if validated_query(s.CategoryListQuerySerializer, request)["tree"]:
            return Response(selectors.category_tree(user=request.user))
        return Response(s.CategorySerializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, pk):
        return self._render(s.CategorySerializer, selectors.category_get(user=request.user, pk=pk))

    def create(self, request):
        data = validated_body(s.CategoryCreateInputSerializer, request.data)
        category = services.category_create(
            actor=request.user,
            name=data["name"],
            parent=_category_ref(request.user, data.get("parent_id"), "parent_id"),
            description=data.get("description", ""),
            level=data.get("level"),
        )
        return self._render(s.CategorySerializer, selectors.category_get(user=request.user, pk=category.pk), 201)

    def update(self, request, pk):
        category = selectors.category_get(user=request.user, pk=pk)
        data = validated_body(s.CategoryUpdateInputSerializer, request.data)
        if "parent_id" in data:
            data["parent"] = _category_ref(request.user, data.pop("parent_id"), "parent_id")
        services.category_update(actor=request.user, category=category, data=data)
        return self._render(s.CategorySerializer, selectors.category_get(user=request.user, pk=category.pk))

    def partial_update(self, request, pk):
        return self.update(request, pk)

    def destroy(self, request, pk):
        services.category_delete(actor=request.user, category=selectors.category_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Products ---------------------------------------------------------------------

_PRODUCT_WRITE = {200: s.ProductDetailSerializer, **error_responses(*WRITE_ERRORS, 404, 409)}
_PRODUCT_ACTION = {200: s.ProductDetailSerializer, **error_responses(*READ_ERRORS, 400, 404, 409)}


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description="Default order `sku`. `category_id` includes the category's whole subtree.",
        responses={200: s.ProductSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a product",
        parameters=[ID_PARAMETER],
        responses={200: s.ProductDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a product",
        request=s.ProductCreateInputSerializer,
        responses={201: s.ProductDetailSerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(
        summary="Update a product",
        description="Partial, like PATCH. The SKU cannot change; status changes use the action endpoints.",
        parameters=[ID_PARAMETER],
        request=s.ProductUpdateInputSerializer,
        responses=_PRODUCT_WRITE,
    ),
    partial_update=extend_schema(
        summary="Update a product",
        description="The SKU cannot change; status changes use the action endpoints.",
        parameters=[ID_PARAMETER],
        request=s.ProductUpdateInputSerializer,
        responses=_PRODUCT_WRITE,
    ),
    destroy=extend_schema(
        summary="Discontinue a product",
        description="Products are never deleted: this sets the status to `discontinued`.",
        parameters=[ID_PARAMETER],
        responses={200: s.MessageSerializer, **error_responses(*READ_ERRORS, 404, 409)},
    ),
    discontinue=extend_schema(
        summary="Discontinue a product",
        parameters=[ID_PARAMETER],
        request=s.ProductActionInputSerializer,
        responses=_PRODUCT_ACTION,
    ),
    activate=extend_schema(
        summary="Activate a new or discontinued product",
        parameters=[ID_PARAMETER],
        request=s.ProductActionInputSerializer,
        responses=_PRODUCT_ACTION,
    ),
)
class ProductViewSet(CatalogViewSet):
    """Products (PLN-02)."""

    serializer_class = s.ProductSerializer
    filter_backends = [FilterSetSchemaBackend]
    filterset_class = ProductFilterSet
    action_permissions = {
        "list": perms.VIEW_PRODUCT,
        "retrieve": perms.VIEW_PRODUCT,
        "create": perms.ADD_PRODUCT,
        "update": perms.CHANGE_PRODUCT,
        "partial_update": perms.CHANGE_PRODUCT,
        "destroy": perms.DISCONTINUE_PRODUCT,
        "discontinue": perms.DISCONTINUE_PRODUCT,
        "activate": perms.DISCONTINUE_PRODUCT,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a real caller
            return Product.objects.none()
        return selectors.product_list(user=self.request.user, filters=self.request.query_params)

    def _product_data(self, data: dict) -> dict:
        if "category_id" in data:
            data["category"] = _category_ref(self.request.user, data.pop("category_id"), "category_id")
        return data

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk):
        return self._render(s.ProductDetailSerializer, selectors.product_get(user=request.user, pk=pk))

    def create(self, request):
        data = self._product_data(validated_body(s.ProductCreateInputSerializer, request.data))
        product = services.product_create(actor=request.user, data=data)
        return self._render(s.ProductDetailSerializer, product, status.HTTP_201_CREATED)

    def update(self, request, pk):
        product = selectors.product_get(user=request.user, pk=pk)
        data = self._product_data(validated_body(s.ProductUpdateInputSerializer, request.data))
        product = services.product_update(actor=request.user, product=product, data=data)
        return self._render(s.ProductDetailSerializer, product)

    def partial_update(self, request, pk):
        return self.update(request, pk)

    def destroy(self, request, pk):
        services.product_discontinue(actor=request.user, product=selectors.product_get(user=request.user, pk=pk))
        return Response({"message": "Product discontinued successfully"})

    @action(detail=True, methods=["post"])
    def discontinue(self, request, pk):
        product = selectors.product_get(user=request.user, pk=pk)
        reason = validated_body(s.ProductActionInputSerializer, request.data)["reason"]
        product = services.product_discontinue(actor=request.user, product=product, reason=reason)
        return self._render(s.ProductDetailSerializer, product)

    @action(detail=True, methods=["post"])
    def activate(self, request, pk):
        product = selectors.product_get(user=request.user, pk=pk)
        reason = validated_body(s.ProductActionInputSerializer, request.data)["reason"]
        product = services.product_activate(actor=request.user, product=product, reason=reason)
        return self._render(s.ProductDetailSerializer, product)


# Locations --------------------------------------------------------------------

_LOCATION_WRITE = {200: s.LocationDetailSerializer, **error_responses(*WRITE_ERRORS, 404)}


@extend_schema_view(
    list=extend_schema(
        summary="List locations",
        description="Default order `code`.",
        responses={200: s.LocationSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a location",
        parameters=[ID_PARAMETER],
        responses={200: s.LocationDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a location",
        request=s.LocationCreateInputSerializer,
        responses={201: s.LocationDetailSerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(
        summary="Update a location",
        description="Partial, like PATCH. The code cannot change.",
        parameters=[ID_PARAMETER],
        request=s.LocationUpdateInputSerializer,
        responses=_LOCATION_WRITE,
    ),
    partial_update=extend_schema(
        summary="Update a location",
        description="The code cannot change.",
        parameters=[ID_PARAMETER],
        request=s.LocationUpdateInputSerializer,
        responses=_LOCATION_WRITE,
    ),
    destroy=extend_schema(
        summary="Delete or deactivate a location",
        description="204 when nothing references the location; otherwise it is deactivated and returned (200).",
        parameters=[ID_PARAMETER],
        responses={
            200: OpenApiResponse(s.LocationDetailSerializer, description="Referenced: deactivated instead."),
            204: OpenApiResponse(description="Deleted."),
            **error_responses(*READ_ERRORS, 404),
        },
    ),
)
class LocationViewSet(CatalogViewSet):
    """Plants, distribution centres, warehouses and stores (PLN-03)."""

    serializer_class = s.LocationSerializer
    filter_backends = [FilterSetSchemaBackend]
    filterset_class = LocationFilterSet
    action_permissions = {
        "list": perms.VIEW_LOCATION,
        "retrieve": perms.VIEW_LOCATION,
        "create": perms.ADD_LOCATION,
        "update": perms.CHANGE_LOCATION,
        "partial_update": perms.CHANGE_LOCATION,
        "destroy": perms.DELETE_LOCATION,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a real caller
            return Location.objects.none()
        return selectors.location_list(user=self.request.user, filters=self.request.query_params)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk):
        return self._render(s.LocationDetailSerializer, selectors.location_get(user=request.user, pk=pk))

    def create(self, request):
        location = services.location_create(
            actor=request.user, data=validated_body(s.LocationCreateInputSerializer, request.data)
        )
        return self._render(s.LocationDetailSerializer, location, status.HTTP_201_CREATED)

    def update(self, request, pk):
        location = selectors.location_get(user=request.user, pk=pk)
        data = validated_body(s.LocationUpdateInputSerializer, request.data)
        location = services.location_update(actor=request.user, location=location, data=data)
        return self._render(s.LocationDetailSerializer, location)

    def partial_update(self, request, pk):
        return self.update(request, pk)

    def destroy(self, request, pk):
        location = services.location_delete(
            actor=request.user, location=selectors.location_get(user=request.user, pk=pk)
        )
        if location is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._render(s.LocationDetailSerializer, location)
