"""The mall's master data: regions, stores, floors and their shops, brands, divisions,
categories and SKUs. Every other app builds on these; this one imports none of them.

The tables keep the names they had in the apps these models came from (members, mall,
loyalty): the move changed where the code lives, not the database.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(r"^[A-Z0-9]{1,16}$", _("Use capital letters and digits only."))


class Region(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        db_table = "members_region"
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Store(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=64)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="stores"
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("service phone"), max_length=32, blank=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "members_store"
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


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
        db_table = "loyalty_category"
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
        "Brand",
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
        db_table = "loyalty_sku"
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="sku_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} {self.spec}".strip()


class Floor(models.Model):
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="floors"
    )
    code = models.CharField(_("code"), max_length=8, help_text=_("As signposted: B1, 1F, 2F…"))
    name = models.CharField(_("name"), max_length=64, help_text=_("Main trade, e.g. women's wear"))
    order = models.SmallIntegerField(_("order"), help_text=_("Bottom to top; B1 is -1."))
    description = models.TextField(_("description"), blank=True)
    plan = models.ImageField(
        _("floor plan"),
        upload_to="floors/",
        blank=True,
        help_text=_("An image of the floor plan; without one the plan is drawn from the shops."),
    )
    plan_aspect = models.PositiveSmallIntegerField(
        _("plan height per 1000 width"),
        default=600,
        help_text=_("The plan's height for a width of 1000, e.g. 600 for a 5:3 plan."),
    )
    categories = models.ManyToManyField(
        Category,
        verbose_name=_("main categories"),
        related_name="floors",
        blank=True,
    )

    class Meta:
        db_table = "mall_floor"
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
        "Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="brands",
    )
    logo = models.ImageField(_("logo"), upload_to="brands/", blank=True)
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        db_table = "mall_brand"
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
    # The shop's rectangle on the floor plan, in per-mille of the plan's width (x, w) and of
    # 1000 plan units (y, h; the plan is 1000 × plan_aspect units). NULL: not placed yet.
    x = models.PositiveSmallIntegerField(_("left"), null=True, blank=True)
    y = models.PositiveSmallIntegerField(_("top"), null=True, blank=True)
    w = models.PositiveSmallIntegerField(_("width"), null=True, blank=True)
    h = models.PositiveSmallIntegerField(_("height"), null=True, blank=True)

    class Meta:
        db_table = "mall_shop"
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        ordering = ["floor", "unit_no"]
        constraints = [
            models.UniqueConstraint(fields=["floor", "unit_no"], name="shop_unit_unique_on_floor"),
            models.CheckConstraint(
                condition=Q(x__isnull=True, y__isnull=True, w__isnull=True, h__isnull=True)
                | Q(x__isnull=False, y__isnull=False, w__gt=0, h__gt=0),
                name="shop_rect_complete",
            ),
        ]

    def __str__(self):
        return f"{self.unit_no} {self.brand}"


class FloorMarker(models.Model):
    """A point on a floor plan: a shop number, an exit, a cashier, toilets, a lift, a safety
    sign … Coordinates as the shops': x in per-mille of the width, y in plan units
    (0 … plan_aspect)."""

    class Kind(models.TextChoices):
        SHOP = "shop", _("Shop")
        EXIT = "exit", _("Exit")
        CASHIER = "cashier", _("Cashier")
        TOILET = "toilet", _("Toilets")
        LIFT = "lift", _("Lift")
        ESCALATOR = "escalator", _("Escalator")
        SERVICE_DESK = "service_desk", _("Service desk")
        SAFETY = "safety", _("Safety sign")
        FIRE_EXIT = "fire_exit", _("Emergency exit")
        EXTINGUISHER = "extinguisher", _("Fire extinguisher")

    floor = models.ForeignKey(
        Floor, verbose_name=_("floor"), on_delete=models.CASCADE, related_name="markers"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    label = models.CharField(_("label"), max_length=32, blank=True)
    shop = models.ForeignKey(
        Shop,
        verbose_name=_("shop"),
        on_delete=models.CASCADE,
        related_name="markers",
        null=True,
        blank=True,
    )
    x = models.PositiveSmallIntegerField(_("x"))
    y = models.PositiveSmallIntegerField(_("y"))

    class Meta:
        db_table = "mall_floormarker"
        verbose_name = _("floor marker")
        verbose_name_plural = _("floor markers")
        ordering = ["floor", "kind", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(x__lte=1000), name="marker_x_on_plan"),
            models.CheckConstraint(
                condition=~Q(kind="shop") | Q(shop__isnull=False), name="marker_shop_has_shop"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.label}".strip()
