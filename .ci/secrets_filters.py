"""detect-secrets filters for GenXSOP's secrets scan (.ci/secrets_check.py, OPS-60).

detect-secrets loads this file by path (the baseline's `filters_used` names it), so it imports
nothing from the project. Each filter drops one deliberate class of hits; everything else must be
in `.secrets.baseline`, reviewed.
"""

# Hit types that fire on any string next to "password", "secret" or "token", or on any long
# random-looking string. In tests/ these are the throwaway passwords and keys of users and
# clients that exist only in the test database (reviewed: none is used anywhere else). The
# detectors of real key formats (private keys, cloud, GitHub, Slack, Stripe, JWT, ...) still
# scan tests/.
_BASIC_AUTH = "Basic Auth Credentials"
_HEURISTIC_TYPES = {
    "Secret Keyword",
    _BASIC_AUTH,
    "Hex High Entropy String",
    "Base64 High Entropy String",
}

# Documentation and example URLs write the password as a placeholder, as in
# postgres://genxsop:PASSWORD@db.internal:5432/genxsop.
_PLACEHOLDERS = {"password", "passwd", "pass", "pw", "secret", "changeme", "xxx", "..."}


def is_test_fixture_credential(filename: str, secret: str, plugin) -> bool:
    # `secret` is unused but must be named: detect-secrets only runs filters that take it on each hit.
    return filename.replace("\\", "/").startswith("tests/") and plugin.secret_type in _HEURISTIC_TYPES


def is_placeholder_credential(secret: str, plugin) -> bool:
    if plugin.secret_type != _BASIC_AUTH:
        return False
    value = secret.strip()
    return value.lower() in _PLACEHOLDERS or (value[:1] in "<{$" and value[-1:] in ">}")
