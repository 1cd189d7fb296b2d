"""Forecasting services: the only write path of the forecasting app.

Callers import from `forecasting.services`; the modules below split the app by entity.
"""

from forecasting.services.anomalies import *  # noqa: F403
from forecasting.services.compare import *  # noqa: F403
from forecasting.services.consensus import *  # noqa: F403
from forecasting.services.generate import *  # noqa: F403
from forecasting.services.jobs import *  # noqa: F403
from forecasting.services.promotion import *  # noqa: F403
from forecasting.services.results import *  # noqa: F403
