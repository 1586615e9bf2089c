"""智能推荐 on the card's 完整版: goods the member can afford ranked by co-redemptions, then by
the member's purchase categories, then by popularity; brand activities near their interests;
the card page shows them on 完整版 only, and a failing section never breaks the card."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import Receipt, ReceiptLine
from mall.activities import url_or_none
from mall.models import Goods, Redemption
from mall.recommending import (
    activities_recommended,
    goods_recommended,
    member_category_spend,
)
from mall.redeeming import goods_redeem
from members.card_sections import card_section_register, card_section_unregister
from members.models import CardPageSettings
from tests.mall.activity_data import activity, brand_in, category
from tests.mall.conftest import give_points
from tests.members.factories import MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db

_keys = itertools.count(1)
_receipts = itertools.count(1)


def redeem(member, goods, qty=1):
    give_points(member, goods.points_price * qty)
    return goods_redeem(
        member=member, goods=goods, qty=qty, delivery="pickup", idempotency_key=f"r{next(_keys)}"
    )


def bought(member, cat, amount_fen, *, days_ago=10, refund=False):
    """A receipt of `member` with one line of `cat`."""
    receipt = Receipt.objects.create(
        store=member.home_store,
        pos_no="P01",
        receipt_no=f"T{next(_receipts):06d}",
        occurred_at=timezone.now() - timedelta(days=days_ago),
        member=member,
        kind="refund" if refund else "sale",
        division="department",
        total_fen=amount_fen,
    )
    ReceiptLine.objects.create(
        receipt=receipt, line_no=1, name=cat.name, category=cat, qty=1, amount_fen=amount_fen
    )


def names(goods):
    return [g.name for g in goods]


@pytest.fixture
def shopper(store):
    return MemberFactory(home_store=store)


def test_goods_other_redeemers_of_the_member_s_goods_chose_come_first(store, make_goods, shopper):
    cup = make_goods(name="保温杯")
    umbrella = make_goods(name="雨伞")
    towel = make_goods(name="毛巾")
    popular = make_goods(name="人气抱枕")
    redeem(shopper, cup)
    for _ in range(2):  # two members who also took the cup took the umbrella
        peer = MemberFactory(home_store=store)
        redeem(peer, cup)
        redeem(peer, umbrella)
    peer = MemberFactory(home_store=store)
    redeem(peer, cup)
    redeem(peer, towel)
    for _ in range(4):  # popular with members who never took the cup
        redeem(MemberFactory(home_store=store), popular)
    give_points(shopper, 1000)

    ranked = goods_recommended(member=shopper)

    assert names(ranked)[:3] == ["雨伞", "毛巾", "人气抱枕"]
    assert [g.why for g in ranked[:3]] == ["co_redeemed", "co_redeemed", "popular"]


def test_a_peer_counts_once_and_cancelled_redemptions_do_not_count(store, make_goods, shopper):
    from mall.redeeming import redemption_cancel
    from tests.members.factories import StaffFactory

    cup, umbrella, towel = (make_goods(name=n) for n in ("保温杯", "雨伞", "毛巾"))
    redeem(shopper, cup)
    keen = MemberFactory(home_store=store)
    redeem(keen, cup)
    for _ in range(3):  # one member three times: still one member
        redeem(keen, umbrella)
    for _ in range(2):
        peer = MemberFactory(home_store=store)
        redeem(peer, cup)
        cancelled = redeem(peer, towel)
    staff = StaffFactory(user__role="hq_admin").user
    redemption_cancel(redemption=cancelled, actor=staff, reason="测试")
    give_points(shopper, 1000)

    ranked = goods_recommended(member=shopper)

    # towel: one live co-redeemer (the cancelled one is not counted); umbrella: one member
    co = {g.name: g.why for g in ranked}
    assert co["雨伞"] == "co_redeemed" and co["毛巾"] == "co_redeemed"
    assert Redemption.objects.filter(goods=towel, status="cancelled").count() == 1


def test_only_affordable_goods_in_stock_on_the_shelf_and_under_the_limit(
    store, make_goods, shopper
):
    now = timezone.now()
    make_goods(name="买得起", points_price=300)
    make_goods(name="刚好够", points_price=500)
    make_goods(name="太贵", points_price=501)
    make_goods(name="没货", points_price=100, stock=0)
    make_goods(name="已下架", points_price=100, is_active=False)
    make_goods(name="还没上架", points_price=100, shelf_from=now + timedelta(days=1))
    limited = make_goods(name="限兑一件", points_price=100, per_member_limit=1)
    redeem(shopper, limited)
    give_points(shopper, 500)

    assert sorted(names(goods_recommended(member=shopper))) == ["买得起", "刚好够"]


def test_no_points_no_goods(make_goods, shopper):
    make_goods(name="保温杯")

    assert goods_recommended(member=shopper) == []


def test_the_member_s_purchase_categories_rank_goods_for_them(store, make_goods, shopper):
    women = category("女装")
    dresses = category("连衣裙", parent=women)
    hair = category("电吹风")
    hat = make_goods(name="遮阳帽")
    hat.interest_categories.add(women)  # for 女装 shoppers: a 连衣裙 purchase counts
    dryer = make_goods(name="旅行电吹风")
    dryer.interest_categories.add(hair)
    famous = make_goods(name="人气抱枕")
    for _ in range(3):
        redeem(MemberFactory(home_store=store), famous)
    bought(shopper, dresses, 59900)
    bought(shopper, hair, 19900)
    bought(shopper, hair, 99900, days_ago=400)  # older than 12 months: not counted
    give_points(shopper, 1000)

    ranked = goods_recommended(member=shopper)

    assert names(ranked) == ["遮阳帽", "旅行电吹风", "人气抱枕"]
    assert [g.why for g in ranked] == ["affinity", "affinity", "popular"]
    spend = member_category_spend(member=shopper)
    assert spend[dresses.pk] == spend[women.pk] == 59900 and spend[hair.pk] == 19900


def test_refunds_take_spend_away(store, make_goods, shopper):
    hair = category("电吹风")
    bought(shopper, hair, 19900)
    bought(shopper, hair, 19900, refund=True)

    assert member_category_spend(member=shopper) == {}


def test_without_history_popular_goods_of_the_last_90_days_come_first(store, make_goods, shopper):
    old_hit = make_goods(name="去年爆款", position=0)
    recent = make_goods(name="近期热门", position=5)
    make_goods(name="冷门", position=1)
    for _ in range(3):
        redemption = redeem(MemberFactory(home_store=store), old_hit)
        Redemption.objects.filter(pk=redemption.pk).update(
            created_at=timezone.now() - timedelta(days=120)
        )
    redeem(MemberFactory(home_store=store), recent)
    give_points(shopper, 1000)

    ranked = goods_recommended(member=shopper, limit=2)

    # recent popularity first; then the shelf order decides the tie (去年爆款 before 冷门)
    assert names(ranked) == ["近期热门", "去年爆款"]


def test_the_ranking_takes_a_few_queries_however_many_goods_and_members(
    store, make_goods, shopper, django_assert_max_num_queries
):
    hair = category("电吹风")
    goods = [make_goods(name=f"商品{i}") for i in range(12)]
    for item in goods[::2]:
        item.interest_categories.add(hair)
    redeem(shopper, goods[0])
    for i in range(8):
        peer = MemberFactory(home_store=store)
        redeem(peer, goods[0])
        redeem(peer, goods[1 + i % 10])
    bought(shopper, hair, 10000)
    give_points(shopper, 5000)

    with django_assert_max_num_queries(9):
        ranked = goods_recommended(member=shopper, limit=6)
        for item in ranked:
            list(item.images.all())

    assert len(ranked) == 6 and ranked[0].why == "co_redeemed"


def test_activities_near_the_member_s_interests_then_the_newest(store, shopper):
    dresses = category("连衣裙")
    skin = category("护肤")
    toys = category("玩具")
    gloria = brand_in(store, "歌莉娅", floor_code="2F", order=2, cat=dresses)
    estee = brand_in(store, "雅诗兰黛", floor_code="1F", order=1, cat=skin)
    lego = brand_in(store, "乐高", floor_code="4F", order=4, cat=toys)
    dress_sale = activity(store, gloria, title="夏装上新", days=(-5, 5))
    skin_sale = activity(store, estee, title="护肤节", days=(-5, 5))
    newest = activity(store, lego, title="乐高新品", days=(0, 9))
    activity(store, gloria, title="已结束", days=(-20, -1))
    bought(shopper, skin, 30000)
    bought(shopper, dresses, 90000)

    picked = activities_recommended(member=shopper, limit=3)

    assert picked == [dress_sale, skin_sale, newest]
    assert picked[0].shops[0].floor.code == "2F"
    stranger = MemberFactory(home_store=store)
    assert activities_recommended(member=stranger, limit=1) == [newest]


# --- The card page --------------------------------------------------------------------------


def _card(client, layout):
    CardPageSettings.objects.update_or_create(pk=1, defaults={"layout": layout})
    response = client.get("/m/card/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_full_card_shows_recommendations_and_the_simple_one_does_not(
    client, store, make_goods, shopper
):
    make_goods(name="保温杯", points_price=200)
    dresses = category("连衣裙")
    gloria = brand_in(store, "歌莉娅", floor_code="2F", order=2, cat=dresses)
    sale = activity(store, gloria, title="夏装上新")
    give_points(shopper, 1000)
    signed_in_as(client, shopper)

    full = _card(client, "full")
    simple = _card(client, "simple")

    assert 'data-section="recommendations"' in full
    assert "为您推荐" in full and "保温杯" in full and "200 积分" in full
    assert f'href="/m/activities/{sale.pk}/"' in full and "夏装上新" in full
    assert 'data-section="recommendations"' not in simple and "保温杯" not in simple
    # goods tiles link the points mall's goods page once that page exists
    goods_url = url_or_none("h5:points_goods", Goods.objects.get(name="保温杯").pk)
    assert (goods_url is not None) == (f'href="{goods_url}"' in full)


def test_a_failing_section_is_left_out_and_the_card_still_opens(
    client, store, make_goods, shopper, caplog
):
    make_goods(name="保温杯", points_price=200)
    give_points(shopper, 1000)
    signed_in_as(client, shopper)

    def broken(request, member):
        raise RuntimeError("boom")

    def broken_template(request, member):
        return {"template": "h5/does/not/exist.html", "context": {}}

    card_section_register(broken, order=1)
    card_section_register(broken_template, order=2)
    try:
        full = _card(client, "full")
    finally:
        card_section_unregister(broken)
        card_section_unregister(broken_template)

    assert 'data-part="qr_svg"' in full and "保温杯" in full
    assert "card section" in caplog.text and "boom" in caplog.text


def test_the_card_keeps_its_recommendations_until_the_balance_changes(
    client, store, make_goods, shopper
):
    """The ranking runs once per member and balance: a second card view reuses the tiles
    (fewer queries, same tiles); earning points ranks again and shows what became affordable."""
    cheap = make_goods(name="帆布袋", points_price=50)
    dear = make_goods(name="保温杯", points_price=5000)
    give_points(shopper, 100)
    signed_in_as(client, shopper)
    with CaptureQueriesContext(connection) as cold:
        first = client.get("/m/card/").content.decode()
    assert cheap.name in first and dear.name not in first
    with CaptureQueriesContext(connection) as warm:
        again = client.get("/m/card/").content.decode()
    assert cheap.name in again and dear.name not in again
    assert len(warm) < len(cold)
    give_points(shopper, 6000)
    assert dear.name in client.get("/m/card/").content.decode()
