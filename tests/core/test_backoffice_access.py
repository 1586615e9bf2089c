import pytest
from django.contrib.auth.models import Group, Permission, User

from core.roles import ROLE_PERMISSIONS, Role
from core.templatetags.money import yuan
from tests.members.factories import StaffFactory


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/backoffice/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/backoffice/"


@pytest.mark.django_db
def test_a_user_without_staff_profile_is_refused(client):
    client.force_login(User.objects.create_user("shopper", password="x"))
    assert client.get("/backoffice/").status_code == 403


@pytest.mark.django_db
def test_staff_cannot_sign_themselves_up(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "intruder", "password1": "Secr3t-pass-1", "password2": "Secr3t-pass-1"},
    )
    assert not User.objects.filter(username="intruder").exists()
    assert response.status_code == 200 and "signup_closed" in response.templates[0].name


@pytest.mark.django_db
def test_every_role_is_a_group_created_by_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


@pytest.mark.django_db
def test_role_permissions_follow_the_matrix():
    manager = StaffFactory(user__role=Role.STORE_MANAGER).user
    assert manager.has_perm("members.view_member")
    assert not manager.has_perm("members.change_member")
    assert not manager.has_perm("core.view_auditlog")
    hq = StaffFactory(user__role=Role.HQ_ADMIN).user
    assert hq.has_perm("members.change_member") and hq.has_perm("loyalty.view_receipt")
    analyst = StaffFactory(user__role=Role.ANALYST).user
    assert not analyst.has_perm("members.change_member")


@pytest.mark.django_db
def test_every_exact_permission_in_the_matrix_exists():
    """A typo in ROLE_PERMISSIONS would silently grant nothing."""
    existing = {
        f"{app}.{code}"
        for app, code in Permission.objects.values_list("content_type__app_label", "codename")
    }
    named = {p for perms in ROLE_PERMISSIONS.values() for p in perms if not p.endswith(".*")}
    assert named - existing == set()


@pytest.mark.django_db
def test_the_nav_shows_administration_only_to_admin_site_users(client):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    assert "/admin/" not in client.get("/backoffice/").content.decode()
    client.force_login(StaffFactory(user__role=Role.HQ_ADMIN, user__is_staff=True).user)
    assert "/admin/" in client.get("/backoffice/").content.decode()


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (12345, "123.45"),
        (-250, "-2.50"),
        (123456789, "1,234,567.89"),
        (None, ""),
    ],
)
def test_yuan_shows_fen_without_floats(fen, shown):
    assert yuan(fen) == shown
