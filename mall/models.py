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
    # What shoppers of these merchandise categories may like (a hair dryer for 电吹风 and
    # 浴室用品 buyers): the card's recommendations match a member's purchases against it.
    interest_categories = models.ManyToManyField(
        "stores.Category",
        verbose_name=_("for shoppers of"),
        related_name="mall_goods",
        blank=True,
        help_text=_("Merchandise categories whose shoppers are shown this good first."),
    )
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


# --- Lottery (抽奖活动) ------------------------------------------------------------------------

PRIZE_VALUE_MAX_FEN = 5_000_000  # ¥50,000: the prize-sales rules' ceiling for any one prize


class LotteryCampaign(models.Model):
    """A lottery campaign: members spend `points_per_draw` per draw within the time window,
    at most `daily_limit` draws a Shanghai day and `total_limit` in all (0: no total limit).

    Prize-sales rules: the prizes (kinds, odds, quantities, value) and the rules are published
    before the start (`published_at`) and frozen once `starts_at` has passed: mall/lottery.py
    refuses every edit of a started campaign or its prizes. Members see only published ones."""

    class Style(models.TextChoices):
        WHEEL = "wheel", _("Wheel")
        GRID = "grid", _("Nine-square grid")

    name = models.CharField(_("name"), max_length=40)
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="lottery_campaigns",
        null=True,
        blank=True,
        help_text=_("Empty: every store's members."),
    )
    style = models.CharField(_("style"), max_length=8, choices=Style.choices, default=Style.WHEEL)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    points_per_draw = models.PositiveIntegerField(_("points per draw"))
    daily_limit = models.PositiveSmallIntegerField(
        _("draws per member per day"), default=3, help_text=_("Counted per Shanghai day.")
    )
    total_limit = models.PositiveIntegerField(
        _("draws per member in all"), default=0, help_text=_("0 means no limit.")
    )
    rules = models.TextField(_("rules"), max_length=4000)
    claim_rules = models.TextField(
        _("how to claim prizes"),
        max_length=1000,
        blank=True,
        help_text=_("Where and until when physical prizes are picked up."),
    )
    claim_days = models.PositiveSmallIntegerField(_("days to claim a physical prize"), default=30)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("lottery campaign")
        verbose_name_plural = _("lottery campaigns")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="lottery_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(points_per_draw__gt=0), name="lottery_points_per_draw_positive"
            ),
            models.CheckConstraint(
                condition=Q(daily_limit__gt=0), name="lottery_daily_limit_positive"
            ),
        ]

    def __str__(self):
        return self.name

    def is_frozen(self, now=None) -> bool:
        """Started: nothing about it may change any more (published or not)."""
        return (now or timezone.now()) >= self.starts_at


class LotteryPrize(models.Model):
    """A prize of a campaign, drawn with probability weight / Σ weights of the prizes in stock.

    `stock` NULL (unlimited) only for the kind "nothing" (谢谢参与); every other prize has a
    published quantity that never goes below zero. `value_fen` is the prize's cost, at most
    ¥50,000. Kind points grants `points` through the ledger; coupon issues `coupon_template`;
    goods is a physical prize picked up at the desk with a pickup code."""

    class Kind(models.TextChoices):
        POINTS = "points", _("Points")
        COUPON = "coupon", _("Coupon")
        GOODS = "goods", _("Physical prize")
        NOTHING = "nothing", _("No prize")

    campaign = models.ForeignKey(
        LotteryCampaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="prizes"
    )
    name = models.CharField(_("name"), max_length=32)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    weight = models.PositiveIntegerField(_("weight"))
    stock = models.IntegerField(_("stock"), null=True, blank=True)
    initial_stock = models.IntegerField(_("quantity"), null=True, blank=True)
    points = models.PositiveIntegerField(_("points granted"), default=0)
    coupon_template = models.ForeignKey(
        CouponTemplate,
        verbose_name=_("coupon template"),
        on_delete=models.PROTECT,
        related_name="lottery_prizes",
        null=True,
        blank=True,
    )
    value_fen = models.BigIntegerField(_("value (fen)"), default=0)
    image = models.ImageField(_("image"), upload_to="mall/lottery/", blank=True)
    position = models.SmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("lottery prize")
        verbose_name_plural = _("lottery prizes")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="prize_weight_positive"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="prize_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="nothing") | Q(stock__isnull=False),
                name="prize_stock_unlimited_only_nothing",
            ),
            models.CheckConstraint(
                condition=Q(value_fen__gte=0) & Q(value_fen__lte=PRIZE_VALUE_MAX_FEN),
                name="prize_value_within_cap",
            ),
            models.CheckConstraint(
                condition=~Q(kind="points") | Q(points__gt=0), name="prize_points_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind="coupon") | Q(coupon_template__isnull=False),
                name="prize_coupon_has_template",
            ),
        ]

    def __str__(self):
        return self.name


class LotteryDraw(models.Model):
    """One draw, its audit row: the prizes in stock with their weights at the moment of the
    draw (`weights`: [[prize_id, weight], …] in order), the CSPRNG's `roll` in
    [0, Σ weights), and the result. The prize is the first whose running weight sum exceeds
    the roll, so the result can be recomputed from the row alone. `prize` is NULL when the
    roll landed on a prize whose stock ran out meanwhile or nothing was in stock: no prize."""

    class Status(models.TextChoices):
        NOTHING = "nothing", _("No prize")
        GRANTED = "granted", _("Granted")
        PENDING_PICKUP = "pending_pickup", _("Awaiting pickup")
        PICKED_UP = "picked_up", _("Picked up")
        EXPIRED = "expired", _("Not claimed in time")

    campaign = models.ForeignKey(
        LotteryCampaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="draws"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="lottery_draws"
    )
    key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    drawn_on = models.DateField(_("Shanghai day"))
    points_spent = models.PositiveIntegerField(_("points spent"))
    ledger_key = models.CharField(_("ledger entry key"), max_length=120)
    weights = models.JSONField(_("weights at the draw"))
    roll = models.BigIntegerField(_("random number"))
    prize = models.ForeignKey(
        LotteryPrize,
        verbose_name=_("prize"),
        on_delete=models.PROTECT,
        related_name="draws",
        null=True,
        blank=True,
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    grant_ledger_key = models.CharField(_("granted points entry key"), max_length=120, blank=True)
    coupon = models.ForeignKey(
        Coupon,
        verbose_name=_("coupon"),
        on_delete=models.PROTECT,
        related_name="lottery_draws",
        null=True,
        blank=True,
    )
    pickup_code = models.CharField(
        _("pickup code"), max_length=12, unique=True, null=True, blank=True
    )
    claim_until = models.DateTimeField(_("claim until"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    picked_up_store = models.ForeignKey(
        Store,
        verbose_name=_("picked up at store"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("drawn at"), default=timezone.now)

    class Meta:
        verbose_name = _("lottery draw")
        verbose_name_plural = _("lottery draws")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "member", "drawn_on"], name="draw_member_day"),
            models.Index(fields=["campaign", "-created_at"], name="draw_campaign_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(roll__gte=0), name="draw_roll_not_negative"),
            models.CheckConstraint(
                condition=Q(prize__isnull=True, status="nothing")
                | Q(prize__isnull=False) & ~Q(status="nothing"),
                name="draw_status_matches_prize",
            ),
        ]

    def __str__(self):
        return f"{self.campaign_id}:{self.pk}"


class LotteryOnSiteWinner(models.Model):
    """A winner of an on-site draw (现场抽奖), recorded by staff and always shown as such;
    never counted as a draw of the H5 lottery."""

    campaign = models.ForeignKey(
        LotteryCampaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="on_site_winners",
    )
    prize_name = models.CharField(_("prize"), max_length=32)
    winner_name = models.CharField(_("winner"), max_length=32, help_text=_("Shown masked."))
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    drawn_at = models.DateTimeField(_("drawn at"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("on-site winner")
        verbose_name_plural = _("on-site winners")
        ordering = ["-drawn_at", "-id"]

    def __str__(self):
        return f"{self.winner_name} {self.prize_name}"


# --- Brand activities (楼层活动展示) ---------------------------------------------------------

ACTIVITY_BODY_MAX = 500


class BrandActivity(models.Model):
    """A brand's activity in one store (新品上市, 折扣 …): shown to members between
    `starts_on` and `ends_on` (Shanghai days, inclusive) once published. Its floor is the
    floor of the brand's shop in that store; its category the brand's."""

    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="brand_activities"
    )
    brand = models.ForeignKey(
        "stores.Brand",
        verbose_name=_("brand"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    title = models.CharField(_("title"), max_length=40)
    body = models.TextField(_("text"), max_length=ACTIVITY_BODY_MAX)
    image = models.ImageField(_("image"), upload_to="mall/activities/", blank=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    is_published = models.BooleanField(_("published"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("brand activity")
        verbose_name_plural = _("brand activities")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="activity_dates_ordered"
            ),
        ]
        indexes = [models.Index(fields=["store", "ends_on"], name="activity_store_current")]

    def __str__(self):
        return self.title
