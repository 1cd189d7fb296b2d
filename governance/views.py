"""Console Settings pages of the signed-in user (UI-19): Profile and Security.

Password change, TOTP enrolment and recovery codes are allauth's own views (templates/account and
templates/mfa render them in our layout); these pages show the state and link to them.
"""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.password_validation import password_validators_help_texts
from django.urls import reverse_lazy
from django.views.generic import FormView, RedirectView, TemplateView

from genxsop.console import ServiceFormMixin
from governance.choices import AuthSource
from governance.forms import ProfileForm
from governance.services import user_update_profile
from governance.services.sessions import mfa_enrolment_required

SETTINGS_TABS = [
    ("profile", "Profile", "governance:settings_profile"),
    ("security", "Security", "governance:settings_security"),
    ("tokens", "API tokens", "governance:api_token_list"),
]


class SettingsTabsMixin:
    settings_section = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(settings_tabs=SETTINGS_TABS, settings_section=self.settings_section)
        return context


class SettingsIndexView(LoginRequiredMixin, RedirectView):
    url = reverse_lazy("governance:settings_profile")


class ProfileSettingsView(LoginRequiredMixin, SettingsTabsMixin, ServiceFormMixin, FormView):
    template_name = "governance/settings_profile.html"
    form_class = ProfileForm
    settings_section = "profile"
    success_url = reverse_lazy("governance:settings_profile")
    success_message = "Your profile has been saved."

    def get_initial(self):
        user = self.request.user
        return {"full_name": user.full_name, "department": user.department}

    def save(self, data: dict):
        user = self.request.user
        return user_update_profile(actor=user, user=user, full_name=data["full_name"], department=data["department"])


class SecuritySettingsView(LoginRequiredMixin, SettingsTabsMixin, TemplateView):
    template_name = "governance/settings_security.html"
    settings_section = "security"

    def get_context_data(self, **kwargs):
        from allauth.mfa.models import Authenticator

        context = super().get_context_data(**kwargs)
        user = self.request.user
        authenticators = {a.type: a for a in Authenticator.objects.filter(user=user)}
        recovery = authenticators.get(Authenticator.Type.RECOVERY_CODES)
        context.update(
            is_local=user.auth_source == AuthSource.LOCAL,
            has_password=user.has_usable_password(),
            password_policy=password_validators_help_texts(),
            totp_enabled=Authenticator.Type.TOTP in authenticators,
            recovery_codes_left=len(recovery.wrap().get_unused_codes()) if recovery else 0,
            mfa_required=user.role in settings.MFA_REQUIRED_ROLES and user.auth_source == AuthSource.LOCAL,
            mfa_enrolment_pending=mfa_enrolment_required(user),
        )
        return context
