import re
import unicodedata

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from core.widgets import IsoDateInput
from members import profile
from members.cards import card_nos_parse
from members.models import (
    DeliveryAddress,
    Interest,
    Member,
    MemberProfile,
    link_validator,
    phone_validator,
)
from members.scoping import scoped_members


def normalise_phone(value: str) -> str:
    """Full-width digits, spaces, dashes and a +86/0086 prefix are accepted and removed."""
    value = unicodedata.normalize("NFKC", value or "")
    value = re.sub(r"[\s-]", "", value)
    return re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", value)


class PhoneBindForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number"), max_length=20)
    code = forms.CharField(label=_("Verification code"), max_length=10, required=False)
    # Before the phone number is collected, not only before it is kept (PIPL Art. 17).
    privacy_consent = forms.BooleanField(
        label=_("I have read and agree to the privacy policy"),
        error_messages={"required": _("Please read and accept the privacy policy first.")},
    )

    def clean_phone(self):
        phone = normalise_phone(self.cleaned_data["phone"])
        phone_validator(phone)
        return phone

    def clean_code(self):
        code = unicodedata.normalize("NFKC", self.cleaned_data.get("code") or "").strip()
        if code and not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(_("The code has 6 digits."))
        return code


def card_list_errors(errors: list[tuple[int, str, str]]) -> list[str]:
    """A pasted card list's bad entries as form errors, by line (the first ten)."""
    shown = [
        _(
            "Line %(line)s: %(entry)s is not a card number"
            " (1 to 32 letters A-Z a-z, digits or hyphens)."
        )
        % {"line": line, "entry": entry[:40]}
        for line, entry, _why in errors[:10]
    ]
    if len(errors) > 10:
        shown.append(_("… and %(count)s more.") % {"count": len(errors) - 10})
    return shown


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

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if data.get("audience") == self.AUDIENCE_CARDS:
            parsed = card_nos_parse(data.get("cards", ""))
            if parsed.errors:
                self.add_error("cards", card_list_errors(parsed.errors))
            elif not parsed.cards:
                self.add_error("cards", _("Enter at least one card number."))
            else:
                found = set(
                    scoped_members(
                        Member.objects.filter(card_no__in=parsed.cards), user=self.user
                    ).values_list("card_no", flat=True)
                )
                missing = [card for card in parsed.cards if card not in found]
                if missing:
                    self.add_error(
                        "cards",
                        _("No member with these card numbers in your stores: %(cards)s")
                        % {"cards": ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")},
                    )
            data["card_list"] = parsed.cards
        return data


def _service_check(function, *args, **kwargs):
    """Run one of the profile rules, turning its ServiceError into a field's ValidationError."""
    try:
        return function(*args, **kwargs)
    except ServiceError as exc:
        raise forms.ValidationError(exc.message, code=exc.code) from None


class IdentityForm(forms.Form):
    """Name, gender and ID number, each offered only while it is still empty (then it locks)."""

    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=[(Member.Gender.FEMALE, _("Female")), (Member.Gender.MALE, _("Male"))],
        widget=forms.RadioSelect,
        required=False,
    )
    national_id = forms.CharField(label=_("ID number"), max_length=32, required=False)
    national_id_consent = forms.BooleanField(
        label=_("I agree to the processing of my ID number as described above."), required=False
    )

    def __init__(self, *args, locked: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        for field in ("name", "gender", "national_id"):
            if field in locked:
                del self.fields[field]
        if "national_id" in locked:
            del self.fields["national_id_consent"]

    def clean_name(self):
        name = self.cleaned_data["name"]
        return _service_check(profile.person_name_clean, name) if name else ""

    def clean_national_id(self):
        value = self.cleaned_data["national_id"]
        if not value:
            return ""
        return _service_check(
            profile.national_id_validate, value, today=timezone.localdate()
        ).number

    def clean(self):
        data = super().clean()
        if data.get("national_id") and not data.get("national_id_consent"):
            self.add_error(
                "national_id_consent",
                _("Please agree to the processing of your ID number, or leave it empty."),
            )
        if not self.errors and not any(data.get(f) for f in ("name", "gender", "national_id")):
            raise forms.ValidationError(_("Fill in at least one field."))
        return data


class ProfileForm(forms.Form):
    """The extended profile; the birthday is offered only while none is on file."""

    birthday = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=IsoDateInput(),
        help_text=_("Set once: it decides your birthday gift."),
    )
    education = forms.ChoiceField(
        label=_("Education"),
        choices=[("", _("Not given"))] + MemberProfile.Education.choices,
        required=False,
    )
    occupation = forms.ChoiceField(
        label=_("Occupation"),
        choices=[("", _("Not given"))] + MemberProfile.Occupation.choices,
        required=False,
    )
    income_band = forms.ChoiceField(
        label=_("Monthly income"),
        choices=[("", _("Not given"))] + MemberProfile.IncomeBand.choices,
        required=False,
    )
    interests = forms.ModelMultipleChoiceField(
        label=_("Interests"),
        queryset=Interest.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, birthday_locked: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if birthday_locked:
            del self.fields["birthday"]

    def clean_birthday(self):
        birthday = self.cleaned_data["birthday"]
        if birthday is None:
            return None
        return _service_check(profile.birthday_validate, birthday, today=timezone.localdate())


class AddressForm(forms.ModelForm):
    phone = forms.CharField(label=_("Mobile number"), max_length=20)

    class Meta:
        model = DeliveryAddress
        fields = ["recipient", "phone", "region", "detail", "is_default"]

    def clean_phone(self):
        phone = normalise_phone(self.cleaned_data["phone"])
        phone_validator(phone)
        return phone

    def clean_recipient(self):
        return _service_check(profile.person_name_clean, self.cleaned_data["recipient"])


class AccountDeleteForm(forms.Form):
    code = forms.CharField(label=_("Verification code"), max_length=10, required=False)
    understood = forms.BooleanField(
        label=_("I understand that my membership, points and coupons will be gone for good."),
        required=False,
    )

    def clean_code(self):
        code = unicodedata.normalize("NFKC", self.cleaned_data.get("code") or "").strip()
        if code and not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(_("The code has 6 digits."))
        return code


class PiiRevealForm(forms.Form):
    field = forms.ChoiceField(
        label=_("Show"),
        choices=[("phone", _("Full phone number")), ("national_id", _("Full ID number"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=4,
        max_length=200,
        help_text=_("Why you need the full value, e.g. the ticket number. It is logged."),
    )
