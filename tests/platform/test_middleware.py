"""Request id, response time, client address and trace context (OPS-01, OPS-02, OPS-04a, OPS-05)."""

import re
import uuid

import pytest
from django.test import Client
from django.urls import re_path

from genxsop import context
from genxsop import urls as project_urls
from tests.platform.logcapture import captured_logs_fixture  # noqa: F401 (fixture)
from tests.platform.subproc import base_env, requests


def _boom(request):
    raise RuntimeError("kaboom: internal detail that must not leak")


# A root URLconf for these tests: the project's routes plus views that fail on purpose. Error
# handlers are looked up on the root URLconf, so the project's are re-exported.
urlpatterns = [
    re_path(r"^boom/?$", _boom),
    re_path(r"^api/v1/boom/?$", _boom),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

RESPONSE_TIME_RE = re.compile(r"^\d+\.\d{2}$")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def lenient_client():
    """A client that returns 500 responses instead of re-raising the view's exception."""
    return Client(raise_request_exception=False)


# Each kind of response the contract names: the request id must be on all of them.
EVERY_KIND = [
    pytest.param("/", 302, id="console-redirect"),
    pytest.param("/accounts/login/", 200, id="console-page"),
    pytest.param("/api/v1/", 200, id="api-json"),
    pytest.param("/no-such-page/", 404, id="page-404"),
    pytest.param("/api/v1/no-such-endpoint", 404, id="api-404"),
    pytest.param("/boom/", 500, id="page-500"),
    pytest.param("/api/v1/boom/", 500, id="api-500"),
    pytest.param("/health", 200, id="health"),
    pytest.param("/ready", 200, id="ready"),
]


@pytest.mark.parametrize(("path", "status"), EVERY_KIND)
def test_every_response_carries_a_generated_request_id_and_response_time(lenient_client, path, status):
    response = lenient_client.get(path)

    assert response.status_code == status
    assert UUID4_RE.match(response["X-Request-ID"])
    assert RESPONSE_TIME_RE.match(response["X-Response-Time-Ms"])


@pytest.mark.parametrize(("path", "status"), EVERY_KIND)
def test_a_well_formed_incoming_request_id_is_echoed(lenient_client, path, status):
    response = lenient_client.get(path, headers={"X-Request-ID": "upstream-lb:7f3a.9_b"})

    assert response.status_code == status
    assert response["X-Request-ID"] == "upstream-lb:7f3a.9_b"


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("a" * 200, id="200-chars"),
        pytest.param("a" * 129, id="129-chars"),
        pytest.param("has spaces in it", id="spaces"),
        pytest.param("<script>alert(1)</script>", id="script"),
        pytest.param("abc\n", id="trailing-newline"),
        pytest.param("id;drop", id="semicolon"),
        pytest.param("é-unicode", id="non-ascii"),
    ],
)
def test_a_malformed_incoming_request_id_is_replaced_by_a_uuid4(client, incoming):
    response = client.get("/health", headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] != incoming
    assert UUID4_RE.match(response["X-Request-ID"])


def test_a_request_id_of_exactly_128_characters_is_accepted(client):
    incoming = "x" * 128
    assert client.get("/health", headers={"X-Request-ID": incoming})["X-Request-ID"] == incoming


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/health")["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_server_error_bodies_carry_the_request_id_and_no_traceback(lenient_client):
    page = lenient_client.get("/boom/")
    api = lenient_client.get("/api/v1/boom/")

    assert page.status_code == 500
    assert page["X-Request-ID"] in page.content.decode()
    assert api.status_code == 500
    assert api.json()["detail"]["request_id"] == api["X-Request-ID"]
    assert api.json()["detail"]["code"] == "INTERNAL_ERROR"
    for body in (page.content.decode(), api.content.decode()):
        assert "Traceback" not in body
        assert "kaboom" not in body
        assert "RuntimeError" not in body


def test_the_error_body_repeats_the_header_request_id_on_api_errors(client):
    response = client.get("/api/v1/no-such-endpoint", headers={"X-Request-ID": "trace-me-123"})

    assert response.json()["detail"]["request_id"] == "trace-me-123"


def test_request_context_is_cleared_after_the_request(client):
    client.get("/health", headers={"X-Request-ID": "leaky-id"})

    assert context.request_id() == "-"


class TestRequestIdDisabled:
    """ENABLE_REQUEST_ID is read per request, so the settings fixture can flip it."""

    @pytest.fixture(autouse=True)
    def _disabled(self, settings):
        settings.ENABLE_REQUEST_ID = False

    @pytest.mark.parametrize(("path", "status"), EVERY_KIND)
    def test_no_request_id_or_timing_header(self, lenient_client, path, status):
        response = lenient_client.get(path, headers={"X-Request-ID": "incoming-id"})

        assert response.status_code == status
        assert "X-Request-ID" not in response
        assert "X-Response-Time-Ms" not in response

    def test_the_incoming_id_is_ignored_but_logs_still_carry_an_internal_id(self, client, captured_logs):
        response = client.get("/api/v1/", headers={"X-Request-ID": "incoming-id"})

        (record,) = captured_logs.messages("request_completed")
        assert record["request_id"] != "incoming-id"
        assert UUID4_RE.match(record["request_id"])
        assert "incoming-id" not in response.content.decode()

    def test_error_bodies_carry_the_internal_id(self, client, captured_logs):
        response = client.get("/api/v1/no-such-endpoint", headers={"X-Request-ID": "incoming-id"})

        (record,) = captured_logs.messages("request_completed")
        assert response.json()["detail"]["request_id"] == record["request_id"]


def test_import_time_flags_leave_request_ids_alone(tmp_path):
    """ENABLE_REQUEST_ID=false from the real environment, in a fresh process."""
    run = requests(
        [{"path": "/health", "headers": {"X-Request-ID": "incoming-id"}}],
        env=base_env(ENABLE_REQUEST_ID="false", LOG_FORMAT="json", LOG_LEVEL="DEBUG"),
        tmp_path=tmp_path,
    )

    assert run.returncode == 0, run.stderr
    (answer,) = run.answers
    assert answer.status == 200
    assert "X-Request-ID" not in answer.headers
    assert "X-Response-Time-Ms" not in answer.headers
    assert '"message": "request_completed"' in run.stdout
    assert "incoming-id" not in run.stdout


class TestClientAddress:
    def test_remote_addr_without_trusted_proxies(self, client, captured_logs):
        client.get("/api/v1/", headers={"X-Forwarded-For": "203.0.113.9"}, REMOTE_ADDR="198.51.100.1")

        (record,) = captured_logs.messages("request_completed")
        assert record["client_ip"] == "198.51.100.1"

    def test_nth_forwarded_address_from_the_right_behind_trusted_proxies(self, client, settings, captured_logs):
        settings.TRUSTED_PROXY_COUNT = 2
        client.get(
            "/api/v1/",
            headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.0.0.2"},
            REMOTE_ADDR="10.0.0.1",
        )

        (record,) = captured_logs.messages("request_completed")
        assert record["client_ip"] == "203.0.113.9"

    def test_short_forwarded_header_falls_back_to_remote_addr(self, client, settings, captured_logs):
        settings.TRUSTED_PROXY_COUNT = 2
        client.get("/api/v1/", headers={"X-Forwarded-For": "203.0.113.9"}, REMOTE_ADDR="10.0.0.1")

        (record,) = captured_logs.messages("request_completed")
        assert record["client_ip"] == "10.0.0.1"


VALID_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class TestTraceContext:
    def test_a_valid_traceparent_keeps_its_trace_id(self, client, captured_logs):
        client.get("/api/v1/", headers={"traceparent": VALID_TRACEPARENT})

        (record,) = captured_logs.messages("request_completed")
        assert record["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"

    @pytest.mark.parametrize(
        "header",
        [
            pytest.param("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", id="uppercase"),
            pytest.param("00-00000000000000000000000000000000-00f067aa0ba902b7-01", id="zero-trace-id"),
            pytest.param("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", id="zero-parent-id"),
            pytest.param("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", id="version-ff"),
            pytest.param("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", id="v00-extra-field"),
            pytest.param("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", id="short-trace-id"),
            pytest.param("garbage", id="garbage"),
        ],
    )
    def test_an_invalid_traceparent_is_ignored(self, client, captured_logs, header):
        client.get("/api/v1/", headers={"traceparent": header})

        (record,) = captured_logs.messages("request_completed")
        assert re.fullmatch(r"[0-9a-f]{32}", record["trace_id"])
        assert record["trace_id"] not in header.lower()

    def test_a_future_version_with_extra_fields_is_accepted(self):
        parsed = context.parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future")
        assert parsed == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01")

    def test_without_traceparent_a_new_trace_id_is_generated(self, client, captured_logs):
        client.get("/api/v1/")
        client.get("/api/v1/")

        first, second = captured_logs.messages("request_completed")
        assert re.fullmatch(r"[0-9a-f]{32}", first["trace_id"])
        assert first["trace_id"] != second["trace_id"]

    def test_every_record_of_the_request_carries_the_trace_id(self, client, captured_logs):
        client.get("/no-such-page/", headers={"traceparent": VALID_TRACEPARENT})

        (not_found,) = [r for r in captured_logs.records() if r["logger"] == "django.request"]
        assert not_found["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"

    def test_outbound_calls_get_a_child_traceparent_of_the_same_trace(self):
        with context.bound_context(request_id="r1", trace_id="4bf92f3577b34da6a3ce929d0e0e4736", trace_flags="01"):
            child = context.child_traceparent()

        version, trace_id, span_id, flags = child.split("-")
        assert (version, trace_id, flags) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01")
        assert span_id != "00f067aa0ba902b7"
        assert context.parse_traceparent(child) is not None


def test_request_ids_are_uuid4_strings():
    assert uuid.UUID(context.new_request_id()).version == 4
