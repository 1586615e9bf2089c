"""The member's loyalty pages: 我的会员, 交易记录, receipt detail; nobody else's data."""

import pytest

from loyalty.models import Receipt
from stores.models import Category
from tests.conftest import sale
from tests.members.factories import signed_in_as


@pytest.fixture
def signed_in(client, member):
    return signed_in_as(client, member)


def _supermarket_sale(member, receipt_no):
    Category.objects.get_or_create(code="F01", name="食品", division="supermarket")
    body = sale(member, receipt_no=receipt_no, amount_fen=1290)
    body["lines"][0].update(name="纯牛奶", spec="250ml×12", brand="光明", category="食品")
    return body


def test_my_membership_shows_tier_points_and_the_exact_gap(pos, member, signed_in):
    pos.receipt(sale(member, amount_fen=123_456))

    html = signed_in.get("/m/tier/").content.decode()

    assert "普卡" in html and "银卡" in html and "钻石卡" in html
    assert "data-points>1234<" in html
    assert 'data-gap="376544"' in html
    assert "3,765.44" in html  # ¥ to the next tier


def test_records_tabs_split_supermarket_department_and_points(pos, member, signed_in):
    pos.receipt(_supermarket_sale(member, "SM-1"))
    pos.receipt(sale(member, receipt_no="DS-1"))

    supermarket = signed_in.get("/m/records/?tab=supermarket").content.decode()
    department = signed_in.get("/m/records/?tab=department").content.decode()
    points = signed_in.get("/m/records/?tab=points").content.decode()

    assert "纯牛奶 250ml×12" in supermarket and 'data-receipt="DS-1"' not in supermarket
    assert "某品牌" in department and 'data-receipt="SM-1"' not in department
    assert points.count("data-entry") == 2 and "+299" in points and "+6" in points


def test_records_are_newest_first_and_paginated(pos, member, signed_in):
    from datetime import timedelta

    from django.utils import timezone

    for i in range(23):
        moment = (timezone.localtime() - timedelta(hours=30 - i)).isoformat(timespec="seconds")
        pos.receipt(sale(member, receipt_no=f"DS-{i:02d}", occurred_at=moment))

    first = signed_in.get("/m/records/?tab=department").content.decode()
    second = signed_in.get("/m/records/?tab=department&page=2").content.decode()

    assert first.count("data-receipt=") == 20 and second.count("data-receipt=") == 3
    assert first.index('data-receipt="DS-22"') < first.index('data-receipt="DS-21"')
    assert 'data-receipt="DS-00"' in second


def test_receipt_detail_shows_lines_store_pos_and_points(pos, member, signed_in):
    receipt_id = pos.receipt(sale(member, receipt_no="DS-1")).json()["receipt_id"]

    html = signed_in.get(f"/m/records/receipts/{receipt_id}/").content.decode()

    assert "连衣裙 M 蓝" in html and "P03" in html and "DS-1" in html
    assert "data-points>+299<" in html


def test_another_members_receipt_is_a_404(pos, member, member_factory, client):
    receipt_id = pos.receipt(sale(member, receipt_no="DS-1")).json()["receipt_id"]
    signed_in_as(client, member_factory(), openid="o_other")

    assert client.get(f"/m/records/receipts/{receipt_id}/").status_code == 404
    assert "DS-1" not in client.get("/m/records/?tab=department").content.decode()
    assert Receipt.objects.count() == 1


def test_the_pages_need_a_signed_in_member(client, db):
    for url in ["/m/tier/", "/m/records/", "/m/sign-in/", "/m/claims/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/m/wechat/login/" in response["Location"]


def test_the_card_page_shows_tier_badge_and_points(pos, member, signed_in):
    pos.receipt(sale(member, amount_fen=600_000))

    html = signed_in.get("/m/card/").content.decode()

    assert "data-card-tier>银卡<" in html
    assert "data-card-points>6000<" in html  # the receipt that upgrades earns at the old rate


def _receipt_points(html: str) -> dict:
    import re

    cells = re.findall(r'data-receipt="([^"]+)".*?data-receipt-points="(-?\d+)"', html, re.S)
    return {receipt_no: int(points) for receipt_no, points in cells}


def test_records_show_the_points_each_receipt_earned_or_took_back(pos, member, signed_in):
    pos.receipt(sale(member, receipt_no="DS-1", amount_fen=100_000))
    pos.receipt(sale(member, receipt_no="RF-1", amount_fen=40_000, refund_of="DS-1"))
    pos.receipt(_supermarket_sale(member, "SM-1"))

    department = signed_in.get("/m/records/?tab=department").content.decode()
    supermarket = signed_in.get("/m/records/?tab=supermarket").content.decode()

    assert _receipt_points(department) == {"DS-1": 1000, "RF-1": -400}
    assert _receipt_points(supermarket) == {"SM-1": 6}
    assert "+1000" in department and "-400" in department


def test_the_records_page_asks_the_same_queries_for_2_receipts_as_for_12(pos, member, signed_in):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_page():
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get("/m/records/?tab=department").status_code == 200
        return len(captured)

    for i in range(2):
        pos.receipt(sale(member, receipt_no=f"DS-{i}"))
    few = queries_for_page()
    for i in range(2, 12):
        pos.receipt(sale(member, receipt_no=f"DS-{i}"))

    assert queries_for_page() == few
