from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import SingletonSettings
from stores.models import Store


class Level(models.TextChoices):
    SKU = "sku", _("SKU")
    BRAND = "brand", _("Brand")
    CATEGORY = "category", _("Category")


class Algorithm(models.TextChoices):
    FPGROWTH = "fpgrowth", "FP-growth"
    APRIORI = "apriori", "Apriori"


class MiningSettings(SingletonSettings):
    """The nightly run's parameters (one row, edited by staff)."""

    # categories by default: "people who buy a dress buy a sun hat" (SKUs split that signal)
    level = models.CharField(
        _("item level"), max_length=8, choices=Level.choices, default="category"
    )
    algorithm = models.CharField(
        _("algorithm"), max_length=8, choices=Algorithm.choices, default="fpgrowth"
    )
    window_days = models.PositiveIntegerField(_("window (days)"), default=365)
    min_support = models.FloatField(_("minimum support"), default=0.002)
    min_confidence = models.FloatField(_("minimum confidence"), default=0.2)
    min_lift = models.FloatField(_("minimum lift"), default=1.2)
    max_len = models.PositiveSmallIntegerField(_("longest itemset"), default=3)
    max_basket_items = models.PositiveSmallIntegerField(
        _("largest basket (distinct items)"),
        default=60,
        help_text=_("Larger baskets are left out: a few huge ones make mining explode."),
    )
    nightly_enabled = models.BooleanField(_("run nightly"), default=True)

    class Meta:
        verbose_name = _("mining settings")
        verbose_name_plural = _("mining settings")


class MiningRun(models.Model):
    """One mining of association rules: its parameters, what it saw, how it went, its rules."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly")
        STAFF = "staff", _("Back office")
        COMMAND = "command", _("Operator command")

    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(_("started by"), max_length=8, choices=Trigger.choices)
    engine = models.CharField(_("engine"), max_length=8, default="mlxtend")
    level = models.CharField(_("item level"), max_length=8, choices=Level.choices)
    algorithm = models.CharField(_("algorithm"), max_length=8, choices=Algorithm.choices)
    min_support = models.FloatField(_("minimum support"))
    min_confidence = models.FloatField(_("minimum confidence"))
    min_lift = models.FloatField(_("minimum lift"), default=0)
    max_len = models.PositiveSmallIntegerField(_("longest itemset"), null=True, blank=True)
    max_basket_items = models.PositiveSmallIntegerField(
        _("largest basket (distinct items)"), null=True, blank=True
    )
    keep_single_item_baskets = models.BooleanField(_("keep single-item baskets"), default=False)
    single_consequent = models.BooleanField(_("single-item consequents only"), default=True)
    since = models.DateField(_("from"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    store = models.ForeignKey(
        Store, verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT
    )
    # A member segment: the analytics member filter's parameters (gender, age band, tier…)
    segment = models.JSONField(_("segment"), default=dict, blank=True)
    segment_label = models.CharField(_("segment"), max_length=200, blank=True)

    basket_count = models.PositiveIntegerField(_("baskets"), null=True, blank=True)
    item_count = models.PositiveIntegerField(_("items"), null=True, blank=True)
    frequent_item_count = models.PositiveIntegerField(_("frequent items"), null=True, blank=True)
    itemset_count = models.PositiveIntegerField(_("frequent itemsets"), null=True, blank=True)
    rule_count = models.PositiveIntegerField(_("rules"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    peak_memory_bytes = models.BigIntegerField(_("peak memory (bytes)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The run the rule browser opens with: the newest good run over all members
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        verbose_name = _("mining run")
        verbose_name_plural = _("mining runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="mining_one_current"
            ),
            models.CheckConstraint(
                condition=Q(is_current=False) | Q(status="done"), name="mining_current_is_done"
            ),
            models.CheckConstraint(
                condition=Q(min_support__gt=0, min_support__lte=1)
                & Q(min_confidence__gte=0, min_confidence__lte=1),
                name="mining_thresholds_in_range",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_level_display()} {self.created_at:%Y-%m-%d %H:%M}"


class RunItem(models.Model):
    """An item a run found frequent: its code in the run's rules, key and display name."""

    run = models.ForeignKey(
        MiningRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.PositiveIntegerField(_("code"))
    key = models.CharField(_("item"), max_length=128)  # SKU code, brand or category as mined
    name = models.CharField(_("name"), max_length=128)
    basket_count = models.PositiveIntegerField(_("baskets"))

    class Meta:
        verbose_name = _("mined item")
        verbose_name_plural = _("mined items")
        constraints = [
            models.UniqueConstraint(fields=["run", "code"], name="mining_item_code_once"),
        ]

    def __str__(self):
        return self.name


class Rule(models.Model):
    """A → B with its counts and metrics (derived from the counts: mining/engines.py)."""

    run = models.ForeignKey(
        MiningRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="rules"
    )
    antecedents = ArrayField(models.IntegerField(), verbose_name=_("if bought"))
    consequents = ArrayField(models.IntegerField(), verbose_name=_("then also"))
    count = models.PositiveIntegerField(_("baskets with both"))
    antecedent_count = models.PositiveIntegerField(_("baskets with A"))
    consequent_count = models.PositiveIntegerField(_("baskets with B"))
    support = models.FloatField(_("support"))
    confidence = models.FloatField(_("confidence"))
    lift = models.FloatField(_("lift"))
    leverage = models.FloatField(_("leverage"))
    conviction = models.FloatField(_("conviction"), null=True, help_text=_("Empty: infinite."))

    class Meta:
        verbose_name = _("association rule")
        verbose_name_plural = _("association rules")
        indexes = [
            models.Index(fields=["run", "-lift"], name="mining_rule_run_lift"),
        ]

    def __str__(self):
        return f"{self.antecedents} → {self.consequents}"


class RuleCampaign(models.Model):
    """A → B made a campaign: B's coupon to members who bought A but not B lately, sent as an
    analytics group action with a control group; conversion is buying B."""

    run = models.ForeignKey(
        MiningRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="campaigns"
    )
    rule = models.ForeignKey(
        Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="campaigns"
    )
    action = models.OneToOneField(
        "analytics.GroupAction",
        verbose_name=_("group action"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    lookback_days = models.PositiveSmallIntegerField(_("bought A within (days)"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign from a rule")
        verbose_name_plural = _("campaigns from rules")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.rule} → {self.action_id}"
