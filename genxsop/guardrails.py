"""Production guardrails (OPS-14).

`guardrail_findings()` inspects a settings namespace and returns what is unsafe. Settings loading
calls `enforce_guardrails()`, which refuses to start in production; the system check and
`manage.py preflight` report the same findings (errors in production, warnings elsewhere).
"""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_KEY = "genxsop-development-only-key-never-use-in-production-0123456789abcdef"  # noqa: S105  (public on purpose: refused in production)


@dataclass(frozen=True)
class Finding:
    id: str
    message: str
    hint: str


def _secret_key_problem(key: str) -> str | None:
    if not key:
        return "DJANGO_SECRET_KEY is not set"
    if key == DEV_SECRET_KEY:
        return "DJANGO_SECRET_KEY is the development default"
    if key.startswith("django-insecure-"):
        return "DJANGO_SECRET_KEY starts with 'django-insecure-'"
    if len(key) < 50:
        return "DJANGO_SECRET_KEY is shorter than 50 characters"
    if len(set(key)) < 5:
        return "DJANGO_SECRET_KEY has fewer than 5 distinct characters"
    return None


def guardrail_findings(ns: dict) -> list[Finding]:
    findings: list[Finding] = []
    if ns.get("DEBUG"):
        findings.append(Finding("genxsop.G001", "DEBUG is on", "Set DJANGO_DEBUG=false."))
    if ns.get("DATABASE_IS_SQLITE"):
        findings.append(
            Finding(
                "genxsop.G002",
                "DATABASE_URL points at SQLite",
                "Set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME (PostgreSQL is the production database).",
            )
        )
    problem = _secret_key_problem(ns.get("SECRET_KEY", ""))
    if problem:
        findings.append(
            Finding(
                "genxsop.G003",
                problem,
                "Set DJANGO_SECRET_KEY to a random value of at least 50 characters, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`.",
            )
        )
    hosts = ns.get("ALLOWED_HOSTS") or []
    if not hosts or "*" in hosts:
        findings.append(
            Finding(
                "genxsop.G004",
                "DJANGO_ALLOWED_HOSTS is empty or contains '*'",
                "Set DJANGO_ALLOWED_HOSTS to the comma-separated host names that serve GenXSOP.",
            )
        )
    if len(ns.get("API_TOKEN_PEPPER") or "") < 32:
        findings.append(
            Finding(
                "genxsop.G005",
                "API_TOKEN_PEPPER is missing or shorter than 32 characters",
                "Set API_TOKEN_PEPPER to a random value of at least 32 characters.",
            )
        )
    if not ns.get("SESSION_COOKIE_SECURE") or not ns.get("CSRF_COOKIE_SECURE"):
        findings.append(
            Finding(
                "genxsop.G006",
                "session or CSRF cookies are not marked Secure",
                "Unset SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE (they default to true in production).",
            )
        )
    if ns.get("OIDC_ENABLED"):
        required = (
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_ISSUER",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        missing = [name for name in required if not ns.get(name)]
        if missing:
            findings.append(
                Finding(
                    "genxsop.G007",
                    "OIDC is enabled but " + ", ".join(missing) + " is not set",
                    "Set the OIDC client credentials and provider endpoints, or OIDC_ENABLED=false.",
                )
            )
    return findings


def enforce_guardrails(ns: dict) -> None:
    if ns.get("ENVIRONMENT") != "production":
        return
    findings = guardrail_findings(ns)
    if findings:
        lines = "\n".join(f"  - {f.message}. {f.hint}" for f in findings)
        raise ImproperlyConfigured(f"Refusing to start with ENVIRONMENT=production:\n{lines}")
