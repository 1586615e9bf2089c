"""Back-office forms of the service desk's reports and settings (系统设置): the statistics
filter, and one form per thing HQ edits (types, tags, SLA targets, hours, handlers …). Every
rule a database constraint keeps is checked here first, so a refusal is a form error with a
reason, never a failed save."""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.forms import BaseStatisticsFilterForm
from feedback.models import (
    CompensationCap,
    Department,
    FeedbackSettings,
    Handler,
    RatingTag,
    ServiceDay,
    ServiceHours,
    SlaTarget,
    TicketType,
)
from stores.models import Store
from stores.scoping import scoped

WEEKDAY_CHOICES = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class StatsFilterForm(BaseStatisticsFilterForm):
    """The statistics filter: a store of the user's scope (or all of them), a range of
    Shanghai dates (default: the last three months; an emptied date is the default again), the
    period of the time chart, and which chart to export as CSV."""

    MONTHS_BACK = 2
    BLANK_MEANS_DEFAULT = True

    def __init__(self, data, *, user, export_keys, today: date):
        stores = scoped(Store.objects.all(), user=user, store_field="")
        super().__init__(data, stores=stores, export_keys=export_keys, today=today)


# --- Settings ---------------------------------------------------------------------------------


class TicketTypeForm(forms.ModelForm):
    class Meta:
        model = TicketType
        fields = ["name", "code", "is_complaint", "position", "is_active"]


class RatingTagForm(forms.ModelForm):
    class Meta:
        model = RatingTag
        fields = ["name", "is_positive", "position", "is_active"]


class SlaTargetForm(forms.ModelForm):
    class Meta:
        model = SlaTarget
        fields = ["ticket_type", "tier", "first_response_minutes", "resolution_minutes", "priority"]

    def clean(self):
        cleaned = super().clean()
        first, resolution = cleaned.get("first_response_minutes"), cleaned.get("resolution_minutes")
        for name, value in (("first_response_minutes", first), ("resolution_minutes", resolution)):
            if value is not None and value <= 0:
                self.add_error(name, _("Enter a positive number of minutes."))
        if first and resolution and resolution < first:
            self.add_error(
                "resolution_minutes",
                _("The resolution target cannot be shorter than the first-response target."),
            )
        ticket_type = cleaned.get("ticket_type")
        if ticket_type is not None:
            others = SlaTarget.objects.filter(ticket_type=ticket_type, tier=cleaned.get("tier"))
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("tier", _("This type already has a target for this tier."))
        return cleaned


def _hours_checked(form, cleaned):
    opens, closes = cleaned.get("opens"), cleaned.get("closes")
    if opens is not None and closes is not None and not opens < closes:
        form.add_error("closes", _("The desk must open before it closes."))
    return cleaned


class ServiceHoursForm(forms.ModelForm):
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=WEEKDAY_CHOICES, coerce=int)

    class Meta:
        model = ServiceHours
        fields = ["weekday", "opens", "closes"]
        widgets = {
            "opens": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self):
        return _hours_checked(self, super().clean())


class ServiceDayForm(forms.ModelForm):
    closed = forms.BooleanField(
        label=_("Closed all day"), required=False, help_text=_("A holiday: no hours that day")
    )

    class Meta:
        model = ServiceDay
        fields = ["date", "closed", "opens", "closes", "note"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "opens": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("closed", self.instance.opens is None)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("closed"):
            cleaned["opens"] = cleaned["closes"] = None
            self.instance.opens = self.instance.closes = None
            return cleaned
        if cleaned.get("opens") is None or cleaned.get("closes") is None:
            if "opens" not in self.errors and "closes" not in self.errors:
                self.add_error(
                    "opens", _("Give the day's opening and closing times, or mark it closed.")
                )
            return cleaned
        return _hours_checked(self, cleaned)

    def _post_clean(self):
        super()._post_clean()
        if self.cleaned_data.get("closed"):
            self.instance.opens = self.instance.closes = None


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name", "store", "position", "is_active"]


class HandlerForm(forms.ModelForm):
    class Meta:
        model = Handler
        fields = [
            "user",
            "department",
            "employee_no",
            "contact_phone",
            "is_supervisor",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True, staff_profile__isnull=False)
        self.fields["user"].queryset = users.select_related("staff_profile").order_by("username")
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.staff_profile.name} ({u.get_username()})"
        )
        self.fields["department"].queryset = Department.objects.filter(is_active=True)


class CompensationCapForm(forms.ModelForm):
    coupon_yuan = forms.DecimalField(
        label=_("Coupon value per ticket (yuan)"),
        min_value=Decimal(0),
        max_digits=9,
        decimal_places=2,
    )

    class Meta:
        model = CompensationCap
        fields = ["role", "max_points_per_ticket", "coupon_yuan"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault(
            "coupon_yuan", Decimal(self.instance.max_coupon_value_fen_per_ticket) / 100
        )

    def save(self, commit=True):
        self.instance.max_coupon_value_fen_per_ticket = int(self.cleaned_data["coupon_yuan"] * 100)
        return super().save(commit)


class FeedbackSettingsForm(forms.ModelForm):
    photo_max_mb = forms.DecimalField(
        label=_("Largest photo (MB)"),
        min_value=Decimal("0.1"),
        max_value=Decimal(20),
        max_digits=4,
        decimal_places=1,
    )

    class Meta:
        model = FeedbackSettings
        fields = [
            "remind_before_minutes",
            "escalate_after_minutes",
            "max_photos",
            "photo_max_mb",
            "reopen_days",
            "auto_close_days",
            "tickets_per_day",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault(
            "photo_max_mb", round(Decimal(self.instance.photo_max_bytes) / (1024 * 1024), 1)
        )

    def clean_max_photos(self):
        value = self.cleaned_data["max_photos"]
        if value < 1:
            raise forms.ValidationError(_("Allow at least one photo."))
        return value

    def clean_auto_close_days(self):
        value = self.cleaned_data["auto_close_days"]
        if value < 1:
            raise forms.ValidationError(_("Close resolved tickets after one day or more."))
        return value

    def save(self, commit=True):
        self.instance.photo_max_bytes = int(self.cleaned_data["photo_max_mb"] * 1024 * 1024)
        return super().save(commit)
