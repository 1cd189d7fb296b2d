"""Catalog services: the only write path for categories, products and locations.

Each service checks the permission, validates, writes, records the audit event in the same
transaction and publishes its domain event after commit.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import ProtectedError

from genxsop.errors import InUse, InvalidStateTransition, ValidationFailed
from genxsop.scoping import require_change_scope
from genxsop.services import model_update, require_perm, save_or_conflict, snapshot, validate_instance
from governance import audit, bus
from planning import events
from planning import permissions as perms
from planning.choices import PRODUCT_TRANSITIONS, ProductStatus
from planning.models import MAX_CATEGORY_LEVEL, Category, Location, Product

__all__ = [
    "LOCATION_CREATE_FIELDS",
    "LOCATION_UPDATE_FIELDS",
    "PRODUCT_CREATE_FIELDS",
    "PRODUCT_UPDATE_FIELDS",
    "category_create",
    "category_delete",
    "category_update",
    "location_create",
    "location_delete",
    "location_is_referenced",
    "location_update",
    "product_activate",
    "product_allowed_actions",
    "product_create",
    "product_delete",
    "product_discontinue",
    "product_update",
]

PRODUCT_CREATE_FIELDS = [
    "sku", "name", "description", "category", "product_family", "unit_of_measure", "unit_cost", "selling_price",
    "lead_time_days", "min_order_qty", "status",
]  # fmt: skip
PRODUCT_UPDATE_FIELDS = [f for f in PRODUCT_CREATE_FIELDS if f not in ("sku", "status")]
LOCATION_CREATE_FIELDS = ["code", "name", "location_type", "region"]
LOCATION_UPDATE_FIELDS = ["name", "location_type", "region"]


def _trimmed(data: dict, names: tuple[str, ...]) -> dict:
    return {k: (v.strip() if isinstance(v, str) and k in names else v) for k, v in data.items()}


def _refuse_status_change(data: dict, current: str) -> None:
    """WF-01: a status in an update body is ignored when unchanged, otherwise refused."""
    if "status" in data and data["status"] != current:
        raise ValidationFailed(
            "Status changes use the action endpoints.", fields={"status": ["Status changes use the action endpoints."]}
        )


def _decimal_or_none(value, field: str):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(fields={field: ["A valid number is required."]}) from None


# Categories -------------------------------------------------------------------


def _category_depth_below(category: Category) -> int:
    """How many levels hang below `category` (0 for a leaf); the tree is at most three deep."""
    children = list(Category.objects.filter(parent=category).values_list("pk", flat=True))
    if not children:
        return 0
    if Category.objects.filter(parent_id__in=children).exists():
        return 2
    return 1


@transaction.atomic
def category_create(*, actor, name: str, parent: Category | None = None, description: str = "",
                    level: int | None = None) -> Category:  # fmt: skip
    """Add a category; its level is derived from the parent (at most three levels). Needs add_category."""
    require_perm(actor, perms.ADD_CATEGORY)
    derived = 0 if parent is None else parent.level + 1
    if level is not None and level != derived:
        raise ValidationFailed(fields={"level": [f"Level is derived from the parent and would be {derived}."]})
    if derived > MAX_CATEGORY_LEVEL:
        raise ValidationFailed(fields={"parent_id": ["Categories are at most three levels deep."]})
    category = Category(name=(name or "").strip(), parent=parent, level=derived, description=description or "")
    validate_instance(category)
    save_or_conflict(category)
    audit.record(actor=actor, event_type=events.CATEGORY_CREATED, target=category, after=snapshot(category))
    bus.publish_on_commit(events.CATEGORY_CREATED, category_id=category.pk)
    return category


@transaction.atomic
def category_update(*, actor, category: Category, data: dict) -> Category:
    """Rename, describe or move a category. Needs change_category.

    Moving re-derives the subtree's levels; a move under itself or past level 2 is refused.
    """
    require_perm(actor, perms.CHANGE_CATEGORY, category)
    category = Category.objects.select_for_update().get(pk=category.pk)
    before = snapshot(category)
    data = _trimmed(data, ("name",))
    if "parent" in data and data["parent"] != category.parent:
        parent = data["parent"]
        ancestor = parent
        while ancestor is not None:
            if ancestor.pk == category.pk:
                raise ValidationFailed(fields={"parent_id": ["A category cannot be moved under itself."]})
            ancestor = ancestor.parent
        new_level = 0 if parent is None else parent.level + 1
        if new_level + _category_depth_below(category) > MAX_CATEGORY_LEVEL:
            raise ValidationFailed(fields={"parent_id": ["The move would make the tree deeper than three levels."]})
        data["level"] = new_level
    category, changed = model_update(instance=category, data=data, fields=["name", "parent", "description", "level"])
    if "level" in changed:
        for child in Category.objects.filter(parent=category):
            Category.objects.filter(pk=child.pk).update(level=category.level + 1)
            Category.objects.filter(parent=child).update(level=category.level + 2)
    if "parent" in changed:
        require_change_scope(actor, category, fresh=True)  # ACC-12: a move must stay in scope
    if changed:
        audit.record(actor=actor, event_type=events.CATEGORY_UPDATED, target=category, before=before,
                     after=snapshot(category))  # fmt: skip
        bus.publish_on_commit(events.CATEGORY_UPDATED, category_id=category.pk)
    return category


@transaction.atomic
def category_delete(*, actor, category: Category) -> None:
    """Delete an empty category; one with children or products is IN_USE (409)."""
    require_perm(actor, perms.DELETE_CATEGORY, category)
    category = Category.objects.select_for_update().get(pk=category.pk)
    if category.children.exists() or category.products.exists():
        raise InUse("The category still has subcategories or products.")
    before = snapshot(category)
    pk = category.pk
    category.delete()
    category.pk = pk
    audit.record(actor=actor, event_type=events.CATEGORY_DELETED, target=category, before=before)
    bus.publish_on_commit(events.CATEGORY_DELETED, category_id=pk)


# Products ---------------------------------------------------------------------


@transaction.atomic
def product_create(*, actor, data: dict) -> Product:
    """Create a product (status `active` or `new`). Needs add_product; a taken SKU is 409 DUPLICATE_ENTITY."""
    require_perm(actor, perms.ADD_PRODUCT)
    data = _trimmed(data, ("sku", "name", "product_family", "unit_of_measure"))
    status = data.get("status") or ProductStatus.ACTIVE
    if status not in (ProductStatus.ACTIVE, ProductStatus.NEW):
        raise ValidationFailed(fields={"status": ["A new product is either active or new."]})
    values = {k: data[k] for k in PRODUCT_CREATE_FIELDS if k in data and data[k] is not None}
    for money in ("unit_cost", "selling_price"):
        if money in data:
            values[money] = _decimal_or_none(data[money], money)
    values["status"] = status
    product = Product(**values)
    require_change_scope(actor, product)  # ACC-12: a scoped creator stays within their scope
    validate_instance(product)
    save_or_conflict(product)
    audit.record(actor=actor, event_type=events.PRODUCT_CREATED, target=product, after=snapshot(product))
    bus.publish_on_commit(events.PRODUCT_CREATED, product_id=product.pk)
    return product


@transaction.atomic
def product_update(*, actor, product: Product, data: dict) -> Product:
    """Edit product master data. The SKU is immutable and status changes use the actions. Needs change_product."""
    require_perm(actor, perms.CHANGE_PRODUCT, product)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if "sku" in data and data["sku"] != product.sku:
        raise ValidationFailed("The SKU cannot be changed.", fields={"sku": ["The SKU cannot be changed."]})
    _refuse_status_change(data, product.status)
    data = _trimmed(data, ("name", "product_family", "unit_of_measure"))
    for money in ("unit_cost", "selling_price"):
        if money in data:
            data[money] = _decimal_or_none(data[money], money)
    before = snapshot(product)
    product, changed = model_update(instance=product, data=data, fields=PRODUCT_UPDATE_FIELDS)
    if "category" in changed:
        require_change_scope(actor, product)  # ACC-12: re-checked in the transaction; raising rolls back
    if changed:
        audit.record(actor=actor, event_type=events.PRODUCT_UPDATED, target=product, before=before,
                     after=snapshot(product))  # fmt: skip
        bus.publish_on_commit(events.PRODUCT_UPDATED, product_id=product.pk)
    return product


def product_allowed_actions(*, user, product: Product) -> list[str]:
    """Actions `user` may take on `product` now (WF-04)."""
    actions = []
    if user.has_perm(perms.CHANGE_PRODUCT):
        actions.append("edit")
    if user.has_perm(perms.DISCONTINUE_PRODUCT):
        actions += [a for a, moves in PRODUCT_TRANSITIONS.items() if product.status in moves]
    return actions


def _product_transition(*, actor, product: Product, action: str, event: str, reason: str) -> Product:
    require_perm(actor, perms.DISCONTINUE_PRODUCT, product)
    product = Product.objects.select_for_update().get(pk=product.pk)
    moves = PRODUCT_TRANSITIONS[action]
    if product.status not in moves:
        allowed = [a for a, m in PRODUCT_TRANSITIONS.items() if product.status in m]
        raise InvalidStateTransition(
            f"A {product.status} product cannot be {'discontinued' if action == 'discontinue' else 'activated'}.",
            context={"current_status": product.status, "action": action, "allowed_actions": allowed},
        )
    before = snapshot(product, ["status"])
    product.status = moves[product.status]
    product.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, event_type=event, target=product, before=before, after=snapshot(product, ["status"]),
                 message=reason)  # fmt: skip
    bus.publish_on_commit(event, product_id=product.pk)
    return product


@transaction.atomic
def product_discontinue(*, actor, product: Product, reason: str = "") -> Product:
    """Discontinue a product (the API's DELETE: products are never hard-deleted). Needs discontinue_product."""
    return _product_transition(actor=actor, product=product, action="discontinue",
                               event=events.PRODUCT_DISCONTINUED, reason=reason)  # fmt: skip


@transaction.atomic
def product_activate(*, actor, product: Product, reason: str = "") -> Product:
    """Bring a new or discontinued product into active planning. Needs discontinue_product."""
    return _product_transition(actor=actor, product=product, action="activate",
                               event=events.PRODUCT_ACTIVATED, reason=reason)  # fmt: skip


@transaction.atomic
def product_delete(*, actor, product: Product, reason: str) -> None:
    """Hard-delete a product that nothing references. Needs delete_product (admin).

    Not offered by the API or console, where deleting means discontinuing (PLN-02); it exists for
    removing rows loaded by mistake, such as demo data. A referenced product is IN_USE (409).
    """
    require_perm(actor, perms.DELETE_PRODUCT, product)
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = snapshot(product)
    pk = product.pk
    try:
        with transaction.atomic():
            product.delete()
    except ProtectedError:
        raise InUse("The product is still referenced by plans or stock.") from None
    product.pk = pk
    audit.record(actor=actor, event_type=events.PRODUCT_DELETED, target=product, before=before, message=reason)
    bus.publish_on_commit(events.PRODUCT_DELETED, product_id=pk)


# Locations --------------------------------------------------------------------


@transaction.atomic
def location_create(*, actor, data: dict) -> Location:
    """Add a location; its code is unique and immutable. Needs add_location."""
    require_perm(actor, perms.ADD_LOCATION)
    data = _trimmed(data, ("code", "name", "region"))
    location = Location(**{k: data[k] for k in LOCATION_CREATE_FIELDS if k in data and data[k] is not None})
    validate_instance(location)
    save_or_conflict(location)
    audit.record(actor=actor, event_type=events.LOCATION_CREATED, target=location, after=snapshot(location))
    bus.publish_on_commit(events.LOCATION_CREATED, location_id=location.pk)
    return location


@transaction.atomic
def location_update(*, actor, location: Location, data: dict) -> Location:
    """Edit a location's name, type or region; the code is immutable. Needs change_location."""
    require_perm(actor, perms.CHANGE_LOCATION, location)
    location = Location.objects.select_for_update().get(pk=location.pk)
    if "code" in data and data["code"] != location.code:
        raise ValidationFailed("The location code cannot be changed.", fields={"code": ["The code cannot be changed."]})
    before = snapshot(location)
    location, changed = model_update(instance=location, data=_trimmed(data, ("name", "region")),
                                     fields=LOCATION_UPDATE_FIELDS)  # fmt: skip
    if changed:
        audit.record(actor=actor, event_type=events.LOCATION_UPDATED, target=location, before=before,
                     after=snapshot(location))  # fmt: skip
        bus.publish_on_commit(events.LOCATION_UPDATED, location_id=location.pk)
    return location


def location_is_referenced(location: Location) -> bool:
    """Whether plans or stock rows point at the location (none exist before the planning core)."""
    for rel in location._meta.related_objects:
        if rel.related_model is not None and rel.related_model.objects.filter(**{rel.field.name: location}).exists():
            return True
    return False


@transaction.atomic
def location_delete(*, actor, location: Location) -> Location | None:
    """Delete an unreferenced location; a referenced one is deactivated instead (API-LOC-05).

    Returns the deactivated location, or None when it was deleted. Needs delete_location.
    """
    require_perm(actor, perms.DELETE_LOCATION, location)
    location = Location.objects.select_for_update().get(pk=location.pk)
    before = snapshot(location)
    if location_is_referenced(location):
        if location.is_active:
            location.is_active = False
            location.save(update_fields=["is_active", "updated_at"])
            audit.record(actor=actor, event_type=events.LOCATION_DEACTIVATED, target=location, before=before,
                         after=snapshot(location))  # fmt: skip
            bus.publish_on_commit(events.LOCATION_DEACTIVATED, location_id=location.pk)
        return location
    pk = location.pk
    location.delete()
    location.pk = pk
    audit.record(actor=actor, event_type=events.LOCATION_DELETED, target=location, before=before)
    bus.publish_on_commit(events.LOCATION_DELETED, location_id=pk)
    return None
