"""Roles and data scopes change only through members.staff (audited), driven here through the
admin's real change form: nobody raises their own access, nobody grants more than they hold,
only superusers make superusers or give single permissions."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission, User

from core.models import AuditLog
from core.roles import Role
from members.models import StaffProfile
from tests.members.factories import StaffFactory

pytestmark = pytest.mark.django_db


class _FormScraper(HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file", "button"):
            checkable = attrs.get("type") in ("checkbox", "radio")
            if checkable and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value", "on" if checkable else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data


def change_form(client, user) -> dict:
    response = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert response.status_code == 200
    scraper = _FormScraper()
    scraper.feed(response.content.decode())
    data = {k: v for k, v in scraper.data.items() if k not in ("q", "password")}
    data.pop("csrfmiddlewaretoken", None)
    return data


def submit(client, user, data):
    return client.post(f"/admin/auth/user/{user.pk}/change/", data)


def staff(role, **kwargs):
    return StaffFactory(user__role=role, user__is_staff=True, **kwargs)


@pytest.fixture
def hq(client):
    profile = staff(Role.HQ_ADMIN)
    client.force_login(profile.user)
    return profile.user


@pytest.fixture
def root(client):
    user = User.objects.create_superuser("root", "root@mall.example", "pw-root-2026")
    client.force_login(user)
    return user


def test_an_hq_admin_cannot_make_anyone_a_superuser_or_give_permissions(client, hq):
    other = staff(Role.CUSTOMER_SERVICE).user
    perm = Permission.objects.get(codename="delete_user")
    for target in (hq, other):
        data = change_form(client, target)
        assert "is_superuser" not in data and "user_permissions" not in data  # not on the form
        data |= {"is_superuser": ["on"], "user_permissions": [str(perm.pk)]}
        assert submit(client, target, data).status_code == 302
        target.refresh_from_db()
        assert not target.is_superuser
        assert not target.user_permissions.exists()


def test_an_hq_admin_cannot_open_a_superusers_account(client, hq):
    boss = User.objects.create_superuser("boss", "boss@mall.example", "pw-boss-2026")
    assert client.get(f"/admin/auth/user/{boss.pk}/change/").status_code == 403
    assert client.post(f"/admin/auth/user/{boss.pk}/password/", {}).status_code == 403


def test_a_role_and_scope_change_goes_through_the_service_and_is_audited(
    client, hq, store_a, store_b
):
    clerk = staff(Role.CUSTOMER_SERVICE, scope=StaffProfile.Scope.STORE, store=store_a)
    data = change_form(client, clerk.user)
    data |= {"staff_profile-0-role": [Role.STORE_MANAGER], "staff_profile-0-store": [store_b.pk]}
    assert submit(client, clerk.user, data).status_code == 302

    clerk.refresh_from_db()
    assert clerk.store == store_b
    assert list(clerk.user.groups.values_list("name", flat=True)) == [Role.STORE_MANAGER]
    row = AuditLog.objects.get(action="members.staff.access_changed")
    assert row.actor == hq
    assert row.data["before"] == {
        "role": Role.CUSTOMER_SERVICE,
        "scope": "store",
        "region": None,
        "store": store_a.pk,
    }
    assert row.data["after"]["role"] == Role.STORE_MANAGER
    assert row.data["after"]["store"] == store_b.pk


def test_the_groups_field_cannot_bypass_the_service(client, hq):
    clerk = staff(Role.CUSTOMER_SERVICE)
    from django.contrib.auth.models import Group

    data = change_form(client, clerk.user)
    data["groups"] = [str(Group.objects.get(name=Role.HQ_ADMIN).pk)]
    submit(client, clerk.user, data)
    assert list(clerk.user.groups.values_list("name", flat=True)) == [Role.CUSTOMER_SERVICE]


def test_nobody_raises_their_own_role_or_scope(client, store_a):
    regional = staff(Role.STORE_MANAGER, scope=StaffProfile.Scope.STORE, store=store_a)
    regional.user.user_permissions.add(Permission.objects.get(codename="change_user"))
    regional.user.user_permissions.add(Permission.objects.get(codename="change_staffprofile"))
    regional.user.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(regional.user)

    data = change_form(client, regional.user)
    data |= {"staff_profile-0-role": [Role.HQ_ADMIN], "staff_profile-0-scope": ["all"]}
    data["staff_profile-0-store"] = [""]
    response = submit(client, regional.user, data)
    assert response.status_code == 200  # the form again, with the reason
    assert "不能修改自己的角色或数据范围" in response.content.decode()
    regional.refresh_from_db()
    assert regional.scope == StaffProfile.Scope.STORE
    assert list(regional.user.groups.values_list("name", flat=True)) == [Role.STORE_MANAGER]
    assert not AuditLog.objects.filter(action="members.staff.access_changed").exists()

    # editing their own name, access unchanged, still works
    data = change_form(client, regional.user) | {"staff_profile-0-name": ["新名字"]}
    assert submit(client, regional.user, data).status_code == 302
    regional.refresh_from_db()
    assert regional.name == "新名字"


def test_nobody_grants_more_than_they_hold(client, store_a, store_b):
    manager = staff(Role.STORE_MANAGER, scope=StaffProfile.Scope.STORE, store=store_a)
    for codename in ("change_user", "view_user", "change_staffprofile"):
        manager.user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(manager.user)
    clerk = staff(Role.CUSTOMER_SERVICE, scope=StaffProfile.Scope.STORE, store=store_a)

    wider = change_form(client, clerk.user) | {"staff_profile-0-store": [store_b.pk]}
    assert submit(client, clerk.user, wider).status_code == 200
    stronger = change_form(client, clerk.user) | {"staff_profile-0-role": [Role.HQ_ADMIN]}
    assert submit(client, clerk.user, stronger).status_code == 200
    clerk.refresh_from_db()
    assert clerk.store == store_a
    assert list(clerk.user.groups.values_list("name", flat=True)) == [Role.CUSTOMER_SERVICE]


def test_a_superuser_grants_superuser_audited_but_not_to_themselves(client, root):
    other = staff(Role.HQ_ADMIN).user
    data = change_form(client, other) | {"is_superuser": ["on"]}
    assert submit(client, other, data).status_code == 302
    other.refresh_from_db()
    assert other.is_superuser
    assert AuditLog.objects.filter(
        action="auth.user.superuser_granted", target_id=str(other.pk), actor=root
    ).exists()

    own = change_form(client, root)
    own.pop("is_superuser")
    assert submit(client, root, own).status_code == 200
    root.refresh_from_db()
    assert root.is_superuser
