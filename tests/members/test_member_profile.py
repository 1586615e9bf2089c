"""扩展资料: birthday once, education, occupation, income, interests; the completeness figure."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from members.models import Interest, MemberProfile
from members.selectors import member_profile_completeness
from tests.members.factories import AddressFactory, MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db

URL = "/m/me/profile/more/"


@pytest.fixture
def member(client):
    member = MemberFactory(name="王芳", gender="F", birthday=None)
    signed_in_as(client, member)
    return member


def test_the_extended_profile_is_saved_and_the_birthday_set_once(client, member):
    # Seeded by a migration; transactional tests flush it, so make sure it is there.
    food = Interest.objects.get_or_create(name="美食")[0]
    travel = Interest.objects.get_or_create(name="旅行")[0]
    response = client.post(
        URL,
        {
            "birthday": "1991-05-20",
            "education": "bachelor",
            "occupation": "employee",
            "income_band": "10k_20k",
            "interests": [food.pk, travel.pk],
        },
    )
    assert response.status_code == 302 and response["Location"] == "/m/me/profile/"
    member.refresh_from_db()
    profile = MemberProfile.objects.get(member=member)
    assert member.birthday == date(1991, 5, 20)
    assert (profile.education, profile.occupation, profile.income_band) == (
        "bachelor",
        "employee",
        "10k_20k",
    )
    assert set(profile.interests.all()) == {food, travel}

    # Later edits change the rest, never the birthday (no farming of birthday coupons).
    response = client.post(
        URL, {"birthday": "1991-12-01", "education": "master", "interests": [food.pk]}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    profile.refresh_from_db()
    assert member.birthday == date(1991, 5, 20)
    assert profile.education == "master" and profile.occupation == ""
    assert list(profile.interests.all()) == [food]
    assert 'name="birthday"' not in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"birthday": "2999-01-01"}, "生日不能晚于今天"),
        ({"birthday": "1880-01-01"}, "请核对生日的年份"),
        ({"birthday": "2023-02-29"}, ""),  # no such day
        ({"birthday": "under14"}, "监护人"),
        ({"education": "phd_honoris"}, ""),
        ({"income_band": "1000000"}, ""),
        ({"interests": ["999999"]}, ""),
    ],
)
def test_bad_values_are_form_errors_and_save_nothing(client, member, data, message):
    if data.get("birthday") == "under14":
        data = {"birthday": (timezone.localdate() - timedelta(days=13 * 366)).isoformat()}
    response = client.post(URL, {"education": "college", **data})
    assert response.status_code == 400 and message in response.content.decode()
    member.refresh_from_db()
    assert member.birthday is None and not MemberProfile.objects.filter(member=member).exists()


def test_an_interest_staff_stopped_offering_cannot_be_ticked(client, member):
    retired = Interest.objects.create(name="集邮", active=False)
    response = client.post(URL, {"interests": [retired.pk]})
    assert response.status_code == 400
    assert "集邮" not in client.get(URL).content.decode()


def test_completeness_counts_what_is_filled_in_and_names_what_is_missing(client, member):
    start = member_profile_completeness(member=member)
    assert start.percent == 25  # name and gender of 8
    assert [str(label) for label in start.missing] == [
        "生日",
        "学历",
        "职业",
        "月收入",
        "兴趣爱好",
        "收货地址",
    ]
    page = client.get("/m/me/profile/").content.decode()
    assert 'data-completeness="25"' in page and "待完善" in page

    client.post(URL, {"birthday": "1991-05-20", "education": "college"})
    AddressFactory(member=member)
    member.refresh_from_db()
    after = member_profile_completeness(member=member)
    assert after.percent == 62 and "学历" not in [str(label) for label in after.missing]
    assert 'data-completeness="62"' in client.get("/m/me/profile/").content.decode()


def test_the_id_number_is_not_counted_in_completeness(member):
    assert "身份证号码" not in [
        str(label) for label in member_profile_completeness(member=member).missing
    ]


def test_the_card_page_links_to_the_profile(client, member):
    assert 'href="/m/me/profile/"' in client.get("/m/card/").content.decode()


def test_the_service_refuses_a_second_birthday_even_when_asked_directly(member):
    from core.exceptions import ServiceError
    from members.profile import member_profile_update

    member_profile_update(member_id=member.pk, birthday=date(1991, 5, 20))
    with pytest.raises(ServiceError) as exc:
        member_profile_update(member_id=member.pk, birthday=date(1991, 12, 1))
    assert exc.value.code == "field_locked"
    member.refresh_from_db()
    assert member.birthday == date(1991, 5, 20)


def test_the_birthday_field_renders_an_iso_date_in_chinese():
    from datetime import date

    from django.utils import translation

    from members.forms import ProfileForm

    with translation.override("zh-hans"):
        form = ProfileForm(initial={"birthday": date(1990, 3, 7)}, birthday_locked=False)
        html = str(form["birthday"])

    assert 'type="date"' in html and 'value="1990-03-07"' in html
