"""Production guardrails, configuration errors, preflight and .env.example (OPS-12, OPS-14, OPS-15)."""

import json
import re
import secrets

import pytest
from django.core.management import call_command

from genxsop.guardrails import DEV_SECRET_KEY, guardrail_findings, guardrail_results
from tests.platform.subproc import (
    PYTHON,
    ROOT,
    base_env,
    manage,
    migrated_sqlite_fixture,  # noqa: F401 (fixture)
    migrated_sqlite_template_fixture,  # noqa: F401 (fixture)
    sqlite_url,
)

STRONG_SECRET = secrets.token_urlsafe(64)
STRONG_PEPPER = secrets.token_urlsafe(40)
# PostgreSQL is what production runs on; `check` never connects, so the server need not be up.
PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def production_env(**overrides: str) -> dict[str, str]:
    """A production configuration that passes every guardrail, with `overrides` applied."""
    env = base_env(
        ENVIRONMENT="production",
        DATABASE_URL=PG_URL,
        DJANGO_SECRET_KEY=STRONG_SECRET,
        API_TOKEN_PEPPER=STRONG_PEPPER,
        DJANGO_ALLOWED_HOSTS="sop.example.com",
        CACHE_URL="db://genxsop_cache",
    )
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def safe_namespace(**overrides) -> dict:
    ns = {
        "ENVIRONMENT": "production",
        "DEBUG": False,
        "DATABASE_IS_SQLITE": False,
        "SECRET_KEY": STRONG_SECRET,
        "ALLOWED_HOSTS": ["sop.example.com"],
        "API_TOKEN_PEPPER": STRONG_PEPPER,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "OIDC_ENABLED": False,
        "LOG_FORMAT": "json",
    }
    ns.update(overrides)
    return ns


class TestFindings:
    def test_a_safe_production_namespace_has_no_findings(self):
        assert guardrail_findings(safe_namespace()) == []
        assert all(result.ok for result in guardrail_results(safe_namespace()))

    @pytest.mark.parametrize(
        ("overrides", "named"),
        [
            pytest.param({"DEBUG": True}, "DJANGO_DEBUG", id="debug"),
            pytest.param({"DATABASE_IS_SQLITE": True}, "DATABASE_URL", id="sqlite"),
            pytest.param({"SECRET_KEY": ""}, "DJANGO_SECRET_KEY is not set", id="secret-missing"),
            pytest.param({"SECRET_KEY": DEV_SECRET_KEY}, "development default", id="secret-dev-default"),
            pytest.param({"SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "django-insecure-", id="secret-insecure"),
            pytest.param({"SECRET_KEY": secrets.token_urlsafe(20)}, "shorter than 50", id="secret-short"),
            pytest.param({"SECRET_KEY": "abcd" * 20}, "fewer than 5 distinct", id="secret-low-entropy"),
            pytest.param({"ALLOWED_HOSTS": []}, "DJANGO_ALLOWED_HOSTS", id="hosts-empty"),
            pytest.param({"ALLOWED_HOSTS": ["sop.example.com", "*"]}, "DJANGO_ALLOWED_HOSTS", id="hosts-wildcard"),
            pytest.param({"API_TOKEN_PEPPER": ""}, "API_TOKEN_PEPPER", id="pepper-missing"),
            pytest.param({"API_TOKEN_PEPPER": "p" * 31}, "API_TOKEN_PEPPER", id="pepper-short"),
            pytest.param({"OIDC_ENABLED": True, "OIDC_RP_CLIENT_ID": "sop"}, "OIDC_RP_CLIENT_SECRET", id="oidc"),
            pytest.param({"LOG_FORMAT": "xml"}, "LOG_FORMAT", id="log-format"),
            pytest.param({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE", id="insecure-cookies"),
        ],
    )
    def test_each_unsafe_setting_is_a_finding_naming_the_variable(self, overrides, named):
        (finding,) = guardrail_findings(safe_namespace(**overrides))

        assert named in finding.message
        assert finding.hint

    def test_development_may_serve_cookies_over_plain_http(self):
        ns = safe_namespace(ENVIRONMENT="development", SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False)
        assert guardrail_findings(ns) == []


class TestStartupRefusal:
    """`manage.py check` in a fresh process, as a deployment would start."""

    def test_sqlite_in_production_is_refused_naming_database_url(self):
        proc = manage("check", env=production_env(DATABASE_URL=sqlite_url(ROOT / "never-created.sqlite3")))

        assert proc.returncode != 0
        assert "DATABASE_URL" in proc.stderr
        assert "Refusing to start with ENVIRONMENT=production" in proc.stderr

    @pytest.mark.parametrize(
        ("overrides", "named"),
        [
            pytest.param({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY", id="secret-missing"),
            pytest.param({"DJANGO_SECRET_KEY": "short-secret"}, "DJANGO_SECRET_KEY", id="secret-weak"),
            pytest.param({"DJANGO_SECRET_KEY": DEV_SECRET_KEY}, "DJANGO_SECRET_KEY", id="secret-dev-default"),
            pytest.param({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG", id="debug"),
            pytest.param({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS", id="hosts-empty"),
            pytest.param({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS", id="hosts-wildcard"),
            pytest.param({"API_TOKEN_PEPPER": "too-short"}, "API_TOKEN_PEPPER", id="pepper-short"),
            pytest.param({"API_TOKEN_PEPPER": None}, "API_TOKEN_PEPPER", id="pepper-missing"),
            pytest.param({"OIDC_ENABLED": "true"}, "OIDC_RP_CLIENT_ID", id="oidc-incomplete"),
        ],
    )
    def test_each_unsafe_setting_is_refused_naming_the_variable(self, overrides, named):
        proc = manage("check", env=production_env(**overrides))

        assert proc.returncode != 0
        assert named in proc.stderr

    def test_every_problem_is_listed_at_once(self):
        proc = manage(
            "check",
            env=production_env(
                DATABASE_URL="sqlite:///x.sqlite3",
                DJANGO_DEBUG="true",
                DJANGO_SECRET_KEY="weak",
                DJANGO_ALLOWED_HOSTS="*",
                API_TOKEN_PEPPER="short",
            ),
        )

        assert proc.returncode != 0
        for name in ("DATABASE_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "API_TOKEN_PEPPER"):
            assert name in proc.stderr

    @pytest.mark.parametrize("spelling", ["prod", "PROD", "Production"])
    def test_the_prod_alias_is_production_in_any_case(self, spelling):
        proc = manage("check", env=production_env(ENVIRONMENT=spelling, DJANGO_DEBUG="true"))

        assert proc.returncode != 0
        assert "DJANGO_DEBUG" in proc.stderr

    def test_a_correct_production_configuration_passes_the_deploy_check(self):
        proc = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "System check identified no issues" in proc.stdout
        assert "WARNINGS" not in proc.stdout + proc.stderr

    def test_production_defaults_are_secure(self):
        code = (
            "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
            "s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.DEBUG]))"
        )
        import subprocess

        proc = subprocess.run(  # noqa: S603 (our interpreter, inline script)
            [PYTHON, "-c", code], cwd=ROOT, env=production_env(), capture_output=True, text=True, check=False
        )

        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == [True, True, True, 31536000, True, "Lax", False]

    @pytest.mark.parametrize(
        ("environment", "args"), [("staging", ["check"]), ("test", ["check"]), ("development", ["check", "--deploy"])]
    )
    def test_outside_production_the_findings_are_warnings(self, environment, args):
        proc = manage(*args, env=base_env(ENVIRONMENT=environment))

        assert proc.returncode == 0, proc.stderr
        assert "(genxsop.G002) DATABASE_URL points at SQLite" in proc.stdout + proc.stderr
        assert "(genxsop.G003) DJANGO_SECRET_KEY is the development default" in proc.stdout + proc.stderr

    def test_a_development_laptop_is_not_nagged_on_every_command(self):
        proc = manage("check", env=base_env(ENVIRONMENT="development"))

        assert proc.returncode == 0, proc.stderr
        assert "genxsop.G0" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("LOG_FORMAT", "xml"),
        ("STRICT_TRANSPORT_SECURITY_SECONDS", "abc"),
        ("STRICT_TRANSPORT_SECURITY_SECONDS", "-5"),
        ("ENVIRONMENT", "moon"),
        ("OIDC_ROLE_MAPPING", "{not json"),
        ("Q_WORKERS", "1000"),
        ("CACHE_URL", "memcached://x"),
        ("DATABASE_URL", "nosuchdb://x"),
    ],
)
def test_invalid_values_stop_startup_naming_the_variable(name, value):
    proc = manage("check", env=base_env(**{name: value}))

    assert proc.returncode != 0
    assert name in proc.stderr


PREFLIGHT_LINE = re.compile(r"^(PASS|WARN|FAIL) [a-z_.]+: \S.*$")


def preflight_lines(stdout: str) -> dict[str, str]:
    lines = [line for line in stdout.splitlines() if not line.startswith("preflight:")]
    assert all(PREFLIGHT_LINE.match(line) for line in lines), stdout
    return {line.split(" ", 2)[1].rstrip(":"): line.split(" ", 1)[0] for line in lines}


GUARDRAILS = [
    "guardrail.debug",
    "guardrail.database",
    "guardrail.secret_key",
    "guardrail.allowed_hosts",
    "guardrail.api_token_pepper",
    "guardrail.oidc",
    "guardrail.log_format",
]


class TestPreflight:
    def test_a_migrated_development_install_passes_with_warnings(self, migrated_sqlite):
        proc = manage(
            "preflight", env=base_env(DATABASE_URL=sqlite_url(migrated_sqlite), CACHE_URL="db://genxsop_cache")
        )

        assert proc.returncode == 0, proc.stdout + proc.stderr
        status = preflight_lines(proc.stdout)
        assert set(GUARDRAILS) <= set(status)
        assert status["guardrail.database"] == "WARN"  # SQLite is only a warning outside production
        assert status["guardrail.secret_key"] == "WARN"
        assert status["guardrail.debug"] == "PASS"
        assert status["database"] == "PASS"
        assert status["migrations"] == "PASS"
        assert status["cache"] == "PASS"
        assert status["worker"] == "WARN"
        assert re.search(r"^preflight: \d+ passed, 3 warnings, 0 failed$", proc.stdout, re.M)

    def test_unapplied_migrations_fail(self, tmp_path):
        proc = manage("preflight", env=base_env(DATABASE_URL=sqlite_url(tmp_path / "empty.sqlite3")))

        assert proc.returncode == 1
        status = preflight_lines(proc.stdout)
        assert status["migrations"] == "FAIL"
        assert "Run `manage.py migrate`" in proc.stdout
        assert "failed" in proc.stderr

    def test_unsafe_production_settings_are_reported_line_by_line(self, migrated_sqlite):
        proc = manage(
            "preflight",
            env=production_env(DATABASE_URL=sqlite_url(migrated_sqlite), DJANGO_SECRET_KEY=None, DJANGO_DEBUG="true"),
        )

        assert proc.returncode == 1
        status = preflight_lines(proc.stdout)
        assert status["guardrail.database"] == "FAIL"
        assert status["guardrail.secret_key"] == "FAIL"
        assert status["guardrail.debug"] == "FAIL"
        assert status["guardrail.allowed_hosts"] == "PASS"
        assert status["guardrail.secure_cookies"] == "PASS"
        assert status["database"] == "PASS"
        assert "Traceback" not in proc.stderr

    def test_an_unreachable_production_database_fails_without_leaking_credentials(self):
        proc = manage("preflight", env=production_env(DATABASE_URL="postgres://nobody:hunter2pw@127.0.0.1:1/none"))

        assert proc.returncode == 1
        status = preflight_lines(proc.stdout)
        assert all(status[name] == "PASS" for name in GUARDRAILS)
        assert status["database"] == "FAIL"
        assert status["migrations"] == "FAIL"
        assert "hunter2pw" not in proc.stdout + proc.stderr

    def test_in_process_on_the_test_database(self, db, capsys):
        call_command("preflight")

        status = preflight_lines(capsys.readouterr().out)
        assert status["database"] == "PASS"
        assert status["migrations"] == "PASS"
        assert status["cache"] == "PASS"


class TestEnvExample:
    ENV_EXAMPLE = ROOT / ".env.example"
    READER_RE = re.compile(r"env_(?:str|bool|int|list|choice|json)\(\s*\"([A-Z][A-Z0-9_]*)\"")

    def _listed(self) -> dict[str, str | None]:
        listed = {}
        for line in self.ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
            if match:
                listed[match.group(2)] = None if match.group(1) else match.group(3)
        return listed

    def test_every_variable_the_settings_read_is_listed(self):
        read = set()
        for module in (ROOT / "genxsop" / "settings").glob("*.py"):
            read |= set(self.READER_RE.findall(module.read_text(encoding="utf-8")))

        missing = sorted(read - set(self._listed()))
        assert not missing, f".env.example does not list {missing}"

    def test_the_listed_values_are_the_defaults(self):
        """Settings loaded with every value of .env.example equal settings loaded with none of them."""
        code = (
            "import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps({k: repr(getattr(s, k)) for k in dir(s) if k.isupper()}))"
        )
        import subprocess

        def settings_with(env):
            proc = subprocess.run(  # noqa: S603 (our interpreter, inline script)
                [PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            assert proc.returncode == 0, proc.stderr
            return json.loads(proc.stdout.splitlines()[-1])

        plain = base_env()
        for name in ("DATABASE_URL", "CACHE_URL", "DJANGO_ALLOWED_HOSTS"):
            plain.pop(name)
        listed = {name: value for name, value in self._listed().items() if value is not None}
        assert settings_with(plain) == settings_with({**plain, **listed})
