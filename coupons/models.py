from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from stores.models import Store


class CouponTemplate(models.Model):
    """A kind of coupon staff define once and issue many times (优惠券模板)."""

    class Kind(models.TextChoices):
        CASH = "cash", _("Cash voucher (现金券)")
        THRESHOLD = "threshold", _("Spend and save (满减)")
        PERCENT = "percent", _("Percentage off (折扣)")
        GIFT = "gift", _("Gift (礼品券)")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    face_value_fen = models.BigIntegerField(
        _("amount off (fen)"), default=0, help_text=_("Cash vouchers and spend-and-save")
    )
    min_spend_fen = models.BigIntegerField(
        _("minimum spend (fen)"), default=0, help_text=_("Spend-and-save: the threshold")
    )
    percent_off = models.PositiveSmallIntegerField(
        _("percent off"),
        default=0,
        validators=[MaxValueValidator(99)],
        # xgettext:no-python-format
        help_text=_("Percentage coupons: 20 means 20% off (8折)"),
    )
    max_discount_fen = models.BigIntegerField(
        _("discount cap (fen)"), default=0, help_text=_("Percentage coupons: 0 for no cap")
    )
    gift_name = models.CharField(_("gift"), max_length=64, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(
        _("valid for days after issue"),
        null=True,
        blank=True,
        help_text=_("Instead of fixed dates: usable until the end of the Nth day after issue"),
    )
    stores = models.ManyToManyField(
        Store, verbose_name=_("stores"), blank=True, help_text=_("Empty: every store")
    )
    floors = models.ManyToManyField(
        "stores.Floor", verbose_name=_("floors"), blank=True, help_text=_("Empty: every floor")
    )
    brands = models.ManyToManyField(
        "stores.Brand", verbose_name=_("brands"), blank=True, help_text=_("Empty: every brand")
    )
    categories = models.ManyToManyField(
        "stores.Category",
        verbose_name=_("categories"),
        blank=True,
        help_text=_("Empty: every category; a parent covers its children"),
    )
    per_member_limit = models.PositiveSmallIntegerField(
        _("per member"), default=1, help_text=_("0: no limit")
    )
    total_quantity = models.PositiveIntegerField(
        _("total quantity"), null=True, blank=True, help_text=_("Empty: no limit")
    )
    issued_count = models.PositiveIntegerField(_("issued"), default=0, editable=False)
    stackable = models.BooleanField(
        _("stacks with other coupons"), default=False, help_text=_("On one receipt")
    )
    usage_notes = models.TextField(_("usage notes"), blank=True)
    floors_remark = models.CharField(
        _("usable floors (shown to members)"), max_length=200, blank=True
    )
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#e64340",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour like #e64340."))],
    )
    image = models.ImageField(_("image"), upload_to="coupons/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_quantity__isnull=True)
                | Q(issued_count__lte=models.F("total_quantity")),
                name="coupon_template_not_over_issued",
            ),
            models.CheckConstraint(
                condition=Q(face_value_fen__gte=0, min_spend_fen__gte=0, max_discount_fen__gte=0),
                name="coupon_template_amounts_positive",
            ),
            models.CheckConstraint(
                condition=Q(valid_days__isnull=False)
                | Q(valid_from__isnull=False, valid_until__isnull=False),
                name="coupon_template_has_validity",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Campaign(models.Model):
    """Why coupons were issued (a push, a welcome, birthdays, a prize…): results roll up here."""

    class Channel(models.TextChoices):
        MANUAL = "manual", _("Manual")
        GROUP = "group", _("Member group")
        WELCOME = "welcome", _("Welcome on registration")
        BIRTHDAY = "birthday", _("Birthday")
        LOTTERY = "lottery", _("Lottery prize")
        POINTS_MALL = "points_mall", _("Points mall")
        RULE = "rule", _("Association rule")

    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class Coupon(models.Model):
    """An issued coupon. Expired is not stored: an unused coupon past `valid_until` is expired."""

    class Status(models.TextChoices):
        UNUSED = "unused", _("Unused")
        USED = "used", _("Used")
        VOIDED = "voided", _("Voided")

    code = models.CharField(_("code"), max_length=20, unique=True)
    template = models.ForeignKey(
        CouponTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="coupons"
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="coupons"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="coupons"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.UNUSED
    )
    # One issuance per key (a bulk job and member, a birthday and year…): reruns issue nothing.
    issue_key = models.CharField(_("issue key"), max_length=100, null=True, blank=True, unique=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_store = models.ForeignKey(
        Store,
        verbose_name=_("used at store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    used_pos_no = models.CharField(_("POS number"), max_length=16, blank=True)
    used_cashier = models.CharField(_("cashier"), max_length=32, blank=True)
    used_receipt = models.ForeignKey(
        "loyalty.Receipt",
        verbose_name=_("receipt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupons_used",
    )
    discount_fen = models.BigIntegerField(_("discount (fen)"), default=0)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["member", "status", "valid_until"]),
            models.Index(fields=["template", "member"]),
            models.Index(fields=["campaign", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="used", used_at__isnull=False)
                | (~Q(status="used") & Q(used_at__isnull=True)),
                name="coupon_used_when_used",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")),
                name="coupon_validity_ordered",
            ),
            models.CheckConstraint(
                condition=Q(discount_fen__gte=0), name="coupon_discount_positive"
            ),
        ]

    def __str__(self):
        return f"{self.template.name} {self.code}"

    def display_status(self, now=None) -> str:
        """unused, used, voided or expired (unused and past its validity)."""
        now = now or timezone.now()
        if self.status == self.Status.UNUSED and now >= self.valid_until:
            return "expired"
        return self.status


class CouponVerification(models.Model):
    """A till's verification request, kept so the same request_id gets the first answer."""

    # pos sits above coupons: a reference by name only (like AUTH_USER_MODEL), never imported.
    terminal = models.ForeignKey(
        "pos.PosTerminal", verbose_name=_("POS terminal"), on_delete=models.PROTECT
    )
    request_id = models.CharField(_("request ID"), max_length=64)
    code = models.CharField(_("code"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    response = models.JSONField(_("answer"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("coupon verification")
        verbose_name_plural = _("coupon verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["terminal", "request_id"], name="coupon_verification_once"
            ),
        ]

    def __str__(self):
        return f"{self.request_id} {self.code}"


class IssueRule(models.Model):
    """Coupons issued by the system: a welcome on registration (optionally per channel code),
    or N days before a member's birthday."""

    class Trigger(models.TextChoices):
        REGISTRATION = "registration", _("On registration")
        BIRTHDAY = "birthday", _("Before the birthday")

    trigger = models.CharField(_("when"), max_length=16, choices=Trigger.choices)
    template = models.ForeignKey(
        CouponTemplate, verbose_name=_("template"), on_delete=models.PROTECT
    )
    channel = models.CharField(
        _("registration channel"), max_length=32, blank=True, help_text=_("Empty: any channel")
    )
    days_before = models.PositiveSmallIntegerField(
        _("days before the birthday"), default=7, validators=[MinValueValidator(0)]
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("issuing rule")
        verbose_name_plural = _("issuing rules")

    def __str__(self):
        return f"{self.get_trigger_display()}: {self.template}"


class IssueJob(models.Model):
    """A bulk issue to a set of members, run by a Celery worker, with progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="jobs"
    )
    template = models.ForeignKey(
        CouponTemplate, verbose_name=_("template"), on_delete=models.PROTECT
    )
    member_ids = models.JSONField(_("members"), default=list)
    total = models.PositiveIntegerField(_("members"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    issued = models.PositiveIntegerField(_("issued"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("issue job")
        verbose_name_plural = _("issue jobs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.campaign} {self.processed}/{self.total}"
