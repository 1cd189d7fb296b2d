"""The catalog console (UI-14, UI-22): pages read through selectors and write through services."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.choices import Role
from governance.models import AuditEvent
from planning import events, services
from planning.choices import ProductStatus
from planning.models import Category, Location, Product
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("planning:product_list")
CATEGORIES = reverse("planning:category_list")
LOCATIONS = reverse("planning:location_list")


@pytest.fixture
def catalog(admin_user):
    """Two categories (one with a child), three products and a location, built through the services."""
    drinks = services.category_create(actor=admin_user, name="Beverages")
    soft = services.category_create(actor=admin_user, name="Soft drinks", parent=drinks)
    snacks = services.category_create(actor=admin_user, name="Snacks")
    cola = services.product_create(
        actor=admin_user,
        data={"sku": "BEV-001", "name": "Cola Classic", "category": soft, "unit_cost": "0.45",
              "selling_price": "1234.5", "product_family": "Cola", "lead_time_days": 7},
    )  # fmt: skip
    water = services.product_create(
        actor=admin_user, data={"sku": "BEV-002", "name": "Still Water", "category": drinks, "status": "new"}
    )
    crisps = services.product_create(
        actor=admin_user, data={"sku": "SNK-001", "name": "Sea Salt Crisps", "category": snacks}
    )
    east = services.location_create(actor=admin_user, data={"code": "DC-EAST", "name": "East DC", "region": "East"})
    return {"drinks": drinks, "soft": soft, "snacks": snacks, "cola": cola, "water": water, "crisps": crisps,
            "east": east}  # fmt: skip


@pytest.fixture
def as_user(client, users):
    def login(role: str):
        client.force_login(users[role])
        return client

    return login


def row_skus(response) -> list[str]:
    return re.findall(r'<tr data-sku="([^"]+)"', response.content.decode())


# Access -----------------------------------------------------------------------


CATALOG_READ_URLS = [PRODUCTS, CATEGORIES, LOCATIONS]


@pytest.mark.parametrize("url", CATALOG_READ_URLS)
def test_anonymous_visitor_is_sent_to_login_with_next(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("url", CATALOG_READ_URLS)
def test_viewer_gets_the_403_page_on_catalog_pages(as_user, url):
    response = as_user(Role.VIEWER).get(url)
    assert response.status_code == 403
    assert b"Access denied. Insufficient permissions." in response.content


def test_viewer_gets_403_on_a_product_detail(as_user, catalog):
    response = as_user(Role.VIEWER).get(reverse("planning:product_detail", args=[catalog["cola"].pk]))
    assert response.status_code == 403


def test_unknown_product_is_the_404_page(as_user, catalog):
    response = as_user(Role.ADMIN).get(reverse("planning:product_detail", args=[999999]))
    assert response.status_code == 404
    assert b"Request id:" in response.content


@pytest.mark.parametrize("role", [r for r in Role if r != Role.VIEWER])
def test_every_reading_role_sees_the_product_list(as_user, catalog, role):
    response = as_user(role).get(PRODUCTS)
    assert response.status_code == 200
    assert row_skus(response) == ["BEV-001", "BEV-002", "SNK-001"]


def test_sign_in_through_the_form_then_products_page_shows_the_product(client, users, catalog):
    # Given the real sign-in form, reached from a catalog page
    response = client.get(PRODUCTS)
    assert response.status_code == 302
    # When a demand planner signs in with email and password
    response = client.post(
        "/accounts/login/", {"login": "demand_planner@example.test", "password": PASSWORD, "next": PRODUCTS}
    )
    assert response.status_code == 302
    assert response["Location"] == PRODUCTS
    # Then the products page lists the catalog with the welcome banner
    page = client.get(PRODUCTS)
    assert page.status_code == 200
    assert "BEV-001" in row_skus(page)
    assert "Welcome back, Demand Planner" in page.content.decode()


# List: search, filters, pagination -------------------------------------------


def test_search_narrows_the_list_by_sku(as_user, catalog):
    response = as_user(Role.DEMAND_PLANNER).get(PRODUCTS, {"search": "snk-"})
    assert row_skus(response) == ["SNK-001"]


def test_search_matches_the_name_too(as_user, catalog):
    response = as_user(Role.DEMAND_PLANNER).get(PRODUCTS, {"search": "water"})
    assert row_skus(response) == ["BEV-002"]


def test_status_filter(as_user, catalog):
    response = as_user(Role.DEMAND_PLANNER).get(PRODUCTS, {"status": "new"})
    assert row_skus(response) == ["BEV-002"]


def test_category_filter_includes_the_subtree(as_user, catalog):
    response = as_user(Role.DEMAND_PLANNER).get(PRODUCTS, {"category_id": catalog["drinks"].pk})
    assert row_skus(response) == ["BEV-001", "BEV-002"]


def test_invalid_filter_value_is_an_error_message_not_a_500(as_user, catalog):
    response = as_user(Role.DEMAND_PLANNER).get(PRODUCTS, {"status": "bogus"})
    assert response.status_code == 200
    assert "Invalid filter or ordering parameter." in response.content.decode()
    assert len(row_skus(response)) == 3


def test_list_shows_money_in_the_installation_currency(as_user, catalog):
    html = as_user(Role.DEMAND_PLANNER).get(PRODUCTS).content.decode()
    assert "$0.45" in html
    assert "$1,234.50" in html


def test_pagination_offers_previous_next_page_numbers_and_page_size(as_user, admin_user):
    for n in range(12):
        services.product_create(actor=admin_user, data={"sku": f"P-{n:03d}", "name": f"Product {n}"})
    client = as_user(Role.ADMIN)

    first = client.get(PRODUCTS, {"page_size": 10})
    html = first.content.decode()
    assert len(row_skus(first)) == 10
    assert "Showing 1\u201310 of 12" in html
    assert 'href="?page_size=10&amp;page=2"' in html
    assert 'rel="next"' in html
    assert 'name="page_size"' in html

    second = client.get(PRODUCTS, {"page_size": 10, "page": 2})
    assert row_skus(second) == ["P-010", "P-011"]
    assert 'rel="prev"' in second.content.decode()


def test_an_unsupported_page_size_falls_back_to_the_default(as_user, catalog):
    response = as_user(Role.ADMIN).get(PRODUCTS, {"page_size": 100000})
    assert response.context["page_size"] == 25


def test_product_list_query_count_does_not_grow_with_rows(as_user, admin_user, django_assert_max_num_queries):
    category = services.category_create(actor=admin_user, name="Bulk")
    client = as_user(Role.ADMIN)

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PRODUCTS).status_code == 200
        return len(captured)

    for n in range(3):
        services.product_create(actor=admin_user, data={"sku": f"A-{n}", "name": f"A {n}", "category": category})
    few = queries_for_list()
    for n in range(20):
        services.product_create(actor=admin_user, data={"sku": f"B-{n}", "name": f"B {n}", "category": category})
    many = queries_for_list()

    assert few == many
    with django_assert_max_num_queries(8):
        client.get(PRODUCTS)


# Buttons follow permissions; the server re-checks ----------------------------


def test_admin_sees_new_edit_and_discontinue(as_user, catalog):
    html = as_user(Role.ADMIN).get(PRODUCTS).content.decode()
    assert reverse("planning:product_create") in html
    assert reverse("planning:product_edit", args=[catalog["cola"].pk]) in html
    assert reverse("planning:product_discontinue", args=[catalog["cola"].pk]) in html


def test_planner_sees_the_list_without_write_buttons(as_user, catalog):
    html = as_user(Role.SUPPLY_PLANNER).get(PRODUCTS).content.decode()
    assert "BEV-001" in html
    assert reverse("planning:product_create") not in html
    assert "/edit/" not in html
    assert "/discontinue/" not in html
    detail = as_user(Role.SUPPLY_PLANNER).get(reverse("planning:product_detail", args=[catalog["cola"].pk]))
    assert "/edit/" not in detail.content.decode()


@pytest.mark.parametrize(
    ("name", "needs_pk"),
    [
        ("planning:product_create", False),
        ("planning:product_edit", True),
        ("planning:product_discontinue", True),
        ("planning:product_activate", True),
    ],
)
def test_planner_post_to_product_writes_is_403_and_writes_nothing(as_user, catalog, name, needs_pk):
    url = reverse(name, args=[catalog["cola"].pk]) if needs_pk else reverse(name)
    before = AuditEvent.objects.count()
    response = as_user(Role.DEMAND_PLANNER).post(url, product_form(sku="NEW-1", name="Sneaky"))
    assert response.status_code == 403
    assert not Product.objects.filter(sku="NEW-1").exists()
    assert Product.objects.get(pk=catalog["cola"].pk).status == ProductStatus.ACTIVE
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", ["planning:category_create", "planning:location_create", "planning:product_create"])
def test_planner_get_on_create_pages_is_403(as_user, name):
    assert as_user(Role.EXECUTIVE).get(reverse(name)).status_code == 403


# Create / edit / discontinue as admin ------------------------------------------


def product_form(**overrides) -> dict:
    data = {"sku": "NEW-100", "name": "Lemonade 1L", "category": "", "product_family": "Lemonade",
            "unit_of_measure": "bottles", "unit_cost": "0.80", "selling_price": "1.99", "lead_time_days": "10",
            "min_order_qty": "12", "status": "active", "description": "Cloudy"}  # fmt: skip
    data.update(overrides)
    return data


def test_admin_creates_a_product_through_the_form(as_user, catalog):
    client = as_user(Role.ADMIN)
    response = client.post(reverse("planning:product_create"), product_form(category=catalog["soft"].pk))

    product = Product.objects.get(sku="NEW-100")
    assert response.status_code == 302
    assert response["Location"] == reverse("planning:product_detail", args=[product.pk])
    assert product.category == catalog["soft"]
    assert str(product.unit_cost) == "0.80"
    assert product.min_order_qty == 12
    event = AuditEvent.objects.get(target_type="product", target_id=str(product.pk))
    assert event.event_type == events.PRODUCT_CREATED
    assert event.source == "ui"
    assert event.actor_name == "admin@example.test"

    page = client.get(response["Location"])
    assert "Product NEW-100 created." in page.content.decode()


def test_admin_edits_a_product_and_the_history_tab_shows_the_change(as_user, catalog):
    client = as_user(Role.ADMIN)
    cola = catalog["cola"]
    edit_url = reverse("planning:product_edit", args=[cola.pk])
    form = client.get(edit_url)
    assert form.status_code == 200
    assert 'value="Cola Classic"' in form.content.decode()

    response = client.post(
        edit_url,
        product_form(name="Cola Zero", category=catalog["soft"].pk, unit_cost="0.50", selling_price="1234.50",
                     product_family="Cola", unit_of_measure="units", lead_time_days="7", min_order_qty="1",
                     description=""),
    )  # fmt: skip
    assert response.status_code == 302

    cola.refresh_from_db()
    assert cola.name == "Cola Zero"
    assert str(cola.unit_cost) == "0.50"
    assert cola.sku == "BEV-001"
    event = AuditEvent.objects.filter(target_type="product", target_id=str(cola.pk)).order_by("-id").first()
    assert event.event_type == events.PRODUCT_UPDATED
    assert event.source == "ui"
    assert event.changed_fields == ["name", "unit_cost"]

    history = client.get(reverse("planning:product_detail", args=[cola.pk]), {"tab": "history"})
    html = history.content.decode()
    assert history.context["tab"] == "history"
    assert html.index("Updated") < html.index("Created")  # newest first
    assert re.search(r"Cola Classic</td>\s*<td[^>]*>→</td>\s*<td[^>]*>Cola Zero", html)
    assert "via Console" in html


def test_editing_without_changes_writes_no_audit_row(as_user, catalog):
    cola = catalog["cola"]
    before = AuditEvent.objects.count()
    as_user(Role.ADMIN).post(
        reverse("planning:product_edit", args=[cola.pk]),
        product_form(name="Cola Classic", category=catalog["soft"].pk, unit_cost="0.45", selling_price="1234.5",
                     product_family="Cola", unit_of_measure="units", lead_time_days="7", min_order_qty="1",
                     description=""),
    )  # fmt: skip
    assert AuditEvent.objects.count() == before


def test_duplicate_sku_shows_the_error_and_writes_nothing(as_user, catalog):
    before = (Product.objects.count(), AuditEvent.objects.count())
    response = as_user(Role.ADMIN).post(reverse("planning:product_create"), product_form(sku="BEV-001"))
    assert response.status_code == 200
    assert "SKU already exists" in response.content.decode()
    assert response.context["form"].errors["sku"]
    assert (Product.objects.count(), AuditEvent.objects.count()) == before


def test_shape_errors_stay_on_the_form(as_user, catalog):
    response = as_user(Role.ADMIN).post(
        reverse("planning:product_create"), product_form(unit_cost="-1", name="", lead_time_days="x")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"unit_cost", "name", "lead_time_days"}
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Product.objects.filter(sku="NEW-100").exists()


def test_discontinue_with_reason_then_activate(as_user, catalog):
    client = as_user(Role.ADMIN)
    cola = catalog["cola"]
    detail = reverse("planning:product_detail", args=[cola.pk])

    response = client.post(reverse("planning:product_discontinue", args=[cola.pk]), {"reason": "End of life"})
    assert response.status_code == 302
    assert response["Location"] == detail
    cola.refresh_from_db()
    assert cola.status == ProductStatus.DISCONTINUED
    event = AuditEvent.objects.filter(event_type=events.PRODUCT_DISCONTINUED).get()
    assert (event.message, event.source, event.before, event.after) == (
        "End of life", "ui", {"status": "active"}, {"status": "discontinued"}
    )  # fmt: skip

    page = client.get(detail)
    html = page.content.decode()
    assert "Product BEV-001 discontinued." in html
    assert page.context["actions"] == ["edit", "activate"]
    assert "End of life" in client.get(detail, {"tab": "history"}).content.decode()

    client.post(reverse("planning:product_activate", args=[cola.pk]), {"reason": ""})
    cola.refresh_from_db()
    assert cola.status == ProductStatus.ACTIVE


def test_discontinuing_twice_is_an_error_message_not_a_500(as_user, catalog):
    client = as_user(Role.ADMIN)
    url = reverse("planning:product_discontinue", args=[catalog["cola"].pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "A discontinued product cannot be discontinued." in response.content.decode()
    assert AuditEvent.objects.filter(event_type=events.PRODUCT_DISCONTINUED).count() == 1


def test_discontinue_get_is_a_confirmation_page(as_user, catalog):
    response = as_user(Role.ADMIN).get(reverse("planning:product_discontinue", args=[catalog["cola"].pk]))
    assert response.status_code == 200
    assert Product.objects.get(pk=catalog["cola"].pk).status == ProductStatus.ACTIVE
    assert 'name="reason"' in response.content.decode()


def test_discontinue_from_the_list_returns_to_the_list(as_user, catalog):
    url = reverse("planning:product_discontinue", args=[catalog["crisps"].pk])
    response = as_user(Role.ADMIN).post(url, {"next": f"{PRODUCTS}?search=snk"})
    assert response["Location"] == f"{PRODUCTS}?search=snk"
    response = as_user(Role.ADMIN).post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("planning:product_detail", args=[catalog["crisps"].pk])


# Categories -------------------------------------------------------------------


def test_category_tree_lists_nodes_with_children(as_user, catalog):
    html = as_user(Role.FINANCE_ANALYST).get(CATEGORIES).content.decode()
    assert html.index("Beverages") < html.index("Soft drinks")
    assert "Snacks" in html
    assert reverse("planning:category_create") not in html


def test_admin_adds_renames_moves_and_deletes_a_category(as_user, catalog):
    client = as_user(Role.ADMIN)
    response = client.post(
        reverse("planning:category_create"), {"name": "Juices", "parent": catalog["drinks"].pk, "description": ""}
    )
    assert response.status_code == 302
    juices = Category.objects.get(name="Juices")
    assert (juices.parent, juices.level) == (catalog["drinks"], 1)

    client.post(
        reverse("planning:category_edit", args=[juices.pk]),
        {"name": "Fresh juices", "parent": catalog["snacks"].pk, "description": "Chilled"},
    )
    juices.refresh_from_db()
    assert (juices.name, juices.parent, juices.description) == ("Fresh juices", catalog["snacks"], "Chilled")

    response = client.post(reverse("planning:category_delete", args=[juices.pk]), follow=True)
    assert "Category “Fresh juices” deleted." in response.content.decode()
    assert not Category.objects.filter(pk=juices.pk).exists()
    assert list(
        AuditEvent.objects.filter(target_type="category", target_id=str(juices.pk)).values_list("source", flat=True)
    ) == ["ui", "ui", "ui"]


def test_deleting_a_category_in_use_shows_the_409_message(as_user, catalog):
    response = as_user(Role.ADMIN).post(reverse("planning:category_delete", args=[catalog["drinks"].pk]), follow=True)
    assert response.status_code == 200
    assert "The category still has subcategories or products." in response.content.decode()
    assert Category.objects.filter(pk=catalog["drinks"].pk).exists()


def test_moving_a_category_too_deep_is_a_form_error(as_user, admin_user, catalog):
    chips = services.category_create(actor=admin_user, name="Chips", parent=catalog["snacks"])
    response = as_user(Role.ADMIN).post(
        reverse("planning:category_edit", args=[catalog["drinks"].pk]),
        {"name": "Beverages", "parent": chips.pk, "description": ""},
    )
    assert response.status_code == 200
    assert "deeper than three levels" in response.content.decode()
    catalog["drinks"].refresh_from_db()
    assert catalog["drinks"].parent is None


def test_duplicate_category_name_is_a_form_error(as_user, catalog):
    response = as_user(Role.ADMIN).post(reverse("planning:category_create"), {"name": "Snacks", "parent": ""})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


# Locations --------------------------------------------------------------------


def test_admin_adds_edits_and_deletes_a_location(as_user, catalog):
    client = as_user(Role.ADMIN)
    response = client.post(
        reverse("planning:location_create"),
        {"code": "PLANT-1", "name": "Main plant", "location_type": "plant", "region": "North"},
    )
    assert response.status_code == 302
    plant = Location.objects.get(code="PLANT-1")

    client.post(
        reverse("planning:location_edit", args=[plant.pk]),
        {"name": "Main plant (north)", "location_type": "plant", "region": "North"},
    )
    plant.refresh_from_db()
    assert plant.name == "Main plant (north)"

    listing = client.get(LOCATIONS, {"search": "plant"}).content.decode()
    assert "Main plant (north)" in listing
    assert "DC-EAST" not in listing

    response = client.post(reverse("planning:location_delete", args=[plant.pk]), follow=True)
    assert "Location PLANT-1 deleted." in response.content.decode()
    assert not Location.objects.filter(pk=plant.pk).exists()
    assert AuditEvent.objects.filter(target_type="location", target_id=str(plant.pk), source="ui").count() == 3


def test_duplicate_location_code_is_a_form_error(as_user, catalog):
    response = as_user(Role.ADMIN).post(
        reverse("planning:location_create"), {"code": "DC-EAST", "name": "Again", "location_type": "warehouse"}
    )
    assert response.status_code == 200
    assert "Location code already exists." in response.content.decode()


def test_reader_sees_locations_without_write_buttons(as_user, catalog):
    html = as_user(Role.INVENTORY_MANAGER).get(LOCATIONS).content.decode()
    assert "DC-EAST" in html
    assert reverse("planning:location_create") not in html
    assert "/delete/" not in html


# CSP: every page we render works under the nonce policy (OPS-09) -----------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style\b(?![^>]*\bnonce=)", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def assert_csp_clean(html: str, url: str) -> None:
    assert not INLINE_SCRIPT.search(html), f"inline <script> without nonce on {url}"
    assert not STYLE_ATTR.search(html), f"style= attribute on {url}"
    assert not STYLE_BLOCK.search(html), f"<style> without nonce on {url}"
    assert not EVENT_HANDLER.search(html), f"inline event handler on {url}"
    assert not JS_URL.search(html), f"javascript: URL on {url}"


def test_console_pages_have_no_inline_script_style_or_handlers(client, users, catalog, settings):
    settings.ENVIRONMENT = "development"
    cola, drinks, east = catalog["cola"], catalog["drinks"], catalog["east"]
    services.product_update(actor=users[Role.ADMIN], product=cola, data={"name": "Cola Zero"})

    pages = {"/accounts/login/", "/accounts/password/reset/", "/accounts/signup/", "/no-such-page/"}
    for url in sorted(pages):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_csp_clean(response.content.decode(), url)

    client.force_login(users[Role.ADMIN])
    admin_pages = [
        "/",
        PRODUCTS,
        f"{PRODUCTS}?search=bev&status=active",
        reverse("planning:product_detail", args=[cola.pk]),
        reverse("planning:product_detail", args=[cola.pk]) + "?tab=history",
        reverse("planning:product_create"),
        reverse("planning:product_edit", args=[cola.pk]),
        reverse("planning:product_discontinue", args=[cola.pk]),
        reverse("planning:product_activate", args=[cola.pk]),
        CATEGORIES,
        reverse("planning:category_create"),
        reverse("planning:category_edit", args=[drinks.pk]),
        reverse("planning:category_delete", args=[drinks.pk]),
        LOCATIONS,
        reverse("planning:location_create"),
        reverse("planning:location_edit", args=[east.pk]),
        reverse("planning:location_delete", args=[east.pk]),
        "/accounts/logout/",
        "/accounts/password/change/",
    ]
    for url in admin_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" in response, url
        assert_csp_clean(response.content.decode(), url)
    # An invalid form re-rendered with errors, too.
    response = client.post(reverse("planning:product_create"), {"sku": ""})
    assert_csp_clean(response.content.decode(), "product_create (invalid)")

    client.force_login(users[Role.VIEWER])
    for url in ("/", PRODUCTS):
        response = client.get(url)
        assert_csp_clean(response.content.decode(), f"{url} as viewer")


def test_the_policy_header_carries_a_nonce_and_no_unsafe_inline(as_user):
    header = as_user(Role.ADMIN).get(PRODUCTS)["Content-Security-Policy"]
    assert "'unsafe-inline'" not in header
    assert re.search(r"script-src 'self' 'nonce-[^']+'", header)
