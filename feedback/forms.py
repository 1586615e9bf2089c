"""Member forms of customer service (服务反馈, 服务评价, 再次反馈). Staff forms live in
feedback/forms_backoffice.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.once import TOKEN, once_token_new
from core.photos import PhotoRejected
from feedback.models import FeedbackSettings, RatingTag, TicketType
from feedback.photos import ticket_photo_clean
from stores.models import Brand, Shop, Store

DETAILS_MAX = 1000  # Ticket.details
COMMENT_MAX = 500  # Rating.comment
CONTACT_PHONE = r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$"  # a mobile, or a landline with its area code


class StoreTaggedSelect(forms.Select):
    """A select whose options say which stores they belong to (data-stores), so a few lines of
    script can show only the chosen store's; without script every option stays usable and
    the form checks the pair."""

    def __init__(self, *args, stores_of: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stores_of = stores_of or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        stores = self.stores_of.get(str(getattr(value, "value", value)))
        if stores:
            option["attrs"]["data-stores"] = " ".join(str(pk) for pk in sorted(stores))
        return option


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """The files chosen in one multiple input, as a list (checked by the form's clean_photos)."""

    widget = MultiplePhotoInput

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        return [upload for upload in uploads if upload and getattr(upload, "size", 0)]


def shop_label(shop: Shop) -> str:
    return f"{shop.floor.code} {shop.brand.name} {shop.unit_no}"


class MemberTicketForm(forms.Form):
    """服务反馈: what happened, where, the photos and how to reach the member. Photos are
    cleaned here (feedback/photos.py), so a refused one is named with its reason."""

    ticket_type = forms.ModelChoiceField(
        label=_("Type"),
        queryset=TicketType.objects.filter(is_active=True),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the type of feedback."),
            "invalid_choice": _(
                "This type of feedback is no longer offered. Please choose another."
            ),
        },
    )
    details = forms.CharField(
        label=_("Details"),
        max_length=DETAILS_MAX,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "class": "weui-textarea",
                "maxlength": DETAILS_MAX,
                "placeholder": _(
                    "What happened, when and where? The more we know, the faster we help."
                ),
            }
        ),
        error_messages={"required": _("Please describe the problem.")},
    )
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.filter(is_active=True),
        empty_label=None,
        widget=forms.Select(attrs={"class": "weui-select"}),
    )
    brand = forms.ModelChoiceField(
        label=_("Brand"),
        queryset=Brand.objects.none(),
        required=False,
        empty_label=_("Not about a brand"),
    )
    shop = forms.ModelChoiceField(
        label=_("Shop"),
        queryset=Shop.objects.none(),
        required=False,
        empty_label=_("Not about a shop"),
    )
    photos = MultiplePhotoField(
        label=_("Photos"),
        required=False,
        widget=MultiplePhotoInput(attrs={"accept": "image/*", "multiple": True}),
    )
    contact_name = forms.CharField(
        label=_("Contact name"),
        max_length=32,
        error_messages={"required": _("Fill in your contact details to submit.")},
    )
    contact_phone = forms.RegexField(
        label=_("Contact phone"),
        regex=CONTACT_PHONE,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={
            "required": _("Fill in your contact details to submit."),
            "invalid": _("Enter an 11-digit mobile number, or a landline with its area code."),
        },
    )
    once_token = forms.RegexField(
        regex=TOKEN.pattern,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired. Please submit it again."),
            "invalid": _("This form has expired. Please submit it again."),
        },
    )

    def __init__(self, *args, member=None, **kwargs):
        self.policy = FeedbackSettings.current()
        super().__init__(*args, **kwargs)
        shops = (
            Shop.objects.filter(is_active=True, floor__store__is_active=True)
            .select_related("floor__store", "brand")
            .order_by("floor__store_id", "floor__order", "unit_no")
        )
        stores_of_shop, stores_of_brand = {}, {}
        for shop in shops:
            stores_of_shop[str(shop.pk)] = {shop.floor.store_id}
            stores_of_brand.setdefault(str(shop.brand_id), set()).add(shop.floor.store_id)
        self.fields["store"].label_from_instance = lambda store: store.name
        self.fields["shop"].widget = StoreTaggedSelect(
            stores_of=stores_of_shop, attrs={"class": "weui-select"}
        )
        self.fields["shop"].label_from_instance = shop_label
        self.fields["shop"].queryset = shops  # sets the widget's choices: after the widget
        self.fields["brand"].widget = StoreTaggedSelect(
            stores_of=stores_of_brand, attrs={"class": "weui-select"}
        )
        self.fields["brand"].queryset = Brand.objects.filter(shops__in=shops).distinct()
        if not self.is_bound:
            self.initial.setdefault("once_token", once_token_new())
            if member is not None:
                self.initial.setdefault("contact_name", member.name)
                self.initial.setdefault("contact_phone", member.phone or "")
                if member.home_store_id and member.home_store.is_active:
                    self.initial.setdefault("store", member.home_store_id)
        self.photo_files: list = []

    def clean_photos(self):
        uploads = self.cleaned_data["photos"]
        if len(uploads) > self.policy.max_photos:
            raise forms.ValidationError(
                _("At most %(count)s photos, you chose %(chosen)s."),
                params={"count": self.policy.max_photos, "chosen": len(uploads)},
            )
        cleaned, errors = [], []
        for upload in uploads:
            try:
                cleaned.append(ticket_photo_clean(upload, max_bytes=self.policy.photo_max_bytes))
            except PhotoRejected as exc:
                errors.append(
                    forms.ValidationError(
                        _("%(file)s: %(reason)s"),
                        params={"file": upload.name, "reason": exc.message},
                    )
                )
        if errors:
            raise forms.ValidationError(errors)
        self.photo_files = cleaned
        return cleaned

    def clean(self):
        data = super().clean()
        store, brand, shop = data.get("store"), data.get("brand"), data.get("shop")
        if store is not None and shop is not None and shop.floor.store_id != store.pk:
            self.add_error("shop", _("This shop is not in the chosen store."))
        elif shop is not None and brand is not None and shop.brand_id != brand.pk:
            self.add_error("brand", _("The shop is not the chosen brand's."))
        elif store is not None and brand is not None and shop is None:
            if not brand.shops.filter(is_active=True, floor__store=store).exists():
                self.add_error("brand", _("This brand has no shop in the chosen store."))
        return data


class MemberRatingForm(forms.Form):
    """服务评价: one to five stars, tags from the staff-edited list, a comment."""

    STARS = [
        (1, _("Very dissatisfied")),
        (2, _("Dissatisfied")),
        (3, _("Fair")),
        (4, _("Satisfied")),
        (5, _("Very satisfied")),
    ]

    stars = forms.TypedChoiceField(
        label=_("Rating"),
        choices=STARS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Tap the stars to rate the service.")},
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"),
        queryset=RatingTag.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose tags from the list.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "class": "weui-textarea",
                "maxlength": COMMENT_MAX,
                "placeholder": _("Anything else you want to tell us (optional)"),
            }
        ),
    )


class MemberReopenForm(forms.Form):
    """再次反馈: the problem is not solved, and why."""

    reason = forms.CharField(
        label=_("What is still wrong?"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "class": "weui-textarea",
                "maxlength": COMMENT_MAX,
                "placeholder": _("Tell us what is still wrong."),
            }
        ),
        error_messages={"required": _("Tell us what is still wrong.")},
    )
