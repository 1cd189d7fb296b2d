"""Accuracy at a lag (spec §5.6): materialisation of the accuracy points (FC-50, FC-53) and the maths
of the reports built on them (FC-51, FC-54, FC-55; metrics FRM-20…27).

`accuracy_refresh` rebuilds the points of some series and closed months set-based: a handful of
queries for any number of series (runs, result rows, consensus rows, actuals), the forecast of
record picked in pandas, then one delete and one bulk insert in a single transaction.

The report functions take the points as a DataFrame (`points_frame`) and return plain dicts; the
selectors in `forecasting.selectors.accuracy` scope the rows to the caller and parse parameters.
Every figure is rounded to 4 dp (FRM-26); NaN becomes None (the spec's null).
"""

import datetime
import math
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from forecasting.choices import AccuracyLayer, ConsensusStatus
from forecasting.engine import metrics
from forecasting.models import MAX_HORIZON, Forecast, ForecastAccuracyPoint, ForecastConsensus, ForecastRun
from forecasting.series import (
    SeriesKey,
    add_months,
    last_closed_month,
    month_from_index,
    month_index,
    series_actuals,
)

DEFAULT_REFRESH_MONTHS = 24  # FC-53: the nightly refresh covers the last 24 closed months
MIN_LAGS = 3  # naive points exist at least for lags 1..3 (the default and the publish-gate lags)
NAIVE_MODEL = "seasonal_naive"
CONSENSUS_MODEL = "consensus"
SEASON = 12
NAIVE_LOOKBACK = 36  # months before an as-of period searched for "the last actual before O"
APPROVED_CONSENSUS = (ConsensusStatus.APPROVED, ConsensusStatus.FROZEN, ConsensusStatus.SUPERSEDED)
PRODUCT_CHUNK = 500  # product ids per IN (...) list
INSERT_BATCH = 2000
APE_MAX = 99_999_999.9999  # the column's capacity: a near-zero actual must not overflow the row
CENT = Decimal("0.01")

POINT_COLUMNS = ["product_id", "region", "channel", "period", "lag", "layer", "model_type", "forecast_qty",
                 "actual_qty", "lower_bound", "upper_bound"]  # fmt: skip


# Materialisation (FC-50, FC-53) -----------------------------------------------------------------


def default_periods(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    last = last_closed_month(today)
    return add_months(last, -(DEFAULT_REFRESH_MONTHS - 1)), last


def _period_range(periods) -> tuple[datetime.date, datetime.date]:
    if periods is None:
        return default_periods()
    if isinstance(periods, tuple) and len(periods) == 2:
        start, end = periods
    else:
        periods = list(periods)
        if not periods:
            raise ValueError("periods must not be empty")
        start, end = min(periods), max(periods)
    start, end = start.replace(day=1), end.replace(day=1)
    # Only closed months have an actual of record; an open month is never materialised.
    return start, min(end, last_closed_month())


def _chunks(items: list, size: int = PRODUCT_CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _series_with_runs() -> list[SeriesKey]:
    rows = ForecastRun.objects.order_by().values_list("product_id", "region", "channel").distinct()
    return sorted(SeriesKey(*row) for row in rows)


def _key_filter(keys: list[SeriesKey]) -> Q:
    """Rows of exactly these series: one (region, channel) group per IN list of products."""
    groups: dict[tuple[str, str], list[int]] = {}
    for key in keys:
        groups.setdefault((key.region, key.channel), []).append(key.product_id)
    q = Q(pk__in=[])
    for (region, channel), ids in groups.items():
        q |= Q(region=region, channel=channel, product_id__in=ids)
    return q


def _statistical_frame(keys, start, end) -> pd.DataFrame:
    """FC-50 statistical: per (series, period, lag) the row of the latest non-discarded run as of O."""
    columns = ["product_id", "region", "channel", "period", "lag", "forecast_qty", "lower_bound", "upper_bound",
               "model_type", "run_id", "as_of", "created_at"]  # fmt: skip
    rows = []
    for chunk in _chunks(keys):
        rows.extend(
            Forecast.objects.filter(
                _key_filter(chunk), period__gte=start, period__lte=end, discarded_at__isnull=True,
                run__discarded_at__isnull=True,
            )
            .order_by()
            .values_list("product_id", "region", "channel", "period", "lag", "predicted_qty", "lower_bound",
                         "upper_bound", "run__model_used", "run_id", "run__as_of_period", "run__created_at")
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
    # The lag is the distance from the run's as-of period, whatever the row says (FC-50: O = P - (L - 1)).
    frame["lag"] = _month_diff(frame["period"], frame["as_of"]) + 1
    frame = frame[(frame["lag"] >= 1) & (frame["lag"] <= MAX_HORIZON)]
    frame = frame.sort_values(["created_at", "run_id"]).drop_duplicates(
        ["product_id", "region", "channel", "period", "lag"], keep="last"
    )
    return frame.drop(columns=["created_at", "as_of"])


def _consensus_frame(keys, start, end) -> pd.DataFrame:
    """FC-50 consensus: final_consensus_qty of the latest approved row per series, period and run as-of."""
    columns = ["product_id", "region", "channel", "period", "forecast_qty", "consensus_id", "as_of", "approved_at",
               "version"]  # fmt: skip
    rows = []
    for chunk in _chunks(keys):
        rows.extend(
            ForecastConsensus.objects.filter(
                _key_filter(chunk), period__gte=start, period__lte=end, status__in=APPROVED_CONSENSUS
            )
            .order_by()
            .values_list("product_id", "region", "channel", "period", "final_consensus_qty", "pk",
                         "forecast_run__as_of_period", "approved_at", "version")
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
    frame["lag"] = _month_diff(frame["period"], frame["as_of"]) + 1
    frame = frame[(frame["lag"] >= 1) & (frame["lag"] <= MAX_HORIZON)]
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    frame["approved_at"] = pd.to_datetime(frame["approved_at"], utc=True).fillna(epoch)
    frame = frame.sort_values(["approved_at", "version", "consensus_id"]).drop_duplicates(
        ["product_id", "region", "channel", "period", "lag"], keep="last"
    )
    return frame.drop(columns=["approved_at", "version", "as_of"])


def _month_diff(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return later.map(month_index).astype(int) - earlier.map(month_index).astype(int)


def naive_forecasts(actuals: dict[tuple[SeriesKey, datetime.date], float], keys: list[SeriesKey],
                    periods: list[datetime.date], lags: range) -> pd.DataFrame:  # fmt: skip
    """FC-50 naive as of O = P - (L - 1): the actual of P - 12 when that month is before O, else the
    last actual before O. A month without an actual does not count as one (the next rule applies).

    Vectorised over (series, period, lag): the actuals become a (series, month) matrix, "last
    actual before O" a forward-filled copy of it.
    """
    if not keys or not periods:
        return pd.DataFrame(columns=["product_id", "region", "channel", "period", "lag", "forecast_qty"])
    key_index = {k: i for i, k in enumerate(keys)}
    first = min(month_index(p) for p in periods) - max(lags) - NAIVE_LOOKBACK
    last = max(month_index(p) for p in periods)
    grid = np.full((len(keys), last - first + 1), np.nan)
    for (key, period), qty in actuals.items():
        i = key_index.get(key)
        col = month_index(period) - first
        if i is not None and 0 <= col < grid.shape[1]:
            grid[i, col] = qty
    filled = pd.DataFrame(grid).ffill(axis=1).to_numpy()  # filled[:, c] = last actual at or before month c

    p_idx = np.array([month_index(p) for p in periods]) - first
    lag_arr = np.array(list(lags))
    kk, pp, ll = np.meshgrid(np.arange(len(keys)), p_idx, lag_arr, indexing="ij")
    kk, pp, ll = kk.ravel(), pp.ravel(), ll.ravel()
    origin = pp - (ll - 1)
    seasonal_col = pp - SEASON
    seasonal = np.where(seasonal_col >= 0, grid[kk, np.clip(seasonal_col, 0, None)], np.nan)
    before_origin = np.where(origin - 1 >= 0, filled[kk, np.clip(origin - 1, 0, None)], np.nan)
    use_seasonal = (seasonal_col < origin) & np.isfinite(seasonal)
    forecast = np.where(use_seasonal, seasonal, before_origin)
    keep = np.isfinite(forecast)
    key_list = np.array(keys, dtype=object)[kk[keep]]
    return pd.DataFrame({
        "product_id": [k.product_id for k in key_list],
        "region": [k.region for k in key_list],
        "channel": [k.channel for k in key_list],
        "period": [month_from_index(first + int(c)) for c in pp[keep]],
        "lag": ll[keep].astype(int),
        "forecast_qty": forecast[keep],
    })  # fmt: skip


def _dec(value) -> Decimal | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return Decimal(str(value)).quantize(CENT)


def build_points(keys: list[SeriesKey], start: datetime.date, end: datetime.date) -> pd.DataFrame:
    """Every layer's points of `keys` for closed periods start..end, as one frame (no writes)."""
    if not keys or start > end:
        return pd.DataFrame()
    periods = [add_months(start, i) for i in range(month_index(end) - month_index(start) + 1)]
    stat = _statistical_frame(keys, start, end)
    cons = _consensus_frame(keys, start, end)
    max_lag = max([MIN_LAGS, *(int(f["lag"].max()) for f in (stat, cons) if not f.empty)])
    lookback = add_months(start, -(max_lag + NAIVE_LOOKBACK))
    actuals = series_actuals(keys, lookback, end)
    naive = naive_forecasts(actuals, keys, periods, range(1, max_lag + 1))

    frames = []
    if not stat.empty:
        stat = stat.assign(layer=AccuracyLayer.STATISTICAL.value, consensus_id=None)
        frames.append(stat)
    if not cons.empty:
        cons = cons.assign(layer=AccuracyLayer.CONSENSUS.value, model_type=CONSENSUS_MODEL, run_id=None,
                           lower_bound=None, upper_bound=None)  # fmt: skip
        frames.append(cons)
    if not naive.empty:
        naive = naive.assign(layer=AccuracyLayer.NAIVE.value, model_type=NAIVE_MODEL, run_id=None, consensus_id=None,
                             lower_bound=None, upper_bound=None)  # fmt: skip
        frames.append(naive)
    if not frames:
        return pd.DataFrame()
    points = pd.concat(frames, ignore_index=True)
    actual_frame = pd.DataFrame(
        [(k.product_id, k.region, k.channel, p, q) for (k, p), q in actuals.items() if start <= p <= end],
        columns=["product_id", "region", "channel", "period", "actual_qty"],
    )
    # Points without an actual of record are absent, as are those without a forecast of record.
    points = points.merge(actual_frame, on=["product_id", "region", "channel", "period"], how="inner")
    for column in ("forecast_qty", "actual_qty", "lower_bound", "upper_bound"):
        points[column] = pd.to_numeric(points[column], errors="coerce").astype(float)
    points["forecast_qty"] = points["forecast_qty"].round(2)
    points["actual_qty"] = points["actual_qty"].round(2)
    return points


def accuracy_refresh(*, keys: list[SeriesKey] | None = None, periods=None) -> int:
    """FC-53: rebuild the accuracy points of `keys` (default: every series with runs) for the closed
    periods in `periods` (a (first, last) pair or any iterable of months; default the last 24 closed
    months). Delete and insert in one transaction; returns the number of points written."""
    start, end = _period_range(periods)
    every_series = keys is None
    keys = _series_with_runs() if every_series else sorted(set(keys))
    if start > end or (not keys and not every_series):
        return 0
    points = build_points(keys, start, end)
    now = timezone.now()
    rows = []
    if not points.empty:
        f = points["forecast_qty"].to_numpy()
        a = points["actual_qty"].to_numpy()
        e = np.round(f - a, 2)
        ape = np.full(a.shape, np.nan)
        np.divide(np.abs(e) * 100.0, np.abs(a), out=ape, where=a != 0)
        ape = np.minimum(np.round(ape, 4), APE_MAX)
        lo = points["lower_bound"].to_numpy()
        hi = points["upper_bound"].to_numpy()
        has_band = np.isfinite(lo) & np.isfinite(hi)
        inside = has_band & (lo <= a) & (a <= hi)
        records = points.assign(error=e, ape=ape, has_band=has_band, inside=inside).to_dict("records")
        for r in records:
            rows.append(ForecastAccuracyPoint(
                product_id=r["product_id"], region=r["region"], channel=r["channel"], period=r["period"],
                lag=int(r["lag"]), layer=r["layer"], model_type=r["model_type"], forecast_qty=_dec(r["forecast_qty"]),
                actual_qty=_dec(r["actual_qty"]), error=_dec(r["error"]), abs_error=_dec(abs(r["error"])),
                ape=None if not math.isfinite(r["ape"]) else Decimal(str(r["ape"])).quantize(Decimal("0.0001")),
                lower_bound=_dec(r["lower_bound"]), upper_bound=_dec(r["upper_bound"]),
                in_interval=bool(r["inside"]) if r["has_band"] else None,
                run_id=_int_or_none(r.get("run_id")), consensus_id=_int_or_none(r.get("consensus_id")),
                computed_at=now,
            ))  # fmt: skip
    with transaction.atomic():
        stale = ForecastAccuracyPoint.objects.filter(period__gte=start, period__lte=end)
        if every_series:
            # Series whose runs are gone lose their points too.
            stale.delete()
        else:
            for chunk in _chunks(keys):
                stale.filter(_key_filter(chunk)).delete()
        ForecastAccuracyPoint.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    return len(rows)


def _int_or_none(value) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


# Report maths (FC-51, FC-54, FC-55) -------------------------------------------------------------

FRAME_COLUMNS = ["product_id", "region", "channel", "period", "lag", "layer", "model_type", "forecast_qty",
                 "actual_qty", "lower_bound", "upper_bound", "consensus_id"]  # fmt: skip
METRIC_NAMES = ("mape", "smape", "wape", "rmse", "nrmse_pct", "mae", "mdae", "r2", "bias", "hit_rate",
                "tracking_signal", "score")  # fmt: skip
AVERAGED = METRIC_NAMES  # FC-51: simple averages across products without product_id


def points_frame(rows) -> pd.DataFrame:
    """`rows` = values_list(*FRAME_COLUMNS) of accuracy points -> a float-typed frame."""
    frame = pd.DataFrame(list(rows), columns=FRAME_COLUMNS)
    for column in ("forecast_qty", "actual_qty", "lower_bound", "upper_bound"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def _num(value) -> float | None:
    """FRM-26 rounding; NaN and infinities are null."""
    if value is None:
        return None
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


def _padded(frame: pd.DataFrame, group_cols: list[str]):
    """Groups of `frame` as (groups frame, dict of (G, k) NaN-padded arrays) for engine.metrics."""
    frame = frame.sort_values([*group_cols, "period"])
    codes = frame.groupby(group_cols, sort=True, dropna=False).ngroup().to_numpy()
    groups = frame.groupby(group_cols, sort=True, dropna=False).size().reset_index()[group_cols]
    position = frame.groupby(group_cols, sort=True, dropna=False).cumcount().to_numpy()
    width = int(position.max()) + 1 if len(frame) else 0
    arrays = {}
    for column in ("actual_qty", "forecast_qty", "lower_bound", "upper_bound"):
        grid = np.full((len(groups), width), np.nan)
        grid[codes, position] = frame[column].to_numpy()
        arrays[column] = grid
    return groups, arrays


def _group_metrics(frame: pd.DataFrame, group_cols: list[str]) -> pd.DataFrame:
    """FRM-20…25 (and FRM-23 coverage) per group, one vectorised call for every group."""
    groups, arr = _padded(frame, group_cols)
    a, f = arr["actual_qty"], arr["forecast_qty"]
    out = metrics.all_metrics(a, f)
    result = groups.copy()
    for name in METRIC_NAMES:
        result[name] = out[name]
    result["period_count"] = out["period_count"].astype(int)
    result["interval_coverage_pct"] = metrics.coverage(a, arr["lower_bound"], arr["upper_bound"])
    ok = np.isfinite(a) & np.isfinite(f)
    result["abs_error_sum"] = np.where(ok, np.abs(f - a), 0).sum(axis=1)
    result["error_sum"] = np.where(ok, f - a, 0).sum(axis=1)
    result["actual_abs_sum"] = np.where(ok, np.abs(a), 0).sum(axis=1)
    inside = ok & np.isfinite(arr["lower_bound"]) & (arr["lower_bound"] <= a) & (a <= arr["upper_bound"])
    result["band_points"] = (ok & np.isfinite(arr["lower_bound"]) & np.isfinite(arr["upper_bound"])).sum(axis=1)
    result["inside_points"] = inside.sum(axis=1)
    return result


def _pct(num, den) -> float | None:
    return _num(num / den * 100.0) if den else None


def report_rows(frame: pd.DataFrame, *, lag: int, per_series: bool) -> list[dict]:
    """FC-51 rows per (layer, model): per series when `per_series`, else averaged across products."""
    if frame.empty:
        return []
    if per_series:
        stats = _group_metrics(frame, ["layer", "model_type", "product_id", "region", "channel"])
        return [
            {"layer": r.layer, "model_type": r.model_type, "lag": lag, "product_id": int(r.product_id),
             "region": r.region, "channel": r.channel, **{m: _num(getattr(r, m)) for m in METRIC_NAMES},
             "period_count": int(r.period_count), "sample_count": 1,
             "interval_coverage_pct": _num(r.interval_coverage_pct)}
            for r in stats.itertuples(index=False)
        ]  # fmt: skip
    per_product = _group_metrics(frame, ["layer", "model_type", "product_id", "region", "channel"])
    grouped = per_product.groupby(["layer", "model_type"], sort=True)
    averaged = grouped[list(AVERAGED)].mean()  # NaN-skipping: a product without MAPE does not pull the mean
    sums = grouped[["period_count", "abs_error_sum", "error_sum", "actual_abs_sum", "band_points",
                    "inside_points"]].sum()  # fmt: skip
    series = grouped.size()
    rows = []
    for (layer, model), avg in averaged.iterrows():
        s = sums.loc[(layer, model)]
        rows.append({
            "layer": layer, "model_type": model, "lag": lag, "product_id": 0, "region": None, "channel": None,
            **{m: _num(avg[m]) for m in METRIC_NAMES},
            "period_count": int(s["period_count"]), "sample_count": int(series.loc[(layer, model)]),
            "interval_coverage_pct": _pct(s["inside_points"], s["band_points"]),
            "avg_mape": _num(avg["mape"]),
            "wape_pooled": _pct(s["abs_error_sum"], s["actual_abs_sum"]),
            "bias_pooled": _pct(s["error_sum"], s["actual_abs_sum"]),
        })  # fmt: skip
    return rows


def trend_rows(frame: pd.DataFrame, periods: list[datetime.date]) -> list[dict]:
    """API-FC-18: per closed period (and layer), pooled over the series present in that period."""
    if frame.empty:
        return []
    stats = _group_metrics(frame.assign(month=frame["period"]), ["layer", "month"])
    wanted = set(periods)
    return [
        {"period": r.month, "layer": r.layer, "wape": _num(r.wape), "mape": _num(r.mape), "bias": _num(r.bias),
         "sample_count": int(r.period_count)}
        for r in stats.sort_values(["month", "layer"]).itertuples(index=False)
        if r.month in wanted
    ]  # fmt: skip


FVA_ORDER = (AccuracyLayer.NAIVE.value, AccuracyLayer.STATISTICAL.value, AccuracyLayer.CONSENSUS.value)
SERIES_COLS = ["product_id", "region", "channel", "period", "lag"]


def fva_matched(frame: pd.DataFrame) -> pd.DataFrame:
    """FRM-27: only the (series, period, lag) where all three layers have a point.

    The statistical layer has one forecast of record per point; should two models share a point,
    each counts, which never happens with FC-50 materialisation.
    """
    if frame.empty:
        return frame
    present = frame.groupby(SERIES_COLS)["layer"].nunique()
    complete = present[present == len(FVA_ORDER)].index
    return frame.set_index(SERIES_COLS).loc[lambda f: f.index.isin(complete)].reset_index()


def _layer_summary(stats: pd.DataFrame) -> list[dict]:
    by_layer = {r.layer: r for r in stats.itertuples(index=False)}
    out, previous = [], None
    for layer in FVA_ORDER:
        r = by_layer.get(layer)
        wape = float(r.wape) if r is not None and math.isfinite(r.wape) else None
        fva = _num(previous - wape) if previous is not None and wape is not None else None
        out.append({
            "layer": layer, "wape": _num(wape), "mae": _num(r.mae) if r is not None else None,
            "bias": _num(r.bias) if r is not None else None, "point_count": int(r.period_count) if r is not None else 0,
            "fva_vs_previous_pct": fva,
        })  # fmt: skip
        previous = wape
    return out


# The consensus layer split into the override streams that build it (FRM-28), in the order they are
# added: the planner's baseline, then sales, marketing and finance, then the cap (= the consensus).
OVERRIDE_STEPS = (
    ("baseline", "baseline_qty"),
    ("sales_override", "sales_override_qty"),
    ("marketing_uplift", "marketing_uplift_qty"),
    ("finance_adjustment", "finance_adjustment_qty"),
)
STAIR_ORDER = (AccuracyLayer.NAIVE.value, AccuracyLayer.STATISTICAL.value, *(step for step, _ in OVERRIDE_STEPS),
               AccuracyLayer.CONSENSUS.value)  # fmt: skip


def override_stream_points(matched: pd.DataFrame) -> pd.DataFrame:
    """The matched points plus one point per override stream of each consensus point.

    Stream k's forecast is max(0, baseline + the streams up to k), so the stair-step shows what each
    stream (sales, marketing, finance) and finally the cap added, on exactly the FRM-27 points.
    """
    if "consensus_id" not in matched:
        return matched.iloc[0:0]
    cons = matched[(matched["layer"] == AccuracyLayer.CONSENSUS.value) & matched["consensus_id"].notna()]
    if cons.empty:
        return matched.iloc[0:0]
    ids = sorted({int(pk) for pk in cons["consensus_id"]})
    rows = []
    for chunk in _chunks(ids):
        rows.extend(ForecastConsensus.objects.filter(pk__in=chunk).order_by()
                     .values_list("pk", *(field for _, field in OVERRIDE_STEPS)))  # fmt: skip
    parts = pd.DataFrame(rows, columns=["consensus_id", *(step for step, _ in OVERRIDE_STEPS)])
    steps = [step for step, _ in OVERRIDE_STEPS]
    parts[steps] = parts[steps].astype(float).cumsum(axis=1).clip(lower=0).round(2)
    base = cons.assign(consensus_id=cons["consensus_id"].astype(int)).drop(columns=["forecast_qty"])
    base = base.merge(parts, on="consensus_id", how="inner")
    return pd.concat(
        [base.drop(columns=steps).assign(layer=step, model_type=step, forecast_qty=base[step]) for step in steps],
        ignore_index=True,
    )


def _stair_summary(stats: pd.DataFrame) -> list[dict]:
    by_layer = {r.layer: r for r in stats.itertuples(index=False)}
    out, previous = [], None
    for layer in STAIR_ORDER:
        r = by_layer.get(layer)
        wape = float(r.wape) if r is not None and math.isfinite(r.wape) else None
        out.append({
            "step": layer, "wape": _num(wape), "mae": _num(r.mae) if r is not None else None,
            "bias": _num(r.bias) if r is not None else None, "point_count": int(r.period_count) if r is not None else 0,
            "fva_vs_previous_pct": _num(previous - wape) if previous is not None and wape is not None else None,
        })  # fmt: skip
        previous = wape
    return out


def fva_report(frame: pd.DataFrame, *, lag: int, products: dict[int, tuple[str, str]] | None = None) -> dict:
    """FC-54 / FRM-27: WAPE, MAE, bias per layer and the stair-step FVA, overall and per series.

    `stair_steps` refines the same points into naive → statistical → each override stream →
    consensus, so planners see which stream added value and which took it away.
    """
    matched = fva_matched(frame)
    if matched.empty:
        return {"lag": lag, "point_count": 0, "layers": _layer_summary(pd.DataFrame(columns=["layer"])),
                "stair_steps": _stair_summary(pd.DataFrame(columns=["layer"])), "by_product": []}  # fmt: skip
    streams = override_stream_points(matched)
    stair = _group_metrics(pd.concat([matched, streams], ignore_index=True), ["layer"])
    overall = _group_metrics(matched, ["layer"])
    per_series = _group_metrics(matched, ["product_id", "region", "channel", "layer"])
    by_product = []
    for (product_id, region, channel), stats in per_series.groupby(["product_id", "region", "channel"], sort=True):
        sku, name = (products or {}).get(int(product_id), ("", ""))
        by_product.append({"product_id": int(product_id), "sku": sku, "product_name": name, "region": region,
                           "channel": channel, "point_count": int(stats["period_count"].iloc[0]),
                           "layers": _layer_summary(stats)})  # fmt: skip
    return {"lag": lag, "point_count": int(len(matched) // len(FVA_ORDER)), "layers": _layer_summary(overall),
            "stair_steps": _stair_summary(stair), "by_product": by_product}  # fmt: skip


def drift_alerts(frame: pd.DataFrame, *, threshold_pct: float, min_points: int) -> list[dict]:
    """FC-55 per (series, model): APE (%) over closed periods in order, points with actual != 0;
    window = max(3, min(6, len // 2)); previous / recent = mean APE of the two last windows."""
    if frame.empty:
        return []
    f = frame[(frame["actual_qty"] != 0) & frame["actual_qty"].notna() & frame["forecast_qty"].notna()].copy()
    if f.empty:
        return []
    f["ape"] = (f["forecast_qty"] - f["actual_qty"]).abs() / f["actual_qty"].abs() * 100.0
    keys = ["product_id", "region", "channel", "model_type"]
    f = f.sort_values([*keys, "period"])
    grouped = f.groupby(keys, sort=False)
    f["n"] = grouped["ape"].transform("size")
    f["from_end"] = grouped.cumcount(ascending=False)  # 0 = the last period
    f["window"] = np.maximum(3, np.minimum(6, f["n"] // 2))
    f = f[(f["n"] >= min_points) & (f["n"] >= 2 * f["window"])]
    if f.empty:
        return []
    recent = f[f["from_end"] < f["window"]].groupby(keys)["ape"].mean()
    previous = f[(f["from_end"] >= f["window"]) & (f["from_end"] < 2 * f["window"])].groupby(keys)["ape"].mean()
    table = pd.DataFrame({"previous_mape": previous, "recent_mape": recent}).dropna()
    table["degradation_pct"] = table["recent_mape"] - table["previous_mape"]
    table = table[table["degradation_pct"] >= threshold_pct]
    table = table.reset_index().sort_values(["degradation_pct", "product_id"], ascending=[False, True])
    return [
        {"product_id": int(r.product_id), "region": r.region, "channel": r.channel, "model_type": r.model_type,
         "previous_mape": _num(r.previous_mape), "recent_mape": _num(r.recent_mape),
         "degradation_pct": _num(r.degradation_pct),
         "severity": "high" if r.degradation_pct >= 2 * threshold_pct else "medium"}
        for r in table.itertuples(index=False)
    ]  # fmt: skip
