"""django-allauth adapter: no public sign-up; admins create accounts (ACC-20)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.SELF_REGISTRATION_ENABLED
