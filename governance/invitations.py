"""Invitation e-mails (API-AUTH-10, UI-20): a person created without a password gets a set-password link.

The link is allauth's password-reset-from-key URL, so choosing the password runs allauth's own
flow: the password policy (ACC-17) applies, the link is spent once a password is set (the token
hashes the password) and expires after PASSWORD_RESET_TIMEOUT. The link and its key exist only in
the e-mail: never in the audit log, the logs or the database.

`invitation_send` is the side effect that governance.services.admin_users schedules on commit; it
re-reads the user and sends nothing once the invitation no longer applies.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from governance.choices import AuthSource
from governance.models import User

logger = logging.getLogger(__name__)


def invitation_applies(user: User) -> bool:
    """A local, active person who has not chosen a password yet (service and SSO accounts never have one)."""
    return (
        user.is_active
        and not user.is_service_account
        and user.auth_source != AuthSource.SSO
        and not user.has_usable_password()
    )


def _absolute(path: str) -> str:
    # Services take no request: the link is built on the request allauth's middleware keeps in its
    # context (console and API). Without one (shell, jobs) the first trusted origin names the site.
    from allauth.core import context

    if context.request is not None:
        return context.request.build_absolute_uri(path)
    origins = settings.CSRF_TRUSTED_ORIGINS
    base = origins[0] if origins else f"http://{settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else 'localhost'}"
    return base.rstrip("/") + path


def invitation_url(user: User) -> str:
    """allauth's set-password link for `user`: valid until a password is set or PASSWORD_RESET_TIMEOUT passes."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = default_token_generator.make_token(user)
    return _absolute(
        reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    )


def invitation_send(*, user_id: int, inviter_id: int | None) -> bool:
    """Send the invitation through the configured e-mail backend; False when it no longer applies."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not invitation_applies(user):
        return False
    inviter = User.objects.filter(pk=inviter_id).first() if inviter_id else None
    context = {
        "app_name": settings.APP_NAME,
        "user": user,
        "role": user.get_role_display(),
        "inviter": (inviter.full_name or inviter.email) if inviter else settings.APP_NAME,
        "inviter_email": inviter.email if inviter else "",
        "set_password_url": invitation_url(user),
        "valid_days": max(1, round(settings.PASSWORD_RESET_TIMEOUT / 86400)),
        "login_url": _absolute(reverse("account_login")),
    }
    subject = " ".join(render_to_string("governance/email/invitation_subject.txt", context).split())
    body = render_to_string("governance/email/invitation_message.txt", context)
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]).send()
    logger.info("invitation_sent", extra={"user_id": user.pk})
    return True
