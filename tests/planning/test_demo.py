"""The demo data loader (DEMO-01…03, DEMO-05)."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from governance.choices import Role, Source
from governance.models import ApiToken, AuditEvent, User
from planning import demo
from planning.choices import LocationType, ProductStatus
from planning.models import Category, Location, Product

pytestmark = pytest.mark.django_db


def run_loader(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def catalog_content() -> dict:
    """Business content only: keys, names, figures, statuses and relationships (no ids or timestamps)."""
    # fmt: off
    return {
        "categories": sorted(
            (c.name, c.level, c.parent.name if c.parent else None) for c in Category.objects.select_related("parent")
        ),
        "products": sorted(
            (p.sku, p.name, p.category.name, p.product_family, str(p.unit_cost), str(p.selling_price),
             p.lead_time_days, p.min_order_qty, p.status, p.unit_of_measure)
            for p in Product.objects.select_related("category")
        ),
        "locations": sorted((loc.code, loc.name, loc.location_type, loc.region) for loc in Location.objects.all()),
        "users": sorted((u.email, u.full_name, u.role, u.department) for u in User.objects.all()),
    }
    # fmt: on


@pytest.fixture
def loaded():
    return run_loader()


def test_creates_one_user_per_role_with_matching_group(loaded):
    for spec in demo.ROLE_USERS:
        user = User.objects.get(email=spec.email)
        assert user.role == spec.role
        assert list(user.groups.values_list("name", flat=True)) == [spec.role]
        assert user.full_name == spec.full_name
        assert user.department == spec.department
    assert {u.role for u in demo.ROLE_USERS} == set(Role.values)


def test_creates_the_two_scoped_users_and_the_service_account(loaded):
    apparel = User.objects.get(email="apparel.planner@genxsop.com")
    eu = User.objects.get(email="eu.inventory@genxsop.com")
    service = User.objects.get(email="erp-integration@genxsop.local")
    assert (apparel.role, eu.role) == (Role.DEMAND_PLANNER, Role.INVENTORY_MANAGER)
    assert list(apparel.groups.values_list("name", flat=True)) == [Role.DEMAND_PLANNER]
    assert list(eu.groups.values_list("name", flat=True)) == [Role.INVENTORY_MANAGER]
    assert service.role == Role.SOP_COORDINATOR
    assert service.is_service_account
    assert not service.has_usable_password()
    assert list(service.groups.values_list("name", flat=True)) == [Role.SOP_COORDINATOR]
    token = ApiToken.objects.get(user=service)
    assert token.scopes == ["integrations:write", "planning:read"]
    assert token.revoked_at is None
    assert "Object scopes of the scoped accounts" in loaded


def test_scoped_demo_users_hold_their_scopes_and_a_rerun_grants_nothing(loaded):
    from governance.services.scopes import user_scopes

    apparel = User.objects.get(email="apparel.planner@genxsop.com")
    eu = User.objects.get(email="eu.inventory@genxsop.com")
    assert [(g["type"], g["code_or_name"], g["access"]) for g in user_scopes(apparel)] == [
        ("category", "Apparel", "change")
    ]
    assert [(g["type"], g["code_or_name"], g["access"]) for g in user_scopes(eu)] == [("location", "DC-EU", "change")]
    granted = AuditEvent.objects.filter(event_type="governance.scope.granted").count()
    demo.load()
    assert AuditEvent.objects.filter(event_type="governance.scope.granted").count() == granted


def test_demo_people_can_log_in_with_the_demo_password(loaded, settings):
    for spec in (*demo.ROLE_USERS, *demo.SCOPED_USERS):
        assert User.objects.get(email=spec.email).check_password(settings.DEMO_PASSWORD)


def test_prints_credentials_and_the_token_once():
    # Given a fresh database, when the loader runs twice
    first = run_loader()
    second = run_loader()
    # Then the first run prints every login and the token; the second only says a token exists
    for spec in (*demo.ROLE_USERS, *demo.SCOPED_USERS):
        assert spec.email in first
        assert spec.role in first
    assert "Password123!" in first
    token = ApiToken.objects.get()
    assert f"{token.prefix}_" in first
    assert f"{token.prefix}_" not in second
    assert "already exists" in second
    assert ApiToken.objects.count() == 1


def test_builds_the_three_level_category_tree(loaded):
    def node(*path):
        parent = None
        for name in path:
            parent = Category.objects.get(name=name, parent=parent)
        return parent

    assert sorted(Category.objects.filter(level=0).values_list("name", flat=True)) == [
        "Apparel", "Electronics", "Food & Beverage", "Home & Kitchen",
    ]  # fmt: skip
    assert node("Electronics", "Audio", "Headphones").level == 2
    assert node("Electronics", "Audio", "Speakers").level == 2
    assert node("Electronics", "Wearables").level == 1
    for division, group in [("Apparel", "Footwear"), ("Apparel", "Activewear"), ("Food & Beverage", "Nutrition"),
                            ("Food & Beverage", "Beverages"), ("Home & Kitchen", "Small Appliances"),
                            ("Home & Kitchen", "Cookware")]:  # fmt: skip
        assert node(division, group).level == 1
    assert Category.objects.count() == 14


def test_creates_forty_products_ten_per_division(loaded):
    assert Product.objects.count() == 40
    per_division = {}
    for product in Product.objects.select_related("category__parent__parent"):
        division = product.category
        while division.parent is not None:
            division = division.parent
        per_division[division.name] = per_division.get(division.name, 0) + 1
    assert per_division == {"Electronics": 10, "Apparel": 10, "Food & Beverage": 10, "Home & Kitchen": 10}
    statuses = list(Product.objects.values_list("status", flat=True))
    assert statuses.count(ProductStatus.NEW) == 2
    assert statuses.count(ProductStatus.DISCONTINUED) == 1


def test_named_products_carry_the_spec_figures(loaded):
    expected = {
        "ELEC-001": ("Wireless Headphones Pro", "Audio", "45.00", "129.99", 14),
        "ELEC-002": ("Smart Watch Series X", "Wearables", "120.00", "299.99", 21),
        "ELEC-003": ("Bluetooth Speaker Mini", "Audio", "25.00", "79.99", 10),
        "APRL-001": ("Performance Running Shoes", "Footwear", "35.00", "89.99", 30),
        "APRL-002": ("Yoga Pants Premium", "Activewear", "18.00", "54.99", 21),
        "FOOD-001": ("Protein Bar Variety Pack", "Nutrition", "12.00", "29.99", 7),
        "FOOD-002": ("Green Tea Premium Blend", "Beverages", "8.00", "19.99", 7),
    }
    for sku, (name, family, cost, price, lead_time) in expected.items():
        product = Product.objects.get(sku=sku)
        assert (product.name, product.product_family, product.unit_cost, product.selling_price,
                product.lead_time_days) == (name, family, Decimal(cost), Decimal(price), lead_time)  # fmt: skip


def test_other_products_stay_within_the_spec_ranges():
    assert len(demo.OTHER_PRODUCTS) == 33
    assert len({p.sku for p in demo.PRODUCTS}) == 40
    for spec in demo.OTHER_PRODUCTS:
        assert Decimal(5) <= Decimal(spec.unit_cost) <= Decimal(250), spec.sku
        assert Decimal(25) <= spec.margin_pct <= Decimal(60), spec.sku
        assert 7 <= spec.lead_time_days <= 45, spec.sku
        assert 1 <= spec.min_order_qty <= 100, spec.sku
        assert 20 <= spec.base_monthly_demand <= 2000, spec.sku


def test_creates_the_five_locations(loaded):
    locations = {loc.code: loc for loc in Location.objects.all()}
    assert set(locations) == {"Main", "PLANT-01", "DC-NA", "DC-EU", "DC-APAC"}
    assert locations["Main"].location_type == LocationType.WAREHOUSE
    assert locations["PLANT-01"].location_type == LocationType.PLANT
    assert locations["PLANT-01"].region == "North America"
    for code in ("DC-NA", "DC-EU", "DC-APAC"):
        assert locations[code].location_type == LocationType.DISTRIBUTION_CENTER


def test_every_created_row_has_a_cli_audit_event(loaded):
    assert AuditEvent.objects.exclude(source=Source.CLI).count() == 0
    for model, event_type in [
        (User, "governance.user.created"),
        (ApiToken, "governance.api_token.created"),
        (Category, "planning.category.created"),
        (Product, "planning.product.created"),
        (Location, "planning.location.created"),
    ]:
        audited = set(AuditEvent.objects.filter(event_type=event_type).values_list("target_id", flat=True))
        assert audited == {str(pk) for pk in model.objects.values_list("pk", flat=True)}, event_type
    discontinued = Product.objects.get(status=ProductStatus.DISCONTINUED)
    assert AuditEvent.objects.filter(
        event_type="planning.product.discontinued", target_id=str(discontinued.pk)
    ).exists()
    catalog_actors = set(
        AuditEvent.objects.filter(event_type__startswith="planning.").values_list("actor_name", flat=True)
    )
    assert catalog_actors == {demo.ADMIN_EMAIL}


def test_second_run_changes_nothing(loaded):
    # Given a loaded database
    before = catalog_content()
    audit_rows = AuditEvent.objects.count()
    # When the loader runs again
    output = run_loader()
    # Then no row and no audit event was added
    assert AuditEvent.objects.count() == audit_rows
    assert catalog_content() == before
    assert "created: nothing" in output


def test_reset_reloads_the_same_content_and_spares_rows_it_did_not_create(loaded, admin_user):
    # Given the demo data and a category someone added through the services themselves
    from genxsop.context import bound_context
    from planning.services import category_create

    before = catalog_content()
    with bound_context(source="ui"):
        own = category_create(actor=admin_user, name="Garden")
    # When the loader resets with another seed and anchor
    output = run_loader("--reset", "--seed", "7", "--anchor", "2024-05")
    # Then the demo catalog is back as it was, and the other category survived
    assert "reset: deleted 14 categories, 5 locations, 40 products" in output
    after = catalog_content()
    after["categories"].remove(("Garden", 0, None))
    assert after == before
    assert Category.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(event_type="planning.product.deleted", source=Source.CLI).count() == 40


def test_refuses_in_production(settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        run_loader()
    assert not User.objects.exists()


def test_rejects_a_malformed_anchor():
    with pytest.raises(CommandError, match="YYYY-MM"):
        run_loader("--anchor", "May 2024")
