"""The service desk's 核销 page: look a coupon up by a scanned or typed code, redeem it through
coupon_use at the staff member's store, and every refusal in words."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core.roles import Role
from coupons.models import Coupon
from tests.conftest import once
from tests.stores.factories import StoreFactory

DESK = "/backoffice/coupons/desk/"
REDEEM = "/backoffice/coupons/desk/redeem/"


@pytest.fixture
def desk(client, staff_user, store):
    """Customer service bound to store S01."""
    user = staff_user(Role.CUSTOMER_SERVICE, scope="store", store=store)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def gift(make_coupon, member):
    return make_coupon(member, kind="gift", face_value_fen=3000, gift_name="保温杯")


def refusal(html: str) -> str:
    found = re.search(r"data-refusal>([^<]*)<", html)
    return found.group(1) if found else ""


def test_a_gift_coupon_is_shown_with_the_member_masked_and_redeemed(desk, gift, member, store):
    member.name, member.phone = "王小芳", "13912345678"
    member.save()

    page = desk.get(DESK, {"code": gift.code}).content.decode()

    assert f'data-desk-coupon="{gift.code}"' in page and 'data-status="unused"' in page
    shown = re.search(r"data-member>([^<]*)<", page).group(1)
    assert "王**" in shown and "139****5678" in shown and "王小芳" not in page
    assert "13912345678" not in page and member.card_no not in page
    assert "兑换礼品" in page and "保温杯" in page and "发放礼品并核销" in page
    assert "data-redeem" in page and store.name in page

    response = desk.post(REDEEM, {**once(), "code": gift.code})

    gift.refresh_from_db()
    assert response.status_code == 302 and response["Location"].endswith(f"?code={gift.code}")
    assert (gift.status, gift.used_store, gift.used_pos_no, gift.used_cashier) == (
        "used",
        store,
        "DESK",
        desk.user.username,
    )
    assert gift.discount_fen == 0
    after = desk.get(response["Location"]).content.decode()
    assert "核销成功：请发放礼品（保温杯）" in after
    assert 'data-status="used"' in after and "data-redeem" not in after
    assert refusal(after) == "这张券已使用过。"


def test_a_typed_code_is_forgiven_case_spaces_and_dashes(desk, gift):
    typed = f" {gift.code[:4].lower()} {gift.code[4:8]}-{gift.code[8:]}"
    page = desk.get(DESK, {"code": typed}).content.decode()
    assert f'data-desk-coupon="{gift.code}"' in page


def test_an_unknown_code_is_said_so(desk):
    response = desk.get(DESK, {"code": "ZZZZZZZZZZZZZZZZ"})
    assert response.status_code == 404
    assert refusal(response.content.decode()) == "查无此券，请核对券码。"


@pytest.mark.parametrize(
    "state, reason",
    [
        ("used", "这张券已使用过。"),
        ("expired", "这张券已过期。"),
        ("voided", "这张券已作废。"),
    ],
)
def test_a_coupon_that_cannot_be_used_shows_why_and_no_button(
    desk, make_coupon, member, state, reason
):
    coupon = make_coupon(member, kind="gift", gift_name="雨伞", state=state)
    page = desk.get(DESK, {"code": coupon.code}).content.decode()
    assert refusal(page) == reason and "data-redeem" not in page


def test_a_coupon_not_valid_yet_shows_why(desk, make_coupon, member):
    now = timezone.now()
    coupon = make_coupon(
        member,
        kind="gift",
        gift_name="雨伞",
        valid_from=now + timedelta(days=1),
        valid_until=now + timedelta(days=5),
    )
    page = desk.get(DESK, {"code": coupon.code}).content.decode()
    assert refusal(page) == "这张券尚未到使用时间。" and "data-redeem" not in page
    desk.post(REDEEM, {**once(), "code": coupon.code})
    assert Coupon.objects.get(pk=coupon.pk).status == "unused"


def test_redeeming_what_was_used_meanwhile_is_refused_with_the_reason(desk, make_coupon, member):
    coupon = make_coupon(member, kind="gift", gift_name="雨伞")
    page = desk.get(DESK, {"code": coupon.code}).content.decode()
    assert "data-redeem" in page
    Coupon.objects.filter(pk=coupon.pk).update(status="voided")  # voided from another desk

    response = desk.post(REDEEM, {**once(), "code": coupon.code}, follow=True)

    assert "未核销：这张券已作废。" in response.content.decode()
    assert Coupon.objects.get(pk=coupon.pk).status == "voided"


def test_a_cash_coupon_needs_the_purchase_and_takes_its_value_off(desk, make_coupon, member):
    coupon = make_coupon(member, kind="cash", face_value_fen=1000)
    page = desk.get(DESK, {"code": coupon.code}).content.decode()
    assert 'name="amount"' in page

    missing = desk.post(REDEEM, {**once(), "code": coupon.code})
    assert missing.status_code == 400 and Coupon.objects.get(pk=coupon.pk).status == "unused"

    done = desk.post(REDEEM, {**once(), "code": coupon.code, "amount": "88.50"}, follow=True)

    coupon.refresh_from_db()
    assert (coupon.status, coupon.discount_fen) == ("used", 1000)
    assert "核销成功：优惠 ¥10。" in done.content.decode()


def test_below_the_threshold_is_refused_with_the_reason(desk, make_coupon, member):
    coupon = make_coupon(member, kind="threshold", face_value_fen=5000, min_spend_fen=30000)
    response = desk.post(REDEEM, {**once(), "code": coupon.code, "amount": "299.99"}, follow=True)
    assert "未核销：消费金额未达到使用门槛。" in response.content.decode()
    assert Coupon.objects.get(pk=coupon.pk).status == "unused"


def test_a_coupon_for_another_store_is_out_of_scope_at_my_desk(desk, make_coupon, member):
    coupon = make_coupon(member, kind="gift", gift_name="雨伞")
    coupon.template.stores.add(StoreFactory(code="S02"))
    response = desk.post(REDEEM, {**once(), "code": coupon.code}, follow=True)
    assert "未核销：不在这张券的使用范围内" in response.content.decode()
    assert Coupon.objects.get(pk=coupon.pk).status == "unused"


def test_staff_over_several_stores_choose_the_store(client, staff_user, gift, store):
    client.force_login(staff_user(Role.HQ_ADMIN))
    s02 = StoreFactory(code="S02", name="天一店")
    page = client.get(DESK, {"code": gift.code}).content.decode()
    assert 'name="store"' in page and "天一店" in page

    assert client.post(REDEEM, {**once(), "code": gift.code}).status_code == 400
    client.post(REDEEM, {**once(), "code": gift.code, "store": s02.pk})

    gift.refresh_from_db()
    assert (gift.status, gift.used_store) == ("used", s02)


def test_a_store_outside_my_scope_cannot_be_chosen(client, staff_user, gift, store):
    region_store = StoreFactory(code="RA1", region__code="RA")
    elsewhere = StoreFactory(code="RB1", region__code="RB")
    client.force_login(staff_user(Role.HQ_ADMIN, scope="region", region=region_store.region))

    response = client.post(REDEEM, {**once(), "code": gift.code, "store": elsewhere.pk})

    assert response.status_code == 400 and Coupon.objects.get(pk=gift.pk).status == "unused"


@pytest.mark.parametrize(
    "role, allowed",
    [
        (Role.CUSTOMER_SERVICE, True),
        (Role.MARKETING, True),
        (Role.HQ_ADMIN, True),
        (Role.ANALYST, False),
        (Role.STORE_MANAGER, False),
    ],
)
def test_who_may_use_the_desk(client, staff_user, gift, role, allowed):
    client.force_login(staff_user(role))
    assert client.get(DESK).status_code == (200 if allowed else 403)
    menu = client.get("/backoffice/").content.decode()
    assert (f'href="{DESK}"' in menu) is allowed
    if not allowed:
        assert client.post(REDEEM, {**once(), "code": gift.code}).status_code == 403
        assert Coupon.objects.get(pk=gift.pk).status == "unused"


def test_the_page_offers_the_camera_only_through_script(desk):
    page = desk.get(DESK).content.decode()
    assert 'id="desk-camera" hidden' in page and "coupon_desk.js" in page
    assert 'name="code"' in page and "autofocus" in page


def test_a_double_submitted_redeem_uses_the_coupon_once_and_answers_the_first_result(
    desk, make_coupon, member
):
    coupon = make_coupon(member, kind="cash", face_value_fen=1000)
    data = {"code": coupon.code, "amount": "88.50"} | once()

    first = desk.post(REDEEM, data)
    second = desk.post(REDEEM, data, follow=True)

    coupon.refresh_from_db()
    assert (coupon.status, coupon.discount_fen) == ("used", 1000)
    assert second.redirect_chain[0][0] == first["Location"]
    page = second.content.decode()
    assert page.count("核销成功：优惠 ¥10。") == 2 and "未核销" not in page  # no refusal


def test_a_double_submitted_refusal_is_answered_with_the_same_reason(desk, make_coupon, member):
    coupon = make_coupon(member, kind="gift", gift_name="保温杯", state="voided")
    data = {"code": coupon.code} | once()
    first = desk.post(REDEEM, data)
    second = desk.post(REDEEM, data, follow=True)
    assert second.redirect_chain[0][0] == first["Location"]
    assert second.content.decode().count("未核销：这张券已作废。") == 2
