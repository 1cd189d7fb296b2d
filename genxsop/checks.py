"""System checks: production guardrails (OPS-14) as errors in production, warnings elsewhere."""

from django.conf import settings
from django.core import checks

from genxsop.guardrails import guardrail_findings


@checks.register(checks.Tags.security, deploy=False)
def guardrails_check(app_configs=None, **kwargs):
    namespace = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
    level = checks.Error if settings.IS_PRODUCTION else checks.Warning
    if not settings.IS_PRODUCTION:
        # Outside production a laptop on SQLite with the dev key is the expected setup; report
        # only when explicitly asked with --deploy (below), to keep `manage.py check` quiet.
        return []
    return [level(f.message, hint=f.hint, id=f.id) for f in guardrail_findings(namespace)]


@checks.register(checks.Tags.security, deploy=True)
def guardrails_deploy_check(app_configs=None, **kwargs):
    if settings.IS_PRODUCTION:
        return []  # already reported by guardrails_check
    namespace = {name: getattr(settings, name) for name in dir(settings) if name.isupper()}
    return [checks.Warning(f.message, hint=f.hint, id=f.id) for f in guardrail_findings(namespace)]
