"""The scoped queryset base every selector reads through (house style: one `for_user`)."""

from django.db import models

from genxsop.errors import PermissionDenied


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
        """Object-scope narrowing (categories, locations); unrestricted by default."""
        return self.all()
