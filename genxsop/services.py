"""Helpers shared by every app's services: permission checks, snapshots and field updates.

Services own transactions; these helpers never open one.
"""

import datetime
import decimal
import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models

from genxsop.errors import DuplicateEntity, PermissionDenied, ValidationFailed


def require_perm(actor, perm: str, obj=None) -> None:
    """Refuse unless `actor` is an active user holding `perm` (on `obj`, when object scoped)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("Authentication is required for this action.")
    if not actor.has_perm(perm):
        raise PermissionDenied()
    if obj is not None and hasattr(obj, "check_object_scope"):
        obj.check_object_scope(actor, perm)


def to_json_value(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict:
    """The audit representation of a row: concrete fields (foreign keys as `<name>_id`), JSON-safe.

    Timestamps maintained by the database layer are left out: they change on every write and
    would drown the real change in the history.
    """
    names = _snapshot_names.get(type(instance))
    if names is None:
        names = _snapshot_names[type(instance)] = [
            (f.name, f.attname) for f in instance._meta.concrete_fields
            if not f.primary_key and f.name not in ("created_at", "updated_at", "password")
        ]  # fmt: skip
    out = {}
    for name, attname in names:
        if fields is not None and name not in fields and attname not in fields:
            continue
        value = getattr(instance, attname)
        out[attname] = value if type(value) in _JSON_PLAIN else to_json_value(value)
    return out


# Per model, the fields a snapshot covers (bulk writers snapshot thousands of rows of one model).
_snapshot_names: dict[type, list[tuple[str, str]]] = {}
_JSON_PLAIN = frozenset({str, int, bool, type(None)})  # values to_json_value returns as they are


def validate_instance(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    """Run model validation and raise the API's 400/409 errors instead of Django's."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except DjangoValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        duplicate = [
            name for name, errors in exc.error_dict.items() for err in errors if err.code == "unique"
        ] if hasattr(exc, "error_dict") else []  # fmt: skip
        if duplicate:
            raise DuplicateEntity(fields[duplicate[0]][0], fields=fields) from None
        raise ValidationFailed(fields=fields) from None


def model_update(*, instance: models.Model, data: dict, fields: list[str]) -> tuple[models.Model, list[str]]:
    """Apply the allowed `fields` present in `data`; validate and save only what changed.

    Returns the instance and the names of the fields that changed (empty: nothing was written).
    """
    changed = []
    for name in fields:
        if name not in data:
            continue
        field = instance._meta.get_field(name)
        attr = field.attname if field.is_relation and not isinstance(data[name], models.Model) else name
        if getattr(instance, attr) != data[name]:
            setattr(instance, attr, data[name])
            changed.append(name)
    if changed:
        validate_instance(instance)
        update_fields = [*changed]
        if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
            update_fields.append("updated_at")
        save_or_conflict(instance, update_fields=update_fields)
    return instance, changed


def save_or_conflict(instance: models.Model, **kwargs) -> None:
    """Save, turning a constraint violation that slipped past validation into 409 (API-09)."""
    from django.db import transaction

    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        text = str(exc).lower()
        if "unique" in text or "duplicate" in text:
            raise DuplicateEntity() from None
        from genxsop.errors import Conflict

        raise Conflict("The change violates a data rule of the database.") from None
