"""Console page of the demand history (UI-04 "Historical view"): one product's monthly actual,
forecast and consensus as a server-rendered chart with the same data as a table, and the CSV
export of API-DEM-17 with the same parameters."""

import datetime
from urllib.parse import urlencode

from django.urls import path
from django.views.generic import TemplateView

from genxsop.console import ConsolePermissionMixin
from planning import charts, selectors
from planning import permissions as perms
from planning.models import TOTAL_CHANNEL, TOTAL_REGION

RANGES = (12, 24, 36)
DEFAULT_RANGE = 24
EXPORT_URL = "/api/v1/demand/history/export"
SERIES = (("actual", "Actual", "actual_qty"), ("forecast", "Forecast", "forecast_qty"),
          ("consensus", "Consensus", "consensus_qty"))  # fmt: skip


def series_value(region: str, channel: str) -> str:
    return "" if (region, channel) == (TOTAL_REGION, TOTAL_CHANNEL) else f"{region}|{channel}"


def months_back(today: datetime.date, months: int) -> datetime.date:
    index = today.year * 12 + today.month - 1 - (months - 1)
    return datetime.date(index // 12, index % 12 + 1, 1)


def history_chart(points: list[dict], *, start: datetime.date, current: datetime.date) -> charts.Chart | None:
    """The UI-04 lines over every month of the window (and any later planned month), so gaps in the
    data show as gaps in the lines and the current-month marker always has its place."""
    if not points:
        return None
    last = max(points[-1]["period"], current)
    series = [{"key": key, "label": label, "values": {p["period"]: p[field] for p in points}}
              for key, label, field in SERIES]  # fmt: skip
    return charts.line_chart(charts.month_range(start, last), series, current=current)


class DemandHistoryView(ConsolePermissionMixin, TemplateView):
    permission_required = perms.VIEW_DEMAND_PLAN
    template_name = "planning/demand_history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, query = self.request.user, self.request.GET
        products = selectors.products_active_first(user=user).only("pk", "sku", "name", "status")
        wanted = query.get("product", "").strip()
        # An id outside the caller's scope is the 404 page, like an unknown one.
        product = selectors.product_get(user=user, pk=wanted) if wanted else products.first()
        try:
            months = int(query.get("months", DEFAULT_RANGE))
        except ValueError:
            months = DEFAULT_RANGE
        months = months if months in RANGES else DEFAULT_RANGE
        only_actuals = query.get("only_actuals", "") in ("1", "true", "on")
        context.update(products=products, product=product, ranges=RANGES, months=months, only_actuals=only_actuals,
                       legend=[(key, label) for key, label, _ in SERIES])  # fmt: skip
        if product is None:
            return context
        keys = selectors.demand_series_keys(user=user, product=product)
        choices = {series_value(r, c): (r, c) for r, c in keys if (r, c) != (TOTAL_REGION, TOTAL_CHANNEL)}
        series = query.get("series", "")
        region, channel = choices.get(series, (TOTAL_REGION, TOTAL_CHANNEL))
        series = series_value(region, channel)
        params = {"product_id": str(product.pk), "months": str(months)}
        if series:
            params.update(region=region, channel=channel)
        if only_actuals:
            params["only_actuals"] = "true"
        points = selectors.demand_history(user=user, params=params)
        current = selectors.planning_today().replace(day=1)
        context.update(
            series=series, series_choices=[(value, f"{r} / {c}") for value, (r, c) in choices.items()],
            series_label="Product total" if not series else f"{region} / {channel}", points=points,
            chart=history_chart(points, start=months_back(current, months), current=current),
            current_period=current, export_url=f"{EXPORT_URL}?{urlencode(params)}",
        )  # fmt: skip
        return context


urlpatterns = [
    path("demand/history/", DemandHistoryView.as_view(), name="demand_history"),
]
