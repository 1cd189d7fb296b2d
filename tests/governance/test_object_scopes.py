"""Object scopes (ACC-08…12, GOV-02): grants, what scoped users see, and writes inside the scope."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import UserObjectPermission

from genxsop.errors import NotFound, PermissionDenied, ValidationFailed
from genxsop.scoping import object_scope, object_scope_forget
from governance.choices import Role
from governance.models import AuditEvent
from governance.services import user_set_role
from governance.services.scopes import user_scopes, user_scopes_set
from planning import selectors, services
from planning.models import Product

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def world(admin_user):
    c = services.category_create
    electronics = c(actor=admin_user, name="Electronics")
    audio = c(actor=admin_user, name="Audio", parent=electronics)
    headphones = c(actor=admin_user, name="Headphones", parent=audio)
    apparel = c(actor=admin_user, name="Apparel")
    footwear = c(actor=admin_user, name="Footwear", parent=apparel)
    p = services.product_create
    headset = p(actor=admin_user, data={"sku": "HDP-1", "name": "Headset", "category": headphones})
    speaker = p(actor=admin_user, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    shoe = p(actor=admin_user, data={"sku": "SHO-1", "name": "Shoe", "category": footwear})
    loose = p(actor=admin_user, data={"sku": "LOO-1", "name": "No category"})
    loc = services.location_create
    main = loc(actor=admin_user, data={"code": "MAIN", "name": "Main plant", "location_type": "plant"})
    dc = loc(actor=admin_user, data={"code": "DC-EU", "name": "Europe DC", "location_type": "distribution_center"})
    return SimpleNamespace(**locals())


def grant(admin, user, *entries):
    return user_scopes_set(
        actor=admin, user=user, scopes=[{"type": t, "id": obj.pk, "access": a} for t, obj, a in entries]
    )


def scoped_writer(make_user, role=Role.DEMAND_PLANNER):
    """A scoped user who also holds the catalog write permissions, to exercise write scopes
    (only admins write the catalog today, and admins are never scoped)."""
    user = make_user(role)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="planning",
                                   codename__in=["change_product", "change_category", "change_location"])
    )  # fmt: skip
    return type(user).objects.get(pk=user.pk)


# Grants -----------------------------------------------------------------------------------


def test_set_stores_guardian_permissions_and_audits_each_grant(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    result = grant(admin_user, planner, ("category", world.audio, "change"), ("location", world.dc, "view"))
    assert result == [
        {"type": "category", "id": world.audio.pk, "code_or_name": "Audio", "access": "change"},
        {"type": "location", "id": world.dc.pk, "code_or_name": "DC-EU", "access": "view"},
    ]
    # change implies view, in guardian's own checks too
    planner = type(planner).objects.get(pk=planner.pk)
    assert planner.has_perm("planning.view_in_scope", world.audio)
    assert planner.has_perm("planning.change_in_scope", world.audio)
    assert planner.has_perm("planning.view_in_scope", world.dc)
    assert not planner.has_perm("planning.change_in_scope", world.dc)
    granted = AuditEvent.objects.filter(event_type="governance.scope.granted", target_id=str(planner.pk))
    assert sorted((e.metadata["type"], e.metadata["id"], e.metadata["access"]) for e in granted) == [
        ("category", world.audio.pk, "change"), ("location", world.dc.pk, "view"),
    ]  # fmt: skip


def test_set_replaces_the_set_and_audits_revocations(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.audio, "change"), ("location", world.dc, "view"))
    grant(admin_user, planner, ("category", world.audio, "view"))
    assert user_scopes(planner) == [
        {"type": "category", "id": world.audio.pk, "code_or_name": "Audio", "access": "view"}
    ]
    revoked = AuditEvent.objects.filter(event_type="governance.scope.revoked", target_id=str(planner.pk))
    assert sorted((e.metadata["type"], e.metadata["access"]) for e in revoked) == [
        ("category", "change"), ("location", "view"),
    ]  # fmt: skip
    assert not UserObjectPermission.objects.filter(user=planner, permission__codename="change_in_scope").exists()


def test_setting_the_same_set_again_writes_nothing(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.audio, "change"))
    before = AuditEvent.objects.count()
    grant(admin_user, planner, ("category", world.audio, "change"))
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EXECUTIVE, Role.SOP_COORDINATOR])
def test_unrestricted_roles_cannot_be_scoped(admin_user, make_user, world, role):
    target = admin_user if role == Role.ADMIN else make_user(role)
    with pytest.raises(ValidationFailed):
        grant(admin_user, target, ("category", world.audio, "view"))
    assert not UserObjectPermission.objects.filter(user=target).exists()


def test_only_admins_set_scopes(make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    coordinator = make_user(Role.SOP_COORDINATOR)
    with pytest.raises(PermissionDenied):
        grant(coordinator, planner, ("category", world.audio, "view"))


def test_unknown_ids_and_bad_entries_are_refused(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    with pytest.raises(ValidationFailed):
        user_scopes_set(actor=admin_user, user=planner, scopes=[{"type": "category", "id": 999999, "access": "view"}])
    with pytest.raises(ValidationFailed):
        user_scopes_set(actor=admin_user, user=planner, scopes=[{"type": "region", "id": 1, "access": "view"}])
    with pytest.raises(ValidationFailed):
        user_scopes_set(
            actor=admin_user, user=planner,
            scopes=[{"type": "location", "id": world.dc.pk, "access": "view"},
                    {"type": "location", "id": world.dc.pk, "access": "change"}],
        )  # fmt: skip


def test_moving_to_an_unrestricted_role_drops_the_scopes(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.audio, "change"), ("location", world.dc, "view"))
    user_set_role(actor=admin_user, user=planner, role=Role.EXECUTIVE)
    assert user_scopes(planner) == []
    assert AuditEvent.objects.filter(event_type="governance.scope.revoked", target_id=str(planner.pk)).count() == 2


def test_moving_between_restricted_roles_keeps_the_scopes(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.audio, "change"))
    user_set_role(actor=admin_user, user=planner, role=Role.SUPPLY_PLANNER)
    assert len(user_scopes(planner)) == 1


# Reads ------------------------------------------------------------------------------------


def test_category_scope_covers_the_subtree_and_hides_the_rest(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.audio, "view"))
    skus = set(selectors.product_list(user=planner).values_list("sku", flat=True))
    assert skus == {"HDP-1", "SPK-1"}  # no Apparel, and no product without a category (ACC-10)
    names = set(selectors.category_list(user=planner).values_list("name", flat=True))
    assert names == {"Audio", "Headphones"}  # in-scope nodes only; ancestors stay hidden (ACC-11)
    tree = selectors.category_tree(user=planner)
    assert [n["name"] for n in tree] == ["Audio"]
    assert [n["name"] for n in tree[0]["children"]] == ["Headphones"]


def test_a_user_without_scopes_sees_everything_including_uncategorised(make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    assert selectors.product_list(user=planner).count() == 4


def test_location_scope_restricts_only_locations(admin_user, make_user, world):
    manager = make_user(Role.INVENTORY_MANAGER)
    grant(admin_user, manager, ("location", world.dc, "change"))
    assert list(selectors.location_list(user=manager).values_list("code", flat=True)) == ["DC-EU"]
    assert selectors.product_list(user=manager).count() == 4  # no category scope: unrestricted there
    with pytest.raises(NotFound):
        selectors.location_get(user=manager, pk=world.main.pk)


def test_out_of_scope_detail_is_404_and_absent_from_lists_over_the_api(admin_user, make_user, world, client):
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.apparel, "change"))
    client.force_login(planner)
    assert client.get(f"{API}/products/{world.headset.pk}").status_code == 404
    assert client.get(f"{API}/products/{world.shoe.pk}").status_code == 200
    assert client.get(f"{API}/products/categories/{world.audio.pk}").status_code == 404
    items = client.get(f"{API}/products").json()["items"]
    assert [p["sku"] for p in items] == ["SHO-1"]


def test_scope_is_computed_in_at_most_two_queries_and_cached(admin_user, make_user, world):
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.electronics, "view"), ("location", world.dc, "change"))
    planner = type(planner).objects.get(pk=planner.pk)
    with CaptureQueriesContext(connection) as ctx:
        scope = object_scope(planner)
        object_scope(planner)
    assert len(ctx.captured_queries) == 2
    assert scope.category_view == {world.electronics.pk, world.audio.pk, world.headphones.pk}
    assert scope.location_change == {world.dc.pk}
    object_scope_forget(planner)


def test_unrestricted_roles_pay_no_scope_query(users):
    with CaptureQueriesContext(connection) as ctx:
        assert object_scope(users[Role.EXECUTIVE]).unrestricted
    assert len(ctx.captured_queries) == 0


def test_product_list_query_budget_does_not_grow_with_rows(admin_user, make_user, world, client):
    # Given a scoped planner and twenty more in-scope products
    planner = make_user(Role.DEMAND_PLANNER)
    grant(admin_user, planner, ("category", world.electronics, "change"))
    client.force_login(planner)
    client.get(f"{API}/products")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"{API}/products").status_code == 200
    for n in range(20):
        services.product_create(actor=admin_user, data={"sku": f"X-{n}", "name": "x", "category": world.audio})
    with CaptureQueriesContext(connection) as large:
        body = client.get(f"{API}/products").json()
    assert body["total"] == 22
    assert len(large.captured_queries) == len(small.captured_queries)


# Writes -----------------------------------------------------------------------------------


def test_view_scope_refuses_writes_with_403(admin_user, make_user, world):
    writer = scoped_writer(make_user)
    grant(admin_user, writer, ("category", world.audio, "view"))
    with pytest.raises(PermissionDenied):
        services.product_update(actor=writer, product=world.speaker, data={"name": "Renamed"})
    assert Product.objects.get(pk=world.speaker.pk).name == "Speaker"


def test_change_scope_allows_writes_inside(admin_user, make_user, world):
    writer = scoped_writer(make_user)
    grant(admin_user, writer, ("category", world.audio, "change"))
    services.product_update(actor=writer, product=world.speaker, data={"name": "Renamed"})
    assert Product.objects.get(pk=world.speaker.pk).name == "Renamed"


def test_write_on_an_out_of_scope_object_is_404(admin_user, make_user, world):
    writer = scoped_writer(make_user)
    grant(admin_user, writer, ("category", world.audio, "change"))
    with pytest.raises(NotFound):
        services.product_update(actor=writer, product=world.shoe, data={"name": "Renamed"})


def test_moving_a_product_out_of_the_change_scope_is_403_and_rolled_back(admin_user, make_user, world):
    # ACC-12: re-checked inside the transaction
    writer = scoped_writer(make_user)
    grant(admin_user, writer, ("category", world.audio, "change"), ("category", world.apparel, "view"))
    events_before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        services.product_update(actor=writer, product=world.speaker, data={"category": world.footwear})
    assert Product.objects.get(pk=world.speaker.pk).category_id == world.audio.pk
    assert AuditEvent.objects.count() == events_before
    # within the change scope the move is fine
    services.product_update(actor=writer, product=world.speaker, data={"category": world.headphones})
    assert Product.objects.get(pk=world.speaker.pk).category_id == world.headphones.pk


def test_moving_a_category_out_of_the_change_scope_is_403(admin_user, make_user, world):
    writer = scoped_writer(make_user)
    grant(admin_user, writer, ("category", world.audio, "change"))
    with pytest.raises(PermissionDenied):
        services.category_update(actor=writer, category=world.headphones, data={"parent": world.apparel})
    assert type(world.headphones).objects.get(pk=world.headphones.pk).parent_id == world.audio.pk


def test_view_scope_on_a_location_refuses_writes_over_the_api(admin_user, make_user, world, client):
    writer = scoped_writer(make_user, Role.INVENTORY_MANAGER)
    grant(admin_user, writer, ("location", world.dc, "view"))
    client.force_login(writer)
    response = client.patch(f"{API}/locations/{world.dc.pk}", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    response = client.patch(f"{API}/locations/{world.main.pk}", {"name": "x"}, content_type="application/json")
    assert response.status_code == 404
