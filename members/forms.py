import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from members.cards import card_no_is_valid
from members.models import link_validator, phone_validator


def normalise_phone(value: str) -> str:
    """Full-width digits, spaces, dashes and a +86/0086 prefix are accepted and removed."""
    value = unicodedata.normalize("NFKC", value or "")
    value = re.sub(r"[\s-]", "", value)
    return re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", value)


class PhoneBindForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number"), max_length=20)
    code = forms.CharField(label=_("Verification code"), max_length=10, required=False)

    def clean_phone(self):
        phone = normalise_phone(self.cleaned_data["phone"])
        phone_validator(phone)
        return phone

    def clean_code(self):
        code = unicodedata.normalize("NFKC", self.cleaned_data.get("code") or "").strip()
        if code and not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(_("The code has 6 digits."))
        return code


class MessagePushForm(forms.Form):
    AUDIENCE_ALL = "all"
    AUDIENCE_CARDS = "cards"

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("system", _("System")), ("campaign", _("Campaign"))],
    )
    title = forms.CharField(label=_("Title"), max_length=64)
    body = forms.CharField(label=_("Content"), max_length=2000, widget=forms.Textarea)
    link = forms.CharField(
        label=_("Link"), max_length=200, required=False, validators=[link_validator]
    )
    audience = forms.ChoiceField(
        label=_("Send to"),
        choices=[(AUDIENCE_ALL, _("All members I can see")), (AUDIENCE_CARDS, _("These cards"))],
        widget=forms.RadioSelect,
        initial=AUDIENCE_CARDS,
    )
    cards = forms.CharField(
        label=_("Card numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One card number a line."),
    )

    def clean(self):
        data = super().clean()
        if data.get("audience") == self.AUDIENCE_CARDS:
            cards = [line.strip().replace(" ", "") for line in data.get("cards", "").splitlines()]
            cards = [c for c in cards if c]
            if not cards:
                self.add_error("cards", _("Enter at least one card number."))
            bad = [c for c in cards if not card_no_is_valid(c)]
            if bad:
                self.add_error(
                    "cards",
                    _("Not valid card numbers: %(cards)s") % {"cards": ", ".join(bad[:10])},
                )
            data["card_list"] = cards
        return data
