"""Security headers, CSP and the CSP report sink (OPS-08, OPS-09, API-OPS-06)."""

import json
import re

import pytest

from tests.platform.logcapture import captured_logs_fixture  # noqa: F401 (fixture)
from tests.platform.subproc import base_env, requests

pytestmark = pytest.mark.django_db

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(), microphone=(), camera=()",
    "X-XSS-Protection": "1; mode=block",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CONSOLE_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self' 'nonce-{nonce}'",
    "style-src": "'self' 'nonce-{nonce}'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "report-uri": "/csp-report/",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def console_nonce(header: str) -> str:
    """The nonce of an OPS-09 console policy; fails unless the policy is exactly that one."""
    directives = dict(part.split(" ", 1) for part in header.split("; "))
    match = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9+/=]{16,})'", directives.get("script-src", ""))
    assert match, header
    nonce = match.group(1)
    assert directives == {name: value.format(nonce=nonce) for name, value in CONSOLE_DIRECTIVES.items()}
    return nonce


PAGES = [
    pytest.param("/", id="console-redirect"),
    pytest.param("/accounts/login/", id="console-page"),
    pytest.param("/no-such-page/", id="page-404"),
    pytest.param("/api/v1/", id="api"),
    pytest.param("/api/v1/no-such-endpoint", id="api-404"),
    pytest.param("/health", id="health"),
    pytest.param("/ready", id="ready"),
    pytest.param("/admin/login/", id="admin"),
]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_common_headers(client, path):
    response = client.get(path)

    for name, value in COMMON_HEADERS.items():
        assert response[name] == value, name


class TestHsts:
    def test_only_on_secure_requests(self, client):
        assert "Strict-Transport-Security" not in client.get("/health")
        secure = client.get("/health", secure=True)
        assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

    def test_on_secure_api_responses_too(self, client):
        assert client.get("/api/v1/", secure=True)["Strict-Transport-Security"].startswith("max-age=31536000")

    def test_configured_seconds_and_preload_from_the_environment(self, tmp_path):
        run = requests(
            [{"path": "/health", "secure": True}, {"path": "/health"}],
            env=base_env(STRICT_TRANSPORT_SECURITY_SECONDS="600", HSTS_PRELOAD="true"),
            tmp_path=tmp_path,
        )

        assert run.returncode == 0, run.stderr
        secure, plain = run.answers
        assert secure.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains; preload"
        assert "Strict-Transport-Security" not in plain.headers

    @pytest.mark.parametrize(
        "env", [{"DJANGO_DEBUG": "true"}, {"STRICT_TRANSPORT_SECURITY_SECONDS": "0"}], ids=["debug", "zero-seconds"]
    )
    def test_never_in_debug_or_with_zero_seconds(self, tmp_path, env):
        run = requests([{"path": "/health", "secure": True}], env=base_env(**env), tmp_path=tmp_path)

        assert run.returncode == 0, run.stderr
        assert "Strict-Transport-Security" not in run.answers[0].headers


class TestContentSecurityPolicy:
    def test_console_pages_get_the_nonce_policy(self, client):
        response = client.get("/accounts/login/")

        console_nonce(response["Content-Security-Policy"])

    def test_every_inline_script_and_style_of_the_page_carries_the_header_nonce(self, client):
        response = client.get("/accounts/login/")

        nonce = console_nonce(response["Content-Security-Policy"])
        html = response.content.decode()
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            if "src=" in tag or 'type="application/json"' in tag:
                continue
            assert f'nonce="{nonce}"' in tag, tag
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
        assert "javascript:" not in html

    def test_a_fresh_nonce_per_response(self, client):
        nonces = {console_nonce(client.get("/accounts/login/")["Content-Security-Policy"]) for _ in range(3)}
        assert len(nonces) == 3

    @pytest.mark.parametrize("path", ["/", "/no-such-page/"])
    def test_console_redirects_and_error_pages_get_it_too(self, client, path):
        console_nonce(client.get(path)["Content-Security-Policy"])

    @pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/no-such-endpoint", "/api/v1/schema/"])
    def test_api_responses_get_the_deny_all_policy(self, client, path):
        assert client.get(path)["Content-Security-Policy"] == API_CSP

    def test_the_admin_is_exempt_from_csp_but_keeps_the_other_headers(self, client):
        response = client.get("/admin/login/")

        assert response.status_code == 200
        assert "Content-Security-Policy" not in response
        assert "Content-Security-Policy-Report-Only" not in response
        assert response["X-Frame-Options"] == "DENY"

    def test_report_only_mode_sends_the_same_policies_as_report_only(self, tmp_path):
        run = requests(
            [{"path": "/accounts/login/"}, {"path": "/api/v1/"}],
            env=base_env(CSP_REPORT_ONLY="true"),
            tmp_path=tmp_path,
        )

        assert run.returncode == 0, run.stderr
        page, api = run.answers
        assert "Content-Security-Policy" not in page.headers
        console_nonce(page.headers["Content-Security-Policy-Report-Only"])
        assert "Content-Security-Policy" not in api.headers
        assert api.headers["Content-Security-Policy-Report-Only"] == API_CSP


def test_security_headers_switched_off_from_the_environment(tmp_path):
    run = requests(
        [{"path": "/health", "secure": True}, {"path": "/accounts/login/"}, {"path": "/api/v1/"}],
        env=base_env(ENABLE_SECURITY_HEADERS="false"),
        tmp_path=tmp_path,
    )

    assert run.returncode == 0, run.stderr
    for answer in run.answers:
        for name in [*COMMON_HEADERS, "Content-Security-Policy", "Strict-Transport-Security"]:
            assert name not in answer.headers, name
        assert answer.headers["X-Request-ID"]  # request ids are a separate switch


class TestCspReport:
    LEGACY = {
        "csp-report": {
            "document-uri": "https://sop.example.com/demand/",
            "blocked-uri": "https://evil.example/x.js",
            "violated-directive": "script-src-elem",
            "effective-directive": "script-src-elem",
        }
    }

    def test_a_report_is_accepted_and_logged_as_a_warning(self, client, captured_logs):
        response = client.post("/csp-report/", data=json.dumps(self.LEGACY), content_type="application/csp-report")

        assert response.status_code == 204
        (record,) = captured_logs.messages("csp_violation")
        assert record["level"] == "WARNING"
        assert record["blocked_uri"] == "https://evil.example/x.js"
        assert record["directive"] == "script-src-elem"
        assert record["request_id"] == response["X-Request-ID"]

    def test_reporting_api_batches_are_understood(self, client, captured_logs):
        batch = [
            {
                "type": "csp-violation",
                "body": {"blockedURL": "inline", "effectiveDirective": "style-src-elem", "documentURL": "https://x/"},
            }
        ]
        response = client.post("/csp-report", data=json.dumps(batch), content_type="application/reports+json")

        assert response.status_code == 204
        (record,) = captured_logs.messages("csp_violation")
        assert record["blocked_uri"] == "inline"
        assert record["directive"] == "style-src-elem"

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"", id="empty"),
            pytest.param(b"not json at all", id="garbage"),
            pytest.param(b"\xff\xfe\x00binary", id="binary"),
            pytest.param(b'{"csp-report": "a string"}', id="wrong-shape"),
            pytest.param(b"[1, 2, 3]", id="list-of-numbers"),
            pytest.param(b"[" * 10_000, id="deep-nesting"),
            pytest.param(b"[" * 100_000, id="deep-nesting-over-the-limit"),
            pytest.param(b'{"csp-report": {"blocked-uri": "' + b"a" * (2 * 1024 * 1024) + b'"}}', id="oversized"),
        ],
    )
    def test_bad_bodies_are_still_accepted_and_never_fail(self, client, body):
        response = client.post("/csp-report/", data=body, content_type="application/csp-report")

        assert response.status_code == 204

    def test_only_post_is_accepted(self, client):
        assert client.get("/csp-report/").status_code == 405

    def test_no_csrf_token_is_needed(self, make_user):
        from django.test import Client

        browser = Client(enforce_csrf_checks=True)
        browser.force_login(make_user())

        response = browser.post("/csp-report/", data=json.dumps(self.LEGACY), content_type="application/csp-report")

        assert response.status_code == 204

    def test_reports_beyond_the_per_minute_budget_are_accepted_but_not_logged(self, client, captured_logs):
        from genxsop.views import CSP_REPORTS_PER_MINUTE

        statuses = {
            client.post("/csp-report/", data=json.dumps(self.LEGACY), content_type="application/csp-report").status_code
            for _ in range(CSP_REPORTS_PER_MINUTE + 5)
        }

        assert statuses == {204}
        assert len(captured_logs.messages("csp_violation")) == CSP_REPORTS_PER_MINUTE


@pytest.mark.django_db
def test_authenticated_responses_are_not_cacheable(client, admin_api, admin_user):
    # API-14: token-authenticated API answers and signed-in console pages carry no-store
    assert admin_api.get("/api/v1/products")["Cache-Control"] == "no-store"
    client.force_login(admin_user)
    assert "no-store" in client.get("/catalog/products/")["Cache-Control"]


@pytest.mark.django_db
def test_anonymous_static_assets_stay_cacheable(client):
    response = client.get("/static/css/console.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
