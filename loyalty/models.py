from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SingletonSettings
from loyalty.claim_photos import claim_photo_name, claim_photo_storage
from members.models import Member
from stores.models import Brand, Category, Division, Store


class Receipt(models.Model):
    """A till receipt, identified by (store, POS number, receipt number)."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        REFUND = "refund", _("Refund")

    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="receipts"
    )
    pos_no = models.CharField(_("POS number"), max_length=16)
    receipt_no = models.CharField(_("receipt number"), max_length=64)
    occurred_at = models.DateTimeField(_("time"))
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.SALE)
    refund_of = models.ForeignKey(
        "self",
        verbose_name=_("refund of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
    )
    division = models.CharField(_("division"), max_length=16, choices=Division.choices)
    total_fen = models.BigIntegerField(_("total (fen)"))
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    # The till that sent it through the POS API. pos sits above loyalty, so this is the one
    # reference that points up the layers: by name only, as Django's own apps refer to the
    # user model (AUTH_USER_MODEL); loyalty's code never imports pos.
    terminal = models.ForeignKey(
        "pos.PosTerminal",
        verbose_name=_("POS terminal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    # POS API receipts: a hash of the request to tell a retry from a conflicting reuse of the
    # receipt number, and the answer given, returned again to a retry.
    payload_hash = models.CharField(_("payload hash"), max_length=64, blank=True)
    response = models.JSONField(_("API response"), null=True, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "pos_no", "receipt_no"], name="receipt_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(total_fen__gte=0), name="receipt_total_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="sale", refund_of__isnull=True) | Q(kind="refund"),
                name="receipt_only_refunds_refer_back",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "-occurred_at"]),
            models.Index(fields=["store", "occurred_at"]),
            models.Index(fields=["occurred_at"]),
            # one purchase whichever way it came: a claim's number matches in any case
            models.Index(F("store"), Upper("receipt_no"), name="receipt_store_number_upper"),
        ]

    def __str__(self):
        return f"{self.store.code}/{self.pos_no}/{self.receipt_no}"


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(
        Receipt, verbose_name=_("receipt"), on_delete=models.CASCADE, related_name="lines"
    )
    line_no = models.PositiveSmallIntegerField(_("line"))
    sku_code = models.CharField(_("SKU code"), max_length=32, blank=True)
    name = models.CharField(_("name"), max_length=128)
    spec = models.CharField(_("specification"), max_length=64, blank=True)
    brand_name = models.CharField(_("brand"), max_length=64, blank=True)
    category_name = models.CharField(_("category"), max_length=64, blank=True)
    brand = models.ForeignKey(
        Brand,
        verbose_name=_("brand"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    qty = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    non_merchandise = models.BooleanField(_("non-merchandise"), default=False)

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        ordering = ["receipt", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "line_no"], name="receipt_line_no_unique"),
            models.CheckConstraint(condition=Q(qty__gt=0), name="receipt_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0), name="receipt_line_amount_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.name} ×{self.qty}"


class LoyaltySettings(SingletonSettings):
    """The mall's points and tier policy (one row, edited in the admin)."""

    class TierBasis(models.TextChoices):
        SPEND = "spend", _("Spend in the last 12 months (fen)")
        GROWTH = "growth", _("Growth value: points earned by purchases in the last 12 months")

    expiry_enabled = models.BooleanField(_("points expire"), default=True)
    expiry_years_after = models.PositiveSmallIntegerField(
        _("expire after years"),
        default=1,
        help_text=_("Points earned in a year expire at the end of that year plus this many years."),
    )
    expiry_reminder_days = models.PositiveSmallIntegerField(
        _("reminder days before expiry"), default=30
    )
    tier_basis = models.CharField(
        _("tier basis"), max_length=8, choices=TierBasis.choices, default=TierBasis.SPEND
    )
    signin_points = models.PositiveIntegerField(_("points per daily sign-in"), default=1)
    signin_streak_days = models.PositiveSmallIntegerField(
        _("streak length for the bonus"), default=7
    )
    signin_streak_bonus = models.PositiveIntegerField(_("streak bonus points"), default=10)
    claims_per_day = models.PositiveSmallIntegerField(
        _("receipt claims per member a day"),
        default=5,
        help_text=_("Receipt photos one member may send in a day (Shanghai time)."),
    )

    class Meta:
        verbose_name = _("points and tier policy")
        verbose_name_plural = _("points and tier policy")


class EarnRule(models.Model):
    """Points per amount paid. The most specific active rule matching a line wins: category
    before division before all goods, and a store's own rule before the all-stores rule."""

    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: every store"),
    )
    division = models.CharField(
        _("division"),
        max_length=16,
        choices=Division.choices,
        blank=True,
        help_text=_("Empty: both divisions"),
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: every category; a parent category covers its children"),
    )
    points = models.PositiveIntegerField(_("points"), default=1)
    per_fen = models.PositiveIntegerField(
        _("for every (fen)"), default=100, help_text=_("100 fen = 1 yuan")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["store", "division", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "division", "category"],
                nulls_distinct=False,
                name="earn_rule_unique_scope",
            ),
            models.CheckConstraint(condition=Q(per_fen__gt=0), name="earn_rule_per_fen_positive"),
        ]

    def __str__(self):
        return f"{self.points}/{self.per_fen}"


class PointsPromotion(models.Model):
    """A points multiplier for a date range, e.g. 会员日 double points every Wednesday.
    Where several apply, the highest wins."""

    name = models.CharField(_("name"), max_length=64)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (inclusive)"))
    weekdays = models.CharField(
        _("weekdays"),
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^[1-7]*$", _("Digits 1 (Monday) to 7 (Sunday)."))],
        help_text=_("Empty: every day; 3 = Wednesdays; 67 = weekends"),
    )
    multiplier_percent = models.PositiveIntegerField(
        _("multiplier (%)"), default=200, help_text=_("200 = double points")
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: every store"),
    )
    division = models.CharField(_("division"), max_length=16, choices=Division.choices, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("points promotion")
        verbose_name_plural = _("points promotions")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="promotion_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(multiplier_percent__gte=100), name="promotion_multiplies"
            ),
        ]

    def __str__(self):
        return self.name


class Tier(models.Model):
    """A membership tier (会员等级); members hold the highest whose threshold they reach."""

    code = models.SlugField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=32)
    threshold = models.BigIntegerField(
        _("threshold"),
        unique=True,
        help_text=_(
            "Fen of spend or growth value in 12 months, per the tier basis; 0 for the entry tier"
        ),
    )
    multiplier_percent = models.PositiveIntegerField(
        _("points multiplier (%)"), default=100, help_text=_("150 = 1.5 × points")
    )
    card_color = models.CharField(
        _("card colour"),
        max_length=7,
        default="#8a8f99",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour like #c9a45c."))],
    )
    card_image = models.ImageField(_("card image"), upload_to="tiers/", blank=True)
    benefits = models.TextField(
        _("benefits"), blank=True, help_text=_("Rich text: paragraphs, lists, bold and links")
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["threshold"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tier_threshold_positive"),
            models.CheckConstraint(
                condition=Q(multiplier_percent__gte=100), name="tier_multiplier_at_least_one"
            ),
        ]

    def __str__(self):
        return self.name


class PointsAccount(models.Model):
    """A member's points wallet: the balance is the sum of its entries, kept in step by
    loyalty.ledger, the only writer."""

    member = models.OneToOneField(
        Member,
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="points_account",
    )
    balance = models.BigIntegerField(_("balance"), default=0)
    tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    tier_since = models.DateTimeField(_("tier since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Upper bounds of the 12-month value per tier basis, so a receipt that cannot reach the
    # next tier skips reading the history (loyalty.tiers.tier_after_sale); kept by triggers
    # (migration 0013), NULL while unknown.
    tier_spend_bound = models.BigIntegerField(null=True, blank=True, editable=False)
    tier_growth_bound = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.member} {self.balance}"


class PointsEntry(models.Model):
    """One change of a points balance. Never updated or deleted (a database trigger refuses);
    corrections are new entries pointing at what they correct."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        LOTTERY = "lottery", _("Lottery")
        EXPIRE = "expire", _("Expired")
        REFUND = "refund", _("Refund")
        ADJUST = "adjust", _("Adjustment")

    account = models.ForeignKey(
        PointsAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    points = models.BigIntegerField(_("points"))
    balance_after = models.BigIntegerField(_("balance after"))
    key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    receipt = models.ForeignKey(
        Receipt,
        verbose_name=_("receipt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_entries",
    )
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
    )
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    memo = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        permissions = [("adjust_points", _("Can adjust members' points"))]
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at", "-id"])]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="points_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="points_entry_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(points__gt=0, expires_on__isnull=False)
                | Q(points__lt=0, expires_on__isnull=True),
                name="points_entry_credits_expire",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.points:+d}"


class ExpiryReminder(models.Model):
    """A reminder sent for points about to expire: one per account and expiry date."""

    account = models.ForeignKey(
        PointsAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+"
    )
    expires_on = models.DateField(_("expires on"))
    points = models.BigIntegerField(_("points"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")
        constraints = [
            models.UniqueConstraint(fields=["account", "expires_on"], name="expiry_reminder_once"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.expires_on} {self.points}"


class TierChange(models.Model):
    class Reason(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade on purchase")
        REVIEW = "review", _("Periodic review")
        MANUAL = "manual", _("Set by staff")

    account = models.ForeignKey(
        PointsAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="tier_changes",
    )
    from_tier = models.ForeignKey(
        Tier, verbose_name=_("from"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=8, choices=Reason.choices)
    basis_value = models.BigIntegerField(_("12-month value"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.from_tier} → {self.to_tier}"


class SignIn(models.Model):
    """A daily sign-in (签到) on the member's Shanghai date."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="sign_ins"
    )
    day = models.DateField(_("day"))
    streak = models.PositiveIntegerField(_("streak"))
    points = models.PositiveIntegerField(_("points"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="sign_in_once_a_day"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.day}"


class ReceiptClaim(models.Model):
    """拍小票: a member's photo of a receipt from a till that is not connected, for review."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Under review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="receipt_claims"
    )
    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.PROTECT)
    receipt_no = models.CharField(_("receipt number"), max_length=64)
    pos_no = models.CharField(
        _("POS number"),
        max_length=16,
        blank=True,
        help_text=_("As printed on the receipt, if known; staff may set it when reviewing."),
    )
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    shop_name = models.CharField(_("shop or counter"), max_length=64, blank=True)
    purchased_on = models.DateField(_("purchase date"))
    photo = models.ImageField(
        _("photo"), upload_to=claim_photo_name, storage=claim_photo_storage, blank=True
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    reject_reason = models.CharField(_("reason for rejection"), max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    receipt = models.OneToOneField(
        Receipt,
        verbose_name=_("receipt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claim",
    )
    # What approving earned: 0 when the purchase was already recorded with the member.
    points = models.BigIntegerField(_("points earned"), default=0)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)

    class Meta:
        verbose_name = _("receipt claim")
        verbose_name_plural = _("receipt claims")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "receipt_no"],
                condition=~Q(status="rejected"),
                name="receipt_claim_once",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="claim_amount_positive"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.store.code}/{self.receipt_no}"
