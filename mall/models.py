"""The points mall (积分商城): categories, goods with their pictures, redemptions and their
history. Stock never goes below zero (a CHECK backs the conditional UPDATE of mall/redeeming.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coupons.models import Coupon, CouponTemplate
from members.models import Member
from stores.models import Store


class GoodsCategory(models.Model):
    """A quick-filter tab of the points mall."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    position = models.SmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("goods category")
        verbose_name_plural = _("goods categories")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class Goods(models.Model):
    """Something members buy with points: a thing (picked up or sent) or a coupon."""

    class Kind(models.TextChoices):
        THING = "thing", _("Thing")
        COUPON = "coupon", _("Coupon")

    category = models.ForeignKey(
        GoodsCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="goods",
        null=True,
        blank=True,
    )
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.THING)
    coupon_template = models.ForeignKey(
        CouponTemplate,
        verbose_name=_("coupon template"),
        on_delete=models.PROTECT,
        related_name="mall_goods",
        null=True,
        blank=True,
    )
    market_price_fen = models.BigIntegerField(_("market price (fen)"), default=0)
    points_price = models.PositiveIntegerField(_("points price"))
    stock = models.IntegerField(_("stock"), default=0)
    per_member_limit = models.PositiveIntegerField(
        _("limit per member"), default=0, help_text=_("0 means no limit.")
    )
    shelf_from = models.DateTimeField(_("on the shelf from"), null=True, blank=True)
    shelf_until = models.DateTimeField(_("on the shelf until"), null=True, blank=True)
    offers_pickup = models.BooleanField(_("pickup at the service desk"), default=True)
    offers_express = models.BooleanField(_("express delivery"), default=False)
    pickup_stores = models.ManyToManyField(
        Store, verbose_name=_("pickup stores"), related_name="mall_goods", blank=True
    )
    pickup_note = models.CharField(
        _("pickup note"),
        max_length=200,
        blank=True,
        help_text=_("Where and when to pick it up, e.g. 1F service desk, 10:00–22:00."),
    )
    redemption_notes = models.TextField(_("redemption notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.SmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("points-mall goods")
        verbose_name_plural = _("points-mall goods")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="goods_stock_not_negative"),
            models.CheckConstraint(condition=Q(points_price__gt=0), name="goods_price_positive"),
            models.CheckConstraint(
                condition=Q(kind="thing", coupon_template__isnull=True)
                | Q(kind="coupon", coupon_template__isnull=False),
                name="goods_coupon_has_template",
            ),
            models.CheckConstraint(
                condition=Q(offers_pickup=True) | Q(offers_express=True) | Q(kind="coupon"),
                name="goods_thing_has_delivery",
            ),
        ]

    def __str__(self):
        return self.name


class GoodsImage(models.Model):
    """A picture of a good (public media: nothing personal)."""

    goods = models.ForeignKey(
        Goods, verbose_name=_("goods"), on_delete=models.CASCADE, related_name="images"
    )
    image = models.ImageField(_("image"), upload_to="mall/goods/")
    position = models.SmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("goods image")
        verbose_name_plural = _("goods images")
        ordering = ["position", "id"]

    def __str__(self):
        return self.image.name


class Redemption(models.Model):
    """One member's redemption of a good; `code` is the pickup code shown at the desk."""

    class Delivery(models.TextChoices):
        PICKUP = "pickup", _("Pickup at the service desk")
        EXPRESS = "express", _("Express delivery")
        COUPON = "coupon", _("Coupon to the card")

    class Status(models.TextChoices):
        PENDING_PICKUP = "pending_pickup", _("Awaiting pickup")
        PICKED_UP = "picked_up", _("Picked up")
        PENDING_SHIPMENT = "pending_shipment", _("Awaiting shipment")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        ISSUED = "issued", _("Coupon issued")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.CharField(_("pickup code"), max_length=12, unique=True)
    key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="redemptions"
    )
    goods = models.ForeignKey(
        Goods, verbose_name=_("goods"), on_delete=models.PROTECT, related_name="redemptions"
    )
    qty = models.PositiveIntegerField(_("quantity"))
    points = models.PositiveIntegerField(_("points"))
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    pickup_store = models.ForeignKey(
        Store,
        verbose_name=_("pickup store"),
        on_delete=models.PROTECT,
        related_name="mall_redemptions",
        null=True,
        blank=True,
    )
    address = models.JSONField(_("delivery address"), default=dict, blank=True)
    carrier = models.CharField(_("carrier"), max_length=32, blank=True)
    tracking_no = models.CharField(_("tracking number"), max_length=64, blank=True)
    coupons = models.ManyToManyField(
        Coupon, verbose_name=_("coupons"), related_name="mall_redemptions", blank=True
    )
    ledger_key = models.CharField(_("ledger entry key"), max_length=120)
    at_desk_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded at the desk by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("redeemed at"), default=timezone.now)
    verified_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    cancel_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        permissions = [("verify_redemption", _("Can verify pickups at the desk"))]
        constraints = [
            models.CheckConstraint(condition=Q(qty__gt=0), name="redemption_qty_positive"),
            models.CheckConstraint(
                condition=~Q(delivery="pickup") | Q(pickup_store__isnull=False),
                name="redemption_pickup_has_store",
            ),
        ]
        indexes = [models.Index(fields=["member", "goods"], name="redemption_member_goods")]

    def __str__(self):
        return self.code


class RedemptionEvent(models.Model):
    """A step in a redemption's history: who moved it to which status, and when."""

    redemption = models.ForeignKey(
        Redemption, verbose_name=_("redemption"), on_delete=models.CASCADE, related_name="events"
    )
    status = models.CharField(_("status"), max_length=16, choices=Redemption.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("redemption event")
        verbose_name_plural = _("redemption events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.redemption_id} {self.status}"
