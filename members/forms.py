import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import phone_validator


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
