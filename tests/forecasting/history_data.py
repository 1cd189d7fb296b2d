"""Demand actuals for tests whose subject is forecasting: rows written directly, months counted back from now."""

import datetime
from decimal import Decimal

from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION
from forecasting.series import add_months, last_closed_month
from planning.models import DemandPlan


def months_back(n: int) -> datetime.date:
    """The closed month `n` months before the last closed one (0 = the last closed month)."""
    return add_months(last_closed_month(), -n)


def write_actuals(product, actuals: list[float | None], *, end: datetime.date | None = None,
                  region: str = TOTAL_REGION, channel: str = TOTAL_CHANNEL) -> list[DemandPlan]:  # fmt: skip
    """One current demand row per month ending at `end` (default: the last closed month); None = no actual."""
    end = end or last_closed_month()
    start = add_months(end, 1 - len(actuals))
    rows = [
        DemandPlan(product=product, period=add_months(start, i), region=region, channel=channel,
                   forecast_qty=Decimal("0"), actual_qty=None if q is None else Decimal(str(q)))
        for i, q in enumerate(actuals)
    ]  # fmt: skip
    return DemandPlan.objects.bulk_create(rows)


def seasonal(months: int, base: float = 100.0, amplitude: float = 20.0, trend: float = 1.0) -> list[float]:
    """A smooth seasonal series with a trend, deterministic."""
    import math

    return [round(base + trend * i + amplitude * math.sin(2 * math.pi * i / 12), 2) for i in range(months)]
