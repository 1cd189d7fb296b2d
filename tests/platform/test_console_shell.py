"""The console shell (UI-01), sign-in (UI-02), the dashboard landing and error pages."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from genxsop import context, errors_views
from governance.choices import Role
from planning import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CATALOG_LINK = f'href="{reverse("planning:product_list")}"'


@pytest.fixture
def signed_in(client, users):
    def login(role: str):
        client.force_login(users[role])
        return client

    return login


def nav_html(response) -> str:
    match = re.search(r'<nav class="sidebar__nav".*?</nav>', response.content.decode(), re.DOTALL)
    assert match, "sidebar navigation missing"
    return match.group(0)


# Shell ------------------------------------------------------------------------


def test_anonymous_dashboard_redirects_to_login_with_next(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_shell_has_brand_version_footer_and_user_menu(signed_in, users):
    response = signed_in(Role.DEMAND_PLANNER).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="sidebar__label sidebar__name">GenXSOP</span>' in html
    assert "GenXSOP v0.1.0" in html
    user = users[Role.DEMAND_PLANNER]
    menu = re.search(r'<details class="user-menu".*?</details>', html, re.DOTALL).group(0)
    assert user.full_name in menu
    assert "Demand Planner" in menu
    assert user.email in menu
    assert re.search(
        r'<form method="post" action="/accounts/logout/">\s*<input type="hidden" name="csrfmiddlewaretoken"', menu
    )
    assert "Sign out</button>" in menu


def test_shell_loads_only_our_own_static_assets(signed_in, client):
    html = signed_in(Role.ADMIN).get("/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:css|js|svg))"', html)
    assert {"/static/css/console.css", "/static/js/console.js", "/static/js/theme.js"} <= set(assets)
    for asset in assets:
        assert asset.startswith("/static/"), f"external asset {asset}"
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize(
    ("role", "catalog", "administration"),
    [
        (Role.ADMIN, True, True),
        (Role.EXECUTIVE, True, False),
        (Role.DEMAND_PLANNER, True, False),
        (Role.SUPPLY_PLANNER, True, False),
        (Role.INVENTORY_MANAGER, True, False),
        (Role.FINANCE_ANALYST, True, False),
        (Role.SOP_COORDINATOR, True, False),
        (Role.VIEWER, False, False),
    ],
)
def test_navigation_lists_only_modules_the_role_may_read(signed_in, role, catalog, administration):
    nav = nav_html(signed_in(role).get("/"))
    assert ">Dashboard<" in nav
    assert (CATALOG_LINK in nav) is catalog
    assert ('href="/administration/users/"' in nav) is administration


def test_current_section_is_marked_in_the_navigation(signed_in):
    nav = nav_html(signed_in(Role.ADMIN).get(reverse("planning:location_list")))
    current = re.findall(r'<a class="nav-link is-current" href="([^"]+)" aria-current="page"', nav)
    assert current == [reverse("planning:product_list")]


def test_viewer_sees_no_catalog_link_and_gets_403_on_products(signed_in):
    client = signed_in(Role.VIEWER)
    assert CATALOG_LINK not in client.get("/").content.decode()
    response = client.get(reverse("planning:product_list"))
    assert response.status_code == 403
    assert "Access denied. Insufficient permissions." in response.content.decode()


def test_theme_toggle_and_sidebar_collapse_are_wired_by_data_attributes(signed_in):
    html = signed_in(Role.ADMIN).get("/").content.decode()
    assert 'data-theme-toggle aria-label="Switch to dark theme"' in html
    assert 'data-sidebar-toggle aria-controls="sidebar" aria-expanded="true"' in html
    assert '<dialog class="dialog" id="confirm-dialog"' in html


def test_messages_are_dismissible_banners(client, users):
    client.post("/accounts/login/", {"login": users[Role.ADMIN].email, "password": PASSWORD})
    html = client.get("/").content.decode()
    banner = re.search(r'<div class="alert alert--success" role="status" data-dismissible>.*?</div>', html, re.DOTALL)
    assert banner
    assert 'data-dismiss aria-label="Dismiss message"' in banner.group(0)


# Sign-in and sign-out ---------------------------------------------------------


def test_login_page_has_email_password_toggle_and_sign_in(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<label for="id_login">Email</label>' in html
    assert 'type="email" name="login"' in html
    assert 'type="password" name="password"' in html
    assert 'data-password-toggle="id_password"' in html
    assert ">Sign in</button>" in html
    assert "sign up" not in html.lower()


def test_demo_hint_only_in_development(client, settings):
    hint = "Demo credentials: admin@genxsop.com / Password123!"
    assert hint not in client.get("/accounts/login/").content.decode()
    settings.ENVIRONMENT = "development"
    assert hint in client.get("/accounts/login/").content.decode()


def test_sign_in_welcomes_the_user_by_full_name(client, users):
    response = client.post("/accounts/login/", {"login": "ADMIN@example.test", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    html = response.content.decode()
    assert f"Welcome back, {users[Role.ADMIN].full_name}." in html
    assert "Successfully signed in" not in html


def test_wrong_password_shows_an_error_and_stays_on_the_form(client, users):
    response = client.post("/accounts/login/", {"login": users[Role.ADMIN].email, "password": "wrong-password-1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The email address and/or password you specified are not correct." in html
    assert 'role="alert"' in html
    assert "_auth_user_id" not in client.session


def test_sign_in_returns_to_next(client, users):
    response = client.post(
        "/accounts/login/?next=/catalog/locations/", {"login": users[Role.ADMIN].email, "password": PASSWORD}
    )
    assert response["Location"] == "/catalog/locations/"


def test_sign_out_is_a_post_and_lands_on_the_login_page(signed_in):
    client = signed_in(Role.ADMIN)
    confirm = client.get("/accounts/logout/")
    assert confirm.status_code == 200
    assert "_auth_user_id" in client.session
    assert 'class="shell"' in confirm.content.decode()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("url", ["/accounts/password/reset/", "/accounts/signup/"])
def test_other_account_pages_use_our_layout(client, url):
    response = client.get(url)
    html = response.content.decode()
    assert '<body class="minimal">' in html
    assert "/static/css/console.css" in html


# Dashboard --------------------------------------------------------------------


def test_dashboard_shows_products_tracked_for_catalog_readers(signed_in, admin_user):
    drinks = services.category_create(actor=admin_user, name="Drinks")
    services.product_create(actor=admin_user, data={"sku": "A-1", "name": "A", "category": drinks})
    services.product_create(actor=admin_user, data={"sku": "A-2", "name": "B", "status": "new"})
    response = signed_in(Role.EXECUTIVE).get("/")
    html = response.content.decode()
    assert "Welcome, Executive" in html
    assert response.context["summary"]["products_tracked"] == 1  # active products only (API-DASH-01)
    assert 'data-tile="products"' in html


def test_dashboard_for_viewer_shows_the_cards_without_module_lists(signed_in, admin_user):
    services.product_create(actor=admin_user, data={"sku": "A-1", "name": "A"})
    response = signed_in(Role.VIEWER).get("/")
    assert response.status_code == 200
    assert response.context["full"] is False
    assert 'data-tile="products"' not in response.content.decode()
    assert CATALOG_LINK not in response.content.decode()


# Error pages ------------------------------------------------------------------


def test_404_page_is_friendly_and_shows_the_request_id(client):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404-abc")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "<code>req-404-abc</code>" in html
    assert '<body class="minimal">' in html


def test_403_page_shows_the_request_id(signed_in):
    response = signed_in(Role.VIEWER).get(reverse("planning:product_list"), HTTP_X_REQUEST_ID="req-403-abc")
    assert response.status_code == 403
    assert "<code>req-403-abc</code>" in response.content.decode()


@pytest.mark.parametrize(
    ("handler", "status", "text"),
    [
        (errors_views.bad_request, 400, "The request could not be understood."),
        (errors_views.server_error, 500, "Something went wrong on our side."),
    ],
)
def test_400_and_500_pages_show_the_request_id(handler, status, text):
    request = RequestFactory().get("/somewhere/")
    with context.bound_context(request_id="req-err-123", source="ui"):
        response = handler(request)
    assert response.status_code == status
    html = response.content.decode()
    assert text in html
    assert "<code>req-err-123</code>" in html
