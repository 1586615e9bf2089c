"""Issue 13's chain in Chromium, each side in its own browser: a member files a complaint with
a photo on the phone → customer service claims it in the workbench, records a call-back and
resolves it → the member sees 已处理 and rates it with stars and a tag → the service desk's
statistics count the ticket, the rating and the tag. A screenshot of each step."""

import re

import pytest
from django.apps import apps
from playwright.sync_api import expect

from core.roles import Role
from feedback.defaults import feedback_defaults_install
from feedback.models import Department, Handler, Rating, Ticket
from loyalty.defaults import loyalty_defaults_install
from tests.browser.live import member_sign_in
from tests.browser.test_feedback_workbench import sign_in
from tests.browser.test_member_claims import phone_photo
from tests.conftest import screenshot
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_complaint_goes_from_the_member_through_the_desk_into_the_statistics(
    live_server, page, phone_page, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    loyalty_defaults_install(apps)
    feedback_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳", phone="13900001111")
    agent = StaffFactory(
        user__username="kefu",
        user__role=Role.CUSTOMER_SERVICE,
        user__first_name="李静",
        name="李静",
        employee_no="KF007",
    ).user
    Handler.objects.create(
        user=agent,
        department=Department.objects.create(name="客服中心"),
        employee_no="KF007",
        contact_phone="0571-88886666",
    )

    # 1. The member files a complaint with a photo.
    member_sign_in(phone_page, live_server, member)
    phone_page.goto(f"{live_server.url}/m/feedback/new/")
    phone_page.get_by_text("商品投诉").click()
    phone_page.get_by_label("详细说明").fill("超市买的酸奶已过保质期。")
    phone_page.get_by_label("照片").set_input_files(
        {"name": "酸奶.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    phone_page.get_by_role("button", name="提交").click()
    expect(phone_page).to_have_url(re.compile(r"/m/feedback/FK\d{12}/$"))
    ticket = Ticket.objects.get()
    expect(phone_page.locator("[data-status]").first).to_have_text("等待处理")
    screenshot(phone_page, "feedback_chain_1_member_submitted")

    # 2. Customer service finds it in the queue, claims, calls back and resolves it.
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "kefu")
    row = page.locator(f'[data-ticket="{ticket.number}"]')
    expect(row).to_contain_text("等待处理")
    screenshot(page, "feedback_chain_2_queue")
    row.locator("a").click()
    expect(page.locator("img[data-ticket-photo]")).to_be_visible()
    page.locator('[data-action="claim"] button').click()
    expect(page.locator('[data-status="processing"]')).to_be_visible()
    callback = page.locator('[data-action="callback"]')
    callback.get_by_label("通话结果").select_option("reached")
    callback.get_by_label("通话内容").fill("已致电会员，同意到服务台退款。")
    callback.get_by_role("button", name="记录致电").click()
    expect(page.locator('[data-event="callback"]')).to_contain_text("已接通")
    screenshot(page, "feedback_chain_3_callback")
    resolve = page.locator('[data-action="resolve"]')
    resolve.get_by_label("回复会员").fill("已为您办理退款，抱歉给您带来不便。")
    resolve.get_by_role("button", name="处理完成").click()
    expect(page.locator('[data-status="resolved"]')).to_be_visible()
    screenshot(page, "feedback_chain_4_resolved")

    # 3. The member sees the handler and the reply, and rates the handling.
    phone_page.reload()
    expect(phone_page.locator("[data-status]").first).to_have_text("已处理")
    expect(phone_page.locator("[data-handler]")).to_contain_text("KF007")
    expect(phone_page.locator("[data-timeline]")).to_contain_text("已为您办理退款")
    expect(phone_page.locator("[data-timeline]")).to_contain_text("已接通")
    phone_page.locator('label[data-star="5"]').click()
    phone_page.get_by_text("回复及时").click()
    phone_page.get_by_role("button", name="提交评价").click()
    expect(phone_page.locator("[data-rating] [data-stars]")).to_have_attribute("data-stars", "5")
    screenshot(phone_page, "feedback_chain_5_member_rated")
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.stars, [t.name for t in rating.tags.all()]) == (5, ["回复及时"])

    # 4. The statistics count the ticket, the complaint, the rating and the tag.
    page.get_by_role("link", name="反馈统计").click()
    expect(page.locator("[data-figure]").first).to_contain_text("1")
    by_type = page.locator("[data-chart-panel=by_type]")
    by_type.get_by_text("数据明细").click()
    expect(by_type.locator("table tbody")).to_contain_text("商品投诉")
    screenshot(page, "feedback_chain_6_statistics")
    page.get_by_role("link", name="标签统计", exact=True).first.click()
    tags = page.locator("[data-chart-panel=tags]")
    tags.get_by_text("数据明细").click()
    tag_row = tags.locator("table tbody tr", has_text="回复及时")
    expect(tag_row).to_contain_text("1")
    stars = page.locator("[data-chart-panel=stars]")
    stars.get_by_text("数据明细").click()
    expect(stars.locator("table tbody tr", has_text="5 星")).to_contain_text("1")
    screenshot(page, "feedback_chain_7_tag_statistics")
