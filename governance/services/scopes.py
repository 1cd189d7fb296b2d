"""Object scopes (ACC-08…13, GOV-02): which categories and locations a user is restricted to.

A grant is a django-guardian user-object permission on a Category or Location: `view` access is
`planning.view_in_scope`; `change` access is `planning.change_in_scope` held together with
`view_in_scope`, so guardian's own checks agree that change implies view. A category grant
covers the category's whole subtree (three levels at most). A user with no grant in a dimension
is unrestricted there; admin, executive and sop_coordinator are always unrestricted (ACC-09).

`object_scope_compute` turns the grants into id sets with at most two queries; genxsop.scoping
caches the result on the user object and every scoped queryset filters with it.
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from guardian.models import UserObjectPermission

from genxsop.errors import PermissionDenied, ValidationFailed
from genxsop.scoping import UNRESTRICTED, ObjectScope, object_scope_forget
from governance import audit, bus, events
from governance.choices import Role
from governance.models import User

UNRESTRICTED_ROLES = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.SOP_COORDINATOR})
SCOPE_TYPES = ("category", "location")
ACCESS_LEVELS = ("view", "change")
VIEW_CODENAME = "view_in_scope"
CHANGE_CODENAME = "change_in_scope"


def _grant_rows(user_id: int):
    """(type, object id, codename) of every scope permission the user holds: one query."""
    rows = UserObjectPermission.objects.filter(
        user_id=user_id,
        permission__codename__in=[VIEW_CODENAME, CHANGE_CODENAME],
        content_type__app_label="planning",
        content_type__model__in=SCOPE_TYPES,
    ).values_list("content_type__model", "object_pk", "permission__codename")
    for model, object_pk, codename in rows:
        if str(object_pk).isdigit():
            yield model, int(object_pk), codename


def _grants(user_id: int) -> dict[tuple[str, int], str]:
    """`{(type, id): access}` of a user's grants."""
    out: dict[tuple[str, int], str] = {}
    for model, pk, codename in _grant_rows(user_id):
        if codename == CHANGE_CODENAME:
            out[(model, pk)] = "change"
        else:
            out.setdefault((model, pk), "view")
    return out


def object_scope_compute(user) -> ObjectScope:
    """The user's scope as id sets; unrestricted roles cost no query, others one or two."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "role", None) in UNRESTRICTED_ROLES:
        return UNRESTRICTED
    grants = _grants(user.pk)
    if not grants:
        return UNRESTRICTED
    category_roots = {pk: access for (kind, pk), access in grants.items() if kind == "category"}
    locations = {pk: access for (kind, pk), access in grants.items() if kind == "location"}
    category_view = category_change = None
    if category_roots:
        from planning.models import Category

        roots = list(category_roots)
        change_roots = {pk for pk, access in category_roots.items() if access == "change"}
        view, change = set(), set()
        for pk, parent_id, grandparent_id in Category.objects.filter(
            Q(pk__in=roots) | Q(parent_id__in=roots) | Q(parent__parent_id__in=roots)
        ).values_list("pk", "parent_id", "parent__parent_id"):
            view.add(pk)
            if {pk, parent_id, grandparent_id} & change_roots:
                change.add(pk)
        category_view, category_change = frozenset(view), frozenset(change)
    location_view = location_change = None
    if locations:
        location_view = frozenset(locations)
        location_change = frozenset(pk for pk, access in locations.items() if access == "change")
    return ObjectScope(
        category_view=category_view,
        category_change=category_change,
        location_view=location_view,
        location_change=location_change,
    )


def user_scopes(user) -> list[dict]:
    """A user's grants as `[{type, id, code_or_name, access}]` (API-AUTH-17), categories first."""
    from planning.models import Category, Location

    grants = _grants(user.pk)
    names = {
        "category": dict(Category.objects.filter(pk__in=[pk for k, pk in grants if k == "category"])
                         .values_list("pk", "name")),
        "location": dict(Location.objects.filter(pk__in=[pk for k, pk in grants if k == "location"])
                         .values_list("pk", "code")),
    }  # fmt: skip
    out = [
        {"type": kind, "id": pk, "code_or_name": names[kind].get(pk, ""), "access": access}
        for (kind, pk), access in grants.items()
    ]
    return sorted(out, key=lambda g: (SCOPE_TYPES.index(g["type"]), g["code_or_name"], g["id"]))


def _validate(scopes) -> dict[tuple[str, int], str]:
    from planning.models import Category, Location

    wanted: dict[tuple[str, int], str] = {}
    errors: dict[str, list[str]] = {}
    for index, entry in enumerate(scopes or []):
        kind, pk, access = (entry or {}).get("type"), (entry or {}).get("id"), (entry or {}).get("access")
        if kind not in SCOPE_TYPES:
            errors[f"scopes[{index}].type"] = ["Must be category or location."]
            continue
        if access not in ACCESS_LEVELS:
            errors[f"scopes[{index}].access"] = ["Must be view or change."]
            continue
        if not isinstance(pk, int) or isinstance(pk, bool):
            errors[f"scopes[{index}].id"] = ["A valid id is required."]
            continue
        if (kind, pk) in wanted:
            errors[f"scopes[{index}].id"] = [f"{kind} {pk} is listed twice."]
            continue
        wanted[(kind, pk)] = access
    for kind, model in (("category", Category), ("location", Location)):
        ids = {pk for (k, pk) in wanted if k == kind}
        missing = ids - set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing:
            errors.setdefault("scopes", []).append(f"Unknown {kind} id(s): {', '.join(map(str, sorted(missing)))}.")
    if errors:
        raise ValidationFailed("The scopes are not valid.", fields=errors)
    return wanted


def _permissions() -> dict[tuple[str, str], Permission]:
    return {
        (perm.content_type.model, perm.codename): perm
        for perm in Permission.objects.filter(
            content_type__app_label="planning",
            content_type__model__in=SCOPE_TYPES,
            codename__in=[VIEW_CODENAME, CHANGE_CODENAME],
        ).select_related("content_type")
    }


def _codenames(access: str) -> list[str]:
    return [VIEW_CODENAME, CHANGE_CODENAME] if access == "change" else [VIEW_CODENAME]


def _apply(*, actor, user: User, wanted: dict[tuple[str, int], str]) -> None:
    """Make the user's grants equal `wanted`, one audit row per grant and per revocation."""
    current = _grants(user.pk)
    perms = _permissions()
    for key, access in sorted(current.items()):
        if wanted.get(key) == access:
            continue
        kind, pk = key
        UserObjectPermission.objects.filter(
            user=user, content_type=perms[(kind, VIEW_CODENAME)].content_type, object_pk=str(pk),
            permission__codename__in=[VIEW_CODENAME, CHANGE_CODENAME],
        ).delete()  # fmt: skip
        audit.record(actor=actor, event_type=events.SCOPE_REVOKED, target=user,
                     metadata={"type": kind, "id": pk, "access": access})  # fmt: skip
    for key, access in sorted(wanted.items()):
        if current.get(key) == access:
            continue
        kind, pk = key
        for codename in _codenames(access):
            perm = perms[(kind, codename)]
            UserObjectPermission.objects.get_or_create(
                user=user, permission=perm, content_type=perm.content_type, object_pk=str(pk)
            )
        audit.record(actor=actor, event_type=events.SCOPE_GRANTED, target=user,
                     metadata={"type": kind, "id": pk, "access": access})  # fmt: skip
    object_scope_forget(user)


def _require_admin(actor) -> None:
    if actor is not None and (not actor.is_active or actor.role != Role.ADMIN):
        raise PermissionDenied("Only administrators can manage object scopes.")


@transaction.atomic
def user_scopes_set(*, actor: User | None, user: User, scopes: list[dict]) -> list[dict]:
    """Replace a user's object scopes with `scopes` = `[{type, id, access}]` (API-AUTH-18).

    Admins only (`actor=None` is the system, e.g. demo data). Unrestricted roles (admin,
    executive, sop_coordinator) cannot be scoped: 400. Each grant and each revocation is audited
    as governance.scope.granted / governance.scope.revoked with metadata {type, id, access}; a
    changed access level is a revocation plus a grant. Returns the new set as `user_scopes`.
    """
    _require_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    wanted = _validate(scopes)
    if wanted and user.role in UNRESTRICTED_ROLES:
        raise ValidationFailed(
            f"The {Role(user.role).label} role is always unrestricted; it cannot be given object scopes.",
            fields={"scopes": ["This role cannot be scoped."]},
        )
    _apply(actor=actor, user=user, wanted=wanted)
    bus.publish_on_commit(events.SCOPE_GRANTED, user_id=user.pk)
    return user_scopes(user)


def user_scopes_clear(*, actor: User | None, user: User) -> None:
    """Revoke every grant (e.g. when the user moves to an unrestricted role); runs in the caller's transaction."""
    _apply(actor=actor, user=user, wanted={})


def content_type_ids() -> list[int]:
    """Content types carrying scope grants (for counting grants per user in listings)."""
    from planning.models import Category, Location

    return [ContentType.objects.get_for_model(Category).pk, ContentType.objects.get_for_model(Location).pk]
