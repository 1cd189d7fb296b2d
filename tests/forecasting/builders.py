"""Test builders for forecasting rows, for tests whose subject is not generation itself.

`make_run` writes a run and its frozen result rows directly, as the generation service would, so
consensus, promotion and accuracy tests can state exactly which numbers were forecast and when.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from forecasting.choices import TOTAL_CHANNEL, TOTAL_REGION
from forecasting.models import Forecast, ForecastRun
from forecasting.series import add_months


def make_run(product, *, as_of: datetime.date, predictions: list[float], model: str = "exp_smoothing",
             region: str = TOTAL_REGION, channel: str = TOTAL_CHANNEL, band: float = 0.2, user=None,
             history_months: int = 24, job=None, source: str = "interactive") -> ForecastRun:  # fmt: skip
    """A run as of `as_of` (its first forecast period) with one result row per prediction."""
    run = ForecastRun.objects.create(
        product=product, region=region, channel=channel, user=user, job=job, selected_model=model,
        model_used=model, horizon=len(predictions), history_months=history_months,
        history_start=add_months(as_of, -history_months), history_end=add_months(as_of, -1), as_of_period=as_of,
        demand_pattern="smooth", records_created=len(predictions), source=source, advisor_confidence=Decimal("0.5"),
    )  # fmt: skip
    now = timezone.now()
    Forecast.objects.bulk_create(
        Forecast(
            run=run,
            product=product,
            region=region,
            channel=channel,
            model_type=model,
            period=add_months(as_of, i),
            lag=i + 1,
            predicted_qty=Decimal(str(round(q, 2))),
            lower_bound=Decimal(str(round(max(0.0, q * (1 - band)), 2))),
            upper_bound=Decimal(str(round(q * (1 + band), 2))),
            confidence=Decimal("80"),
            training_date=now,
            features_used={"run_audit_id": run.pk},
        )
        for i, q in enumerate(predictions)
    )
    return run


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))
