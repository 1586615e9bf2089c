from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.widgets import IsoDateInput
from stores.models import Store

MAX_PHOTO_BYTES = 8 * 1024 * 1024


def yuan_to_fen(value: str) -> int:
    """'299.90' -> 29990; refuses more than two decimals, negatives and nonsense."""
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("¥", ""))
    except InvalidOperation:
        raise forms.ValidationError(_("Enter an amount in yuan, e.g. 299.90.")) from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise forms.ValidationError(_("Enter an amount in yuan with at most two decimals."))
    if amount > Decimal("1000000"):
        raise forms.ValidationError(_("That amount is too large for one receipt."))
    return int(amount * 100)


class ClaimForm(forms.Form):
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.filter(is_active=True), empty_label=None
    )
    shop_name = forms.CharField(
        label=_("Shop or counter"),
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("As on the receipt")}),
    )
    receipt_no = forms.RegexField(
        label=_("Receipt number"),
        widget=forms.TextInput(attrs={"placeholder": _("The number printed on the receipt")}),
        regex=r"^[A-Za-z0-9-]{4,64}$",
        error_messages={"invalid": _("Letters, digits and dashes as printed on the receipt.")},
    )
    pos_no = forms.RegexField(
        label=_("POS number (if printed)"),
        regex=r"^[A-Za-z0-9_-]{1,16}$",
        widget=forms.TextInput(attrs={"placeholder": _("Optional")}),
        required=False,
        error_messages={"invalid": _("Up to 16 letters, digits, - and _ as printed.")},
    )
    amount = forms.CharField(
        label=_("Amount paid (yuan)"),
        max_length=12,
        widget=forms.TextInput(attrs={"placeholder": "0.00", "inputmode": "decimal"}),
    )
    purchased_on = forms.DateField(label=_("Purchase date"), widget=IsoDateInput())
    photo = forms.ImageField(
        label=_("Photo of the receipt"), widget=forms.FileInput(attrs={"accept": "image/*"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purchased_on"].initial = timezone.localdate()

    def clean_amount(self):
        return yuan_to_fen(self.cleaned_data["amount"])

    def clean_photo(self):
        photo = self.cleaned_data["photo"]
        if photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("The photo is larger than 8 MB."))
        return photo


class ClaimApproveForm(forms.Form):
    pos_no = forms.RegexField(
        label=_("POS number"),
        regex=r"^[A-Za-z0-9_-]{1,16}$",
        required=False,
        help_text=_("Set it when several tills print this receipt number."),
        error_messages={"invalid": _("Up to 16 letters, digits, - and _ as printed.")},
    )


class ClaimRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejection"), max_length=200)


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text=_("Positive to add, negative to deduct"),
    )
    reason = forms.CharField(label=_("Reason for the adjustment"), max_length=200)
