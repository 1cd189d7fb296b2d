"""The shapes every part of the engine shares: a panel of series and the model interface.

A `Panel` holds n monthly series on one calendar as an (n, T) float array. A series that starts
later than the calendar is left-padded with NaN; inside a series there are no NaN (missing months
are filled before the panel is built, FC-11). Models take the values and return point forecasts
for every series at once.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Panel:
    ids: tuple[str, ...]  # one id per row
    values: np.ndarray  # (n, T) float64, NaN before each series starts
    start: str  # the first calendar month, "YYYY-MM"

    def __post_init__(self):
        if self.values.ndim != 2 or self.values.shape[0] != len(self.ids):
            raise ValueError("values must be (len(ids), T)")

    @property
    def lengths(self) -> np.ndarray:
        """History points per series (n_i): the non-NaN tail of each row."""
        return np.sum(~np.isnan(self.values), axis=1)


@dataclass(frozen=True)
class ModelSpec:
    """One entry of the model catalogue (FC-20)."""

    id: str
    name: str
    min_months: int
    forecast: Callable[..., np.ndarray]  # forecast(values (n, T), h, m, **params) -> (n, h), NaN where it cannot
    params: dict = field(default_factory=dict)  # defaults
    fallback: str | None = None
    nominal_confidence: int = 80
    available: bool = True
    family: str = "statistical"  # statistical | intermittent | machine_learning | combination
    # Optional split of `forecast` for the backtest's refit schedule (FC-81): `fit(values, h, m, **params)
    # -> (forecasts (n, h), state)` estimates the parameters / trains the model on the panel given, and
    # `predict(state, values, h, m, **params) -> (n, h)` reuses that state on a longer history of the
    # same rows. The backtest refits at every `refit_every`-th origin and predicts in between, so a
    # state never holds data after the origin it is used at.
    fit: Callable[..., tuple[np.ndarray, object]] | None = None
    predict: Callable[..., np.ndarray] | None = None
    refit_every: int = 1


CATALOGUE: dict[str, ModelSpec] = {}


class Stopped(Exception):
    """A caller's `should_stop` answered True; the engine abandons the run between two model fits."""


def register(spec: ModelSpec) -> ModelSpec:
    CATALOGUE[spec.id] = spec
    return spec
