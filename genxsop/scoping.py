"""The scoped queryset base every selector reads through (house style: one `for_user`)."""

import contextlib
from dataclasses import dataclass

from django.db import models

from genxsop.errors import NotFound, PermissionDenied


class ScopedQuerySet(models.QuerySet):
    """`Model.objects.for_user(user)` returns only what `user` may read.

    The module read scope (ACC-06) is the model's `view_<model>` permission: without it the
    caller gets 403, never an empty list. Subclasses narrow further by object scope.
    """

    def read_permission(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.view_{meta.model_name}"

    def for_user(self, user, action: str = "view"):
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            raise PermissionDenied("Authentication is required.")
        if not user.has_perm(self.read_permission()):
            raise PermissionDenied()
        return self.scope_for(user, action)

    def scope_for(self, user, action: str):
        """Object-scope narrowing (ACC-08…11) along the model's declared scope paths.

        A model names where its category and location live with `scope_category_path` and
        `scope_location_path` (e.g. `"category"`, `"product__category"`, `"location"`; `"pk"` for
        the Category and Location rows themselves). The caller's scope is computed once per user
        object (see `object_scope`), so this adds `IN (...)` filters and no per-row queries.
        """
        queryset = self.all()
        scope = object_scope(user)
        if scope.unrestricted:
            return queryset
        change = action != "view"
        category_path = getattr(self.model, "scope_category_path", None)
        if category_path is not None:
            ids = scope.category_ids(change=change)
            if ids is not None:
                # A product without a category is outside every category scope (ACC-10).
                queryset = queryset.filter(**{_id_lookup(category_path): ids}) if ids else queryset.none()
        location_path = getattr(self.model, "scope_location_path", None)
        if location_path is not None:
            ids = scope.location_ids(change=change)
            if ids is not None:
                queryset = queryset.filter(**{_id_lookup(location_path): ids}) if ids else queryset.none()
        return queryset


def _id_lookup(path: str) -> str:
    return "pk__in" if path == "pk" else f"{path}_id__in"


def _path_value(obj, path: str):
    """The id at the end of `path` on an instance (`"product__category"` -> obj.product.category_id)."""
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


@dataclass(frozen=True)
class ObjectScope:
    """A user's object scope (ACC-08/09): per dimension, the readable and the writable ids.

    `None` means unrestricted in that dimension; a category set already holds the whole subtree
    of every granted category.
    """

    category_view: frozenset[int] | None = None
    category_change: frozenset[int] | None = None
    location_view: frozenset[int] | None = None
    location_change: frozenset[int] | None = None

    @property
    def unrestricted(self) -> bool:
        return self.category_view is None and self.location_view is None

    def category_ids(self, *, change: bool = False) -> frozenset[int] | None:
        return self.category_change if change else self.category_view

    def location_ids(self, *, change: bool = False) -> frozenset[int] | None:
        return self.location_change if change else self.location_view


UNRESTRICTED = ObjectScope()
_CACHE_ATTR = "_genxsop_object_scope"


def object_scope(user) -> ObjectScope:
    """The caller's object scope, computed once per user object (so once per request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from governance.services.scopes import object_scope_compute

        cached = object_scope_compute(user)
        with contextlib.suppress(AttributeError):  # e.g. AnonymousUser
            setattr(user, _CACHE_ATTR, cached)
    return cached


def object_scope_forget(user) -> None:
    """Drop the cached scope of this user object (after its grants or role changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def object_in_scope(user, obj, *, change: bool = False) -> bool:
    """Whether `obj` lies in `user`'s (change) scope, from the row's own ids: no query once cached."""
    scope = object_scope(user)
    if scope.unrestricted:
        return True
    for path_attr, ids in (
        ("scope_category_path", scope.category_ids(change=change)),
        ("scope_location_path", scope.location_ids(change=change)),
    ):
        path = getattr(type(obj), path_attr, None)
        if path is None or ids is None:
            continue
        if _path_value(obj, path) not in ids:
            return False
    return True


class ObjectScopedModel:
    """Mixin for models under object scope: `require_perm(actor, perm, obj)` calls `check_object_scope`.

    Outside the read scope is 404 (ACC-11); inside it with only `view` access, a write is 403.
    """

    scope_category_path: str | None = None
    scope_location_path: str | None = None

    def check_object_scope(self, actor, perm: str) -> None:
        if not object_in_scope(actor, self):
            raise NotFound()
        if not perm.split(".")[-1].startswith("view_") and not object_in_scope(actor, self, change=True):
            raise PermissionDenied("Your scope on this object is read-only.")


def require_change_scope(actor, obj, *, fresh: bool = False) -> None:
    """ACC-12: after a write, the object must still lie in the actor's change scope (else 403, rolled back).

    `fresh` recomputes the scope first, for writes that reshape it (moving a category).
    """
    if fresh:
        object_scope_forget(actor)
    if not object_in_scope(actor, obj, change=True):
        raise PermissionDenied("The change would move the object outside your scope.")
