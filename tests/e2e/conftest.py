"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

No `playwright install`: the browser is the system package. Without it the e2e tests skip,
except in CI (env CI set), where a missing browser must fail the run instead of hiding it.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread, which makes Django refuse ORM calls
# from the test body ("You cannot call this from an async context") unless told otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the e2e tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"chromium not found at {CHROMIUM}; install it with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test; console messages are collected on `page.console_messages`."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(f"{message.type}: {message.text}"))
    page.csp_reports = []
    page.on("request", lambda request: "/csp-report" in request.url and page.csp_reports.append(request.url))
    yield page
    context.close()
