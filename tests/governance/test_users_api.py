"""User administration API (API-AUTH-09…18): directory, accounts, lifecycle and scopes."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from governance.choices import AuthSource, Role
from governance.models import ApiToken, AuditEvent, AuthToken, User
from governance.services import api_token_create
from governance.services.scopes import user_scopes_set
from planning import services as catalog
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
API = "/api/v1/auth/users"


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def admin_api_session(admin_user):
    return session_client(admin_user)


# Directory ----------------------------------------------------------------------------------


def test_directory_gives_reduced_fields_to_non_admins(users):
    body = session_client(users[Role.DEMAND_PLANNER]).get(API).json()
    assert body["total"] == len(Role)
    assert set(body["items"][0]) == {"id", "full_name", "email", "role", "department", "is_active"}
    names = [u["full_name"] for u in body["items"]]
    assert names == sorted(names)


def test_directory_is_forbidden_to_viewers_and_anonymous(users):
    assert session_client(users[Role.VIEWER]).get(API).status_code == 403
    assert APIClient().get(API).status_code == 401


def test_admin_list_has_full_rows_and_filters(admin_api_session, users):
    body = admin_api_session.get(API, {"role": "executive"}).json()
    assert [u["email"] for u in body["items"]] == ["executive@example.test"]
    row = body["items"][0]
    for key in ("last_login", "locked_until", "auth_source", "mfa_enabled", "scope_count", "token_count"):
        assert key in row
    assert admin_api_session.get(API, {"search": "finance_analyst@"}).json()["total"] == 1
    assert admin_api_session.get(API, {"is_active": "false"}).json()["total"] == 0
    assert admin_api_session.get(API, {"role": "nope"}).status_code == 400


def test_admin_list_query_count_does_not_grow_with_users(
    admin_api_session, users, make_user, django_assert_max_num_queries
):
    admin_api_session.get(API)
    for _ in range(15):
        make_user(Role.DEMAND_PLANNER)
    with django_assert_max_num_queries(8):
        assert admin_api_session.get(API, {"page_size": 50}).status_code == 200


def test_api_tokens_cannot_manage_users(admin_user, api_client_for):
    response = api_client_for(admin_user).get(API)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "TOKEN_SCOPE_INSUFFICIENT"


# Create and update --------------------------------------------------------------------------


def test_admin_creates_a_user_without_password(admin_api_session):
    response = admin_api_session.post(
        API, {"email": "New.Person@Example.test", "full_name": "New Person", "role": "supply_planner"}, format="json"
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(pk=response.json()["id"])
    assert user.email == "new.person@example.test"
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(event_type="governance.user.created", target_id=str(user.pk)).exists()


def test_duplicate_email_is_409(admin_api_session, users):
    response = admin_api_session.post(API, {"email": "VIEWER@example.test", "full_name": "Dup"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "DUPLICATE_ENTITY"


def test_service_account_has_no_password_and_cannot_sign_in(admin_api_session):
    response = admin_api_session.post(
        API, {"email": "erp@example.test", "full_name": "ERP", "role": "sop_coordinator", "is_service_account": True},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    account = User.objects.get(email="erp@example.test")
    assert account.is_service_account
    assert not account.has_usable_password()
    # even with a password somehow set, the console login refuses it (ACC-26)
    account.set_password(PASSWORD)
    account.save()
    client = Client()
    client.post("/accounts/login/", {"login": "erp@example.test", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_non_admins_cannot_create_users(users):
    response = session_client(users[Role.SOP_COORDINATOR]).post(
        API, {"email": "x@example.test", "full_name": "X"}, format="json"
    )
    assert response.status_code == 403


def test_patch_changes_role_and_department_with_audit(admin_api_session, users):
    target = users[Role.VIEWER]
    response = admin_api_session.patch(
        f"{API}/{target.pk}", {"role": "finance_analyst", "department": "Finance"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "finance_analyst"
    target.refresh_from_db()
    assert (target.role, target.department) == ("finance_analyst", "Finance")
    assert list(target.groups.values_list("name", flat=True)) == ["finance_analyst"]
    assert AuditEvent.objects.filter(event_type="governance.user.role_changed", target_id=str(target.pk)).exists()
    assert AuditEvent.objects.filter(event_type="governance.user.updated", target_id=str(target.pk)).exists()


def test_patch_refuses_unknown_fields(admin_api_session, users):
    response = admin_api_session.patch(f"{API}/{users[Role.VIEWER].pk}", {"email": "x@y.z"}, format="json")
    assert response.status_code == 400


def test_role_managed_by_idp_is_409(admin_api_session, users):
    target = users[Role.VIEWER]
    User.objects.filter(pk=target.pk).update(role_managed_by=AuthSource.SSO)
    response = admin_api_session.patch(f"{API}/{target.pk}", {"role": "executive"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ROLE_MANAGED_BY_IDP"


def test_demoting_the_last_active_admin_is_409(admin_api_session, admin_user):
    response = admin_api_session.patch(f"{API}/{admin_user.pk}", {"role": "viewer"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "BUSINESS_RULE_VIOLATION"
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


def test_detail_is_admin_only(admin_api_session, users):
    target = users[Role.VIEWER]
    assert admin_api_session.get(f"{API}/{target.pk}").status_code == 200
    assert session_client(users[Role.EXECUTIVE]).get(f"{API}/{target.pk}").status_code == 403
    assert admin_api_session.get(f"{API}/999999").status_code == 404


# Lifecycle ----------------------------------------------------------------------------------


def test_deactivate_ends_sessions_and_every_token(admin_api_session, users):
    target = users[Role.DEMAND_PLANNER]
    Client().force_login(target)
    token, _ = api_token_create(actor=target, user=target, name="t", scopes=["planning:read"])
    AuthToken.objects.create(key="k" * 16, digest="d" * 64, kind="access", user=target,
                             family_id="00000000-0000-0000-0000-000000000001",
                             expires_at=timezone.now() + timezone.timedelta(minutes=30))  # fmt: skip
    response = admin_api_session.post(f"{API}/{target.pk}/deactivate", {"reason": "left"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert not any(s.get_decoded().get("_auth_user_id") == str(target.pk) for s in Session.objects.all())
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert not AuthToken.objects.filter(user=target, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(event_type="governance.user.deactivated", target_id=str(target.pk)).exists()
    # and back
    response = admin_api_session.post(f"{API}/{target.pk}/reactivate")
    assert response.status_code == 200
    assert response.json()["is_active"] is True


def test_deactivating_yourself_is_409(admin_api_session, admin_user):
    assert admin_api_session.post(f"{API}/{admin_user.pk}/deactivate").status_code == 409


def test_deactivating_the_last_active_admin_is_409(admin_user, make_user):
    other = make_user(Role.ADMIN)
    client = session_client(other)
    User.objects.filter(pk=other.pk).update(role=Role.ADMIN)  # still active: admin_user can be deactivated
    assert client.post(f"{API}/{admin_user.pk}/deactivate").status_code == 200
    # now `other` is the last one; a third admin cannot remove them either
    third = make_user(Role.ADMIN)
    User.objects.filter(pk=third.pk).update(is_active=False)
    assert session_client(other).post(f"{API}/{other.pk}/deactivate").status_code == 409


def test_unlock_clears_the_lockout(admin_api_session, users):
    target = users[Role.VIEWER]
    User.objects.filter(pk=target.pk).update(
        failed_login_count=5, locked_until=timezone.now() + timezone.timedelta(minutes=10)
    )
    response = admin_api_session.post(f"{API}/{target.pk}/unlock")
    assert response.status_code == 200
    target.refresh_from_db()
    assert (target.failed_login_count, target.locked_until) == (0, None)
    assert AuditEvent.objects.filter(event_type="governance.user.unlocked", target_id=str(target.pk)).exists()


def test_reset_password_applies_policy_and_ends_sessions(admin_api_session, users):
    target = users[Role.VIEWER]
    Client().force_login(target)
    assert admin_api_session.post(f"{API}/{target.pk}/reset-password", {"new_password": "short"},
                                  format="json").status_code == 400  # fmt: skip
    response = admin_api_session.post(
        f"{API}/{target.pk}/reset-password", {"new_password": "An0ther-Long-Passphrase"}, format="json"
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.check_password("An0ther-Long-Passphrase")
    assert not any(s.get_decoded().get("_auth_user_id") == str(target.pk) for s in Session.objects.all())
    event = AuditEvent.objects.get(event_type="governance.user.password_reset", target_id=str(target.pk))
    assert "An0ther" not in str(event.after) + str(event.metadata)


def test_reset_password_of_an_sso_account_is_409(admin_api_session, users):
    target = users[Role.VIEWER]
    User.objects.filter(pk=target.pk).update(auth_source=AuthSource.SSO)
    response = admin_api_session.post(
        f"{API}/{target.pk}/reset-password", {"new_password": "An0ther-Long-Passphrase"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "SSO_ONLY_ACCOUNT"


# Scopes -------------------------------------------------------------------------------------


def test_scopes_put_and_get(admin_api_session, admin_user, users):
    apparel = catalog.category_create(actor=admin_user, name="Apparel")
    target = users[Role.DEMAND_PLANNER]
    response = admin_api_session.put(
        f"{API}/{target.pk}/scopes", {"scopes": [{"type": "category", "id": apparel.pk, "access": "change"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    expected = [{"type": "category", "id": apparel.pk, "code_or_name": "Apparel", "access": "change"}]
    assert response.json() == expected
    assert session_client(target).get(f"{API}/{target.pk}/scopes").json() == expected  # self
    assert session_client(users[Role.SUPPLY_PLANNER]).get(f"{API}/{target.pk}/scopes").status_code == 403
    assert session_client(target).put(f"{API}/{target.pk}/scopes", {"scopes": []}, format="json").status_code == 403
    row = admin_api_session.get(f"{API}/{target.pk}").json()
    assert row["scope_count"] == 1


def test_scopes_for_unrestricted_roles_are_400(admin_api_session, admin_user, users):
    apparel = catalog.category_create(actor=admin_user, name="Apparel")
    response = admin_api_session.put(
        f"{API}/{users[Role.EXECUTIVE].pk}/scopes",
        {"scopes": [{"type": "category", "id": apparel.pk, "access": "view"}]}, format="json",
    )  # fmt: skip
    assert response.status_code == 400


def test_me_lists_the_callers_scopes(admin_user, users):
    apparel = catalog.category_create(actor=admin_user, name="Apparel")
    planner = users[Role.DEMAND_PLANNER]
    user_scopes_set(actor=admin_user, user=planner, scopes=[{"type": "category", "id": apparel.pk, "access": "view"}])
    body = session_client(planner).get("/api/v1/auth/me").json()
    assert body["scopes"] == [{"type": "category", "id": apparel.pk, "code_or_name": "Apparel", "access": "view"}]
    assert session_client(users[Role.EXECUTIVE]).get("/api/v1/auth/me").json()["scopes"] == []
