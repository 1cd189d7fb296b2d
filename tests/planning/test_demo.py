"""The demo data loader (DEMO-01…07, DEMO-09).

The default data set is loaded once for the module (it takes seconds); each test runs in its own
transaction on top of it, so tests that reset or reload leave it as it was.
"""

import datetime
import hashlib
import io
import itertools
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import CommandError, call_command

from governance.choices import Role, Source
from governance.models import ApiToken, AuditEvent, Comment, User
from planning import demo, demo_check, demo_plans
from planning.choices import LocationType, PlanStatus, ProductStatus
from planning.demo_series import FIRST, LAST, generate
from planning.models import (
    Category,
    DemandPlan,
    Inventory,
    InventoryPolicyRecommendation,
    InventorySnapshot,
    Location,
    Product,
    SupplyPlan,
)
from tests.governance.audit_helpers import audit_log_reset

pytestmark = pytest.mark.django_db

ANCHOR = "2025-06"
ANCHOR_DATE = datetime.date(2025, 6, 1)
CENT = Decimal("0.01")


def month(t: int) -> datetime.date:
    return demo_plans.add_months(ANCHOR_DATE, t)


def run_loader(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", "--anchor", ANCHOR, *args, stdout=out)
    return out.getvalue()


def wipe() -> None:
    """Everything the loader writes, in dependency order: the database as before any load."""
    from forecasting.models import (
        Forecast,
        ForecastAccuracyPoint,
        ForecastAnomaly,
        ForecastConsensus,
        ForecastJob,
        ForecastRun,
    )
    from governance.models import ActionItem, Decision, Publication, ReadinessEvaluation, SopCycle
    from planning.models import InventoryPolicyRun, KpiMetric, OutboundMessage, ProductionSchedule, Scenario

    audit_log_reset()  # the append-only triggers refuse a plain DELETE
    Comment.objects.all().delete()
    # Governance of DEMO-10/11: publications (their items hold products), evaluations, cycles, scenarios.
    Publication.objects.update(superseded_by=None, restored_publication=None)
    for model in (Publication, ReadinessEvaluation, OutboundMessage, ActionItem, Decision, SopCycle, Scenario):
        model.objects.all().delete()
    ForecastConsensus.objects.filter(is_current=False).delete()
    for model in (ForecastAccuracyPoint, ForecastAnomaly, ForecastConsensus, Forecast, ForecastRun, ForecastJob):
        model.objects.all().delete()
    for model in (KpiMetric, ProductionSchedule, InventoryPolicyRun):
        model.objects.all().delete()
    for model in (InventorySnapshot, Inventory, SupplyPlan, DemandPlan, Product):
        model.objects.all().delete()
    for level in (2, 1, 0):
        Category.objects.filter(level=level).delete()
    Location.objects.all().delete()
    ApiToken.objects.all().delete()
    User.objects.all().delete()


@pytest.fixture(scope="module")
def first_output(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            yield run_loader()
        finally:
            wipe()


@pytest.fixture
def loaded(first_output):
    return first_output


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


def _email(user) -> str | None:
    return user.email if user else None


def plan_digest() -> str:
    """A digest of the business content of every plan, stock row and snapshot (no ids or timestamps)."""
    # fmt: off
    lines = sorted(
        ("D", p.product.sku, p.period, p.region, p.channel, p.version, p.is_current, p.status, p.forecast_qty,
         p.adjusted_qty, p.actual_qty, p.consensus_qty, p.confidence, p.notes, p.source, p.change_reason,
         _email(p.created_by), _email(p.submitted_by), _email(p.approved_by))
        for p in DemandPlan.objects.select_related("product", "created_by", "submitted_by", "approved_by")
    ) + sorted(
        ("S", p.product.sku, p.period, p.location.code, p.version, p.status, p.planned_prod_qty, p.actual_prod_qty,
         p.capacity_max, p.capacity_used, p.supplier_name, p.lead_time_days, p.cost_per_unit, p.constraints,
         _email(p.approved_by))
        for p in SupplyPlan.objects.select_related("product", "location", "approved_by")
    ) + sorted(
        ("I", r.product.sku, r.location.code, r.on_hand_qty, r.allocated_qty, r.in_transit_qty, r.safety_stock,
         r.reorder_point, r.max_stock, r.valuation, r.status, r.policy_source)
        for r in Inventory.objects.select_related("product", "location")
    ) + sorted(
        ("N", s.product.sku, s.location.code, s.period, s.on_hand_qty, s.status, s.valuation)
        for s in InventorySnapshot.objects.select_related("product", "location")
    )
    # fmt: on
    return hashlib.sha256(repr(lines).encode()).hexdigest()


# Users, token, catalog (DEMO-01…03, DEMO-05) ----------------------------------------------------


def test_the_audit_trail_of_the_demo_load_verifies_as_one_hash_chain(loaded):
    # Thousands of rows of every shape (bulk and single, snapshots with decimals and dates) hash the
    # same when read back from the database as when they were written (ADR 0015).
    from governance import audit_chain

    result = audit_chain.verify()
    assert result.ok, result.first_problem
    assert result.rows_checked == AuditEvent.objects.count() > 1000


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
    demo.load(anchor=ANCHOR_DATE)
    assert AuditEvent.objects.filter(event_type="governance.scope.granted").count() == granted


def test_demo_people_can_log_in_with_the_demo_password(loaded, settings):
    for spec in (*demo.ROLE_USERS, *demo.SCOPED_USERS):
        assert User.objects.get(email=spec.email).check_password(settings.DEMO_PASSWORD)


def test_prints_credentials_row_counts_and_the_token_once(loaded):
    # Given the first run's output, when the loader runs again
    second = run_loader()
    # Then the first run printed every login, the token and what it created; the second only says a token exists
    for spec in (*demo.ROLE_USERS, *demo.SCOPED_USERS):
        assert spec.email in loaded
        assert spec.role in loaded
    assert "Password123!" in loaded
    token = ApiToken.objects.get()
    assert f"{token.prefix}_" in loaded
    assert f"{token.prefix}_" not in second
    assert "already exists" in second
    assert ApiToken.objects.count() == 1
    assert "87 inventory rows" in loaded
    assert f"{DemandPlan.objects.filter(is_current=True).count()} demand plans" in loaded
    assert "time: " in loaded
    assert "self-check: 2 critical coverage gaps" in loaded


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
        (Inventory, "planning.inventory.created"),
    ]:
        audited = set(AuditEvent.objects.filter(event_type=event_type).values_list("target_id", flat=True))
        assert audited == {str(pk) for pk in model.objects.values_list("pk", flat=True)}, event_type
    for model, name in [(DemandPlan, "demand_plan"), (SupplyPlan, "supply_plan")]:
        created = AuditEvent.objects.filter(event_type=f"planning.{name}.created")
        audited = set(created.values_list("target_id", flat=True))
        assert audited == {str(pk) for pk in model.objects.filter(is_current=True).values_list("pk", flat=True)}
    discontinued = Product.objects.get(status=ProductStatus.DISCONTINUED)
    assert AuditEvent.objects.filter(
        event_type="planning.product.discontinued", target_id=str(discontinued.pk)
    ).exists()
    catalog = AuditEvent.objects.filter(event_type__regex=r"^planning\.(product|category|location)\.")
    # The ABC classes are derived by the system after the load (FRM-41); everything else is the admin's.
    classified = catalog.filter(event_type="planning.product.classified")
    assert set(catalog.exclude(pk__in=classified).values_list("actor_name", flat=True)) == {demo.ADMIN_EMAIL}
    assert set(classified.values_list("actor_type", flat=True)) == {"system"}
    assert classified.count() == Product.objects.exclude(abc_class=None).count()


def test_plans_and_stock_are_audited_as_the_people_who_would_have_acted(loaded):
    actors = Counter(AuditEvent.objects.filter(event_type__regex=r"^planning\.(demand_plan|supply_plan|inventory)\.")
                     .values_list("event_type", "actor_name"))  # fmt: skip
    assert set(actors) == {
        ("planning.demand_plan.created", "demand@genxsop.com"), ("planning.demand_plan.updated", "demand@genxsop.com"),
        ("planning.demand_plan.submitted", "demand@genxsop.com"),
        ("planning.demand_plan.approved", "executive@genxsop.com"),
        ("planning.demand_plan.rejected", "executive@genxsop.com"),
        ("planning.supply_plan.created", "supply@genxsop.com"),
        ("planning.supply_plan.submitted", "supply@genxsop.com"),
        ("planning.supply_plan.approved", "executive@genxsop.com"),
        ("planning.supply_plan.rejected", "executive@genxsop.com"),
        ("planning.inventory.created", "inventory@genxsop.com"),
        # DEMO-09: the inventory manager applied some policy recommendations
        ("planning.inventory.policy_applied", "inventory@genxsop.com"),
    }  # fmt: skip
    approved = DemandPlan.objects.filter(is_current=True, status=PlanStatus.APPROVED).count()
    assert actors[("planning.demand_plan.approved", "executive@genxsop.com")] == approved
    history = DemandPlan.objects.filter(is_current=False).count()
    assert actors[("planning.demand_plan.updated", "demand@genxsop.com")] == history
    plan = DemandPlan.objects.filter(is_current=True, status=PlanStatus.APPROVED).first()
    assert (plan.created_by.email, plan.submitted_by.email, plan.approved_by.email) == (
        "demand@genxsop.com", "demand@genxsop.com", "executive@genxsop.com",
    )  # fmt: skip


def test_second_run_changes_nothing(loaded):
    # Given a loaded database
    before = catalog_content(), plan_digest()
    audit_rows = AuditEvent.objects.count()
    # When the loader runs again
    output = run_loader()
    # Then no row and no audit event was added
    assert AuditEvent.objects.count() == audit_rows
    assert (catalog_content(), plan_digest()) == before
    assert "created: nothing" in output


def test_the_same_seed_and_anchor_give_the_same_content_in_a_fresh_database(loaded):
    # Given the content of the module's load and an emptied database
    expected = catalog_content(), plan_digest()
    wipe()
    assert not DemandPlan.objects.exists()
    # When the loader runs again with the same seed and anchor
    run_loader("--seed", "42")
    # Then the business content is identical
    assert (catalog_content(), plan_digest()) == expected


def test_series_depend_on_seed_and_product_only():
    one = generate(42, sku="ELEC-001", base=850, category=("Electronics",), anchor_month=6)
    again = generate(42, sku="ELEC-001", base=850, category=("Electronics",), anchor_month=6)
    other_seed = generate(7, sku="ELEC-001", base=850, category=("Electronics",), anchor_month=6)
    assert (one.actual, one.forecast) == (again.actual, again.forecast)
    assert one.actual != other_seed.actual


def test_reset_reloads_the_same_content_and_spares_rows_it_did_not_create(loaded, admin_user):
    # Given the demo data and a category someone added through the services themselves
    from genxsop.context import bound_context
    from planning.services import category_create

    before = catalog_content(), plan_digest()
    with bound_context(source="ui"):
        own = category_create(actor=admin_user, name="Garden")
    # When the loader resets
    output = run_loader("--reset")
    # Then the demo data is back as it was, and the other category survived
    for deleted in ("14 categories", "40 products", "5 locations"):
        assert deleted in output
    assert f"{DemandPlan.objects.filter(is_current=True).count()} demand plans" in output
    after = catalog_content()
    after["categories"].remove(("Garden", 0, None))
    after["users"] = [u for u in after["users"] if u[0] != admin_user.email]
    assert (after, plan_digest()) == (
        {**before[0], "users": [u for u in before[0]["users"] if u[0] != admin_user.email]},
        before[1],
    )
    assert Category.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(event_type="planning.product.deleted", source=Source.CLI).count() == 40
    assert AuditEvent.objects.filter(event_type="planning.demand_plan.bulk_deleted").count() == 1


def test_refuses_in_production(loaded, settings):
    settings.IS_PRODUCTION = True
    users = User.objects.count()
    with pytest.raises(CommandError, match="production"):
        run_loader()
    assert User.objects.count() == users


def test_rejects_a_malformed_anchor():
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("load_demo", "--anchor", "May 2024", stdout=io.StringIO())


# Demand (DEMO-04…06) ---------------------------------------------------------------------------


def _rows(sku: str, **filters):
    return DemandPlan.objects.filter(product__sku=sku, is_current=True, **filters)


def test_demand_covers_36_closed_months_with_actuals_and_the_next_12(loaded):
    periods = sorted(set(_rows("ELEC-001").values_list("period", flat=True)))
    assert periods == [month(t) for t in range(FIRST, LAST + 1)]
    assert set(_rows("ELEC-001").values_list("region", "channel").distinct()) == {
        ("North America", "All"), ("Europe", "All"), ("Asia Pacific", "All"),
    }  # fmt: skip
    assert not _rows("ELEC-001", period__lt=ANCHOR_DATE, actual_qty=None).exists()
    assert not _rows("ELEC-001", period__gte=ANCHOR_DATE).exclude(actual_qty=None).exists()
    na, eu, apac = (sum(_rows("ELEC-001", region=r).values_list("forecast_qty", flat=True))
                    for r in ("North America", "Europe", "Asia Pacific"))  # fmt: skip
    assert abs(na / (na + eu + apac) - Decimal("0.5")) < Decimal("0.01")
    assert abs(apac / (na + eu + apac) - Decimal("0.2")) < Decimal("0.01")


def test_eight_products_are_planned_as_a_total_and_32_by_region(loaded):
    totals = set(DemandPlan.objects.filter(region="Global", channel="All").values_list("product__sku", flat=True))
    detail = set(DemandPlan.objects.exclude(region="Global").values_list("product__sku", flat=True))
    assert (len(totals), len(detail)) == (8, 32)
    assert not totals & detail


def test_demand_patterns(loaded):
    # New products start at their launch, 8 and 14 months before the anchor, and ramp up
    assert _rows("FOOD-009").order_by("period").first().period == month(-8)
    assert _rows("ELEC-010").order_by("period").first().period == month(-14)
    # The discontinued product sold nothing in its last 6 months and has no plans ahead
    assert set(_rows("ELEC-009", period__gte=month(-6)).values_list("actual_qty", flat=True)) == {Decimal(0)}
    assert not _rows("ELEC-009", period__gte=ANCHOR_DATE).exists()
    assert Product.objects.get(sku="ELEC-009").status == ProductStatus.DISCONTINUED
    # Intermittent products sell in 35-60 % of months
    for sku in ("FOOD-010", "HOME-005", "HOME-007", "APRL-005"):
        actuals = list(_rows(sku, period__lt=ANCHOR_DATE).values_list("actual_qty", flat=True))
        assert 0.35 <= sum(1 for a in actuals if a > 0) / len(actuals) <= 0.60, sku

    # Promotions triple the month; the stock-out cuts it to a third
    def total(sku, t):
        return sum(_rows(sku, period=month(t)).values_list("actual_qty", flat=True))

    assert total("ELEC-001", -4) > 2 * total("ELEC-001", -16)
    assert total("ELEC-003", -6) < Decimal("0.5") * total("ELEC-003", -18)


def test_past_forecasts_are_lag1_forecasts_from_the_actuals_before_them(loaded):
    from planning.demo_series import lag1_forecast

    rows = DemandPlan.objects.filter(product__sku="FOOD-010", period__lt=ANCHOR_DATE, version=1)
    actual = {t: int(_rows("FOOD-010", period=month(t)).get().actual_qty) for t in range(FIRST, 0)}
    for row in rows:
        t = (row.period.year - 2025) * 12 + row.period.month - 6
        assert row.forecast_qty == lag1_forecast(actual, t)


def test_plan_statuses_and_versions(loaded):
    past = DemandPlan.objects.filter(is_current=True, period__lt=ANCHOR_DATE)
    assert set(past.values_list("status", flat=True)) == {PlanStatus.APPROVED}
    later = DemandPlan.objects.filter(is_current=True, period__gte=month(3))
    assert set(later.values_list("status", flat=True)) == {PlanStatus.APPROVED}
    assert set(_rows("ELEC-001", period=ANCHOR_DATE).values_list("status", flat=True)) == {PlanStatus.APPROVED}
    for model in (DemandPlan, SupplyPlan):
        mix = Counter(model.objects.filter(is_current=True, period__in=[month(1), month(2)])
                      .values_list("status", flat=True))  # fmt: skip
        n = sum(mix.values())
        assert abs(mix[PlanStatus.APPROVED] / n - 0.75) < 0.10, (model, mix)
        assert abs(mix[PlanStatus.SUBMITTED] / n - 0.15) < 0.08, (model, mix)
        assert abs(mix[PlanStatus.DRAFT] / n - 0.10) < 0.07, (model, mix)
        assert 0 < mix[PlanStatus.REJECTED] / n < 0.08, (model, mix)
    versioned = past.filter(version__gt=1).count() / past.count()
    assert 0.15 <= versioned <= 0.25
    assert past.filter(version=3).exists()
    assert past.exclude(adjusted_qty=None).count() == past.filter(version__gt=1).count()
    extra_versions = sum(v - 1 for v in past.values_list("version", flat=True))
    assert DemandPlan.objects.filter(is_current=False).count() == extra_versions


def test_rejected_plans_carry_the_approvers_reason_as_a_comment(loaded):
    executive = User.objects.get(email="executive@genxsop.com")
    for model, entity_type in ((DemandPlan, "demand_plan"), (SupplyPlan, "supply_plan")):
        rejected = model.objects.filter(is_current=True, status=PlanStatus.REJECTED)
        assert rejected.exists()
        assert set(rejected.values_list("rejected_by", flat=True)) == {executive.pk}
        comments = Comment.objects.filter(entity_type=entity_type, kind="rejection")
        assert sorted(comments.values_list("entity_id", flat=True)) == sorted(
            str(pk) for pk in rejected.values_list("pk", flat=True)
        )
        assert set(comments.values_list("user", flat=True)) == {executive.pk}
        assert all(c in demo_plans.REJECTION_REASONS for c in comments.values_list("content", flat=True))
        assert rejected.filter(notes__contains="Rejected").count() == 0 if model is DemandPlan else True


# Supply (DEMO-07) ------------------------------------------------------------------------------


def test_supply_plans_at_the_primary_location(loaded):
    assert set(SupplyPlan.objects.filter(product__sku="ELEC-001").values_list("location__code", flat=True)) == {
        "PLANT-01"
    }
    main = SupplyPlan.objects.filter(product__sku="APRL-001")
    assert set(main.values_list("location__code", flat=True)) == {"Main"}
    assert set(SupplyPlan.objects.filter(location__code="Main").values_list("supplier_name", flat=True)) <= set(
        demo_plans.SUPPLIERS
    )
    row = main.get(period=month(-1))
    assert Decimal("0.9") * row.planned_prod_qty <= row.actual_prod_qty <= row.planned_prod_qty
    assert (row.lead_time_days, row.cost_per_unit) == (30, Decimal("35.00"))
    assert SupplyPlan.objects.filter(product__sku="APRL-001", is_current=True).count() == 48


def test_three_products_are_overloaded_in_the_next_two_months_and_no_others(loaded):
    future = SupplyPlan.objects.filter(is_current=True, period__gte=ANCHOR_DATE)
    overloaded = {(p.product.sku, p.period): p.load_pct for p in future.select_related("product") if p.load_pct > 100}
    assert set(overloaded) == {(sku, month(t)) for sku in demo_plans.OVERLOADED for t in (1, 2)}
    assert all(Decimal(105) <= pct <= Decimal("120.5") for pct in overloaded.values())


def test_gap_analysis_shows_the_two_critical_gaps(loaded):
    expected = sorted((sku, month(t)) for sku, t in demo_plans.CRITICAL_GAPS)
    skus = [p.sku for p in demo.PRODUCTS]
    gaps = demo_check.coverage_gaps(ANCHOR_DATE, skus)
    assert sorted(key for key, pct in gaps.items() if pct < -20) == expected
    assert demo_check.critical_gaps(ANCHOR_DATE, skus) == expected


# Inventory (DEMO-09) ---------------------------------------------------------------------------


def test_inventory_rows_locations_and_status_mix(loaded):
    rows = Inventory.objects.select_related("product__category", "location")
    assert 80 <= rows.count() <= 90
    assert set(rows.filter(product__sku="ELEC-001").values_list("location__code", flat=True)) == {
        "DC-NA", "DC-EU", "DC-APAC",
    }  # fmt: skip
    apparel = set(rows.filter(product__sku="APRL-001").values_list("location__code", flat=True))
    assert "Main" in apparel
    assert len(apparel) == 2
    mix = Counter(rows.values_list("status", flat=True))
    n = rows.count()
    for status, share in (("normal", 0.65), ("low", 0.15), ("critical", 0.08), ("excess", 0.12)):
        assert abs(mix[status] / n - share) < 0.04, mix
    applied = set(InventoryPolicyRecommendation.objects.filter(status="applied").values_list("inventory_id", flat=True))
    for row in rows:
        if row.pk in applied:  # DEMO-09: an applied recommendation replaced the run's policy
            assert row.policy_source == "recommendation"
            continue
        assert row.policy_source == "demo"
        assert row.max_stock == (row.reorder_point * Decimal("1.5")).quantize(CENT, ROUND_HALF_UP)
        assert row.valuation == (row.on_hand_qty * row.product.unit_cost).quantize(CENT, ROUND_HALF_UP)
        assert abs(row.allocated_qty - row.on_hand_qty / 10) <= Decimal("0.01")


def test_inventory_policy_follows_the_coverage_method(loaded):
    from planning.inventory_rules import product_daily_demand

    product = Product.objects.get(sku="APRL-001")
    d = product_daily_demand([product.pk], today=ANCHOR_DATE)[product.pk] / 2
    row = Inventory.objects.filter(product=product, policy_source="demo").first()
    lead_time = Decimal(product.lead_time_days)
    assert abs(row.safety_stock - d * Decimal("1.65") * lead_time.sqrt()) < Decimal("0.02")
    assert abs(row.reorder_point - (d * lead_time + row.safety_stock)) < Decimal("0.02")


def test_optimisation_run_and_recommendations_of_demo_09(loaded):
    from planning.models import InventoryPolicyException, InventoryPolicyRun

    run = InventoryPolicyRun.objects.get(request_id="demo-09")
    assert (run.status, run.method, run.parameters["service_level_target"]) == ("completed", "coverage", "0.95")
    active = InventoryPolicyException.objects.filter(status__in=("open", "in_progress"))
    assert active.exists()
    assert not active.filter(run__isnull=True).exists()
    assert run.exception_count == active.count()
    statuses = Counter(InventoryPolicyRecommendation.objects.values_list("status", flat=True))
    assert all(statuses[s] > 0 for s in ("pending", "accepted", "applied", "rejected")), statuses
    waiting = InventoryPolicyRecommendation.objects.filter(status="pending", high_impact=True)
    assert waiting.filter(generated_by__email="inventory@genxsop.com").exists()
    # Applying never leaves a critical row without an owned stockout exception (publish readiness).
    for row in Inventory.objects.filter(status="critical"):
        assert row.exceptions.filter(status__in=("open", "in_progress"), owner__isnull=False).exists(), row


def test_snapshots_follow_production_and_demand(loaded):
    row = Inventory.objects.select_related("product", "location").get(product__sku="APRL-001", location__code="Main")
    snaps = list(InventorySnapshot.objects.filter(product=row.product, location=row.location).order_by("period"))
    assert [s.period for s in snaps] == [month(t) for t in range(FIRST, 0)]
    assert all(s.on_hand_qty >= 0 and s.source == "demo" for s in snaps)
    made = {s.period: SupplyPlan.objects.get(product=row.product, period=s.period, is_current=True).actual_prod_qty
            for s in snaps}  # fmt: skip
    sold = {s.period: sum(_rows("APRL-001", period=s.period).values_list("actual_qty", flat=True)) for s in snaps}
    # Receipts are production scaled up to the history's demand (production runs a few % short, the rest is
    # bought in), shared by the two stocking locations.
    per_unit = sum(sold.values()) / sum(made.values())
    assert Decimal("1") < per_unit < Decimal("1.2")
    for previous, current in itertools.pairwise(snaps):
        expected = max(
            Decimal(0), previous.on_hand_qty + made[current.period] * per_unit / 2 - sold[current.period] / 2
        )
        assert abs(current.on_hand_qty - expected) <= Decimal("0.02")
    # Stock wanders around its opening level rather than draining away: most month-ends are not critical.
    statuses = Counter(InventorySnapshot.objects.filter(period=snaps[-1].period).values_list("status", flat=True))
    assert statuses["critical"] < sum(statuses.values()) / 4, statuses
    assert InventorySnapshot.objects.count() > 80 * 30


# Scale and self-check --------------------------------------------------------------------------


def test_scale_adds_synthetic_products_with_plans_and_stock(loaded):
    audit_rows = AuditEvent.objects.count()
    output = run_loader("--scale", "50")
    products = Product.objects.filter(sku__startswith="SCL-")
    assert products.count() == 50
    assert products.filter(sku="SCL-000050").exists()
    assert DemandPlan.objects.filter(product__in=products, is_current=True).count() == 50 * 48
    assert not DemandPlan.objects.filter(product__in=products).exclude(region="Global").exists()
    assert SupplyPlan.objects.filter(product__in=products).count() == 50 * 48
    assert Inventory.objects.filter(product__in=products).count() == 50
    assert AuditEvent.objects.filter(event_type="planning.demand_plan.bulk_loaded").exists()
    assert AuditEvent.objects.filter(event_type="planning.product.created").count() == 90
    assert "scale" in output
    # A second run with the same scale writes nothing
    audit_rows = AuditEvent.objects.count()
    assert "created: nothing" in run_loader("--scale", "50")
    assert AuditEvent.objects.count() == audit_rows


def test_a_failed_self_check_rolls_the_load_back(loaded, monkeypatch):
    # Given a check that finds a problem
    monkeypatch.setattr(demo_check, "_check_constraints", lambda skus, problems, passed: problems.append("broken"))
    before = DemandPlan.objects.count(), AuditEvent.objects.count()
    # When the loader adds synthetic products, then it fails and nothing it wrote stays
    with pytest.raises(CommandError, match="self-check failed: broken"):
        run_loader("--scale", "3")
    assert (DemandPlan.objects.count(), AuditEvent.objects.count()) == before
    assert not Product.objects.filter(sku__startswith="SCL-").exists()
