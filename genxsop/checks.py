"""System checks: production guardrails (OPS-14) as errors in production, warnings elsewhere."""

from django.conf import settings
from django.core import checks

from genxsop.guardrails import guardrail_findings


def settings_namespace() -> dict:
    return {name: getattr(settings, name) for name in dir(settings) if name.isupper()}


@checks.register(checks.Tags.security)
def guardrails_check(app_configs=None, **kwargs):
    # In production settings loading already refused these; the check repeats them for tools that
    # configure settings another way (and for `preflight`, which defers the refusal to its report).
    level = checks.Error if settings.IS_PRODUCTION else checks.Warning
    return [level(f.message, hint=f.hint, id=f.id) for f in guardrail_findings(settings_namespace())]
