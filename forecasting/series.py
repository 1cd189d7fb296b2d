"""Series keys and their monthly history read from demand plans (FC-10, FC-11).

Everything that needs a series' actuals (generation, backtests, anomalies, accuracy) reads them
here, set-based: a fixed number of queries for any number of series (product totals are summed in
SQL, detail keys read their own rows, corrections and open anomalies come in one more query).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION, AnomalyStatus

__all__ = [
    "SeriesHistory",
    "SeriesKey",
    "active_total_keys",
    "add_months",
    "last_closed_month",
    "load_histories",
    "month_index",
    "series_actuals",
]


@dataclass(frozen=True, order=True)
class SeriesKey:
    product_id: int
    region: str = TOTAL_REGION
    channel: str = TOTAL_CHANNEL

    @property
    def is_total(self) -> bool:
        return self.region == TOTAL_REGION and self.channel == TOTAL_CHANNEL


@dataclass
class SeriesHistory:
    key: SeriesKey
    periods: list[datetime.date]  # first day of each history month, consecutive unless missing months were dropped
    raw: np.ndarray  # actuals (float), 0 for missing months when FORECAST_MISSING_AS_ZERO
    values: np.ndarray  # what the engine trains on: raw with corrected anomalies applied (FC-11)
    flags: list[str] = field(default_factory=list)  # FC-14 flags known from the data (missing_months, ...)
    missing_periods: list[datetime.date] = field(default_factory=list)  # months without an actual inside the range
    corrected_periods: list[datetime.date] = field(default_factory=list)  # months whose value was corrected
    outlier_periods: list[datetime.date] = field(default_factory=list)  # open/acknowledged anomalies inside

    @property
    def start(self) -> datetime.date | None:
        return self.periods[0] if self.periods else None

    @property
    def end(self) -> datetime.date | None:
        return self.periods[-1] if self.periods else None

    def __len__(self) -> int:
        return len(self.periods)


def month_index(day: datetime.date) -> int:
    """Months since year 0: consecutive months are consecutive integers."""
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after `day`'s month (negative goes back)."""
    return month_from_index(month_index(day) + months)


def last_closed_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of the month before `today`'s (the current month is still open)."""
    return add_months(today or timezone.localdate(), -1)


def _cutoff(as_of: datetime.date | None) -> datetime.date:
    """The last month history may use: the month before `as_of`, never an open month."""
    closed = last_closed_month()
    if as_of is None:
        return closed
    return min(add_months(as_of, -1), closed)


def _demand_rows():
    from planning.models import DemandPlan

    return DemandPlan.objects.filter(is_current=True, actual_qty__isnull=False)


def _detail_filter(keys: list[SeriesKey]) -> Q:
    """Rows of the detail keys, narrowed in SQL by product, region and channel (exact pairs checked after)."""
    return Q(
        product_id__in={k.product_id for k in keys},
        region__in={k.region for k in keys},
        channel__in={k.channel for k in keys},
    )


def _monthly_actuals(keys: list[SeriesKey], period_from: datetime.date | None, period_to: datetime.date):
    """{key: {month_index: actual}} for every key with at least one actual in the window (FC-10).

    Product totals are summed in SQL over every current row of the product; detail keys read the
    current row with exactly their region and channel. Two queries at most, whatever the number of keys.
    """
    wanted = set(keys)
    totals = sorted({k.product_id for k in wanted if k.is_total})
    details = [k for k in wanted if not k.is_total]
    window = Q(period__lte=period_to)
    if period_from is not None:
        window &= Q(period__gte=period_from)
    out: dict[SeriesKey, dict[int, float]] = defaultdict(dict)
    if totals:
        rows = (
            _demand_rows()
            .filter(window, product_id__in=totals)
            .values("product_id", "period")
            .annotate(qty=Sum("actual_qty"))
            .order_by()
            .values_list("product_id", "period", "qty")
        )
        for product_id, period, qty in rows:
            out[SeriesKey(product_id)][month_index(period)] = float(qty)
    if details:
        rows = (
            _demand_rows()
            .filter(window, _detail_filter(details))
            .order_by()
            .values_list("product_id", "region", "channel", "period", "actual_qty")
        )
        for product_id, region, channel, period, qty in rows:
            key = SeriesKey(product_id, region, channel)
            if key in wanted:
                out[key][month_index(period)] = float(qty)
    return out


def _anomalies(keys: list[SeriesKey], period_to: datetime.date):
    """({key: {month_index: corrected_value}}, {key: {month_index of open/acknowledged anomalies}}) in one query."""
    from forecasting.models import ForecastAnomaly

    wanted = set(keys)
    corrected: dict[SeriesKey, dict[int, float]] = defaultdict(dict)
    flagged: dict[SeriesKey, set[int]] = defaultdict(set)
    if not keys:
        return corrected, flagged
    statuses = [AnomalyStatus.CORRECTED, AnomalyStatus.OPEN, AnomalyStatus.ACKNOWLEDGED]
    rows = (
        ForecastAnomaly.objects.filter(_detail_filter(keys), status__in=statuses, period__lte=period_to)
        .order_by("updated_at", "id")  # the latest correction of a month wins when two methods corrected it
        .values_list("product_id", "region", "channel", "period", "status", "corrected_value")
    )
    for product_id, region, channel, period, status, value in rows:
        key = SeriesKey(product_id, region, channel)
        if key not in wanted:
            continue
        if status == AnomalyStatus.CORRECTED and value is not None:
            corrected[key][month_index(period)] = float(value)
        else:
            flagged[key].add(month_index(period))
    return corrected, flagged


def load_histories(
    keys: list[SeriesKey], *, as_of: datetime.date | None = None, use_corrections: bool = True
) -> dict[SeriesKey, SeriesHistory]:
    """FC-10/11 histories of `keys` (three queries in all).

    `as_of` is the first forecast month: history ends at as_of - 1 month at the latest, and never
    includes an open month (default: up to the last closed month). Each history runs from the
    key's first month with an actual to its last one; months without an actual inside that range
    are 0 (FORECAST_MISSING_AS_ZERO) or dropped, and raise `missing_months`. Corrected anomalies
    replace the actual in `values` (never in `raw`) and raise `corrected_history`; open or
    acknowledged anomalies inside the range raise `outliers`. Keys without any actual map to an
    empty history.
    """
    keys = list(dict.fromkeys(keys))
    cutoff = _cutoff(as_of)
    actuals = _monthly_actuals(keys, None, cutoff)
    if use_corrections:
        corrected, flagged = _anomalies([k for k in keys if k in actuals], cutoff)
    else:
        corrected, flagged = {}, {}
    as_zero = settings.FORECAST_MISSING_AS_ZERO
    out = {}
    for key in keys:
        months = actuals.get(key)
        if not months:
            out[key] = SeriesHistory(key=key, periods=[], raw=np.zeros(0), values=np.zeros(0), flags=[])
            continue
        first, last = min(months), max(months)
        span = np.arange(first, last + 1)
        raw = np.array([months.get(int(i), np.nan) for i in span], dtype=float)
        missing = np.isnan(raw)
        if as_zero:
            keep = np.ones(span.size, dtype=bool)
            raw = np.where(missing, 0.0, raw)
        else:
            keep = ~missing
        index = span[keep]
        raw = raw[keep]
        values = raw.copy()
        fixes = corrected.get(key, {})
        corrected_at = np.array([int(i) in fixes for i in index], dtype=bool) if fixes else np.zeros(index.size, bool)
        if corrected_at.any():
            values[corrected_at] = [fixes[int(i)] for i in index[corrected_at]]
        outliers = sorted(i for i in flagged.get(key, ()) if first <= i <= last)
        flags = []
        if missing.any():
            flags.append("missing_months")
        if outliers:
            flags.append("outliers")
        if corrected_at.any():
            flags.append("corrected_history")
        out[key] = SeriesHistory(
            key=key,
            periods=[month_from_index(int(i)) for i in index],
            raw=raw,
            values=values,
            flags=flags,
            missing_periods=[month_from_index(int(i)) for i in span[missing]],
            corrected_periods=[month_from_index(int(i)) for i in index[corrected_at]],
            outlier_periods=[month_from_index(i) for i in outliers],
        )
    return out


def series_actuals(
    keys: list[SeriesKey], period_from: datetime.date, period_to: datetime.date
) -> dict[tuple[SeriesKey, datetime.date], float]:
    """Raw actuals per (series, month) within [period_from, period_to] (FC-10; no corrections, no filling).

    Months without an actual are absent."""
    actuals = _monthly_actuals(list(dict.fromkeys(keys)), period_from, period_to)
    return {(key, month_from_index(i)): qty for key, months in actuals.items() for i, qty in months.items()}


def active_total_keys(product_ids: list[int] | None = None) -> list[SeriesKey]:
    """The product-total keys of active products (optionally only those in `product_ids`), by product id."""
    from planning.choices import ProductStatus
    from planning.models import Product

    products = Product.objects.filter(status=ProductStatus.ACTIVE)
    if product_ids is not None:
        products = products.filter(pk__in=product_ids)
    return [SeriesKey(pk) for pk in products.order_by("pk").values_list("pk", flat=True)]
