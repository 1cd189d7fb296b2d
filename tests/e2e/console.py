"""Steps the browser tests share."""


def sign_in(page, email: str, password: str, *, wait: bool = True) -> None:
    """Sign in through the console's login form; with `wait`, until the dashboard has loaded."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if wait:
        page.wait_for_url("**/")


def csp_violations(page) -> list[str]:
    """The Content Security Policy reports the browser logged on `page` (the `page` fixture collects them)."""
    return [m for m in page.console_messages if "Content Security Policy" in m or "Content-Security-Policy" in m]
