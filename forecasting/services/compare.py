"""Model comparison (FC-40…43, API-FC-21/22): a walk-forward backtest of several models on one series.

A read: nothing is written. Every requested model is backtested with the engine's rolling-origin
backtest at the origins max(M, n - T) ... n - 1, forecasting up to the horizon at each origin; a
parameter grid backtests every parameter set of a model and keeps the best (`best_params`).
"""

import numpy as np
from threadpoolctl import threadpool_limits

from forecasting import permissions as perms
from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION
from forecasting.engine import metrics as engine_metrics
from forecasting.engine.backtest import backtest
from forecasting.engine.base import CATALOGUE
from forecasting.engine.quality import FLAG_ORDER, classify_demand, quality_flags
from forecasting.models import ForecastRun
from forecasting.series import SeriesKey, load_histories
from forecasting.services.generate import (
    ENSEMBLE,
    MIN_HISTORY,
    SEASON_LENGTH,
    InsufficientData,
    validate_horizon,
    validate_model_request,
)
from genxsop.errors import ValidationFailed
from genxsop.services import require_perm

__all__ = ["COMPARE_LIMITS", "forecast_compare"]

COMPARE_LIMITS = {"test_months": (1, 24, 6), "min_train_months": (3, 60, 6)}
ENSEMBLE_MEMBERS = 3
_METRICS = ("mape", "smape", "wape", "rmse", "nrmse_pct", "mae", "mdae", "r2", "bias", "hit_rate", "mase",
            "tracking_signal")  # fmt: skip
_DATA_FLAGS = ("missing_months", "outliers", "corrected_history")


def _bounded(name: str, value) -> int:
    low, high, default = COMPARE_LIMITS[name]
    if value is None or value == "":
        return default
    try:
        number = None if isinstance(value, bool) else int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ValidationFailed(fields={name: [f"Must be an integer from {low} to {high}."]})
    return number


def _grid(parameter_grid) -> dict[str, list[dict]]:
    """The validated grid {model: [params with defaults filled, ...]}; anything malformed is 400."""
    if parameter_grid in (None, "", {}):
        return {}
    if not isinstance(parameter_grid, dict):
        raise ValidationFailed(fields={"parameter_grid": ["Must be an object {model_id: [{params}, ...]}."]})
    out = {}
    for model, sets in parameter_grid.items():
        if not isinstance(sets, list) or not sets or not all(isinstance(p, dict) for p in sets):
            raise ValidationFailed(fields={"parameter_grid": [f"{model}: must be a non-empty list of objects."]})
        checked = []
        for params in sets:
            try:
                checked.append(validate_model_request(str(model), params)[1])
            except ValidationFailed as exc:
                messages = [m for msgs in (exc.fields or {}).values() for m in msgs] or [exc.message]
                raise ValidationFailed(
                    f"Bad parameter grid for {model}: {exc.message}",
                    fields={"parameter_grid": [f"{model}: {m}" for m in messages]},
                    context=exc.context,
                ) from None
        out[str(model)] = checked
    return out


def _models(requested) -> tuple[list[str], list[str]]:
    """(models to compare in catalogue order, ignored ids). Default: every available model and the ensemble."""
    available = [spec.id for spec in CATALOGUE.values() if spec.available and spec.id != ENSEMBLE]
    if not requested:
        return [*available, ENSEMBLE], []
    wanted = []
    ignored = []
    for model in requested:
        model = str(model).strip()
        if not model:
            continue
        if model in available or model == ENSEMBLE:
            if model not in wanted:
                wanted.append(model)
        elif model not in ignored:
            ignored.append(model)
    order = [*available, ENSEMBLE]
    return sorted(wanted, key=order.index), ignored


def _value(x) -> float | None:
    x = float(x)
    return round(x, 4) if np.isfinite(x) else None


def _row(model: str, table: dict) -> dict:
    row = {"model_type": model, "rank": None}
    row.update({key: _value(table[key][0]) if key in table else None for key in _METRICS})
    row["period_count"] = int(table["count"][0])
    row["score"] = _value(table["score"][0]) if "score" in table else None
    return row


def _series(periods, values, origins, forecasts) -> list[dict]:
    """One-step-ahead backtest predictions: the forecast made at each origin for the month right after it."""
    out = []
    for j, origin in enumerate(origins):
        predicted = forecasts[0, j, 0]
        out.append({
            "period": periods[origin].isoformat(), "actual_qty": round(float(values[origin]), 2),
            "predicted_qty": round(float(predicted), 2) if np.isfinite(predicted) else None,
        })  # fmt: skip
    return out


def _by_step(forecasts: np.ndarray, actuals: np.ndarray, scale: np.ndarray) -> list[dict]:
    """Metrics per horizon step over the origins (FC-40: a model is judged on every step it will be used for)."""
    out = []
    for step in range(actuals.shape[2]):
        part = engine_metrics.error_metrics(forecasts[:, :, step] - actuals[:, :, step], actuals[:, :, step], scale)
        out.append({"step": step + 1, "count": int(part["count"][0]),
                    **{key: _value(part[key][0]) for key in ("mae", "rmse", "wape", "mase")}})  # fmt: skip
    return out


def _parameter_result(model: str, params: dict, table: dict) -> dict:
    row = _row(model, table)
    return {"params": params, **{k: v for k, v in row.items() if k not in ("model_type", "rank")}}


def _score(table: dict) -> float:
    value = float(table["score"][0]) if "score" in table else float("nan")
    return value if np.isfinite(value) else float("inf")


def forecast_compare(*, actor, product, region=None, channel=None, test_months=None, min_train_months=None,
                     models=None, parameter_grid=None, include_parameter_results: bool = False,
                     horizon=None) -> dict:  # fmt: skip
    """FC-42/43: backtest the requested models on one series and rank them by score (FRM-25).

    Needs read access to forecasting in the product's scope. 400 for bad bounds or a bad grid; 422
    INSUFFICIENT_DATA when the series has no more than max(3, min_train_months) points.
    """
    require_perm(actor, perms.VIEW_RUN)
    require_perm(actor, perms.VIEW_RUN, ForecastRun(product=product))
    T = _bounded("test_months", test_months)
    M = _bounded("min_train_months", min_train_months)
    h = validate_horizon(horizon)
    grid = _grid(parameter_grid)
    wanted, ignored = _models(models)
    key = SeriesKey(product.pk, (region or "").strip() or TOTAL_REGION, (channel or "").strip() or TOTAL_CHANNEL)
    history = load_histories([key])[key]
    n = len(history)
    if n < MIN_HISTORY:
        raise InsufficientData(f"Forecasting requires {MIN_HISTORY} history months, found {n}",
                               context={"history_months": n})  # fmt: skip
    if n <= max(MIN_HISTORY, M):
        raise InsufficientData(
            f"A comparison with min_train_months {M} needs more than {max(MIN_HISTORY, M)} history months, found {n}",
            context={"history_months": n, "min_train_months": M},
        )
    values = np.asarray(history.values, dtype=float)[None, :]
    singles = [m for m in wanted if m != ENSEMBLE]
    rows: dict[str, dict] = {}
    forecasts: dict[str, np.ndarray] = {}
    with threadpool_limits(limits=1):
        plain = [m for m in singles if m not in grid]
        result = backtest(values, plain, h, SEASON_LENGTH, n_origins=T, min_train=M)
        origins, actuals, scale = result.origins, result.actuals, result.scale
        for model in plain:
            table = result.metrics(model, full=True)
            rows[model] = _row(model, table)
            rows[model]["best_params"] = None
            forecasts[model] = result.forecasts[model]
        for model in [m for m in singles if m in grid]:
            tried = []
            for params in grid[model]:
                run = backtest(values, [model], h, SEASON_LENGTH, n_origins=T, min_train=M, params={model: params})
                table = run.metrics(model, full=True)
                tried.append((_score(table), len(tried), params, table, run.forecasts[model]))
            best = min(tried, key=lambda t: (t[0], t[1]))
            rows[model] = _row(model, best[3])
            rows[model]["best_params"] = best[2]
            forecasts[model] = best[4]
            if include_parameter_results:
                rows[model]["parameter_results"] = [_parameter_result(model, params, table)
                                                    for _, _, params, table, _ in tried]  # fmt: skip
        scored = sorted((r for r in rows.values() if r["score"] is not None), key=lambda r: r["score"])
        if ENSEMBLE in wanted and len(scored) >= 2:
            members = [r["model_type"] for r in scored[:ENSEMBLE_MEMBERS]]
            stack = np.stack([forecasts[m] for m in members], axis=0)
            with np.errstate(all="ignore"):
                combined = np.median(stack, axis=0)
            table = engine_metrics.error_metrics(combined - actuals, actuals, scale, full=True)
            rows[ENSEMBLE] = _row(ENSEMBLE, table)
            rows[ENSEMBLE]["best_params"] = {"members": len(members), "member_models": members}
            forecasts[ENSEMBLE] = combined
    order = [m for m in wanted if m in rows]
    ranked = sorted(order, key=lambda m: (rows[m]["score"] is None, rows[m]["score"] or 0.0, order.index(m)))
    out_rows = []
    for rank, model in enumerate(ranked, start=1):
        row = rows[model]
        row["rank"] = rank
        row["series"] = _series(history.periods, history.values, origins, forecasts[model])
        row["by_step"] = _by_step(forecasts[model], actuals, scale)
        out_rows.append(row)
    demand = classify_demand(values)
    value_flags = quality_flags(values, pattern=demand.pattern)
    raised = set(history.flags) | {f for f, on in value_flags.items() if bool(on[0]) and f not in _DATA_FLAGS}
    return {
        "product_id": product.pk,
        "region": key.region,
        "channel": key.channel,
        "history_months": n,
        "test_months": T,
        "min_train_months": M,
        "horizon": h,
        "parameter_grid_used": grid,
        "data_quality_flags": [f for f in FLAG_ORDER if f in raised],
        "demand_pattern": str(demand.pattern[0]),
        "ignored_models": ignored,
        "models": out_rows,
    }
