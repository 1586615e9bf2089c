"""Customer service (客服): tickets members file, their handling by staff within SLAs, the
members' ratings and the compensation granted. Workflows live in feedback/services.py."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SingletonSettings
from core.roles import Role
from feedback.photos import ticket_photo_name, ticket_photo_storage
from members.models import Member
from stores.models import Brand, Shop, Store


class Department(models.Model):
    """A service department (客服部, a store's service desk); no store: headquarters."""

    name = models.CharField(_("name"), max_length=64)
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_departments",
        help_text=_("Empty: headquarters"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Handler(models.Model):
    """A staff user who handles tickets, as the member sees them (处理人信息)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="feedback_handler",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="handlers"
    )
    employee_no = models.CharField(_("employee number"), max_length=32, unique=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_supervisor = models.BooleanField(
        _("supervisor"), default=False, help_text=_("Receives escalations of overdue tickets")
    )

    class Meta:
        verbose_name = _("handler")
        verbose_name_plural = _("handlers")
        ordering = ["employee_no"]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.get_username()} ({self.employee_no})"


class TicketType(models.Model):
    """A kind of feedback members choose from (服务意见, 商品投诉, 人员投诉 …)."""

    name = models.CharField(_("name"), max_length=32)
    code = models.SlugField(_("code"), max_length=32, unique=True)
    is_complaint = models.BooleanField(
        _("complaint"), default=False, help_text=_("Counted in the complaint statistics")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class RatingTag(models.Model):
    """A tag a member picks when rating the handling (态度热情, 回复太慢 …)."""

    name = models.CharField(_("name"), max_length=32)
    is_positive = models.BooleanField(_("positive"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("rating tag")
        verbose_name_plural = _("rating tags")
        ordering = ["-is_positive", "position", "pk"]

    def __str__(self):
        return self.name


class SlaTarget(models.Model):
    """Business minutes to the first response and to the resolution of a ticket type, for
    one tier (or every tier); the tier's own target wins over the every-tier one."""

    ticket_type = models.ForeignKey(
        TicketType, verbose_name=_("ticket type"), on_delete=models.CASCADE, related_name="slas"
    )
    tier = models.ForeignKey(
        "loyalty.Tier",
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: every tier"),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=0, help_text=_("Higher comes first in the queue")
    )

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["ticket_type", "-priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket_type", "tier"],
                name="sla_target_unique_per_type_and_tier",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=models.F("first_response_minutes")),
                name="sla_resolution_after_first_response",
            ),
        ]

    def __str__(self):
        return f"{self.ticket_type} / {self.tier or '*'}"


class ServiceHours(models.Model):
    """The service desk's opening hours on a weekday (Monday 0 … Sunday 6)."""

    weekday = models.PositiveSmallIntegerField(
        _("weekday"), unique=True, validators=[MaxValueValidator(6)], help_text=_("Monday 0")
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")
        ordering = ["weekday"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="service_hours_weekday"),
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="hours_open"),
        ]

    def __str__(self):
        return f"{self.weekday}: {self.opens:%H:%M}–{self.closes:%H:%M}"


class ServiceDay(models.Model):
    """A dated exception: a holiday (no hours: closed all day) or a day with its own hours."""

    date = models.DateField(_("date"), unique=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("service day")
        verbose_name_plural = _("service days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__isnull=True, closes__isnull=True)
                | Q(opens__isnull=False, closes__isnull=False, opens__lt=models.F("closes")),
                name="service_day_closed_or_open_before_close",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.note}".strip()


class FeedbackSettings(SingletonSettings):
    """The service desk's policy (one row, pk=1)."""

    remind_before_minutes = models.PositiveIntegerField(
        _("remind before a deadline (minutes)"), default=30
    )
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate after overdue (minutes)"), default=0, help_text=_("0: at the deadline")
    )
    max_photos = models.PositiveSmallIntegerField(
        _("photos per ticket"), default=6, validators=[MaxValueValidator(20)]
    )
    photo_max_bytes = models.PositiveIntegerField(
        _("largest photo (bytes)"), default=5 * 1024 * 1024
    )
    reopen_days = models.PositiveSmallIntegerField(
        _("reopen within (days)"), default=7, help_text=_("Days after resolution")
    )
    auto_close_days = models.PositiveSmallIntegerField(
        _("close resolved tickets after (days)"), default=7
    )
    tickets_per_day = models.PositiveSmallIntegerField(
        _("tickets per member a day"),
        default=5,
        help_text=_("Feedback one member may send in a day (Shanghai time)."),
    )

    class Meta:
        verbose_name = _("customer service settings")
        verbose_name_plural = _("customer service settings")


class CompensationCap(models.Model):
    """The most a staff role may grant on one ticket; roles without a cap grant nothing."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, unique=True)
    max_points_per_ticket = models.PositiveIntegerField(_("points per ticket"), default=0)
    max_coupon_value_fen_per_ticket = models.BigIntegerField(
        _("coupon value per ticket (fen)"), default=0
    )

    class Meta:
        verbose_name = _("compensation cap")
        verbose_name_plural = _("compensation caps")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_coupon_value_fen_per_ticket__gte=0), name="cap_coupon_positive"
            ),
        ]

    def __str__(self):
        return self.get_role_display()


class Ticket(models.Model):
    """A member's feedback or complaint (工单) and where its handling stands."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        PROCESSING = "processing", _("Processing")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("ticket number"), max_length=16, unique=True)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="tickets"
    )
    ticket_type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="tickets"
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="tickets"
    )
    brand = models.ForeignKey(
        Brand,
        verbose_name=_("brand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    shop = models.ForeignKey(
        Shop,
        verbose_name=_("shop"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    tier = models.ForeignKey(
        "loyalty.Tier",
        verbose_name=_("tier at filing"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The member's tier when the ticket was filed: its SLA target's tier."),
    )
    details = models.TextField(_("details"), max_length=1000)
    contact_name = models.CharField(_("contact name"), max_length=32)
    contact_phone = models.CharField(_("contact phone"), max_length=20)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.WAITING
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback_tickets",
    )
    on_hold = models.BooleanField(_("on hold"), default=False)
    held_since = models.DateTimeField(_("held since"), null=True, blank=True)
    first_response_due = models.DateTimeField(_("first response due"))
    resolution_due = models.DateTimeField(_("resolution due"))
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reminded_first_at = models.DateTimeField(_("first response reminder"), null=True, blank=True)
    reminded_resolution_at = models.DateTimeField(_("resolution reminder"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-pk"]
        permissions = [("grant_compensation", _("Can grant compensation on a ticket"))]
        indexes = [
            models.Index(fields=["status", "store", "resolution_due"], name="ticket_queue_idx"),
            models.Index(fields=["member", "-created_at"], name="ticket_member_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(on_hold=False) | Q(held_since__isnull=False),
                name="ticket_hold_has_start",
            ),
        ]

    def __str__(self):
        return self.number

    def is_overdue(self, now=None) -> bool:
        """Open, not on hold, and past its resolution deadline (or first-response deadline
        without a first response)."""
        if self.status in (self.Status.RESOLVED, self.Status.CLOSED) or self.on_hold:
            return False
        now = now or timezone.now()
        return self.resolution_due < now or (
            self.first_responded_at is None and self.first_response_due < now
        )


class TicketPhoto(models.Model):
    """A photo the member attached, re-encoded without EXIF and kept privately."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.FileField(
        _("photo"), upload_to=ticket_photo_name, storage=ticket_photo_storage, max_length=100
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("ticket photo")
        verbose_name_plural = _("ticket photos")
        ordering = ["ticket", "position", "pk"]

    def __str__(self):
        return self.image.name


class TicketEvent(models.Model):
    """One thing that happened to a ticket, by whom and when (append-only)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Submitted")
        CLAIMED = "claimed", _("Claimed")
        ASSIGNED = "assigned", _("Assigned")
        STEP = "step", _("Processing step")
        CALLBACK = "callback", _("Call-back")
        NOTE = "note", _("Internal note")
        HELD = "held", _("On hold")
        RESUMED = "resumed", _("Resumed")
        RESOLVED = "resolved", _("Resolved")
        REOPENED = "reopened", _("Reopened")
        CLOSED = "closed", _("Closed")
        RATED = "rated", _("Rated")
        COMPENSATED = "compensated", _("Compensated")
        REMINDED = "reminded", _("Reminder sent")
        ESCALATED = "escalated", _("Escalated")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        CALL_BACK_LATER = "call_back_later", _("Call back later")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the member or the system"),
    )
    public = models.BooleanField(_("shown to the member"), default=True)
    text = models.TextField(_("text"), max_length=2000, blank=True)
    callback_at = models.DateTimeField(_("called at"), null=True, blank=True)
    callback_outcome = models.CharField(
        _("call outcome"), max_length=16, choices=Outcome.choices, blank=True
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_event_idx")]

    def __str__(self):
        return f"{self.ticket_id} {self.kind}"


class Rating(models.Model):
    """The member's rating of a resolved ticket's handling (反馈评价)."""

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="rating"
    )
    stars = models.PositiveSmallIntegerField(
        _("stars"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    tags = models.ManyToManyField(RatingTag, verbose_name=_("tags"), blank=True)
    comment = models.TextField(_("comment"), max_length=500, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars"),
        ]

    def __str__(self):
        return f"{self.ticket_id}: {self.stars}"


class Compensation(models.Model):
    """Points or a coupon granted to the member on a ticket (补偿)."""

    class Kind(models.TextChoices):
        POINTS = "points", _("Points")
        COUPON = "coupon", _("Coupon")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="compensations"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    points = models.PositiveIntegerField(_("points"), default=0)
    coupon = models.ForeignKey(
        "coupons.Coupon",
        verbose_name=_("coupon"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    value_fen = models.BigIntegerField(_("value (fen)"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="points", points__gt=0, coupon__isnull=True)
                | Q(kind="coupon", points=0, coupon__isnull=False),
                name="compensation_points_or_coupon",
            ),
            models.CheckConstraint(condition=Q(value_fen__gte=0), name="compensation_value"),
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.kind}"


class TicketCounter(models.Model):
    """The last ticket number used on a Shanghai date (one upsert per ticket, race-free)."""

    day = models.DateField(_("date"), unique=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket counter")
        verbose_name_plural = _("ticket counters")

    def __str__(self):
        return f"{self.day}: {self.last}"
