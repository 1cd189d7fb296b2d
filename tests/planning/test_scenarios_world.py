"""The small scenario world the scenario tests share (no tests here).

Two products in category Audio (A: price 10, cost 6; B: price 20, cost 12) and one in Garden
(G: price 100, cost 50), locations L1 and L2, planned for March 2026. Worked out by hand:

- demand (FRM-01): A total 120 (forecast 100, adjusted 120), A EU 0 (consensus 0 is a plan),
  B 80; G 10 (Garden). Audio: demand 200, revenue 2 800, margin 1 120, avg price 14, avg cost 8.4.
- supply: A at L1 90, B at L1 60 → 150 (Audio); G at L2 5.
- stock: A at L1 on hand 30, allocated 5, in transit 5 → 30 available, valuation 180;
  B at L1 on hand 10, allocated 20 → 0 available, valuation 120 → Audio value 300.
  G at L2 on hand 2, valuation 100.
- open exceptions on A: one high (open), one medium (in progress); a resolved one on B.
"""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from governance.choices import Role
from planning import services
from planning.models import InventoryPolicyException

MARCH = date(2026, 3, 1)


def build_world(users) -> SimpleNamespace:
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    a = services.product_create(actor=admin, data={"sku": "A-1", "name": "Alpha", "category": audio,
                                                   "selling_price": Decimal(10), "unit_cost": Decimal(6)})  # fmt: skip
    b = services.product_create(actor=admin, data={"sku": "B-1", "name": "Beta", "category": audio,
                                                   "selling_price": Decimal(20), "unit_cost": Decimal(12)})  # fmt: skip
    g = services.product_create(
        actor=admin,
        data={
            "sku": "G-1",
            "name": "Gamma",
            "category": garden,
            "selling_price": Decimal(100),
            "unit_cost": Decimal(50),
        },
    )
    l1 = services.location_create(actor=admin, data={"code": "L1", "name": "Plant 1", "location_type": "plant"})
    l2 = services.location_create(actor=admin, data={"code": "L2", "name": "Plant 2", "location_type": "plant"})

    a_total = services.demand_plan_create(actor=admin, product=a, data={"period": MARCH, "region": "NA",
                                                                        "forecast_qty": Decimal(100)})  # fmt: skip
    # A new version: the history row (forecast only, 100) must never be counted.
    a_total = services.demand_plan_update(actor=admin, plan=a_total, data={"adjusted_qty": Decimal(120)})
    services.demand_plan_create(actor=admin, product=a, data={"period": MARCH, "region": "EU",
                                                              "forecast_qty": Decimal(50),
                                                              "consensus_qty": Decimal(0)})  # fmt: skip
    services.demand_plan_create(actor=admin, product=b, data={"period": MARCH, "forecast_qty": Decimal(80)})
    services.demand_plan_create(actor=admin, product=g, data={"period": MARCH, "forecast_qty": Decimal(10)})
    # Another month, never part of a March scenario.
    services.demand_plan_create(actor=admin, product=b, data={"period": date(2026, 4, 1),
                                                              "forecast_qty": Decimal(999)})  # fmt: skip

    services.supply_plan_create(
        actor=admin, product=a, location=l1, data={"period": MARCH, "planned_prod_qty": Decimal(90)}
    )
    services.supply_plan_create(
        actor=admin, product=b, location=l1, data={"period": MARCH, "planned_prod_qty": Decimal(60)}
    )
    services.supply_plan_create(
        actor=admin, product=g, location=l2, data={"period": MARCH, "planned_prod_qty": Decimal(5)}
    )

    stock_a = services.inventory_create(actor=admin, product=a, location=l1, data={
        "on_hand_qty": Decimal(30), "allocated_qty": Decimal(5), "in_transit_qty": Decimal(5)})  # fmt: skip
    stock_b = services.inventory_create(actor=admin, product=b, location=l1, data={
        "on_hand_qty": Decimal(10), "allocated_qty": Decimal(20)})  # fmt: skip
    services.inventory_create(actor=admin, product=g, location=l2, data={"on_hand_qty": Decimal(2)})
    InventoryPolicyException.objects.create(inventory=stock_a, exception_type="stockout_risk", severity="high",
                                            recommended_action="Expedite")  # fmt: skip
    InventoryPolicyException.objects.create(inventory=stock_a, exception_type="excess_risk", severity="medium",
                                            status="in_progress", recommended_action="Hold")  # fmt: skip
    InventoryPolicyException.objects.create(inventory=stock_b, exception_type="excess_risk", severity="high",
                                            status="resolved", recommended_action="Done")  # fmt: skip
    return SimpleNamespace(
        users=users, admin=admin, exec=users[Role.EXECUTIVE], demand=users[Role.DEMAND_PLANNER],
        supply=users[Role.SUPPLY_PLANNER], finance=users[Role.FINANCE_ANALYST], coord=users[Role.SOP_COORDINATOR],
        viewer=users[Role.VIEWER], inventory=users[Role.INVENTORY_MANAGER], audio=audio, garden=garden, a=a, b=b,
        g=g, l1=l1, l2=l2,
    )  # fmt: skip


AUDIO_SCOPE_KEYS = ("category_ids",)


def audio_scope(w) -> dict:
    return {"category_ids": [w.audio.pk]}
