"""System checks: production guardrails (OPS-14) as errors in production, warnings elsewhere."""

from django.conf import settings
from django.core import checks

from genxsop.guardrails import guardrail_findings


def settings_namespace() -> dict:
    return {name: getattr(settings, name) for name in dir(settings) if name.isupper()}


def _findings(level):
    return [level(f.message, hint=f.hint, id=f.id) for f in guardrail_findings(settings_namespace())]


@checks.register(checks.Tags.security)
def guardrails_check(app_configs=None, **kwargs):
    # In production settings loading already refused these; the check repeats them for tools that
    # configure settings another way (and for `preflight`, which defers the refusal to its report).
    if settings.IS_PRODUCTION:
        return _findings(checks.Error)
    if settings.ENVIRONMENT == "development":
        # A laptop on SQLite with the development key is the documented setup: repeating that on
        # every migrate/runserver/qcluster would train people to ignore warnings. `check --deploy`
        # (below) still lists them.
        return []
    return _findings(checks.Warning)


@checks.register(checks.Tags.security, deploy=True)
def guardrails_deploy_check(app_configs=None, **kwargs):
    if settings.ENVIRONMENT != "development":
        return []  # reported by guardrails_check already
    return _findings(checks.Warning)
