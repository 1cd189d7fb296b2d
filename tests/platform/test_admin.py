"""The Django admin (OPS-63): admins only, writes through the services, audit rows read-only."""

import pytest
from django.contrib import admin as django_admin
from django.test import RequestFactory

from governance.choices import Role
from governance.models import AuditEvent, User
from planning import events, services
from planning.choices import ProductStatus
from planning.models import Category, Location, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def product_admin_form(**overrides) -> dict:
    data = {"sku": "ADM-1", "name": "Admin product", "description": "", "category": "", "product_family": "",
            "unit_of_measure": "units", "unit_cost": "2.50", "selling_price": "", "lead_time_days": "3",
            "min_order_qty": "1", "status": "active"}  # fmt: skip
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_admins_reach_the_admin(client, users, role):
    client.force_login(users[role])
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_reaches_the_admin_index(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert b"Products" in response.content


def test_product_added_through_admin_is_audited_with_source_admin(admin_client):
    response = admin_client.post("/admin/planning/product/add/", product_admin_form())
    assert response.status_code == 302
    product = Product.objects.get(sku="ADM-1")
    event = AuditEvent.objects.get(target_type="product", target_id=str(product.pk))
    assert (event.event_type, event.source, event.actor_name) == (
        events.PRODUCT_CREATED, "admin", "admin@example.test"
    )  # fmt: skip


def test_product_changed_through_admin_goes_through_product_update(admin_client, admin_user):
    product = services.product_create(actor=admin_user, data={"sku": "ADM-2", "name": "Before"})
    response = admin_client.post(
        f"/admin/planning/product/{product.pk}/change/", product_admin_form(sku="ADM-2", name="After")
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "After"
    event = AuditEvent.objects.filter(target_id=str(product.pk), event_type=events.PRODUCT_UPDATED).get()
    assert event.source == "admin"
    assert "name" in event.changed_fields


def test_duplicate_sku_in_admin_is_a_form_error_not_a_500(admin_client, admin_user):
    services.product_create(actor=admin_user, data={"sku": "ADM-1", "name": "Taken"})
    response = admin_client.post("/admin/planning/product/add/", product_admin_form())
    assert response.status_code == 200
    assert b"SKU already exists" in response.content
    assert Product.objects.filter(sku="ADM-1").count() == 1


def test_products_cannot_be_deleted_in_admin(admin_client, admin_user):
    product = services.product_create(actor=admin_user, data={"sku": "ADM-3", "name": "Kept"})
    assert admin_client.get(f"/admin/planning/product/{product.pk}/delete/").status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_discontinue_selected_runs_the_transition_per_row_and_reports_failures(admin_client, admin_user):
    first = services.product_create(actor=admin_user, data={"sku": "ADM-4", "name": "One"})
    second = services.product_create(actor=admin_user, data={"sku": "ADM-5", "name": "Two"})
    services.product_discontinue(actor=admin_user, product=second)

    response = admin_client.post(
        "/admin/planning/product/",
        {"action": "discontinue_selected", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    html = response.content.decode()
    first.refresh_from_db()
    assert first.status == ProductStatus.DISCONTINUED
    assert "1 product(s) discontinued." in html
    assert "ADM-5 Two: A discontinued product cannot be discontinued." in html
    event = AuditEvent.objects.filter(target_id=str(first.pk), event_type=events.PRODUCT_DISCONTINUED).get()
    assert event.source == "admin"


def test_category_in_use_cannot_be_deleted_in_admin(admin_client, admin_user):
    drinks = services.category_create(actor=admin_user, name="Drinks")
    services.category_create(actor=admin_user, name="Soft", parent=drinks)
    response = admin_client.post(f"/admin/planning/category/{drinks.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert b"Cannot delete category" in response.content  # the admin sees the protected children first
    assert Category.objects.filter(pk=drinks.pk).exists()
    assert not AuditEvent.objects.filter(event_type=events.CATEGORY_DELETED).exists()


def test_category_added_and_bulk_deleted_through_services(admin_client, admin_user):
    admin_client.post("/admin/planning/category/add/", {"name": "Spare", "parent": "", "description": ""})
    spare = Category.objects.get(name="Spare")
    drinks = services.category_create(actor=admin_user, name="Drinks")
    services.category_create(actor=admin_user, name="Soft", parent=drinks)

    response = admin_client.post(
        "/admin/planning/category/",
        {"action": "delete_selected", "_selected_action": [spare.pk, drinks.pk], "post": "yes"},
        follow=True,
    )
    html = response.content.decode()
    assert "1 deleted." in html
    assert "Drinks: The category still has subcategories or products." in html
    assert not Category.objects.filter(pk=spare.pk).exists()
    assert Category.objects.filter(pk=drinks.pk).exists()
    assert list(
        AuditEvent.objects.filter(target_type="category", target_id=str(spare.pk)).values_list("event_type", "source")
    ) == [("planning.category.deleted", "admin"), ("planning.category.created", "admin")]


def test_location_added_in_admin_is_audited(admin_client):
    admin_client.post(
        "/admin/planning/location/add/", {"code": "WH-9", "name": "Ninth", "location_type": "warehouse", "region": ""}
    )
    location = Location.objects.get(code="WH-9")
    assert AuditEvent.objects.get(target_type="location", target_id=str(location.pk)).source == "admin"


def test_user_created_in_admin_goes_through_user_create(admin_client):
    response = admin_client.post(
        "/admin/governance/user/add/",
        {"email": "New.Person@Example.test", "full_name": "New Person", "role": Role.SUPPLY_PLANNER,
         "department": "Ops", "password1": "Long-Enough-Pass-77", "password2": "Long-Enough-Pass-77"},
    )  # fmt: skip
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.test")
    assert user.role == Role.SUPPLY_PLANNER
    assert list(user.groups.values_list("name", flat=True)) == [Role.SUPPLY_PLANNER]
    assert user.check_password("Long-Enough-Pass-77")
    event = AuditEvent.objects.get(target_type="user", target_id=str(user.pk))
    assert (event.event_type, event.source) == ("governance.user.created", "admin")


def test_weak_password_in_admin_is_a_form_error(admin_client):
    response = admin_client.post(
        "/admin/governance/user/add/",
        {"email": "weak@example.test", "full_name": "Weak", "role": Role.VIEWER, "department": "",
         "password1": "short", "password2": "short"},
    )  # fmt: skip
    assert response.status_code == 200
    assert not User.objects.filter(email="weak@example.test").exists()


def test_role_change_in_admin_goes_through_user_set_role(admin_client, users):
    viewer = users[Role.VIEWER]
    response = admin_client.post(f"/admin/governance/user/{viewer.pk}/change/", {"role": Role.EXECUTIVE})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == Role.EXECUTIVE
    assert list(viewer.groups.values_list("name", flat=True)) == [Role.EXECUTIVE]
    event = AuditEvent.objects.get(
        target_type="user", target_id=str(viewer.pk), event_type="governance.user.role_changed"
    )
    assert event.source == "admin"
    assert (event.before, event.after) == ({"role": "viewer"}, {"role": "executive"})


def test_audit_events_are_read_only_in_admin(admin_client, admin_user):
    product = services.product_create(actor=admin_user, data={"sku": "AUD-1", "name": "Audited"})
    event = AuditEvent.objects.get(target_type="product", target_id=str(product.pk))
    model_admin = django_admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = admin_user

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert model_admin.has_view_permission(request, event)

    assert admin_client.get("/admin/governance/auditevent/").status_code == 200
    assert admin_client.get(f"/admin/governance/auditevent/{event.pk}/change/").status_code == 200
    assert admin_client.get("/admin/governance/auditevent/add/").status_code == 403
    assert admin_client.post(f"/admin/governance/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(f"/admin/governance/auditevent/{event.pk}/change/", {"message": "tampered"})
    event.refresh_from_db()
    assert event.message == ""
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_service_refusal_in_admin_is_an_error_message_and_changes_nothing(admin_client, admin_user):
    drinks = services.category_create(actor=admin_user, name="Drinks")
    services.category_create(actor=admin_user, name="Soft", parent=drinks)
    snacks = services.category_create(actor=admin_user, name="Snacks")
    chips = services.category_create(actor=admin_user, name="Chips", parent=snacks)

    response = admin_client.post(
        f"/admin/planning/category/{drinks.pk}/change/", {"name": "Drinks", "parent": chips.pk, "description": ""},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert b"The move would make the tree deeper than three levels." in response.content
    drinks.refresh_from_db()
    assert drinks.parent is None
    assert not AuditEvent.objects.filter(event_type=events.CATEGORY_UPDATED).exists()


@pytest.mark.parametrize("model", ["demandplan", "supplyplan", "integrationbatch", "outboundmessage"])
def test_plans_and_integration_records_are_listed_but_read_only_in_admin(admin_client, model):
    assert admin_client.get(f"/admin/planning/{model}/").status_code == 200
    assert admin_client.get(f"/admin/planning/{model}/add/").status_code == 403
