"""Model parameters (FC-20 table, FC-21 validation) and the catalogue listing of API-FC-01.

Every built-in model declares its parameters here, exactly as the FC-20 table states them:
name, type (`int`, `float`, `bool`, `enum`), default, allowed range or choices, and aliases.
`validate_params` turns a user's parameter dict into the dict the model is called with (defaults
filled in, aliases resolved, values coerced to their type) or raises `ParamError` with details the
API layer returns as a 400. A model registered in the catalogue without a declaration here
(FC-23) gets its parameters from its `ModelSpec.params` defaults, types inferred, no range.
"""

import math
from dataclasses import dataclass, field

from .base import CATALOGUE
from .pipeline import ENSEMBLE, load_catalogue

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # int | float | bool | enum
    default: object = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "choices": list(self.choices) if self.choices is not None else None,
            "aliases": list(self.aliases),
        }


def _unit(name: str, default: float | None, low: float, high: float, aliases: tuple[str, ...] = ()) -> Param:
    return Param(name, "float", default, low, high, aliases=aliases)


_SMOOTHING = (0.01, 0.99)
_INTERMITTENT_ALPHA = (0.01, 0.5)

# FC-20, in the table's order.
PARAMETERS: dict[str, tuple[Param, ...]] = {
    "moving_average": (Param("window", "int", 6, 2, 12), _unit("trend_weight", 0.5, 0, 1)),
    "ewma": (_unit("alpha", 0.35, 0.05, 0.95), _unit("trend_weight", 0.4, 0, 1)),
    "exp_smoothing": (
        Param("damped_trend", "bool", True),
        Param("seasonal", "enum", "auto", choices=("auto", "none", "additive", "multiplicative")),
        _unit("smoothing_level", None, *_SMOOTHING, aliases=("alpha",)),
        _unit("smoothing_trend", None, *_SMOOTHING, aliases=("beta",)),
        _unit("smoothing_seasonal", None, *_SMOOTHING, aliases=("gamma",)),
    ),
    "seasonal_naive": (Param("season_length", "int", 12, 2, 24),),
    "arima": (Param("p", "int", 1, 0, 3), Param("d", "int", 1, 0, 2), Param("q", "int", 1, 0, 3)),
    "prophet": (
        Param("seasonality_mode", "enum", "multiplicative", choices=("multiplicative", "additive")),
        _unit("changepoint_prior_scale", 0.05, 0.001, 0.5),
    ),
    "lstm": (
        Param("lookback_window", "int", 12, 3, 24),
        Param("hidden_size", "int", 32, 8, 256),
        Param("num_layers", "int", 1, 1, 4),
        _unit("dropout", 0.1, 0, 0.6),
        Param("epochs", "int", 120, 20, 400),
        _unit("learning_rate", 0.01, 0.0001, 0.1),
    ),
    "croston": (_unit("alpha", 0.1, *_INTERMITTENT_ALPHA),),
    "sba": (_unit("alpha", 0.1, *_INTERMITTENT_ALPHA),),
    "tsb": (_unit("alpha_demand", 0.1, *_INTERMITTENT_ALPHA), _unit("alpha_probability", 0.1, *_INTERMITTENT_ALPHA)),
    # The implementation deseasonalises multiplicatively only, so `additive` is not offered.
    "theta": (_unit("theta", 2.0, 1, 3), Param("seasonal", "enum", "auto", choices=("auto", "none", "multiplicative"))),
    "gradient_boosting": (
        Param("max_iter", "int", 200, 50, 1000),
        _unit("learning_rate", 0.05, 0.01, 0.3),
        Param("max_depth", "int", 3, 2, 8),
        Param("min_samples_leaf", "int", 5, 2, 20),
        Param("random_state", "int", 42, 42, 42),  # fixed by FC-20: accepted only as 42
    ),
    ENSEMBLE: (Param("members", "int", 3, 2, 5),),
}

ENSEMBLE_ENTRY = {
    "id": ENSEMBLE,
    "name": "Ensemble (median)",
    "family": "combination",
    "min_data_months": 6,
    "available": True,
    "fallback": None,
}


class ParamError(ValueError):
    """A parameter set the catalogue rejects (FC-21); `details` is the API error's details body."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.message = message
        self.details = details


def _inferred(defaults: dict) -> tuple[Param, ...]:
    out = []
    for name, value in defaults.items():
        if isinstance(value, bool):
            out.append(Param(name, "bool", value))
        elif isinstance(value, int):
            out.append(Param(name, "int", value))
        elif isinstance(value, float) or value is None:
            out.append(Param(name, "float", value))
        else:
            out.append(Param(name, "enum", value, choices=(str(value),)))
    return tuple(out)


def model_parameters(model_id: str) -> tuple[Param, ...]:
    if model_id in PARAMETERS:
        return PARAMETERS[model_id]
    load_catalogue()
    spec = CATALOGUE.get(model_id)
    if spec is None:
        raise ParamError(
            f"Unknown model {model_id!r}. Known models: {', '.join(known_models())}.",
            {"model_type": model_id, "known_models": known_models()},
        )
    return _inferred(spec.params)


def known_models() -> list[str]:
    load_catalogue()
    ordered = [model_id for model_id in PARAMETERS if model_id in CATALOGUE or model_id == ENSEMBLE]
    return ordered + [model_id for model_id in CATALOGUE if model_id not in PARAMETERS]


def catalogue_listing() -> list[dict]:
    """API-FC-01 rows: `{id, name, family, min_data_months, available, parameters, fallback}`."""
    rows = []
    for model_id in known_models():
        if model_id == ENSEMBLE:
            row = dict(ENSEMBLE_ENTRY)
        else:
            spec = CATALOGUE[model_id]
            row = {
                "id": spec.id,
                "name": spec.name,
                "family": spec.family,
                "min_data_months": spec.min_months,
                "available": spec.available,
                "fallback": spec.fallback,
            }
        row["parameters"] = [p.as_dict() for p in model_parameters(model_id)]
        rows.append(row)
    return rows


def _coerce(param: Param, value):
    """The value in the parameter's type, or raise ValueError with the reason."""
    if value is None:
        if param.default is None:
            return None
        raise ValueError("must not be null")
    if param.type == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("must be a boolean (true/false/1/0/yes/no/on/off)")
    if param.type == "enum":
        word = str(value).strip().lower() if isinstance(value, str) else value
        if word not in (param.choices or ()):
            raise ValueError(f"must be one of {', '.join(param.choices or ())}")
        return word
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number") from None
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    if param.type == "int":
        if number != int(number):
            raise ValueError("must be an integer")
        number = int(number)
    if (param.min is not None and number < param.min) or (param.max is not None and number > param.max):
        raise ValueError(f"must be between {_plain(param.min)} and {_plain(param.max)}")
    return number


def _plain(x) -> str:
    return str(int(x)) if x is not None and float(x).is_integer() else str(x)


def validate_params(model_id: str, params: dict | None) -> dict:
    """FC-21: the parameters a model runs with, defaults filled in and aliases resolved.

    Raises ParamError for an unknown model, unknown keys (the message lists the allowed keys and
    aliases), a key given twice (name and alias), values of the wrong type and numbers out of range.
    """
    declared = model_parameters(model_id)
    params = params or {}
    if not isinstance(params, dict):
        raise ParamError("model_params must be an object.", {"model_type": model_id})
    by_name = {p.name: p for p in declared}
    lookup = {**{alias: p for p in declared for alias in p.aliases}, **by_name}
    allowed = [p.name for p in declared]
    aliases = {alias: p.name for p in declared for alias in p.aliases}
    unknown = sorted(str(key) for key in params if key not in lookup)
    if unknown:
        listed = ", ".join(allowed) or "none"
        alias_text = "; aliases: " + ", ".join(f"{a} -> {n}" for a, n in aliases.items()) if aliases else ""
        raise ParamError(
            f"Unknown parameter(s) for {model_id}: {', '.join(unknown)}. Allowed: {listed}{alias_text}.",
            {"model_type": model_id, "unknown": unknown, "allowed": allowed, "aliases": aliases},
        )
    errors: dict[str, str] = {}
    given: dict[str, str] = {}
    out = {p.name: p.default for p in declared}
    for key, value in params.items():
        param = lookup[key]
        if param.name in given:
            errors[param.name] = f"given twice (as {given[param.name]} and {key})"
            continue
        given[param.name] = key
        try:
            out[param.name] = _coerce(param, value)
        except ValueError as exc:
            errors[param.name] = f"{key} {exc}"
    if errors:
        text = "; ".join(errors.values())
        raise ParamError(f"Invalid parameter(s) for {model_id}: {text}.", {"model_type": model_id, "errors": errors})
    return out
