from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member, Store


class Division(models.TextChoices):
    SUPERMARKET = "supermarket", _("Supermarket")
    DEPARTMENT = "department", _("Department store")


class Category(models.Model):
    """Merchandise category; the division decides points rules and the member's record tabs."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    division = models.CharField(_("division"), max_length=16, choices=Division.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="category_name_unique"),
        ]

    def __str__(self):
        return self.name


class Sku(models.Model):
    code = models.CharField(_("SKU code"), max_length=32, unique=True, help_text=_("Barcode"))
    name = models.CharField(_("name"), max_length=128)
    spec = models.CharField(_("specification"), max_length=64, blank=True)
    brand = models.ForeignKey(
        "mall.Brand",
        verbose_name=_("brand"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="skus",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="skus",
    )
    price_fen = models.BigIntegerField(_("price (fen)"), default=0)
    non_merchandise = models.BooleanField(
        _("non-merchandise"), default=False, help_text=_("Bags, parking, gift wrap…")
    )

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="sku_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} {self.spec}".strip()


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
        "mall.Brand",
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
