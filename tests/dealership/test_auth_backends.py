import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealership.auth_backends import StaffModelBackend
from dealership.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def _permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="leads", codename=codename)


def test_a_signed_in_person_is_read_with_their_staff_record_in_one_query():
    member = factories.staff(Role.ADVISOR)
    with CaptureQueriesContext(connection) as captured:
        user = StaffModelBackend().get_user(member.user.pk)
        assert user.staff.role == Role.ADVISOR
    assert len(captured) == 1


def test_the_account_is_read_once_and_again_after_any_change_to_it_or_its_staff_record():
    member = factories.staff(Role.ADVISOR)
    backend = StaffModelBackend()
    backend.get_user(member.user.pk)
    with CaptureQueriesContext(connection) as captured:
        assert backend.get_user(member.user.pk).staff.role == Role.ADVISOR
    assert len(captured) == 0

    member.role = Role.SUPERVISOR
    member.save()
    assert backend.get_user(member.user.pk).staff.role == Role.SUPERVISOR
    member.user.first_name = "Renée"
    member.user.save()
    assert backend.get_user(member.user.pk).first_name == "Renée"
    member.user.is_active = False
    member.user.save()
    assert backend.get_user(member.user.pk) is None


def test_a_changed_password_still_signs_the_person_out(client):
    member = factories.staff(Role.SUPERVISOR)
    client.force_login(member.user)
    assert client.get("/leads/").status_code == 200
    member.user.set_password("a new secret phrase")
    member.user.save()
    assert client.get("/leads/").status_code == 302


def test_permissions_of_the_person_and_of_their_groups_in_one_query():
    user = factories.staff(Role.DEPARTMENT).user
    group = Group.objects.create(name="Rule editors")
    group.permissions.add(_permission("change_routingrule"))
    user.groups.add(group)
    user.user_permissions.add(_permission("delete_routingrule"))
    backend = StaffModelBackend()
    with CaptureQueriesContext(connection) as captured:
        permissions = backend.get_all_permissions(user)
        assert user.has_perm("leads.change_routingrule") and user.has_perm("leads.delete_routingrule")
    assert {"leads.change_routingrule", "leads.delete_routingrule"} <= permissions
    assert not user.has_perm("leads.add_routingrule")
    assert len(captured) == 1


def test_inactive_people_have_no_permissions_and_superusers_all():
    user = factories.staff(Role.SUPERVISOR).user
    user.is_active = False
    assert StaffModelBackend().get_all_permissions(user) == set()
    admin = factories.staff(Role.ADMIN).user
    admin.is_superuser = True
    assert len(StaffModelBackend().get_all_permissions(admin)) == Permission.objects.count()


def _fresh(user):
    """The same person as the next request reads them."""
    return StaffModelBackend().get_user(user.pk)


def test_permissions_are_cached_until_groups_or_permissions_change(django_capture_on_commit_callbacks):
    user = factories.staff(Role.DEPARTMENT).user
    assert not _fresh(user).has_perm("leads.change_routingrule")
    fresh = _fresh(user)
    with CaptureQueriesContext(connection) as captured:
        fresh.has_perm("leads.change_routingrule")
    assert len(captured) == 0  # the next request reads them from the cache
    group = Group.objects.create(name="Rule editors")
    with django_capture_on_commit_callbacks(execute=True):
        group.permissions.add(_permission("change_routingrule"))
        user.groups.add(group)
    assert _fresh(user).has_perm("leads.change_routingrule")
    with django_capture_on_commit_callbacks(execute=True):
        group.permissions.remove(_permission("change_routingrule"))
    assert not _fresh(user).has_perm("leads.change_routingrule")
    with django_capture_on_commit_callbacks(execute=True):
        user.user_permissions.add(_permission("change_routingrule"))
    assert _fresh(user).has_perm("leads.change_routingrule")
    with django_capture_on_commit_callbacks(execute=True):
        user.user_permissions.clear()
    assert not _fresh(user).has_perm("leads.change_routingrule")
