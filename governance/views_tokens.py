"""Console Settings → API tokens (UI-19, ACC-22…26): list, create (plaintext shown once), revoke.

Thin callers of governance.services (api_token_create / api_token_revoke) over the token selectors.
Everyone manages their own tokens; administrators see every user's (filter by owner) and may issue
tokens to other users and service accounts.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView

from genxsop import errors
from genxsop.console import filters_from, paginate, raise_page_error, safe_next
from governance import selectors, services
from governance.choices import Role
from governance.forms import ApiTokenForm
from governance.tokens import SCOPES
from governance.views import SettingsTabsMixin

LIST_URL = "governance:api_token_list"


def _owner_label(user) -> str:
    suffix = " · service account" if user.is_service_account else ""
    return f"{user.full_name} <{user.email}>{suffix}"


class ApiTokenListView(LoginRequiredMixin, SettingsTabsMixin, FormView):
    template_name = "governance/api_tokens.html"
    form_class = ApiTokenForm
    settings_section = "tokens"

    @property
    def is_admin(self) -> bool:
        return self.request.user.role == Role.ADMIN

    def _owners(self):
        return list(selectors.user_list(user=self.request.user, filters={"is_active": True})) if self.is_admin else []

    def get_initial(self):
        return {"expires_in_days": settings.API_TOKEN_DEFAULT_DAYS, "owner": self.request.user.pk}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["max_days"] = settings.API_TOKEN_MAX_DAYS
        if self.is_admin:
            kwargs["owners"] = [(u.pk, _owner_label(u)) for u in self._owners()]
        return kwargs

    def _token_rows(self, filters: dict):
        user = self.request.user
        include_revoked = filters.get("include_revoked") == "1"
        if self.is_admin:
            try:
                owner_id = int(filters["user_id"]) if filters.get("user_id") else None
            except ValueError:
                owner_id = None
            return selectors.api_token_admin_list(user=user, owner_id=owner_id, include_revoked=include_revoked)
        return selectors.api_token_list(user=user, include_revoked=include_revoked)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = filters_from(self.request, ("user_id", "include_revoked"))
        context.update(paginate(self.request, self._token_rows(filters)))
        now = timezone.now()
        context["rows"] = [
            (token, "revoked" if token.revoked_at else "expired" if token.expires_at <= now else "active")
            for token in context["page"].object_list
        ]
        context.update(
            filters=filters,
            is_admin=self.is_admin,
            owner_choices=[(str(u.pk), _owner_label(u)) for u in self._owners()] if self.is_admin else [],
            all_scopes=SCOPES,
            max_days=settings.API_TOKEN_MAX_DAYS,
        )
        return context

    def form_valid(self, form):
        user = self.request.user
        data = form.cleaned_data
        try:
            owner = user
            if data.get("owner") not in (None, user.pk):
                owner = selectors.user_get(user=user, pk=data["owner"])
            token, plaintext = services.api_token_create(
                actor=user,
                user=owner,
                name=data["name"],
                scopes=data["scopes"],
                expires_in_days=data["expires_in_days"],
                allowed_ips=data["allowed_ips"],
            )
        except errors.DomainError as exc:
            raise_page_error(exc)
            form.add_domain_error(exc)
            return self.form_invalid(form)
        # Rendered, not redirected: the plaintext lives only in this one response (ACC-23).
        fresh = self.form_class(initial=self.get_initial(), **{
            k: v for k, v in self.get_form_kwargs().items() if k not in ("data", "files", "initial")
        })  # fmt: skip
        response = self.render_to_response(self.get_context_data(form=fresh, created=token, plaintext=plaintext))
        response["Cache-Control"] = "no-store"
        return response


class ApiTokenRevokeView(LoginRequiredMixin, View):
    """POST only (the list's Revoke button asks for confirmation and an optional reason)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            token = selectors.api_token_get(user=request.user, pk=pk)
            services.api_token_revoke(actor=request.user, token=token, reason=request.POST.get("reason", "")[:255])
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Token “{token.name}” ({token.prefix}) has been revoked.")
        return HttpResponseRedirect(safe_next(request, reverse(LIST_URL)))
