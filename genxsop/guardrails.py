"""Production guardrails (OPS-14).

`guardrail_results()` inspects a settings namespace and says, guardrail by guardrail, what is
unsafe. Settings loading calls `enforce_guardrails()`, which refuses to start in production; the
system check and `manage.py preflight` report the same findings (errors in production, warnings
elsewhere).
"""

import sys
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_KEY = "genxsop-development-only-key-never-use-in-production-0123456789abcdef"  # noqa: S105  (public on purpose: refused in production)  # nosec B105
MIN_SECRET_KEY_LENGTH = 50
MIN_PEPPER_LENGTH = 32


@dataclass(frozen=True)
class GuardrailResult:
    id: str
    name: str
    ok: bool
    message: str  # what holds: the problem when not ok, the reassurance when ok
    hint: str = ""


def _secret_key_problem(key: str) -> str | None:
    if not key:
        return "DJANGO_SECRET_KEY is not set"
    if key == DEV_SECRET_KEY:
        return "DJANGO_SECRET_KEY is the development default"
    if key.startswith("django-insecure-"):
        return "DJANGO_SECRET_KEY starts with 'django-insecure-'"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"DJANGO_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(key)) < 5:
        return "DJANGO_SECRET_KEY has fewer than 5 distinct characters"
    return None


def _result(id_: str, name: str, problem: str | None, ok_message: str, hint: str) -> GuardrailResult:
    if problem:
        return GuardrailResult(id_, name, False, problem, hint)
    return GuardrailResult(id_, name, True, ok_message)


def guardrail_results(ns: dict) -> list[GuardrailResult]:
    """Every OPS-14 guardrail, passed or not, in a fixed order."""
    results = [
        _result(
            "genxsop.G001",
            "debug",
            "DJANGO_DEBUG is on (DEBUG=True)" if ns.get("DEBUG") else None,
            "DEBUG is off",
            "Set DJANGO_DEBUG=false.",
        ),
        _result(
            "genxsop.G002",
            "database",
            "DATABASE_URL points at SQLite" if ns.get("DATABASE_IS_SQLITE") else None,
            "DATABASE_URL is not SQLite",
            "Set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME (PostgreSQL is the production database).",
        ),
        _result(
            "genxsop.G003",
            "secret_key",
            _secret_key_problem(ns.get("SECRET_KEY") or ""),
            "DJANGO_SECRET_KEY is set and strong",
            f"Set DJANGO_SECRET_KEY to a random value of at least {MIN_SECRET_KEY_LENGTH} characters, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`.",
        ),
    ]
    hosts = ns.get("ALLOWED_HOSTS") or []
    results.append(
        _result(
            "genxsop.G004",
            "allowed_hosts",
            "DJANGO_ALLOWED_HOSTS is empty or contains '*'" if (not hosts or "*" in hosts) else None,
            "DJANGO_ALLOWED_HOSTS lists explicit hosts",
            "Set DJANGO_ALLOWED_HOSTS to the comma-separated host names that serve GenXSOP.",
        )
    )
    results.append(
        _result(
            "genxsop.G005",
            "api_token_pepper",
            f"API_TOKEN_PEPPER is missing or shorter than {MIN_PEPPER_LENGTH} characters"
            if len(ns.get("API_TOKEN_PEPPER") or "") < MIN_PEPPER_LENGTH
            else None,
            "API_TOKEN_PEPPER is set",
            f"Set API_TOKEN_PEPPER to a random value of at least {MIN_PEPPER_LENGTH} characters.",
        )
    )
    oidc_problem = None
    if ns.get("OIDC_ENABLED"):
        required = (
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_ISSUER",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        missing = [name for name in required if not ns.get(name)]
        if missing:
            oidc_problem = "OIDC_ENABLED is true but " + ", ".join(missing) + " is not set"
    results.append(
        _result(
            "genxsop.G007",
            "oidc",
            oidc_problem,
            "OIDC is configured" if ns.get("OIDC_ENABLED") else "OIDC is disabled",
            "Set the OIDC client credentials and provider endpoints, or OIDC_ENABLED=false.",
        )
    )
    log_format = ns.get("LOG_FORMAT")
    results.append(
        _result(
            "genxsop.G008",
            "log_format",
            f"LOG_FORMAT is {log_format!r}" if log_format not in ("json", "standard") else None,
            f"LOG_FORMAT is {log_format}",
            "Set LOG_FORMAT=json or LOG_FORMAT=standard.",
        )
    )
    if ns.get("ENVIRONMENT") == "production":
        # Development serves plain HTTP on purpose (OPS-10a); only production insists on Secure.
        results.append(
            _result(
                "genxsop.G006",
                "secure_cookies",
                "SESSION_COOKIE_SECURE or CSRF_COOKIE_SECURE is false"
                if not (ns.get("SESSION_COOKIE_SECURE") and ns.get("CSRF_COOKIE_SECURE"))
                else None,
                "session and CSRF cookies are Secure",
                "Unset SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE (they default to true in production).",
            )
        )
    return results


def guardrail_findings(ns: dict) -> list[GuardrailResult]:
    return [result for result in guardrail_results(ns) if not result.ok]


def _deferred_to_preflight() -> bool:
    # `manage.py preflight` exists to print every failed guardrail as a FAIL line and exit 1; a
    # traceback at settings load would hide all but the first reading of the report.
    return sys.argv[1:2] == ["preflight"]


def enforce_guardrails(ns: dict) -> None:
    if ns.get("ENVIRONMENT") != "production" or _deferred_to_preflight():
        return
    findings = guardrail_findings(ns)
    if findings:
        lines = "\n".join(f"  - {f.message}. {f.hint}" for f in findings)
        raise ImproperlyConfigured(f"Refusing to start with ENVIRONMENT=production:\n{lines}")
