"""Which entities comments and entity histories can attach to, and who may read each one.

Apps register a reader per entity type (`register("demand_plan", demand_plan_get)`): a selector
that returns the entity when the user may read it and raises NotFound otherwise. Governance code
that attaches things to "any entity" (comments, later the entity audit trail) resolves the
entity through here, so it never needs to import the apps that own the entities.
"""

from collections.abc import Callable

from genxsop.errors import NotFound, PermissionDenied, ValidationFailed

_READERS: dict[str, Callable] = {}


def register(entity_type: str, reader: Callable) -> None:
    _READERS[entity_type] = reader


def entity_types() -> list[str]:
    return sorted(_READERS)


def readable_entity(*, user, entity_type: str, entity_id):
    """The entity when `user` may read it; 400 for an unknown type, 404 when missing or unreadable."""
    reader = _READERS.get(entity_type)
    if reader is None:
        raise ValidationFailed(fields={"entity_type": [f"Unknown entity type; one of {', '.join(entity_types())}."]})
    try:
        return reader(user=user, pk=entity_id)
    except PermissionDenied:
        # A role without read access to the module learns nothing about which entities exist.
        raise NotFound() from None
