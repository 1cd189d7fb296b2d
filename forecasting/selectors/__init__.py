"""Forecasting reads, scoped to the user (ScopedQuerySet.for_user)."""

from forecasting.selectors.jobs import *  # noqa: F403
from forecasting.selectors.runs import *  # noqa: F403
