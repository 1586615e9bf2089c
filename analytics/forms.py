from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.models import MemberGroup, Tag


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


class GroupForm(forms.Form):
    """Saving the list's filter as a group (the filter's fields come with it)."""

    name = forms.CharField(label=_("Group name"), max_length=64)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=MemberGroup.Kind.choices,
        initial=MemberGroup.Kind.DYNAMIC,
        widget=forms.RadioSelect,
        help_text=_(
            "Dynamic: the filter is applied again each time the group is used. "
            "Static: the members who match now, kept as they are."
        ),
    )
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class TagForm(forms.Form):
    name = forms.CharField(label=_("Tag name"), max_length=32)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Tag.Kind.choices, initial=Tag.Kind.MANUAL, widget=forms.RadioSelect
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class BulkTagForm(forms.Form):
    tag = forms.ModelChoiceField(
        Tag.objects.filter(kind=Tag.Kind.MANUAL), label=_("Tag"), empty_label=None
    )
