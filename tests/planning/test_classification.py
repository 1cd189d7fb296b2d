"""FRM-41 ABC classification: revenue from the last 12 closed months, Pareto cut at 80 % and 95 %."""

from datetime import date
from decimal import Decimal

import pytest

from governance.models import AuditEvent
from planning.choices import ProductStatus
from planning.models import DemandPlan, Product
from planning.services.classification import abc_classes, product_abc_classify
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 26)  # window: 2025-11 … 2026-10


def _actual(product, period, qty, region="TOTAL"):
    DemandPlan.objects.create(product=product, period=period, region=region, forecast_qty=qty, actual_qty=qty)


def test_the_pareto_walk_by_hand():
    # Revenue 600, 250, 100, 40, 10 of 1,000: cumulative 60 %, 85 %, 95 %, 99 %, 100 %.
    revenue = {1: Decimal(600), 2: Decimal(250), 3: Decimal(100), 4: Decimal(40), 5: Decimal(10), 6: Decimal(0)}
    assert abc_classes(revenue) == {1: "A", 2: "B", 3: "B", 4: "C", 5: "C", 6: "C"}


def test_the_first_product_is_always_a_even_above_80_percent():
    # 900 of 1,000 is 90 %: above the A cut, still A as the first; then 95 % → B, 100 % → C.
    assert abc_classes({7: Decimal(900), 8: Decimal(50), 9: Decimal(50)}) == {7: "A", 8: "B", 9: "C"}


def test_classification_uses_closed_months_of_every_region_and_prices():
    big = ProductFactory(selling_price="10.00")  # 2 regions of 30 units in the window: 60 at 10 = 600
    mid = ProductFactory(selling_price="50.00")  # 5 units → 250
    small = ProductFactory(selling_price="1.00")  # 150 units → 150
    idle = ProductFactory(selling_price="99.00")  # only an actual in the open month → 0
    gone = ProductFactory(selling_price="5.00", status=ProductStatus.DISCONTINUED, abc_class="A")
    _actual(big, date(2026, 10, 1), 30, region="North")
    _actual(big, date(2026, 10, 1), 30, region="South")
    _actual(big, date(2025, 10, 1), 1000)  # before the window
    _actual(mid, date(2026, 3, 1), 5)
    _actual(small, date(2025, 11, 1), 150)
    _actual(idle, date(2026, 11, 1), 500)  # the current month is still open
    result = product_abc_classify(actor=None, today=TODAY)
    # 600 + 250 + 150 = 1,000: big 60 % → A, mid 85 % → B, small 100 % → C; idle has no revenue → C.
    classes = dict(Product.objects.values_list("sku", "abc_class"))
    assert classes == {big.sku: "A", mid.sku: "B", small.sku: "C", idle.sku: "C", gone.sku: None}
    assert (result["A"], result["B"], result["C"], result["changed"]) == (1, 1, 2, 5)
    event = AuditEvent.objects.get(event_type="planning.product.classified", target_id=str(mid.pk))
    assert (event.before, event.after) == ({"abc_class": None}, {"abc_class": "B"})
    assert event.metadata["revenue_12m"] == "250.00"


def test_a_second_run_writes_nothing_when_nothing_moved():
    product = ProductFactory(selling_price="10.00")
    _actual(product, date(2026, 5, 1), 10)
    product_abc_classify(actor=None, today=TODAY)
    before = AuditEvent.objects.filter(event_type="planning.product.classified").count()
    assert product_abc_classify(actor=None, today=TODAY)["changed"] == 0
    assert AuditEvent.objects.filter(event_type="planning.product.classified").count() == before == 1


def test_a_person_needs_the_change_product_permission(django_user_model):
    from genxsop.errors import PermissionDenied
    from governance.choices import Role
    from governance.services import user_create

    planner = user_create(actor=None, email="p@example.test", full_name="P", role=Role.DEMAND_PLANNER,
                          password="Long-enough-pass-1")  # fmt: skip
    with pytest.raises(PermissionDenied):
        product_abc_classify(actor=planner, today=TODAY)
