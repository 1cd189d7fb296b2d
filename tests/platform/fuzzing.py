"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Shared by the bounded CI run (tests/platform/test_api_fuzz.py) and the large one (bench/api_fuzz.py).
Every operation of the schema gets valid cases (bodies and parameters the schema allows) and
invalid ones (what it forbids), sent in-process through the WSGI application with an admin's
integration token. Each response must pass four checks: no 5xx, a documented status code, a
documented content type and a body matching the documented schema.

Path ids are half random and half the ids of seeded rows, so detail and action endpoints reach
real objects and not only their 404.
"""

import json
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode

API = "/api/v1"
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]  # fmt: skip


def load_schema():
    """The schema drf-spectacular serves at /api/v1/schema, loaded without a request (no DB needed)."""
    raw = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))


def seed() -> tuple[object, str, dict]:
    """An admin with an all-scope integration token and a small world of rows in every area.

    Returns (admin, token, ids): ids maps a schema path template to the path parameters of a real row.
    """
    from governance.choices import Role
    from governance.services import api_token_create, user_create
    from governance.tokens import SCOPES
    from planning import services as catalog
    from tests.platform.matrix import AREAS

    admin = user_create(actor=None, email="fuzz-admin@example.test", full_name="Fuzz Admin", role=Role.ADMIN)
    _, token = api_token_create(actor=admin, user=admin, name="fuzz", scopes=list(SCOPES))
    parent = catalog.category_create(actor=admin, name="Fuzz")
    category = catalog.category_create(actor=admin, name="Fuzz leaf", parent=parent)
    product = catalog.product_create(actor=admin, data={"sku": "FZ-1", "name": "Fuzz product", "category": category})
    location = catalog.location_create(actor=admin, data={"code": "FZ", "name": "Fuzz plant"})
    plan = catalog.demand_plan_create(actor=admin, product=product, data={"period": date(2026, 3, 1),
                                                                          "forecast_qty": 10})  # fmt: skip
    prefixes = {"/auth/users/": admin.pk, "/products/categories/": category.pk, "/products/": product.pk,
                "/locations/": location.pk, "/demand/plans/": plan.pk}  # fmt: skip
    per_operation = {}
    for area in AREAS:
        area_ids, area_op_ids = area.setup(admin=admin, product=product, location=location, category=category)
        prefixes.update(area_ids)
        per_operation.update(area_op_ids)
    return admin, token, _path_ids(prefixes, per_operation)


def _path_ids(prefixes: dict, per_operation: dict) -> dict[str, dict]:
    """`{"/api/v1/products/{id}/": {"id": 3}, ...}` from the role matrix's id tables."""
    named = {key.strip("{}"): value for key, value in prefixes.items() if key.startswith("{")}
    out: dict[str, dict] = {}
    for (_method, path), value in per_operation.items():
        out.setdefault(f"{API}{path}/", {})["id"] = value
    for path in load_schema().raw_schema["paths"]:
        short = path.removeprefix(API).rstrip("/")
        params = dict(out.get(path, {}))
        if "{id}" in short and "id" not in params:
            prefix = short.split("{id}")[0]
            if prefix in prefixes:
                params["id"] = prefixes[prefix]
        for name, value in named.items():
            if "{" + name + "}" in short:
                params[name] = value
        if params:
            out[path] = params
    return out


@dataclass
class Report:
    cases: int = 0
    operations: int = 0
    statuses: Counter = field(default_factory=Counter)
    check_failures: Counter = field(default_factory=Counter)  # check name -> failing cases
    failures: dict = field(default_factory=dict)  # (operation, check title) -> first message
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def schema_violations(self) -> int:
        return sum(n for name, n in self.check_failures.items() if name != "not_a_server_error")

    def summary(self) -> str:
        lines = [f"{len(self.failures)} distinct failures (operation, check):"]
        for (label, title), message in sorted(self.failures.items()):
            lines.append(f"- {label}: {title}\n    {message[:600]}")
        return "\n".join(lines)


def run(*, max_examples: int, seed_value: int, ids: dict, token: str, schema=None, progress=None) -> Report:
    """Fuzz every operation with up to `max_examples` valid and `max_examples` invalid cases."""
    schema = schema or load_schema()
    app = get_wsgi_application()
    headers = {"Authorization": f"Bearer {token}"}
    report = Report()
    started = time.perf_counter()
    with _connections_kept():
        _run_operations(schema, app, headers, report, max_examples, seed_value, ids, progress)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _connections_kept():
    """Keep the database connection across requests, as Django's test client does.

    The request signals close connections that look unusable; inside a test's transaction the
    connection is not in autocommit, so PostgreSQL would lose the test transaction on the first call.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _run_operations(schema, app, headers, report, max_examples, seed_value, ids, progress) -> None:
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        real = ids.get(operation.path)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            if real:
                # Half the cases name seeded rows, so detail and action handlers run past their 404.
                strategy = st.one_of(strategy, operation.as_strategy(generation_mode=mode, path_parameters=real))
            _fuzz_operation(operation, mode, strategy, app, headers, report, max_examples, seed_value)
        if progress:
            progress(operation, report)


def _fuzz_operation(operation, mode, strategy, app, headers, report: Report, max_examples: int, seed_value: int):
    @settings(
        max_examples=max_examples,
        derandomize=False,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def probe(case):
        # Inside a test's transaction a database error would abort every later case too; a savepoint
        # per case keeps them apart, as autocommit keeps separate requests apart in production.
        savepoint = transaction.savepoint() if connection.in_atomic_block else None
        response = case.call(app=app, headers=headers)
        if savepoint is not None:
            if response.status_code >= 500:
                transaction.savepoint_rollback(savepoint)
            else:
                transaction.savepoint_commit(savepoint)
        report.cases += 1
        report.statuses[response.status_code] += 1
        for check in CHECKS:
            try:
                case.validate_response(response, checks=[check], headers=headers)
            except FailureGroup as group:
                report.check_failures[check.__name__] += 1
                for failure in group.exceptions:
                    report.failures.setdefault(
                        (operation.label, failure.title),
                        f"{case.method} {case.formatted_path} -> {response.status_code}: {failure.message} "
                        f"body={response.content[:300].decode(errors='replace')!r}",
                    )

    try:
        hypothesis_seed(seed_value)(probe)()
    except Unsatisfiable:
        # An operation with no parameters and no body has nothing to make invalid.
        if mode is GenerationMode.POSITIVE:
            raise
