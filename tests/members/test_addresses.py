"""收货地址: several per member, exactly one default; another member's address is a 404."""

import pytest

from members.models import DeliveryAddress
from members.profile import ADDRESSES_MAX
from tests.members.factories import AddressFactory, MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    member = MemberFactory()
    signed_in_as(client, member)
    return member


def form(**data):
    return {
        "recipient": "张伟",
        "phone": "137 0000 1111",
        "region": "浙江省 杭州市 西湖区",
        "detail": "文三路 90 号 3 幢 201",
    } | data


def defaults(member):
    return list(member.addresses.filter(is_default=True).values_list("detail", flat=True))


def test_the_first_address_is_the_default_and_a_new_default_replaces_it(client, member):
    assert client.post("/m/me/addresses/new/", form(detail="一号")).status_code == 302
    client.post("/m/me/addresses/new/", form(detail="二号"))
    assert defaults(member) == ["一号"] and member.addresses.count() == 2
    client.post("/m/me/addresses/new/", form(detail="三号", is_default="on"))
    assert defaults(member) == ["三号"]
    address = member.addresses.get(detail="三号")
    assert address.phone == "13700001111"
    page = client.get("/m/me/addresses/").content.decode()
    assert "137****1111" in page and "13700001111" not in page


def test_editing_and_deleting_keep_one_default(client, member):
    first = AddressFactory(member=member, detail="一号", is_default=True)
    second = AddressFactory(member=member, detail="二号")
    response = client.post(f"/m/me/addresses/{second.pk}/", form(detail="二号改", is_default="on"))
    assert response.status_code == 302
    assert defaults(member) == ["二号改"]
    first.refresh_from_db()
    assert first.is_default is False
    assert client.post(f"/m/me/addresses/{second.pk}/delete/").status_code == 302
    assert defaults(member) == ["一号"]
    assert client.get(f"/m/me/addresses/{second.pk}/delete/").status_code == 405


def test_another_members_address_id_in_the_url_is_a_404(client, member):
    theirs = AddressFactory(member=MemberFactory(), detail="别人家", is_default=True)
    assert client.get(f"/m/me/addresses/{theirs.pk}/").status_code == 404
    assert client.post(f"/m/me/addresses/{theirs.pk}/", form(detail="改了")).status_code == 404
    assert client.post(f"/m/me/addresses/{theirs.pk}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.detail == "别人家" and theirs.member != member
    assert "别人家" not in client.get("/m/me/addresses/").content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"recipient": ""},
        {"recipient": "<b>x</b>"},
        {"phone": "12345"},
        {"region": ""},
        {"detail": ""},
        {"detail": "x" * 200},
    ],
)
def test_bad_addresses_are_form_errors(client, member, data):
    response = client.post("/m/me/addresses/new/", form(**data))
    assert response.status_code == 400
    assert not DeliveryAddress.objects.exists()


def test_the_number_of_addresses_is_capped(client, member):
    AddressFactory.create_batch(ADDRESSES_MAX, member=member)
    response = client.post("/m/me/addresses/new/", form())
    assert response.status_code == 400 and "最多可保存" in response.content.decode()
    assert member.addresses.count() == ADDRESSES_MAX
