"""积分商城 member pages: the goods under category tabs, a good's detail, redeeming through the
confirm form (once per form key), the pickup code page, my redemptions; only one's own."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.ledger import points_balance
from mall.models import GoodsCategory, Redemption
from mall.redeeming import goods_redeem
from members.models import Message
from tests.mall.conftest import give_points
from tests.members.factories import AddressFactory, MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def client_of(client):
    def sign_in(member):
        return signed_in_as(client, member, openid=f"o_{member.pk}")

    return sign_in


def form_key(response) -> str:
    return re.search(rb'name="key" value="([^"]+)"', response.content).group(1).decode()


def redeem_post(client, goods, **data):
    body = {"qty": 1, "delivery": "pickup", "key": KEY} | data
    if body["delivery"] == "pickup" and "pickup_store" not in data:
        body["pickup_store"] = goods.pickup_stores.first().pk
    return client.post(
        f"/m/mall/goods/{goods.pk}/redeem/", {k: v for k, v in body.items() if v is not None}
    )


def test_the_mall_shows_the_points_the_category_tabs_and_the_goods(client_of, rich, make_goods):
    home = GoodsCategory.objects.create(name="生活家居", position=1)
    food = GoodsCategory.objects.create(name="美食饮品", position=2)
    GoodsCategory.objects.create(name="停用分类", active=False)
    make_goods(name="保温杯", category=home, market_price_fen=5900, points_price=300)
    make_goods(name="咖啡券", category=food, stock=0)
    make_goods(name="下架雨伞", category=home, shelf_until=timezone.now() - timedelta(days=1))
    goods_redeem(
        member=rich,
        goods=make_goods(name="旧兑换", points_price=150),
        delivery="pickup",
        idempotency_key="old",
    )
    client = client_of(rich)

    page = client.get("/m/mall/").content.decode()

    assert re.search(r"data-balance>850<", page) and re.search(r"data-spent>150<", page)
    assert "积分商城" in page and "可用积分" in page and "我的兑换" in page
    assert page.index("生活家居") < page.index("美食饮品") and "停用分类" not in page
    assert "保温杯" in page and "¥59.00" in page and "咖啡券" in page and "下架雨伞" not in page
    assert page.count("data-sold-out") == 1 and "已兑完" in page

    tab = client.get(f"/m/mall/?category={food.pk}").content.decode()
    assert "咖啡券" in tab and "保温杯" not in tab
    assert f'data-category="{food.pk}" aria-current="page"' in tab
    for junk in ("abc", "999999", ""):
        assert "保温杯" in client.get("/m/mall/", {"category": junk}).content.decode()


def test_the_mall_asks_a_visitor_to_sign_in_first(client, goods):
    for url in ("/m/mall/", f"/m/mall/goods/{goods.pk}/", "/m/mall/redemptions/"):
        response = client.get(url)
        assert response.status_code == 302 and "/m/wechat/login/" in response["Location"]


def test_the_detail_shows_notes_limits_delivery_and_the_refusal_up_front(
    client_of, rich, make_goods, store
):
    goods = make_goods(
        name="真丝方巾",
        points_price=400,
        per_member_limit=2,
        offers_express=True,
        redemption_notes="每人限兑 2 件，兑换后不退不换。",
        pickup_note="1F 服务台 10:00–22:00",
    )
    client = client_of(rich)

    page = client.get(f"/m/mall/goods/{goods.pk}/").content.decode()

    assert "每人限兑 2 件，兑换后不退不换。" in page and "1F 服务台 10:00–22:00" in page
    assert store.name in page and "快递配送" in page and "服务台自提" in page
    assert "立即兑换" in page and f'href="/m/mall/goods/{goods.pk}/redeem/"' in page
    assert "data-refusal" not in page

    member = MemberFactory()
    give_points(member, 100)  # 400 needed
    poor = client_of(member).get(f"/m/mall/goods/{goods.pk}/").content.decode()
    assert 'data-refusal="insufficient_points"' in poor and "积分不足" in poor
    assert "disabled data-redeem" in poor


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"shelf_from": timezone.now() + timedelta(days=3)},
        {"shelf_until": timezone.now() - timedelta(minutes=1)},
    ],
)
def test_goods_off_the_shelf_are_not_found(client_of, rich, make_goods, change):
    goods = make_goods(**change)
    client = client_of(rich)
    for url in (f"/m/mall/goods/{goods.pk}/", f"/m/mall/goods/{goods.pk}/redeem/"):
        assert client.get(url).status_code == 404
    assert redeem_post(client, goods).status_code == 404
    assert not Redemption.objects.exists()


def test_redeeming_for_pickup_shows_the_code_and_messages_a_link_to_it(
    client_of, rich, goods, store
):
    client = client_of(rich)
    form = client.get(f"/m/mall/goods/{goods.pk}/redeem/")
    assert form.status_code == 200 and "确认兑换" in form.content.decode()

    response = redeem_post(client, goods, key=form_key(form), qty=2)

    redemption = Redemption.objects.get(member=rich)
    assert response.status_code == 302
    assert response["Location"] == f"/m/mall/redemptions/{redemption.code}/"
    assert (redemption.qty, redemption.points, redemption.pickup_store) == (2, 200, store)
    assert points_balance(member_id=rich.pk) == 800
    page = client.get(response["Location"]).content.decode()
    assert f'data-code="{redemption.code}"' in page and "取货码" in page
    assert page.count("<svg") == 2  # barcode and QR while it awaits pickup
    assert f"{store.name}" in page and "待领取" in page and 'data-event="pending_pickup"' in page
    message = Message.objects.get(member=rich, kind=Message.Kind.REDEMPTION)
    assert message.link == f"/m/mall/redemptions/{redemption.code}/"
    assert redemption.code in message.body
    inbox = client.get(f"/m/messages/{message.pk}/").content.decode()
    assert redemption.code in inbox and "查看兑换详情" in inbox


def test_a_double_tap_with_the_same_form_key_redeems_once(client_of, rich, goods):
    client = client_of(rich)
    key = form_key(client.get(f"/m/mall/goods/{goods.pk}/redeem/"))

    first, second = (redeem_post(client, goods, key=key) for _ in range(2))

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Redemption.objects.count() == 1
    assert points_balance(member_id=rich.pk) == 900
    goods.refresh_from_db()
    assert goods.stock == 9
    # a new visit of the form is a new key: a second redemption on purpose
    again = redeem_post(
        client, goods, key=form_key(client.get(f"/m/mall/goods/{goods.pk}/redeem/"))
    )
    assert again.status_code == 302 and Redemption.objects.count() == 2


def test_not_enough_points_is_a_form_error_and_spends_nothing(client_of, make_goods):
    member = MemberFactory()
    give_points(member, 150)
    goods = make_goods(points_price=100)
    client = client_of(member)

    page = client.get(f"/m/mall/goods/{goods.pk}/redeem/").content.decode()
    assert "data-refusal" not in page
    response = redeem_post(client, goods, qty=2)

    assert response.status_code == 400
    body = response.content.decode()
    assert "积分不足" in body and 'value="2"' in body and KEY in body  # the choices kept
    assert points_balance(member_id=member.pk) == 150
    assert not Redemption.objects.exists()
    goods.refresh_from_db()
    assert goods.stock == 10


def test_the_confirm_page_says_up_front_when_the_member_cannot_redeem(client_of, make_goods):
    member = MemberFactory()
    give_points(member, 50)
    goods = make_goods(points_price=100)

    page = client_of(member).get(f"/m/mall/goods/{goods.pk}/redeem/").content.decode()

    assert 'data-refusal="insufficient_points"' in page and "积分不足" in page
    assert re.search(r"<button[^>]*disabled data-submit>", page)


def test_express_without_an_address_prompts_to_complete_the_profile(client_of, make_goods):
    member = MemberFactory(name="")
    give_points(member, 1000)
    goods = make_goods(offers_pickup=False, offers_express=True)
    client = client_of(member)

    page = client.get(f"/m/mall/goods/{goods.pk}/redeem/").content.decode()

    assert "data-express-missing" in page
    assert "姓名" in page and "收货地址" in page
    assert 'href="/m/me/addresses/new/"' in page and 'href="/m/me/profile/"' in page
    response = redeem_post(client, goods, delivery="express")
    assert response.status_code == 400 and "请选择收货地址" in response.content.decode()

    address = AddressFactory(member=member, is_default=True)
    refused = redeem_post(client, goods, delivery="express", address=address.pk)
    assert refused.status_code == 400 and "快递配送前请先完善资料：姓名" in refused.content.decode()
    assert not Redemption.objects.exists() and points_balance(member_id=member.pk) == 1000

    member.name = "李娜"
    member.save(update_fields=["name"])
    assert (
        "data-express-missing"
        not in client.get(f"/m/mall/goods/{goods.pk}/redeem/").content.decode()
    )
    sent = redeem_post(client, goods, delivery="express", address=address.pk)
    assert sent.status_code == 302
    redemption = Redemption.objects.get()
    assert (redemption.status, redemption.address["detail"]) == ("pending_shipment", address.detail)


def test_someone_elses_address_or_store_is_refused(client_of, rich, make_goods, store):
    goods = make_goods(offers_express=True)
    other_address = AddressFactory(member=MemberFactory(), is_default=True)
    client = client_of(rich)
    assert (
        redeem_post(client, goods, delivery="express", address=other_address.pk).status_code == 400
    )
    other_store = MemberFactory().home_store
    assert redeem_post(client, goods, pickup_store=other_store.pk).status_code == 400
    assert not Redemption.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"qty": 0},
        {"qty": "two"},
        {"qty": 100},
        {"key": ""},
        {"key": "short"},
        {"key": "x" * 65},
        {"delivery": "teleport"},
        {"delivery": "coupon"},
        {"pickup_store": "abc"},
        {"pickup_store": ""},
    ],
)
def test_bad_input_is_a_form_error_not_a_500(client_of, rich, goods, data):
    response = redeem_post(client_of(rich), goods, **data)
    assert response.status_code == 400
    assert 'class="h5-error"' in response.content.decode()
    assert not Redemption.objects.exists()


def test_sold_out_goods_show_it_and_cannot_be_redeemed(client_of, rich, make_goods):
    goods = make_goods(stock=0)
    client = client_of(rich)

    page = client.get(f"/m/mall/goods/{goods.pk}/").content.decode()
    assert 'data-refusal="out_of_stock"' in page and "已兑完" in page

    response = redeem_post(client, goods)
    assert response.status_code == 400 and "库存不足" in response.content.decode()
    assert points_balance(member_id=rich.pk) == 1000


def test_a_coupon_good_issues_the_coupon_without_a_delivery_choice(
    client_of, rich, make_goods, make_template
):
    goods = make_goods(
        name="10 元现金券", kind="coupon", coupon_template=make_template("CASH10", name="10 元券")
    )
    client = client_of(rich)
    response = redeem_post(client, goods, delivery="coupon", pickup_store=None)
    assert response.status_code == 302
    redemption = Redemption.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert redemption.status == "issued" and "已发券" in page
    coupon = redemption.coupons.get()
    assert f'href="/m/coupons/{coupon.code}/"' in page and "data-pickup-code" not in page


def test_another_members_redemption_is_not_found(client_of, rich, goods):
    mine = goods_redeem(member=rich, goods=goods, delivery="pickup", idempotency_key="k1")
    other = MemberFactory(home_store=rich.home_store)
    give_points(other, 500)
    theirs = goods_redeem(member=other, goods=goods, delivery="pickup", idempotency_key="k1")
    client = client_of(rich)

    assert client.get(f"/m/mall/redemptions/{mine.code}/").status_code == 200
    assert client.get(f"/m/mall/redemptions/{mine.code.lower()}/").status_code == 200
    assert client.get(f"/m/mall/redemptions/{theirs.code}/").status_code == 404
    assert client.get("/m/mall/redemptions/NOSUCHCODE/").status_code == 404
    assert theirs.code not in client.get("/m/mall/redemptions/").content.decode()


def test_my_redemptions_under_status_tabs(client_of, rich, make_goods, staff_user):
    cup, scarf = make_goods(name="保温杯"), make_goods(name="方巾")
    goods_redeem(member=rich, goods=cup, delivery="pickup", idempotency_key="a")
    done = goods_redeem(member=rich, goods=scarf, delivery="pickup", idempotency_key="b")
    Redemption.objects.filter(pk=done.pk).update(status="picked_up")
    client = client_of(rich)

    page = client.get("/m/mall/redemptions/").content.decode()
    assert "保温杯" in page and "方巾" in page and "全部<span" in page
    assert re.search(r'data-tab="open".*?\(1\)', page) and re.search(
        r'data-tab="done".*?\(1\)', page
    )
    pending = client.get("/m/mall/redemptions/?status=open").content.decode()
    assert "保温杯" in pending and "方巾" not in pending
    empty = client.get("/m/mall/redemptions/?status=cancelled").content.decode()
    assert "data-empty" in empty
    assert client.get("/m/mall/redemptions/?status=nonsense&page=x").status_code == 200
