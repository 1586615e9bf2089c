from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member

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

    run = models.ForeignKey(
        ClvRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="scores"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
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
        indexes = [models.Index(fields=["member", "run"], name="clv_score_member_run")]

    def __str__(self):
        return f"{self.member_id} @ {self.run_id}"
