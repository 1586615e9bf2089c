"""Floors, brands and shops for the brand-activity and recommendation tests, and activities
written straight to the table (the services are what the tests exercise)."""

import io
import itertools
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from mall.models import BrandActivity
from stores.models import Brand, Category, Floor, Shop

_codes = itertools.count(1)


def category(name: str, *, parent: Category | None = None, division="department") -> Category:
    return Category.objects.create(
        code=f"C{next(_codes):04d}", name=name, division=division, parent=parent
    )


def floor(store, code: str, order: int, name: str = "") -> Floor:
    return Floor.objects.get_or_create(
        store=store, code=code, defaults={"order": order, "name": name or f"{code} 楼层"}
    )[0]


def brand_in(store, name: str, *, floor_code="1F", order=1, unit=None, cat=None) -> Brand:
    """`name` (created if new) with an open shop on `floor_code` of `store`."""
    brand, _ = Brand.objects.get_or_create(name=name, defaults={"category": cat})
    where = floor(store, floor_code, order)
    Shop.objects.create(
        floor=where, brand=brand, unit_no=unit or f"{floor_code}-{next(_codes):02d}"
    )
    return brand


def activity(store, brand, *, days=(-1, 7), title=None, **fields) -> BrandActivity:
    today = timezone.localdate()
    return BrandActivity.objects.create(
        store=store,
        brand=brand,
        title=title or f"{brand.name} 新品上市",
        body=fields.pop("body", "全场新品 8 折，会员再享积分双倍。"),
        starts_on=today + timedelta(days=days[0]),
        ends_on=today + timedelta(days=days[1]),
        **fields,
    )


def png_upload(name="poster.png", size=(320, 180), color=(200, 120, 40)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")
