"""Exports carry business data, so no cache may keep them: every file download of the API and the
console answers `Cache-Control: no-store` (API-14), set by the download itself, so it holds also
where the security headers middleware is switched off."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from governance.choices import Role
from governance.services import cycles
from tests.factories import ProductFactory
from tests.governance.test_executive_scorecard import PERIOD
from tests.governance.test_publishing_world import make_world, publish
from tests.planning.test_scenarios_world import audio_scope, build_world

pytestmark = pytest.mark.django_db

API = "/api/v1"
FILE_ROUTE_WORDS = ("export", "template", "meeting-pack", "evidence-pack", "download")
# allauth's own page (MFA recovery codes), not an export: the signed-in no-store rule of the security
# headers middleware covers it.
NOT_EXPORTS = {"mfa_download_recovery_codes"}

# (URL name, path, query); `{...}` is filled from the rows made by the `rows` fixture.
DOWNLOADS = [
    ("io-products-export", "/products/export", "format=csv"),
    ("io-products-export", "/products/export", "format=xlsx"),
    ("io-locations-export", "/locations/export", ""),
    ("io-demand_plans-export", "/demand/plans/export", "format=xlsx"),
    ("io-supply_plans-export", "/supply/plans/export", ""),
    ("io-gap_analysis-export", "/supply/gap-analysis/export", ""),
    ("io-inventory-export", "/inventory/export", ""),
    ("io-inventory_snapshots-export", "/inventory/snapshots/export", ""),
    ("io-products-template", "/products/import-template", ""),
    ("io-demand_plans-template", "/demand/plans/import-template", "format=xlsx"),
    ("io-demand_actuals-template", "/demand/actuals/import-template", ""),
    ("io-supply_plans-template", "/supply/plans/import-template", ""),
    ("io-inventory-template", "/inventory/import-template", ""),
    ("kpi-export", "/kpi/export", ""),
    ("kpi-export", "/kpi/export", "format=xlsx"),
    ("demand-history-export", "/demand/history/export", "product_id={product}"),
    ("scenario-compare-export", "/scenarios/compare/export", "ids={scenarios}"),
    ("forecasting-consensus-export", "/forecasting/consensus/export", ""),
    ("forecast-result-export", "/forecasting/results/export", "format=xlsx"),
    ("audit-export", "/audit/export", ""),
    ("audit-export", "/audit/export", "format=jsonl"),
    ("evidence-pack", "/governance/evidence-pack", "from=2020-03-01&to=2020-03-31"),
    ("publication-export", "/governance/publications/{publication}/export", ""),
    ("publication-export", "/governance/publications/{publication}/export", "format=xlsx"),
    ("cycle-meeting-pack", "/sop-cycles/{cycle}/meeting-pack", ""),
]
CONSOLE_DOWNLOADS = [
    ("publication_download", "/publish/{publication}/download/", "format=csv"),
    ("publication_download", "/publish/{publication}/download/", "format=xlsx"),
]


@pytest.fixture(autouse=True)
def _without_security_headers_middleware(settings):
    # That middleware adds no-store to any signed-in answer without a Cache-Control of its own;
    # without it, the header can only come from the download itself.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "genxsop.middleware.SecurityHeadersMiddleware"]


@pytest.fixture
def rows(users):
    from planning.services import scenarios

    publication = publish(make_world(users))  # first: the scenario world's plans would fail its gates
    world = build_world(users)
    demand = users[Role.DEMAND_PLANNER]
    runs = []
    for name in ("Up", "Down"):
        scenario = scenarios.scenario_create(
            actor=demand, data={"name": name, "scope": audio_scope(world), "parameters": {"period": "2026-03"}}
        )
        runs.append(scenarios.scenario_run(actor=demand, scenario=scenario))
    cycle = cycles.cycle_create(actor=users[Role.SOP_COORDINATOR], data={"period": PERIOD})
    return {
        "product": ProductFactory().pk,
        "scenarios": ",".join(str(s.pk) for s in runs),
        "publication": publication.pk,
        "cycle": cycle.pk,
    }


def _url(path: str, query: str, rows: dict) -> str:
    return f"{path.format(**rows)}?{query.format(**rows)}" if query else path.format(**rows)


def _assert_uncacheable_download(response) -> None:
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Cache-Control"] == "no-store"
    # Read to the end, as a browser would; the test client then closes it without closing the connection.
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body


def test_every_api_and_console_download_answers_no_store(users, admin_api, rows):
    for name, path, query in DOWNLOADS:
        response = admin_api.get(API + _url(path, query, rows))
        assert response["Cache-Control"] == "no-store", (name, query)
        _assert_uncacheable_download(response)
    console = Client()
    console.force_login(users[Role.SOP_COORDINATOR], backend="django.contrib.auth.backends.ModelBackend")
    for name, path, query in CONSOLE_DOWNLOADS:
        response = console.get(_url(path, query, rows))
        assert response["Cache-Control"] == "no-store", (name, query)
        _assert_uncacheable_download(response)


def test_an_export_refused_for_bad_input_is_still_a_json_error(admin_api):
    response = admin_api.get(f"{API}/products/export?format=pdf")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"INVALID_PARAMETER", "VALIDATION_ERROR"}


def _names(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _names(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, prefix + str(entry.pattern)


def test_every_file_route_is_covered_here():
    """A new export, template or pack route must be added to the tables above (and so be checked)."""
    file_routes = {
        name
        for name, pattern in _names(get_resolver())
        if any(word in pattern for word in FILE_ROUTE_WORDS) and "import/" not in pattern.replace("import-", "")
    }
    covered = {name for name, _, _ in (*DOWNLOADS, *CONSOLE_DOWNLOADS)}
    assert file_routes - covered - NOT_EXPORTS == set()
