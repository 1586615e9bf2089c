"""积分商城商品 in the back office: the list and its filters, creating and editing goods with
their pictures, stock changes, the category tabs; who may do what."""

import io
import os
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.models import AuditLog
from core.roles import Role
from mall.models import Goods, GoodsCategory, GoodsImage
from mall.redeeming import goods_redeem
from tests.conftest import once
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

LIST = "/backoffice/mall/goods/"
CREATE = "/backoffice/mall/goods/new/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def marketing(client, staff_user):
    user = staff_user(Role.MARKETING)
    client.force_login(user)
    return user


def picture(name="cup.png", color="#c0392b", size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def thing(store, **overrides) -> dict:
    data = {
        "name": "保温杯",
        "kind": "thing",
        "market_price": "59.00",
        "points_price": "500",
        "stock": "20",
        "per_member_limit": "2",
        "offers_pickup": "on",
        "pickup_stores": [str(store.pk)],
        "pickup_note": "1F 服务台 10:00–22:00",
        "redemption_notes": "每人限兑 2 个",
        "is_active": "on",
        "position": "0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_urls_and_the_menu(marketing, client):
    assert reverse("backoffice:mall_goods_list") == LIST
    assert reverse("backoffice:mall_goods_create") == CREATE
    assert reverse("backoffice:mall_goods_edit", args=[3]) == "/backoffice/mall/goods/3/"
    assert reverse("backoffice:mall_goods_stock", args=[3]) == "/backoffice/mall/goods/3/stock/"
    assert reverse("backoffice:mall_category_list") == "/backoffice/mall/categories/"
    page = client.get("/backoffice/").content.decode()
    assert "积分商城商品" in page and "兑换核销" in page


def test_marketing_creates_a_good_with_pictures_and_opening_stock(marketing, client, store):
    category = GoodsCategory.objects.create(name="生活家居")
    response = client.post(
        CREATE,
        thing(store, category=str(category.pk))
        | {"images": [picture("a.png"), picture("b.png", "#2980b9")]},
    )

    goods = Goods.objects.get(name="保温杯")
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/mall/goods/{goods.pk}/"
    assert (goods.stock, goods.market_price_fen, goods.points_price) == (20, 5900, 500)
    assert (goods.per_member_limit, goods.category, goods.kind) == (2, category, "thing")
    assert list(goods.pickup_stores.all()) == [store]
    images = list(goods.images.all())
    assert [i.position for i in images] == [0, 1]
    assert all(i.image.name.endswith(".jpg") and "a.png" not in i.image.name for i in images)
    with Image.open(images[0].image.path) as saved:
        assert saved.format == "JPEG" and saved.size == (64, 48)
    log = AuditLog.objects.get(action="mall.goods.created")
    assert (log.actor, log.target_id) == (marketing, str(goods.pk))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"offers_pickup": None}, "offers_pickup", "至少"),
        ({"pickup_stores": None}, "pickup_stores", "领取门店"),
        ({"kind": "coupon"}, "coupon_template", "优惠券模板"),
        ({"points_price": "0"}, "points_price", "1"),
        ({"stock": "-1"}, "stock", "0"),
        ({"name": ""}, "name", "必填"),
        ({"market_price": "abc"}, "market_price", "数"),
        ({"position": "99999"}, "position", "32767"),
        ({"per_member_limit": "-1"}, "per_member_limit", "0"),
        ({"shelf_from": "yesterday"}, "shelf_from", "日期"),
        (
            {"shelf_from": "2026-12-10T10:00", "shelf_until": "2026-12-01T10:00"},
            "shelf_until",
            "晚于",
        ),
    ],
)
def test_bad_goods_are_refused_with_the_reason_on_the_field(
    marketing, client, store, overrides, field, message
):
    response = client.post(CREATE, thing(store, **overrides))

    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert not Goods.objects.exists()


def test_a_coupon_good_needs_its_template_and_no_delivery(marketing, client, store, make_template):
    template = make_template("GIFT10")
    refused = client.post(CREATE, thing(store, kind="coupon", coupon_template=str(template.pk)))
    assert refused.status_code == 400
    assert "offers_pickup" in refused.context["form"].errors

    response = client.post(
        CREATE,
        thing(
            store,
            kind="coupon",
            coupon_template=str(template.pk),
            offers_pickup=None,
            pickup_stores=None,
            name="10 元券",
        ),
    )

    assert response.status_code == 302
    goods = Goods.objects.get(name="10 元券")
    assert (goods.kind, goods.coupon_template, goods.offers_pickup) == ("coupon", template, False)
    assert not goods.pickup_stores.exists()


def test_a_file_that_is_not_a_picture_or_too_many_pictures_are_refused(marketing, client, store):
    fake = SimpleUploadedFile("evil.jpg", b"<html><script>alert(1)</script>", "image/jpeg")
    response = client.post(CREATE, thing(store) | {"images": [fake]})
    assert response.status_code == 400
    assert "evil.jpg" in " ".join(response.context["form"].errors["images"])

    seven = [picture(f"{i}.png") for i in range(7)]
    response = client.post(CREATE, thing(store) | {"images": seven})
    assert response.status_code == 400
    assert "6" in " ".join(response.context["form"].errors["images"])
    assert not Goods.objects.exists() and not GoodsImage.objects.exists()


def test_editing_reorders_removes_and_adds_pictures_and_keeps_the_stock(
    marketing, client, store, make_goods, django_capture_on_commit_callbacks
):
    goods = make_goods(stock=7)
    client.post(
        f"/backoffice/mall/goods/{goods.pk}/",
        thing(store) | {"images": [picture("1.png"), picture("2.png"), picture("3.png")]},
    )
    first, second, third = goods.images.all()
    removed_path = second.image.path

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/backoffice/mall/goods/{goods.pk}/",
            thing(store, name="保温杯 Pro", stock="999")
            | {
                f"image_{first.pk}_position": "5",
                f"image_{second.pk}_position": "1",
                f"image_{second.pk}_delete": "on",
                f"image_{third.pk}_position": "0",
                "images": [picture("4.png")],
            },
        )

    assert response.status_code == 302
    goods.refresh_from_db()
    assert goods.name == "保温杯 Pro" and goods.stock == 7  # the form cannot write stock
    images = list(goods.images.all())
    assert [i.pk for i in images[:2]] == [third.pk, first.pk]
    assert [i.position for i in images] == [0, 1, 2]
    assert not GoodsImage.objects.filter(pk=second.pk).exists()
    assert not os.path.exists(removed_path)
    log = AuditLog.objects.filter(action="mall.goods.updated").order_by("pk").last()
    assert "name" in log.data["changed"] and log.data["images_removed"] == 1


def test_more_than_six_pictures_in_all_are_refused_on_edit(marketing, client, store, make_goods):
    goods = make_goods()
    client.post(
        f"/backoffice/mall/goods/{goods.pk}/",
        thing(store) | {"images": [picture(f"{i}.png") for i in range(5)]},
    )
    response = client.post(
        f"/backoffice/mall/goods/{goods.pk}/",
        thing(store)
        | {f"image_{i.pk}_position": str(i.position) for i in goods.images.all()}
        | {"images": [picture("x.png"), picture("y.png")]},
    )
    assert response.status_code == 400
    assert goods.images.count() == 5


def test_a_redeemed_good_keeps_its_kind(marketing, client, store, make_goods, rich, make_template):
    goods = make_goods()
    goods_redeem(member=rich, goods=goods, delivery="pickup", idempotency_key="k")
    template = make_template("T5")
    response = client.post(
        f"/backoffice/mall/goods/{goods.pk}/",
        thing(
            store,
            kind="coupon",
            coupon_template=str(template.pk),
            offers_pickup=None,
            pickup_stores=None,
        ),
    )
    assert response.status_code == 409
    assert "不能" in " ".join(response.context["form"].non_field_errors())
    goods.refresh_from_db()
    assert goods.kind == "thing"


def test_stock_moves_by_a_delta_and_never_below_zero(marketing, client, make_goods):
    goods = make_goods(stock=3)
    url = f"/backoffice/mall/goods/{goods.pk}/stock/"

    response = client.post(url, {"delta": "5", "reason": "到货"} | once())
    assert response.status_code == 302
    goods.refresh_from_db()
    assert goods.stock == 8
    log = AuditLog.objects.get(action="mall.goods.stock_adjusted")
    assert log.data == {"delta": 5, "stock": 8, "reason": "到货"}

    refused = client.post(url, {"delta": "-9", "reason": "盘点"} | once())
    assert refused.status_code == 409
    assert "库存" in refused.content.decode() or "少" in refused.content.decode()
    goods.refresh_from_db()
    assert goods.stock == 8

    for bad in ({"delta": "0", "reason": "x"}, {"delta": "abc", "reason": "x"}, {"delta": "1"}):
        response = client.post(url, bad | once())
        assert response.status_code == 400
    assert client.post(url, {"delta": "1", "reason": "x"}).status_code == 400  # no token
    goods.refresh_from_db()
    assert goods.stock == 8


def test_the_list_shows_stock_and_redeemed_counts_and_filters(
    marketing, client, make_goods, rich, make_template
):
    cups = GoodsCategory.objects.create(name="杯具")
    cup = make_goods(name="保温杯", stock=3, category=cups)
    bag = make_goods(name="帆布袋", stock=50)
    later = make_goods(name="台历", shelf_from=timezone.now() + timedelta(days=3))
    coupon = Goods.objects.create(
        name="10 元券",
        kind="coupon",
        coupon_template=make_template("C10"),
        points_price=100,
        stock=100,
        offers_pickup=False,
    )
    goods_redeem(member=rich, goods=cup, delivery="pickup", qty=2, idempotency_key="a")

    page = client.get(LIST)
    rows = {g.name: g for g in page.context["page"]}
    assert rows["保温杯"].redeemed == 2 and rows["保温杯"].stock == 1
    assert rows["帆布袋"].redeemed == 0

    def names(**params):
        return {g.name for g in client.get(LIST, params).context["page"]}

    assert names(category=cups.pk) == {"保温杯"}
    assert names(kind="coupon") == {"10 元券"}
    assert names(shelf="off") == {"台历"}
    assert names(shelf="on") == {"保温杯", "帆布袋", "10 元券"}
    assert names(low_stock="on") == {"保温杯"}
    assert names(q="帆布") == {"帆布袋"}
    assert client.get(LIST, {"category": "999999"}).status_code == 400
    del bag, later, coupon


def test_the_desk_may_look_at_goods_but_not_change_them(client, staff_user, store, make_goods):
    goods = make_goods()
    client.force_login(staff_user(Role.CUSTOMER_SERVICE, scope="store", store=store))

    assert client.get(LIST).status_code == 200
    assert client.get(CREATE).status_code == 403
    assert client.get(f"/backoffice/mall/goods/{goods.pk}/").status_code == 403
    assert (
        client.post(f"/backoffice/mall/goods/{goods.pk}/stock/", {"delta": "5"}).status_code == 403
    )
    assert client.get("/backoffice/mall/categories/").status_code == 403
    goods.refresh_from_db()
    assert goods.stock == 10


def test_an_analyst_sees_no_goods(client, staff_user):
    client.force_login(staff_user(Role.ANALYST))
    assert client.get(LIST).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_good_is_a_404(marketing, client):
    assert client.get("/backoffice/mall/goods/999999/").status_code == 404


def test_categories_are_added_renamed_moved_and_deactivated(marketing, client):
    url = "/backoffice/mall/categories/"
    assert (
        client.post(url, {"category": "new", "new-name": "数码", "new-position": "2"}).status_code
        == 302
    )
    category = GoodsCategory.objects.get(name="数码")
    assert category.position == 2 and category.active

    duplicate = client.post(url, {"category": "new", "new-name": "数码", "new-position": "0"})
    assert duplicate.status_code == 400 and "已" in duplicate.content.decode()
    empty = client.post(url, {"category": "new", "new-name": "", "new-position": "0"})
    assert empty.status_code == 400

    prefix = f"c{category.pk}"
    response = client.post(
        url, {"category": str(category.pk), f"{prefix}-name": "数码电器", f"{prefix}-position": "1"}
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.position, category.active) == ("数码电器", 1, False)
    assert AuditLog.objects.filter(action="mall.category.updated").count() == 1
    assert client.post(url, {"category": "abc"}).status_code == 404
    assert client.post(url, {"category": "999999"}).status_code == 404
    assert "数码电器" in client.get(url).content.decode()


def test_a_store_elsewhere_changes_nothing_for_goods(marketing, client, store, make_goods):
    """Goods are the mall's, not a store's: a pickup store outside the list is refused."""
    goods = make_goods()
    response = client.post(
        f"/backoffice/mall/goods/{goods.pk}/", thing(store, pickup_stores=["999999"])
    )
    assert response.status_code == 400
    other = StoreFactory(code="S09", is_active=False)
    response = client.post(
        f"/backoffice/mall/goods/{goods.pk}/", thing(store, pickup_stores=[str(other.pk)])
    )
    assert response.status_code == 400


def test_the_goods_form_names_the_categories_whose_shoppers_see_the_good_first(
    marketing, client, store, make_goods
):
    from mall.goods_admin import goods_update
    from stores.models import Category

    women = Category.objects.create(code="WOMEN", name="女装", division="department")
    dress = Category.objects.create(code="DP05", name="连衣裙", division="department", parent=women)
    market = Category.objects.create(code="SM", name="超市", division="supermarket")
    dryer = Category.objects.create(
        code="SM12", name="电吹风", division="supermarket", parent=market
    )

    page = client.get(CREATE).content.decode()
    assert "推荐给这些品类的顾客" in page and "为您推荐" in page and "选填" in page
    # one box per department (division · name), supermarket first, the department itself
    # then its categories; "超市 · 超市" would say it twice
    assert (
        page.index("超市（整个大类）") < page.index("百货 · 女装") < page.index("女装（整个大类）")
    )
    assert page.index("女装（整个大类）") < page.index("连衣裙")
    assert "超市 · 超市" not in page and "<label>超市</label>" in page

    response = client.post(CREATE, thing(store, interest_categories=[str(women.pk), str(dryer.pk)]))
    assert response.status_code == 302
    goods = Goods.objects.get(name="保温杯")
    assert set(goods.interest_categories.all()) == {women, dryer}
    created = AuditLog.objects.get(action="mall.goods.created")
    assert created.data["interest_categories"] == sorted([women.pk, dryer.pk])
    edit = client.get(f"/backoffice/mall/goods/{goods.pk}/").content.decode()
    ticked = set(re.findall(r'name="interest_categories" value="(\d+)"[^>]*checked', edit))
    assert ticked == {str(women.pk), str(dryer.pk)}

    # changed on edit, audited; then left out altogether: none (it is optional)
    client.post(
        f"/backoffice/mall/goods/{goods.pk}/", thing(store, interest_categories=[str(dress.pk)])
    )
    assert list(goods.interest_categories.all()) == [dress]
    log = AuditLog.objects.filter(action="mall.goods.updated").order_by("pk").last()
    assert "interest_categories" in log.data["changed"]
    assert client.post(f"/backoffice/mall/goods/{goods.pk}/", thing(store)).status_code == 302
    assert not goods.interest_categories.exists()

    # a category that does not exist: said on the field, nothing saved
    response = client.post(
        f"/backoffice/mall/goods/{goods.pk}/", thing(store, interest_categories=["999999"])
    )
    assert response.status_code == 400
    assert "interest_categories" in response.context["form"].errors
    response = client.post(CREATE, thing(store, name="杯子", interest_categories=["abc"]))
    assert response.status_code == 400 and not Goods.objects.filter(name="杯子").exists()

    # the service leaves them as they are when it is not told
    goods.interest_categories.set([market])
    goods_update(goods=goods, actor=marketing, fields=_fields(goods), pickup_stores=[store])
    assert list(goods.interest_categories.all()) == [market]


def _fields(goods) -> dict:
    from mall.goods_admin import GOODS_FIELDS

    return {name: getattr(goods, name) for name in GOODS_FIELDS}
