"""django-allauth adapter: no public sign-up; admins create accounts (ACC-20)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.SELF_REGISTRATION_ENABLED

    def get_logout_redirect_url(self, request) -> str:
        # ACC-31: an SSO session also ends at the identity provider; local sessions go to the login page.
        from governance.oidc import provider_logout_url

        return provider_logout_url(request)

    def pre_login(self, request, user, **kwargs):
        # ACC-26: service accounts authenticate only with API tokens, never at the console.
        if getattr(user, "is_service_account", False):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)
