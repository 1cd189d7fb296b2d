"""Series keys and their monthly history read from demand plans (FC-10, FC-11).

Everything that needs a series' actuals (generation, backtests, anomalies, accuracy) reads them
here, set-based: one query for any number of series.
"""

import datetime
from dataclasses import dataclass, field

import numpy as np

from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION


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

    @property
    def start(self) -> datetime.date | None:
        return self.periods[0] if self.periods else None

    @property
    def end(self) -> datetime.date | None:
        return self.periods[-1] if self.periods else None
