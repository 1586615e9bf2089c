import pytest
from django.core.exceptions import ValidationError

from members.models import CardPageSettings, MenuButton, WechatIdentity
from tests.conftest import authorize, start
from tests.members.factories import MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db


def test_the_menu_shows_visible_buttons_in_order_and_the_layout(client):
    MenuButton.objects.create(label="积分商城", icon="🎁", url="/m/points/", order=2)
    MenuButton.objects.create(label="楼层导视", icon="🧭", url="/m/", order=1)
    MenuButton.objects.create(label="隐藏", icon="x", url="/m/x/", order=0, visible=False)
    CardPageSettings.objects.update_or_create(pk=1, defaults={"layout": "simple"})
    member = MemberFactory()
    signed_in_as(client, member)
    WechatIdentity.objects.filter(member=member).update(
        nickname="小李", avatar_url="https://x/a.png"
    )
    WechatIdentity.objects.filter(member=member).update(profile_fetched_at="2026-11-01T00:00Z")
    html = client.get("/m/card/").content.decode()
    assert html.index("楼层导视") < html.index("积分商城") and "隐藏" not in html
    assert "h5-home_simple" in html and "小李" in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.com/x", "http://plain.example/"])
def test_menu_links_must_be_site_paths_or_https(url):
    with pytest.raises(ValidationError):
        MenuButton(label="x", icon="x", url=url).full_clean()


def test_the_card_page_fetches_avatar_and_nickname_once(client, fake_wechat):
    member = MemberFactory()
    client.get("/m/wechat/callback/", authorize(fake_wechat, start(client)))
    WechatIdentity.objects.filter(openid="o_fake_li_na").update(member=member)
    first = client.get("/m/card/")
    assert first.status_code == 302 and "scope=userinfo" in first["Location"]
    url = client.get(first["Location"])["Location"]
    client.get("/m/wechat/callback/", authorize(fake_wechat, url))
    page = client.get("/m/card/")
    assert page.status_code == 200 and "李娜" in page.content.decode()


def _card_page(client, layout: str) -> str:
    CardPageSettings.objects.update_or_create(pk=1, defaults={"layout": layout})
    return client.get("/m/card/").content.decode()


def test_the_simple_layout_is_a_compact_card_with_the_qr_and_a_short_menu(client):
    from django.apps import apps

    from loyalty.defaults import loyalty_defaults_install

    loyalty_defaults_install(apps)  # the tiers (a transactional test may have flushed them)
    MenuButton.objects.all().delete()  # only this test's six, whatever earlier tests left
    for order, label in enumerate(["积分商城", "楼层导视", "抽奖", "品牌活动", "服务反馈", "签到"]):
        MenuButton.objects.create(label=label, icon="·", url="/m/", order=order)
    member = MemberFactory()
    signed_in_as(client, member)

    full = _card_page(client, "full")
    simple = _card_page(client, "simple")

    # 完整版: the card, barcode and QR, four figures, the profile cells, the whole menu.
    assert 'data-layout="full"' in full
    assert 'data-part="barcode_svg"' in full and 'data-part="qr_svg"' in full
    assert "/m/me/data.json" in full and full.count('class="h5-menu__item"') == 6
    assert "h5-card_compact" not in full
    # 简化版: one compact card with number, tier and points; the QR; a one-row menu.
    assert 'data-layout="simple"' in simple and "h5-card_compact" in simple
    compact_card = simple[simple.index("h5-card_compact") : simple.index("</section>")]
    assert member.card_no in compact_card and "data-card-points" in compact_card
    assert "data-card-tier" in compact_card
    assert 'data-part="qr_svg"' in simple and 'data-part="barcode_svg"' not in simple
    menu = simple[simple.index('class="h5-menu"') :]
    menu = menu[: menu.index("</nav>")]
    assert simple.count('class="h5-menu__item"') == 4 and "服务反馈" not in menu
    assert "/m/me/data.json" not in simple
