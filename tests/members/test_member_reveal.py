"""Back office: members in scope with masked personal data; a full phone or ID number only for
roles allowed to, with a reason, one audit row per look."""

import re
from datetime import date

import pytest

from core.models import AuditLog
from core.roles import Role
from members.models import StaffProfile
from members.profile import member_identity_set
from tests.members.factories import MemberFactory, StaffFactory, national_id_make

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ID_NUMBER = national_id_make(date(1979, 10, 1), female=False)
FULL_PHONE_OR_ID = re.compile(r"1[3-9]\d{9}|\d{17}[\dXx]")


@pytest.fixture
def member(store_a):
    member = MemberFactory(phone=PHONE, name="欧阳娜娜", gender="U", home_store=store_a)
    return member_identity_set(member_id=member.pk, national_id=ID_NUMBER, national_id_consent=True)


def staff(role, **kwargs):
    return StaffFactory(user__role=role, **kwargs).user


def reveal(client, member, **data):
    return client.post(
        f"/backoffice/members/{member.pk}/reveal/",
        {"field": "phone", "reason": "工单 T-1024 回访"} | data,
    )


@pytest.mark.parametrize(
    ("role", "scope"),
    [(Role.HQ_ADMIN, "all"), (Role.STORE_MANAGER, "store")],
)
def test_allowed_roles_see_the_full_value_and_each_look_is_audited(client, member, role, scope):
    extra = (
        {"scope": StaffProfile.Scope.STORE, "store": member.home_store} if scope == "store" else {}
    )
    user = staff(role, **extra)
    client.force_login(user)
    response = reveal(client, member)
    assert response.status_code == 200 and PHONE in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    response = reveal(client, member, field="national_id", reason="核对实名领奖")
    assert ID_NUMBER in response.content.decode()
    reveal(client, member)
    logs = AuditLog.objects.filter(action="members.pii.revealed").order_by("id")
    assert [(log.actor, log.target_id, log.data["field"]) for log in logs] == [
        (user, str(member.pk), "phone"),
        (user, str(member.pk), "national_id"),
        (user, str(member.pk), "phone"),
    ]
    assert logs[1].data["reason"] == "核对实名领奖"
    assert PHONE not in str(logs[0].data) and ID_NUMBER not in str(logs[1].data)


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CUSTOMER_SERVICE, Role.MARKETING])
def test_other_roles_are_refused_with_403(client, member, role):
    client.force_login(staff(role))
    for field in ("phone", "national_id"):
        response = reveal(client, member, field=field)
        assert response.status_code == 403
        assert PHONE not in response.content.decode()
    detail = client.get(f"/backoffice/members/{member.pk}/")
    assert detail.status_code == 200 and "/reveal/" not in detail.content.decode()
    assert not AuditLog.objects.filter(action="members.pii.revealed").exists()


def test_a_member_out_of_scope_is_a_404(client, member, store_b):
    client.force_login(staff(Role.STORE_MANAGER, scope=StaffProfile.Scope.STORE, store=store_b))
    assert reveal(client, member).status_code == 404
    assert client.get(f"/backoffice/members/{member.pk}/").status_code == 404
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{"reason": ""}, {"reason": "   "}, {"reason": "看看"}, {"field": "name"}, {"field": ""}],
)
def test_a_missing_reason_or_field_is_a_form_error(client, member, data):
    client.force_login(staff(Role.HQ_ADMIN))
    response = reveal(client, member, **data)
    assert response.status_code == 400 and response.context["form"].errors
    assert PHONE not in response.content.decode()
    assert not AuditLog.objects.exists()


def test_nothing_on_file_is_a_form_error_not_an_audit_row(client, store_a):
    client.force_login(staff(Role.HQ_ADMIN))
    response = reveal(client, MemberFactory(home_store=store_a), field="national_id")
    assert response.status_code == 400 and "没有可查看的信息" in response.content.decode()
    assert not AuditLog.objects.exists()


def test_reveal_is_post_only(client, member):
    client.force_login(staff(Role.HQ_ADMIN))
    assert client.get(f"/backoffice/members/{member.pk}/reveal/").status_code == 405


@pytest.mark.parametrize(
    "role", [Role.HQ_ADMIN, Role.STORE_MANAGER, Role.ANALYST, Role.CUSTOMER_SERVICE]
)
def test_list_and_detail_show_no_full_phone_id_or_name(client, member, role):
    client.force_login(staff(role))
    for url in ["/backoffice/members/", f"/backoffice/members/{member.pk}/"]:
        page = client.get(url).content.decode()
        assert member.card_no in page
        assert not FULL_PHONE_OR_ID.search(page.replace(member.card_no, "")), url
        assert "欧阳娜娜" not in page
    page = client.get(f"/backoffice/members/{member.pk}/").content.decode()
    assert "139****5678" in page and ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:] in page


def test_search_finds_exact_card_phone_or_id_within_scope(client, member, store_b):
    other = MemberFactory(phone="13900000001", home_store=store_b)
    # Neighbours sharing all but the last digit: a prefix search would find them too.
    last = str((int(member.card_no[-1]) + 1) % 10)
    MemberFactory(phone="13912345679", card_no=member.card_no[:-1] + last)
    client.force_login(staff(Role.HQ_ADMIN))

    def found(query):
        response = client.get("/backoffice/members/", {"q": query})
        return [m.pk for m in response.context["page"].object_list]

    assert found(member.card_no) == [member.pk]
    assert found(member.card_no_display) == [member.pk]
    assert found("139 1234 5678") == [member.pk]
    assert found(ID_NUMBER.lower()) == [member.pk]
    assert found("1391234") == []  # no prefix search of phone numbers
    assert found("13900000001") == [other.pk]
    client.force_login(staff(Role.STORE_MANAGER, scope=StaffProfile.Scope.STORE, store=store_b))
    assert found(member.card_no) == [] and found("") == [other.pk]


def test_the_menu_has_members_for_staff_who_may_view_them(client):
    client.force_login(staff(Role.ANALYST))
    page = client.get("/backoffice/").content.decode()
    assert 'href="/backoffice/members/"' in page
    client.force_login(staff(Role.MARKETING))
    page = client.get("/backoffice/members/messages/push/").content.decode()
    # Only the most specific entry is lit: "Push a message", not "Members" as well.
    assert page.count("bo-nav__item_on") == 1
    assert re.search(r'bo-nav__item_on" href="/backoffice/members/messages/push/"', page)


def test_the_admin_form_and_export_never_show_a_full_phone(admin_client, member_factory):
    member = member_factory(phone="13912345678")

    form = admin_client.get(f"/admin/members/member/{member.pk}/change/").content.decode()
    assert "13912345678" not in form and "139****5678" in form
    from members.admin import MemberResource

    exported = MemberResource().export().csv
    assert "13912345678" not in exported and "139****5678" in exported
