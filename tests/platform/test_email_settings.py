"""EMAIL_URL selects the outgoing mail backend (OPS-12)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from genxsop.settings.email import email_settings


def test_empty_url_prints_mail_to_the_console():
    assert email_settings("")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert email_settings("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")


def test_smtp_with_starttls_and_encoded_credentials():
    config = email_settings("smtp://mailer%40example.com:p%40ss@mail.example.com:587")
    assert config["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("mail.example.com", 587)
    assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == ("mailer@example.com", "p@ss")
    assert (config["EMAIL_USE_TLS"], config["EMAIL_USE_SSL"]) == (True, False)


def test_smtps_uses_implicit_tls_on_465():
    config = email_settings("smtps://u:p@mail.example.com")
    assert (config["EMAIL_PORT"], config["EMAIL_USE_SSL"], config["EMAIL_USE_TLS"]) == (465, True, False)


def test_plain_relay_without_tls_when_asked():
    config = email_settings("smtp://relay.internal:25?tls=false")
    assert (config["EMAIL_PORT"], config["EMAIL_USE_TLS"]) == (25, False)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://host:notaport"])
def test_malformed_urls_stop_startup(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings(url)
