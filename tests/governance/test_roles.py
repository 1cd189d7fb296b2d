"""Roles are groups holding the permission matrix (ACC-01…03, ACC-06)."""

import pytest
from django.contrib.auth.models import Group

from genxsop.errors import PermissionDenied, ValidationFailed
from governance.choices import Role
from governance.models import AuditEvent
from governance.roles import ROLE_PERMISSIONS, sync_role_groups
from governance.services import user_set_role

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_each_user_belongs_to_exactly_the_group_of_their_role(users):
    for role, user in users.items():
        assert list(user.groups.values_list("name", flat=True)) == [role]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.VIEWER])
def test_every_role_but_viewer_may_read_the_catalog(users, role):
    assert users[role].has_perm("planning.view_product")
    assert users[role].has_perm("planning.view_category")


def test_viewer_has_no_catalog_read_scope(users):
    assert not users[Role.VIEWER].has_perm("planning.view_product")


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_admin_may_write_the_catalog(users, role):
    for perm in ("planning.add_product", "planning.change_product", "planning.discontinue_product"):
        assert not users[role].has_perm(perm)
    assert users[Role.ADMIN].has_perm("planning.discontinue_product")


def test_admin_is_staff_and_others_are_not(users):
    assert users[Role.ADMIN].is_staff
    assert not any(users[r].is_staff for r in Role if r != Role.ADMIN)


def test_sync_repairs_a_group_whose_permissions_were_tampered_with():
    group = Group.objects.get(name=Role.DEMAND_PLANNER)
    group.permissions.clear()
    sync_role_groups()
    names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert names == ROLE_PERMISSIONS[Role.DEMAND_PLANNER]


def test_role_change_moves_the_user_to_the_new_group_and_is_audited(users):
    target = users[Role.VIEWER]
    user_set_role(actor=users[Role.ADMIN], user=target, role=Role.DEMAND_PLANNER)
    target.refresh_from_db()
    assert target.role == Role.DEMAND_PLANNER
    assert list(target.groups.values_list("name", flat=True)) == [Role.DEMAND_PLANNER]
    assert target.has_perm("planning.view_product")
    event = AuditEvent.objects.get(event_type="governance.user.role_changed", target_id=str(target.pk))
    assert event.before == {"role": "viewer"}
    assert event.after == {"role": "demand_planner"}


def test_only_admins_change_roles(users):
    with pytest.raises(PermissionDenied):
        user_set_role(actor=users[Role.EXECUTIVE], user=users[Role.VIEWER], role=Role.ADMIN)
    users[Role.VIEWER].refresh_from_db()
    assert users[Role.VIEWER].role == Role.VIEWER


def test_unknown_role_is_refused(users):
    with pytest.raises(ValidationFailed):
        user_set_role(actor=users[Role.ADMIN], user=users[Role.VIEWER], role="superhero")
