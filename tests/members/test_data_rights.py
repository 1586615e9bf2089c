import json

import pytest
from django.utils import timezone

from loyalty.models import Receipt, ReceiptLine
from members.messaging import messages_send
from members.models import Member
from tests.members.factories import MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db


def receipt_for(member, receipt_no):
    receipt = Receipt.objects.create(
        store=member.home_store,
        pos_no="P01",
        receipt_no=receipt_no,
        member=member,
        occurred_at=timezone.now(),
        division="supermarket",
        total_fen=2590,
    )
    ReceiptLine.objects.create(
        receipt=receipt, line_no=1, name="鲜鸡蛋", spec="30枚", qty=1, amount_fen=2590
    )


def test_a_member_downloads_all_of_their_data_and_nobody_elses(client):
    me, other = MemberFactory(name="王芳"), MemberFactory(name="赵敏")
    receipt_for(me, "R-ME")
    receipt_for(other, "R-OTHER")
    messages_send(members=Member.objects.filter(pk=me.pk), kind="system", title="欢迎", body="x")
    messages_send(members=Member.objects.filter(pk=other.pk), kind="system", title="私信", body="y")
    signed_in_as(client, me)
    response = client.get("/m/me/data.json?card_no=" + other.card_no)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="member-{me.card_no}.json"'
    data = json.loads(response.content)
    assert data["profile"]["card_no"] == me.card_no and data["profile"]["name"] == "王芳"
    assert [r["receipt_no"] for r in data["receipts"]] == ["R-ME"]
    assert data["receipts"][0]["lines"][0]["name"] == "鲜鸡蛋"
    assert [m["title"] for m in data["messages"]] == ["欢迎"]
    assert [w["openid"] for w in data["wechat"]] == ["o_a"]
    raw = response.content.decode()
    assert other.card_no not in raw and "赵敏" not in raw and "私信" not in raw


def test_the_download_needs_a_signed_in_member(client):
    assert client.get("/m/me/data.json").status_code == 302


def test_the_copy_has_the_extended_profile_addresses_and_consents(client):
    from datetime import date

    from members.models import Interest
    from members.profile import member_identity_set, member_profile_update
    from tests.members.factories import AddressFactory, national_id_make

    me, other = MemberFactory(name="王芳", gender="U"), MemberFactory(gender="U")
    number = national_id_make(date(1990, 3, 7))
    member_identity_set(member_id=me.pk, national_id=number, national_id_consent=True)
    food = Interest.objects.get_or_create(name="美食")[0]
    member_profile_update(member_id=me.pk, education="master", interests=[food])
    AddressFactory(member=me, detail="文三路 90 号", is_default=True)
    AddressFactory(member=other, detail="别人家")
    member_identity_set(
        member_id=other.pk,
        national_id=national_id_make(date(1980, 1, 1), female=False),
        national_id_consent=True,
    )
    signed_in_as(client, me)
    data = json.loads(client.get("/m/me/data.json").content)
    assert data["extended_profile"]["education"] == "master"
    assert data["extended_profile"]["interests"] == ["美食"]
    assert [(a["detail"], a["default"]) for a in data["addresses"]] == [("文三路 90 号", True)]
    assert [(c["purpose"], c["policy_version"]) for c in data["consents"]] == [
        ("national_id", "2026-11")
    ]
    assert data["profile"]["birthday"] == "1990-03-07"
    assert data["profile"]["national_id"] == number[:4] + "*" * 10 + number[-4:]
    assert "别人家" not in json.dumps(data, ensure_ascii=False)
