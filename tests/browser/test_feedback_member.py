"""服务反馈 in Chromium: a signed-in member files a complaint with a photo, finds it in 我的反馈 as
等待处理; customer service claims, calls back and resolves it (through the services); the
member rates it with stars and tags. Screenshots of each page at 390×844 and 1280×800."""

import re

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from feedback.defaults import feedback_defaults_install
from feedback.models import Department, Handler, Rating, Ticket
from feedback.services import ticket_callback, ticket_claim, ticket_resolve
from loyalty.defaults import loyalty_defaults_install
from stores.models import Brand, Floor, Shop
from tests.browser.live import member_sign_in
from tests.browser.test_member_claims import phone_photo
from tests.conftest import screenshot
from tests.feedback.test_photos import zip_bytes
from tests.members.factories import MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 800}}


def shots(page, name: str) -> None:
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        screenshot(page, f"h5_feedback_{name}_{label}")
    page.set_viewport_size(SIZES["390"])


def test_a_member_files_a_complaint_with_a_photo_and_rates_its_handling(
    live_server, phone_page, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    loyalty_defaults_install(apps)
    feedback_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    other = StoreFactory(code="S02", name="城西店")
    brand = Brand.objects.create(name="江南布衣")
    shop = Shop.objects.create(
        floor=Floor.objects.create(store=store, code="2F", name="女装", order=2),
        brand=brand,
        unit_no="2F-01",
    )
    Shop.objects.create(
        floor=Floor.objects.create(store=other, code="1F", name="鞋", order=1),
        brand=Brand.objects.create(name="某鞋"),
        unit_no="1F-08",
    )
    member = MemberFactory(home_store=store, name="王芳", phone="13900001111")
    agent = StaffFactory(user__role="customer_service", user__first_name="李静").user
    Handler.objects.create(
        user=agent,
        department=Department.objects.create(name="客服中心"),
        employee_no="KF007",
        contact_phone="0571-88886666",
    )
    page = phone_page
    page.set_viewport_size(SIZES["390"])
    member_sign_in(page, live_server, member)

    page.goto(f"{live_server.url}/m/card/")
    expect(page.locator('[data-entry="feedback-list"]')).to_have_text("我的反馈")
    shots(page, "card_entries")
    page.locator('[data-entry="feedback-new"]').first.click()
    expect(page).to_have_url(re.compile(r"/m/feedback/new/$"))
    expect(page.get_by_label("联系人")).to_have_value("王芳")
    expect(page.get_by_label("联系电话")).to_have_value("13900001111")
    expect(page.get_by_label("门店")).to_have_value(str(store.pk))
    # Only the chosen store's shops are offered.
    shop_options = page.locator("select[name=shop] option:not([hidden])")
    expect(shop_options).to_have_count(2)  # "not about a shop" and 2F 江南布衣
    shots(page, "new_empty")
    submit = page.get_by_role("button", name="提交")
    page.get_by_label("联系电话").fill("")
    expect(submit).to_be_disabled()  # 填写联系方式后才可以提交
    page.get_by_label("联系电话").fill("13900001111")
    expect(submit).to_be_enabled()

    page.get_by_text("商品投诉").click()
    details = "昨天在二楼买的连衣裙，回家发现开线了。\n希望可以换货。"
    page.get_by_label("详细说明").fill(details)
    expect(page.locator("[data-counter]")).to_have_text(str(len(details)))
    page.get_by_label("店铺").select_option(str(shop.pk))
    page.get_by_label("照片").set_input_files(
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    expect(page.locator("[data-preview]")).to_have_count(1)
    expect(page.locator("[data-photo-count]")).to_have_text("1")
    shots(page, "new_filled")
    submit.click()

    expect(page).to_have_url(re.compile(r"/m/feedback/FK\d{12}/$"))
    ticket = Ticket.objects.get()
    expect(page.get_by_role("alert")).to_contain_text(ticket.number)
    expect(page.locator("[data-status]").first).to_have_text("等待处理")
    assert ticket.photos.count() == 1 and ticket.shop == shop
    photo = page.locator("[data-photo] img")
    expect(photo).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    shots(page, "ticket_waiting")

    page.get_by_role("link", name="我的全部反馈").click()
    row = page.locator(f'[data-ticket="{ticket.number}"]')
    expect(row).to_contain_text("等待处理")
    expect(row).to_contain_text("昨天在二楼买的连衣裙")
    expect(row).not_to_contain_text("希望可以换货")
    shots(page, "list")

    ticket_claim(ticket=ticket, actor=agent)
    ticket_callback(
        ticket=ticket,
        actor=agent,
        called_at=timezone.now(),
        outcome="reached",
        text="已致电会员，约定明天到店换货",
    )
    ticket_resolve(ticket=ticket, actor=agent, text="已为您换了一条新的连衣裙")

    page.goto(f"{live_server.url}/m/feedback/?status=resolved")
    page.locator(f'[data-ticket="{ticket.number}"]').click()
    handler = page.locator("[data-handler]")
    for text in ["李静", "客服中心", "KF007", "0571-88886666"]:
        expect(handler).to_contain_text(text)
    expect(page.locator("[data-timeline]")).to_contain_text("已为您换了一条新的连衣裙")
    page.locator('label[data-star="4"]').click()
    expect(page.locator("[data-stars-label]")).to_have_text("满意")
    page.get_by_text("态度热情").click()
    page.get_by_text("解决彻底").click()
    page.get_by_label("评价内容").fill("换货很顺利，谢谢")
    shots(page, "rate_form")
    page.get_by_role("button", name="提交评价").click()

    expect(page.locator("[data-rating] [data-stars]")).to_have_attribute("data-stars", "4")
    rating = Rating.objects.get()
    assert rating.stars == 4 and {t.name for t in rating.tags.all()} == {"态度热情", "解决彻底"}
    expect(page.locator("[data-rate-form]")).to_have_count(0)
    shots(page, "rated")

    page.goto(f"{live_server.url}/m/feedback/?status=closed")
    expect(page.locator("[data-empty]")).to_be_visible()
    shots(page, "list_empty")


def test_a_refused_photo_is_named_and_the_other_photos_and_text_stay(
    live_server, phone_page, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    loyalty_defaults_install(apps)
    feedback_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳", phone="13900001111")
    page = phone_page
    page.set_viewport_size(SIZES["390"])
    member_sign_in(page, live_server, member)

    page.goto(f"{live_server.url}/m/feedback/new/")
    page.get_by_text("服务意见").click()
    page.get_by_label("详细说明").fill("希望停车场多一些充电桩")
    page.get_by_label("照片").set_input_files(
        [
            {"name": "停车场.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()},
            {"name": "夹带.jpg", "mimeType": "image/jpeg", "buffer": phone_photo() + zip_bytes()},
        ]
    )
    expect(page.locator("[data-preview]")).to_have_count(2)
    page.get_by_role("button", name="提交").click()

    error = page.locator("[data-photo-error]")
    expect(error).to_contain_text("夹带.jpg")
    expect(error).not_to_contain_text("停车场.jpg")
    expect(page.get_by_label("详细说明")).to_have_value("希望停车场多一些充电桩")
    expect(page.locator("[data-preview]")).to_have_count(2)  # still chosen
    expect(page.locator("[data-preview][data-refused]")).to_have_attribute(
        "data-preview", "夹带.jpg"
    )
    shots(page, "new_photo_refused")
    assert not Ticket.objects.exists()

    page.get_by_role("button", name="删除 夹带.jpg").click()
    expect(page.locator("[data-preview]")).to_have_count(1)
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/m/feedback/FK\d{12}/$"))
    ticket = Ticket.objects.get()
    expect(page.get_by_role("alert")).to_contain_text(ticket.number)  # the message waited
    assert ticket.photos.count() == 1 and ticket.details == "希望停车场多一些充电桩"
