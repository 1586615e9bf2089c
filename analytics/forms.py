from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from stores.models import Store
from stores.scoping import scoped


class ClvFilterForm(forms.Form):
    """The predicted value list's filter, e.g. likely to lapse: p_alive < 0.3 and value > ¥500."""

    p_alive_below = forms.DecimalField(
        label=_("Probability active below"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(1),
        decimal_places=3,
    )
    value_above = forms.DecimalField(
        label=_("Expected value above (yuan)"),
        required=False,
        min_value=Decimal(0),
        decimal_places=2,
    )


class StatisticsFilterForm(forms.Form):
    """会员统计's filter: a store of the staff member's scope (or all of them), a range of
    Shanghai dates (default: this month and the eleven before it), the period of the time
    charts, and which chart to export as CSV."""

    MAX_DAYS = 5 * 366
    FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2099, 12, 31)

    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
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

    def __init__(self, data, *, user, export_keys, today: date):
        data = data.copy()
        months = today.year * 12 + today.month - 1 - 11
        first = date(months // 12, months % 12 + 1, 1)
        for name, value in (("start", first.isoformat()), ("end", today.isoformat())):
            if name not in data:
                data[name] = value
        super().__init__(data)
        self.export_keys = set(export_keys) | {"all"}
        self.fields["store"].queryset = scoped(Store.objects.all(), user=user, store_field="")

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
