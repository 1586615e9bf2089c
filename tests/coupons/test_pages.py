"""我的优惠券 and 优惠券详情: tabs and counts, grey states, the till code only for a coupon
usable now, nobody else's coupons, and the count on the member card."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from coupons.models import Coupon
from stores.models import Brand, Floor
from tests.coupons.conftest import coupon_cards
from tests.members.factories import signed_in_as
from tests.stores.factories import StoreFactory


@pytest.fixture
def signed_in(client, member):
    return signed_in_as(client, member)


def cards(client, tab=None, page=None):
    query = "&".join(f"{k}={v}" for k, v in {"tab": tab, "page": page}.items() if v)
    response = client.get(f"/m/coupons/?{query}")
    assert response.status_code == 200
    return response.content.decode(), coupon_cards(response.content.decode())


def tab_counts(html: str) -> dict[str, int]:
    return {
        tab: int(count)
        for tab, count in re.findall(r'data-tab="(\w+)"[^>]*>[^<]*<span[^>]*>\((\d+)\)', html)
    }


def test_tabs_count_and_list_each_state_of_my_coupons_only(
    signed_in, member, member_factory, make_coupon
):
    unused = [make_coupon(member), make_coupon(member)]
    used = make_coupon(member, state="used")
    expired = make_coupon(member, state="expired")
    voided = make_coupon(member, state="voided")
    make_coupon(member_factory())  # someone else's

    html, unused_cards = cards(signed_in)
    _html, used_cards = cards(signed_in, "used")
    _html, expired_cards = cards(signed_in, "expired")

    assert tab_counts(html) == {"unused": 2, "used": 1, "expired": 2}
    assert "未使用" in html and "已使用" in html and "已过期" in html
    assert {c["data-coupon"] for c in unused_cards} == {c.code for c in unused}
    assert [c["data-coupon"] for c in used_cards] == [used.code]
    # Voided coupons are listed with the expired ones, stamped 已作废.
    assert {c["data-coupon"]: c["data-status"] for c in expired_cards} == {
        expired.code: "expired",
        voided.code: "voided",
    }


def test_used_expired_and_voided_cards_are_grey_and_stamped(signed_in, member, make_coupon):
    fresh = make_coupon(member)
    used = make_coupon(member, state="used")
    expired = make_coupon(member, state="expired")
    voided = make_coupon(member, state="voided")

    by_code = {}
    for tab in ("unused", "used", "expired"):
        html, found = cards(signed_in, tab)
        by_code.update({c["data-coupon"]: c["class"].split() for c in found})
        if tab == "used":
            assert "已使用" in html
        if tab == "expired":
            assert "已过期" in html and "已作废" in html

    assert "h5-coupon_grey" not in by_code[fresh.code]
    for coupon in (used, expired, voided):
        assert "h5-coupon_grey" in by_code[coupon.code], coupon.status


def test_an_unused_coupon_keeps_its_templates_colour(signed_in, member, make_coupon):
    coupon = make_coupon(member, color="#1a7f5a")
    _html, found = cards(signed_in)
    assert found[0]["data-coupon"] == coupon.code
    assert "--coupon-color: #1a7f5a" in found[0]["style"]


def test_expiring_soon_means_within_three_days(signed_in, member, make_coupon):
    now = timezone.now()
    soon = make_coupon(member, valid_until=now + timedelta(days=2, hours=23))
    later = make_coupon(member, valid_until=now + timedelta(days=3, hours=1))

    html = signed_in.get("/m/coupons/").content.decode()
    blocks = {
        code: block
        for code, block in re.findall(r'data-coupon="(\w+)"(.*?)</a>', html, flags=re.DOTALL)
    }

    assert "data-expiring-soon" in blocks[soon.code] and "即将过期" in blocks[soon.code]
    assert "data-expiring-soon" not in blocks[later.code]


def test_pages_of_ten_newest_first(signed_in, member, make_coupon):
    now = timezone.now()
    made = []
    for age in range(12):
        coupon = make_coupon(member)
        Coupon.objects.filter(pk=coupon.pk).update(issued_at=now - timedelta(hours=age))
        made.append(coupon.code)  # made[0] is the newest

    _html, first = cards(signed_in)
    _html, second = cards(signed_in, page=2)

    assert [c["data-coupon"] for c in first] == made[:10]
    assert [c["data-coupon"] for c in second] == made[10:]


@pytest.mark.parametrize(
    "fields, face, rule",
    [
        ({"kind": "cash", "face_value_fen": 1000}, "¥10", "无门槛"),
        (
            {"kind": "threshold", "face_value_fen": 5000, "min_spend_fen": 30000},
            "¥50",
            "满300减50",
        ),
        (
            {"kind": "percent", "face_value_fen": 0, "percent_off": 20, "max_discount_fen": 10000},
            "8折",
            "8折 最高减100",
        ),
        ({"kind": "percent", "face_value_fen": 0, "percent_off": 15}, "8.5折", "8.5折"),
        ({"kind": "gift", "face_value_fen": 3000, "gift_name": "保温杯"}, "保温杯", "兑换礼品"),
    ],
)
def test_each_kind_shows_its_amount_and_rule(signed_in, member, make_coupon, fields, face, rule):
    make_coupon(member, **fields)
    html = signed_in.get("/m/coupons/").content.decode()
    value = re.search(r'class="h5-coupon__value[^"]*">(.*?)</div>', html).group(1)
    assert re.sub(r"<[^>]+>", "", value) == face
    assert re.search(r"data-rule>([^<]*)<", html).group(1) == rule


def test_the_detail_shows_rules_scope_floors_notes_and_the_till_code(
    signed_in, member, make_coupon, store
):
    coupon = make_coupon(
        member,
        kind="threshold",
        face_value_fen=5000,
        min_spend_fen=30000,
        floors_remark="3F 女装、4F 男装",
        usage_notes="特价商品除外。\n每张小票限用一张。",
    )
    template = coupon.template
    template.stores.add(store)
    template.brands.add(Brand.objects.create(name="江南布衣"))
    Floor.objects.create(store=store, code="3F", name="女装", order=3)

    response = signed_in.get(f"/m/coupons/{coupon.code}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "满300减50" in html
    assert "3F 女装、4F 男装" in re.search(r"data-floors>([^<]*)<", html).group(1)
    assert re.search(r"data-stores>([^<]*)<", html).group(1) == store.name
    assert re.search(r"data-brands>([^<]*)<", html).group(1) == "江南布衣"
    assert re.search(r"data-categories>([^<]*)<", html).group(1) == "全部品类"
    assert "特价商品除外。<br>每张小票限用一张。" in html
    assert f'data-code="{coupon.code}"' in html
    till = re.search(r"data-till-code>(.*?)</section>", html, flags=re.DOTALL).group(1)
    assert till.count("<svg") == 2  # the barcode and the QR code
    assert " ".join(coupon.code[i : i + 4] for i in range(0, 16, 4)) in till
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_the_floors_fall_back_to_the_templates_floors_then_all(
    signed_in, member, make_coupon, store
):
    listed = make_coupon(member)
    listed.template.floors.add(Floor.objects.create(store=store, code="B1", name="超市", order=0))
    everywhere = make_coupon(member)

    listed_html = signed_in.get(f"/m/coupons/{listed.code}/").content.decode()
    everywhere_html = signed_in.get(f"/m/coupons/{everywhere.code}/").content.decode()

    assert re.search(r"data-floors>([^<]*)<", listed_html).group(1) == "B1 超市"
    assert re.search(r"data-floors>([^<]*)<", everywhere_html).group(1) == "全部楼层"


@pytest.mark.parametrize("state", ["used", "expired", "voided"])
def test_no_till_code_for_a_coupon_that_cannot_be_used(signed_in, member, make_coupon, state):
    coupon = make_coupon(member, state=state)
    html = signed_in.get(f"/m/coupons/{coupon.code}/").content.decode()
    assert "data-till-code" not in html and "<svg" not in html
    assert "h5-coupon_grey" in html


def test_no_till_code_before_the_coupon_is_valid(signed_in, member, make_coupon):
    now = timezone.now()
    coupon = make_coupon(
        member, valid_from=now + timedelta(days=2), valid_until=now + timedelta(days=9)
    )
    html = signed_in.get(f"/m/coupons/{coupon.code}/").content.decode()
    assert "data-till-code" not in html and "<svg" not in html
    assert "起可用" in html


def test_the_used_detail_says_where(signed_in, member, make_coupon, store):
    coupon = make_coupon(member, state="used")
    html = signed_in.get(f"/m/coupons/{coupon.code}/").content.decode()
    assert store.name in re.search(r"data-used>([^<]*)<", html).group(1)


def test_another_members_coupon_code_is_not_found(signed_in, member, member_factory, make_coupon):
    theirs = make_coupon(member_factory())
    mine = make_coupon(member)

    assert signed_in.get(f"/m/coupons/{theirs.code}/").status_code == 404
    assert signed_in.get("/m/coupons/ZZZZZZZZZZZZZZZZ/").status_code == 404
    # Their code typed any way is still theirs; my own works typed in lower case.
    assert signed_in.get(f"/m/coupons/{theirs.code.lower()}/").status_code == 404
    assert signed_in.get(f"/m/coupons/{mine.code.lower()}/").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, member, make_coupon):
    coupon = make_coupon(member)
    for url in ("/m/coupons/", f"/m/coupons/{coupon.code}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/m/wechat/" in response["Location"]


def test_the_member_card_counts_unused_coupons_and_links_to_them(signed_in, member, make_coupon):
    make_coupon(member)
    make_coupon(member)
    make_coupon(member, state="used")
    make_coupon(member, state="expired")

    html = signed_in.get("/m/card/").content.decode()

    link = re.search(r'<a href="/m/coupons/"><strong data-card-coupons>(\d+)</strong>', html)
    assert link is not None and link.group(1) == "2"


def test_a_coupon_for_another_store_still_shows_its_stores(signed_in, member, make_coupon):
    coupon = make_coupon(member)
    coupon.template.stores.add(StoreFactory(code="S02", name="天一店"))
    html = signed_in.get(f"/m/coupons/{coupon.code}/").content.decode()
    assert re.search(r"data-stores>([^<]*)<", html).group(1) == "天一店"
