"""API token format and hashing (ACC-22/23): `gxs_<key>_<secret>`, only an HMAC of the secret is stored."""

import base64
import hashlib
import hmac
import re
import secrets

from django.conf import settings

TOKEN_RE = re.compile(r"^gxs_([a-z2-7]{12})_([0-9a-f]{64})$")

SCOPES = (
    "planning:read",
    "planning:write",
    "forecasting:read",
    "forecasting:write",
    "governance:read",
    "governance:write",
    "integrations:write",
    "ops:read",
)

# Path prefixes (relative to /api/v1) of each token scope module (ACC-25).
SCOPE_MODULES = {
    "planning": (
        "/products", "/locations", "/demand", "/supply", "/inventory", "/scenarios", "/kpi", "/dashboard",
        "/production-scheduling", "/config", "/simulations",
    ),
    "forecasting": ("/forecasting",),
    "governance": (
        "/sop-cycles", "/governance", "/decisions", "/action-items", "/comments", "/notifications", "/audit",
    ),
    "integrations": ("/integrations",),
    "ops": ("/ops",),
}  # fmt: skip


def new_token() -> tuple[str, str, str]:
    """A fresh (key, secret, plaintext) triple from the OS CSPRNG."""
    key = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]
    secret = secrets.token_hex(32)
    return key, secret, f"gxs_{key}_{secret}"


def digest(secret: str) -> str:
    return hmac.new(settings.API_TOKEN_PEPPER.encode(), secret.encode(), hashlib.sha256).hexdigest()


def parse(raw: str) -> tuple[str, str] | None:
    match = TOKEN_RE.match(raw)
    return (match.group(1), match.group(2)) if match else None


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def required_scope(api_path: str, method: str) -> str | None:
    """The scope a request needs, or None when the path belongs to no token module (e.g. /auth/me)."""
    for module, prefixes in SCOPE_MODULES.items():
        if any(api_path == p or api_path.startswith(p + "/") for p in prefixes):
            if module == "integrations":
                return "integrations:write"
            if module == "ops":
                return "ops:read"
            return f"{module}:read" if method in ("GET", "HEAD", "OPTIONS") else f"{module}:write"
    return None


# API login tokens (ACC-16, GOV-04): `gxa_<key>_<secret>` (access) and `gxr_<key>_<secret>` (refresh),
# the same shape and HMAC digest as integration tokens, so a leaked log line is recognisable by prefix.
LOGIN_TOKEN_PREFIXES = {"access": "gxa", "refresh": "gxr"}
LOGIN_TOKEN_RE = re.compile(r"^(gxa|gxr)_([a-z2-7]{12})_([0-9a-f]{64})$")


def new_login_token(kind: str) -> tuple[str, str, str]:
    """A fresh (key, secret, plaintext) triple for an access or refresh token."""
    key, secret, _ = new_token()
    return key, secret, f"{LOGIN_TOKEN_PREFIXES[kind]}_{key}_{secret}"


def parse_login(raw: str, kind: str) -> tuple[str, str] | None:
    """(key, secret) of a well-formed login token of `kind`, else None."""
    match = LOGIN_TOKEN_RE.match(raw or "")
    if not match or match.group(1) != LOGIN_TOKEN_PREFIXES[kind]:
        return None
    return match.group(2), match.group(3)
