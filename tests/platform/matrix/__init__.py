"""Rows of the role-by-endpoint matrix by area (test_role_matrix.py joins them).

Each area module exports `ENDPOINTS` (method, path, allowed roles, body) and
`setup(*, admin, product, location, category) -> (ids, op_ids)`: the object ids its paths need,
keyed by the path prefix before `{id}`, and per-operation overrides keyed by (method, path).
"""

from tests.platform.matrix import (
    audit,
    collaboration,
    cycles,
    dashboard,
    evidence,
    forecasting_accuracy,
    forecasting_consensus,
    forecasting_jobs,
    forecasting_runs,
    integrations,
    inventory,
    io,
    kpi,
    ops,
    optimization,
    production,
    publications,
    readiness,
    scenarios,
    scorecard,
    supply,
)

AREAS = [supply, inventory, integrations, io, forecasting_runs, forecasting_jobs, forecasting_consensus,
         forecasting_accuracy, audit, collaboration, evidence, cycles, readiness, publications, scenarios,
         optimization, production, kpi, dashboard, scorecard, ops]  # fmt: skip
