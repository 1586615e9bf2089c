"""A member sees a receipt earned through the POS API on 我的会员 and 交易记录."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.defaults import loyalty_defaults_install
from pos.services import pos_terminal_create
from tests.browser.live import member_sign_in, pos_post
from tests.conftest import screenshot
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_receipt_from_the_till_shows_on_my_membership_and_my_records(live_server, phone_page):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    terminal = pos_terminal_create(store=store, name="2F 女装 01")
    member = MemberFactory(home_store=store, name="王芳")
    occurred = (timezone.localtime() - timedelta(minutes=5)).isoformat(timespec="seconds")
    status, result = pos_post(
        live_server.url,
        terminal,
        "/api/pos/v1/receipts",
        {
            "store": "S01",
            "pos_no": "P07",
            "receipt_no": "20261125-000042",
            "occurred_at": occurred,
            "member": {"card_no": member.card_no},
            "lines": [
                {
                    "sku": "6901234567890",
                    "name": "真丝连衣裙",
                    "spec": "M 藏青",
                    "brand": "江南布衣",
                    "category": "女装",
                    "qty": 1,
                    "amount_fen": 129900,
                }
            ],
            "payments": [{"method": "wechat", "amount_fen": 129900}],
            "total_fen": 129900,
            "coupons": [],
            "refund_of": None,
        },
    )
    assert status == 201
    assert result["points_earned"] == 1299
    page = phone_page
    member_sign_in(page, live_server, member)

    page.goto(f"{live_server.url}/m/card/")
    expect(page.locator("[data-card-tier]")).to_have_text("普卡")
    expect(page.locator("[data-card-points]")).to_have_text("1299")
    screenshot(page, "h5_member_card_with_points")
    page.locator('a[href="/m/tier/"]').click()
    expect(page.locator("[data-tier]")).to_have_attribute("data-tier", "regular")
    expect(page.locator("[data-points]")).to_have_text("1299")
    expect(page.locator("[data-gap]")).to_have_attribute("data-gap", str(500_000 - 129_900))
    expect(page.get_by_text("3,701.00")).to_be_visible()
    screenshot(page, "h5_my_membership")

    page.goto(f"{live_server.url}/m/records/?tab=department")
    row = page.locator('[data-receipt="20261125-000042"]')
    expect(row).to_contain_text("江南布衣")
    expect(row).to_contain_text("1,299.00")
    expect(row.locator("[data-receipt-points]")).to_have_text("+1299 积分")
    screenshot(page, "h5_purchase_records")
    row.click()
    expect(page.locator("[data-line]")).to_contain_text("真丝连衣裙 M 藏青")
    expect(page.locator("[data-points]")).to_have_text("+1299")
    expect(page.get_by_text("P07")).to_be_visible()
    screenshot(page, "h5_receipt_detail")

    page.goto(f"{live_server.url}/m/records/?tab=points")
    expect(page.locator("[data-entry]")).to_have_count(1)
    expect(page.locator("[data-balance]")).to_have_text("1299")
