"""Role permissions in one query per request (OPS-60).

Django's ModelBackend reads a user's own permissions and their group's permissions in two
queries. This backend sits before it and fills the same per-user-object cache (`_perm_cache`)
from one query, so ModelBackend answers from it. The cache lives on the user object, which each
request loads afresh: a role change (`sync_user_group`) or a grant takes effect on the next request.
"""

from django.db.models import Q


class RolePermissionBackend:
    """Authenticates nobody and loads no session user (no `get_user`, so logins and `force_login`
    keep naming ModelBackend); answers model permissions, never object permissions."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return any(name.startswith(f"{app_label}.") for name in self.get_all_permissions(user_obj))

    def get_all_permissions(self, user_obj, obj=None):
        if obj is not None or not getattr(user_obj, "is_active", False) or user_obj.is_anonymous:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = _permission_names(user_obj)
        return user_obj._perm_cache

    def get_user_permissions(self, user_obj, obj=None):
        return set()  # ModelBackend answers these (and caches them) itself

    def get_group_permissions(self, user_obj, obj=None):
        return set()


def _permission_names(user) -> set[str]:
    from django.contrib.auth.models import Group, Permission

    permissions = Permission.objects.all()
    if not user.is_superuser:
        user_through = type(user).user_permissions.through
        group_through = Group.permissions.through
        own = user_through.objects.filter(user_id=user.pk).values("permission_id")
        via_group = group_through.objects.filter(group__user=user.pk).values("permission_id")
        permissions = permissions.filter(Q(pk__in=own) | Q(pk__in=via_group))
    return {
        f"{app}.{codename}"
        for app, codename in permissions.values_list("content_type__app_label", "codename").order_by()
    }
