"""The tills: terminals allowed to call the POS API, each signing its requests with its secret.

The table keeps the name it had in loyalty, where the model lived before.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stores.models import Store


class PosTerminal(models.Model):
    """A till allowed to call the POS API; it signs every request with its secret."""

    terminal_id = models.CharField(_("terminal ID"), max_length=32, unique=True)
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="pos_terminals"
    )
    name = models.CharField(_("name"), max_length=64)
    # The HMAC key is shared with the till, so it must be readable here: shown once at creation.
    secret = models.CharField(_("secret"), max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last request"), null=True, blank=True)

    class Meta:
        db_table = "loyalty_posterminal"
        verbose_name = _("POS terminal")
        verbose_name_plural = _("POS terminals")
        ordering = ["store", "name"]

    def __str__(self):
        return f"{self.terminal_id} {self.name}"
