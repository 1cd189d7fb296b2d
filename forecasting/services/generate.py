"""Forecast generation (FC-10…14, FC-20…26, API-FC-02/03): history → engine → run and result rows.

`forecast_compute` reads the histories of any number of series and runs the engine once over all of
them (one panel, vectorised); it writes nothing, so jobs can compute outside their guarded
transaction; `forecast_compute_histories` does the same for histories the caller already holds (the
demo's histories cut at many as-of months). `forecast_write` stores what was computed set-based (bulk
inserts, one audit event per run). `forecast_generate` is the interactive path: permission,
validation, compute and write in one transaction.
"""

import datetime
import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from threadpoolctl import threadpool_limits

from forecasting import permissions as perms
from forecasting.choices import ENGINE_VERSION, TOTAL_CHANNEL, TOTAL_REGION, DemandPattern, IntervalMethod
from forecasting.engine import pipeline
from forecasting.engine.base import CATALOGUE, Panel
from forecasting.engine.quality import FLAG_ORDER, classify_demand, quality_flags
from forecasting.models import MAX_HORIZON, Forecast, ForecastRun
from forecasting.series import SeriesHistory, SeriesKey, add_months, load_histories
from genxsop import context
from genxsop.errors import DomainError, ValidationFailed
from genxsop.services import require_perm
from governance import audit, bus

__all__ = [
    "ENSEMBLE",
    "MIN_HISTORY",
    "RUN_CREATED",
    "SEASON_LENGTH",
    "ForecastCancelled",
    "InsufficientData",
    "SeriesForecast",
    "forecast_compute",
    "forecast_compute_histories",
    "forecast_generate",
    "forecast_recommend",
    "forecast_write",
    "model_catalogue",
    "validate_horizon",
    "validate_model_request",
]

RUN_CREATED = "forecasting.run.created"
MIN_HISTORY = 3  # FC-12
SEASON_LENGTH = 12
ENSEMBLE = "ensemble"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
LEVELS = (80, 95)
# Flags the service knows from the data behind the values (FC-11, FC-14); the engine sees only values.
_DATA_FLAGS = ("missing_months", "outliers", "corrected_history")
_CENT = Decimal("0.01")
_MAX_MAPE = 9999.9999  # dec(8,4)
_MAX_RMSE = 99999999.9999  # dec(12,4)
_MAX_RATIO = 9999.9999  # adi, cv2: dec(8,4)
_MAX_QTY = 9999999999.99  # dec(12,2)


class InsufficientData(DomainError):
    status_code = 422
    code = INSUFFICIENT_DATA
    default_message = "Not enough history to forecast."


class ForecastCancelled(Exception):
    """`should_stop` asked `forecast_compute` to stop; nothing was computed for the caller to write."""


@dataclass
class SeriesForecast:
    """One series' computed forecast, not yet saved (or the reason it was skipped)."""

    key: SeriesKey
    history: SeriesHistory
    horizon: int
    as_of: datetime.date | None
    requested_model: str | None
    selected_model: str = ""
    model_used: str = ""
    model_params: dict = field(default_factory=dict)
    periods: list[datetime.date] = field(default_factory=list)
    predicted: list[float] = field(default_factory=list)
    lower95: list[float] = field(default_factory=list)
    upper95: list[float] = field(default_factory=list)
    lower80: list[float] = field(default_factory=list)
    upper80: list[float] = field(default_factory=list)
    diagnostics: dict = field(default_factory=dict)
    confidence: list[float] = field(default_factory=list)
    mape: float | None = None
    rmse: float | None = None
    interval_method: str = IntervalMethod.BAND
    error: str | None = None
    error_code: str | None = None
    demand_pattern: str = DemandPattern.SMOOTH
    adi: float | None = None
    cv2: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def as_of_period(self) -> datetime.date | None:
        """The first forecast month (history_end + 1)."""
        return self.periods[0] if self.periods else None


# ---------------------------------------------------------------- parameters (FC-20, FC-21)


def _params_module():
    try:
        from forecasting.engine import params as module
    except ImportError:
        return None
    return module if hasattr(module, "validate_params") else None


def _known_models() -> list[str]:
    module = _params_module()
    if module is not None and hasattr(module, "known_models"):
        return list(module.known_models())
    return [*CATALOGUE, *([ENSEMBLE] if ENSEMBLE not in CATALOGUE else [])]


def model_catalogue() -> list[dict]:
    """API-FC-01 rows: every catalogue model with its parameters and fallback (FC-20)."""
    module = _params_module()
    if module is not None and hasattr(module, "catalogue_listing"):
        return module.catalogue_listing()
    rows = []
    for spec in CATALOGUE.values():
        rows.append({
            "id": spec.id, "name": spec.name, "family": spec.family, "min_data_months": spec.min_months,
            "available": spec.available, "fallback": spec.fallback,
            "parameters": [{"name": name, "type": _type_name(default), "default": default, "min": None, "max": None,
                            "choices": None, "aliases": []} for name, default in spec.params.items()],
        })  # fmt: skip
    if ENSEMBLE not in CATALOGUE:
        rows.append({
            "id": ENSEMBLE, "name": "Ensemble (median)", "family": "combination", "min_data_months": 6,
            "available": True, "fallback": None,
            "parameters": [{"name": "members", "type": "int", "default": 3, "min": 2, "max": 5, "choices": None,
                            "aliases": []}],
        })  # fmt: skip
    return rows


def _type_name(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float) or value is None:
        return "float"
    return "str"


def validate_model_request(model_type: str | None, model_params: dict | None) -> tuple[str | None, dict]:
    """FC-21: (model id or None for automatic selection, parameters with defaults filled in).

    400 for an unknown model, unknown parameter keys, out-of-range numbers or bad enumerations.
    """
    model = (model_type or "").strip() or None
    if model == "auto":
        model = None
    if model_params is not None and not isinstance(model_params, dict):
        raise ValidationFailed(fields={"model_params": ["Must be a JSON object."]})
    params = dict(model_params or {})
    if model is None:
        if params:
            raise ValidationFailed(fields={"model_params": ["Parameters need a model_type."]})
        return None, {}
    if model not in _known_models():
        raise ValidationFailed(
            f"Unknown model {model!r}.", fields={"model_type": [f"Unknown model; one of {', '.join(_known_models())}."]}
        )
    module = _params_module()
    if module is not None:
        try:
            return model, dict(module.validate_params(model, params))
        except module.ParamError as exc:
            fields = getattr(exc, "fields", None) or {"model_params": [str(exc)]}
            details = getattr(exc, "details", None)
            context = details if isinstance(details, dict) else None
            raise ValidationFailed(str(exc), fields=fields, context=context) from None
    defaults = dict(CATALOGUE[model].params) if model in CATALOGUE else {"members": 3}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValidationFailed(
            f"Unknown parameter(s) for {model}: {', '.join(unknown)}.",
            fields={"model_params": [f"Unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(defaults))}."]},
        )
    return model, {**defaults, **params}


def validate_horizon(horizon) -> int:
    """1..FORECAST_MAX_HORIZON (default FORECAST_DEFAULT_HORIZON); anything else is 400."""
    if horizon is None or horizon == "":
        return settings.FORECAST_DEFAULT_HORIZON
    top = min(settings.FORECAST_MAX_HORIZON, MAX_HORIZON)
    try:
        value = None if isinstance(horizon, bool) else int(str(horizon).strip())
    except ValueError:
        value = None
    if value is None or not 1 <= value <= top:
        raise ValidationFailed(fields={"horizon": [f"Must be an integer from 1 to {top}."]})
    return value


# ---------------------------------------------------------------- compute


def _panel(histories: list[SeriesHistory]) -> Panel:
    """Right-aligned panel: each series ends in the last column, shorter ones are NaN-padded on the left."""
    width = max(len(h.values) for h in histories)
    values = np.full((len(histories), width), np.nan)
    for i, history in enumerate(histories):
        values[i, width - len(history.values) :] = history.values
    latest = max(h.end for h in histories)
    return Panel(ids=tuple(str(i) for i in range(len(histories))), values=values,
                 start=add_months(latest, 1 - width).strftime("%Y-%m"))  # fmt: skip


_ACCEPTS_STOP = "should_stop" in inspect.signature(pipeline.forecast_panel).parameters


def _run_engine(panel: Panel, horizon: int, model: str | None, params: dict, should_stop):
    kwargs = {"model": model or "auto", "levels": LEVELS}
    if model:
        kwargs["params"] = {model: params}
    if should_stop is not None and _ACCEPTS_STOP:
        kwargs["should_stop"] = should_stop
    # One BLAS/OpenMP thread: the engine's many small fits (gradient boosting at every backtest
    # origin) spend more on thread hand-offs than on work, and a busy host makes that many times worse.
    with threadpool_limits(limits=1):
        return pipeline.forecast_panel(panel, horizon, SEASON_LENGTH, **kwargs)


def _num(value, cap: float | None = None, digits: int = 4) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    if cap is not None:
        value = max(-cap, min(cap, value))
    return round(value, digits)


_METRIC_KEYS = ("mape", "smape", "wape", "rmse", "nrmse_pct", "mae", "mdae", "r2", "bias", "hit_rate", "mase",
                "tracking_signal")  # fmt: skip


def _plain_json(value):
    """JSON-safe copy: numpy scalars become Python numbers, NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _catalogue_order(model: str) -> int:
    ids = _known_models()
    return ids.index(model) if model in ids else len(ids)


def _candidate_rows(record) -> list[dict]:
    """FC-41 rows of the series' candidates, ranked by score (unscored last, ties in catalogue order)."""
    rows = getattr(record, "candidate_rows", None)
    if rows:
        out = []
        for row in rows:
            row = _plain_json(dict(row))
            row.setdefault("model_type", row.get("model"))
            row.setdefault("best_params", None)
            out.append(row)
        return out
    out = []
    for model, table in (record.backtest or {}).items():
        row = {"model_type": model, "rank": None}
        row.update({key: _num(table.get(key)) for key in _METRIC_KEYS})
        row["period_count"] = int(table.get("count") or table.get("period_count") or 0)
        row["score"] = _num(table.get("score"))
        row["best_params"] = None
        out.append(row)
    out.sort(key=lambda r: (r["score"] is None, r["score"] or 0.0, _catalogue_order(r["model_type"])))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank if row["score"] is not None else None
    return out


def _advisor_confidence(record, rows: list[dict], user_selected: bool) -> float:
    """FC-24 step 6."""
    if user_selected:
        return 1.0
    if hasattr(record, "advisor_confidence"):
        return float(min(1.0, max(0.0, record.advisor_confidence)))
    scores = [r["score"] for r in rows if r.get("score") is not None]
    if len(scores) < 2:
        return 0.5
    s1, s2 = sorted(scores)[:2]
    return 0.5 if s2 == 0 else round(min(0.95, 0.5 + (s2 - s1) / s2), 4)


def _backtest_of(record, model: str) -> dict:
    return (record.backtest or {}).get(model) or {}


def _nominal_confidence(record, model: str) -> float:
    value = getattr(record, "nominal_confidence", None)
    if value is not None:
        return float(value)
    members = [m for m in (record.members or ()) if m in CATALOGUE]
    if model == ENSEMBLE and members:
        return float(np.mean([CATALOGUE[m].nominal_confidence for m in members]))
    spec = CATALOGUE.get(model)
    return float(spec.nominal_confidence if spec is not None else 80)


def _result_confidence(record, model: str) -> float:
    """FC-25: clamp(100 - backtest WAPE, 0, 100), else the model's nominal confidence."""
    if hasattr(record, "result_confidence"):
        return round(float(record.result_confidence), 2)
    wape = _num(_backtest_of(record, model).get("wape"))
    if wape is not None:
        return round(min(100.0, max(0.0, 100.0 - wape)), 2)
    return round(_nominal_confidence(record, model), 2)


def _interval_method(text: str) -> str:
    text = (text or "").strip()
    if text.startswith("zero"):
        return IntervalMethod.ZERO
    return text if text in IntervalMethod.values else IntervalMethod.BAND


def _used_params(model_used: str, requested: str | None, params: dict, record) -> dict:
    if requested and model_used == requested:
        return dict(params)
    if model_used == ENSEMBLE:
        members = [m for m in (record.members or ()) if m]
        return {"members": len(members), "member_models": members}
    spec = CATALOGUE.get(model_used)
    return dict(spec.params) if spec is not None else {}


def _flags(history: SeriesHistory, record, engine_flags: list[str]) -> list[str]:
    raised = set(history.flags) | {f for f in engine_flags if f not in _DATA_FLAGS}
    return [f for f in FLAG_ORDER if f in raised] + sorted(raised - set(FLAG_ORDER))


def _fallback_flags(values: np.ndarray, pattern: np.ndarray) -> list[list[str]]:
    """FC-14 value flags when the engine's records do not carry them."""
    flags = quality_flags(values, pattern=pattern)
    names = [name for name in FLAG_ORDER if name in flags and name not in _DATA_FLAGS]
    stacked = np.stack([np.asarray(flags[name], dtype=bool) for name in names], axis=1)
    return [[names[j] for j in np.flatnonzero(row)] for row in stacked]


def _skipped(key, history, horizon, as_of, requested, message, code=INSUFFICIENT_DATA) -> SeriesForecast:
    return SeriesForecast(key=key, history=history, horizon=horizon, as_of=as_of, requested_model=requested,
                          error=message, error_code=code)  # fmt: skip


def _discontinued(product_ids: set[int]) -> set[int]:
    from planning.choices import ProductStatus
    from planning.models import Product

    return set(
        Product.objects.filter(pk__in=product_ids, status=ProductStatus.DISCONTINUED).values_list("pk", flat=True)
    )


def forecast_compute(keys: list[SeriesKey], *, horizon: int, model_type: str | None = None,
                     model_params: dict | None = None, as_of: datetime.date | None = None,
                     should_stop: Callable[[], bool] | None = None) -> list[SeriesForecast]:  # fmt: skip
    """Forecast every key in one engine call; no writes. One SeriesForecast per key, in the keys' order.

    Keys with fewer than 3 history points come back with error_code INSUFFICIENT_DATA (FC-12).
    `model_type` None is automatic selection (FC-24); a model id runs that model along its fallback
    chain (FC-22). `model_params` are validated again (400 when invalid). `should_stop`
    is checked before and after the engine runs; when it answers True, ForecastCancelled is raised.
    """
    keys = list(keys)
    # Idempotent on validated parameters; fills the defaults for callers that pass only a model id.
    model_type, params = validate_model_request(model_type, model_params)
    if should_stop is not None and should_stop():
        raise ForecastCancelled()
    histories = load_histories(keys, as_of=as_of)
    return _compute([histories[key] for key in keys], keys, horizon, [as_of] * len(keys), model_type, params,
                    should_stop)  # fmt: skip


def forecast_compute_histories(histories: list[SeriesHistory], *, horizon: int,
                               as_of: datetime.date | list[datetime.date | None] | None = None,
                               model_type: str | None = None, model_params: dict | None = None,
                               should_stop: Callable[[], bool] | None = None) -> list[SeriesForecast]:  # fmt: skip
    """`forecast_compute` for histories the caller already holds (e.g. one series cut at several as-of
    months): one engine call over all of them, one SeriesForecast per history in order; no writes.

    `as_of` is recorded on the results: one date for all, or a list with one entry per history. Each
    forecast starts the month after its history ends; histories shorter than 3 months are
    INSUFFICIENT_DATA (FC-12).
    """
    histories = list(histories)
    as_ofs = list(as_of) if isinstance(as_of, list | tuple) else [as_of] * len(histories)
    if len(as_ofs) != len(histories):
        raise ValueError("as_of needs one entry per history")
    model_type, params = validate_model_request(model_type, model_params)
    if should_stop is not None and should_stop():
        raise ForecastCancelled()
    return _compute(histories, [h.key for h in histories], horizon, as_ofs, model_type, params, should_stop)


def _compute(histories, keys, horizon, as_ofs, model_type, params, should_stop) -> list[SeriesForecast]:
    discontinued = _discontinued({k.product_id for k in keys})
    out: list[SeriesForecast | None] = [None] * len(keys)
    todo: list[int] = []
    for i, (key, history) in enumerate(zip(keys, histories, strict=True)):
        if len(history) < MIN_HISTORY:
            message = f"Forecasting requires {MIN_HISTORY} history months, found {len(history)}"
            out[i] = _skipped(key, history, horizon, as_ofs[i], model_type, message)
        else:
            todo.append(i)
    if todo:
        series = [histories[i] for i in todo]
        panel = _panel(series)
        result = _run_engine(panel, horizon, model_type, params, should_stop)
        if should_stop is not None and should_stop():
            raise ForecastCancelled()
        _fill(out, todo, keys, series, panel, result, horizon, as_ofs, model_type, params, discontinued)
    return out  # type: ignore[return-value]


def _fill(out, todo, keys, series, panel, result, horizon, as_ofs, model_type, params, discontinued):
    records = result.records
    need_pattern = any(not getattr(r, "pattern", "") for r in records)
    demand = classify_demand(panel.values) if need_pattern else None
    need_flags = any(not hasattr(r, "flags") for r in records)
    value_flags = _fallback_flags(panel.values, demand.pattern if demand else None) if need_flags else None
    predicted = result.forecast
    lo95, hi95 = result.bounds[95]
    lo80, hi80 = result.bounds[80]
    for row, index in enumerate(todo):
        key, history, record = keys[index], series[row], records[row]
        model_used = str(record.model)
        chain = list(record.fallback_chain or [])
        selected = model_type or (chain[0] if chain else model_used)
        rows = _candidate_rows(record)
        pattern = getattr(record, "pattern", "") or str(demand.pattern[row])
        adi = getattr(record, "adi", None) if hasattr(record, "adi") else (demand.adi[row] if demand else None)
        cv2 = getattr(record, "cv2", None) if hasattr(record, "cv2") else (demand.cv2[row] if demand else None)
        engine_flags = list(record.flags) if hasattr(record, "flags") else value_flags[row]
        warnings = list(record.warnings or [])
        if key.product_id in discontinued:
            warnings.append("discontinued_product")
        reason = record.reason
        if model_type and params:
            reason += f" Parameters: {json.dumps(params, sort_keys=True, default=str)}"
        backtest = _backtest_of(record, model_used)
        mape = getattr(record, "mape", None) if hasattr(record, "mape") else backtest.get("mape")
        rmse = getattr(record, "rmse", None) if hasattr(record, "rmse") else backtest.get("rmse")
        confidence = _result_confidence(record, model_used)
        used_params = _used_params(model_used, model_type, params, record)
        fallback_used = model_used != selected
        flags = _flags(history, record, engine_flags)
        periods = [add_months(history.end, i) for i in range(1, horizon + 1)]
        forecast = SeriesForecast(
            key=key, history=history, horizon=horizon, as_of=as_ofs[index], requested_model=model_type,
            selected_model=selected, model_used=model_used, model_params=used_params, periods=periods,
            predicted=[float(x) for x in predicted[row]], lower95=[float(x) for x in lo95[row]],
            upper95=[float(x) for x in hi95[row]], lower80=[float(x) for x in lo80[row]],
            upper80=[float(x) for x in hi80[row]], confidence=[confidence] * horizon,
            mape=_num(mape, _MAX_MAPE), rmse=_num(rmse, _MAX_RMSE),
            interval_method=_interval_method(record.interval_method),
            demand_pattern=pattern if pattern in DemandPattern.values else DemandPattern.SMOOTH,
            adi=_num(adi, _MAX_RATIO), cv2=_num(cv2, _MAX_RATIO),
        )  # fmt: skip
        forecast.diagnostics = _plain_json(
            {
                "selected_model": selected,
                "model_used": model_used,
                "selection_reason": reason,
                "advisor_confidence": round(_advisor_confidence(record, rows, bool(model_type)), 4),
                "advisor_enabled": False,
                "fallback_used": fallback_used,
                "fallback_chain": chain,
                "selected_model_params": used_params,
                "warnings": warnings,
                "history_months": len(history),
                "demand_pattern": forecast.demand_pattern,
                "candidate_metrics": None,  # set below: the rows are JSON-safe already
                "data_quality_flags": flags,
                "run_audit_id": None,
            }
        )
        forecast.diagnostics["candidate_metrics"] = rows
        out[index] = forecast


# ---------------------------------------------------------------- write


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(_CENT, rounding=ROUND_HALF_UP)


def _band(pred: float, lo95: float, hi95: float, lo80: float, hi80: float) -> tuple[Decimal, ...]:
    """Rounded quantities that satisfy the table's constraints: 0 ≤ lower95 ≤ lower80 ≤ pred ≤ upper80 ≤ upper95."""

    def clean(x, default):
        return min(_MAX_QTY, max(0.0, x)) if math.isfinite(x) else default

    p = _dec(clean(pred, 0.0))
    l95 = min(_dec(clean(lo95, 0.0)), p)
    u95 = max(_dec(clean(hi95, float(p))), p)
    l80 = min(max(_dec(clean(lo80, float(l95))), l95), p)
    u80 = max(min(_dec(clean(hi80, float(u95))), u95), p)
    return p, l95, u95, l80, u80


def _features(run_id: int, diagnostics: dict) -> dict:
    """FC-02 `features_used`."""
    return {
        "run_audit_id": run_id,
        "selection_reason": diagnostics["selection_reason"],
        "advisor_confidence": diagnostics["advisor_confidence"],
        "advisor_enabled": False,
        "fallback_used": diagnostics["fallback_used"],
        "model_params": diagnostics["selected_model_params"],
        "warnings": diagnostics["warnings"],
    }


def _run_summary(run: ForecastRun) -> dict:
    return {
        "product_id": run.product_id, "region": run.region, "channel": run.channel,
        "requested_model": run.requested_model, "selected_model": run.selected_model, "model_used": run.model_used,
        "horizon": run.horizon, "as_of_period": run.as_of_period.isoformat(),
        "history_months": run.history_months, "records_created": run.records_created, "source": run.source,
        "job_id": run.job.job_id if run.job_id and run.job else None, "fallback_used": run.fallback_used,
    }  # fmt: skip


def forecast_write(computed: list[SeriesForecast], *, actor, job=None, source: str = "interactive",
                   request_id: str = "") -> list[ForecastRun]:  # fmt: skip
    """Store every computed series without error: runs, result rows, one audit event per run.

    Set-based (bulk inserts); must run inside the caller's transaction, which the audit rows join.
    Fills `diagnostics["run_audit_id"]` of each stored forecast and returns the runs in order.
    """
    todo = [c for c in computed if c.ok]
    if not todo:
        return []
    request_id = (request_id or context.request_id() or "")[:128]
    if request_id == "-":
        request_id = ""
    user = actor if getattr(actor, "is_authenticated", False) else None
    runs = [
        ForecastRun(
            product_id=c.key.product_id,
            region=c.key.region,
            channel=c.key.channel,
            user=user,
            job=job,
            requested_model=c.requested_model,
            selected_model=c.selected_model,
            model_used=c.model_used,
            horizon=c.horizon,
            model_params=c.model_params,
            advisor_enabled=False,
            fallback_used=c.diagnostics["fallback_used"],
            fallback_chain=c.diagnostics["fallback_chain"],
            advisor_confidence=Decimal(str(c.diagnostics["advisor_confidence"])).quantize(Decimal("0.0001")),
            selection_reason=c.diagnostics["selection_reason"],
            history_months=len(c.history),
            history_start=c.history.start,
            history_end=c.history.end,
            as_of_period=c.periods[0],
            demand_pattern=c.demand_pattern,
            adi=None if c.adi is None else Decimal(str(c.adi)).quantize(Decimal("0.0001")),
            cv2=None if c.cv2 is None else Decimal(str(c.cv2)).quantize(Decimal("0.0001")),
            records_created=len(c.periods),
            warnings=c.diagnostics["warnings"],
            candidate_metrics=c.diagnostics["candidate_metrics"],
            data_quality_flags=c.diagnostics["data_quality_flags"],
            engine_version=ENGINE_VERSION,
            source=source,
            request_id=request_id,
        )
        for c in todo
    ]
    runs = ForecastRun.objects.bulk_create(runs, batch_size=500)
    if any(run.pk is None for run in runs):  # backends that do not return ids from bulk inserts
        raise RuntimeError("bulk_create did not return primary keys")
    now = timezone.now()
    rows = []
    for c, run in zip(todo, runs, strict=True):
        c.diagnostics["run_audit_id"] = run.pk
        features = _features(run.pk, c.diagnostics)
        mape = None if c.mape is None else Decimal(str(c.mape)).quantize(Decimal("0.0001"))
        rmse = None if c.rmse is None else Decimal(str(c.rmse)).quantize(Decimal("0.0001"))
        confidence = _dec(c.confidence[0] if c.confidence else 0.0)
        for i, period in enumerate(c.periods):
            pred, l95, u95, l80, u80 = _band(c.predicted[i], c.lower95[i], c.upper95[i], c.lower80[i], c.upper80[i])
            rows.append(Forecast(
                run_id=run.pk, product_id=run.product_id, region=run.region, channel=run.channel,
                model_type=run.model_used, period=period, lag=i + 1, predicted_qty=pred, lower_bound=l95,
                upper_bound=u95, lower_80=l80, upper_80=u80, interval_level=Decimal("95.00"),
                interval_method=c.interval_method, confidence=confidence, mape=mape, rmse=rmse,
                features_used=features, model_version=ENGINE_VERSION, training_date=now,
            ))  # fmt: skip
    Forecast.objects.bulk_create(rows, batch_size=2000)
    audit.record_many([
        {"actor": actor, "event_type": RUN_CREATED, "target": run, "after": _run_summary(run),
         "message": f"Forecast {run.model_used} for {run.horizon} months as of {run.as_of_period:%Y-%m}"}
        for run in runs
    ])  # fmt: skip
    bus.publish_on_commit(RUN_CREATED, run_ids=[run.pk for run in runs])
    return runs


# ---------------------------------------------------------------- interactive


def _series_key(product, region, channel) -> SeriesKey:
    return SeriesKey(product.pk, (region or "").strip() or TOTAL_REGION, (channel or "").strip() or TOTAL_CHANNEL)


def _check_scope(actor, product, perm: str) -> None:
    require_perm(actor, perm)
    require_perm(actor, perm, ForecastRun(product=product))


def _one(actor, product, region, channel, horizon, model_type, model_params) -> SeriesForecast:
    _check_scope(actor, product, perms.GENERATE)
    horizon = validate_horizon(horizon)
    model, params = validate_model_request(model_type, model_params)
    computed = forecast_compute([_series_key(product, region, channel)], horizon=horizon, model_type=model,
                                model_params=params)[0]  # fmt: skip
    if not computed.ok:
        raise InsufficientData(computed.error, context={"history_months": len(computed.history)})
    return computed


def forecast_generate(*, actor, product, region=None, channel=None, horizon=None, model_type=None,
                      model_params=None, source: str = "interactive") -> ForecastRun:  # fmt: skip
    """API-FC-02: forecast one series and store the run with its result rows.

    Needs GENERATE in the product's scope. 400 for a bad horizon, model or parameters (FC-21); 422
    INSUFFICIENT_DATA with fewer than 3 history months (FC-12). Emits forecasting.run.created.
    """
    with transaction.atomic():
        computed = _one(actor, product, region, channel, horizon, model_type, model_params)
        return forecast_write([computed], actor=actor, source=source)[0]


def forecast_recommend(*, actor, product, region=None, channel=None, model_type=None, model_params=None,
                       horizon=None) -> dict:  # fmt: skip
    """API-FC-03 / FC-26: the selection diagnostics of a generation, without writing anything."""
    computed = _one(actor, product, region, channel, horizon, model_type, model_params)
    diagnostics = dict(computed.diagnostics)  # run_audit_id stays null: nothing was stored
    return {"product_id": product.pk, "region": computed.key.region, "channel": computed.key.channel,
            "diagnostics": diagnostics}  # fmt: skip
