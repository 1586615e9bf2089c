from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


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
