"""Back-office forms shared by several apps."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _


class BaseStatisticsFilterForm(forms.Form):
    """A statistics page's filter: a store (the caller passes the stores the staff member may
    choose; none chosen: all of them), a range of Shanghai dates (default: this month and the
    MONTHS_BACK before it, up to today), the period of the time charts, and which chart to
    export as CSV (one of `export_keys`, or "all")."""

    MONTHS_BACK = 11
    BLANK_MEANS_DEFAULT = False  # an empty start or end: the default (True) or an error (False)
    MAX_DAYS = 5 * 366
    FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2099, 12, 31)

    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=None,
        required=False,
        empty_label=_("All stores in my scope"),
    )
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    grain = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("", _("Automatic")),
            ("day", _("Day")),
            ("week", _("Week")),
            ("month", _("Month")),
        ],
    )
    export = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data, *, stores, export_keys, today: date):
        data = data.copy()
        months = today.year * 12 + today.month - 1 - self.MONTHS_BACK
        first = date(months // 12, months % 12 + 1, 1)
        for name, value in (("start", first.isoformat()), ("end", today.isoformat())):
            if name not in data or (self.BLANK_MEANS_DEFAULT and not data.get(name)):
                data[name] = value
        super().__init__(data)
        self.export_keys = set(export_keys) | {"all"}
        self.fields["store"].queryset = stores

    def clean_export(self):
        export = self.cleaned_data["export"]
        if export and export not in self.export_keys:
            raise forms.ValidationError(_("No such chart to export."))
        return export

    def clean(self):
        cleaned = super().clean()
        for name in ("start", "end"):
            day = cleaned.get(name)
            if day and not self.FIRST_DAY <= day <= self.LAST_DAY:
                self.add_error(name, _("Choose a date between 1990 and 2099."))
                cleaned.pop(name, None)
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("The end date is before the start date."))
            elif (end - start).days >= self.MAX_DAYS:
                self.add_error("start", _("Choose a range of at most five years."))
        return cleaned
