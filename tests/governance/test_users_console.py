"""Administration console (UI-20): users list, create, edit, lifecycle and the scope editor."""

import re

import pytest
from django.urls import reverse

from governance.choices import Role
from governance.models import AuditEvent, User
from governance.services.scopes import user_scopes
from planning import services as catalog

pytestmark = pytest.mark.django_db
USERS = reverse("administration:user_list")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_only_admins_open_the_administration(client, users):
    for role in Role:
        if role == Role.ADMIN:
            continue
        client.force_login(users[role])
        assert client.get(USERS).status_code == 403
    client.logout()
    assert client.get(USERS).status_code == 302  # to the login page


def test_navigation_points_admins_at_the_users_page(admin_client, client, users):
    page = admin_client.get("/").content.decode()
    assert f'href="{USERS}"' in page
    client.force_login(users[Role.EXECUTIVE])
    assert f'href="{USERS}"' not in client.get("/").content.decode()


def test_list_filters_by_role_and_search_and_links_the_django_admin(admin_client, users):
    page = admin_client.get(USERS, {"role": "executive"}).content.decode()
    assert "executive@example.test" in page
    assert "viewer@example.test" not in page
    assert reverse("admin:index") in page
    page = admin_client.get(USERS, {"search": "finance_analyst"}).content.decode()
    assert "finance_analyst@example.test" in page
    assert "executive@example.test" not in page


def test_pages_have_no_inline_scripts_or_styles(admin_client, admin_user, users):
    for url in (USERS, reverse("administration:user_create"),
                reverse("administration:user_detail", args=[users[Role.VIEWER].pk]),
                reverse("administration:user_scopes", args=[users[Role.VIEWER].pk])):  # fmt: skip
        html = admin_client.get(url).content.decode()
        assert " style=" not in html
        assert "<style" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*nonce=)(?![^>]*application/json)", html)


def test_create_user(admin_client):
    response = admin_client.post(
        reverse("administration:user_create"),
        {"email": "new@example.test", "full_name": "New Person", "role": "supply_planner", "department": "Ops"},
    )
    user = User.objects.get(email="new@example.test")
    assert response.status_code == 302
    assert response["Location"] == reverse("administration:user_detail", args=[user.pk])
    assert user.role == "supply_planner"
    assert not user.has_usable_password()


def test_duplicate_email_is_a_form_error(admin_client, users):
    response = admin_client.post(
        reverse("administration:user_create"), {"email": "viewer@example.test", "full_name": "Dup", "role": "viewer"}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_edit_role_and_department(admin_client, users):
    target = users[Role.VIEWER]
    url = reverse("administration:user_detail", args=[target.pk])
    response = admin_client.post(url, {"full_name": "Vera Viewer", "role": "executive", "department": "Board"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.full_name, target.role, target.department) == ("Vera Viewer", "executive", "Board")


def test_last_admin_demotion_is_shown_on_the_form(admin_client, admin_user):
    url = reverse("administration:user_detail", args=[admin_user.pk])
    response = admin_client.post(url, {"full_name": admin_user.full_name, "role": "viewer", "department": ""})
    assert response.status_code == 200
    assert "last active administrator" in response.content.decode()


def test_deactivate_reactivate_unlock_and_reset_password(admin_client, users):
    target = users[Role.DEMAND_PLANNER]
    detail = reverse("administration:user_detail", args=[target.pk])
    assert admin_client.post(reverse("administration:user_deactivate", args=[target.pk])).status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    admin_client.post(reverse("administration:user_reactivate", args=[target.pk]))
    target.refresh_from_db()
    assert target.is_active
    User.objects.filter(pk=target.pk).update(failed_login_count=3)
    admin_client.post(reverse("administration:user_unlock", args=[target.pk]))
    target.refresh_from_db()
    assert target.failed_login_count == 0
    response = admin_client.post(
        reverse("administration:user_reset_password", args=[target.pk]), {"new_password": "short"}, follow=True
    )
    assert response.redirect_chain[-1][0] == detail
    target.refresh_from_db()
    assert not target.check_password("short")
    admin_client.post(reverse("administration:user_reset_password", args=[target.pk]),
                      {"new_password": "Brand-New-Passphrase-7"})  # fmt: skip
    target.refresh_from_db()
    assert target.check_password("Brand-New-Passphrase-7")
    assert admin_client.get(reverse("administration:user_deactivate", args=[target.pk])).status_code == 405


def test_deactivating_yourself_is_an_error_message(admin_client, admin_user):
    response = admin_client.post(reverse("administration:user_deactivate", args=[admin_user.pk]), follow=True)
    assert "cannot deactivate your own account" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_scope_editor_saves_the_set(admin_client, admin_user, users):
    apparel = catalog.category_create(actor=admin_user, name="Apparel")
    footwear = catalog.category_create(actor=admin_user, name="Footwear", parent=apparel)
    dc = catalog.location_create(actor=admin_user, data={"code": "DC-EU", "name": "Europe", "location_type": "plant"})
    target = users[Role.DEMAND_PLANNER]
    url = reverse("administration:user_scopes", args=[target.pk])
    page = admin_client.get(url).content.decode()
    assert f'name="category-{footwear.pk}"' in page
    assert f'name="location-{dc.pk}"' in page
    response = admin_client.post(url, {f"category-{apparel.pk}": "change", f"category-{footwear.pk}": "",
                                       f"location-{dc.pk}": "view"})  # fmt: skip
    assert response.status_code == 302
    assert [(g["type"], g["id"], g["access"]) for g in user_scopes(target)] == [
        ("category", apparel.pk, "change"), ("location", dc.pk, "view"),
    ]  # fmt: skip
    assert AuditEvent.objects.filter(event_type="governance.scope.granted", target_id=str(target.pk)).count() == 2


def test_scope_editor_refuses_unrestricted_roles(admin_client, admin_user, users):
    apparel = catalog.category_create(actor=admin_user, name="Apparel")
    target = users[Role.EXECUTIVE]
    url = reverse("administration:user_scopes", args=[target.pk])
    assert "always unrestricted" in admin_client.get(url).content.decode()
    admin_client.post(url, {f"category-{apparel.pk}": "view"})
    assert user_scopes(target) == []


def test_unknown_user_is_404(admin_client):
    assert admin_client.get(reverse("administration:user_detail", args=[999999])).status_code == 404
