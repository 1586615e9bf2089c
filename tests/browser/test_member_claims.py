"""拍小票 in Chromium: a member sends a phone photo (with GPS in its EXIF) from the claim form,
whose date field shows today; the photo comes back without EXIF to the member and to the
reviewing staff member, through the checked views, with DEBUG off as in production."""

import io
import re

import pytest
from django.apps import apps
from django.utils import timezone
from PIL import ExifTags, Image, ImageDraw, ImageOps
from playwright.sync_api import expect

from core.roles import Role
from loyalty.defaults import loyalty_defaults_install
from loyalty.models import ReceiptClaim
from members.models import StaffProfile
from tests.browser.live import member_sign_in
from tests.conftest import screenshot
from tests.members.factories import TEST_PASSWORD, MemberFactory, StaffFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def phone_photo() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 15.0, 7.0)}
    )
    upright = Image.new("RGB", (600, 300), "white")
    draw = ImageDraw.Draw(upright)
    for row, text in enumerate(["RECEIPT 20261202-0007", "1F JNBY", "TOTAL 1299.00"]):
        draw.text((40, 40 + 70 * row), text, fill="black", font_size=40)
    buffer = io.BytesIO()
    # The phone stored it lying on its side and says so in EXIF (orientation 6).
    upright.rotate(90, expand=True).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_a_member_sends_a_receipt_photo_and_staff_review_it(
    live_server, phone_page, page, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳")
    phone = phone_page
    phone.set_viewport_size({"width": 390, "height": 844})
    member_sign_in(phone, live_server, member)

    phone.goto(f"{live_server.url}/m/claims/")
    today = timezone.localdate().isoformat()
    expect(phone.get_by_label("消费日期")).to_have_value(today)  # a date input shows it
    screenshot(phone, "h5_claims_form_390")
    phone.get_by_label("店铺或专柜").fill("江南布衣")
    phone.get_by_label("小票号").fill("20261202-0007")
    phone.get_by_label("实付金额").fill("1299.00")
    phone.get_by_label("小票照片").set_input_files(
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    phone.get_by_role("button", name="提交").click()

    row = phone.locator('[data-claim="20261202-0007"]')
    expect(row).to_contain_text("审核中")
    claim = ReceiptClaim.objects.get()
    assert re.fullmatch(r"claims/[0-9a-f]{32}\.jpg", claim.photo.name)
    screenshot(phone, "h5_claims_sent_390")
    with phone.expect_response(re.compile(r"/m/claims/\d+/photo/$")) as answer:
        row.locator("[data-claim-photo]").click()
    assert answer.value.status == 200
    with Image.open(io.BytesIO(answer.value.body())) as image:
        assert dict(image.getexif()) == {} and image.size == (600, 300)  # upright again
        ink = ImageOps.invert(image.convert("L")).point(lambda v: 255 if v > 128 else 0)
        left, top, _right, _bottom = ink.getbbox()
        assert left < 100 and top < 100  # the text starts top left: turned the right way

    StaffFactory(
        scope=StaffProfile.Scope.STORE,
        store=store,
        user__username="desk",
        user__role=Role.CUSTOMER_SERVICE,
    )
    page.goto(f"{live_server.url}/backoffice/loyalty/claims/{claim.pk}/")
    page.get_by_label("用户名或邮箱").fill("desk")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    photo = page.locator("img[data-claim-photo]")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 600
    screenshot(page, "backoffice_claim_detail_1280")

    # The staff browser is no member: the member's address for the photo sends it to WeChat.
    answer = page.request.get(f"{live_server.url}/m/claims/{claim.pk}/photo/", max_redirects=0)
    assert answer.status == 302 and "/m/wechat/login/" in answer.headers["location"]
