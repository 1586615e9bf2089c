from django.db import models
from django.utils.translation import gettext_lazy as _

from members.models import Store


class Floor(models.Model):
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="floors"
    )
    code = models.CharField(_("code"), max_length=8, help_text=_("As signposted: B1, 1F, 2F…"))
    name = models.CharField(_("name"), max_length=64, help_text=_("Main trade, e.g. women's wear"))
    order = models.SmallIntegerField(_("order"), help_text=_("Bottom to top; B1 is -1."))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("floor")
        verbose_name_plural = _("floors")
        ordering = ["store", "order"]
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="floor_code_unique_in_store"),
        ]

    def __str__(self):
        return f"{self.store.code} {self.code} {self.name}"


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)
    category = models.ForeignKey(
        "loyalty.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="brands",
    )
    logo = models.ImageField(_("logo"), upload_to="brands/", blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Shop(models.Model):
    """A brand's counter or shop on a floor; `unit_no` is the number on the floor plan."""

    floor = models.ForeignKey(
        Floor, verbose_name=_("floor"), on_delete=models.PROTECT, related_name="shops"
    )
    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="shops"
    )
    unit_no = models.CharField(_("unit number"), max_length=16)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("open"), default=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["floor", "unit_no"]
        constraints = [
            models.UniqueConstraint(fields=["floor", "unit_no"], name="shop_unit_unique_on_floor"),
        ]

    def __str__(self):
        return f"{self.unit_no} {self.brand}"
