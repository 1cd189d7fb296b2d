"""Set-based plan and inventory loading: the result matches the per-row services row for row."""

from datetime import date
from decimal import Decimal

import pytest

from genxsop.context import cli_context
from genxsop.errors import Conflict, PermissionDenied
from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.choices import PlanStatus, ProductStatus
from planning.models import DemandPlan, Inventory, SupplyPlan
from planning.services.bulk_load import PlanLoadRow, inventory_bulk_load, plan_bulk_load
from planning.services.demand import DEMAND_PLAN
from planning.services.supply import SUPPLY_PLAN
from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/demand/plans"
PERIOD = date(2025, 3, 1)
EDITS = ({"adjusted_qty": Decimal("110.00"), "change_reason": "Sales input"},
         {"adjusted_qty": Decimal("105.00"), "notes": "after review", "change_reason": "Review"})  # fmt: skip


def _values(product):
    return {"product_id": product.pk, "period": PERIOD, "region": "Europe", "channel": "All",
            "forecast_qty": Decimal("100.00"), "actual_qty": Decimal("97.00"),
            "confidence": Decimal("80.00")}  # fmt: skip


def _by_services(planner, approver, product) -> DemandPlan:
    values = _values(product)
    data = {k: v for k, v in values.items() if k != "product_id"}
    plan = services.demand_plan_create(actor=planner, product=product, data=data, source="demo")
    for edit in EDITS:
        plan = services.demand_plan_update(actor=planner, plan=plan, data=edit, source="demo")
    plan = services.demand_plan_submit(actor=planner, plan=plan)
    return services.demand_plan_approve(actor=approver, plan=plan)


def _audit_trail(plan) -> list:
    rows = AuditEvent.objects.filter(target_type="demand_plan", target_id=str(plan.pk)).order_by("id")
    drop = {"product_id"}
    return [
        (e.event_type, e.actor_name, e.actor_type, e.source, e.message, e.changed_fields,
         {k: v for k, v in (e.before or {}).items() if k not in drop and not k.endswith("_at")},
         {k: v for k, v in (e.after or {}).items() if k not in drop and not k.endswith("_at")},
         {k: v for k, v in e.metadata.items() if k != "trace_id"}, e.target_repr.split(" ", 1)[1])
        for e in rows
    ]  # fmt: skip


def _versions(client, plan) -> list:
    body = client.get(f"{API}/{plan.pk}/versions").json()
    return [{k: v for k, v in version.items() if k not in ("id", "changed_at")} for version in body]


def test_a_bulk_loaded_plan_matches_one_built_through_the_services(users, api_client_for):
    # Given the same plan content for two products
    planner, approver = users[Role.DEMAND_PLANNER], users[Role.EXECUTIVE]
    one, two = ProductFactory(), ProductFactory()
    with cli_context():
        # When one goes through create, two edits, submit and approve, and the other is bulk loaded
        by_services = _by_services(planner, approver, one)
        plan_bulk_load(DEMAND_PLAN, actor=planner, approver=approver,
                       rows=[PlanLoadRow(values=_values(two), edits=EDITS, status=PlanStatus.APPROVED)])  # fmt: skip
    loaded = DemandPlan.objects.get(product=two, is_current=True)
    # Then the live rows, the versions endpoint and the audit trail are the same
    client = api_client_for(planner)
    assert _versions(client, loaded) == _versions(client, by_services)
    assert [v["version"] for v in _versions(client, loaded)] == [3, 2, 1]
    assert _audit_trail(loaded) == _audit_trail(by_services)
    assert [e[0] for e in _audit_trail(loaded)] == [
        "planning.demand_plan.created", "planning.demand_plan.updated", "planning.demand_plan.updated",
        "planning.demand_plan.submitted", "planning.demand_plan.approved",
    ]  # fmt: skip
    same = ("status", "version", "forecast_qty", "adjusted_qty", "actual_qty", "notes", "source", "change_reason",
            "created_by_id", "submitted_by_id", "approved_by_id", "updated_by_id")  # fmt: skip
    assert {f: getattr(loaded, f) for f in same} == {f: getattr(by_services, f) for f in same}
    detail = client.get(f"{API}/{loaded.pk}").json()
    assert detail["status"] == "approved"


def test_bulk_load_checks_permissions_and_refuses_discontinued_products(users):
    product = ProductFactory(status=ProductStatus.DISCONTINUED)
    location = LocationFactory()
    row = PlanLoadRow(values={"product_id": product.pk, "location_id": location.pk, "period": PERIOD,
                              "planned_prod_qty": Decimal(5)})  # fmt: skip
    with cli_context():
        with pytest.raises(PermissionDenied):
            plan_bulk_load(SUPPLY_PLAN, actor=users[Role.VIEWER], rows=[row])
        with pytest.raises(Conflict):
            plan_bulk_load(SUPPLY_PLAN, actor=users[Role.SUPPLY_PLANNER], rows=[row])
    assert not SupplyPlan.objects.exists()


def test_bulk_loaded_inventory_is_derived_and_audited_like_inventory_create(users):
    product, location = ProductFactory(unit_cost=Decimal("2.50")), LocationFactory()
    row = Inventory(product=product, location=location, on_hand_qty=Decimal(10), safety_stock=Decimal(20),
                    reorder_point=Decimal(30))  # fmt: skip
    with cli_context():
        inventory_bulk_load(actor=users[Role.INVENTORY_MANAGER], rows=[row])
    saved = Inventory.objects.get()
    assert (saved.status, saved.valuation, saved.policy_source) == ("critical", Decimal("25.00"), "demo")
    event = AuditEvent.objects.get(event_type="planning.inventory.created")
    assert (event.target_id, event.actor_name) == (str(saved.pk), users[Role.INVENTORY_MANAGER].email)
