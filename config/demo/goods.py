"""The demo mall's 积分商城: categories, a dozen goods with drawn pictures (things picked up at
S01/S02, a few also sent by express, two coupon goods of the mall's own coupon templates, one
sold out), and redemptions members made through goods_redeem, some since handed over at the
desk or shipped by staff through the same services the back office uses.

The ledger is append-only, so goods_redeem dates each redemption and its points itself
(`now`: the half day before the as-of time); the desk's and the courier's steps, which the
services stamp with the present, are dated an hour after, as feedback's demo does. The same
seed and as-of give the same points entries."""

import io
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from core.exceptions import ServiceError
from coupons.models import CouponTemplate
from loyalty.models import PointsAccount
from mall.models import Goods, GoodsCategory, GoodsImage, Redemption, RedemptionEvent
from mall.redeeming import goods_redeem, redemption_ship, redemption_verify
from members.models import Member, Message
from members.profile import address_create
from stores.models import Category, Store

CATEGORIES = ["生活家居", "美食饮品", "优惠券", "亲子玩具", "美妆个护"]
PICKUP_NOTE = "到店后请至 1F 服务台出示取货码领取，营业时间 10:00–22:00；兑换后 30 天内有效。"
NOTES = (
    "1. 兑换成功后积分即时扣除，商品不退不换，不可折现。\n"
    "2. 到店自提请在 30 天内凭取货码至所选门店 1F 服务台领取，逾期视为放弃。\n"
    "3. 选择快递配送的，需填写姓名、手机号码和收货地址，3 个工作日内发出。\n"
    "4. 图片仅供参考，请以实物为准。"
)
COUPON_NOTES = (
    "1. 兑换后优惠券直接发到会员卡包，可在“我的优惠券”查看。\n"
    "2. 优惠券有效期以券面为准，过期作废。\n"
    "3. 积分一经兑换不予退还。"
)
# name, category, market price (fen), points, stock, per-member limit, pickup stores,
# express, colours (top, bottom), shape
GOODS = [
    (
        "星河定制保温杯 500ml",
        "生活家居",
        8900,
        1200,
        50,
        2,
        ["S01", "S02"],
        False,
        ("#c9a45c", "#8a6a2c"),
        "cup",
    ),
    (
        "纯棉方巾两件套",
        "生活家居",
        3900,
        500,
        80,
        0,
        ["S01", "S02"],
        False,
        ("#7fb8c8", "#3f7d92"),
        "towel",
    ),
    (
        "北欧风香薰蜡烛",
        "生活家居",
        12800,
        1800,
        20,
        1,
        ["S01"],
        True,
        ("#d8b4a0", "#a0705a"),
        "candle",
    ),
    (
        "精品挂耳咖啡 10 包",
        "美食饮品",
        5900,
        800,
        60,
        0,
        ["S01", "S02"],
        False,
        ("#a47551", "#5b3a29"),
        "cup",
    ),
    ("新疆红枣礼盒", "美食饮品", 6800, 900, 40, 0, ["S02"], True, ("#d9534f", "#8b1e1a"), "box"),
    (
        "手工黄油曲奇礼罐",
        "美食饮品",
        4500,
        600,
        0,
        0,
        ["S01"],
        False,
        ("#e8c07a", "#b8862b"),
        "jar",
    ),
    (
        "益智拼图 100 片",
        "亲子玩具",
        4900,
        700,
        30,
        0,
        ["S01", "S02"],
        False,
        ("#6fbf73", "#2e7d32"),
        "puzzle",
    ),
    ("毛绒星星抱枕", "亲子玩具", 6900, 1000, 25, 2, ["S01"], True, ("#f4c542", "#d99a00"), "star"),
    (
        "护手霜礼盒 3 支装",
        "美妆个护",
        9900,
        1300,
        40,
        1,
        ["S01", "S02"],
        False,
        ("#e7a1b0", "#b5566b"),
        "tube",
    ),
    (
        "旅行洗护套装",
        "美妆个护",
        5900,
        800,
        35,
        0,
        ["S01", "S02"],
        False,
        ("#9fa8da", "#5c6bc0"),
        "box",
    ),
]
# The mall's own coupons for points: no per-member cap of their own (the goods set one).
COUPON_TEMPLATES = [
    ("MALL-CASH20", "积分兑 20 元现金券", "cash", 2000, 0, "#e64340", "全楼层可用"),
    ("MALL-SM100-15", "超市满 100 减 15", "threshold", 1500, 10000, "#07c160", "B1 超市"),
]
COUPON_GOODS = [
    # template code, goods name, market price, points, stock, limit
    ("MALL-CASH20", "20 元现金券", 2000, 1500, 300, 3),
    ("MALL-SM100-15", "超市满 100 减 15 元券", 1500, 600, 500, 5),
]
FONT_PATHS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/System/Library/Fonts/PingFang.ttc",
]
ADDRESSES = [
    ("浙江省 杭州市 西湖区", "文三路 {n} 号 {b} 幢 {r} 室"),
    ("浙江省 宁波市 海曙区", "中山西路 {n} 号 {b} 单元 {r} 室"),
]


def demo_goods(rng: random.Random, *, as_of: datetime, redemptions: int = 20) -> dict:
    """Categories, goods with pictures, and up to `redemptions` redemptions of members who
    have the points for them."""
    stores = {s.code: s for s in Store.objects.filter(code__in=["S01", "S02"])}
    if len(stores) < 2:
        return {"goods": 0, "redemptions": 0}
    categories = {
        name: GoodsCategory.objects.get_or_create(name=name, defaults={"position": i})[0]
        for i, name in enumerate(CATEGORIES, start=1)
    }
    shelf_from = as_of - timedelta(days=30)
    goods = []
    for position, (
        name,
        category,
        market,
        points,
        stock,
        limit,
        pickup,
        express,
        colours,
        shape,
    ) in enumerate(GOODS, start=1):
        item = Goods.objects.create(
            category=categories[category],
            name=name,
            market_price_fen=market,
            points_price=points,
            stock=stock,
            per_member_limit=limit,
            shelf_from=shelf_from,
            shelf_until=as_of + timedelta(days=120) if position % 3 == 0 else None,
            offers_pickup=True,
            offers_express=express,
            pickup_note=PICKUP_NOTE,
            redemption_notes=NOTES,
            position=position,
        )
        item.pickup_stores.set([stores[code] for code in pickup])
        _pictures(item, colours, shape, count=2 if position % 2 else 1)
        goods.append(item)
    supermarket = Category.objects.filter(code="SM").first()
    templates = {}
    for code, name, kind, face, minimum, color, floors in COUPON_TEMPLATES:
        templates[code], _created = CouponTemplate.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "face_value_fen": face,
                "min_spend_fen": minimum,
                "valid_days": 30,
                "per_member_limit": 0,
                "usage_notes": "积分商城兑换券，每张小票限用一张，不找零、不兑现。",
                "color": color,
                "floors_remark": floors,
            },
        )
    if supermarket is not None:
        templates["MALL-SM100-15"].categories.set([supermarket])
    for offset, (code, name, market, points, stock, limit) in enumerate(COUPON_GOODS):
        item = Goods.objects.create(
            category=categories["优惠券"],
            name=name,
            kind=Goods.Kind.COUPON,
            coupon_template=templates[code],
            market_price_fen=market,
            points_price=points,
            stock=stock,
            per_member_limit=limit,
            shelf_from=shelf_from,
            offers_pickup=False,
            redemption_notes=COUPON_NOTES,
            position=len(GOODS) + offset + 1,
        )
        _pictures(item, (templates[code].color, "#5a1f1f"), "ticket", count=1)
        goods.append(item)
    made = _redemptions(rng, goods=goods, wanted=redemptions, as_of=as_of)
    return {"goods": len(goods), "redemptions": made}


def _redemptions(rng, *, goods: list[Goods], wanted: int, as_of: datetime) -> int:
    """Members with points redeem a good each over the half day before `as_of`; a few were
    handed over or shipped since. The services date what they write at the present moment
    except the redemption and its points (dated by `now`): the rest is dated here after."""
    rich = list(
        PointsAccount.objects.filter(balance__gte=2000, member__status=Member.Status.ACTIVE)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    if not rich:
        return 0
    chosen = rng.sample(rich, min(wanted, len(rich)))
    in_stock = [g for g in goods if g.stock > 0]
    made = []
    for index, member_id in enumerate(chosen):
        when = as_of - timedelta(minutes=37 * (len(chosen) - index) + 60)
        member = Member.objects.select_related("home_store").get(pk=member_id)
        item = rng.choice(in_stock)
        delivery, store = "pickup", None
        if item.kind == Goods.Kind.COUPON:
            delivery = "coupon"
        elif item.offers_express and index % 4 == 0:
            delivery = "express"
            _address(rng, member)
        else:
            allowed = list(item.pickup_stores.all())
            store = member.home_store if member.home_store in allowed else allowed[0]
        try:
            made.append(
                goods_redeem(
                    member=member,
                    goods=item,
                    qty=1 if rng.random() < 0.85 else 2,
                    delivery=delivery,
                    pickup_store=store,
                    idempotency_key=f"demo-{index}",
                    now=when,
                )
            )
        except ServiceError:  # a limit reached, a member without a name for express …
            continue
        Message.objects.filter(member=member, kind=Message.Kind.REDEMPTION).update(created_at=when)
    _progress(made)
    return len(made)


def _address(rng, member: Member) -> None:
    if member.addresses.exists():
        return
    region, street = ADDRESSES[0 if member.home_store.code == "S01" else 1]
    address_create(
        member_id=member.pk,
        recipient=member.name or "会员",
        phone=member.phone,
        region=region,
        detail=street.format(n=rng.randint(1, 399), b=rng.randint(1, 12), r=rng.randint(101, 1802)),
        is_default=True,
    )


def _progress(made: list[Redemption]) -> None:
    """About a third of the pickups handed over at their store's desk, the first parcel sent;
    each an hour after it was redeemed."""
    managers = {
        code: User.objects.filter(username=f"{code.lower()}_manager").first()
        for code in ("S01", "S02")
    }
    shipper = User.objects.filter(username="marketing").first()
    pickups = [r for r in made if r.delivery == "pickup"]
    for redemption in pickups[::3]:
        actor = managers.get(redemption.pickup_store.code)
        if actor is not None:
            redemption_verify(code=redemption.code, actor=actor)
            _dated(redemption, "picked_up", "verified_at")
    parcels = [r for r in made if r.delivery == "express"]
    if parcels and shipper is not None:
        redemption_ship(
            redemption=parcels[0], actor=shipper, carrier="顺丰速运", tracking_no="SF1402857736214"
        )
        _dated(parcels[0], "shipped", "shipped_at")


def _dated(redemption: Redemption, status: str, field: str) -> None:
    """The step `status` of `redemption` (its event, its time field, the message it sent)
    an hour after the redemption."""
    at = redemption.created_at + timedelta(hours=1)
    Redemption.objects.filter(pk=redemption.pk).update(**{field: at})
    RedemptionEvent.objects.filter(redemption=redemption, status=status).update(created_at=at)
    Message.objects.filter(
        member_id=redemption.member_id,
        kind=Message.Kind.REDEMPTION,
        created_at__gt=redemption.created_at,
    ).update(created_at=at)


# --- Pictures: a soft gradient, a simple drawn object, the name ----------------------------


def _pictures(goods: Goods, colours, shape: str, *, count: int) -> None:
    for position in range(count):
        top, bottom = colours if position == 0 else (colours[1], colours[0])
        data = _picture(goods.name, top, bottom, shape, alternate=position > 0)
        GoodsImage.objects.create(
            goods=goods,
            image=ContentFile(data, name=f"demo-goods-{goods.pk}-{position + 1}.jpg"),
            position=position,
        )


def _font(size: int):
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return None


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def _picture(name: str, top: str, bottom: str, shape: str, *, alternate: bool) -> bytes:
    size = 600
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    a, b = _rgb(top), _rgb(bottom)
    for y in range(size):
        t = y / (size - 1)
        draw.line(
            [(0, y), (size, y)], fill=tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3))
        )
    light, shade = (255, 255, 255), (255, 255, 255, 90)
    overlay = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    od = ImageDraw.Draw(overlay)
    od.ellipse([size * 0.12, size * 0.08, size * 0.88, size * 0.84], fill=(255, 255, 255, 38))
    image.paste(overlay, mask=overlay)
    draw = ImageDraw.Draw(image, "RGBA")
    cx, cy = size // 2, 250 if not alternate else 270
    _shape(draw, shape, cx, cy, light, shade)
    font = _font(44)
    if font is not None:
        label = name if len(name) <= 11 else name[:11] + "…"
        box = draw.textbbox((0, 0), label, font=font)
        width = box[2] - box[0]
        draw.rounded_rectangle(
            [cx - width / 2 - 24, 470, cx + width / 2 + 24, 540], radius=35, fill=(0, 0, 0, 60)
        )
        draw.text((cx - width / 2, 480), label, font=font, fill=light)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=84, optimize=True)
    return out.getvalue()


def _shape(draw: ImageDraw.ImageDraw, shape: str, cx: int, cy: int, light, shade) -> None:
    if shape == "cup":
        draw.rounded_rectangle([cx - 80, cy - 120, cx + 80, cy + 120], radius=28, fill=light)
        draw.rounded_rectangle([cx - 90, cy - 140, cx + 90, cy - 100], radius=14, fill=shade)
        draw.arc([cx + 50, cy - 60, cx + 140, cy + 40], start=-90, end=90, fill=light, width=18)
    elif shape == "towel":
        for i, dy in enumerate((-60, 0, 60)):
            draw.rounded_rectangle(
                [cx - 150 + i * 10, cy + dy - 40, cx + 150 - i * 10, cy + dy + 20],
                radius=16,
                fill=light if i != 1 else shade,
            )
    elif shape == "candle":
        draw.rounded_rectangle([cx - 90, cy - 40, cx + 90, cy + 130], radius=20, fill=light)
        draw.line([cx, cy - 40, cx, cy - 80], fill=shade, width=6)
        draw.ellipse([cx - 22, cy - 150, cx + 22, cy - 80], fill=(255, 214, 102))
    elif shape == "box":
        draw.rectangle([cx - 140, cy - 70, cx + 140, cy + 130], fill=light)
        draw.rectangle([cx - 155, cy - 110, cx + 155, cy - 60], fill=shade)
        draw.rectangle([cx - 18, cy - 110, cx + 18, cy + 130], fill=(0, 0, 0, 40))
    elif shape == "jar":
        draw.rounded_rectangle([cx - 110, cy - 80, cx + 110, cy + 130], radius=50, fill=light)
        draw.rounded_rectangle([cx - 80, cy - 130, cx + 80, cy - 80], radius=12, fill=shade)
        for dx in (-50, 0, 50):
            draw.ellipse([cx + dx - 22, cy + 10, cx + dx + 22, cy + 54], fill=(0, 0, 0, 35))
    elif shape == "puzzle":
        for dx, dy in ((-70, -70), (70, -70), (-70, 70), (70, 70)):
            fill = light if (dx > 0) == (dy > 0) else shade
            draw.rounded_rectangle(
                [cx + dx - 65, cy + dy - 65, cx + dx + 65, cy + dy + 65], radius=14, fill=fill
            )
    elif shape == "star":
        points = [
            (
                cx + (150 if i % 2 == 0 else 65) * math.sin(i * math.pi / 5),
                cy - (150 if i % 2 == 0 else 65) * math.cos(i * math.pi / 5),
            )
            for i in range(10)
        ]
        draw.polygon(points, fill=light)
    elif shape == "tube":
        for i, dx in enumerate((-90, 0, 90)):
            draw.rounded_rectangle(
                [cx + dx - 34, cy - 110 + i * 10, cx + dx + 34, cy + 120], radius=18, fill=light
            )
            draw.rectangle(
                [cx + dx - 20, cy - 140 + i * 10, cx + dx + 20, cy - 108 + i * 10], fill=shade
            )
    else:  # ticket: a coupon
        draw.rounded_rectangle([cx - 190, cy - 90, cx + 190, cy + 90], radius=22, fill=light)
        draw.line([cx + 70, cy - 70, cx + 70, cy + 70], fill=shade, width=4)
        font = _font(96)
        if font is not None:
            draw.text((cx - 160, cy - 60), "¥", font=font, fill=(200, 60, 60))
