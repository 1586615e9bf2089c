"""个人资料: name, gender and ID number are filled in once, with a separate consent for the ID
number, and locked from then on."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from members.models import Consent, Member
from members.profile import ID_CONSENT_POLICY_VERSION
from tests.members.factories import MemberFactory, national_id_make, signed_in_as

pytestmark = pytest.mark.django_db

URL = "/m/me/profile/identity/"


@pytest.fixture
def blank(client):
    member = MemberFactory(name="", gender=Member.Gender.UNKNOWN, birthday=None)
    signed_in_as(client, member)
    return member


def post(client, **data):
    return client.post(URL, data)


def test_the_profile_page_shows_avatar_nickname_and_masked_values(client):
    member = MemberFactory(name="王芳", phone="13812345678", gender="F", birthday=None)
    signed_in_as(client, member)
    identity = member.wechat_identities.get()
    identity.nickname, identity.avatar_url = "芳芳", "https://thirdwx.qlogo.cn/a.png"
    identity.save()
    member.refresh_from_db()
    response = client.get("/m/me/profile/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "芳芳" in page and "https://thirdwx.qlogo.cn/a.png" in page
    assert "王芳" in page and "138****5678" in page and "13812345678" not in page


def test_a_member_fills_name_gender_and_id_once_and_the_id_wins(client, blank):
    number = national_id_make(date(1990, 3, 7), female=False)
    response = post(
        client,
        name="阿卜杜·热合曼",
        gender="F",
        national_id=number.lower(),
        national_id_consent="on",
    )
    assert response.status_code == 302 and response["Location"] == "/m/me/profile/"
    blank.refresh_from_db()
    assert blank.name == "阿卜杜·热合曼"
    # The ID number's gender and birth date win over the typed gender, and fill them in.
    assert (blank.gender, blank.birthday) == ("M", date(1990, 3, 7))
    assert blank.national_id_decrypted() == number
    consent = Consent.objects.get(member=blank)
    assert consent.purpose == "national_id" and consent.policy_version == ID_CONSENT_POLICY_VERSION
    assert abs(consent.granted_at - timezone.now()) < timedelta(minutes=1)
    page = client.get("/m/me/profile/").content.decode()
    assert number[:4] + "*" * 10 + number[-4:] in page and number not in page


def id_of_age(years: int, days: int = 0) -> str:
    today = timezone.localdate()
    born = date(today.year - years, today.month, min(today.day, 28)) + timedelta(days=days)
    return national_id_make(born)


@pytest.mark.parametrize(
    ("national_id", "consent", "message"),
    [
        ("110105194912310021", "on", "身份证号码无效"),  # wrong check digit
        ("110105199002300011", "on", "出生日期不存在"),  # 30 February
        ("110105202912310011", "on", "出生日期在未来"),
        ("110105491231002", "on", "18 位"),  # 15-digit legacy card
        ("11010519491231002X", "", "请同意"),  # no separate consent
        ("under14", "on", "监护人"),
    ],
)
def test_bad_id_numbers_are_form_errors_and_save_nothing(
    client, blank, national_id, consent, message
):
    if national_id == "under14":
        national_id = id_of_age(14, days=1)  # 14 tomorrow
    response = post(
        client, name="李娜", gender="F", national_id=national_id, national_id_consent=consent
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    blank.refresh_from_db()
    assert (blank.name, blank.gender, blank.birthday, blank.national_id_cipher) == (
        "",
        "U",
        None,
        None,
    )
    assert not Consent.objects.exists()


def test_fourteen_today_is_old_enough(client, blank):
    response = post(client, national_id=id_of_age(14), national_id_consent="on")
    assert response.status_code == 302


def test_one_id_number_cannot_belong_to_two_members(client, blank):
    number = national_id_make(date(1985, 6, 1))
    holder = MemberFactory(gender="U", birthday=None)
    signed_in_as(client, holder, openid="o_holder")
    assert post(client, national_id=number, national_id_consent="on").status_code == 302
    signed_in_as(client, blank, openid="o_blank")
    response = post(client, name="李娜", national_id=number, national_id_consent="on")
    assert response.status_code == 400
    assert "已属于另一位会员" in response.content.decode()
    blank.refresh_from_db()
    assert blank.national_id_cipher is None and blank.name == ""
    assert Consent.objects.filter(member=blank).count() == 0


def test_a_crafted_post_cannot_change_locked_fields(client):
    number = national_id_make(date(1992, 2, 2))
    member = MemberFactory(name="王芳", gender="F", birthday=None)
    signed_in_as(client, member)
    assert post(client, national_id=number, national_id_consent="on").status_code == 302
    member.refresh_from_db()
    cipher, index = bytes(member.national_id_cipher), member.national_id_index
    other_number = national_id_make(date(1970, 1, 1), female=False)
    for data in [
        {"name": "赵敏"},
        {"gender": "M"},
        {"national_id": other_number, "national_id_consent": "on"},
        {"name": "赵敏", "gender": "M", "national_id": other_number, "national_id_consent": "on"},
    ]:
        response = post(client, **data)
        assert response.status_code in (302, 400)
    response = client.post("/m/me/profile/more/", {"birthday": "1970-01-01"})
    member.refresh_from_db()
    assert (member.name, member.gender, member.birthday) == ("王芳", "F", date(1992, 2, 2))
    assert bytes(member.national_id_cipher) == cipher and member.national_id_index == index


def test_the_service_refuses_a_locked_field_even_when_asked_directly():
    from core.exceptions import ServiceError
    from members.profile import member_identity_set

    member = MemberFactory(name="王芳", gender="F")
    with pytest.raises(ServiceError) as exc:
        member_identity_set(member_id=member.pk, name="赵敏")
    assert exc.value.code == "field_locked"
    with pytest.raises(ServiceError) as exc:
        member_identity_set(member_id=member.pk, gender="M")
    assert exc.value.code == "field_locked"


def test_an_id_number_contradicting_the_locked_gender_is_refused(client):
    member = MemberFactory(name="王芳", gender="F", birthday=None)
    signed_in_as(client, member)
    response = post(
        client,
        national_id=national_id_make(date(1990, 1, 1), female=False),
        national_id_consent="on",
    )
    assert response.status_code == 400 and "服务台" in response.content.decode()
    member.refresh_from_db()
    assert member.national_id_cipher is None and member.birthday is None


@pytest.mark.parametrize(
    "name",
    ["李", "王\u200b芳", "\u202e芳王", "王芳😀", "<script>alert(1)</script>", "{{7*7}}", "王芳·"],
)
def test_names_with_invisible_or_odd_characters_are_refused(client, blank, name):
    response = post(client, name=name, gender="F")
    assert response.status_code == 400
    blank.refresh_from_db()
    assert blank.name == ""


def test_the_form_offers_only_what_is_still_empty(client):
    member = MemberFactory(name="王芳", gender="F")
    signed_in_as(client, member)
    page = client.get(URL).content.decode()
    assert 'name="national_id"' in page and 'name="national_id_consent"' in page
    assert 'name="name"' not in page and 'name="gender"' not in page


def test_tapping_a_locked_row_explains_where_to_change_it(client):
    member = MemberFactory(name="王芳", gender="F")
    signed_in_as(client, member)
    page = client.get("/m/me/profile/").content.decode()
    assert 'href="/m/me/profile/locked/name/"' in page and "data-locked-notice=" in page
    notice = client.get("/m/me/profile/locked/name/")
    assert notice.status_code == 200 and "服务台" in notice.content.decode()
    assert client.get("/m/me/profile/locked/card_no/").status_code == 404


def test_the_profile_pages_need_a_signed_in_member(client):
    for url in ["/m/me/profile/", URL, "/m/me/profile/more/", "/m/me/addresses/", "/m/me/delete/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/m/wechat/login/")


def test_the_service_itself_refuses_an_id_number_without_consent():
    from core.exceptions import ServiceError
    from members.profile import member_identity_set

    member = MemberFactory(gender="U", birthday=None)
    with pytest.raises(ServiceError) as exc:
        member_identity_set(member_id=member.pk, national_id=national_id_make(date(1990, 1, 1)))
    assert exc.value.code == "consent_required"
    member.refresh_from_db()
    assert member.national_id_cipher is None and not Consent.objects.exists()
