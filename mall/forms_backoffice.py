"""Staff forms of the points mall: goods and their pictures, categories, stock changes, the
redemption list's filters, the actions on a redemption and the desk (兑换核销)."""

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.photos import PhotoRejected
from core.widgets import IsoDateInput
from coupons.models import CouponTemplate
from mall.desk import desk_goods, desk_member
from mall.goods_admin import IMAGES_MAX, goods_image_clean
from mall.models import Goods, GoodsCategory, Redemption
from mall.redeeming import QTY_MAX
from stores.models import Category, Division, Store
from stores.scoping import scoped

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """The files chosen in one multiple input, as a list (checked by the form's clean_images)."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        return [upload for upload in uploads if upload and getattr(upload, "size", 0)]


def interest_choices(categories) -> list:
    """stores.Category as grouped checkboxes: one group per department (division · name),
    the department itself first (its purchases include its categories'), then its
    categories; categories of neither kind last."""
    divisions = dict(Division.choices)
    order = {value: i for i, value in enumerate(divisions)}
    every = list(categories)
    children: dict[int, list] = {}
    for category in every:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category)
    roots = sorted(
        (c for c in every if not c.parent_id),
        key=lambda c: (order.get(c.division, len(order)), c.code),
    )
    groups, placed = [], set()
    for root in roots:
        division = str(divisions.get(root.division, root.division))
        label = root.name if division == root.name else f"{division} · {root.name}"
        options = [(root.pk, _("%(name)s (whole department)") % {"name": root.name})]
        options += [(c.pk, c.name) for c in sorted(children.get(root.pk, []), key=lambda c: c.code)]
        placed.update(pk for pk, _label in options)
        groups.append((label, options))
    rest = [(c.pk, c.name) for c in sorted(every, key=lambda c: c.code) if c.pk not in placed]
    if rest:
        groups.append((_("Other categories"), rest))
    return groups


class GoodsForm(forms.ModelForm):
    """积分商城商品: the good's details; the price in yuan, pictures added, reordered or removed.
    The opening stock only when creating: later changes are stock adjustments."""

    market_price = forms.DecimalField(
        label=_("Market price (yuan)"),
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        decimal_places=2,
        initial=Decimal("0"),
    )
    stock = forms.IntegerField(label=_("Opening stock"), min_value=0, max_value=10**6, initial=0)
    images = MultipleImageField(
        label=_("Add pictures"),
        required=False,
        help_text=_("JPEG or PNG, up to 6 pictures in all; the first is the cover."),
        widget=MultipleImageInput(attrs={"accept": "image/*"}),
    )

    field_order = [
        "name",
        "category",
        "kind",
        "coupon_template",
        "market_price",
        "points_price",
        "stock",
        "per_member_limit",
        "shelf_from",
        "shelf_until",
    ]

    class Meta:
        model = Goods
        fields = [
            "name",
            "category",
            "kind",
            "coupon_template",
            "points_price",
            "per_member_limit",
            "shelf_from",
            "shelf_until",
            "offers_pickup",
            "offers_express",
            "pickup_stores",
            "pickup_note",
            "redemption_notes",
            "interest_categories",
            "is_active",
            "position",
        ]
        widgets = {
            "shelf_from": DateTimeLocalInput(),
            "shelf_until": DateTimeLocalInput(),
            "pickup_stores": forms.CheckboxSelectMultiple,
            "redemption_notes": forms.Textarea(attrs={"rows": 4}),
        }
        field_classes = {"shelf_from": forms.DateTimeField, "shelf_until": forms.DateTimeField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        if not creating:
            del self.fields["stock"]
            self.initial["market_price"] = Decimal(self.instance.market_price_fen) / 100
        for name in ("shelf_from", "shelf_until"):
            self.fields[name].input_formats = DATETIME_FORMATS
        self.fields["category"].queryset = GoodsCategory.objects.order_by("position", "pk")
        self.fields["coupon_template"].queryset = CouponTemplate.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.coupon_template_id)
        ).order_by("name")
        self.fields["coupon_template"].help_text = _("Only for coupon goods.")
        self.fields["pickup_stores"].queryset = Store.objects.filter(is_active=True).order_by(
            "code"
        )
        interests = self.fields["interest_categories"]
        interests.queryset = Category.objects.select_related("parent")
        interests.choices = interest_choices(interests.queryset)
        interests.widget = forms.CheckboxSelectMultiple(choices=interests.choices)
        interests.label = _("Recommend to shoppers of")
        interests.help_text = _(
            "Optional. Recommended for you on the member card shows this good first to "
            "members who bought in these categories over the last 12 months; a whole "
            "department covers all its categories."
        )
        self.fields["points_price"].validators.append(MinValueValidator(1))
        self.fields["points_price"].widget.attrs["min"] = 1
        self.existing_images = list(self.instance.images.all()) if not creating else []
        for image in self.existing_images:
            self.fields[f"image_{image.pk}_position"] = forms.IntegerField(
                label=_("Position"), min_value=0, max_value=99, initial=image.position
            )
            self.fields[f"image_{image.pk}_delete"] = forms.BooleanField(
                label=_("Remove"), required=False
            )
        self.image_files: list = []

    def image_rows(self):
        return [
            (image, self[f"image_{image.pk}_position"], self[f"image_{image.pk}_delete"])
            for image in self.existing_images
        ]

    def clean_images(self):
        uploads = self.cleaned_data["images"]
        if len(uploads) > IMAGES_MAX:
            raise forms.ValidationError(
                _("At most %(count)s pictures, you chose %(chosen)s."),
                params={"count": IMAGES_MAX, "chosen": len(uploads)},
            )
        cleaned, errors = [], []
        for upload in uploads:
            try:
                cleaned.append(goods_image_clean(upload))
            except PhotoRejected as exc:
                errors.append(
                    forms.ValidationError(
                        _("%(file)s: %(reason)s"),
                        params={"file": upload.name, "reason": exc.message},
                    )
                )
        if errors:
            raise forms.ValidationError(errors)
        self.image_files = cleaned
        return cleaned

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Goods.Kind.COUPON:
            if not data.get("coupon_template"):
                self.add_error("coupon_template", _("A coupon good needs a coupon template."))
            if data.get("offers_pickup") or data.get("offers_express"):
                self.add_error(
                    "offers_pickup", _("A coupon goes to the member's card: no pickup or express.")
                )
        elif kind == Goods.Kind.THING:
            if data.get("coupon_template"):
                self.add_error("coupon_template", _("Only coupon goods have a coupon template."))
            if not (data.get("offers_pickup") or data.get("offers_express")):
                self.add_error("offers_pickup", _("Offer pickup, express delivery or both."))
            if data.get("offers_pickup") and not data.get("pickup_stores"):
                self.add_error("pickup_stores", _("Choose the stores where it can be picked up."))
        start, end = data.get("shelf_from"), data.get("shelf_until")
        if start and end and end <= start:
            self.add_error("shelf_until", _("The shelf end must be after its start."))
        removed = sum(1 for image in self.existing_images if data.get(f"image_{image.pk}_delete"))
        total = len(self.existing_images) - removed + len(self.image_files)
        if total > IMAGES_MAX:
            self.add_error(
                "images",
                forms.ValidationError(
                    _("At most %(count)s pictures in all."), params={"count": IMAGES_MAX}
                ),
            )
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {
            name: data.get(name)
            for name in self.Meta.fields
            if name not in ("pickup_stores", "interest_categories")
        }
        fields["market_price_fen"] = int(data["market_price"] * 100)
        fields["per_member_limit"] = data.get("per_member_limit") or 0
        fields["position"] = data.get("position") or 0
        return fields

    def images_remove(self) -> list[int]:
        return [i.pk for i in self.existing_images if self.cleaned_data.get(f"image_{i.pk}_delete")]

    def image_order(self) -> dict[int, int]:
        return {i.pk: self.cleaned_data[f"image_{i.pk}_position"] for i in self.existing_images}


class GoodsFilterForm(forms.Form):
    q = forms.CharField(label=_("Goods name"), required=False, max_length=64)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=GoodsCategory.objects.none(),
        required=False,
        empty_label=_("All"),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *Goods.Kind.choices]
    )
    shelf = forms.ChoiceField(
        label=_("Shelf"),
        required=False,
        choices=[("", _("All")), ("on", _("On the shelf")), ("off", _("Off the shelf"))],
    )
    low_stock = forms.BooleanField(label=_("Low stock only"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = GoodsCategory.objects.order_by("position", "pk")


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(
        label=_("Change"),
        min_value=-(10**6),
        max_value=10**6,
        help_text=_("Positive to restock, negative to take items off."),
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=200)

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(_("Enter a whole number of items other than 0."))
        return delta


class CategoryForm(forms.ModelForm):
    class Meta:
        model = GoodsCategory
        fields = ["name", "position", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["maxlength"] = 32

    def validate_unique(self):
        pass  # the service says it in words (a category of that name exists already)


class RedemptionFilterForm(forms.Form):
    q = forms.CharField(label=_("Pickup code, card number or phone"), required=False, max_length=32)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Redemption.Status.choices]
    )
    delivery = forms.ChoiceField(
        label=_("Delivery"),
        required=False,
        choices=[("", _("All")), *Redemption.Delivery.choices],
    )
    store = forms.ModelChoiceField(
        label=_("Pickup store"), queryset=Store.objects.none(), required=False, empty_label=_("All")
    )
    start = forms.DateField(label=_("From"), required=False, widget=IsoDateInput())
    end = forms.DateField(label=_("To"), required=False, widget=IsoDateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = scoped(
            Store.objects.all(), user=user, store_field=""
        ).order_by("code")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date must not be before the start date."))
        return data


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=32)
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=64)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Cancellation reason"),
        max_length=200,
        help_text=_("The member reads it; their points and the stock go back."),
    )


class EmptyForm(forms.Form):
    pass


class DeskCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )


class DeskRecordForm(forms.Form):
    """A redemption the desk records on a member's behalf (the member is at the desk)."""

    member = forms.CharField(label=_("Card number or phone"), max_length=40)
    goods = forms.ModelChoiceField(
        label=_("Goods"), queryset=Goods.objects.none(), empty_label=_("Choose goods")
    )
    qty = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=QTY_MAX, initial=1)
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), empty_label=None
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goods"].queryset = desk_goods(user=user)
        self.fields["goods"].label_from_instance = lambda g: (
            _("%(name)s · %(points)s points · %(stock)s left")
            % {"name": g.name, "points": g.points_price, "stock": g.stock}
        )
        self.fields["store"].queryset = scoped(
            Store.objects.filter(is_active=True), user=user, store_field=""
        ).order_by("code")
        self.found_member = None

    def clean_member(self):
        member = desk_member(self.cleaned_data["member"])
        if member is None:
            raise forms.ValidationError(_("No active member with this card number or phone."))
        self.found_member = member
        return self.cleaned_data["member"]
