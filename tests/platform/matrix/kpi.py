"""Role-matrix rows of the KPIs (API-KPI-01…14; see tests/platform/matrix/__init__.py).

Every role reads; EXEC records manual values, targets and definitions; EXEC_C refreshes. The value the
id routes use is computed from data, so edits and deletes answer 409 for every allowed caller and the
row stays for the next one.
"""

from tests.platform.matrix.roles import ALL, EXEC, EXEC_C

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/kpi/metrics", ALL, None),
    ("POST", "/kpi/metrics", EXEC, {}),  # no name: 400 for every allowed role
    ("GET", "/kpi/metrics/{metric_id}", ALL, None),
    ("PUT", "/kpi/metrics/{metric_id}", EXEC, {"value": 1}),  # computed row: 409
    ("PATCH", "/kpi/metrics/{metric_id}", EXEC, {"value": 1}),  # computed row: 409
    ("DELETE", "/kpi/metrics/{metric_id}", EXEC, None),  # computed row: 409
    ("GET", "/kpi/dashboard", ALL, None),
    ("GET", "/kpi/alerts", ALL, None),
    ("POST", "/kpi/targets", EXEC, {}),  # no name: 400
    ("GET", "/kpi/summary", ALL, None),
    ("GET", "/kpi/trends", ALL, None),  # no metric_name: 400
    ("GET", "/kpi/definitions", ALL, None),
    ("PUT", "/kpi/definitions/{code}", EXEC, {}),  # nothing to change: 200
    ("POST", "/kpi/refresh", EXEC_C, {}),  # the last three closed months, in the request
    ("GET", "/kpi/export", ALL, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    import datetime
    from decimal import Decimal

    from planning.choices import KpiCategory, KpiSource
    from planning.models import KpiMetric

    row = KpiMetric.objects.create(metric_name="fill_rate", metric_category=KpiCategory.SERVICE,
                                   period=datetime.date(2025, 1, 1), value=Decimal("97.5"), unit="%",
                                   source=KpiSource.COMPUTED)  # fmt: skip
    return {"{metric_id}": row.pk, "{code}": "forecast_accuracy"}, {}
