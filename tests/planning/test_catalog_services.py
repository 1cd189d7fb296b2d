"""Catalog services: the rules the API, console and admin all rely on."""

import pytest

from genxsop.errors import DuplicateEntity, InUse, InvalidStateTransition, PermissionDenied, ValidationFailed
from governance.choices import Role
from governance.models import AuditEvent
from planning.models import Category, Product
from planning.services import (
    category_create,
    category_delete,
    category_update,
    product_activate,
    product_create,
    product_discontinue,
    product_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(admin_user):
    electronics = category_create(actor=admin_user, name="Electronics")
    audio = category_create(actor=admin_user, name="Audio", parent=electronics)
    headphones = category_create(actor=admin_user, name="Headphones", parent=audio)
    return electronics, audio, headphones


def test_category_level_is_derived_from_its_parent(tree):
    assert [c.level for c in tree] == [0, 1, 2]


def test_a_fourth_level_is_refused(admin_user, tree):
    with pytest.raises(ValidationFailed) as exc:
        category_create(actor=admin_user, name="In-ear", parent=tree[2])
    assert "parent_id" in exc.value.fields


def test_a_supplied_level_that_disagrees_is_refused(admin_user):
    with pytest.raises(ValidationFailed):
        category_create(actor=admin_user, name="Apparel", level=1)


def test_sibling_names_are_unique_but_may_repeat_elsewhere(admin_user, tree):
    electronics, _, _ = tree
    with pytest.raises(DuplicateEntity):
        category_create(actor=admin_user, name="Audio", parent=electronics)
    with pytest.raises(DuplicateEntity):
        category_create(actor=admin_user, name="Electronics")
    assert category_create(actor=admin_user, name="Audio").level == 0


def test_moving_a_subtree_rederives_levels(admin_user, tree):
    electronics, audio, headphones = tree
    home = category_create(actor=admin_user, name="Home")
    category_update(actor=admin_user, category=headphones, data={"parent": home})
    headphones.refresh_from_db()
    assert headphones.level == 1
    # Electronics still has Audio below it: under a level-1 node Audio would land on level 3
    with pytest.raises(ValidationFailed):
        category_update(actor=admin_user, category=electronics, data={"parent": headphones})
    with pytest.raises(ValidationFailed, match="not valid"):
        category_update(actor=admin_user, category=electronics, data={"parent": audio})
    category_update(actor=admin_user, category=audio, data={"parent": None})
    audio.refresh_from_db()
    assert audio.level == 0


def test_a_category_in_use_cannot_be_deleted(admin_user, tree):
    electronics, _, headphones = tree
    with pytest.raises(InUse):
        category_delete(actor=admin_user, category=electronics)
    product_create(actor=admin_user, data={"sku": "HP-1", "name": "Headphones", "category": headphones})
    with pytest.raises(InUse):
        category_delete(actor=admin_user, category=headphones)
    empty = category_create(actor=admin_user, name="Empty")
    category_delete(actor=admin_user, category=empty)
    assert not Category.objects.filter(pk=empty.pk).exists()
    assert AuditEvent.objects.filter(event_type="planning.category.deleted", target_id=str(empty.pk)).exists()


def test_product_create_validates_and_audits(admin_user):
    product = product_create(
        actor=admin_user, data={"sku": " ELEC-001 ", "name": "Wireless Headphones Pro", "unit_cost": "45"}
    )
    assert product.sku == "ELEC-001"
    assert str(product.unit_cost) == "45.00" or product.unit_cost == 45
    event = AuditEvent.objects.get(event_type="planning.product.created")
    assert event.after["sku"] == "ELEC-001"
    with pytest.raises(DuplicateEntity, match="SKU already exists"):
        product_create(actor=admin_user, data={"sku": "ELEC-001", "name": "Copy"})
    with pytest.raises(ValidationFailed) as exc:
        product_create(actor=admin_user, data={"sku": "X-2", "name": "Bad", "min_order_qty": 0, "unit_cost": "-1"})
    assert {"min_order_qty", "unit_cost"} <= set(exc.value.fields)
    assert Product.objects.count() == 1


def test_product_update_keeps_sku_and_status_out_of_free_edits(admin_user):
    product = product_create(actor=admin_user, data={"sku": "P-1", "name": "One"})
    with pytest.raises(ValidationFailed):
        product_update(actor=admin_user, product=product, data={"sku": "P-2"})
    with pytest.raises(ValidationFailed):
        product_update(actor=admin_user, product=product, data={"status": "discontinued"})
    product_update(actor=admin_user, product=product, data={"status": "active", "name": "Renamed"})
    event = AuditEvent.objects.get(event_type="planning.product.updated")
    assert event.before == {"name": "One"} | {k: v for k, v in event.before.items() if k != "name"}
    assert event.changed_fields == ["name"]


def test_an_update_that_changes_nothing_writes_no_audit_row(admin_user):
    product = product_create(actor=admin_user, data={"sku": "P-1", "name": "One"})
    product_update(actor=admin_user, product=product, data={"name": "One"})
    assert not AuditEvent.objects.filter(event_type="planning.product.updated").exists()


def test_discontinue_and_activate_follow_the_transition_map(admin_user):
    product = product_create(actor=admin_user, data={"sku": "P-1", "name": "One", "status": "new"})
    product_discontinue(actor=admin_user, product=product, reason="end of life")
    product.refresh_from_db()
    assert product.status == "discontinued"
    with pytest.raises(InvalidStateTransition) as exc:
        product_discontinue(actor=admin_user, product=product)
    assert exc.value.context == {
        "current_status": "discontinued",
        "action": "discontinue",
        "allowed_actions": ["activate"],
    }
    product_activate(actor=admin_user, product=product)
    product.refresh_from_db()
    assert product.status == "active"
    event = AuditEvent.objects.get(event_type="planning.product.discontinued")
    assert (event.before, event.after, event.message) == ({"status": "new"}, {"status": "discontinued"}, "end of life")


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_non_admins_cannot_write_the_catalog(users, role):
    with pytest.raises(PermissionDenied):
        product_create(actor=users[role], data={"sku": "P-9", "name": "Nope"})
    with pytest.raises(PermissionDenied):
        category_create(actor=users[role], name="Nope")
    assert not Product.objects.exists()
    assert not AuditEvent.objects.filter(event_type__startswith="planning.").exists()
