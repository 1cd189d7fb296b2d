"""The interactive API documentation works offline and under the console CSP (API-01, OPS-09)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_swagger_ui_is_served_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the page loads its assets"
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    for url in assets:
        assert client.get(url).status_code == 200, url


def test_swagger_ui_inline_style_carries_the_response_nonce(client):
    response = client.get("/api/docs/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    assert re.findall(r"<style[^>]*>", html) == [f'<style nonce="{nonce}">']
    assert "<script>" not in html  # the split view serves its script from a URL, not inline


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/"])
def test_legacy_documentation_paths_redirect_to_the_docs(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
