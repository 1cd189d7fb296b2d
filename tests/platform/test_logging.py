"""Request-completion record, request id on every record, log formats and redaction (OPS-03…07)."""

import json
import logging
import re

import pytest
from django.http import JsonResponse
from django.urls import re_path

from genxsop import context
from genxsop import urls as project_urls
from genxsop.logging import REDACTED, JsonFormatter, RequestIdFilter, StandardFormatter
from tests.platform.logcapture import captured_logs_fixture  # noqa: F401 (fixture)
from tests.platform.subproc import base_env, manage, requests


def _chatty(request):
    # Libraries log through their own loggers, which propagate to the root handler.
    logging.getLogger("somelib.client").warning("upstream slow", extra={"upstream_ms": 812})
    logging.getLogger("django.request").info("third party note")
    return JsonResponse({"ok": True})


def _explodes(request):
    raise ValueError("disk on fire")


urlpatterns = [
    re_path(r"^chatty/?$", _chatty, name="chatty"),
    re_path(r"^explodes/?$", _explodes, name="explodes"),
    *project_urls.urlpatterns,
]
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
COMPLETED_FIELDS = {"method", "path", "route", "status", "duration_ms", "request_id", "user_id", "client_ip"}


class TestRequestCompleted:
    def test_exactly_one_record_per_request_with_every_field(self, client, captured_logs):
        response = client.get("/chatty/?token=zz-query-secret-zz&page=2")

        (record,) = captured_logs.messages("request_completed")
        assert record.keys() >= COMPLETED_FIELDS
        assert record["level"] == "INFO"
        assert record["logger"] == "genxsop.request"
        assert record["method"] == "GET"
        assert record["path"] == "/chatty/"
        assert record["route"] == "chatty"
        assert record["status"] == 200
        assert isinstance(record["duration_ms"], float | int)
        assert record["request_id"] == response["X-Request-ID"]
        assert record["user_id"] is None
        assert record["client_ip"] == "127.0.0.1"
        assert "zz-query-secret-zz" not in captured_logs.text

    def test_records_the_authenticated_user(self, client, captured_logs, make_user):
        user = make_user()
        client.force_login(user)

        client.get("/api/v1/")

        (record,) = captured_logs.messages("request_completed")
        assert record["user_id"] == user.pk
        assert record["route"] == "api:root"

    @pytest.mark.parametrize(
        ("path", "status"),
        [("/no-such-page/", 404), ("/api/v1/nothing-here", 404), ("/explodes/", 500)],
    )
    def test_failed_requests_are_recorded_once_too(self, captured_logs, path, status):
        from django.test import Client

        Client(raise_request_exception=False).get(path)

        (record,) = captured_logs.messages("request_completed")
        assert record["status"] == status

    @pytest.mark.parametrize("path", ["/health", "/ready", "/health/"])
    def test_probes_are_logged_at_debug(self, client, captured_logs, path):
        client.get(path)

        (record,) = captured_logs.messages("request_completed")
        assert record["level"] == "DEBUG"

    def test_probes_are_logged_at_info_with_log_probes(self, client, settings, captured_logs):
        settings.LOG_PROBES = True

        client.get("/health")

        (record,) = captured_logs.messages("request_completed")
        assert record["level"] == "INFO"

    def test_no_record_when_request_logging_is_off(self, client, settings, captured_logs):
        settings.ENABLE_REQUEST_LOGGING = False

        client.get("/api/v1/")

        assert captured_logs.messages("request_completed") == []


class TestRequestIdOnEveryRecord:
    def test_third_party_and_django_loggers_carry_the_request_id(self, client, captured_logs):
        response = client.get("/chatty/")

        by_logger = {record["logger"]: record for record in captured_logs.records()}
        assert by_logger["somelib.client"]["request_id"] == response["X-Request-ID"]
        assert by_logger["somelib.client"]["upstream_ms"] == 812
        assert by_logger["django.request"]["request_id"] == response["X-Request-ID"]

    def test_django_not_found_warning_carries_the_request_id(self, client, captured_logs):
        response = client.get("/no-such-page/")

        (warning,) = [r for r in captured_logs.records() if r["logger"] == "django.request"]
        assert warning["level"] == "WARNING"
        assert warning["request_id"] == response["X-Request-ID"]
        assert "request" not in warning  # the request object (query string, headers) stays out

    def test_unhandled_exception_is_logged_with_traceback_and_request_id(self, captured_logs):
        from django.test import Client

        response = Client(raise_request_exception=False).get("/explodes/")

        (error,) = [r for r in captured_logs.records() if r["level"] == "ERROR"]
        assert error["request_id"] == response["X-Request-ID"]
        assert "Traceback" in error["exception"]
        assert "ValueError: disk on fire" in error["exception"]

    def test_outside_a_request_the_request_id_is_a_dash(self, captured_logs):
        logging.getLogger("genxsop.anything").warning("background noise")

        (record,) = captured_logs.records()
        assert record["request_id"] == "-"


class TestJsonFormat:
    def test_one_json_object_per_line_with_the_contract_fields(self, captured_logs):
        with context.bound_context(request_id="req-42"):
            logging.getLogger("genxsop.test").info("plan %s saved", "P-1", extra={"plan_id": 7, "tags": ["a"]})

        (line,) = captured_logs.lines()
        record = json.loads(line)
        assert TIMESTAMP_RE.match(record["timestamp"])
        assert record["level"] == "INFO"
        assert record["logger"] == "genxsop.test"
        assert record["message"] == "plan P-1 saved"
        assert record["request_id"] == "req-42"
        assert record["plan_id"] == 7
        assert record["tags"] == ["a"]
        assert "exception" not in record

    def test_exception_is_one_field_of_the_same_line(self, captured_logs):
        try:
            raise KeyError("missing")
        except KeyError:
            logging.getLogger("genxsop.test").exception("it broke")

        (line,) = captured_logs.lines()
        record = json.loads(line)
        assert record["message"] == "it broke"
        assert "KeyError: 'missing'" in record["exception"]

    def test_values_json_cannot_encode_are_stringified(self, captured_logs):
        logging.getLogger("genxsop.test").info("odd", extra={"when": object()})

        (record,) = captured_logs.records()
        assert record["when"].startswith("<object object")


class TestStandardFormat:
    def test_asctime_level_logger_request_id_message_then_key_values(self, client, captured_logs):
        captured_logs.use_standard_format()

        response = client.get("/chatty/")

        (line,) = [line for line in captured_logs.lines() if "request_completed" in line]
        request_id = response["X-Request-ID"]
        assert re.match(
            r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} INFO genxsop\.request "
            + re.escape(f"[{request_id}] request_completed "),
            line,
        ), line
        pairs = dict(pair.split("=", 1) for pair in line.split(" request_completed ", 1)[1].split(" "))
        assert pairs["method"] == "GET"
        assert pairs["path"] == "/chatty/"
        assert pairs["route"] == "chatty"
        assert pairs["status"] == "200"
        assert pairs["user_id"] == "null"
        assert pairs["client_ip"] == "127.0.0.1"
        assert re.fullmatch(r"[0-9a-f]{32}", pairs["trace_id"])
        assert float(pairs["duration_ms"]) >= 0

    def test_other_records_do_not_repeat_the_trace_id(self, captured_logs):
        captured_logs.use_standard_format()
        with context.bound_context(request_id="req-7"):
            logging.getLogger("genxsop.test").warning("careful", extra={"count": 2})

        (line,) = captured_logs.lines()
        assert line.endswith(" WARNING genxsop.test [req-7] careful count=2")

    def test_a_newline_in_user_input_cannot_forge_a_second_line(self, client, captured_logs):
        captured_logs.use_standard_format()

        client.get("/api/v1/x%0A2026-01-01 00:00:00,000 INFO forged [-] admin_login")

        assert not any(line.startswith("2026-01-01 00:00:00,000") for line in captured_logs.lines())
        assert all(re.match(r"^\d{4}-\d{2}-\d{2} ", line) for line in captured_logs.lines())

    def test_outside_a_request_the_request_id_is_a_dash(self, captured_logs):
        captured_logs.use_standard_format()
        logging.getLogger("genxsop.test").error("x")

        assert " ERROR genxsop.test [-] x" in captured_logs.lines()[0]


class TestRedaction:
    SECRETS = {
        "Authorization": "Bearer gxs_live_supersecrettoken",
        "Cookie": "sessionid=secretsessioncookie; csrftoken=secretcsrf",
    }

    def test_authorization_and_cookie_headers_never_reach_the_log(self, client, captured_logs):
        client.get("/api/v1/", headers=self.SECRETS)
        client.get("/no-such-page/", headers=self.SECRETS)
        client.post("/api/v1/", data={"password": "hunter2-password"}, headers=self.SECRETS)

        for needle in ("supersecrettoken", "secretsessioncookie", "secretcsrf", "hunter2-password"):
            assert needle not in captured_logs.text

    @pytest.mark.parametrize(
        "key",
        ["password", "new_password", "authorization", "cookie", "client_secret", "token", "access_token",
         "id_token", "api_token_pepper", "secret_key", "credentials"],
    )  # fmt: skip
    def test_secret_looking_extra_fields_are_redacted(self, captured_logs, key):
        logging.getLogger("genxsop.test").info("x", extra={key: "s3cr3t-value"})

        (record,) = captured_logs.records()
        assert record[key] == REDACTED
        assert "s3cr3t-value" not in captured_logs.text

    @pytest.mark.parametrize("key", ["api_token_id", "api_token_prefix", "token_count", "user_id"])
    def test_ordinary_fields_are_kept(self, captured_logs, key):
        logging.getLogger("genxsop.test").info("x", extra={key: "visible"})

        (record,) = captured_logs.records()
        assert record[key] == "visible"


def test_filter_and_formatters_work_without_django_request():
    record = logging.makeLogRecord({"name": "x", "levelname": "INFO", "levelno": 20, "msg": "hello"})
    RequestIdFilter().filter(record)

    assert json.loads(JsonFormatter().format(record))["request_id"] == "-"
    assert "[-] hello" in StandardFormatter().format(record)


class TestRealStdout:
    """The configured pipeline end to end: a fresh process, its real stdout."""

    SPECS = [
        {"path": "/api/v1/?token=querysecret", "headers": {"Authorization": "Bearer tok_abcdefsecret"}},
        {"path": "/health", "headers": {"Cookie": "sessionid=cookiesecret"}},
        {"path": "/no-such-page/"},
    ]

    def test_json_lines_on_stdout(self, tmp_path):
        run = requests(self.SPECS, env=base_env(LOG_FORMAT="json", LOG_LEVEL="INFO"), tmp_path=tmp_path)

        assert run.returncode == 0, run.stderr
        records = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
        completed = [r for r in records if r["message"] == "request_completed"]
        assert [r["path"] for r in completed] == ["/api/v1/", "/no-such-page/"]  # the probe is at DEBUG
        assert completed[0]["request_id"] == run.answers[0].headers["X-Request-ID"]
        for record in records:
            assert TIMESTAMP_RE.match(record["timestamp"])
        for needle in ("querysecret", "tok_abcdefsecret", "cookiesecret"):
            assert needle not in run.stdout

    def test_standard_lines_on_stdout(self, tmp_path):
        run = requests(self.SPECS, env=base_env(LOG_FORMAT="standard", LOG_PROBES="true"), tmp_path=tmp_path)

        assert run.returncode == 0, run.stderr
        lines = [line for line in run.stdout.splitlines() if "request_completed" in line]
        assert len(lines) == 3
        health_id = run.answers[1].headers["X-Request-ID"]
        assert f" INFO genxsop.request [{health_id}] request_completed method=GET path=/health " in lines[1]

    def test_log_level_sets_root_and_application_loggers(self, tmp_path):
        run = requests(self.SPECS, env=base_env(LOG_FORMAT="json", LOG_LEVEL="ERROR"), tmp_path=tmp_path)

        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == ""


@pytest.mark.parametrize("value", ["bogus", "xml", ""])
def test_an_unknown_log_format_stops_startup_naming_the_variable(value):
    proc = manage("check", env=base_env(LOG_FORMAT=value))

    assert proc.returncode != 0
    assert "LOG_FORMAT" in proc.stderr


def test_an_unknown_log_level_stops_startup_naming_the_variable():
    proc = manage("check", env=base_env(LOG_LEVEL="LOUD"))

    assert proc.returncode != 0
    assert "LOG_LEVEL" in proc.stderr
