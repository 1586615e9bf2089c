import json

import pytest
from django.utils import timezone

from loyalty.models import Receipt, ReceiptLine
from members.messaging import messages_send
from members.models import Member
from tests.factories import MemberFactory, signed_in_as

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
