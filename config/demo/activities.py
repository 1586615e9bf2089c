"""The demo mall's brand activities (楼层活动展示): about fifteen across S01 and S02, most running
at the as-of day, some about to start and some over, each with a poster drawn here with
Pillow (and a logo for brands that have none). Written through mall.activities' services, so
the demo passes the same checks as staff. The demo's points-mall goods, if any, learn which
shoppers they suit (Goods.interest_categories) from their names, for the card's 智能推荐."""

import io
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from mall.activities import activity_create
from mall.models import Goods
from members.models import MenuButton
from stores.models import Brand, Category, Store

ACTIVITIES = [
    # store, brand, title, text, first day (from the as-of day), days, published
    (
        "S01",
        "雅诗兰黛",
        "冬季护肤节 满1000赠正装",
        "活动期间购买护肤品满 1000 元，赠特润修护精华 15ml 一支；"
        "会员凭会员码再享双倍积分。赠品数量有限，送完即止。",
        -6,
        14,
        True,
    ),
    (
        "S01",
        "兰蔻",
        "菁纯系列 新品体验",
        "1F 兰蔻专柜推出菁纯系列新品，到店可预约 20 分钟免费肌肤检测与上妆体验。",
        -2,
        10,
        True,
    ),
    (
        "S01",
        "周大福",
        "古法金 克减 20 元",
        "古法黄金饰品每克立减 20 元，婚嫁系列另有定制礼盒。以专柜当日金价为准。",
        -10,
        21,
        True,
    ),
    (
        "S01",
        "歌莉娅",
        "冬装上新 第二件 8 折",
        "歌莉娅冬季新品到店，羊毛大衣、针织连衣裙第二件 8 折。会员生日当月另享 95 折。",
        -3,
        12,
        True,
    ),
    (
        "S01",
        "蕉下",
        "防晒帽清仓 5 折起",
        "往季防晒帽、防晒衣清仓，5 折起，数量有限。",
        -20,
        7,
        True,
    ),
    (
        "S01",
        "安踏",
        "冬训装备 满 500 减 80",
        "跑鞋、羽绒服、训练服满 500 元减 80 元，可与会员积分同享。",
        -1,
        9,
        True,
    ),
    (
        "S01",
        "乐高",
        "圣诞拼搭日",
        "每周六、周日 14:00–17:00，4F 乐高专柜免费拼搭体验，"
        "适合 5–12 岁儿童，每场 12 位，需到店登记。",
        0,
        28,
        True,
    ),
    (
        "S01",
        "罗莱家纺",
        "冬被节 买被送枕",
        "任意冬被一条，赠羽丝绒枕一只；四件套满 1500 元赠收纳袋。",
        5,
        14,
        True,
    ),
    (
        "S01",
        "海尔",
        "以旧换新 最高补贴 800 元",
        "冰箱、洗衣机以旧换新，最高补贴 800 元，免费上门拆旧。",
        -40,
        14,
        True,
    ),
    ("S01", "暖季", "热水袋 买一送一", "充电热水袋买一送一，另有家居服搭配优惠。", -4, 12, False),
    (
        "S02",
        "雅诗兰黛",
        "会员专享 小棕瓶礼盒",
        "天一店会员专享小棕瓶节日礼盒，到店出示会员码领取试用装。",
        -5,
        12,
        True,
    ),
    (
        "S02",
        "歌莉娅",
        "周末限定 连衣裙 85 折",
        "每周五至周日，连衣裙全场 85 折，会员再享积分加倍。",
        -1,
        8,
        True,
    ),
    (
        "S02",
        "李宁",
        "新品跑鞋 试穿有礼",
        "到店试穿新款跑鞋即送运动袜一双，购买再赠运动水壶。",
        3,
        10,
        True,
    ),
    (
        "S02",
        "周大福",
        "足金转运珠 工费全免",
        "足金转运珠系列工费全免，另有生肖吊坠新品。",
        -30,
        10,
        True,
    ),
    (
        "S02",
        "巴拉巴拉",
        "童装冬季上新 满 300 减 50",
        "儿童羽绒服、棉服冬季上新，满 300 元减 50 元。",
        -2,
        14,
        True,
    ),
]

# Goods whose name (or points-mall category) holds a word suit shoppers of these categories.
GOODS_INTERESTS = [
    (("电吹风", "吹风机"), ("电吹风", "浴室用品")),
    (("杯", "保温", "水壶"), ("家居用品", "厨房小电")),
    (("毛巾", "浴巾", "洗护"), ("浴室用品",)),
    (("伞", "遮阳", "帽"), ("遮阳帽", "连衣裙")),
    (("面膜", "护肤", "精华", "美妆"), ("护肤", "彩妆")),
    (("口红", "彩妆"), ("彩妆",)),
    (("玩具", "积木", "乐高", "儿童", "亲子"), ("玩具", "儿童服装")),
    (("抱枕", "四件套", "被", "枕"), ("四件套", "枕芯被芯")),
    (("热水袋", "暖"), ("热水袋", "睡衣")),
    (("牛奶", "零食", "坚果", "超市", "购物"), ("乳品", "休闲零食")),
    (("运动", "跑", "瑜伽"), ("运动鞋", "运动服")),
    (("电影", "观影", "餐", "咖啡"), ("饮料",)),
]

PALETTES = [
    ("#b8860b", "#f4d58d"),
    ("#a8071a", "#ff9c6e"),
    ("#1668dc", "#91caff"),
    ("#1d6b2b", "#95de64"),
    ("#722ed1", "#d3adf7"),
    ("#c41d7f", "#ffadd2"),
]
FONT_PATHS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
]


def demo_activities(*, as_of: datetime) -> int:
    """The demo's brand activities (and goods' interests); returns how many activities."""
    today = timezone.localdate(as_of)
    stores = {store.code: store for store in Store.objects.filter(code__in=["S01", "S02"])}
    brands = {
        brand.name: brand for brand in Brand.objects.filter(name__in={r[1] for r in ACTIVITIES})
    }
    made = 0
    for index, (code, name, title, body, start, days, published) in enumerate(ACTIVITIES):
        store, brand = stores.get(code), brands.get(name)
        if store is None or brand is None:
            continue
        palette = PALETTES[index % len(PALETTES)]
        if not brand.logo:
            brand.logo.save("logo.png", ContentFile(logo_png(name, palette)), save=True)
        activity = activity_create(
            actor=None,
            store=store,
            brand=brand,
            title=title,
            body=body,
            starts_on=today + timedelta(days=start),
            ends_on=today + timedelta(days=start + days - 1),
            image=ContentFile(poster_png(title, name, palette), name="poster.png"),
            is_published=published,
        )
        activity.created_at = as_of - timedelta(days=max(0, -start) + 2)
        activity.save(update_fields=["created_at"])
        made += 1
    _goods_interests()
    MenuButton.objects.get_or_create(
        url="/m/activities/", defaults={"label": "品牌活动", "icon": "🏷", "order": 3}
    )
    return made


def _goods_interests() -> None:
    categories = {c.name: c for c in Category.objects.all()}
    for goods in Goods.objects.select_related("category"):
        text = goods.name + (goods.category.name if goods.category else "")
        wanted = {
            categories[name]
            for words, names in GOODS_INTERESTS
            if any(word in text for word in words)
            for name in names
            if name in categories
        }
        if wanted:
            goods.interest_categories.add(*wanted)


def _font(size: int):
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return None  # no CJK font on this machine: the pictures go without words


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def poster_png(title: str, brand: str, palette: tuple[str, str]) -> bytes:
    """A 1200 × 675 poster: a diagonal gradient, rings, the brand and the title."""
    width, height = 1200, 675
    dark, light = (Image.new("RGB", (1, 1), c).getpixel((0, 0)) for c in palette)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for x in range(0, width + height, 4):
        t = x / (width + height)
        colour = tuple(round(d + (lt - d) * t) for d, lt in zip(dark, light, strict=True))
        draw.line([(x, 0), (x - height, height)], fill=colour, width=5)
    for i, radius in enumerate((260, 190, 120)):
        box = (
            width - 330 - radius,
            height // 2 - radius,
            width - 330 + radius,
            height // 2 + radius,
        )
        draw.ellipse(box, outline=(255, 255, 255), width=6 - i * 2)
    big, small = _font(60), _font(40)
    if big is not None:
        draw.text((80, 110), brand, font=small, fill=(255, 255, 255))
        lines = [title[i : i + 8] for i in range(0, min(len(title), 24), 8)]
        for row, line in enumerate(lines):
            draw.text((80, 200 + row * 84), line, font=big, fill=(255, 255, 255))
    return _png(image)


def logo_png(brand: str, palette: tuple[str, str]) -> bytes:
    """A 240 × 240 round badge with the brand's first character."""
    image = Image.new("RGB", (240, 240), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 232, 232), fill=palette[0])
    draw.ellipse((24, 24, 216, 216), outline=palette[1], width=4)
    font = _font(110)
    if font is not None:
        draw.text((120, 118), brand[:1], font=font, fill=(255, 255, 255), anchor="mm")
    return _png(image)
