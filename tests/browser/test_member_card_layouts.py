"""The card page's two layouts (完整版 and 简化版) as a member sees them in Chromium, at phone
size and on a desktop; the purchase records with each receipt's points; the claim form."""

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.defaults import loyalty_defaults_install
from loyalty.ledger import points_post
from loyalty.models import PointsEntry
from members.models import CardPageSettings, MenuButton
from tests.browser.live import member_sign_in
from tests.conftest import screenshot
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
MENU = [
    ("积分商城", "🎁"),
    ("楼层导视", "🧭"),
    ("抽奖", "🎲"),
    ("品牌活动", "🏷"),
    ("服务反馈", "💬"),
]


@pytest.fixture
def member(db):
    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01", name="武林旗舰店")
    member = MemberFactory(home_store=store, name="王芳")
    points_post(
        member_id=member.pk,
        kind=PointsEntry.Kind.ADJUST,
        points=1299,
        key="browser:card-layouts",
        memo="test",
        earned_on=timezone.localdate(),
    )
    for order, (label, icon) in enumerate(MENU):
        MenuButton.objects.create(label=label, icon=icon, url="/m/", order=order)
    return member


def _look_at_both_layouts(page, live_server, member, size: str) -> dict:
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    member_sign_in(page, live_server, member)
    heights = {}
    for layout in ("full", "simple"):
        CardPageSettings.objects.update_or_create(pk=1, defaults={"layout": layout})
        page.goto(f"{live_server.url}/m/card/")
        expect(page.locator(f'[data-layout="{layout}"]')).to_be_visible()
        expect(page.locator("[data-card-points]")).to_have_text("1299")
        expect(page.locator("[data-part=qr_svg] svg")).to_be_visible()
        heights[layout] = page.locator(".h5-card").bounding_box()["height"]
        screenshot(page, f"h5_card_{layout}_{size}")
    assert errors == []
    return heights


def test_the_simple_card_page_is_compact_at_phone_size(live_server, phone_page, member):
    page = phone_page
    page.set_viewport_size(PHONE)

    heights = _look_at_both_layouts(page, live_server, member, "390x844")

    # Left on 简化版: no barcode, one row of the menu, the points inside the card.
    expect(page.locator("[data-part=barcode_svg]")).to_have_count(0)
    expect(page.locator(".h5-menu__item")).to_have_count(4)
    expect(page.locator(".h5-card [data-card-points]")).to_be_visible()
    assert heights["simple"] < heights["full"]
    qr = page.locator("[data-part=qr_svg] svg").bounding_box()
    assert qr["y"] + qr["height"] < PHONE["height"]  # the till code is on the first screen


def test_both_layouts_on_a_desktop(live_server, page, member):
    _look_at_both_layouts(page, live_server, member, "1280x800")
    expect(page.locator(".h5-menu__item")).to_have_count(4)

    page.goto(f"{live_server.url}/m/claims/")
    expect(page.get_by_label("消费日期")).to_have_value(timezone.localdate().isoformat())
    screenshot(page, "h5_claims_form_1280")
