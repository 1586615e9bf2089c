"""The service workbench (客服工作台) in Chromium: a customer-service user signs in, opens the
queue, claims a ticket with a photo, records a call-back, adds an internal note, grants 50
points and resolves; screenshots of the queue and the ticket page on a desktop (1280×800)
and a phone (390×844)."""

import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from core.roles import Role
from feedback.defaults import feedback_defaults_install
from feedback.models import Ticket, TicketType
from feedback.services import ticket_submit
from loyalty.defaults import loyalty_defaults_install
from loyalty.ledger import points_balance
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo() -> bytes:
    image = Image.new("RGB", (480, 360), "#f3efe6")
    ImageDraw.Draw(image).text((40, 150), "EXPIRED 2026-11-30", fill="#a8071a", font_size=36)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/?next=/backoffice/feedback/")
    page.get_by_label("用户名或邮箱").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".bo-top__title")).to_have_text("反馈列表")


def test_customer_service_handles_a_ticket_in_the_workbench(
    live_server, page, browser, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    loyalty_defaults_install(apps)
    feedback_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="李娜", phone="13900001111")
    goods = TicketType.objects.get(code="goods")
    ticket = ticket_submit(
        member=member,
        ticket_type=goods,
        store=store,
        details="在超市买的牛奶已经过期了，希望退换并给个说法。",
        contact_name="李娜",
        contact_phone="13900001111",
        photos=[photo()],
    )
    late = ticket_submit(
        member=MemberFactory(home_store=store, name="王小明"),
        ticket_type=TicketType.objects.get(code="opinion"),
        store=store,
        details="停车场指示牌不清楚。",
        contact_name="王小明",
        contact_phone="13900002222",
    )
    Ticket.objects.filter(pk=late.pk).update(
        first_response_due=timezone.now() - timedelta(hours=2),
        resolution_due=timezone.now() - timedelta(hours=1),
    )
    StaffFactory(
        user__username="kefu", user__role=Role.CUSTOMER_SERVICE, name="王芳", employee_no="KF01"
    )

    sign_in(page, live_server, "kefu")
    expect(page.locator(f'[data-ticket="{late.number}"]')).to_have_attribute("class", "fb-row_late")
    expect(page.locator(".bo-nav__item_on")).to_contain_text("客服工作台")
    screenshot(page, "feedback_queue_1280")

    page.locator(f'[data-ticket="{ticket.number}"] a').click()
    expect(page.locator(".bo-top__title")).to_contain_text(ticket.number)
    image = page.locator("img[data-ticket-photo]")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('img[data-ticket-photo]').complete")
    assert image.evaluate("img => img.naturalWidth") == 480

    page.locator('[data-action="claim"] button').click()
    expect(page.locator(".bo-message_success")).to_contain_text("认领")
    expect(page.locator('[data-status="processing"]')).to_be_visible()

    callback = page.locator('[data-action="callback"]')
    callback.get_by_label("通话结果").select_option("reached")
    callback.get_by_label("通话内容").fill("会员同意退货，已约明天到服务台办理。")
    callback.get_by_role("button", name="记录致电").click()
    expect(page.locator('[data-event="callback"]')).to_contain_text("已接通")

    note = page.locator('[data-action="note"]')
    note.get_by_label("内部备注").fill("会员情绪激动，注意语气。")
    note.get_by_role("button", name="添加备注").click()
    expect(page.locator("[data-internal]")).to_contain_text("内部备注 (仅员工可见)")

    grant = page.locator('[data-action="compensate"]')
    grant.get_by_label("积分", exact=True).check()
    grant.get_by_label("积分数").fill("50")
    grant.get_by_label("补偿原因").fill("商品过期致歉")
    grant.get_by_role("button", name="发放补偿").click()
    expect(page.locator('[data-compensation="points"]')).to_contain_text("50")
    assert points_balance(member_id=member.pk) == 50

    resolve = page.locator('[data-action="resolve"]')
    resolve.get_by_label("回复会员").fill("已为您办理退货并补偿 50 积分，给您带来不便深表歉意。")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, "feedback_ticket_1280")
    resolve.get_by_role("button", name="处理完成").click()
    expect(page.locator('[data-status="resolved"]')).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.first_responded_at is not None
    screenshot(page, "feedback_ticket_resolved_1280")

    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    small = phone.new_page()
    sign_in(small, live_server, "kefu")
    screenshot(small, "feedback_queue_390")
    small.goto(f"{live_server.url}/backoffice/feedback/{late.pk}/")
    expect(small.locator('[data-action="claim"]')).to_be_visible()
    screenshot(small, "feedback_ticket_390")
    phone.close()
