"""Catalog API (API-PROD-01…10, API-LOC-01…05): what an integration or the console sees over HTTP."""

import json
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.models import Category, Location, Product
from planning.services import category_create, location_create, product_create, product_discontinue

pytestmark = pytest.mark.django_db

API = "/api/v1"
NON_ADMIN_ROLES = [role.value for role in Role if role != Role.ADMIN]
READER_ROLES = [role.value for role in Role if role != Role.VIEWER]


@pytest.fixture
def world(admin_user):
    """A small catalog built through the services: a three-level tree, products and locations."""
    electronics = category_create(actor=admin_user, name="Electronics")
    audio = category_create(actor=admin_user, name="Audio", parent=electronics)
    headphones = category_create(actor=admin_user, name="Headphones", parent=audio)
    garden = category_create(actor=admin_user, name="Garden")
    empty = category_create(actor=admin_user, name="Empty")
    speaker = product_create(
        actor=admin_user,
        data={"sku": "SPK-100", "name": "Bookshelf Speaker", "category": audio, "unit_cost": "40.5",
              "selling_price": 99, "product_family": "Speakers"},
    )  # fmt: skip
    headset = product_create(
        actor=admin_user,
        data={"sku": "HDP-200", "name": "Studio Headphones", "category": headphones, "product_family": "Headphones"},
    )
    mower = product_create(actor=admin_user, data={"sku": "MOW-300", "name": "Lawn Mower", "category": garden})
    launch = product_create(actor=admin_user, data={"sku": "NEW-400", "name": "Launch Item", "status": "new"})
    main = location_create(actor=admin_user, data={"code": "Main", "name": "Main plant", "location_type": "plant"})
    dc = location_create(
        actor=admin_user,
        data={"code": "DC-EU", "name": "Europe DC", "location_type": "distribution_center", "region": "EU"},
    )
    return SimpleNamespace(
        electronics=electronics, audio=audio, headphones=headphones, garden=garden, empty=empty,
        speaker=speaker, headset=headset, mower=mower, launch=launch, main=main, dc=dc,
    )  # fmt: skip


@pytest.fixture
def admin_client(api_client_for, users):
    return api_client_for(users[Role.ADMIN])


def catalog_state() -> tuple:
    """Everything a catalog write could touch, to prove that a refused call wrote nothing."""
    return (
        list(Product.objects.order_by("pk").values()),
        list(Category.objects.order_by("pk").values()),
        list(Location.objects.order_by("pk").values()),
    )


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]["code"] == code
    assert body["error"]["code"] == code
    assert body["detail"]["request_id"] == response["X-Request-ID"]
    return body


# The write matrix ---------------------------------------------------------------


@dataclass(frozen=True)
class WriteCase:
    name: str
    method: str
    path: str  # formatted with the world fixture
    body: dict | None
    status: int
    event_type: str
    target_type: str
    target: str | None  # attribute of the world; None: the row the call creates

    def url(self, world) -> str:
        return API + self.path.format(w=world)


WRITE_CASES = [
    WriteCase("product-create", "post", "/products", {"sku": "TV-500", "name": "Television", "unit_cost": "120"},
              201, "planning.product.created", "product", None),
    WriteCase("product-put", "put", "/products/{w.speaker.pk}", {"name": "Floor Speaker"},
              200, "planning.product.updated", "product", "speaker"),
    WriteCase("product-patch", "patch", "/products/{w.speaker.pk}", {"unit_cost": "42.00"},
              200, "planning.product.updated", "product", "speaker"),
    WriteCase("product-delete", "delete", "/products/{w.speaker.pk}", None,
              200, "planning.product.discontinued", "product", "speaker"),
    WriteCase("product-discontinue", "post", "/products/{w.speaker.pk}/discontinue", {"reason": "End of life"},
              200, "planning.product.discontinued", "product", "speaker"),
    WriteCase("product-activate", "post", "/products/{w.launch.pk}/activate", {},
              200, "planning.product.activated", "product", "launch"),
    WriteCase("category-create", "post", "/products/categories", {"name": "Tools"},
              201, "planning.category.created", "category", None),
    WriteCase("category-put", "put", "/products/categories/{w.garden.pk}", {"name": "Outdoor"},
              200, "planning.category.updated", "category", "garden"),
    WriteCase("category-patch", "patch", "/products/categories/{w.garden.pk}", {"description": "Lawn and patio"},
              200, "planning.category.updated", "category", "garden"),
    WriteCase("category-delete", "delete", "/products/categories/{w.empty.pk}", None,
              204, "planning.category.deleted", "category", "empty"),
    WriteCase("location-create", "post", "/locations", {"code": "WH-US", "name": "US warehouse"},
              201, "planning.location.created", "location", None),
    WriteCase("location-put", "put", "/locations/{w.dc.pk}", {"name": "EU distribution centre"},
              200, "planning.location.updated", "location", "dc"),
    WriteCase("location-patch", "patch", "/locations/{w.dc.pk}", {"region": "EMEA"},
              200, "planning.location.updated", "location", "dc"),
    WriteCase("location-delete", "delete", "/locations/{w.dc.pk}", None,
              204, "planning.location.deleted", "location", "dc"),
]  # fmt: skip


def send(client, case: WriteCase, world):
    return getattr(client, case.method)(case.url(world), case.body, format="json")


@pytest.mark.parametrize("case", WRITE_CASES, ids=lambda c: c.name)
def test_anonymous_write_is_refused_with_401_and_a_bearer_challenge(case, world, anon_client):
    before, audit_mark = catalog_state(), last_audit_id()

    response = send(anon_client, case, world)

    assert_error(response, 401, "AUTHENTICATION_REQUIRED")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert catalog_state() == before
    assert last_audit_id() == audit_mark


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
@pytest.mark.parametrize("case", WRITE_CASES, ids=lambda c: c.name)
def test_catalog_writes_are_refused_to_every_role_but_admin(case, role, world, users, api_client_for):
    client = api_client_for(users[role])
    before, audit_mark = catalog_state(), last_audit_id()

    response = send(client, case, world)

    assert_error(response, 403, "PERMISSION_DENIED")
    assert catalog_state() == before
    assert last_audit_id() == audit_mark


@pytest.mark.parametrize("case", WRITE_CASES, ids=lambda c: c.name)
def test_admin_write_succeeds_and_leaves_exactly_one_audit_event(case, world, users, admin_client):
    admin = users[Role.ADMIN]
    audit_mark = last_audit_id()

    response = send(admin_client, case, world)

    assert response.status_code == case.status, response.content
    target_id = getattr(world, case.target).pk if case.target else response.json()["id"]
    events = list(AuditEvent.objects.filter(id__gt=audit_mark))
    assert len(events) == 1
    event = events[0]
    assert (event.event_type, event.target_type, event.target_id) == (case.event_type, case.target_type, str(target_id))
    assert event.actor == admin
    assert event.actor_type == "api_token"
    assert event.api_token_id is not None
    assert event.source == "api"
    assert event.request_id == response["X-Request-ID"]


READ_PATHS = [
    "/products",
    "/products/{w.speaker.pk}",
    "/products/categories",
    "/products/categories/{w.audio.pk}",
    "/locations",
    "/locations/{w.main.pk}",
]


@pytest.mark.parametrize("path", READ_PATHS)
@pytest.mark.parametrize("role", READER_ROLES)
def test_every_role_but_viewer_reads_the_catalog(path, role, world, users, api_client_for):
    response = api_client_for(users[role]).get(API + path.format(w=world))

    assert response.status_code == 200


@pytest.mark.parametrize("path", READ_PATHS)
def test_viewer_may_not_read_the_catalog(path, world, users, api_client_for):
    response = api_client_for(users[Role.VIEWER]).get(API + path.format(w=world))

    assert_error(response, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("path", READ_PATHS)
def test_anonymous_read_is_401(path, world, anon_client):
    response = anon_client.get(API + path.format(w=world))

    assert_error(response, 401, "AUTHENTICATION_REQUIRED")


# Products -----------------------------------------------------------------------


def test_product_detail_shows_category_name_actions_and_fixed_point_decimals(world, admin_client):
    response = admin_client.get(f"{API}/products/{world.speaker.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["sku"] == "SPK-100"
    assert body["category_id"] == world.audio.pk
    assert body["category_name"] == "Audio"
    assert body["unit_cost"] == "40.50"
    assert body["selling_price"] == "99.00"
    assert body["min_order_qty"] == 1
    assert body["status"] == "active"
    assert body["abc_class"] is None
    assert body["allowed_actions"] == ["edit", "discontinue"]
    assert body["locations"] == []
    assert body["created_at"].endswith("Z")
    assert body["updated_at"].endswith("Z")


def test_a_planner_sees_no_allowed_actions_on_a_product(world, users, api_client_for):
    response = api_client_for(users[Role.DEMAND_PLANNER]).get(f"{API}/products/{world.speaker.pk}")

    assert response.json()["allowed_actions"] == []


def test_product_without_category_has_null_category_name(world, admin_client):
    body = admin_client.get(f"{API}/products/{world.launch.pk}").json()

    assert body["category_id"] is None
    assert body["category_name"] is None
    assert body["allowed_actions"] == ["edit", "discontinue", "activate"]


def test_unknown_product_is_404_with_the_error_body(world, admin_client):
    assert_error(admin_client.get(f"{API}/products/999999"), 404, "NOT_FOUND")
    assert_error(admin_client.get(f"{API}/products/not-a-number"), 404, "NOT_FOUND")


def test_create_product_returns_the_new_product(world, admin_client):
    response = admin_client.post(
        f"{API}/products",
        {"sku": " TV-500 ", "name": "Television", "category_id": world.electronics.pk, "unit_cost": 120,
         "selling_price": "199.9", "lead_time_days": 21, "min_order_qty": 5, "status": "new"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sku"] == "TV-500"
    assert body["category_name"] == "Electronics"
    assert (body["unit_cost"], body["selling_price"]) == ("120.00", "199.90")
    assert body["status"] == "new"
    product = Product.objects.get(pk=body["id"])
    assert (product.sku, product.lead_time_days, product.min_order_qty) == ("TV-500", 21, 5)


def test_duplicate_sku_is_409(world, admin_client):
    response = admin_client.post(f"{API}/products", {"sku": "SPK-100", "name": "Another"}, format="json")

    body = assert_error(response, 409, "DUPLICATE_ENTITY")
    assert "SKU already exists" in body["detail"]["message"]
    assert Product.objects.filter(sku="SPK-100").count() == 1


def test_a_duplicate_that_slips_past_validation_is_still_409(world, admin_client, monkeypatch):
    # Given a concurrent insert between validation and save: validation sees no duplicate
    monkeypatch.setattr(services.catalog, "validate_instance", lambda instance, **kwargs: None)
    audit_mark = last_audit_id()

    # When the database's unique constraint refuses the row
    response = admin_client.post(f"{API}/products", {"sku": "SPK-100", "name": "Racer"}, format="json")

    # Then the caller gets a conflict, not a server error, and nothing is written
    assert_error(response, 409, "DUPLICATE_ENTITY")
    assert Product.objects.filter(sku="SPK-100").count() == 1
    assert last_audit_id() == audit_mark


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sku": "X-1", "name": "X", "unit_cost": -1}, "unit_cost"),
        ({"sku": "X-1", "name": "X", "selling_price": "abc"}, "selling_price"),
        ({"sku": "X-1", "name": "X", "min_order_qty": 0}, "min_order_qty"),
        ({"sku": "X-1", "name": "X", "lead_time_days": -3}, "lead_time_days"),
        ({"sku": "X-1"}, "name"),
        ({"name": "No SKU"}, "sku"),
        ({"sku": "   ", "name": "Blank SKU"}, "sku"),
        ({"sku": "X-1", "name": "X", "status": "retired"}, "status"),
        ({"sku": "X-1", "name": "X", "status": "discontinued"}, "status"),
        ({"sku": "X-1", "name": "X", "category_id": 999999}, "category_id"),
        ({"sku": "X" * 51, "name": "X"}, "sku"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_invalid_product_fields_are_400_with_field_errors(world, admin_client, body, field):
    before = catalog_state()

    response = admin_client.post(f"{API}/products", body, format="json")

    payload = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in payload["detail"]["fields"]
    assert field in payload["error"]["details"]["fields"]
    assert catalog_state() == before


def test_a_body_that_is_not_an_object_is_400(world, admin_client):
    response = admin_client.post(f"{API}/products", [{"sku": "A", "name": "B"}], format="json")

    assert_error(response, 400, "VALIDATION_ERROR")


def test_update_is_partial_for_put_and_patch(world, admin_client):
    put = admin_client.put(f"{API}/products/{world.speaker.pk}", {"name": "Floor Speaker"}, format="json")
    patch = admin_client.patch(f"{API}/products/{world.speaker.pk}/", {"unit_cost": "12.5"}, format="json")

    assert put.status_code == patch.status_code == 200
    world.speaker.refresh_from_db()
    assert world.speaker.name == "Floor Speaker"
    assert str(world.speaker.unit_cost) == "12.50"
    assert world.speaker.selling_price is not None  # untouched by either call
    assert patch.json()["unit_cost"] == "12.50"


def test_update_moves_a_product_to_another_category_or_none(world, admin_client):
    moved = admin_client.patch(f"{API}/products/{world.speaker.pk}", {"category_id": world.garden.pk}, format="json")
    cleared = admin_client.patch(f"{API}/products/{world.headset.pk}", {"category_id": None}, format="json")

    assert moved.json()["category_name"] == "Garden"
    assert cleared.json()["category_id"] is None


def test_sku_cannot_change_but_may_be_repeated(world, admin_client):
    changed = admin_client.patch(f"{API}/products/{world.speaker.pk}", {"sku": "SPK-999"}, format="json")
    same = admin_client.patch(f"{API}/products/{world.speaker.pk}", {"sku": "SPK-100", "name": "Same"}, format="json")

    assert "sku" in assert_error(changed, 400, "VALIDATION_ERROR")["detail"]["fields"]
    assert same.status_code == 200
    assert Product.objects.get(pk=world.speaker.pk).sku == "SPK-100"


def test_status_in_an_update_body_must_equal_the_current_status(world, admin_client):
    changed = admin_client.patch(f"{API}/products/{world.speaker.pk}", {"status": "discontinued"}, format="json")
    same = admin_client.patch(f"{API}/products/{world.speaker.pk}", {"status": "active", "name": "S"}, format="json")

    assert "status" in assert_error(changed, 400, "VALIDATION_ERROR")["detail"]["fields"]
    assert same.status_code == 200
    assert Product.objects.get(pk=world.speaker.pk).status == "active"


def test_an_update_that_changes_nothing_writes_no_audit_event(world, admin_client):
    audit_mark = last_audit_id()

    response = admin_client.patch(f"{API}/products/{world.speaker.pk}", {"name": "Bookshelf Speaker"}, format="json")

    assert response.status_code == 200
    assert last_audit_id() == audit_mark


def test_delete_discontinues_and_never_removes_the_product(world, admin_client):
    response = admin_client.delete(f"{API}/products/{world.speaker.pk}")

    assert response.status_code == 200
    assert response.json() == {"message": "Product discontinued successfully"}
    assert Product.objects.get(pk=world.speaker.pk).status == "discontinued"


def test_discontinue_records_the_reason_and_a_second_discontinue_is_409(world, admin_client):
    first = admin_client.post(f"{API}/products/{world.speaker.pk}/discontinue", {"reason": "EOL"}, format="json")
    second = admin_client.post(f"{API}/products/{world.speaker.pk}/discontinue")

    assert first.status_code == 200
    assert first.json()["status"] == "discontinued"
    assert first.json()["allowed_actions"] == ["edit", "activate"]
    assert AuditEvent.objects.get(event_type="planning.product.discontinued").message == "EOL"
    body = assert_error(second, 409, "INVALID_STATE_TRANSITION")
    assert body["detail"]["context"] == {
        "current_status": "discontinued", "action": "discontinue", "allowed_actions": ["activate"],
    }  # fmt: skip


def test_activate_accepts_a_missing_body(world, admin_client, admin_user):
    product_discontinue(actor=admin_user, product=world.mower)

    response = admin_client.post(f"{API}/products/{world.mower.pk}/activate")

    assert response.status_code == 200
    assert response.json()["status"] == "active"


# Product list: pagination, filters, ordering, query budget --------------------------


def skus(response) -> list[str]:
    return [item["sku"] for item in response.json()["items"]]


def test_list_is_a_paginated_envelope_in_sku_order(world, admin_client):
    response = admin_client.get(f"{API}/products")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "page", "page_size", "total_pages"}
    assert (body["total"], body["page"], body["page_size"], body["total_pages"]) == (4, 1, 20, 1)
    assert skus(response) == ["HDP-200", "MOW-300", "NEW-400", "SPK-100"]
    assert body["items"][0]["category_name"] == "Headphones"
    assert "allowed_actions" in body["items"][0]


def test_pages_split_the_list_and_a_page_beyond_the_last_is_empty(world, admin_client):
    second = admin_client.get(f"{API}/products?page=2&page_size=3").json()
    beyond = admin_client.get(f"{API}/products?page=9&page_size=3").json()

    assert ([i["sku"] for i in second["items"]], second["total"], second["total_pages"]) == (["SPK-100"], 4, 2)
    assert beyond == {"items": [], "total": 4, "page": 9, "page_size": 3, "total_pages": 2}


def test_an_empty_list_has_zero_pages(db, admin_client):
    assert admin_client.get(f"{API}/products").json() == {
        "items": [], "total": 0, "page": 1, "page_size": 20, "total_pages": 0,
    }  # fmt: skip


@pytest.mark.parametrize("query", ["page_size=0", "page_size=101", "page_size=abc", "page=0", "page=-1", "page=x"])
def test_invalid_pagination_is_400(world, admin_client, query):
    body = assert_error(admin_client.get(f"{API}/products?{query}"), 400, "INVALID_PARAMETER")

    assert query.split("=")[0] in body["detail"]["fields"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ordering=-sku", ["SPK-100", "NEW-400", "MOW-300", "HDP-200"]),
        ("ordering=name", ["SPK-100", "NEW-400", "MOW-300", "HDP-200"]),
        ("ordering=-product_family,sku", ["SPK-100", "HDP-200", "MOW-300", "NEW-400"]),
        ("search=speaker", ["SPK-100"]),
        ("search=hdp", ["HDP-200"]),
        ("status=new", ["NEW-400"]),
        ("status=active,new", ["HDP-200", "MOW-300", "NEW-400", "SPK-100"]),
        ("product_family=speakers", ["SPK-100"]),
        ("unknown_parameter=1", ["HDP-200", "MOW-300", "NEW-400", "SPK-100"]),
    ],
)
def test_list_filters_search_and_ordering(world, admin_client, query, expected):
    response = admin_client.get(f"{API}/products?{query}")

    assert response.status_code == 200, response.content
    assert skus(response) == expected


def test_category_filter_includes_the_whole_subtree(world, admin_client):
    top = admin_client.get(f"{API}/products?category_id={world.electronics.pk}")
    middle = admin_client.get(f"{API}/products?category_id={world.audio.pk}")
    leaf = admin_client.get(f"{API}/products?category_id={world.headphones.pk}")

    assert skus(top) == ["HDP-200", "SPK-100"]
    assert skus(middle) == ["HDP-200", "SPK-100"]
    assert skus(leaf) == ["HDP-200"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("ordering=cost", "ordering"), ("status=retired", "status"), ("category_id=abc", "category_id"),
     ("category_id=1.5", "category_id"), ("category_id=99999999999999999999999", "category_id"),
     ("abc_class=D", "abc_class")],
)  # fmt: skip
def test_unknown_filter_values_and_ordering_fields_are_400(world, admin_client, query, field):
    body = assert_error(admin_client.get(f"{API}/products?{query}"), 400, "INVALID_PARAMETER")

    assert field in body["detail"]["fields"]


def test_product_list_query_count_does_not_grow_with_rows(db, admin_user, admin_client, django_assert_max_num_queries):
    categories = [category_create(actor=admin_user, name=f"Group {n}") for n in range(5)]
    for n in range(5):
        product_create(actor=admin_user, data={"sku": f"P-{n:03d}", "name": f"P {n}", "category": categories[n]})
    admin_client.get(f"{API}/products")  # warm the token's last-used stamp
    with CaptureQueriesContext(connection) as few:
        assert len(admin_client.get(f"{API}/products?page_size=100").json()["items"]) == 5
    for n in range(5, 50):
        product_create(actor=admin_user, data={"sku": f"P-{n:03d}", "name": f"P {n}", "category": categories[n % 5]})

    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(f"{API}/products?page_size=100")

    assert len(response.json()["items"]) == 50
    assert len(few) <= 8


# Categories ---------------------------------------------------------------------


def test_category_list_is_a_flat_array_with_product_counts(world, admin_client):
    response = admin_client.get(f"{API}/products/categories")

    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()}
    assert rows["Audio"] == {"id": world.audio.pk, "name": "Audio", "parent_id": world.electronics.pk, "level": 1,
                             "description": "", "product_count": 1}  # fmt: skip
    assert rows["Electronics"]["product_count"] == 0
    assert all("children" not in row for row in rows.values())


def test_category_tree_nests_children(world, admin_client):
    response = admin_client.get(f"{API}/products/categories?tree=true")

    assert response.status_code == 200
    roots = {node["name"]: node for node in response.json()}
    assert set(roots) == {"Electronics", "Garden", "Empty"}
    audio = roots["Electronics"]["children"][0]
    assert (audio["name"], audio["level"]) == ("Audio", 1)
    assert [c["name"] for c in audio["children"]] == ["Headphones"]
    assert audio["children"][0]["children"] == []


def test_category_tree_flag_must_be_a_boolean(world, admin_client):
    assert_error(admin_client.get(f"{API}/products/categories?tree=maybe"), 400, "INVALID_PARAMETER")


def test_create_category_under_a_parent_derives_its_level(world, admin_client):
    response = admin_client.post(
        f"{API}/products/categories", {"name": "Speakers", "parent_id": world.audio.pk}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["level"], body["parent_id"], body["product_count"]) == (2, world.audio.pk, 0)
    assert Category.objects.get(pk=body["id"]).level == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Speakers", "parent_id": "audio", "level": 1}, "parent_id"),
        ({"name": "Speakers", "level": 1}, "level"),
        ({"name": ""}, "name"),
        ({}, "name"),
        ({"name": "Ghost", "parent_id": 999999}, "parent_id"),
    ],
)
def test_invalid_category_bodies_are_400(world, admin_client, body, field):
    response = admin_client.post(f"{API}/products/categories", body, format="json")

    assert field in assert_error(response, 400, "VALIDATION_ERROR")["detail"]["fields"]


def test_a_fourth_category_level_is_400(world, admin_client):
    response = admin_client.post(
        f"{API}/products/categories", {"name": "In-ear", "parent_id": world.headphones.pk}, format="json"
    )

    assert "parent_id" in assert_error(response, 400, "VALIDATION_ERROR")["detail"]["fields"]


def test_duplicate_category_names_are_409_among_siblings_only(world, admin_client):
    sibling = admin_client.post(
        f"{API}/products/categories", {"name": "Audio", "parent_id": world.electronics.pk}, format="json"
    )
    root = admin_client.post(f"{API}/products/categories", {"name": "Garden"}, format="json")
    elsewhere = admin_client.post(
        f"{API}/products/categories", {"name": "Audio", "parent_id": world.garden.pk}, format="json"
    )

    assert_error(sibling, 409, "DUPLICATE_ENTITY")
    assert_error(root, 409, "DUPLICATE_ENTITY")
    assert elsewhere.status_code == 201


def test_renaming_onto_a_sibling_name_is_409(world, admin_client):
    response = admin_client.patch(f"{API}/products/categories/{world.garden.pk}", {"name": "Empty"}, format="json")

    assert_error(response, 409, "DUPLICATE_ENTITY")


def test_moving_a_category_under_its_own_subtree_is_400(world, admin_client):
    response = admin_client.patch(
        f"{API}/products/categories/{world.electronics.pk}", {"parent_id": world.headphones.pk}, format="json"
    )

    assert "parent_id" in assert_error(response, 400, "VALIDATION_ERROR")["detail"]["fields"]


def test_moving_a_category_to_the_top_level(world, admin_client):
    response = admin_client.patch(f"{API}/products/categories/{world.audio.pk}", {"parent_id": None}, format="json")

    assert response.status_code == 200
    assert (response.json()["level"], response.json()["parent_id"]) == (0, None)
    world.headphones.refresh_from_db()
    assert world.headphones.level == 1


@pytest.mark.parametrize("name", ["electronics", "audio"])
def test_a_category_with_children_or_products_cannot_be_deleted(world, admin_client, name):
    response = admin_client.delete(f"{API}/products/categories/{getattr(world, name).pk}")

    assert_error(response, 409, "IN_USE")
    assert Category.objects.filter(pk=getattr(world, name).pk).exists()


def test_deleting_an_empty_category_answers_204_without_a_body(world, admin_client):
    response = admin_client.delete(f"{API}/products/categories/{world.empty.pk}/")

    assert response.status_code == 204
    assert response.content == b""
    assert not Category.objects.filter(pk=world.empty.pk).exists()


# Locations ----------------------------------------------------------------------


def test_location_list_is_paginated_in_code_order_with_filters(world, admin_client):
    everything = admin_client.get(f"{API}/locations").json()
    plants = admin_client.get(f"{API}/locations?location_type=plant").json()
    europe = admin_client.get(f"{API}/locations?search=europe&is_active=true").json()

    assert [row["code"] for row in everything["items"]] == ["DC-EU", "Main"]
    assert everything["total"] == 2
    assert [row["code"] for row in plants["items"]] == ["Main"]
    assert [row["code"] for row in europe["items"]] == ["DC-EU"]


def test_location_list_rejects_unknown_filter_values(world, admin_client):
    assert_error(admin_client.get(f"{API}/locations?location_type=moon"), 400, "INVALID_PARAMETER")
    assert_error(admin_client.get(f"{API}/locations?ordering=capacity"), 400, "INVALID_PARAMETER")
    assert_error(admin_client.get(f"{API}/locations?is_active=maybe"), 400, "INVALID_PARAMETER")


def test_location_detail_counts_referencing_rows(world, admin_client):
    body = admin_client.get(f"{API}/locations/{world.dc.pk}").json()

    assert body["code"] == "DC-EU"
    assert body["location_type"] == "distribution_center"
    assert body["is_active"] is True
    assert (body["inventory_rows"], body["supply_plan_rows"]) == (0, 0)


def test_create_location_and_duplicate_code_is_409(world, admin_client):
    created = admin_client.post(
        f"{API}/locations", {"code": "ST-01", "name": "Flagship store", "location_type": "store"}, format="json"
    )
    duplicate = admin_client.post(f"{API}/locations", {"code": "Main", "name": "Another"}, format="json")

    assert created.status_code == 201
    assert created.json()["location_type"] == "store"
    assert_error(duplicate, 409, "DUPLICATE_ENTITY")


def test_location_codes_are_case_sensitive(world, admin_client):
    response = admin_client.post(f"{API}/locations", {"code": "MAIN", "name": "Upper-case main"}, format="json")

    assert response.status_code == 201


def test_location_code_is_immutable(world, admin_client):
    changed = admin_client.patch(f"{API}/locations/{world.dc.pk}", {"code": "DC-EU2"}, format="json")
    same = admin_client.put(f"{API}/locations/{world.dc.pk}", {"code": "DC-EU", "name": "EU"}, format="json")

    assert "code" in assert_error(changed, 400, "VALIDATION_ERROR")["detail"]["fields"]
    assert same.status_code == 200
    assert Location.objects.get(pk=world.dc.pk).code == "DC-EU"


def test_invalid_location_type_is_400(world, admin_client):
    response = admin_client.post(f"{API}/locations", {"code": "X", "name": "X", "location_type": "moon"}, format="json")

    assert "location_type" in assert_error(response, 400, "VALIDATION_ERROR")["detail"]["fields"]


def test_deleting_a_referenced_location_deactivates_it(world, admin_client, monkeypatch):
    # Given a location that plans or stock rows point at
    monkeypatch.setattr(services.catalog, "location_is_referenced", lambda location: True)
    audit_mark = last_audit_id()

    response = admin_client.delete(f"{API}/locations/{world.dc.pk}")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert Location.objects.get(pk=world.dc.pk).is_active is False
    event = AuditEvent.objects.get(id__gt=audit_mark)
    assert (event.event_type, event.target_id) == ("planning.location.deactivated", str(world.dc.pk))


# Transport: trailing slashes, media types, sizes ----------------------------------


@pytest.mark.parametrize("path", READ_PATHS)
def test_every_read_path_answers_with_and_without_trailing_slash(world, admin_client, path):
    url = API + path.format(w=world)

    bare = admin_client.get(url)
    slashed = admin_client.get(url + "/")

    assert bare.status_code == slashed.status_code == 200
    assert bare.json() == slashed.json()


@pytest.mark.parametrize("slash", ["", "/"])
def test_writes_answer_with_and_without_trailing_slash(world, admin_client, slash):
    created = admin_client.post(f"{API}/products{slash}", {"sku": f"S{len(slash)}", "name": "S"}, format="json")
    patched = admin_client.patch(f"{API}/products/{world.speaker.pk}{slash}", {"name": "N"}, format="json")
    action = admin_client.post(f"{API}/products/{world.launch.pk}/activate{slash}")

    assert (created.status_code, patched.status_code, action.status_code) == (201, 200, 200)


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [("text/plain", "sku=X"), ("application/x-www-form-urlencoded", "sku=X&name=Y"), ("application/xml", "<p/>")],
)
def test_non_json_bodies_are_415(world, admin_client, content_type, payload):
    before = catalog_state()

    response = admin_client.generic("POST", f"{API}/products", payload, content_type=content_type)

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert catalog_state() == before


def test_multipart_bodies_are_415_on_json_endpoints(world, admin_client):
    response = admin_client.post(f"{API}/products", {"sku": "X", "name": "Y"}, format="multipart")

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_bodies_over_one_mebibyte_are_413(world, admin_client):
    before = catalog_state()
    payload = json.dumps({"sku": "BIG-1", "name": "Big", "description": "x" * (1024 * 1024)})

    response = admin_client.generic("POST", f"{API}/products", payload, content_type="application/json")

    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert catalog_state() == before


def test_a_body_just_under_the_limit_is_parsed(world, admin_client):
    payload = json.dumps({"sku": "BIG-1", "name": "Big", "padding": "x" * (1024 * 1024 - 100)})

    response = admin_client.generic("POST", f"{API}/products", payload, content_type="application/json")

    assert response.status_code == 201


def test_malformed_json_is_400(world, admin_client):
    response = admin_client.generic("POST", f"{API}/products", '{"sku": ', content_type="application/json")

    assert_error(response, 400, "VALIDATION_ERROR")


def test_unsupported_method_is_405(world, admin_client):
    assert_error(admin_client.patch(f"{API}/products", {}, format="json"), 405, "METHOD_NOT_ALLOWED")
    assert_error(admin_client.put(f"{API}/products/{world.speaker.pk}/discontinue"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/products", {"sku": "NUM-1", "name": "Numbered", "description": 0}, "description"),
        ("/api/v1/products", {"sku": 12345, "name": "Numbered"}, "sku"),
        ("/api/v1/locations", {"code": "X-1", "name": "X", "region": True}, "region"),
        ("/api/v1/products/categories", {"name": 7}, "name"),
    ],
)
def test_text_fields_refuse_numbers_and_booleans(admin_api, path, body, field):
    # A number where the schema says string is a client bug to report, not a value to coerce.
    response = admin_api.post(path, body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]["fields"][field] == ["Not a valid string."]
