"""Staff keep the points mall's shelf: goods (with their pictures) and the category tabs.

Stock is not written here: goods_create sets the opening stock, and every later change goes
through mall.redeeming.goods_stock_adjust, relative to what is there (a form that saved an
absolute figure would undo the redemptions made while it was open). Pictures are public
media: cleaned by core/photos.py (real pictures only, no EXIF, no polyglots), re-encoded as
JPEG under random names.
"""

import secrets

from django.db import transaction
from django.db.models import Count, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.exceptions import PermissionDenied, ServiceError
from core.photos import photo_clean
from mall.models import Goods, GoodsCategory, GoodsImage, Redemption
from stores.models import Store

IMAGES_MAX = 6
IMAGE_MAX_SIDE = 1600
IMAGE_MAX_BYTES = 8 * 1024 * 1024
LOW_STOCK = 5  # the list's "low stock" filter: this many or fewer left
GOODS_FIELDS = (
    "category",
    "name",
    "kind",
    "coupon_template",
    "market_price_fen",
    "points_price",
    "per_member_limit",
    "shelf_from",
    "shelf_until",
    "offers_pickup",
    "offers_express",
    "pickup_note",
    "redemption_notes",
    "is_active",
    "position",
)


class GoodsError(ServiceError):
    code = "goods_error"


def _require(actor, perm: str) -> None:
    if not (actor is not None and actor.is_active and actor.has_perm(perm)):
        raise PermissionDenied()


def goods_image_clean(upload):
    """The upload as a JPEG without metadata, at most IMAGE_MAX_SIDE a side; PhotoRejected
    (a ServiceError with the reason) for anything that is not just a picture."""
    return photo_clean(upload, max_side=IMAGE_MAX_SIDE, max_bytes=IMAGE_MAX_BYTES)


def _goods_check(fields: dict, pickup_stores: list[Store]) -> None:
    """What the database's CHECKs hold, said in words before they would refuse it."""
    if fields["kind"] == Goods.Kind.COUPON:
        if fields.get("coupon_template") is None:
            raise GoodsError(_("A coupon good needs a coupon template."), code="template")
    else:
        if not (fields.get("offers_pickup") or fields.get("offers_express")):
            raise GoodsError(_("Offer pickup, express delivery or both."), code="delivery")
        if fields.get("offers_pickup") and not pickup_stores:
            raise GoodsError(_("Choose the stores where it can be picked up."), code="stores")
    start, end = fields.get("shelf_from"), fields.get("shelf_until")
    if start and end and end <= start:
        raise GoodsError(_("The shelf end must be after its start."), code="shelf")
    if fields.get("points_price", 0) < 1:
        raise GoodsError(_("The points price must be at least 1."), code="price")


def _normalised(fields: dict) -> dict:
    fields = {name: fields.get(name) for name in GOODS_FIELDS if name in fields}
    if fields["kind"] == Goods.Kind.COUPON:
        fields |= {"offers_pickup": False, "offers_express": False, "pickup_note": ""}
    else:
        fields["coupon_template"] = None
    return fields


def _images_add(goods: Goods, files, start: int) -> list[str]:
    saved = []
    for position, content in enumerate(files, start=start):
        image = GoodsImage(goods=goods, position=position)
        image.image.save(f"{secrets.token_hex(12)}.jpg", content, save=False)
        saved.append(image.image.name)
        image.save()
    return saved


def goods_create(
    *,
    actor,
    fields: dict,
    pickup_stores=(),
    stock: int = 0,
    images=(),
    interest_categories=(),
) -> Goods:
    """A new good on the shelf with its opening stock and pictures (already cleaned by
    goods_image_clean), and the merchandise categories whose shoppers 为您推荐 shows it to
    first (`interest_categories`, stores.Category); audited."""
    _require(actor, "mall.add_goods")
    pickup_stores, images = list(pickup_stores), list(images)
    interest_categories = list(interest_categories)
    fields = _normalised(fields)
    _goods_check(fields, pickup_stores)
    if stock < 0:
        raise GoodsError(_("The stock cannot be negative."), code="stock")
    if len(images) > IMAGES_MAX:
        raise GoodsError(
            _("At most %(count)s pictures."), code="images", params={"count": IMAGES_MAX}
        )
    saved: list[str] = []
    try:
        with transaction.atomic():
            goods = Goods.objects.create(stock=stock, **fields)
            if goods.kind == Goods.Kind.THING and goods.offers_pickup:
                goods.pickup_stores.set(pickup_stores)
            goods.interest_categories.set(interest_categories)
            saved = _images_add(goods, images, 0)
            audit_log(
                actor=actor,
                action="mall.goods.created",
                target=goods,
                data={
                    "name": goods.name,
                    "stock": stock,
                    "points_price": goods.points_price,
                    "interest_categories": sorted(c.pk for c in interest_categories),
                },
            )
    except Exception:
        _storage_delete(saved)
        raise
    return goods


def goods_update(
    *,
    goods: Goods,
    actor,
    fields: dict,
    pickup_stores=(),
    images_add=(),
    images_remove=(),
    image_order: dict | None = None,
    interest_categories=None,
) -> Goods:
    """Change a good's details, pickup stores and pictures (add cleaned ones, remove some by
    id, reorder by {image id: position}) and, unless None, the merchandise categories whose
    shoppers 为您推荐 shows it to first; its stock is goods_stock_adjust's. A good that was
    redeemed keeps its kind. Locks the goods row; audited with the fields that changed."""
    _require(actor, "mall.change_goods")
    pickup_stores, images_add = list(pickup_stores), list(images_add)
    fields = _normalised(fields)
    _goods_check(fields, pickup_stores)
    saved: list[str] = []
    removed_names: list[str] = []
    try:
        with transaction.atomic():
            goods = Goods.objects.select_for_update().get(pk=goods.pk)
            if fields["kind"] != goods.kind and goods.redemptions.exists():
                raise GoodsError(
                    _("This good was redeemed already; its kind cannot change."), code="kind"
                )
            changed = []
            for name, value in fields.items():
                if getattr(goods, name) != value:
                    changed.append(name)
                setattr(goods, name, value)
            goods.save(update_fields=list(fields))
            wanted = pickup_stores if goods.kind == Goods.Kind.THING and goods.offers_pickup else []
            before = set(goods.pickup_stores.values_list("pk", flat=True))
            if before != {s.pk for s in wanted}:
                goods.pickup_stores.set(wanted)
                changed.append("pickup_stores")
            if interest_categories is not None:
                interests = {c.pk for c in interest_categories}
                if set(goods.interest_categories.values_list("pk", flat=True)) != interests:
                    goods.interest_categories.set(interests)
                    changed.append("interest_categories")
            images = {image.pk: image for image in goods.images.all()}
            remove = {pk for pk in images_remove if pk in images}
            kept = [image for pk, image in images.items() if pk not in remove]
            if len(kept) + len(images_add) > IMAGES_MAX:
                raise GoodsError(
                    _("At most %(count)s pictures."), code="images", params={"count": IMAGES_MAX}
                )
            for pk in remove:
                removed_names.append(images[pk].image.name)
                images[pk].delete()
            order = image_order or {}
            kept.sort(
                key=lambda image: (order.get(image.pk, image.position), image.position, image.pk)
            )
            for position, image in enumerate(kept):
                if image.position != position:
                    image.position = position
                    image.save(update_fields=["position"])
            saved = _images_add(goods, images_add, len(kept))
            if remove or images_add or order:
                changed.append("images")
            audit_log(
                actor=actor,
                action="mall.goods.updated",
                target=goods,
                data={
                    "changed": changed,
                    "images_added": len(images_add),
                    "images_removed": len(remove),
                },
            )
    except Exception:
        _storage_delete(saved)
        raise
    # the files of removed pictures go once the removal is committed (an outer transaction)
    transaction.on_commit(lambda: _storage_delete(removed_names))
    return goods


def _storage_delete(names: list[str]) -> None:
    storage = GoodsImage._meta.get_field("image").storage
    for name in names:
        if name and storage.exists(name):
            storage.delete(name)


# --- Categories (the tabs of the points mall) ---------------------------------------------


def category_create(*, actor, name: str, position: int = 0) -> GoodsCategory:
    """A new tab; names are unique (case and spaces as typed)."""
    _require(actor, "mall.add_goodscategory")
    name = (name or "").strip()
    if not name:
        raise GoodsError(_("Enter a name."), code="name")
    with transaction.atomic():
        if GoodsCategory.objects.filter(name=name).exists():
            raise GoodsError(
                _("A category named %(name)s exists already."),
                code="name_taken",
                params={"name": name},
            )
        category = GoodsCategory.objects.create(name=name, position=position)
        audit_log(actor=actor, action="mall.category.created", target=category, data={"name": name})
    return category


def category_update(
    *, category: GoodsCategory, actor, name: str, position: int, active: bool
) -> GoodsCategory:
    """Rename, move or (de)activate a tab; a deactivated tab hides its goods from members."""
    _require(actor, "mall.change_goodscategory")
    name = (name or "").strip()
    if not name:
        raise GoodsError(_("Enter a name."), code="name")
    with transaction.atomic():
        category = GoodsCategory.objects.select_for_update().get(pk=category.pk)
        if GoodsCategory.objects.filter(name=name).exclude(pk=category.pk).exists():
            raise GoodsError(
                _("A category named %(name)s exists already."),
                code="name_taken",
                params={"name": name},
            )
        before = {"name": category.name, "position": category.position, "active": category.active}
        category.name, category.position, category.active = name, position, active
        category.save(update_fields=["name", "position", "active"])
        audit_log(
            actor=actor,
            action="mall.category.updated",
            target=category,
            data={"before": before, "name": name, "position": position, "active": active},
        )
    return category


# --- Reads of the back office ---------------------------------------------------------------


def goods_for_staff(
    *,
    category_id: int | None = None,
    kind: str = "",
    shelf: str = "",
    low_stock: bool = False,
    query: str = "",
    now=None,
) -> QuerySet:
    """Every good (shelf state as asked: "on" or "off"), with `redeemed` (items, cancelled
    ones given back) and `redemption_count`; category and first picture joined."""
    now = now or timezone.now()
    on_shelf = (
        Q(is_active=True)
        & (Q(shelf_from__isnull=True) | Q(shelf_from__lte=now))
        & (Q(shelf_until__isnull=True) | Q(shelf_until__gt=now))
    )
    live = ~Q(redemptions__status=Redemption.Status.CANCELLED)
    goods = (
        Goods.objects.select_related("category", "coupon_template")
        .prefetch_related("images")
        .annotate(
            redeemed=Coalesce(
                Sum("redemptions__qty", filter=live), Value(0), output_field=IntegerField()
            ),
            redemption_count=Count("redemptions", filter=live),
        )
        .order_by("position", "id")
    )
    if category_id:
        goods = goods.filter(category_id=category_id)
    if kind:
        goods = goods.filter(kind=kind)
    if shelf == "on":
        goods = goods.filter(on_shelf)
    elif shelf == "off":
        goods = goods.exclude(on_shelf)
    if low_stock:
        goods = goods.filter(stock__lte=LOW_STOCK)
    if query:
        goods = goods.filter(name__icontains=query.strip())
    return goods


def goods_is_on_shelf(goods: Goods, now=None) -> bool:
    now = now or timezone.now()
    return (
        goods.is_active
        and (goods.shelf_from is None or goods.shelf_from <= now)
        and (goods.shelf_until is None or now < goods.shelf_until)
    )
