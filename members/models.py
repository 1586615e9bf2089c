from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.masking import mask_national_id
from core.models import SingletonSettings
from members.cards import (
    CARD_NO_MAX_LENGTH,
    CARD_NO_PATTERN,
    CardNoError,
    card_no_clean,
    card_no_grouped,
)
from members.pii import pii_decrypt
from stores.models import Region, Store

phone_validator = RegexValidator(r"^1[3-9]\d{9}$", _("Enter an 11-digit mainland mobile number."))
link_validator = RegexValidator(
    r"^(/[^/\\]|https://)", _("Use a path on this site or an https link.")
)


def card_no_validator(value: str) -> None:
    """Forms and the admin check card numbers with the one rule of members/cards.py."""
    try:
        cleaned = card_no_clean(value)
    except CardNoError:
        cleaned = None
    if cleaned != value:
        raise ValidationError(
            _("A card number is 1 to 32 letters (A-Z, a-z), digits or hyphens."), code="card_no"
        )


class RegistrationChannel(models.Model):
    """A 渠道码 on the member entry link (`?channel=CODE`). A channel of one store (its service
    desk's poster, its tills' QR) makes that store the home store of those who join through
    it; a mall-wide one (the WeChat menu) leaves it to their first purchase."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registration_channels",
        help_text=_("Members who join through this channel get it as their home store."),
    )

    class Meta:
        verbose_name = _("registration channel")
        verbose_name_plural = _("registration channels")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Member(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")
        UNKNOWN = "U", _("Unknown")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed (anonymised)")

    card_no = models.CharField(
        _("card number"),
        max_length=CARD_NO_MAX_LENGTH,
        unique=True,
        validators=[card_no_validator],
    )
    phone = models.CharField(
        _("phone"), max_length=11, unique=True, null=True, blank=True, validators=[phone_validator]
    )
    name = models.CharField(_("name"), max_length=64, blank=True)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    home_store = models.ForeignKey(
        Store,
        verbose_name=_("home store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    channel = models.CharField(_("registration channel"), max_length=32, blank=True)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The ID number only ever as AES-GCM ciphertext (members/pii.py), plus a keyed HMAC of it
    # that makes it unique and findable without decrypting every row.
    national_id_cipher = models.BinaryField(_("national ID number (encrypted)"), null=True)
    national_id_index = models.CharField(
        _("national ID number blind index"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        error_messages={"unique": _("This ID number already belongs to another membership.")},
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-registered_at", "-id"]
        indexes = [
            models.Index(fields=["home_store", "registered_at"]),
            models.Index(fields=["registered_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(card_no__regex=CARD_NO_PATTERN), name="member_card_no_format"
            ),
            models.CheckConstraint(
                condition=Q(national_id_cipher__isnull=True, national_id_index__isnull=True)
                | Q(national_id_cipher__isnull=False, national_id_index__isnull=False),
                name="member_national_id_cipher_with_index",
            ),
        ]
        permissions = [
            ("reveal_member_pii", _("Can reveal a member's full phone number and ID number")),
        ]

    def __str__(self):
        return f"{self.card_no} {self.name}".strip()

    @property
    def national_id_context(self) -> str:
        """What the ciphertext is bound to: this row's ID number field."""
        return f"members.member:{self.pk}:national_id"

    def national_id_decrypted(self) -> str:
        """The full ID number ("" if none): for the reveal service and the member's own use."""
        if self.national_id_cipher is None:
            return ""
        return pii_decrypt(self.national_id_cipher, context=self.national_id_context)

    @property
    def national_id_masked(self) -> str:
        return mask_national_id(self.national_id_decrypted())

    @property
    def card_no_display(self) -> str:
        """The card number as printed on the card (members/cards.py)."""
        return card_no_grouped(self.card_no)


class StaffProfile(models.Model):
    class Scope(models.TextChoices):
        ALL = "all", _("All stores")
        REGION = "region", _("One region")
        STORE = "store", _("One store")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_profile",
    )
    name = models.CharField(_("name"), max_length=64)
    department = models.CharField(_("department"), max_length=64, blank=True)
    employee_no = models.CharField(_("employee number"), max_length=32, unique=True)
    phone = models.CharField(_("phone"), max_length=11, blank=True, validators=[phone_validator])
    photo = models.ImageField(_("photo"), upload_to="staff/", blank=True)
    scope = models.CharField(_("data scope"), max_length=8, choices=Scope.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="all", region__isnull=True, store__isnull=True)
                    | Q(scope="region", region__isnull=False, store__isnull=True)
                    | Q(scope="store", store__isnull=False, region__isnull=True)
                ),
                name="staff_scope_matches_region_or_store",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.employee_no})"


class WechatIdentity(models.Model):
    """A WeChat user of our official account (openid), bound to a member once the phone is
    verified. unionid links the same person across the brand's other WeChat apps."""

    app_id = models.CharField(_("app ID"), max_length=32)
    openid = models.CharField(_("openid"), max_length=64)
    unionid = models.CharField(_("unionid"), max_length=64, blank=True, db_index=True)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="wechat_identities",
    )
    nickname = models.CharField(_("WeChat nickname"), max_length=64, blank=True)
    avatar_url = models.URLField(_("WeChat avatar"), max_length=500, blank=True)
    profile_fetched_at = models.DateTimeField(_("profile fetched at"), null=True, blank=True)
    created_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_login_at = models.DateTimeField(_("last login"), default=timezone.now)

    class Meta:
        verbose_name = _("WeChat identity")
        verbose_name_plural = _("WeChat identities")
        constraints = [
            models.UniqueConstraint(fields=["app_id", "openid"], name="wechat_identity_unique"),
        ]

    def __str__(self):
        return self.nickname or self.openid


class SmsCode(models.Model):
    """A one-time code sent by SMS; only its keyed hash is stored."""

    class Purpose(models.TextChoices):
        BIND = "bind", _("Bind phone")
        CHANGE_PHONE = "change_phone", _("Change phone")
        DELETE_ACCOUNT = "delete_account", _("Delete account")

    phone = models.CharField(_("phone"), max_length=11)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(_("code hash"), max_length=64)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        indexes = [
            models.Index(fields=["phone", "purpose", "-created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]

    def __str__(self):
        return f"{self.phone} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class MemberCardCode(models.Model):
    """The dynamic code behind the member QR and barcode shown at the till.

    18 random digits that stand for the member for 90 seconds, so a screenshot soon goes stale;
    the page fetches a new one every minute.
    """

    code = models.CharField(_("code"), max_length=18, unique=True)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="card_codes"
    )
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("member card code")
        verbose_name_plural = _("member card codes")

    def __str__(self):
        return f"{self.code[:4]}… {self.member_id}"


class CardPageSettings(SingletonSettings):
    """How the member card page looks (one row, edited in the admin)."""

    class Layout(models.TextChoices):
        FULL = "full", _("Full (完整版)")
        SIMPLE = "simple", _("Simple (简化版)")

    layout = models.CharField(
        _("layout"), max_length=8, choices=Layout.choices, default=Layout.FULL
    )

    class Meta:
        verbose_name = _("card page settings")
        verbose_name_plural = _("card page settings")


class MenuButton(models.Model):
    """A button of the card page's function menu (功能菜单), edited by staff."""

    label = models.CharField(_("label"), max_length=16)
    icon = models.CharField(_("icon"), max_length=8, help_text=_("An emoji or symbol, e.g. 🎁"))
    url = models.CharField(
        _("link"),
        max_length=200,
        validators=[link_validator],
        help_text=_("A member page such as /m/stores/S01/floors/"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    visible = models.BooleanField(_("visible"), default=True)

    class Meta:
        verbose_name = _("menu button")
        verbose_name_plural = _("menu buttons")
        ordering = ["order", "id"]

    def __str__(self):
        return self.label


class Message(models.Model):
    """A message in a member's inbox (系统消息); pushed to WeChat too when they follow us."""

    class Kind(models.TextChoices):
        SYSTEM = "system", _("System")
        REDEMPTION = "redemption", _("Redemption")
        LOTTERY = "lottery", _("Lottery")
        CAMPAIGN = "campaign", _("Campaign")
        TIER = "tier", _("Tier")
        FEEDBACK = "feedback", _("Feedback")

    class Push(models.TextChoices):
        NONE = "none", _("Not pushed")
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        NOT_FOLLOWING = "not_following", _("Not following")
        FAILED = "failed", _("Failed")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=64)
    body = models.TextField(_("content"), max_length=2000)
    link = models.CharField(_("link"), max_length=200, blank=True, validators=[link_validator])
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    push_status = models.CharField(
        _("WeChat push"), max_length=16, choices=Push.choices, default=Push.NONE
    )
    push_error = models.CharField(_("push error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(
                fields=["member"], condition=Q(read_at__isnull=True), name="message_unread_idx"
            ),
        ]

    def __str__(self):
        return self.title


class Interest(models.Model):
    """An interest members can tick on their profile (美食, 亲子…); the list is kept by staff."""

    name = models.CharField(_("name"), max_length=16, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("interest")
        verbose_name_plural = _("interests")
        ordering = ["order", "id"]

    def __str__(self):
        return self.name


class MemberProfile(models.Model):
    """The extended profile (扩展资料) a member fills in and analysts segment by."""

    class Education(models.TextChoices):
        JUNIOR_HIGH = "junior_high", _("Junior high school or below")
        HIGH_SCHOOL = "high_school", _("High school or technical school")
        COLLEGE = "college", _("Junior college")
        BACHELOR = "bachelor", _("Bachelor's degree")
        MASTER = "master", _("Master's degree")
        DOCTORATE = "doctorate", _("Doctorate")

    class Occupation(models.TextChoices):
        EMPLOYEE = "employee", _("Company employee")
        PUBLIC_SECTOR = "public_sector", _("Civil servant or public institution")
        BUSINESS_OWNER = "business_owner", _("Business owner or self-employed")
        FREELANCE = "freelance", _("Freelancer")
        STUDENT = "student", _("Student")
        HOMEMAKER = "homemaker", _("Homemaker")
        RETIRED = "retired", _("Retired")
        OTHER = "other", _("Other")

    class IncomeBand(models.TextChoices):
        UNDER_5K = "lt5k", _("Under ¥5,000 a month")
        FROM_5K = "5k_10k", _("¥5,000–10,000 a month")
        FROM_10K = "10k_20k", _("¥10,000–20,000 a month")
        FROM_20K = "20k_50k", _("¥20,000–50,000 a month")
        OVER_50K = "gt50k", _("Over ¥50,000 a month")

    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="profile"
    )
    education = models.CharField(
        _("education"), max_length=16, choices=Education.choices, blank=True
    )
    occupation = models.CharField(
        _("occupation"), max_length=16, choices=Occupation.choices, blank=True
    )
    income_band = models.CharField(
        _("monthly income"), max_length=8, choices=IncomeBand.choices, blank=True
    )
    interests = models.ManyToManyField(
        Interest, verbose_name=_("interests"), blank=True, related_name="profiles"
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("extended profile")
        verbose_name_plural = _("extended profiles")

    def __str__(self):
        return str(self.member)


class DeliveryAddress(models.Model):
    """A delivery address of a member (for points-mall goods sent by post); one is the default."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="addresses"
    )
    recipient = models.CharField(_("recipient"), max_length=32)
    phone = models.CharField(_("phone"), max_length=11, validators=[phone_validator])
    region = models.CharField(
        _("province, city and district"), max_length=64, help_text=_("e.g. 浙江省 杭州市 西湖区")
    )
    detail = models.CharField(_("street address"), max_length=128)
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery address")
        verbose_name_plural = _("delivery addresses")
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(is_default=True), name="address_one_default"
            ),
        ]

    def __str__(self):
        return f"{self.recipient} {self.region} {self.detail}"


class Consent(models.Model):
    """A consent a member gave, to which notice and when: the privacy policy at registration
    (PIPL Art. 13, 17) and separate consents (单独同意, PIPL Art. 29)."""

    class Purpose(models.TextChoices):
        NATIONAL_ID = "national_id", _("Processing the national ID number")
        PRIVACY_POLICY = "privacy_policy", _("Privacy policy (registration)")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    policy_version = models.CharField(_("notice version"), max_length=16)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-granted_at", "-id"]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.policy_version}"


class MarketingOptOut(models.Model):
    """A member who does not want marketing on a channel (退订): SMS, or WeChat and inbox
    messages. Transactional texts (verification codes, pickup notices) are never held back."""

    class Channel(models.TextChoices):
        SMS = "sms", _("Marketing SMS")
        WECHAT = "wechat", _("Marketing messages (inbox and WeChat)")

    class Source(models.TextChoices):
        SMS_REPLY = "sms_reply", _("SMS reply")
        H5 = "h5", _("Member settings page")
        STAFF = "staff", _("Staff")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="opt_outs"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(_("opted out at"), default=timezone.now)

    class Meta:
        verbose_name = _("marketing opt-out")
        verbose_name_plural = _("marketing opt-outs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "channel"], name="opt_out_once_per_channel"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.channel}"
