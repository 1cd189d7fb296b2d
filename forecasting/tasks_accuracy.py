"""Background accuracy refreshes (FC-53): nightly over every series, and per product when its
actuals change or a run is created for an as-of period in the past. Thin callers of
`forecasting.accuracy.accuracy_refresh`; idempotent (delete and insert), so a redelivered task
does no harm."""

import logging

from forecasting.accuracy import accuracy_refresh, default_periods
from forecasting.models import ForecastRun
from forecasting.series import SeriesKey
from genxsop.tasks import job

logger = logging.getLogger(__name__)


def series_of_products(product_ids: list[int]) -> list[SeriesKey]:
    """Every series of these products that has runs (the product total and any detail series)."""
    rows = (ForecastRun.objects.filter(product_id__in=product_ids).order_by()
            .values_list("product_id", "region", "channel").distinct())  # fmt: skip
    return sorted(SeriesKey(*row) for row in rows)


@job
def refresh_accuracy(product_ids: list[int] | None = None) -> int:
    """Rebuild the accuracy points of the last 24 closed months, for `product_ids` or every series."""
    if product_ids is None:
        written = accuracy_refresh()
    else:
        keys = series_of_products(sorted(set(product_ids)))
        written = accuracy_refresh(keys=keys, periods=default_periods()) if keys else 0
    logger.info("accuracy_refreshed", extra={"points": written, "products": product_ids})
    return written


@job
def nightly_accuracy_refresh() -> int:
    """The 02:45 schedule (OPS-40)."""
    return refresh_accuracy()
