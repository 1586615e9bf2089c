"""Staff forms of brand activities: the list's filters and the activity form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import IsoDateInput
from mall.activities import TITLE_MAX, activity_status
from mall.models import ACTIVITY_BODY_MAX, BrandActivity
from stores.models import Brand, Shop, Store
from stores.scoping import scoped

STATUS_CHOICES = [
    ("", _("All")),
    ("current", _("Current")),
    ("upcoming", _("Upcoming")),
    ("ended", _("Ended")),
    ("unpublished", _("Unpublished")),
]


def status_label(activity: BrandActivity) -> str:
    return dict(STATUS_CHOICES)[activity_status(activity)]


class ActivityFilterForm(forms.Form):
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), required=False, empty_label=_("All")
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    q = forms.CharField(label=_("Title or brand"), required=False, max_length=40)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = scoped(Store.objects.all(), user=user, store_field="")


class StoreTaggedSelect(forms.Select):
    """Options saying the stores they belong to (data-stores): a few lines of script show
    only the chosen store's brands; without script the service checks the pair."""

    def __init__(self, *args, stores_of: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stores_of = stores_of or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        stores = self.stores_of.get(str(getattr(value, "value", value)))
        if stores:
            option["attrs"]["data-stores"] = " ".join(str(pk) for pk in sorted(stores))
        return option


class ActivityForm(forms.Form):
    """品牌活动: store, brand (one with a shop in that store), title, short text, picture, days."""

    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none())
    brand = forms.ModelChoiceField(
        label=_("Brand"),
        queryset=Brand.objects.none(),
        help_text=_("Only brands with a shop in the chosen store."),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"maxlength": TITLE_MAX}),
    )
    body = forms.CharField(
        label=_("Activity text"),
        max_length=ACTIVITY_BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": ACTIVITY_BODY_MAX, "data-count": ""}),
        help_text=_("Keep it short and clear: what, when, for whom."),
    )
    image = forms.FileField(
        label=_("Image"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG or PNG, wide (e.g. 1200 × 675); it is shown above the text."),
    )
    starts_on = forms.DateField(label=_("First day"), widget=IsoDateInput())
    ends_on = forms.DateField(
        label=_("Last day"),
        widget=IsoDateInput(),
        help_text=_("Brand activities should run a week or more."),
    )
    is_published = forms.BooleanField(
        label=_("Published (members see it between the first and the last day)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        stores = scoped(Store.objects.filter(is_active=True), user=user, store_field="")
        self.fields["store"].queryset = stores
        stores_of: dict[str, set[int]] = {}
        pairs = Shop.objects.filter(floor__store__in=stores, is_active=True).values_list(
            "brand_id", "floor__store_id"
        )
        for brand_id, store_id in pairs:
            stores_of.setdefault(str(brand_id), set()).add(store_id)
        self.fields["brand"].queryset = Brand.objects.filter(
            pk__in=[int(pk) for pk in stores_of]
        ).order_by("name")
        self.fields["brand"].widget = StoreTaggedSelect(stores_of=stores_of)
        self.fields["brand"].widget.choices = self.fields["brand"].choices
        self.fields["body"].widget.attrs["data-count"] = str(ACTIVITY_BODY_MAX)

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The last day is before the first day."))
        return data
