from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member


class LifecycleStage(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("lifecycle stage", "Active")
    SILENT = "silent", pgettext_lazy("lifecycle stage", "Silent")
    DORMANT = "dormant", pgettext_lazy("lifecycle stage", "Dormant")
    LOST = "lost", pgettext_lazy("lifecycle stage", "Lost")


class RfmPreset(models.Model):
    """A named set of the eight class labels (the deck's, the common alternative, or staff's)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        verbose_name = _("RFM class naming")
        verbose_name_plural = _("RFM class namings")
        ordering = ["id"]

    def __str__(self):
        return self.name

    def mapping(self) -> dict[tuple[bool, bool, bool], str]:
        """(r_short, f_high, m_high) → label, as analytics.rfm.classify takes it."""
        return {(c.r_short, c.f_high, c.m_high): c.label for c in self.classes.all()}


class RfmClass(models.Model):
    """One of the eight R short/long × F high/low × M high/low combinations and its label."""

    preset = models.ForeignKey(
        RfmPreset, verbose_name=_("naming"), on_delete=models.CASCADE, related_name="classes"
    )
    r_short = models.BooleanField(_("recency short"))
    f_high = models.BooleanField(_("frequency high"))
    m_high = models.BooleanField(_("monetary high"))
    label = models.CharField(_("class"), max_length=32)
    action = models.TextField(_("recommended action"), blank=True)

    class Meta:
        verbose_name = _("RFM class")
        verbose_name_plural = _("RFM classes")
        ordering = ["preset", "-m_high", "-r_short", "-f_high"]
        constraints = [
            models.UniqueConstraint(
                fields=["preset", "r_short", "f_high", "m_high"], name="rfm_class_one_per_cell"
            ),
            models.UniqueConstraint(fields=["preset", "label"], name="rfm_class_label_unique"),
        ]

    def __str__(self):
        return self.label


class RfmSettings(models.Model):
    """How the nightly RFM snapshot is built (one row, edited in the admin)."""

    class CutMethod(models.TextChoices):
        MEAN = "mean", _("Mean over the members in the snapshot")
        MEDIAN = "median", _("Median over the members in the snapshot")
        FIXED = "fixed", _("Fixed values")

    window_days = models.PositiveIntegerField(_("window (days)"), default=365)
    cut_method = models.CharField(
        _("high/low cut"), max_length=8, choices=CutMethod.choices, default=CutMethod.MEAN
    )
    fixed_recency_days = models.PositiveIntegerField(
        _("fixed recency cut (days)"),
        null=True,
        blank=True,
        help_text=_("Short R is strictly below this many days."),
    )
    fixed_frequency = models.PositiveIntegerField(
        _("fixed frequency cut"),
        null=True,
        blank=True,
        help_text=_("High F is strictly above this many purchases."),
    )
    fixed_monetary_fen = models.BigIntegerField(
        _("fixed monetary cut (fen)"),
        null=True,
        blank=True,
        help_text=_("High M is strictly above this amount."),
    )
    preset = models.ForeignKey(
        RfmPreset,
        verbose_name=_("class naming in use"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    lifecycle_percentile_silent = models.PositiveSmallIntegerField(
        _("silent from percentile"),
        default=50,
        help_text=_("Percentile of repurchase intervals from which a member is silent."),
    )
    lifecycle_percentile_dormant = models.PositiveSmallIntegerField(
        _("dormant from percentile"), default=80
    )
    lifecycle_percentile_lost = models.PositiveSmallIntegerField(
        _("lost from percentile"), default=95
    )

    class Meta:
        verbose_name = _("RFM settings")
        verbose_name_plural = _("RFM settings")
        constraints = [
            models.CheckConstraint(condition=Q(window_days__gte=1), name="rfm_window_positive"),
            models.CheckConstraint(
                condition=~Q(cut_method="fixed")
                | Q(
                    fixed_recency_days__isnull=False,
                    fixed_frequency__isnull=False,
                    fixed_monetary_fen__isnull=False,
                ),
                name="rfm_fixed_cut_has_values",
            ),
            models.CheckConstraint(
                condition=Q(
                    lifecycle_percentile_silent__gt=0,
                    lifecycle_percentile_silent__lt=models.F("lifecycle_percentile_dormant"),
                    lifecycle_percentile_dormant__lt=models.F("lifecycle_percentile_lost"),
                    lifecycle_percentile_lost__lte=100,
                ),
                name="rfm_lifecycle_percentiles_ordered",
            ),
        ]

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "RfmSettings":
        settings = cls.objects.filter(pk=1).first()
        if settings is None:  # emptied (a test's flush): the migration's defaults again
            from django.apps import apps

            from analytics.defaults import rfm_defaults_install

            rfm_defaults_install(apps)
            settings = cls.objects.get(pk=1)
        return settings


class RfmSnapshot(models.Model):
    """One dated RFM run; exactly one finished snapshot is current."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    as_of = models.DateField(_("as of"))
    window_days = models.PositiveIntegerField(_("window (days)"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    row_count = models.PositiveIntegerField(_("members"), default=0)
    is_current = models.BooleanField(_("current"), default=False)
    cut_method = models.CharField(_("high/low cut"), max_length=8)
    recency_cut = models.FloatField(_("recency cut (days)"), null=True)
    frequency_cut = models.FloatField(_("frequency cut"), null=True)
    monetary_cut = models.FloatField(_("monetary cut (fen)"), null=True)
    preset = models.ForeignKey(
        RfmPreset, verbose_name=_("class naming"), on_delete=models.PROTECT, related_name="+"
    )
    lifecycle_cuts = models.JSONField(
        _("lifecycle cuts (days)"),
        default=list,
        help_text=_("Recency from which a member is silent, dormant and lost."),
    )
    interval_histogram = models.JSONField(
        _("repurchase intervals"),
        default=list,
        help_text=_("[days, count] of the gaps between members' purchase days (366: longer)."),
    )
    error = models.TextField(_("error"), blank=True)
    # moved on from the previous night's running state (RfmState), not a scan of the window
    from_state = models.BooleanField(_("from the running state"), default=False)

    class Meta:
        verbose_name = _("RFM snapshot")
        verbose_name_plural = _("RFM snapshots")
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="rfm_one_current"
            ),
            models.CheckConstraint(
                condition=Q(is_current=False) | Q(status="done"), name="rfm_current_is_done"
            ),
        ]

    def __str__(self):
        return f"RFM {self.as_of} ({self.window_days}d)"


class RfmRow(models.Model):
    """One member's R, F, M, scores, flags, class and lifecycle stage in one snapshot."""

    # No foreign keys in the database (db_constraint=False) for the nightly runs' rows: a run
    # writes a million rows at once and Postgres checks and key-share-locks each row's keys one
    # by one at commit (7 s of a 26 s RFM run at 1M members, bench/rfm_bench.py). The rows
    # come from receipts, whose member key is enforced, in the transaction that creates their
    # snapshot or run; members are anonymised, never deleted; Django still cascades deletes.
    snapshot = models.ForeignKey(
        RfmSnapshot,
        verbose_name=_("snapshot"),
        on_delete=models.CASCADE,
        related_name="rows",
        db_constraint=False,
        db_index=False,  # the unique (snapshot, member) serves
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="rfm_rows",
        db_constraint=False,
    )
    recency_days = models.IntegerField(_("recency (days)"))
    frequency = models.IntegerField(_("frequency"))
    monetary_fen = models.BigIntegerField(_("monetary (fen)"))
    r_score = models.PositiveSmallIntegerField(_("R score"))
    f_score = models.PositiveSmallIntegerField(_("F score"))
    m_score = models.PositiveSmallIntegerField(_("M score"))
    r_short = models.BooleanField(_("recency short"))
    f_high = models.BooleanField(_("frequency high"))
    m_high = models.BooleanField(_("monetary high"))
    rfm_class = models.CharField(_("class"), max_length=32)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=8, choices=LifecycleStage.choices, blank=True
    )

    class Meta:
        verbose_name = _("RFM row")
        verbose_name_plural = _("RFM rows")
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "member"], name="rfm_row_one_per_member"),
            models.CheckConstraint(
                condition=Q(r_score__range=(1, 5), f_score__range=(1, 5), m_score__range=(1, 5)),
                name="rfm_row_scores_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["snapshot", "rfm_class"]),
            # the member list sorted by spend or by last purchase (keyset pages)
            models.Index(
                fields=["snapshot", "monetary_fen", "member"], name="rfm_row_spend_keyset"
            ),
            models.Index(
                fields=["snapshot", "recency_days", "member"], name="rfm_row_recency_keyset"
            ),
            models.Index(fields=["snapshot", "lifecycle_stage"], name="rfm_row_stage"),
        ]

    def __str__(self):
        return f"{self.snapshot_id}/{self.member_id}"


class LifecycleChange(models.Model):
    """A member whose stage differs from the previous snapshot's (new members: from blank)."""

    # no database foreign keys: see RfmRow
    snapshot = models.ForeignKey(
        RfmSnapshot,
        verbose_name=_("snapshot"),
        on_delete=models.CASCADE,
        related_name="lifecycle_changes",
        db_constraint=False,
        db_index=False,  # the unique (snapshot, member) serves
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    from_stage = models.CharField(_("from stage"), max_length=8, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("lifecycle change")
        verbose_name_plural = _("lifecycle changes")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "member"], name="lifecycle_change_one_per_member"
            )
        ]

    def __str__(self):
        return f"{self.from_stage} → {self.to_stage}"


# --- The RFM window's running state, analytics/rfm_state.py ------------------------------


class RfmState(models.Model):
    """What the window's per-member state (RfmStateRow) is valid for: the receipts with an id up
    to `receipt_watermark` that occurred in the `window_days` days to `as_of` (Shanghai
    dates). At most one; the nightly run moves it a day on instead of scanning the year."""

    as_of = models.DateField(_("as of"))
    window_days = models.PositiveIntegerField(_("window (days)"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    receipt_watermark = models.BigIntegerField(_("receipt watermark"))
    built_at = models.DateTimeField(_("built at"), default=timezone.now)

    class Meta:
        verbose_name = _("RFM running state")
        verbose_name_plural = _("RFM running states")

    def __str__(self):
        return f"RFM state {self.as_of} ({self.window_days}d, receipts to {self.receipt_watermark})"


class RfmStateRow(models.Model):
    """A member's sale count, net spend and purchase days in the state's window. The purchase
    days are a ring of bits: day n (days since 2000-01-01) is bit n mod (64 × words)."""

    # no database foreign key: see RfmRow
    member = models.OneToOneField(
        Member,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        db_constraint=False,
    )
    frequency = models.IntegerField(_("frequency"))
    monetary_fen = models.BigIntegerField(_("monetary (fen)"))
    day_bits = ArrayField(models.BigIntegerField(), verbose_name=_("purchase days"))

    class Meta:
        verbose_name = _("RFM state row")
        verbose_name_plural = _("RFM state rows")

    def __str__(self):
        return str(self.member_id)


class RfmReceiptChange(models.Model):
    """A member whose receipts changed after they were recorded (a claim gave a receipt its
    member, a claimed receipt got the till's figures): written by a trigger on loyalty_receipt,
    read and emptied by the next RFM run, which recomputes those members' state rows."""

    member_id = models.BigIntegerField(_("member"))

    class Meta:
        verbose_name = _("RFM receipt change")
        verbose_name_plural = _("RFM receipt changes")

    def __str__(self):
        return str(self.member_id)


# --- Predicted value (CLV): BG/NBD + Gamma-Gamma runs, analytics/predicted_value.py --------


class ClvRun(models.Model):
    """One fit of BG/NBD and Gamma-Gamma on every member's purchase days up to `as_of`. Its
    scores are written aside; the run becomes current only once they are all in."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # BG/NBD, time unit days
    r = models.FloatField(null=True, blank=True)
    alpha = models.FloatField(null=True, blank=True)
    a = models.FloatField(null=True, blank=True)
    b = models.FloatField(null=True, blank=True)
    # Gamma-Gamma, spend in fen
    p = models.FloatField(null=True, blank=True)
    q = models.FloatField(null=True, blank=True)
    v = models.FloatField(null=True, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    error = models.TextField(_("error"), blank=True)
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        verbose_name = _("predicted value run")
        verbose_name_plural = _("predicted value runs")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="clv_run_one_current"
            ),
            models.CheckConstraint(
                condition=Q(is_current=False) | Q(status="done"), name="clv_run_current_is_done"
            ),
        ]

    def __str__(self):
        return f"CLV {self.as_of} ({self.get_status_display()})"


class ClvScore(models.Model):
    """A member's summary and predictions in one run (DESIGN.md's `clv_run` definitions)."""

    # no database foreign keys: see RfmRow
    run = models.ForeignKey(
        ClvRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="scores",
        db_constraint=False,
        db_index=False,  # the unique (run, member) serves
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="clv_scores",
        db_constraint=False,
        db_index=False,  # the index (member, run) serves
    )
    frequency = models.PositiveIntegerField(_("repeat purchase days"))
    recency_days = models.PositiveIntegerField(_("last minus first purchase day"))
    t_days = models.PositiveIntegerField(_("days since first purchase"))
    # Mean sales of the repeat purchase days (the first day excluded), 0 without one
    monetary_fen = models.BigIntegerField(_("average repeat spend (fen)"))
    p_alive = models.FloatField(_("probability active"))
    expected_purchases_90d = models.FloatField(_("expected purchase days, next 90 days"))
    expected_value_fen = models.BigIntegerField(_("expected value, next 365 days (fen)"))

    class Meta:
        verbose_name = _("predicted value")
        verbose_name_plural = _("predicted values")
        constraints = [
            models.UniqueConstraint(fields=["run", "member"], name="clv_score_run_member"),
            models.CheckConstraint(
                condition=Q(recency_days__lte=models.F("t_days")), name="clv_score_recency_le_t"
            ),
        ]
        indexes = [
            models.Index(fields=["member", "run"], name="clv_score_member_run"),
            # the member list sorted by predicted value (keyset pages)
            models.Index(
                fields=["run", "expected_value_fen", "member"], name="clv_score_value_keyset"
            ),
        ]

    def __str__(self):
        return f"{self.member_id} @ {self.run_id}"


# --- Groups and tags (建立分组): analytics/segments.py filters, analytics/groups.py ----------


class Tag(models.Model):
    """A label on members: put on by hand, or by a rule (a member filter) recomputed nightly."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Manual")
        RULE = "rule", _("Rule-based")

    name = models.CharField(_("name"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.MANUAL)
    # For rule tags: the member filter's parameters (analytics/segments.py), as a group keeps them
    rule = models.JSONField(_("rule"), default=dict, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    recomputed_at = models.DateTimeField(_("recomputed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class MemberTag(models.Model):
    """A tag on a member, with who or what put it there."""

    tag = models.ForeignKey(
        Tag, verbose_name=_("tag"), on_delete=models.CASCADE, related_name="member_tags"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="tags"
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("tagged member")
        verbose_name_plural = _("tagged members")
        constraints = [
            models.UniqueConstraint(fields=["tag", "member"], name="member_tag_once"),
        ]
        indexes = [models.Index(fields=["member", "tag"], name="member_tag_member")]

    def __str__(self):
        return f"{self.tag_id}/{self.member_id}"


class MemberGroup(models.Model):
    """A saved set of members: a dynamic group re-evaluates its filter each time it is used;
    a static group is the members the filter gave when it was saved (GroupMember rows)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic (re-evaluated)")
        STATIC = "static", _("Static (snapshot)")

    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # The member filter's parameters (analytics/segments.py); for a static group, those it
    # was taken with
    params = models.JSONField(_("filter"), default=dict, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    member_count = models.PositiveIntegerField(_("members (last count)"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    # The data scope the count was taken in (analytics.groups.scope_key): a store manager's
    # count is not shown to HQ
    counted_scope = models.CharField(_("counted in scope"), max_length=64, blank=True)
    archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("member group")
        verbose_name_plural = _("member groups")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("export_members", _("Can export member lists (masked)")),
        ]

    def __str__(self):
        return self.name


class GroupMember(models.Model):
    """A member of a static group."""

    group = models.ForeignKey(
        MemberGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="members"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        constraints = [
            models.UniqueConstraint(fields=["group", "member"], name="group_member_once"),
        ]

    def __str__(self):
        return f"{self.group_id}/{self.member_id}"


# --- Actions on a group, measured with a control group: analytics/actions.py ----------------


class GroupAction(models.Model):
    """A send to a group (a coupon, an SMS, a message, a tag), run by a Celery job. Its
    audience and each member's arm are saved (GroupActionRecipient) before anything goes
    out; the control arm receives nothing and is measured the same way."""

    class Kind(models.TextChoices):
        COUPON = "coupon", _("Coupon")
        SMS = "sms", _("SMS")
        MESSAGE = "message", _("Message (inbox and WeChat)")
        TAG = "tag", _("Tag")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    group = models.ForeignKey(
        MemberGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="actions"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    coupon_template = models.ForeignKey(
        "coupons.CouponTemplate",
        verbose_name=_("coupon"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    campaign = models.ForeignKey(
        "coupons.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # An SMS action's text, or a coupon's optional SMS notice
    sms_text = models.CharField(_("SMS text"), max_length=300, blank=True)
    title = models.CharField(_("title"), max_length=64, blank=True)
    body = models.TextField(_("content"), max_length=2000, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    tag = models.ForeignKey(
        Tag,
        verbose_name=_("tag"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    control_percent = models.PositiveSmallIntegerField(_("control group (%)"), default=10)
    window_days = models.PositiveSmallIntegerField(_("conversion window (days)"), default=14)
    # What counts as converting: by default any sale; else a sale with a line matching one of
    # these exact lookups on receipt lines (e.g. [{"category_id": 12}]: bought a sun hat)
    conversion_lines = models.JSONField(_("conversion: bought"), default=list, blank=True)
    conversion_label = models.CharField(_("conversion"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    audience = models.PositiveIntegerField(_("audience"), default=0)
    treatment = models.PositiveIntegerField(_("treatment arm"), default=0)
    control = models.PositiveIntegerField(_("control arm"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    sent = models.PositiveIntegerField(_("sent"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    # While quiet hours hold SMS and messages back: when the job resumes
    deferred_until = models.DateTimeField(_("deferred until"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Conversion is counted from here, for both arms
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group action")
        verbose_name_plural = _("group actions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(control_percent__lte=50), name="group_action_control_at_most_half"
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=1, window_days__lte=90),
                name="group_action_window_1_90",
            ),
        ]

    def __str__(self):
        return self.name


class GroupActionRecipient(models.Model):
    """One member of an action's saved audience: the arm drawn for them, and what happened."""

    class Arm(models.TextChoices):
        TREATMENT = "treatment", _("Treatment")
        CONTROL = "control", _("Control")

    class Outcome(models.TextChoices):
        PENDING = "", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", pgettext_lazy("action outcome", "Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        HELD_BACK = "held_back", _("Held back (control)")

    class Reason(models.TextChoices):
        NONE = "", "—"
        OPTED_OUT = "opted_out", _("Opted out")
        FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")
        NO_PHONE = "no_phone", _("No phone number")
        NO_WECHAT = "no_wechat", _("No WeChat (inbox only)")
        COUPON_LIMIT = "coupon_limit", _("Coupon limit reached or none left")
        INACTIVE = "inactive", _("Member no longer active")
        GATEWAY = "gateway", _("Gateway error")
        INTERRUPTED = "interrupted", _("Interrupted while sending (not resent)")
        CONTROL = "control", _("Control group")

    class Notice(models.TextChoices):
        NONE = "", "—"
        SENDING = "sending", _("Sending")
        SENT = "sent", pgettext_lazy("action outcome", "Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: opted out or no phone")
        INTERRUPTED = "interrupted", _("Interrupted while sending (not resent)")

    action = models.ForeignKey(
        GroupAction, verbose_name=_("action"), on_delete=models.CASCADE, related_name="recipients"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    arm = models.CharField(_("arm"), max_length=9, choices=Arm.choices)
    outcome = models.CharField(
        _("outcome"), max_length=9, choices=Outcome.choices, default=Outcome.PENDING, blank=True
    )
    reason = models.CharField(
        _("reason"), max_length=16, choices=Reason.choices, default=Reason.NONE, blank=True
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    # A coupon's optional SMS notice ("您的{coupon_name}已到账"): how it went
    notice = models.CharField(
        _("SMS notice"), max_length=11, choices=Notice.choices, default=Notice.NONE, blank=True
    )
    # The action's kind, copied so the frequency cap counts touches with one index scan
    kind = models.CharField(_("kind"), max_length=8, choices=GroupAction.Kind.choices)
    at = models.DateTimeField(_("at"), null=True, blank=True)

    class Meta:
        verbose_name = _("action recipient")
        verbose_name_plural = _("action recipients")
        constraints = [
            models.UniqueConstraint(fields=["action", "member"], name="group_action_member_once"),
        ]
        indexes = [
            models.Index(
                fields=["action", "member"],
                condition=Q(outcome=""),
                name="group_action_pending",
            ),
            models.Index(
                fields=["member", "at"],
                condition=Q(outcome="sent"),
                name="group_action_touches",
            ),
        ]

    def __str__(self):
        return f"{self.action_id}/{self.member_id} {self.arm}"
