"""Accuracy reads (API-FC-17…20): the materialised points scoped to the caller, then the maths of
`forecasting.accuracy`. Each report reads the points table with one values_list query (plus one
for product names in the FVA report); nothing is recomputed from runs here (FC-53)."""

import datetime

from django.conf import settings

from forecasting import accuracy
from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION, AccuracyLayer
from forecasting.models import ForecastAccuracyPoint
from forecasting.series import add_months, last_closed_month
from planning.filtersets import in_category_subtree
from planning.models import Product

LAYER_ALL = "all"
Month = datetime.date | None


def accuracy_points(*, user):
    """Every accuracy point the caller may read (403 for a role without the module's read permission)."""
    return ForecastAccuracyPoint.objects.for_user(user)


def _points(user, *, lag: int, product_id=None, region=None, channel=None, layer=None, period_from=None,
            period_to=None, category_id=None):  # fmt: skip
    qs = accuracy_points(user=user).filter(lag=lag)
    if product_id:
        qs = qs.filter(product_id=product_id, region=region or TOTAL_REGION, channel=channel or TOTAL_CHANNEL)
    else:
        if region:
            qs = qs.filter(region=region)
        if channel:
            qs = qs.filter(channel=channel)
    if category_id:
        qs = qs.filter(in_category_subtree(category_id))
    if layer and layer != LAYER_ALL:
        qs = qs.filter(layer=layer)
    if period_from:
        qs = qs.filter(period__gte=period_from)
    if period_to:
        qs = qs.filter(period__lte=period_to)
    return accuracy.points_frame(qs.order_by().values_list(*accuracy.FRAME_COLUMNS))


def default_lag() -> int:
    return int(settings.FORECAST_ACCURACY_LAG)


def accuracy_report(*, user, product_id: int | None = None, region: str | None = None, channel: str | None = None,
                    lag: int | None = None, layer: str = AccuracyLayer.STATISTICAL, period_from: Month = None,
                    period_to: Month = None) -> list[dict]:  # fmt: skip
    """FC-51: one row per (layer, model); with `product_id` for that series, else averaged across products."""
    lag = lag or default_lag()
    frame = _points(user, lag=lag, product_id=product_id, region=region, channel=channel, layer=layer,
                    period_from=period_from, period_to=period_to)  # fmt: skip
    return accuracy.report_rows(frame, lag=lag, per_series=bool(product_id))


def accuracy_trend(*, user, product_id: int | None = None, lag: int | None = None,
                   layer: str = AccuracyLayer.STATISTICAL, months: int = 12) -> list[dict]:  # fmt: skip
    """API-FC-18: the last `months` closed months, pooled over the series in each month."""
    lag = lag or default_lag()
    last = last_closed_month()
    first = add_months(last, -(months - 1))
    frame = _points(user, lag=lag, product_id=product_id, layer=layer, period_from=first, period_to=last)
    periods = [add_months(first, i) for i in range(months)]
    return accuracy.trend_rows(frame, periods)


def fva_report(*, user, product_id: int | None = None, category_id: int | None = None, lag: int | None = None,
               period_from: datetime.date | None = None, period_to: datetime.date | None = None) -> dict:  # fmt: skip
    """FC-54: forecast value added over the points where all three layers exist."""
    lag = lag or default_lag()
    frame = _points(user, lag=lag, product_id=product_id, category_id=category_id, period_from=period_from,
                    period_to=period_to)  # fmt: skip
    ids = sorted({int(i) for i in frame["product_id"].unique()}) if not frame.empty else []
    names = {pk: (sku, name) for pk, sku, name in Product.objects.filter(pk__in=ids).values_list("pk", "sku", "name")}
    return accuracy.fva_report(frame, lag=lag, products=names)


def drift_alerts(*, user, threshold_pct: float = 10.0, min_points: int = 6, lag: int = 1) -> list[dict]:
    """FC-55 over the statistical layer's points at `lag`, sorted by degradation descending."""
    frame = _points(user, lag=lag, layer=AccuracyLayer.STATISTICAL)
    return accuracy.drift_alerts(frame, threshold_pct=threshold_pct, min_points=min_points)
