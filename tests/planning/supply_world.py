"""A small planning world for the supply tests: two categories, three products, two plants and Main,
one user per role. Plans and stock are made through the services."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from governance.choices import Role
from planning import services

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def build(users) -> SimpleNamespace:
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden})
    radio = services.product_create(actor=admin, data={"sku": "RAD-1", "name": "Radio", "category": audio})
    main = services.location_create(actor=admin, data={"code": "Main", "name": "Main plant", "location_type": "plant"})
    plant = services.location_create(actor=admin, data={"code": "PLANT-A", "name": "Plant A", "location_type": "plant"})
    dc = services.location_create(actor=admin, data={"code": "DC-B", "name": "DC B"})
    return SimpleNamespace(
        users=users, admin=admin, planner=users[Role.SUPPLY_PLANNER], demand_planner=users[Role.DEMAND_PLANNER],
        exec=users[Role.EXECUTIVE], viewer=users[Role.VIEWER], coord=users[Role.SOP_COORDINATOR],
        finance=users[Role.FINANCE_ANALYST], audio=audio, garden=garden, speaker=speaker, mower=mower,
        radio=radio, main=main, plant=plant, dc=dc,
    )  # fmt: skip


def supply(w, *, product=None, location=None, actor=None, **data):
    data = {"period": MARCH, "planned_prod_qty": Decimal("100"), **data}
    return services.supply_plan_create(actor=actor or w.planner, product=product or w.speaker,
                                       location=location or w.plant, data=data)  # fmt: skip


def demand(w, *, product=None, **data):
    data = {"period": MARCH, "forecast_qty": Decimal("100"), **data}
    return services.demand_plan_create(actor=w.admin, product=product or w.speaker, data=data)


def stock(w, *, product=None, location=None, **data):
    return services.inventory_create(actor=w.admin, product=product or w.speaker, location=location or w.plant,
                                     data=data)  # fmt: skip
