"""django-axes glue (ACC-18): which account an attempt is for, and what a locked-out visitor sees.

allauth posts `login=` and authenticates with `email=`; axes would otherwise read `username` and
record None, so every attempt is keyed on the lower-cased email however it arrived.
"""

import math

from django.forms.utils import ErrorDict
from django.http import JsonResponse
from django.shortcuts import render

from genxsop.api.errors import error_body
from genxsop.middleware import is_api_path
from governance.services.sessions import lockout_seconds_remaining


def get_username(request, credentials: dict | None) -> str | None:
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email") or credentials.get("login")
    if not value and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        try:
            value = data.get("login") or data.get("email") or data.get("username")
        except AttributeError:
            value = None
    if not value or not isinstance(value, str):
        return None
    return value.strip().lower()


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. This account is locked; try again in {minutes} {unit}."


def _only_error(form, message: str) -> None:
    """Show `message` as the form's only error (the "wrong password" error would say too much)."""
    form._errors = ErrorDict()
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    form.add_error(None, message)


def lockout_response(request, original_response=None, credentials=None):
    """The answer to any attempt on a locked account, right password or not (nothing reveals which).

    Console: the sign-in form again with the lockout error and the time remaining, HTTP 429.
    API: the error envelope with 429 TOO_MANY_ATTEMPTS and Retry-After.
    """
    username = get_username(request, credentials)
    seconds = lockout_seconds_remaining(username)
    message = lockout_message(seconds)
    if is_api_path(request.path_info):
        response = JsonResponse(error_body(status=429, code="TOO_MANY_ATTEMPTS", message=message), status=429)
        response["Retry-After"] = str(seconds)
        return response
    context = dict(getattr(original_response, "context_data", None) or {})
    template = getattr(original_response, "template_name", None) if context.get("form") is not None else None
    if template is None:
        from allauth.account.forms import LoginForm

        template = "account/login.html"
        context["form"] = LoginForm(request=request, initial={"login": username or ""})
    _only_error(context["form"], message)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(seconds)
    return response
