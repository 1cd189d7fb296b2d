"""Template helpers for account pages rendered by allauth views (whose context we do not build)."""

from django import template
from django.contrib.auth.password_validation import password_validators_help_texts

register = template.Library()


@register.simple_tag
def password_policy() -> list[str]:
    """The active password validators' rules, as sentences (ACC-17)."""
    return password_validators_help_texts()
